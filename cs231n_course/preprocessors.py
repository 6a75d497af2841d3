"""nbgrader preprocessors that close the holes plain nbgrader leaves open for this course.

- ``StrictClearSolutions`` / ``StrictClearHiddenTests``: a marker counts only when
  it is the whole line (``### BEGIN SOLUTION``), the rule ``cs231n_course.solutions``
  uses; plain nbgrader treats any line *containing* "BEGIN SOLUTION" as one, so
  prose that explains the markers breaks ``generate_assignment``.
- ``RestoreDeletedCells``: puts back every locked, graded or answer cell a student
  deleted, as released, before ``OverwriteCells`` (whose own ``add_missing_cells``
  raises KeyError when the deleted cell follows a locked non-graded cell).
- ``StderrToStdout``: a warning printed by a graded cell no longer zeroes a right
  answer (nbgrader scores any stderr output as a failure).
- ``RedactHiddenTracebacks``: feedback tracebacks do not quote hidden test lines.
"""

import re
from contextlib import contextmanager

import nbformat
from nbgrader import utils
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.nbgraderformat import MetadataValidator
from nbgrader.preprocessors import (
    ClearHiddenTests,
    ClearSolutions,
    NbGraderPreprocessor,
)

from cs231n_course.solutions import BEGIN, END, marked_regions, replace_marked_regions

SOLUTION_MARKERS = (BEGIN, END)
HIDDEN_MARKERS = ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
HIDDEN_LINE_NOTE = "      [a line of a hidden test]"


def replace_regions(source, markers, stub_lines):
    """(new_source, found) with each whole-line marked region replaced by stub_lines.

    The stub takes the BEGIN marker's indentation. Raises RuntimeError (as
    nbgrader does) on a nested or unclosed region.
    """
    try:
        lines, count = replace_marked_regions(source.split("\n"), stub_lines, *markers)
    except ValueError as error:
        raise RuntimeError(f"{error} in:\n{source}") from None
    return "\n".join(lines), count > 0


class StrictClearSolutions(ClearSolutions):
    """ClearSolutions that only accepts whole-line ``### BEGIN/END SOLUTION`` markers."""

    def _replace_solution_region(self, cell, language):
        if cell.cell_type == "code":
            stub = self.code_stub[language].split("\n")
        else:
            stub = self.text_stub.split("\n")
        cell.source, found = replace_regions(cell.source, SOLUTION_MARKERS, stub)
        return found


class StrictClearHiddenTests(ClearHiddenTests):
    """ClearHiddenTests that only accepts whole-line ``### BEGIN/END HIDDEN TESTS`` markers."""

    def _remove_hidden_test_region(self, cell):
        cell.source, found = replace_regions(cell.source, HIDDEN_MARKERS, [])
        return found


def hidden_test_lines(source):
    """The non-blank lines (stripped) between whole-line hidden-test markers."""
    lines = source.split("\n")
    return [line.strip() for first, last, _ in marked_regions(lines, *HIDDEN_MARKERS)
            for line in lines[first + 1:last] if line.strip()]


class RedactHiddenTracebacks(NbGraderPreprocessor):
    """Replace every traceback line that quotes a hidden test line (run before clearing them)."""

    def preprocess_cell(self, cell, resources, index):
        hidden = hidden_test_lines(cell.source) if cell.cell_type == "code" else []
        if hidden:
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output.traceback = [redact(entry, hidden) for entry in output.traceback]
        return cell, resources


def redact(text, hidden):
    kept = []
    for line in text.split("\n"):
        plain = ANSI_ESCAPE.sub("", line)
        kept.append(HIDDEN_LINE_NOTE if any(h in plain for h in hidden) else line)
    return "\n".join(kept)


class StderrToStdout(NbGraderPreprocessor):
    """In graded cells, turn stderr stream outputs into stdout ones (after Execute)."""

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and utils.is_grade(cell):
            for output in cell.get("outputs", []):
                if output.get("output_type") == "stream" and output.get("name") == "stderr":
                    output.name = "stdout"
        return cell, resources


class RestoreDeletedCells(NbGraderPreprocessor):
    """Re-insert released cells (graded, answer or locked) missing from a submission.

    Each goes back after the nearest earlier released cell still present, with
    the released source; OverwriteCells then treats it like any other cell.
    """

    def preprocess(self, nb, resources):
        with released_notebook(resources) as released:
            if released is None:
                return nb, resources
            points = {cell.name: cell.max_score for cell in released.grade_cells}
            solutions = {cell.name for cell in released.solution_cells}
            present = {
                cell.metadata.nbgrader["grade_id"]: cell
                for cell in nb.cells
                if "nbgrader" in cell.metadata and "grade_id" in cell.metadata.nbgrader
            }
            previous = None
            for source_cell in released.source_cells:
                if source_cell.name not in present:
                    restored = restored_cell(source_cell, points.get(source_cell.name), source_cell.name in solutions)
                    position = nb.cells.index(previous) + 1 if previous is not None else 0
                    nb.cells.insert(position, restored)
                    present[source_cell.name] = restored
                    self.log.warning("Cell %s was missing from the submission: restored as released", source_cell.name)
                previous = present[source_cell.name]
        return nb, resources


@contextmanager
def released_notebook(resources):
    """The gradebook's record of the notebook being graded, as released (None: not recorded).

    The gradebook stays open for the block, so the record's cells can be read there.
    """
    info = resources["nbgrader"]
    with Gradebook(info["db_url"]) as gradebook:
        try:
            notebook = gradebook.find_notebook(info["notebook"], info["assignment"])
        except MissingEntry:
            notebook = None
        yield notebook


def restored_cell(source_cell, points, is_solution):
    """A notebook cell rebuilt from a gradebook source cell."""
    nbgrader = {
        "grade": points is not None,
        "solution": is_solution,
        "locked": source_cell.locked,
        "grade_id": source_cell.name,
        "checksum": source_cell.checksum,
        "schema_version": 3,
    }
    if points is not None:
        nbgrader["points"] = points
    cell = nbformat.from_dict({
        "cell_type": source_cell.cell_type,
        "metadata": {"nbgrader": nbgrader, "deletable": False},
        "source": source_cell.source,
    })
    cell.id = re.sub(r"[^A-Za-z0-9_-]", "-", f"restored-{source_cell.name}")[:64]
    if source_cell.cell_type == "code":
        cell.execution_count = None
        cell.outputs = []
    if source_cell.locked:
        cell.metadata.editable = False
    return MetadataValidator().upgrade_cell_metadata(cell)
