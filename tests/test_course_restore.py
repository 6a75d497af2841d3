"""Tests for cs231n_course.restore (tampered cells) and cs231n_course.crash (a kernel that dies).

Unit tests: a tiny nbgrader course built in tmp_path with the course's own
generate_assignment (one locked setup cell, a code answer, a 2-point check, a
1-point written answer), whose released notebook is tampered with by hand and run
through RestoreTamperedCells and then the whole sanitize chain of
``nbgrader_config``. Each tampering is first shown to break that chain without
RestoreTamperedCells (the measured failure of plain nbgrader), so the tests fail if
the repair stops happening.

One end-to-end test: notebooks 00 (no points) and 06 released together, graded for
five students; the points of each are worked out in EXPECTED. 00 is the second
notebook because a kernel killed there must cost only that notebook: 06 (graded
after it in the same autograde run, 00 < 06) must still get its 5 points.
"""

import copy
import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbgrader.preprocessors import ClearOutput
from traitlets.utils.importstring import import_item

from cs231n_course.config import nbgrader_config
from cs231n_course.crash import ExecuteUntilKernelDies
from cs231n_course.nbgrader_run import run_nbgrader
from cs231n_course.restore import RestoreTamperedCells, fresh_id
from cs231n_course.ungraded import ExecuteGradedOnly

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "a1"
NOTEBOOK = "tiny"


def meta(grade_id, solution=False, grade=False, locked=False, points=None):
    nbgrader = {"grade": grade, "solution": solution, "locked": locked, "grade_id": grade_id, "schema_version": 3}
    if points is not None:
        nbgrader["points"] = points
    return {"nbgrader": nbgrader}


def tiny_source():
    nb = nbformat.v4.new_notebook()
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        nbformat.v4.new_code_cell("import math", metadata=meta("setup", locked=True)),
        nbformat.v4.new_code_cell("### BEGIN SOLUTION\nanswer = 42\n### END SOLUTION", metadata=meta("answer", solution=True)),
        nbformat.v4.new_markdown_cell("Plain prose."),
        nbformat.v4.new_code_cell("assert answer == 42, 'expected 42'",
                                  metadata=meta("check", grade=True, locked=True, points=2)),
        nbformat.v4.new_markdown_cell("### BEGIN SOLUTION\nBecause.\n### END SOLUTION",
                                      metadata=meta("why", solution=True, grade=True, points=1)),
    ]
    return nb


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """(course_dir, released notebook) of a tiny course made by generate_assignment."""
    course_dir = tmp_path_factory.mktemp("course")
    source = course_dir / "source" / ASSIGNMENT
    source.mkdir(parents=True)
    nbformat.write(tiny_source(), source / f"{NOTEBOOK}.ipynb")
    run_nbgrader("generate_assignment", nbgrader_config(course_dir, ASSIGNMENT), ASSIGNMENT)
    released = nbformat.read(course_dir / "release" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)
    return course_dir, released


def resources(course_dir):
    return {"nbgrader": {"db_url": f"sqlite:///{course_dir / 'gradebook.db'}", "notebook": NOTEBOOK,
                         "assignment": ASSIGNMENT}}


def fresh(released):
    return copy.deepcopy(released)


def by_grade_id(nb, grade_id):
    return [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id]


def classes(kinds):
    """A preprocessor list of the config with its dotted names imported."""
    return [import_item(kind) if isinstance(kind, str) else kind for kind in kinds]


def sanitize(nb, course_dir, with_restore=True):
    """The config's sanitize chain (ClearOutput, ..., CheckCellMetadata), optionally without ours."""
    chain = classes(nbgrader_config(course_dir, ASSIGNMENT).Autograde.sanitize_preprocessors)
    res = resources(course_dir)
    for kind in chain:
        if kind is RestoreTamperedCells and not with_restore:
            continue
        nb, res = kind().preprocess(nb, res)
    return nb


def shape(nb):
    """(cell_type, grade_id or None, source) per cell: what grading will see."""
    return [(c.cell_type, c.metadata.get("nbgrader", {}).get("grade_id"), c.source) for c in nb.cells]


def test_the_config_runs_restore_tampered_cells_first_among_the_fixes(course):
    chain = classes(nbgrader_config(course[0], ASSIGNMENT).Autograde.sanitize_preprocessors)
    names = [kind.__name__ for kind in chain]
    assert names.index("RestoreTamperedCells") < names.index("DeduplicateIds")
    assert names.index("RestoreTamperedCells") < names.index("RestoreDeletedCells") < names.index("OverwriteCells")
    assert names[0] == ClearOutput.__name__


def test_the_config_executes_with_the_kernel_death_handler_and_keeps_executes_settings(course):
    config = nbgrader_config(course[0], ASSIGNMENT, cell_timeout=7)
    chain = classes(config.Autograde.autograde_preprocessors)
    assert ExecuteGradedOnly in chain and not any(kind.__name__ == "Execute" for kind in chain)
    assert issubclass(ExecuteGradedOnly, ExecuteUntilKernelDies)
    execute = ExecuteGradedOnly(config=config)
    assert (execute.timeout, execute.interrupt_on_timeout, execute.shutdown_kernel) == (7, True, "immediate")


def test_an_untampered_release_passes_unchanged(course):
    course_dir, released = course
    nb, _ = RestoreTamperedCells().preprocess(fresh(released), resources(course_dir))
    assert nb == released


def test_a_renamed_check_cell_is_removed_and_the_released_one_put_back(course):
    course_dir, released = course
    nb = fresh(released)
    check = by_grade_id(nb, "check")[0]
    check.metadata.nbgrader["grade_id"] = "mine"
    check.source = "pass"
    with pytest.raises(Exception):  # noqa: B017 (plain nbgrader fails; with which error is its own business)
        sanitize(copy.deepcopy(nb), course_dir, with_restore=False)  # plain nbgrader: KeyError / RuntimeError
    graded = sanitize(nb, course_dir)
    # RestoreDeletedCells puts it back right after the released cell before it (the answer).
    expected = shape(released)
    expected.insert(2, expected.pop(3))
    assert shape(graded) == expected
    assert graded.cells[2].metadata.nbgrader["points"] == 2


def test_an_unknown_answer_cell_becomes_a_plain_cell_and_keeps_its_source(course):
    course_dir, released = course
    nb = fresh(released)
    nb.cells.insert(2, nbformat.v4.new_code_cell("helper = 1", metadata=meta("my-own", solution=True)))
    nb, _ = RestoreTamperedCells().preprocess(nb, resources(course_dir))
    assert "nbgrader" not in nb.cells[2].metadata and nb.cells[2].source == "helper = 1"


def test_a_copied_answer_cell_keeps_the_first_as_the_graded_one(course):
    course_dir, released = course
    nb = fresh(released)
    answer = by_grade_id(nb, "answer")[0]
    answer.source = "answer = 41"
    copied = copy.deepcopy(answer)
    copied.source = "answer = 42"
    nb.cells.insert(2, copied)  # same cell id and same grade_id
    with pytest.raises(Exception):  # noqa: B017 (plain nbgrader fails; with which error is its own business)
        sanitize(copy.deepcopy(nb), course_dir, with_restore=False)  # SchemaTooOldError
    graded = sanitize(nb, course_dir)
    assert [c.source for c in by_grade_id(graded, "answer")] == ["answer = 41"]
    assert "nbgrader" not in graded.cells[2].metadata and graded.cells[2].source == "answer = 42"
    ids = [c.id for c in graded.cells]
    assert len(set(ids)) == len(ids)
    assert graded.cells[2].id == fresh_id(answer.id, set()) == f"{answer.id}-dup1"


def test_duplicate_cell_ids_get_fresh_ones_that_avoid_existing_ids(course):
    course_dir, released = course
    nb = fresh(released)
    first = nb.cells[0].id
    nb.cells.insert(1, nbformat.v4.new_code_cell("x = 1"))
    nb.cells.insert(2, nbformat.v4.new_code_cell("y = 2"))
    nb.cells[1].id = first
    nb.cells[2].id = f"{first}-dup1"  # already taken: the fresh id must skip it
    nb, _ = RestoreTamperedCells().preprocess(nb, resources(course_dir))
    assert [c.id for c in nb.cells[:3]] == [first, f"{first}-dup2", f"{first}-dup1"]


def test_fresh_ids_are_valid_nbformat_ids():
    new = fresh_id("é" * 80, set())
    assert len(new) <= 64 and new.endswith("-dup1") and set(new) <= set("-_dup1")


@pytest.mark.parametrize("tamper", ["made_answer", "made_markdown", "unlocked"])
def test_a_check_cell_with_changed_type_or_flags_is_replaced_by_the_released_one(course, tamper):
    course_dir, released = course
    nb = fresh(released)
    check = by_grade_id(nb, "check")[0]
    check.source = "pass"
    if tamper == "made_answer":
        check.metadata.nbgrader.update(solution=True, locked=False)
    elif tamper == "made_markdown":
        check.cell_type = "markdown"
        del check["outputs"], check["execution_count"]
    else:
        check.metadata.nbgrader["locked"] = False
    nb, _ = RestoreTamperedCells().preprocess(nb, resources(course_dir))
    restored = by_grade_id(nb, "check")[0]
    original = by_grade_id(released, "check")[0]
    assert (restored.cell_type, restored.source, restored.id) == ("code", original.source, original.id)
    assert {k: restored.metadata.nbgrader[k] for k in ("grade", "solution", "locked", "points")} == {
        "grade": True, "solution": False, "locked": True, "points": 2}
    assert shape(sanitize(nb, course_dir)) == shape(released)


def test_plain_nbgrader_fails_on_a_check_cell_made_an_answer(course):
    course_dir, released = course
    nb = fresh(released)
    check = by_grade_id(nb, "check")[0]
    check.source = "pass"
    check.metadata.nbgrader.update(solution=True, locked=False)
    with pytest.raises(RuntimeError, match="Inconsistent checksums"):
        sanitize(nb, course_dir, with_restore=False)


def test_an_answer_cell_whose_type_changed_gets_its_type_back_and_keeps_the_students_source(course):
    course_dir, released = course
    nb = fresh(released)
    answer = by_grade_id(nb, "answer")[0]
    answer.cell_type = "markdown"
    answer.source = "answer = 42"
    del answer["outputs"], answer["execution_count"]
    graded = sanitize(nb, course_dir)
    answer = by_grade_id(graded, "answer")[0]
    assert (answer.cell_type, answer.source, answer.outputs) == ("code", "answer = 42", [])
    assert answer.metadata.nbgrader["solution"] is True


def test_a_written_answer_that_lost_its_solution_flag_gets_it_back_and_keeps_its_text(course):
    course_dir, released = course
    nb = fresh(released)
    why = by_grade_id(nb, "why")[0]
    why.source = "My reasons."
    why.metadata.nbgrader["solution"] = False  # a markdown grade cell that is no answer: invalid
    with pytest.raises(Exception):  # noqa: B017 (plain nbgrader fails; with which error is its own business)
        sanitize(copy.deepcopy(nb), course_dir, with_restore=False)
    graded = sanitize(nb, course_dir)
    why = by_grade_id(graded, "why")[0]
    assert (why.cell_type, why.source, why.metadata.nbgrader["solution"]) == ("markdown", "My reasons.", True)


@pytest.mark.parametrize("damage", [
    lambda m: m.update(points="2"),
    lambda m: m.pop("schema_version"),
    lambda m: m.update(schema_version=99),
    lambda m: m.update(grade="yes"),
    lambda m: m.update(extra_key=1),
])
def test_invalid_nbgrader_metadata_on_a_known_cell_is_replaced_by_the_released(course, damage):
    course_dir, released = course
    nb = fresh(released)
    damage(by_grade_id(nb, "check")[0].metadata.nbgrader)
    with pytest.raises(Exception):  # noqa: B017 (plain nbgrader fails; with which error is its own business)
        sanitize(copy.deepcopy(nb), course_dir, with_restore=False)
    graded = sanitize(nb, course_dir)
    assert shape(graded) == shape(released)
    check = by_grade_id(graded, "check")[0].metadata.nbgrader
    assert (check["points"], check["schema_version"], check["grade"]) == (2, 3, True)


def test_metadata_that_is_not_a_dictionary_is_dropped(course):
    course_dir, released = course
    nb = fresh(released)
    nb.cells.insert(2, nbformat.v4.new_code_cell("z = 3"))
    nb.cells[2].metadata["nbgrader"] = ["not", "a", "dict"]
    graded = sanitize(nb, course_dir)
    assert shape(graded)[2] == ("code", None, "z = 3") and "nbgrader" not in graded.cells[2].metadata


def test_each_repair_is_logged(course, caplog):
    course_dir, released = course
    nb = fresh(released)
    by_grade_id(nb, "check")[0].metadata.nbgrader["grade_id"] = "mine"
    nb.cells.insert(2, copy.deepcopy(by_grade_id(nb, "answer")[0]))
    restore = RestoreTamperedCells()
    with caplog.at_level("WARNING", logger=restore.log.name):
        restore.preprocess(nb, resources(course_dir))
    text = caplog.text
    assert "'mine', which is not in the release" in text
    assert "repeats grade_id 'answer'" in text
    assert "has the id" in text


# --- end to end: release 00 and 06, grade five students ------------------------------------

E2E_NOTEBOOKS = ("00_welcome", "01_spatial_arithmetic", "06_dropout")
E2E_ASSIGNMENT = "ps06"
SOLVED_LAYERS = (ROOT / "cs231n_lib" / "layers.py").read_text(encoding="utf-8")
# 06's checks: 06-conventions-check 1, 06-forward-check 2, 06-backward-check 2; 00 has none.
EXPECTED = {
    "renamed_check": 5,     # 06-forward-check renamed "mine" and emptied: removed, released one restored: 1 + 2 + 2
    "copied_answer": 5,     # the answer cell pasted twice, copy wrong: the first is graded, 1 + 2 + 2
    "check_to_answer": 5,   # 06-forward-check made an answer holding `pass`: replaced by the released, 1 + 2 + 2
    "kills_in_06": 3,       # a cell after the forward check calls os._exit(1): 1 + 2 + 0 (backward not run)
    "kills_in_01": 5,       # 01 kills its kernel (its answers blank: 0 points); 06 is still graded: 1 + 2 + 2
    "kills_in_00": 5,       # 00 would kill its kernel, but has no graded cell, so is not run: 1 + 2 + 2 in 06
}


def instructor_answer(grade_id):
    nb = nbformat.read(ROOT / "notebooks" / "06_dropout.ipynb", as_version=4)
    return by_grade_id(nb, grade_id)[0].source


def write_e2e_submissions(release, submissions):
    def make(name, edit06=None, edit00=None, edit01=None):
        folder = submissions / name
        shutil.copytree(release, folder)
        (folder / "cs231n_lib" / "layers.py").write_text(SOLVED_LAYERS, encoding="utf-8")
        for notebook, edit in zip(E2E_NOTEBOOKS, (edit00, edit01, edit06), strict=True):
            path = folder / f"{notebook}.ipynb"
            nb = nbformat.read(path, as_version=4)
            if notebook == "06_dropout":
                by_grade_id(nb, "06-conventions-answer")[0].source = instructor_answer("06-conventions-answer")
            if edit:
                edit(nb)
            # As JSON, not nbformat.write, which would repair a duplicated cell id.
            path.write_text(json.dumps(nb, indent=1), encoding="utf-8")

    def rename(nb):
        check = by_grade_id(nb, "06-forward-check")[0]
        check.metadata.nbgrader["grade_id"] = "mine"
        check.source = "pass"

    def copy_answer(nb):
        answer = by_grade_id(nb, "06-conventions-answer")[0]
        wrong = copy.deepcopy(answer)
        wrong.source = "raise ValueError('a pasted copy, not graded')"
        nb.cells.insert(nb.cells.index(answer) + 1, wrong)

    def check_to_answer(nb):
        check = by_grade_id(nb, "06-forward-check")[0]
        check.metadata.nbgrader.update(solution=True, locked=False)
        check.source = "pass"

    def kill_after(grade_id, code):
        def edit(nb):
            where = nb.cells.index(by_grade_id(nb, grade_id)[0]) + 1
            nb.cells.insert(where, nbformat.v4.new_code_cell(code))
        return edit

    make("renamed_check", rename)
    make("copied_answer", copy_answer)
    make("check_to_answer", check_to_answer)
    make("kills_in_06", kill_after("06-forward-check", "import os\nos._exit(1)"))
    make("kills_in_00", edit00=kill_after("00-setup", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)"))
    make("kills_in_01", edit01=kill_after("01-setup", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)"))


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    work = tmp_path_factory.mktemp("restore-grading")

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "cs231n_course", *args], cwd=work, capture_output=True,
                              text=True, timeout=600)

    released = cli("release", "--notebooks", *E2E_NOTEBOOKS, "--assignment", E2E_ASSIGNMENT)
    assert released.returncode == 0, released.stdout + released.stderr
    write_e2e_submissions(work / "release" / E2E_ASSIGNMENT, work / "submissions")
    result = cli("grade", "submissions", "--timeout", "10")
    with open(work / "grading" / f"grades-{E2E_ASSIGNMENT}.csv", newline="", encoding="utf-8") as f:
        rows = {row["student"]: row for row in csv.DictReader(f)}
    return {"work": work, "result": result, "rows": rows}


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_tampered_and_crashing_submissions_get_exactly_their_points(graded, student):
    row = graded["rows"][student]
    killed = {"kills_in_06": "06_dropout", "kills_in_01": "01_spatial_arithmetic"}.get(student)
    status = f"ok, kernel died in {killed}" if killed else "ok"
    assert row["status"] == status, f"{student}: {row}\n{graded['result'].stdout}"
    assert float(row["06_dropout_auto"]) == EXPECTED[student], row
    assert not [column for column in row if column.startswith("00_welcome")], row  # 00 has no points
    assert float(row["auto_total"]) == EXPECTED[student], row
    assert graded["result"].returncode == 0, graded["result"].stdout + graded["result"].stderr


def test_the_cell_that_killed_the_kernel_says_so_in_the_feedback(graded):
    feedback = graded["work"] / "grading" / "feedback" / "kills_in_06" / E2E_ASSIGNMENT / "06_dropout.html"
    page = feedback.read_text(encoding="utf-8")
    assert "the kernel died while running this cell (exit code 1)" in page
    assert "not run: the kernel died in an earlier cell" in page
