"""Course notebooks are stored in one normalized form, and the release does not depend on who ran them."""

from pathlib import Path

import nbformat
import pytest

from cs231n_course.cli import main
from cs231n_course.notebook_format import (
    WIDGET_VIEW,
    course_content,
    dumps,
    normalize,
    normalize_file,
)
from cs231n_course.student_notebooks import student_source

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def as_run_in_jupyterlab(nb):
    """What a JupyterLab session adds to a notebook: its own kernelspec, Python version, cell UI state, widget ids."""
    ran = nbformat.reads(nbformat.writes(nb), as_version=4)
    ran.metadata.kernelspec = {"display_name": ".venv", "language": "python", "name": "venv-kernel"}
    ran.metadata.language_info["version"] = "3.11.13"
    ran.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    for cell in ran.cells:
        cell.metadata["collapsed"] = False
        cell.metadata["execution"] = {"iopub.status.busy": "2026-12-05T08:00:00Z"}
        for output in cell.get("outputs", []):
            if output.get("data", {}).get("image/png"):
                output.data[WIDGET_VIEW] = {"model_id": "0123abcd", "version_major": 2, "version_minor": 0}
    return ran


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_course_notebook_is_stored_normalized(path):
    text = path.read_text(encoding="utf-8")
    assert dumps(nbformat.reads(text, as_version=4)) == text, (
        f"{path.name} holds run-specific metadata: run `.venv/bin/cs231n-course normalize notebooks/*.ipynb`")


def test_normalizing_removes_what_a_run_adds_and_keeps_the_course():
    original = nbformat.read(NOTEBOOKS[1], as_version=4)
    ran = as_run_in_jupyterlab(original)
    assert dumps(ran) == dumps(original)
    assert course_content(ran) == course_content(original)
    kept = normalize(ran)
    assert [c.source for c in kept.cells] == [c.source for c in original.cells]
    assert [len(c.get("outputs", [])) for c in kept.cells] == [len(c.get("outputs", [])) for c in original.cells]


def test_the_students_source_is_the_same_whoever_ran_the_notebook():
    original = nbformat.read(NOTEBOOKS[1], as_version=4)
    assert nbformat.writes(student_source(as_run_in_jupyterlab(original))) == nbformat.writes(student_source(original))


def test_course_content_sees_an_edited_cell():
    original = nbformat.read(NOTEBOOKS[1], as_version=4)
    edited = nbformat.reads(nbformat.writes(original), as_version=4)
    edited.cells[3].source += "\n# a change"
    assert course_content(edited) != course_content(original)


def test_the_normalize_command_rewrites_only_what_needs_it(tmp_path, capsys):
    ran, clean = tmp_path / "ran.ipynb", tmp_path / "clean.ipynb"
    nb = nbformat.read(NOTEBOOKS[1], as_version=4)
    nbformat.write(as_run_in_jupyterlab(nb), ran)
    clean.write_text(dumps(nb), encoding="utf-8")
    assert main(["normalize", str(ran), str(clean)]) == 0
    assert "normalized 1 of 2 notebook(s)" in capsys.readouterr().out
    assert ran.read_text(encoding="utf-8") == clean.read_text(encoding="utf-8")
    assert not normalize_file(ran)
