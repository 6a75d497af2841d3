"""grade's review column: answer cells that reach for the grading machinery are listed."""

import nbformat
import pytest

from cs231n_course.review import suspicious_answer_cells


def answer(source, grade_id):
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata.nbgrader = {"solution": True, "grade": False, "locked": False, "grade_id": grade_id,
                              "schema_version": 3}
    return cell


def write(folder, name, cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    nbformat.write(nb, folder / f"{name}.ipynb")


@pytest.mark.parametrize("source", [
    "check_conventions = lambda *a: None",
    "def check_dropout_forward(*args):\n    pass",
    "import cs231n_lib.checks.dropout as d\nd.check_dropout_forward = print",
    "import sys\nsys.modules['cs231n_lib.checks'] = None",
    "import builtins\nbuiltins.AssertionError = Exception",
    "setattr(checks, 'check_conventions', print)",
])
def test_an_answer_that_reaches_for_the_checks_is_flagged(tmp_path, source):
    write(tmp_path, "06_dropout", [answer(source, "06-conventions-answer")])
    assert suspicious_answer_cells(tmp_path) == ["06_dropout:06-conventions-answer"]


def test_honest_answers_and_check_cells_are_not_flagged(tmp_path):
    honest = answer("p_library = 0.5\nkept_scale = 1 / (1 - p_library)\nexpected_dropped = 50", "06-a")
    check = nbformat.v4.new_code_cell("check_conventions(p_library, kept_scale, expected_dropped)")
    check.metadata.nbgrader = {"grade": True, "solution": False, "locked": True, "points": 1,
                               "grade_id": "06-check", "schema_version": 3}
    write(tmp_path, "06_dropout", [honest, check])
    assert suspicious_answer_cells(tmp_path) == []


def test_the_solution_notebooks_answer_cells_are_not_flagged():
    from pathlib import Path
    notebooks = Path(__file__).resolve().parents[1] / "notebooks"
    assert suspicious_answer_cells(notebooks) == []
