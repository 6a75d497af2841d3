"""What a notebook's student copy says differently from the instructor's, made before nbgrader sees it.

``release`` writes each chosen notebook into nbgrader's source folder through
``student_source``, which:

1. stores it normalized (``notebook_format.normalize``), so running the
   instructor notebooks never changes the release;
2. rewrites the text that speaks of solution markers: the student's copy has
   no ``### BEGIN SOLUTION`` line, it has ``raise NotImplementedError()`` in its
   place (``MARKER_PHRASES``);
3. names each written answer: a markdown answer cell becomes
   "**Your answer to Inline question N:**" followed by the answer between
   solution markers, so nbgrader blanks only the answer and the Validate button,
   listing an unanswered cell by its source, says which question it is;
4. tags every code cell from the first exercise on ``raises-exception``:
   JupyterLab's Run All and nbclient keep going past a cell that raises (an
   unfinished exercise, a failing check), so every cell that needs no student
   code still produces its output. The tag changes nothing in grading: a check
   cell that raises still scores 0.
"""

import re

from cs231n_course.notebook_format import normalize
from cs231n_course.review import nbgrader_metadata
from cs231n_course.solutions import BEGIN, END

RAISES = "raises-exception"
# (pattern, replacement) applied to markdown cells; whitespace in a pattern matches any line break.
MARKER_PHRASES = (
    (r"the lines between `### BEGIN SOLUTION` and `### END SOLUTION` \(in your copy: `raise NotImplementedError\(\)`\)",
     "the line `raise NotImplementedError()`"),
    (r"between `### BEGIN SOLUTION` and `### END SOLUTION`", "in place of the line `raise NotImplementedError()`"),
)
QUESTION_HEADING = re.compile(r"^\s*(?:#+\s*|\*\*)(Inline question \d+)", re.MULTILINE)


def _phrase(pattern):
    return re.compile(pattern.replace(" ", r"\s+"), re.IGNORECASE)


_PHRASES = [(_phrase(pattern), replacement) for pattern, replacement in MARKER_PHRASES]


def is_exercise_cell(cell):
    """An answer or check cell (nbgrader's solution or grade cells)."""
    meta = nbgrader_metadata(cell)
    return bool(meta.get("solution") or meta.get("grade"))


def student_text(markdown):
    """``markdown`` with every mention of the solution markers said as the student's copy has it."""
    for pattern, replacement in _PHRASES:
        markdown = pattern.sub(lambda found, said=replacement: _same_case(found.group(0), said), markdown)
    return markdown


def _same_case(found, replacement):
    """``replacement``, capitalised when the phrase it replaces starts a sentence."""
    return replacement[:1].upper() + replacement[1:] if found[:1].isupper() else replacement


def question_name(cells, index):
    """The "Inline question N" that the cell at ``index`` answers: the nearest one above it, or None."""
    for cell in reversed(cells[:index]):
        if cell.cell_type == "markdown":
            found = QUESTION_HEADING.search(cell.source)
            if found:
                return found.group(1)
    return None


def named_answer(cells, index):
    """The source of a markdown answer cell with a line naming its question above the marked answer."""
    name = question_name(cells, index) or "the question above"
    return f"**Your answer to {name}:**\n\n{BEGIN}\n{cells[index].source.strip()}\n{END}"


def student_source(nb):
    """The notebook nbgrader turns into the student's copy (a new NotebookNode)."""
    nb = normalize(nb)
    exercises_started = False
    for index, cell in enumerate(nb.cells):
        meta = nbgrader_metadata(cell)
        if cell.cell_type == "markdown":
            if meta.get("solution") and BEGIN not in cell.source:
                cell.source = named_answer(nb.cells, index)
            elif not meta.get("solution"):
                cell.source = student_text(cell.source)
            continue
        exercises_started = exercises_started or is_exercise_cell(cell)
        tags = cell.metadata.get("tags", [])
        if exercises_started and RAISES not in tags:
            cell.metadata["tags"] = [*tags, RAISES]
    return nb
