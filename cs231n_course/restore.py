"""``RestoreTamperedCells``: make a tampered submission gradable again, using the release.

nbgrader's sanitize step fails the whole submission ("nbgrader failed", no points for any
notebook) on several edits a student can make by accident or on purpose. This preprocessor
runs first among the sanitize preprocessors and, from the released notebook recorded in the
gradebook, repairs each of them (one warning per repair, which ends up in the student's log):

- a cell whose grade_id is not in the release: a locked or graded one is removed (so
  ``RestoreDeletedCells`` puts the released cell back), any other becomes a plain cell;
- a grade_id used twice: the first cell keeps it, later copies become plain cells;
- a cell id used twice: later cells get a fresh, unique id;
- a released locked or graded cell whose type or nbgrader flags changed, or whose nbgrader
  metadata is invalid (``points`` a string, no ``schema_version``, ...): replaced by the
  released cell (source, type, metadata). A released answer cell keeps the student's source
  and gets back its released type and metadata.
"""

import copy
import re

from nbgrader.nbgraderformat import MetadataValidator
from nbgrader.preprocessors import NbGraderPreprocessor

from cs231n_course.preprocessors import released_notebook, restored_cell

CELL_ID_MAX = 64


class RestoreTamperedCells(NbGraderPreprocessor):
    """Normalise a submission's cells against the released notebook (run before RestoreDeletedCells)."""

    def preprocess(self, nb, resources):
        with released_notebook(resources) as notebook:
            if notebook is None:
                return nb, resources
            release = Release(
                sources={cell.name: cell for cell in notebook.source_cells},
                points={cell.name: cell.max_score for cell in notebook.grade_cells},
                solutions={cell.name for cell in notebook.solution_cells},
            )
            nb.cells = self.repaired_cells(nb.cells, release)
        return nb, resources

    def repaired_cells(self, cells, release):
        taken_ids = {cell.get("id") for cell in cells}
        seen_ids, seen_grade_ids, kept = set(), set(), []
        for index, cell in enumerate(cells):
            cell = self.repaired_cell(cell, index, release, seen_grade_ids)
            if cell is None:
                continue
            if "id" in cell:
                if cell.id in seen_ids:
                    new_id = fresh_id(cell.id, taken_ids)
                    self.log.warning("Cell %d has the id %r of an earlier cell: renamed %r", index, cell.id, new_id)
                    cell.id = new_id
                    taken_ids.add(new_id)
                seen_ids.add(cell.id)
            kept.append(cell)
        return kept

    def repaired_cell(self, cell, index, release, seen_grade_ids):
        """The cell to keep in place of ``cell`` (None: remove it)."""
        if "nbgrader" not in cell.metadata:
            return cell
        meta = cell.metadata.nbgrader
        grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
        if not isinstance(grade_id, str) or grade_id not in release.sources:
            if isinstance(meta, dict) and (meta.get("grade") is True or meta.get("locked") is True):
                self.log.warning("Cell %d is locked or graded with grade_id %r, which is not in the release: "
                                 "removed (the released cell is put back)", index, grade_id)
                return None
            if meta:
                self.log.warning("Cell %d has nbgrader metadata with grade_id %r, which is not in the release: "
                                 "made a plain cell", index, grade_id)
            del cell.metadata["nbgrader"]
            return cell
        if grade_id in seen_grade_ids:
            self.log.warning("Cell %d repeats grade_id %r of an earlier cell: made a plain cell", index, grade_id)
            del cell.metadata["nbgrader"]
            return cell
        seen_grade_ids.add(grade_id)
        problem = release.difference(cell, grade_id)
        if problem is None:
            return cell
        released = release.cell(grade_id)
        if grade_id in release.solutions:
            self.log.warning("Answer cell %s: %s; its released type and metadata are restored", grade_id, problem)
            released.source = cell.source
        else:
            self.log.warning("Cell %s: %s; replaced by the released cell", grade_id, problem)
        if "id" in cell:
            released.id = cell.id
        return released


class Release:
    """The released notebook's cells: source cells by grade_id, points of graded ones, answer ids."""

    def __init__(self, sources, points, solutions):
        self.sources, self.points, self.solutions = sources, points, solutions

    def cell(self, grade_id):
        return restored_cell(self.sources[grade_id], self.points.get(grade_id), grade_id in self.solutions)

    def flags(self, grade_id):
        return {"grade": grade_id in self.points, "solution": grade_id in self.solutions,
                "locked": bool(self.sources[grade_id].locked)}

    def difference(self, cell, grade_id):
        """What is wrong with the cell of ``grade_id`` (a sentence), or None when it matches the release."""
        meta = cell.metadata.nbgrader
        if invalid_metadata(cell):
            return "its nbgrader metadata is invalid"
        expected_type = self.sources[grade_id].cell_type
        if cell.cell_type != expected_type:
            return f"its type changed from {expected_type} to {cell.cell_type}"
        changed = [flag for flag, value in self.flags(grade_id).items() if meta.get(flag) is not value]
        if changed:
            return f"its nbgrader flag(s) {', '.join(changed)} changed"
        return None


def invalid_metadata(cell):
    """True when nbgrader's schema validation refuses the cell's nbgrader metadata."""
    meta = cell.metadata.nbgrader
    if not isinstance(meta, dict):
        return True
    trial = copy.deepcopy(cell)
    try:
        MetadataValidator().validate_cell(trial)
    except Exception:  # jsonschema, schema-version and nbgrader's own ValidationErrors alike
        return True
    return False


def fresh_id(old, taken):
    """An nbformat cell id (at most 64 of [A-Za-z0-9_-]) made from ``old`` and not in ``taken``."""
    base = re.sub(r"[^A-Za-z0-9_-]", "-", str(old))[:CELL_ID_MAX - 8] or "cell"
    number = 1
    while f"{base}-dup{number}" in taken:
        number += 1
    return f"{base}-dup{number}"
