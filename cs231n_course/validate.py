"""``cs231n-course validate``: run notebooks as the grader would, with the public tests only.

Uses nbgrader's Validator (the same check as JupyterLab's Validate button),
with this course's rule that a warning printed by a test does not fail it.
Nothing is written: the notebooks are executed in memory.

Each kernel talks to this process over Unix sockets in a private temporary folder
(jupyter_client's ``ipc`` transport) rather than over TCP on the loopback: only this
user can reach them, and ipykernel has no reason to warn "Kernel is running over TCP
without encryption" once per notebook.
"""

import re
import tempfile
from pathlib import Path

from cs231n_course.config import DEFAULT_CELL_TIMEOUT, is_ignored, set_execution_limits
from cs231n_course.preprocessors import ANSI_ESCAPE

ERROR_LINES_SHOWN = 1  # of an error that is not a check's message (a crash, a timeout)
# How a check's short message starts and where its "passed before" list begins (cs231n_lib.checks.failure).
CHECK_FAILED = "Check failed:"
PASSED_BEFORE = "Passed before this check"
QUESTION = re.compile(r"Your answer to (Inline question \d+)")
# What nbgrader's Validator says of a written answer left as released.
UNANSWERED = "You did not provide a response."


def notebooks_in(paths):
    found = []
    for path in map(Path, paths):
        if path.is_dir():
            found += sorted(p for p in path.glob("*.ipynb") if not is_ignored(p))
        elif path.suffix == ".ipynb" and path.is_file():
            found.append(path)
        else:
            raise FileNotFoundError(f"{path} is neither a notebook nor a folder of notebooks")
    if not found:
        raise FileNotFoundError(f"no notebooks in {', '.join(map(str, paths))}")
    return found


def make_validator(cell_timeout, socket_dir=None):
    """nbgrader's Validator with this course's preprocessors; kernels on Unix sockets in ``socket_dir``."""
    from nbgrader.preprocessors import CheckCellMetadata, ClearOutput, Execute
    from nbgrader.validator import Validator
    from traitlets.config import Config

    from cs231n_course.preprocessors import StderrToStdout

    config = Config()
    set_execution_limits(config, cell_timeout)
    if socket_dir is not None:
        config.KernelManager.transport = "ipc"
        config.KernelManager.ip = str(Path(socket_dir) / "kernel")

    class PassesKept(Validator):
        """nbgrader's Validator, also keeping the graded cells that passed (its results list
        them only in its "invert" mode, which then leaves the failures out)."""

        last_passed = ()

        def _get_passed_cells(self, nb):
            self.last_passed = super()._get_passed_cells(nb)
            return self.last_passed

    validator = PassesKept(config=config)
    validator.preprocessors = [CheckCellMetadata, ClearOutput, Execute, StderrToStdout]
    return validator


def summarize(path, results, passed=()):
    """Lines describing one notebook's validation results; (lines, ok).

    passed: the graded cells that passed (their sources are listed by first line).
    """
    if results.get("type_changed"):
        return [f"{path.name}: {len(results['type_changed'])} cell(s) changed type (code <-> markdown); "
                "change them back, the grader expects the released types"], False
    if results.get("changed"):
        lines = [f"{path.name}: {len(results['changed'])} test or read-only cell(s) were edited; the grader "
                 "uses the released version of these, so undo your edits:"]
        lines += [f"    {first_line(cell['source'])}" for cell in results["changed"]]
        return lines, False
    problems = results.get("failed", [])
    unanswered = [cell for cell in problems if cell["raw_error"].strip() == UNANSWERED]
    failed = [cell for cell in problems if cell["raw_error"].strip() != UNANSWERED]
    todo = (f"; {len(unanswered)} written answer(s) still to write (graded by hand)" if unanswered else "")
    lines = ([f"{path.name}: all public tests pass{todo}"] if not failed
             else [f"{path.name}: {len(failed)} test(s) fail{todo}"])
    if failed and passed:
        lines.append(f"  passed: {len(passed)} test(s)")
        lines += [f"    OK  {first_line(cell.source)}" for cell in passed]
    for cell in failed:
        lines.append(f"  - the test starting {first_line(cell['source'])!r}:")
        lines += [f"      {line}" for line in error_lines(cell["raw_error"])]
    lines += [f"  - to write: {question_of(cell['source'])}" for cell in unanswered]
    return lines, not failed


def error_lines(raw_error):
    """What to show of a failed cell's error: a check's whole short message, else the traceback's last line."""
    lines = [line.rstrip() for line in ANSI_ESCAPE.sub("", raw_error).splitlines() if line.strip()]
    start = next((i for i, line in enumerate(lines) if line.startswith(CHECK_FAILED)), None)
    if start is None:
        return [line.strip() for line in lines[-ERROR_LINES_SHOWN:]]
    end = next((i for i, line in enumerate(lines) if line.startswith(PASSED_BEFORE)), len(lines))
    return lines[start:end]


def question_of(source):
    """The question a released answer cell names ("**Your answer to Inline question 2:**"), else its first line."""
    found = QUESTION.search(source)
    return found.group(1) if found else first_line(source)


def first_line(source):
    lines = [line for line in source.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return (lines[0] if lines else source.strip())[:80]


def validate_paths(paths, cell_timeout=DEFAULT_CELL_TIMEOUT, out=print):
    """Validate every notebook in ``paths``; returns 0 when all pass, 1 otherwise."""
    from nbgrader.preprocessors.execute import UnresponsiveKernelError

    from cs231n_course.nbgrader_run import interpreter_scripts_on_path

    all_ok = True
    with tempfile.TemporaryDirectory(prefix="cs231n-validate-") as socket_dir:  # mode 0700
        validator = make_validator(cell_timeout, socket_dir)
        for path in notebooks_in(paths):
            try:
                with interpreter_scripts_on_path():
                    results = validator.validate(str(path))
            except UnresponsiveKernelError as error:
                results = {"failed": [{"source": str(path), "raw_error": f"the kernel stopped answering: {error}"}]}
            lines, ok = summarize(path, results, validator.last_passed)
            all_ok &= ok
            out("\n".join(lines))
    out("All public tests pass. (Hidden tests and written answers are graded later.)" if all_ok
        else "Some tests fail: fix them, then run cs231n-course validate again.")
    return 0 if all_ok else 1
