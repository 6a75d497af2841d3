"""Tests for cs231n_course.limits: which sandbox limits a student's graded notebooks ran into.

Each test writes small notebooks with nbformat, with the outputs the grading run leaves:
error outputs as IPython writes them (ename from the real exception's class, as raised
here by numpy, ``os.strerror`` and the threading module), the note ``feedback.cap_outputs``
inserts when it cuts a cell's outputs and the error output ``crash.py`` writes when a
kernel dies. The notes must name the notebooks, in the order given, and the settings' numbers.
"""

import errno
import os

import nbformat
import numpy as np
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from cs231n_course.crash import DIED_MESSAGE, NOT_RUN_MESSAGE, error_output
from cs231n_course.feedback import cap_outputs
from cs231n_course.limits import limit_notes, notebook_limits
from cs231n_course.sandbox import SandboxSettings

SETTINGS = SandboxSettings(uid=64299, memory_mb=777, max_processes=33, tmp_mb=5)


def error_of(exception):
    """The error output IPython writes for ``exception`` (ename is the class's displayed name)."""
    name = type(exception).__name__
    return new_output("error", ename=name, evalue=str(exception),
                      traceback=["\x1b[0;31m----------------------------------\x1b[0m",
                                 f"\x1b[0;31m{name}\x1b[0m: {exception}"])


def raised(action):
    try:
        action()
    except BaseException as exception:  # noqa: BLE001 - the exception is the test input
        return exception
    pytest.fail("expected an exception")


def numpy_memory_error():
    return raised(lambda: np.empty(2**62, dtype=np.uint8))


def fork_refused():
    return BlockingIOError(errno.EAGAIN, os.strerror(errno.EAGAIN))


def cut_note_outputs():
    """The outputs of a cell that printed too much, as CapOutputs leaves them."""
    outputs, cut = cap_outputs([new_output("stream", name="stdout", text="x" * 5000 + "\n")], 100)
    assert cut
    return outputs


def write_notebook(folder, name, *cell_outputs):
    """``folder/name.ipynb``: a markdown cell, then one code cell per list of outputs."""
    cells = [new_markdown_cell(f"# {name}")]
    cells += [new_code_cell("pass", outputs=list(outputs), execution_count=i + 1)
              for i, outputs in enumerate(cell_outputs)]
    nbformat.write(new_notebook(cells=cells), folder / f"{name}.ipynb")


def clean_outputs():
    return [new_output("stream", name="stdout", text="loss 2.30\n"),
            new_output("execute_result", data={"text/plain": "array([1., 2.])"}, execution_count=1)]


def test_numpy_allocation_failure_is_a_memory_error_by_name():
    # IPython writes type(e).__name__ as ename; numpy shows its _ArrayMemoryError as MemoryError
    exception = numpy_memory_error()
    assert isinstance(exception, MemoryError)
    assert error_of(exception)["ename"] == "MemoryError"


def test_memory_error_gives_a_memory_note_with_the_megabytes(tmp_path):
    write_notebook(tmp_path, "03_conv", clean_outputs(), [error_of(numpy_memory_error())])
    assert limit_notes(tmp_path, ["03_conv"], SETTINGS) == ["memory limit (777 MB per process) reached in 03_conv"]


def test_plain_memory_error_without_settings(tmp_path):
    write_notebook(tmp_path, "nb", [error_of(raised(lambda: bytearray(2**62)))])
    assert limit_notes(tmp_path, ["nb"]) == ["memory limit reached in nb"]


def test_refused_fork_gives_a_process_note(tmp_path):
    exception = fork_refused()
    assert "Resource temporarily unavailable" in str(exception)
    write_notebook(tmp_path, "04_pool", [error_of(exception)])
    assert limit_notes(tmp_path, ["04_pool"], SETTINGS) == ["process limit (33) reached in 04_pool"]


def test_refused_thread_gives_a_process_note(tmp_path):
    write_notebook(tmp_path, "nb", [error_of(RuntimeError("can't start new thread"))])
    assert limit_notes(tmp_path, ["nb"], SETTINGS) == ["process limit (33) reached in nb"]


def test_refusal_printed_on_stderr_counts_too(tmp_path):
    text = f"Traceback (most recent call last):\nBlockingIOError: {fork_refused()}\n"
    write_notebook(tmp_path, "nb", [new_output("stream", name="stderr", text=text)])
    assert notebook_limits(nbformat.read(tmp_path / "nb.ipynb", as_version=4)) == {"processes"}


def test_cut_output_gives_an_output_note(tmp_path):
    outputs = cut_note_outputs()
    assert any("[output cut:" in output.get("text", "") for output in outputs)
    write_notebook(tmp_path, "05_big", outputs)
    assert limit_notes(tmp_path, ["05_big"], SETTINGS) == ["output over the per-cell cap cut in 05_big"]


def test_dead_kernel_gives_a_kernel_note(tmp_path):
    died = error_output("DeadKernelError", DIED_MESSAGE.format(how="killed by signal 9"))
    not_run = error_output("NotRun", NOT_RUN_MESSAGE)
    write_notebook(tmp_path, "06_crash", clean_outputs(), [died], [not_run], [])
    assert limit_notes(tmp_path, ["06_crash"], SETTINGS) == ["kernel died in 06_crash"]


def test_several_notebooks_are_named_together_in_the_given_order(tmp_path):
    write_notebook(tmp_path, "b_second", [error_of(numpy_memory_error())])
    write_notebook(tmp_path, "a_first", clean_outputs(), [error_of(MemoryError())])
    write_notebook(tmp_path, "c_clean", clean_outputs())
    write_notebook(tmp_path, "d_fork", [error_of(fork_refused())], cut_note_outputs())
    notes = limit_notes(tmp_path, ["b_second", "a_first", "c_clean", "d_fork"], SETTINGS)
    assert notes == [
        "memory limit (777 MB per process) reached in b_second, a_first",
        "output over the per-cell cap cut in d_fork",
        "process limit (33) reached in d_fork",
    ]


def test_one_notebook_reaching_every_limit(tmp_path):
    died = error_output("DeadKernelError", DIED_MESSAGE.format(how="exit code 1"))
    write_notebook(tmp_path, "nb", [error_of(MemoryError())], [error_of(fork_refused())], cut_note_outputs(), [died])
    assert limit_notes(tmp_path, ["nb"], SETTINGS) == [
        "kernel died in nb",
        "memory limit (777 MB per process) reached in nb",
        "output over the per-cell cap cut in nb",
        "process limit (33) reached in nb",
    ]


def test_clean_notebook_has_no_notes(tmp_path):
    write_notebook(tmp_path, "nb", clean_outputs(), [error_of(ValueError("shapes (2,3) and (4,) do not align"))],
                   [new_output("display_data", data={"text/plain": "<Figure>", "image/png": "iVBORw0KGgo="})])
    assert limit_notes(tmp_path, ["nb"], SETTINGS) == []


def test_only_an_error_named_memory_error_is_a_memory_note(tmp_path):
    printed = new_output("stream", name="stdout", text="catching MemoryError is good practice\n")
    other = error_of(AssertionError("expected a MemoryError for a huge input"))
    write_notebook(tmp_path, "nb", [printed], [other])
    assert limit_notes(tmp_path, ["nb"], SETTINGS) == []


def test_missing_and_unreadable_notebooks_are_skipped(tmp_path):
    (tmp_path / "broken.ipynb").write_text("{not json", encoding="utf-8")
    write_notebook(tmp_path, "ok", [error_of(MemoryError())])
    assert limit_notes(tmp_path, ["absent", "broken", "ok"], SETTINGS) == [
        "memory limit (777 MB per process) reached in ok"]
    assert limit_notes(tmp_path, [], SETTINGS) == []


def test_list_valued_text_is_read_whole(tmp_path):
    nb = new_notebook(cells=[new_code_cell("pass", outputs=[
        new_output("stream", name="stdout", text=["line\n", "[output cut: 2 MB printed]\n"]),
        new_output("execute_result", data={"text/plain": ["BlockingIOError: [Errno 11] ",
                                                          "Resource temporarily unavailable"]}, execution_count=1),
    ])])
    assert notebook_limits(nb) == {"output", "processes"}
