"""The student's copy of each notebook: marker-free wording, named written answers, Run All tags."""

import re
from pathlib import Path

import nbformat
import pytest

from cs231n_course.student_notebooks import (
    RAISES,
    is_exercise_cell,
    student_source,
    student_text,
)

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_marker_phrases_become_the_line_the_student_has():
    text = ("Write the body between `### BEGIN SOLUTION` and\n`### END SOLUTION`. Between `### BEGIN SOLUTION`"
            " and `### END SOLUTION`, set it.")
    assert student_text(text) == ("Write the body in place of the line `raise NotImplementedError()`. In place of "
                                  "the line `raise NotImplementedError()`, set it.")
    assert student_text("no markers here") == "no markers here"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_each_written_answer_is_named_by_its_question(path):
    original = nbformat.read(path, as_version=4)
    student = student_source(original)
    answers = [(before, after) for before, after in zip(original.cells, student.cells)
               if before.cell_type == "markdown" and before.metadata.get("nbgrader", {}).get("solution")]
    for before, after in answers:
        heading, body = after.source.split("\n\n", 1)
        begin, *answer, end = body.split("\n")
        assert re.fullmatch(r"\*\*Your answer to Inline question \d:\*\*", heading), heading
        assert (begin, end) == ("### BEGIN SOLUTION", "### END SOLUTION")
        assert "\n".join(answer) == before.source.strip()
    numbers = [re.search(r"\d", after.source).group() for _, after in answers]
    assert numbers == [str(n) for n in range(1, len(answers) + 1)], f"{path.name}: questions named {numbers}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_code_cells_from_the_first_exercise_on_are_tagged_to_let_run_all_continue(path):
    student = student_source(nbformat.read(path, as_version=4))
    code = [cell for cell in student.cells if cell.cell_type == "code"]
    first = next((i for i, cell in enumerate(code) if is_exercise_cell(cell)), len(code))
    tagged = [RAISES in cell.metadata.get("tags", []) for cell in code]
    assert tagged == [False] * first + [True] * (len(code) - first)
    assert all(not is_exercise_cell(cell) for cell in code[:first])
