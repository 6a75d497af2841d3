"""Tests for cs231n_course.crash: a kernel that dies ends only its own notebook.

Each test runs a tiny notebook through ``ExecuteUntilKernelDies`` with a real IPython
kernel (about 1.5 s each): a cell that prints, a cell that kills the kernel, a graded
check cell and a plain code cell. Oracles: the exit status the killing cell chose
(``os._exit(3)`` is "exit code 3", SIGKILL is "killed by signal 9"); nbgrader's own
``determine_grade`` for the score of the cells; and plain nbgrader ``Execute``, which
must raise on the same notebook (so the tests fail if the subclass stops catching).

Every kernel test is bounded: each cell by ``Execute.timeout`` and the kernel start by
``startup_timeout``, and the whole test by an alarm (``KERNEL_TEST_SECONDS``).
"""

import signal

import pytest
from nbclient.exceptions import DeadKernelError
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from nbgrader.preprocessors import Execute
from nbgrader.utils import determine_grade

from cs231n_course.crash import ExecuteUntilKernelDies

KERNEL_TEST_SECONDS = 60
CELL_TIMEOUT = 10


@pytest.fixture(autouse=True)
def bounded():
    """Fail a kernel test that takes more than KERNEL_TEST_SECONDS (no pytest-timeout here)."""
    if not hasattr(signal, "SIGALRM"):
        yield
        return

    def too_long(signum, frame):
        pytest.fail(f"kernel test took more than {KERNEL_TEST_SECONDS} s")

    previous = signal.signal(signal.SIGALRM, too_long)
    signal.alarm(KERNEL_TEST_SECONDS)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def graded(source, grade_id="check", points=2):
    return new_code_cell(source, metadata={"nbgrader": {
        "grade": True, "grade_id": grade_id, "points": points, "solution": False, "locked": True,
        "schema_version": 3}})


def notebook(killer, *, check="assert True"):
    """print; the killing cell; a 2-point check; a plain cell; a markdown cell."""
    nb = new_notebook(cells=[
        new_code_cell("print('before the crash')"),
        new_code_cell(killer),
        graded(check),
        new_code_cell("print('after the crash')"),
        new_markdown_cell("The end."),
    ])
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def run(nb, tmp_path, preprocessor=None):
    preprocessor = preprocessor or ExecuteUntilKernelDies(timeout=CELL_TIMEOUT, startup_timeout=30)
    return preprocessor.preprocess(nb, {"metadata": {"path": str(tmp_path)}})


def errors(cell):
    return [(o.ename, o.evalue) for o in cell.outputs if o.output_type == "error"]


def test_plain_nbgrader_execute_fails_the_whole_notebook_when_the_kernel_dies(tmp_path):
    """The failure ExecuteUntilKernelDies exists for: autograde loses every notebook."""
    with pytest.raises(DeadKernelError):
        run(notebook("import os\nos._exit(3)"), tmp_path, Execute(timeout=CELL_TIMEOUT, startup_timeout=30))


def test_os_exit_gives_its_cell_an_error_naming_the_exit_code_and_stops_the_notebook(tmp_path):
    nb, resources = run(notebook("import os\nos._exit(3)"), tmp_path)   # returns normally
    printed, killer, check, plain, markdown = nb.cells
    assert [(o.output_type, o.text) for o in printed.outputs] == [("stream", "before the crash\n")]
    [(ename, message)] = errors(killer)
    assert ename == "DeadKernelError"
    assert "the kernel died" in message and "(exit code 3)" in message
    assert "rest of this notebook was not run" in message
    [(ename, message)] = errors(check)
    assert ename == "NotRun" and "kernel died in an earlier cell" in message
    assert check.execution_count is None
    assert plain.outputs == [] and plain.execution_count is None
    assert markdown.source == "The end." and "outputs" not in markdown
    assert resources["metadata"]["path"] == str(tmp_path)


def test_the_check_after_the_crash_scores_zero_not_full_points(tmp_path):
    nb, _ = run(notebook("import os\nos._exit(3)"), tmp_path)
    unrun = graded("assert True")          # a check with no output: nbgrader gives full points
    assert determine_grade(unrun) == (2, 2)
    assert determine_grade(nb.cells[2]) == (0, 2)


def test_sigkill_is_reported_as_killed_by_signal_9(tmp_path):
    nb, _ = run(notebook("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)"), tmp_path)
    [(ename, message)] = errors(nb.cells[1])
    assert ename == "DeadKernelError" and "(killed by signal 9)" in message
    assert errors(nb.cells[2])[0][0] == "NotRun"
    assert nb.cells[3].outputs == []


def test_a_check_cell_that_kills_the_kernel_scores_zero_and_the_same_preprocessor_runs_the_next_notebook(tmp_path):
    execute = ExecuteUntilKernelDies(timeout=CELL_TIMEOUT, startup_timeout=30)
    nb = notebook("print('fine')", check="import os\nos._exit(7)")
    nb, _ = run(nb, tmp_path, execute)
    check = nb.cells[2]
    [(ename, message)] = errors(check)
    assert ename == "DeadKernelError" and "(exit code 7)" in message
    assert determine_grade(check) == (0, 2)
    assert nb.cells[3].outputs == []
    # Autograde reuses the preprocessor for the student's next notebook: a fresh kernel, all cells run.
    nb, _ = run(notebook("print('fine')", check="assert 1 + 1 == 2"), tmp_path, execute)
    assert [o.text for o in nb.cells[3].outputs] == ["after the crash\n"]
    assert errors(nb.cells[2]) == [] and determine_grade(nb.cells[2]) == (2, 2)


def test_a_notebook_whose_kernel_lives_is_run_as_plain_execute_runs_it(tmp_path):
    nb, _ = run(notebook("x = 1", check="assert x == 2, 'expected 2'"), tmp_path)
    assert [o.text for o in nb.cells[0].outputs] == ["before the crash\n"]
    [(ename, message)] = errors(nb.cells[2])
    assert (ename, message) == ("AssertionError", "expected 2")
    assert [o.text for o in nb.cells[3].outputs] == ["after the crash\n"]
    assert nb.metadata.language_info.name == "python"

