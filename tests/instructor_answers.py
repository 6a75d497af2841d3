"""Submissions with the instructor's answers, for the end-to-end grading tests."""

from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]


def answer_cells(notebook):
    """grade_id -> source of every code answer cell of the instructor's notebook."""
    nb = nbformat.read(ROOT / "notebooks" / f"{notebook}.ipynb", as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]: c.source for c in nb.cells
            if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")}


def write_answers(folder, sources):
    """Replace the answer cells of the submission's notebooks whose grade_id is in sources."""
    used = set()
    for path in Path(folder).glob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id in sources:
                cell.source = sources[grade_id]
                used.add(grade_id)
        nbformat.write(nb, path)
    assert used == set(sources), set(sources) - used
