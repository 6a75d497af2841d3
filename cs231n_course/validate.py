"""``cs231n-course validate``: run notebooks as the grader would, with the public tests only.

Uses nbgrader's Validator (the same check as JupyterLab's Validate button),
with this course's rule that a warning printed by a test does not fail it.
Nothing is written: the notebooks are executed in memory.
"""

from pathlib import Path

from cs231n_course.config import DEFAULT_CELL_TIMEOUT, is_ignored, set_execution_limits
from cs231n_course.preprocessors import ANSI_ESCAPE

ERROR_LINES_SHOWN = 1
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


def make_validator(cell_timeout):
    from nbgrader.preprocessors import CheckCellMetadata, ClearOutput, Execute
    from nbgrader.validator import Validator
    from traitlets.config import Config

    from cs231n_course.preprocessors import StderrToStdout

    config = Config()
    set_execution_limits(config, cell_timeout)
    validator = Validator(config=config)
    validator.preprocessors = [CheckCellMetadata, ClearOutput, Execute, StderrToStdout]
    return validator


def summarize(path, results):
    """Lines describing one notebook's validation results; (lines, ok)."""
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
    if not failed:
        return [f"{path.name}: all public tests pass{todo}"], True
    lines = [f"{path.name}: {len(failed)} test(s) fail{todo}"]
    for cell in failed:
        lines.append(f"  - the test starting {first_line(cell['source'])!r}:")
        error = [line for line in ANSI_ESCAPE.sub("", cell["raw_error"]).splitlines() if line.strip()]
        lines += [f"      {line.strip()}" for line in error[-ERROR_LINES_SHOWN:]]
    return lines, False


def first_line(source):
    lines = [line for line in source.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return (lines[0] if lines else source.strip())[:80]


def validate_paths(paths, cell_timeout=DEFAULT_CELL_TIMEOUT, out=print):
    """Validate every notebook in ``paths``; returns 0 when all pass, 1 otherwise."""
    from nbgrader.preprocessors.execute import UnresponsiveKernelError

    from cs231n_course.nbgrader_run import interpreter_scripts_on_path

    validator = make_validator(cell_timeout)
    all_ok = True
    for path in notebooks_in(paths):
        try:
            with interpreter_scripts_on_path():
                results = validator.validate(str(path))
        except UnresponsiveKernelError as error:
            results = {"failed": [{"source": str(path), "raw_error": f"the kernel stopped answering: {error}"}]}
        lines, ok = summarize(path, results)
        all_ok &= ok
        out("\n".join(lines))
    out("All public tests pass. (Hidden tests and written answers are graded later.)" if all_ok
        else "Some tests fail: fix them, then run cs231n-course validate again.")
    return 0 if all_ok else 1
