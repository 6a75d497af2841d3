"""The grades CSV that ``grade`` writes: automatic and hand-graded points apart, with maxima.

nbgrader's gradebook knows two kinds of points. **Automatic** points come from check cells
(``"grade": true, "solution": false``): the autograder gives them when the cell runs without
an error. **Manual** points come from written answers (``"grade": true, "solution": true``,
and task cells): an instructor gives them in the formgrader; until then nbgrader marks the
answer as needing a manual grade (an answer left as released is scored 0 at once, with
nothing to grade). The maxima are read from the gradebook's copy of the release, so they
are there even when no submission could be graded.

Columns, in this order (names are stable; ``NN_name`` is a notebook's file name without
``.ipynb``, and only notebooks with points of either kind get columns):

- ``student``, ``status``
- per notebook: ``NN_name_auto``, ``NN_name_auto_max``, ``NN_name_manual``,
  ``NN_name_manual_max``
- ``auto_total``, ``auto_max``, ``manual_total``, ``manual_max``
- ``manual_pending`` (answers awaiting a grade by hand), ``review``, ``seconds``

A row whose status does not start with ``ok`` (not graded) has the maxima and nothing in
the points columns. A manual column is empty while an answer it counts has never been
graded by hand (``manual_total`` as soon as one has not), so an empty cell never reads as 0
points. Grading again keeps the points given by hand; nbgrader then marks those answers as
needing a new look, so ``manual_pending`` counts them while their points still show.
"""

import csv
import os
from dataclasses import dataclass

AUTO, MANUAL = "auto", "manual"
COLUMNS_BEFORE = ["student", "status"]
NOTEBOOK_SUFFIXES = ["_auto", "_auto_max", "_manual", "_manual_max"]
TOTAL_COLUMNS = ["auto_total", "auto_max", "manual_total", "manual_max"]
COLUMNS_AFTER = ["manual_pending", "review", "seconds"]


@dataclass(frozen=True)
class NotebookPoints:
    """One student's points in one notebook.

    manual is None while a written answer awaits its first grade by hand; pending counts the
    cells nbgrader marks as needing a manual grade (after a re-grade, also those already graded).
    """

    auto: float
    manual: float | None
    pending: int = 0


def cell_kinds(notebook):
    """{cell name: AUTO or MANUAL} for the graded cells of a gradebook Notebook (the release's copy)."""
    answers = {cell.name for cell in notebook.solution_cells}
    kinds = {cell.name: MANUAL if cell.name in answers else AUTO for cell in notebook.grade_cells}
    kinds.update((cell.name, MANUAL) for cell in notebook.task_cells)
    return kinds


def notebook_maxima(notebook):
    """(automatic maximum, manual maximum) of a gradebook Notebook."""
    kinds = cell_kinds(notebook)
    maxima = {AUTO: 0.0, MANUAL: 0.0}
    for cell in [*notebook.grade_cells, *notebook.task_cells]:
        maxima[kinds[cell.name]] += cell.max_score
    return maxima[AUTO], maxima[MANUAL]


def read_maxima(gradebook, assignment, names):
    """{notebook: (auto max, manual max)} in ``names`` order, for the notebooks that have points."""
    from nbgrader.api import MissingEntry

    maxima = {}
    for name in names:
        try:
            notebook = gradebook.find_notebook(name, assignment)
        except MissingEntry:
            raise ValueError(f"the gradebook holds no notebook {name} of assignment {assignment}: "
                             f"run `cs231n-course release` for it again") from None
        auto_max, manual_max = notebook_maxima(notebook)
        if auto_max or manual_max:
            maxima[name] = (auto_max, manual_max)
    return maxima


def submitted_points(submitted_notebook, kinds):
    """NotebookPoints of a gradebook SubmittedNotebook; kinds from ``cell_kinds`` of its release copy."""
    auto = manual = 0.0
    pending = ungraded = 0
    for grade in submitted_notebook.grades:
        pending += bool(grade.needs_manual_grade)
        if kinds.get(grade.name, AUTO) == MANUAL:
            manual += grade.score
            # Autograding again keeps a hand-given score but asks for a new look: the score stands.
            ungraded += grade.needs_manual_grade and grade.manual_score is None
        else:
            auto += grade.score  # a score given by hand overrides the autograder's, as in nbgrader
    return NotebookPoints(auto, None if ungraded else manual, pending)


def read_points(gradebook, assignment, student):
    """{notebook: NotebookPoints} of a student's graded submission (MissingEntry if there is none)."""
    submission = gradebook.find_submission(assignment, student)
    return {notebook.name: submitted_points(notebook, cell_kinds(notebook.notebook))
            for notebook in submission.notebooks}


def header(maxima):
    return [*COLUMNS_BEFORE, *(name + suffix for name in maxima for suffix in NOTEBOOK_SUFFIXES),
            *TOTAL_COLUMNS, *COLUMNS_AFTER]


def format_points(value):
    return "" if value is None else f"{value:g}"


def row(result, maxima):
    """The CSV row of one StudentResult (grade.py), matching ``header(maxima)``."""
    graded = result.status.startswith("ok")
    cells = [result.student, result.status]
    autos, manuals = [], []
    for name, (auto_max, manual_max) in maxima.items():
        points = result.notebooks.get(name) if graded else None
        auto = points.auto if points else None
        manual = points.manual if points else None
        autos.append(auto)
        manuals.append(manual)
        cells += [format_points(auto), format_points(auto_max), format_points(manual), format_points(manual_max)]
    auto_total = sum(autos) if graded and None not in autos else None
    manual_total = sum(manuals) if graded and None not in manuals else None
    cells += [format_points(auto_total), format_points(sum(a for a, _ in maxima.values())),
              format_points(manual_total), format_points(sum(m for _, m in maxima.values())),
              result.manual_pending if graded else "", " | ".join(result.review), f"{result.seconds:.1f}"]
    return cells


def write_grades_csv(path, maxima, results):
    """Write one row per result (in order) to ``path``, atomically; returns path."""
    partial = path.with_name(path.name + ".partial")
    with open(partial, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header(maxima))
        writer.writerows(row(result, maxima) for result in results)
    os.replace(partial, path)
    return path
