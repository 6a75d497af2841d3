"""The course's conventions, checked on every notebook in notebooks/.

- the top cell states learning objectives, prerequisites and an estimated time;
- every code cell carries nbgrader metadata (schema 3, a unique grade_id),
  and graded test cells are locked, have points and wrote nothing to stderr;
- every figure is followed by a markdown cell that describes it ("Figure: ...");
- widget cells are marked NBVAL_IGNORE_OUTPUT and no widget state is saved;
- the README's course map lists every notebook;
- with the solutions taken out of the library and the notebooks (as in a
  student's copy), every graded check cell fails and says what is not
  implemented yet, rather than crashing in some other way.
"""

import json
import os
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from cs231n_lib.checks.common import NOT_IMPLEMENTED
from cs231n_course.solutions import strip_solutions

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
# A student's copy: solutions removed, every check must fail helpfully
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def student_tree(tmp_path_factory):
    """The library and notebooks with every solution region replaced by raise NotImplementedError()."""
    tree = tmp_path_factory.mktemp("student")
    for path in (ROOT / "cs231n_lib").rglob("*.py"):
        target = tree / path.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(strip_solutions(path.read_text(encoding="utf-8"), filename=str(path)), encoding="utf-8")
    (tree / "notebooks").mkdir()
    for path in NOTEBOOKS:
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                cell.source = strip_solutions(cell.source, filename=f"{path.name}")
                cell.outputs = []
        nbformat.write(notebook, tree / "notebooks" / path.name)
    for extra in NOTEBOOK_DIR.iterdir():
        if extra.is_dir() and not extra.name.startswith("."):
            shutil.copytree(extra, tree / "notebooks" / extra.name)
    return tree


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_every_check_fails_helpfully_in_a_students_copy(path, student_tree, monkeypatch):
    notebook_path = student_tree / "notebooks" / path.name
    notebook = nbformat.read(notebook_path, as_version=4)
    checks = [cell for cell in notebook.cells
              if cell.cell_type == "code" and (cell.metadata.get("nbgrader") or {}).get("grade")]
    if not checks:
        pytest.skip(f"{path.name} has no graded checks")
    # The student's library comes first on the kernel's path, before the installed one.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(student_tree), os.environ.get("PYTHONPATH", "")]))
    client = NotebookClient(notebook, timeout=120, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(notebook_path.parent)}})
    client.execute()
    for cell in checks:
        errors = [o for o in cell.outputs if o.output_type == "error"]
        grade_id = cell.metadata["nbgrader"]["grade_id"]
        assert errors, f"{path.name} {grade_id}: passed although its exercise has no solution"
        assert NOT_IMPLEMENTED in errors[0].evalue, (
            f"{path.name} {grade_id}: failed with {errors[0].ename}: {errors[0].evalue[:300]} "
            f"instead of saying what is {NOT_IMPLEMENTED}"
        )
