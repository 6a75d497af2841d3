"""The course's conventions, checked on every notebook in notebooks/.

- the top cell states learning objectives, prerequisites and an estimated time;
- every code cell carries nbgrader metadata (schema 3, a unique grade_id),
  and graded test cells are locked, have points and wrote nothing to stderr;
- every figure is followed by a markdown cell that describes it ("Figure: ...");
- widget cells are marked NBVAL_IGNORE_OUTPUT and no widget state is saved;
- the README's course map lists every notebook;
- in the released student's copy, Run All goes through every notebook (cells
  tagged raises-exception), every graded check cell fails saying what is not
  implemented yet and which line to replace, and no text or message speaks of
  solution markers the copy does not have.
"""

import json
import os
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from cs231n_lib.checks.common import NOT_IMPLEMENTED

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))
IDS = [path.stem for path in NOTEBOOKS]


def load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def source(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def nbgrader(cell):
    return cell.get("metadata", {}).get("nbgrader")


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found in notebooks/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_top_cell_states_objectives_prerequisites_and_time(path):
    top = load(path)["cells"][0]
    text = source(top).lower()
    assert top["cell_type"] == "markdown" and text.startswith("# "), "the first cell is a markdown title"
    for needed in ("learning objectives", "prerequisites", "estimated time"):
        assert needed in text, f"{path.name}: the top cell should say its {needed}"
    objectives = re.findall(r"^\s*[-*] ", source(top), flags=re.MULTILINE)
    assert 3 <= len(objectives), f"{path.name}: list 3 to 5 learning objectives as bullets"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_setup_cell_imports_the_library_and_sets_png_figures(path):
    first_code = next(cell for cell in load(path)["cells"] if cell["cell_type"] == "code")
    text = source(first_code)
    assert "cs231n_lib" in text, "the setup cell imports from cs231n_lib"
    assert "import *" not in text, "imports are explicit, never *"
    assert "%config InlineBackend.figure_formats = ['png']" in text


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_code_cells_carry_nbgrader_metadata(path):
    notebook = load(path)
    grade_ids = []
    for index, cell in enumerate(notebook["cells"]):
        meta = nbgrader(cell)
        if cell["cell_type"] == "code":
            assert meta is not None, f"{path.name} cell {index} has no nbgrader metadata:\n{source(cell)[:200]}"
        if meta is None:
            continue
        where = f"{path.name} cell {index} ({meta.get('grade_id')})"
        assert meta.get("schema_version") == 3, where
        assert meta.get("grade_id"), where
        grade_ids.append(meta["grade_id"])
        if meta.get("grade") and cell["cell_type"] == "markdown":
            # An inline question: a manually graded markdown answer.
            assert meta.get("solution") and not meta.get("locked") and meta.get("points", 0) > 0, where
        elif meta.get("grade"):
            assert meta.get("locked") and not meta.get("solution"), f"{where}: a test cell is locked"
            assert meta.get("points", 0) > 0, f"{where}: a test cell has points"
            for output in cell.get("outputs", []):
                assert not (output.get("output_type") == "stream" and output.get("name") == "stderr"), (
                    f"{where}: a test cell must print nothing to stderr"
                )
        if meta.get("solution") and cell["cell_type"] == "code":
            assert "### BEGIN SOLUTION" in source(cell), f"{where}: an answer cell holds a solution region"
        if not meta.get("solution") and not meta.get("grade"):
            assert meta.get("locked"), f"{where}: a cell that is neither answer nor test is read-only"
    assert len(grade_ids) == len(set(grade_ids)), f"{path.name}: grade_ids repeat"


def test_grade_ids_are_unique_across_the_course():
    seen = {}
    for path in NOTEBOOKS:
        for cell in load(path)["cells"]:
            meta = nbgrader(cell)
            if meta:
                assert meta["grade_id"] not in seen, f"{meta['grade_id']} in {path.name} and {seen.get(meta['grade_id'])}"
                seen[meta["grade_id"]] = path.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_saved_outputs_are_complete_small_and_widget_free(path):
    notebook = load(path)
    assert "widgets" not in notebook.get("metadata", {}), "saved widget state makes notebooks large and stale"
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code" and source(cell).strip()]
    assert all(cell.get("execution_count") for cell in code), "run the notebook top to bottom and save it"
    assert path.stat().st_size < 1_000_000, f"{path.name} is {path.stat().st_size} bytes"
    for cell in code:
        if any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in cell.get("outputs", [])):
            assert "# NBVAL_IGNORE_OUTPUT" in source(cell), "widget cells are marked # NBVAL_IGNORE_OUTPUT"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_every_figure_is_described(path):
    cells = load(path)["cells"]
    for index, cell in enumerate(cells):
        has_figure = any("image/png" in o.get("data", {}) for o in cell.get("outputs", []))
        if has_figure:
            following = cells[index + 1] if index + 1 < len(cells) else None
            assert following is not None and following["cell_type"] == "markdown" and "Figure:" in source(following), (
                f"{path.name} cell {index} draws a figure: describe it in the next markdown cell, "
                "starting a line with 'Figure:' (the alt text screen readers get)"
            )


def test_readme_course_map_lists_every_notebook():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for path in NOTEBOOKS:
        row = next((line for line in readme.splitlines() if f"notebooks/{path.name}" in line), None)
        assert row is not None, f"README's course map does not list {path.name}"
        assert re.search(r"\|\s*\d+\s*\|\s*$", row), f"the README row for {path.name} ends with its minutes"


# ---------------------------------------------------------------------------
# The student's copy, as released: Run All goes through, every check fails helpfully
# ---------------------------------------------------------------------------

MARKER_WORDS = ("BEGIN SOLUTION", "END SOLUTION", "solution region")
# What a cell that needs unfinished student code may fail with in a blank copy: the exercise's own
# NotImplementedError, a check saying so, a name the unfinished answer cell never set, or the
# None an unfinished answer left (refused by a library function, or asked for an attribute).
BLANK_COPY_ERRORS = {"NotImplementedError", "CheckFailed", "NameError", "TypeError", "AttributeError"}


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    """The release folder built by ``cs231n-course release`` from this checkout."""
    from cs231n_course.release import release_course

    work = tmp_path_factory.mktemp("release")
    return release_course(work / "course", work / "release", log=lambda *args: None).folder


def run_all(notebook_path):
    """Execute like JupyterLab's Run All: stop at the first error unless its cell is tagged raises-exception."""
    notebook = nbformat.read(notebook_path, as_version=4)
    client = NotebookClient(notebook, timeout=120, kernel_name="python3", allow_errors=False,
                            resources={"metadata": {"path": str(notebook_path.parent)}})
    client.execute()
    return notebook


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_run_all_goes_through_a_students_copy_and_every_check_fails_helpfully(path, released, monkeypatch):
    # The student's library comes first on the kernel's path, before the installed one.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(released), os.environ.get("PYTHONPATH", "")]))
    notebook = run_all(released / path.name)  # raises CellExecutionError if Run All would stop
    texts = [cell.source for cell in notebook.cells if cell.cell_type == "markdown"]
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader") or {}
        errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
        texts += ["\n".join([o.evalue, *o.traceback]) for o in errors]
        where = f"{path.name} {meta.get('grade_id')}"
        if cell.cell_type == "code" and meta.get("grade"):
            assert errors, f"{where}: passed although its exercise has no solution"
            assert NOT_IMPLEMENTED in errors[0].evalue, (
                f"{where}: failed with {errors[0].ename}: {errors[0].evalue[:300]} "
                f"instead of saying what is {NOT_IMPLEMENTED}")
            assert "raise NotImplementedError()" in " ".join(errors[0].evalue.split()), where
        elif errors:
            assert errors[0].ename in BLANK_COPY_ERRORS, f"{where}: {errors[0].ename}: {errors[0].evalue[:300]}"
    for text in texts:
        named = [word for word in MARKER_WORDS if word in text]
        assert not named, f"{path.name}: the student's copy says {named} but has no such marker:\n{text[:400]}"
