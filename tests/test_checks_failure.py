"""A failed check shows as a short message: CheckFailed._render_traceback_, alone and in a real kernel."""

import re

import nbformat
import pytest
from nbclient import NotebookClient

from cs231n_lib.checks import common
from cs231n_lib.checks.failure import WIDTH, CheckFailed

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def rendered(error):
    return [ANSI.sub("", line) for line in error._render_traceback_()]


def raised_by(function, *args):
    with pytest.raises(CheckFailed) as info:
        function(*args)
    return info.value


def test_a_failure_is_its_message_wrapped_to_the_notebook_width():
    hint = "word " * 60
    error = raised_by(common.fail, "conv_forward_naive on case 1", "shape (2, 3)", "shape (3, 2)", hint)
    lines = rendered(error)
    assert lines[0] == "Check failed: conv_forward_naive on case 1: expected shape (2, 3), got shape (3, 2)."
    assert all(len(line) <= WIDTH for line in lines), lines
    assert " ".join(" ".join(lines).split()).endswith(("word " * 60).strip())
    assert isinstance(error, AssertionError)  # nbval, nbgrader and pytest still see a failure


def test_a_crash_in_student_code_keeps_the_student_frames_and_drops_the_checks():
    def students_layer(x):
        return x[10]  # IndexError in "the student's code"

    def check():
        try:
            students_layer([1, 2])
        except IndexError:
            common.fail("students_layer", "no error", "IndexError", "an index ran past the edge")

    lines = rendered(raised_by(check))
    text = "\n".join(lines)
    assert "Your code raised this error:" in lines[0]
    assert "students_layer" in text and "return x[10]" in text and "IndexError: list index out of range" in text
    assert "checks/common.py" not in text and "checks/failure.py" not in text
    assert lines[-2].startswith("Check failed: students_layer: expected no error")


def test_not_implemented_says_which_line_to_replace_and_hides_the_chain():
    def stub():
        raise NotImplementedError()

    lines = rendered(raised_by(common.call_student, stub))
    assert lines[0].startswith("Check failed: stub is not implemented yet")
    text = " ".join(" ".join(lines).split())
    assert "raise NotImplementedError()" in text and "BEGIN SOLUTION" not in text
    assert "Your code raised" not in text


def test_in_a_kernel_the_error_output_is_the_short_message():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "from cs231n_lib.checks.common import fail\n"
        "fail('x', 1, 2, 'a hint')")])
    NotebookClient(nb, timeout=60, allow_errors=True, kernel_name="python3").execute()
    [error] = [out for out in nb.cells[0].outputs if out.output_type == "error"]
    assert error.ename == "CheckFailed"
    assert [ANSI.sub("", line) for line in error.traceback] == ["Check failed: x: expected 1, got 2.", "Hint: a hint"]


def test_while_validating_a_failure_lists_the_checks_passed_before_it(monkeypatch):
    from cs231n_lib.checks import failure

    monkeypatch.setattr(failure, "_passed_in_this_kernel", [])
    common.passed("conv_forward_naive gives the right output in 6 worked cases")
    common.passed("conv_forward_naive gives the right output in 6 worked cases")  # a check run twice
    error = raised_by(common.fail, "conv_backward_naive", "dx", "something else", "a hint")
    assert "Passed before" not in "\n".join(rendered(error))  # in the notebook: just the failure
    monkeypatch.setenv("NBGRADER_VALIDATING", "1")
    lines = rendered(error)
    assert lines[-2:] == ["Passed before this check in this run (1):",
                          "  OK: conv_forward_naive gives the right output in 6 worked cases"]
