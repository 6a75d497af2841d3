"""The Gradescope autograder: the zip `cs231n-course gradescope` writes, and run_autograder in an emulated /autograder.

Notebook 06 is released alone (as in test_course_grading.py), the zip is built with the
command line, unpacked into ``<root>/source`` as Gradescope does, and ``run_autograder``
grades three submissions, each in a fresh emulated tree (``CS231N_AUTOGRADER_ROOT``):
the right answers, the release as handed out, and a hostile one that prints the source of
every later cell (so the hidden tests) into the check cells' outputs. Expected points and
visibilities come from the instructor notebook's own metadata, not from the grader.
"""

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import grading_attacks as attacks
import nbformat
import pytest
from test_course_grading import (
    SOLVED_LAYERS,
    cell_by_id,
    edit_cells,
    instructor_cell,
    solve_notebook,
)

from cs231n_course.grade import StudentResult
from cs231n_course.gradescope import results_json
from cs231n_course.preprocessors import hidden_test_lines
from cs231n_course.solutions import solution_regions

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = "06_dropout"
ASSIGNMENT = "ps06"
CELL_TIMEOUT = 10
VISIBILITIES = {"hidden", "after_due_date", "after_published", "visible"}
WRITTEN = ("06-inline-q1-answer", "06-inline-q2-answer", "06-inline-q3-answer")


def instructor_graded_cells():
    """{grade_id: (points, is written answer, has hidden tests)} from the instructor notebook, in order."""
    nb = nbformat.read(ROOT / "notebooks" / f"{NOTEBOOK}.ipynb", as_version=4)
    cells = {}
    for cell in nb.cells:
        info = cell.metadata.get("nbgrader", {})
        if info.get("grade"):
            cells[info["grade_id"]] = (float(info["points"]), bool(info.get("solution")),
                                       bool(hidden_test_lines(cell.source)))
    return cells


def run_cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "cs231n_course", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=600)


def write_submission(release, folder, kind):
    shutil.copytree(release, folder)
    if kind == "blank":
        return

    def answers(nb):
        solve_notebook(nb)
        for grade_id in WRITTEN:
            cell_by_id(nb, grade_id).source = instructor_cell(grade_id).source

    (folder / "cs231n_lib" / "layers.py").write_text(SOLVED_LAYERS, encoding="utf-8")
    edit_cells(folder, answers)
    if kind == "hostile":
        def make(name, layers, edit):  # grading_attacks' maker, on this one folder
            (folder / "cs231n_lib" / "layers.py").write_text(layers, encoding="utf-8")
            edit_cells(folder, edit)
            return folder
        assert attacks.make_hidden_printer(make, answers, SOLVED_LAYERS) == 5


def emulated_root(base, archive, submission):
    """An /autograder tree: source/ (the zip unpacked), run_autograder copied, submission/."""
    root = base / "autograder"
    with zipfile.ZipFile(archive) as zf:
        zf.extractall(root / "source")
    for name in ("run_autograder", "setup.sh"):  # zipfile does not restore modes
        (root / "source" / name).chmod(0o755)
    shutil.copyfile(root / "source" / "run_autograder", root / "run_autograder")
    (root / "run_autograder").chmod(0o755)
    shutil.copytree(submission, root / "submission")
    return root


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    work = tmp_path_factory.mktemp("gradescope")
    released = run_cli("release", "--notebooks", NOTEBOOK, "--assignment", ASSIGNMENT, cwd=work)
    assert released.returncode == 0, released.stdout + released.stderr
    made = run_cli("gradescope", "--output", "out/autograder.zip", "--timeout", str(CELL_TIMEOUT), cwd=work)
    assert made.returncode == 0, made.stdout + made.stderr
    return {"work": work, "zip": work / "out" / "autograder.zip", "stdout": made.stdout}


@pytest.fixture(scope="module")
def graded(built):
    results = {}
    for kind in ("correct", "blank", "hostile"):
        base = built["work"] / kind
        write_submission(built["work"] / "release" / ASSIGNMENT, base / "submission", kind)
        root = emulated_root(base, built["zip"], base / "submission")
        env = dict(os.environ, CS231N_AUTOGRADER_ROOT=str(root), CS231N_GRADER_PYTHON=sys.executable)
        done = subprocess.run([str(root / "run_autograder")], cwd=root, env=env, capture_output=True, text=True,
                              timeout=600)
        path = root / "results" / "results.json"
        assert done.returncode == 0 and path.is_file(), f"{kind}: {done.returncode}\n{done.stdout}\n{done.stderr}"
        results[kind] = {"json": json.loads(path.read_text(encoding="utf-8")), "log": done.stdout + done.stderr,
                         "root": root}
    return results


def check_results_schema(results):
    """Gradescope's results.json fields: types, allowed values, scores within maxima and summed."""
    assert isinstance(results, dict) and isinstance(results.get("tests"), list), results
    assert isinstance(results["score"], (int, float)), results["score"]
    assert isinstance(results["execution_time"], int) and results["execution_time"] >= 0, results
    assert isinstance(results["output"], str) and results["output"], results
    assert results["stdout_visibility"] in VISIBILITIES, results["stdout_visibility"]
    assert set(results) <= {"score", "execution_time", "output", "visibility", "stdout_visibility", "extra_data",
                            "tests", "output_format", "leaderboard"}, sorted(results)
    for test in results["tests"]:
        assert {"name", "score", "max_score", "output", "visibility"} <= set(test), test
        assert set(test) <= {"score", "max_score", "status", "name", "name_format", "number", "output",
                             "output_format", "tags", "visibility", "extra_data"}, sorted(test)
        assert isinstance(test["name"], str) and isinstance(test["output"], str), test
        assert isinstance(test["score"], (int, float)) and isinstance(test["max_score"], (int, float)), test
        assert 0 <= test["score"] <= test["max_score"], f"{test['name']}: {test['score']} of {test['max_score']}"
        assert test["visibility"] in VISIBILITIES, test
        assert test.get("status", "passed") in ("passed", "failed"), test
    total = sum(test["score"] for test in results["tests"])
    assert results["score"] == pytest.approx(total), f"score {results['score']} != sum of tests {total}"


def test_the_zip_holds_setup_run_autograder_the_wheel_and_the_hidden_data(built):
    with zipfile.ZipFile(built["zip"]) as zf:
        names = set(zf.namelist())
        modes = {info.filename: info.external_attr >> 16 for info in zf.infolist()}
        setup = zf.read("setup.sh").decode()
        run = zf.read("run_autograder").decode()
        settings = json.loads(zf.read("gradescope.json"))
    wheels = [name for name in names if name.startswith("wheels/") and name.endswith(".whl")]
    assert len(wheels) == 1, wheels
    for script in ("setup.sh", "run_autograder"):
        assert modes[script] & stat.S_IXUSR, f"{script} is not executable: {oct(modes[script])}"
    assert f"$SOURCE/{wheels[0]}" in setup and "bubblewrap" in setup, setup
    assert "git clone" not in setup + run and "git+" not in setup + run
    assert run.startswith("#!") and setup.startswith("#!")
    assert {"course/gradebook.db", f"course/cs231n-release-{ASSIGNMENT}.json",
            f"course/release/{ASSIGNMENT}/{NOTEBOOK}.ipynb", f"course/source/{ASSIGNMENT}/{NOTEBOOK}.ipynb"} <= names
    # Never a student's grade or feedback, nor a graded copy.
    assert not [n for n in names if n.split("/")[1:2] in (["autograded"], ["submitted"], ["feedback"], ["logs"])]
    assert settings["assignment"] == ASSIGNMENT and settings["cell_timeout"] == CELL_TIMEOUT, settings
    # 06: checks worth 1 + 2 + 2, three written answers worth 1 each.
    assert (settings["auto_points"], settings["manual_points"]) == (5, 3), settings
    assert "autograder points 5; written answers, graded by hand: 3 point(s)" in built["stdout"], built["stdout"]
    assert built["zip"].stat().st_size < 5 * 2**20, f"{built['zip'].stat().st_size} bytes"


def test_the_wheel_holds_the_released_library_without_solutions(built):
    solved = (ROOT / "cs231n_lib" / "layers.py").read_text(encoding="utf-8")
    regions = solution_regions(solved, "layers.py")
    assert len(regions) >= 2, "layers.py has no solution regions: this test would prove nothing"
    with zipfile.ZipFile(built["zip"]) as zf:
        wheel = next(n for n in zf.namelist() if n.endswith(".whl"))
        (built["work"] / "wheel.whl").write_bytes(zf.read(wheel))
    with zipfile.ZipFile(built["work"] / "wheel.whl") as wz:
        layers = wz.read("cs231n_lib/layers.py").decode()
        assert any(n.startswith("cs231n_course/") for n in wz.namelist())
    flat = re.sub(r"\s+", "", layers)
    for region in regions:
        assert re.sub(r"\s+", "", region) not in flat, f"solution text in the wheel: {region[:80]!r}"
    assert "raise NotImplementedError" in layers


@pytest.mark.parametrize("kind", ["correct", "blank", "hostile"])
def test_results_json_follows_the_specification(graded, kind):
    check_results_schema(graded[kind]["json"])


@pytest.mark.parametrize("kind, expected", [("correct", 5), ("blank", 0), ("hostile", 5)])
def test_one_test_per_graded_cell_with_its_points(graded, kind, expected):
    cells = instructor_graded_cells()
    assert len(cells) == 6 and sum(p for p, written, _ in cells.values() if not written) == 5, cells
    tests = graded[kind]["json"]["tests"]
    assert [t["name"] for t in tests] == [f"{NOTEBOOK}: {grade_id}" for grade_id in cells], tests
    for test, (grade_id, (points, written, hidden)) in zip(tests, cells.items()):
        if written:  # graded by hand on Gradescope: not in the autograder's points
            assert (test["score"], test["max_score"]) == (0, 0), test
            assert f"{points:g} point(s), graded by hand" in test["output"], test
            continue
        assert test["max_score"] == points, f"{grade_id}: {test['max_score']} != {points}"
        want = points if kind != "blank" else 0
        assert test["score"] == want, f"{kind} {grade_id}: {test['score']} != {want}\n{test['output']}"
        assert test["status"] == ("passed" if want == points else "failed"), test
        assert test["visibility"] == ("after_published" if hidden else "visible"), test
    assert graded[kind]["json"]["score"] == expected, graded[kind]["log"][-3000:]


def test_no_output_shows_a_hidden_test_line(graded):
    nb = nbformat.read(ROOT / "notebooks" / f"{NOTEBOOK}.ipynb", as_version=4)
    hidden = [line for cell in nb.cells for line in hidden_test_lines(cell.source) if len(line) >= 8]
    assert hidden, "notebook 06 has no hidden tests: this test would prove nothing"
    outputs = "\n".join(t["output"] for t in graded["hostile"]["json"]["tests"])
    assert "CALLER CELL:" in outputs, "the hostile submission printed no cell: this test would prove nothing"
    for kind, result in graded.items():
        text = re.sub(r"\s+", "", json.dumps(result["json"]) + "\n".join(t["output"] for t in result["json"]["tests"]))
        for line in hidden:
            assert re.sub(r"\s+", "", line) not in text, f"{kind}: results.json shows hidden line {line!r}"


def test_a_blank_check_says_why_it_failed(graded):
    backward = next(t for t in graded["blank"]["json"]["tests"] if t["name"].endswith("06-backward-check"))
    assert "NotImplementedError" in backward["output"], backward


def test_results_say_whether_the_sandbox_ran(graded):
    from cs231n_course.gradescope import sandbox_mode

    mode, why = sandbox_mode()
    output = graded["correct"]["json"]["output"]
    assert ("ran in the grader's sandbox" in output) == (mode == "yes"), (mode, why, output)
    fallback = results_json(StudentResult("submission"), [], "no", "bwrap cannot make namespaces here", 3.2)
    assert "WITHOUT the grader's sandbox" in fallback["output"] and "bwrap cannot" in fallback["output"], fallback



def test_without_a_release_the_command_says_what_to_run(tmp_path):
    done = run_cli("gradescope", cwd=tmp_path)
    assert done.returncode == 2 and "cs231n-course release" in done.stderr, done.stderr
    assert not (tmp_path / "autograder.zip").exists()


def test_without_the_sandbox_nothing_runs_unless_the_zip_allows_it(graded, tmp_path, monkeypatch):
    import cs231n_course.grade
    from cs231n_course import gradescope

    root = tmp_path / "autograder"
    shutil.copytree(graded["correct"]["root"], root, symlinks=True)
    monkeypatch.setattr(gradescope, "sandbox_mode", lambda: ("no", "bwrap cannot make namespaces here"))

    def must_not_grade(*args, **kwargs):
        raise AssertionError("student code ran without the sandbox")

    monkeypatch.setattr(cs231n_course.grade, "grade_submissions", must_not_grade)
    results = gradescope.run_autograder(root, log=lambda *args: None)
    check_results_schema(results)
    assert results["score"] == 0 and results["tests"] == []
    assert "did not run your code" in results["output"]
    assert json.loads((root / "results" / "results.json").read_text(encoding="utf-8")) == results
    settings = json.loads((root / "source" / gradescope.SETTINGS_FILE).read_text(encoding="utf-8"))
    assert settings["allow_unsandboxed"] is False  # the zip's default
