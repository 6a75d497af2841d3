"""The grader's ``review`` column: code a student wrote that deserves a human's reading.

Read this first. Grading runs a student's code in the same Python process as the checks:
every answer cell, and every library function a check calls. Code running in the kernel
can defeat any in-kernel check: it can replace a check function or ``numpy.allclose`` in
memory, patch a module from inside ``cs231n_lib/layers.py``, or install an IPython hook
that swallows the check's AssertionError, and no sandbox prevents that. This module
cannot close that hole, and it cannot prove a submission honest either: it reads the
code without running it, and a determined author can write code it does not recognise.
A flag is a pointer for a human to read that code, not a verdict: nothing is deducted
automatically, and an unflagged submission is not thereby shown to be honest.

What is read:
- every answer cell of every notebook (``metadata.nbgrader.solution``); given the release,
  also every other code cell that differs from the released notebook's cells (a student
  can edit or add plain cells, and they run too);
- every library answer file, but only the lines the student added or changed: the
  released file (solution regions replaced by ``raise NotImplementedError()``, see
  ``cs231n_course.solutions``) is diffed line by line against the student's copy, the
  student's whole file is parsed, and only findings on changed lines are reported.

What is flagged, and why each is worth a look, is in ``review_patterns``. Each finding
names what to look at: ``06_dropout:06-conventions-answer (assigns np.allclose)``,
``cs231n_lib/layers.py:123 (assigns numpy.testing.assert_allclose)``.
"""

import difflib
import re
from pathlib import Path, PurePosixPath

import nbformat

from cs231n_course.review_patterns import imports_of, scan

MAX_NOTEBOOK_BYTES = 64 * 2**20
MAX_LIBRARY_BYTES = 2**20
MAX_CELL_CHARACTERS = 200_000
MAX_REASONS = 6
UNSAFE_IN_LABEL = re.compile(r"[^\w.\-]")


def suspicious_answer_cells(folder):
    """['<notebook>:<grade_id> (<reason>; ...)', ...] for the answer cells of ``folder``'s notebooks
    that deserve a human look (the column ``grade`` fills without the release at hand)."""
    return suspicious_notebook_cells(folder)


def suspicious_notebook_cells(folder, release_folder=None):
    """['<notebook>:<cell> (<reason>; ...)', ...] for the notebooks in ``folder``.

    Answer cells are always read; with ``release_folder`` (the released assignment), so are
    code cells whose source is not one of the released notebook's, labelled ``cell<N>``.
    """
    flagged = []
    for path in sorted(Path(folder).glob("*.ipynb")):
        notebook, problem = read_notebook(path)
        if problem:
            flagged.append(f"{label(path.stem)} ({problem})")
            continue
        if notebook is None:
            continue  # an unreadable notebook is nbgrader's to report, not ours
        released = None
        if release_folder is not None:
            released, _ = read_notebook(Path(release_folder) / path.name)
        flagged.extend(notebook_findings(path.stem, notebook, released))
    return flagged


def read_notebook(path):
    """(notebook or None, problem or None): None without a problem when it is not a readable notebook."""
    path = Path(path)
    if path.is_symlink() or not path.is_file():
        return None, None
    size = path.stat().st_size
    if size > MAX_NOTEBOOK_BYTES:
        return None, f"not reviewed: {size} bytes is over the {MAX_NOTEBOOK_BYTES} byte limit"
    try:
        return nbformat.read(path, as_version=4), None
    except Exception:  # hostile or broken JSON: nbgrader reports it when it grades
        return None, None


def nbgrader_metadata(cell):
    """The cell's ``metadata.nbgrader`` dict ({} when missing or not a dict: the metadata is the student's)."""
    metadata = cell.get("metadata")
    meta = metadata.get("nbgrader") if isinstance(metadata, dict) else None
    return meta if isinstance(meta, dict) else {}


def is_answer(cell):
    return nbgrader_metadata(cell).get("solution") is True


def code_cells(notebook):
    """[(index, cell, source)] of the notebook's code cells whose source is text."""
    cells = notebook.get("cells", []) if notebook is not None else []
    return [(index, cell, cell.get("source")) for index, cell in enumerate(cells)
            if isinstance(cell, dict) and cell.get("cell_type") == "code" and isinstance(cell.get("source"), str)]


def notebook_context(notebook, released):
    """{name: (qualified, is_module)} the notebook's code cells import; the release's setup wins."""
    context = {}
    for _, _, source in code_cells(notebook):
        context.update(imports_of(source[:MAX_CELL_CHARACTERS], ipython=True))
    for _, cell, source in code_cells(released):
        if not is_answer(cell):
            context.update(imports_of(source, ipython=True))
    return context


def notebook_findings(stem, notebook, released):
    """The entries for one notebook: its answer cells, and (given the release) its edited or added cells."""
    context = notebook_context(notebook, released)
    released_sources = None if released is None else {source for _, _, source in code_cells(released)}
    flagged = []
    for index, cell, source in code_cells(notebook):
        answer = is_answer(cell)
        if not answer and (released_sources is None or source in released_sources):
            continue
        if len(source) > MAX_CELL_CHARACTERS:
            reasons = [f"not reviewed: {len(source)} characters is over the {MAX_CELL_CHARACTERS} limit"]
        else:
            reasons = [reason for _, _, reason in scan(source, context, ipython=True, exercise=answer)]
        if reasons:
            grade_id = nbgrader_metadata(cell).get("grade_id") if answer else None
            name = label(grade_id) if isinstance(grade_id, str) and grade_id else f"cell{index}"
            note = "" if answer else "edited or added cell: "
            flagged.append(f"{label(stem)}:{name} ({note}{joined(reasons)})")
    return flagged


def suspicious_library_lines(student_file, released_file, name=None):
    """['<name>:<line> (<reason>; ...)', ...] for the lines of a library file the student added or changed.

    name: the path to show, e.g. 'cs231n_lib/layers.py' (default: student_file as given); its
    folders name the package, for ``from . import x``. A missing student file gives [];
    a missing released file counts every line as the student's.
    """
    name = PurePosixPath(name) if name is not None else PurePosixPath(Path(student_file).as_posix())
    student, problem = read_library_file(student_file)
    if problem:
        return [f"{name} ({problem})"]
    if student is None:
        return []
    released, _ = read_library_file(released_file)
    released = released or ""
    package = ".".join(name.parent.parts) or None
    context = imports_of(released, package=package)
    changed = changed_lines(released, student)
    by_line = {}
    for first, last, reason in scan(student, context, strict=True, package=package):
        lines = [line for line in range(first, last + 1) if line in changed]
        if lines:
            by_line.setdefault(lines[0], []).append(reason)
    return [f"{name}:{line} ({joined(reasons)})" for line, reasons in sorted(by_line.items())]


def read_library_file(path):
    """(text or None, problem or None); a missing or non-regular file is (None, None)."""
    path = Path(path)
    if path.is_symlink() or not path.is_file():
        return None, None
    size = path.stat().st_size
    if size > MAX_LIBRARY_BYTES:
        return None, f"not reviewed: {size} bytes is over the {MAX_LIBRARY_BYTES} byte limit"
    return path.read_bytes().decode("utf-8", errors="replace"), None


def changed_lines(released, student):
    """The 1-based numbers of the student's lines that are not in the released text (difflib)."""
    matcher = difflib.SequenceMatcher(None, released.splitlines(), student.splitlines())
    changed = set()
    for tag, _, _, first, last in matcher.get_opcodes():
        if tag in ("replace", "insert"):
            changed.update(range(first + 1, last + 1))
    return changed


def review_submission(graded_folder, release_folder, student_files):
    """Everything worth a human look in one student's graded copy, as one list of strings.

    graded_folder: the student's copy (``<course>/submitted/<student>/<assignment>``);
    release_folder: the released assignment (``<course>/release/<assignment>``);
    student_files: the library answer files, relative paths such as 'cs231n_lib/layers.py'.
    """
    if isinstance(student_files, (str, bytes)) or not all(isinstance(f, str) for f in student_files):
        raise TypeError(f"student_files must be a list of relative paths (str), got {student_files!r}")
    flagged = suspicious_notebook_cells(graded_folder, release_folder)
    for relative in student_files:
        path = PurePosixPath(relative)
        if path.is_absolute() or ".." in path.parts or not path.parts:
            raise ValueError(f"student file {relative!r} is not a relative path inside the assignment "
                             "(expected e.g. 'cs231n_lib/layers.py')")
        flagged.extend(suspicious_library_lines(Path(graded_folder) / path, Path(release_folder) / path, path))
    return flagged


def label(text):
    """``text`` safe to show in one CSV field and on one line: word characters, '.', '-', at most 80."""
    return UNSAFE_IN_LABEL.sub("_", text)[:80]


def joined(reasons):
    """The distinct reasons, in order, joined by '; ' (at most MAX_REASONS, then how many more)."""
    distinct = list(dict.fromkeys(reasons))
    shown = "; ".join(distinct[:MAX_REASONS])
    return shown + (f"; and {len(distinct) - MAX_REASONS} more" if len(distinct) > MAX_REASONS else "")
