"""Tests for cs231n_course.release and cs231n_course.leaks.

Oracles: the instructor's own files (the solution texts of cs231n_lib/layers.py
and of notebook 06 must be absent from the release, the rest present); a fresh
interpreter started inside the release folder, so that what it imports is the
students' library; the zip unpacked here and compared file by file with the
folder; for the leak finder, files written here that hold a secret verbatim,
re-indented, inside a zip or JSON-escaped in a notebook.

The real release of notebook 06 runs once for the module (about 3 s).
"""

import ast
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
import yaml
from packaging.requirements import Requirement
from traitlets.config import Config

from cs231n_course.leaks import (
    Secret,
    find_leaks,
    normalize,
    secrets_of_library,
    secrets_of_notebooks,
)
from cs231n_course.preprocessors import StrictClearSolutions
from cs231n_course.release import (
    RELEASE_INFO,
    ReleaseError,
    read_release_info,
    release_course,
    select_notebooks,
)
from cs231n_course.solutions import solution_regions

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: tomli usually comes along with pytest; skip if it did not.
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
NOTEBOOK = "06_dropout"
ASSIGNMENT = "ps06"
INSTRUCTOR_LAYERS = (ROOT / "cs231n_lib" / "layers.py").read_text(encoding="utf-8")
HIDDEN_LINE = "check_dropout_forward(dropout_forward, p=0.6)"


def quiet(*args):
    pass


def read_files(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def cell_by_id(nb, grade_id):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def copy_library(destination):
    return Path(shutil.copytree(ROOT / "cs231n_lib", destination,
                                ignore=shutil.ignore_patterns("__pycache__", "*.pyc")))


def dropout_forward_region():
    return next(r for r in solution_regions(INSTRUCTOR_LAYERS) if "rng.random(x.shape)" in r)


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    work = tmp_path_factory.mktemp("release")
    release = release_course(work / "grading", work / "release", ASSIGNMENT, notebooks=[NOTEBOOK], log=quiet)
    return work, release


# --- the real release of notebook 06 -------------------------------------------------------


def test_release_reports_what_it_built(released):
    work, release = released
    assert release.assignment == ASSIGNMENT
    assert release.folder == work / "release" / ASSIGNMENT and release.folder.is_dir()
    assert release.archive == work / "release" / f"{ASSIGNMENT}.zip" and release.archive.is_file()
    assert release.notebooks == [NOTEBOOK]
    assert release.student_files == ["cs231n_lib/layers.py", "cs231n_lib/optim.py"]
    assert release.secrets_checked >= 10  # 12 library regions and notebook 06's answers, minus skipped ones
    assert sorted(p.name for p in release.folder.iterdir()) == sorted(
        [f"{NOTEBOOK}.ipynb", "cs231n_lib", "README.md", "requirements.txt", "environment.yml"])


def test_the_course_dir_is_private_and_records_the_release(released):
    work, _ = released
    course = work / "grading"
    assert stat.S_IMODE(course.stat().st_mode) == 0o700
    info = json.loads((course / RELEASE_INFO.format(assignment=ASSIGNMENT)).read_text(encoding="utf-8"))
    assert info["assignment"] == ASSIGNMENT
    assert info["notebooks"] == [NOTEBOOK]
    assert info["student_files"] == ["cs231n_lib/layers.py", "cs231n_lib/optim.py"]
    assert read_release_info(course) == info == read_release_info(course, ASSIGNMENT)


def test_the_nbgrader_config_written_for_nbgraders_own_tools_loads_the_course_rules(released):
    work, _ = released
    course = work / "grading"
    config = Config()
    exec(compile((course / "nbgrader_config.py").read_text(encoding="utf-8"), "nbgrader_config.py", "exec"),
         {"get_config": lambda: config, "__file__": str(course / "nbgrader_config.py")})
    assert config.CourseDirectory.root == str(course.resolve())
    assert config.Autograde.exclude_overwriting == {ASSIGNMENT: ["cs231n_lib/layers.py", "cs231n_lib/optim.py"]}
    assert StrictClearSolutions in config.GenerateAssignment.preprocessors


def test_the_released_library_imports_from_the_release_folder_with_exercises_left_open(released):
    _, release = released
    code = (
        "import numpy as np\n"
        "import cs231n_lib.layers as layers\n"
        "from cs231n_lib.shapes import conv_output_size\n"
        "print(layers.__file__)\n"
        "print(conv_output_size(32, 5, stride=1, pad=2))\n"
        "x = np.arange(6.0).reshape(2, 3)\n"
        "print(layers.dropout_forward(x, {'p': 0.5, 'mode': 'test'})[0].tolist())\n"
        "try:\n"
        "    layers.dropout_forward(x, {'p': 0.5, 'mode': 'train', 'seed': 0})\n"
        "except NotImplementedError:\n"
        "    print('NotImplementedError')\n"
        "else:\n"
        "    print('implemented')\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    # -B: write no __pycache__ into the release (the zip comparison below reads it).
    result = subprocess.run([sys.executable, "-B", "-c", code], cwd=release.folder, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert Path(lines[0]).resolve() == (release.folder / "cs231n_lib" / "layers.py").resolve()
    assert lines[1:] == ["32", "[[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]", "NotImplementedError"]


def test_the_released_library_holds_no_solution_region(released):
    _, release = released
    layers = (release.folder / "cs231n_lib" / "layers.py").read_text(encoding="utf-8")
    assert "keep = rng.random(x.shape) >= p" in INSTRUCTOR_LAYERS
    assert "keep = rng.random(x.shape) >= p" not in layers
    assert "def dropout_forward(x, dropout_param):" in layers
    assert layers.count("raise NotImplementedError()") == len(solution_regions(INSTRUCTOR_LAYERS)) == 11
    for path in (release.folder / "cs231n_lib").rglob("*.py"):
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
        assert "### BEGIN SOLUTION" not in lines, path


def test_the_released_notebook_has_stubs_and_no_hidden_tests(released):
    _, release = released
    path = release.folder / f"{NOTEBOOK}.ipynb"
    nb = nbformat.read(path, as_version=4)
    lines = [line.strip() for cell in nb.cells for line in cell.source.splitlines()]
    assert "### BEGIN HIDDEN TESTS" not in lines and "### BEGIN SOLUTION" not in lines
    assert HIDDEN_LINE not in path.read_text(encoding="utf-8")
    assert "check_dropout_forward(dropout_forward, p=0.3)" in cell_by_id(nb, "06-forward-check").source

    answer = cell_by_id(nb, "06-conventions-answer").source
    assert "raise NotImplementedError()" in answer
    assert "p_library = None" in answer  # the part outside the region stays
    assert "p_library = 0.2" not in answer
    for number, grade_id in enumerate(("06-inline-q1-answer", "06-inline-q2-answer", "06-inline-q3-answer"), 1):
        assert cell_by_id(nb, grade_id).source == f"**Your answer to Inline question {number}:**\n\nYOUR ANSWER HERE"


def test_the_instructor_notebook_does_have_what_the_release_lacks():
    nb = nbformat.read(NOTEBOOKS / f"{NOTEBOOK}.ipynb", as_version=4)
    assert HIDDEN_LINE in cell_by_id(nb, "06-forward-check").source
    assert "p_library = 0.2" in cell_by_id(nb, "06-conventions-answer").source


def test_the_zip_unpacks_to_the_same_files_as_the_folder(released, tmp_path):
    _, release = released
    with zipfile.ZipFile(release.archive) as zf:
        names = zf.namelist()
        zf.extractall(tmp_path)
    assert all(name.startswith(f"{ASSIGNMENT}/") for name in names)
    assert sorted(p.name for p in tmp_path.iterdir()) == [ASSIGNMENT]
    folder = read_files(release.folder)
    assert read_files(tmp_path / ASSIGNMENT) == folder
    assert "cs231n_lib/layers.py" in folder and f"{NOTEBOOK}.ipynb" in folder
    assert not any("__pycache__" in name or name.endswith(".pyc") for name in folder)


# --- releases that must fail ---------------------------------------------------------------


@pytest.fixture(scope="module")
def leaky(tmp_path_factory):
    """A release from a copy of the library with two extra files, neither of them Python.

    notes.txt: the text of dropout_forward's solution region (a leak the check must catch);
    hints.md: a solution region of its own, markers and all.
    """
    work = tmp_path_factory.mktemp("leaky")
    library = copy_library(work / "lib" / "cs231n_lib")
    (library / "notes.txt").write_text("Reminder for myself:\n" + dropout_forward_region() + "\n", encoding="utf-8")
    (library / "hints.md").write_text(
        "# Hints\n\n### BEGIN SOLUTION\nThe mask is (rng.random(x.shape) >= p) / (1 - p) * 31337.\n"
        "### END SOLUTION\n", encoding="utf-8")
    with pytest.raises(ReleaseError) as info:
        release_course(work / "grading", work / "release", ASSIGNMENT, notebooks=[NOTEBOOK], library=library,
                       log=quiet)
    return work, str(info.value)


def test_a_solution_in_a_non_python_library_file_is_caught_and_the_release_removed(leaky):
    work, message = leaky
    assert message.startswith("solution text found in the release (release removed):")
    leak_lines = [line for line in message.splitlines()[1:] if "notes.txt" in line]
    assert leak_lines and all("layers.py region" in line for line in leak_lines)
    assert any(f"{ASSIGNMENT}.zip:{ASSIGNMENT}/cs231n_lib/notes.txt" in line for line in leak_lines)
    assert any(str(work / "release" / ASSIGNMENT / "cs231n_lib" / "notes.txt") in line for line in leak_lines)
    assert not (work / "release" / ASSIGNMENT).exists()
    assert not (work / "release" / f"{ASSIGNMENT}.zip").exists()
    assert not (work / "grading" / RELEASE_INFO.format(assignment=ASSIGNMENT)).exists()


def test_a_solution_region_in_a_non_python_library_file_is_stripped_or_reported(leaky):
    work, message = leaky
    shipped = work / "grading" / "source" / ASSIGNMENT / "cs231n_lib" / "hints.md"
    assert "hints.md" in message or "31337" not in shipped.read_text(encoding="utf-8"), message


def test_an_unknown_notebook_name_lists_the_available_ones(tmp_path):
    with pytest.raises(ReleaseError) as info:
        release_course(tmp_path / "grading", tmp_path / "release", ASSIGNMENT, notebooks=[NOTEBOOK, "99_nope"],
                       log=quiet)
    message = str(info.value)
    assert message.startswith(f"no notebook named 99_nope in {NOTEBOOKS}; there are: 00_welcome, ")
    for path in NOTEBOOKS.glob("*.ipynb"):
        assert path.stem in message
    assert not (tmp_path / "grading").exists() and not (tmp_path / "release").exists()


def test_select_notebooks_takes_stems_or_file_names_in_the_given_order():
    chosen = select_notebooks(NOTEBOOKS, ["06_dropout.ipynb", "01_spatial_arithmetic"])
    assert chosen == [NOTEBOOKS / "06_dropout.ipynb", NOTEBOOKS / "01_spatial_arithmetic.ipynb"]
    assert select_notebooks(NOTEBOOKS) == sorted(NOTEBOOKS.glob("*.ipynb"))


def test_a_missing_notebooks_folder_says_what_to_pass(tmp_path):
    with pytest.raises(ReleaseError, match=r"no notebooks folder at .*nowhere: pass --notebooks-dir"):
        select_notebooks(tmp_path / "nowhere", [NOTEBOOK])


def test_read_release_info_without_a_release_says_to_run_release_first(tmp_path):
    with pytest.raises(ReleaseError) as info:
        read_release_info(tmp_path)
    assert str(info.value).startswith(f"{tmp_path} holds no release")
    assert str(info.value).endswith(f"run `cs231n-course release --course-dir {tmp_path}` first")
    with pytest.raises(ReleaseError, match=f"holds no release of {ASSIGNMENT}: run"):
        read_release_info(tmp_path, ASSIGNMENT)


def test_read_release_info_asks_which_when_several_were_released(tmp_path):
    for name in ("ps07", "ps06"):
        (tmp_path / RELEASE_INFO.format(assignment=name)).write_text(json.dumps({"assignment": name}))
    with pytest.raises(ReleaseError, match=r"holds several releases \(ps06, ps07\): pass --assignment"):
        read_release_info(tmp_path)
    assert read_release_info(tmp_path, "ps07") == {"assignment": "ps07"}


# --- leaks ---------------------------------------------------------------------------------


SECRET = Secret("layers.py region 5", "    keep = rng.random(x.shape) >= p\n\n    out = x * keep / (1 - p)\n")


def test_normalize_strips_every_line_and_drops_blank_ones():
    assert normalize("  a = 1  \n\n\t\n\tb = 2\r\n   c\n") == "a = 1\nb = 2\nc"
    assert normalize("   \n\n") == ""


def test_find_leaks_finds_a_secret_verbatim_reindented_in_a_notebook_and_in_a_zip(tmp_path):
    folder = tmp_path / "release"
    folder.mkdir()
    (folder / "verbatim.py").write_text("def f():\n" + SECRET.text + "    return out\n")
    (folder / "reindented.py").write_text("if True:\n        keep = rng.random(x.shape) >= p\n"
                                          "        out = x * keep / (1 - p)\n")
    (folder / "half.py").write_text("keep = rng.random(x.shape) >= p\nout = x * keep\n")  # not the secret
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        'print("hi")\nkeep = rng.random(x.shape) >= p\nout = x * keep / (1 - p)')])
    (folder / "nb.ipynb").write_text(nbformat.writes(nb))
    archive = tmp_path / "release.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("release/deep/inside.py", "    " + SECRET.text.replace("\n", "\n      "))
        zf.writestr("release/clean.py", "x = 1\n")
    leaks, skipped = find_leaks([SECRET], ["def f():\n    return 1\n"], [folder, archive])
    assert skipped == []
    assert sorted(leaks) == sorted(
        [f"  layers.py region 5 appears in {folder / name}" for name in ("verbatim.py", "reindented.py", "nb.ipynb")]
        + ["  layers.py region 5 appears in release.zip:release/deep/inside.py"])


def test_find_leaks_reads_secrets_json_escaped_in_a_notebook(tmp_path):
    secret = Secret("06_dropout.ipynb cell 12", 'message = "keep\\tthis"\nprint(message)')
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(secret.text)])
    (tmp_path / "nb.ipynb").write_text(nbformat.writes(nb))
    assert '"keep\\\\tthis\\"' in (tmp_path / "nb.ipynb").read_text()  # escaped twice in the raw JSON
    leaks, _ = find_leaks([secret], [], [tmp_path])
    assert leaks == [f"  06_dropout.ipynb cell 12 appears in {tmp_path / 'nb.ipynb'}"]


def test_find_leaks_skips_a_secret_that_is_also_public_text(tmp_path):
    (tmp_path / "layers.py").write_text("def f():\n    dx = dout * mask\n")
    public = ['"""Backward pass: dx = dout * mask (the docstring gives it away)."""',
              "def f():\n    pass\n"]
    secrets = [Secret("layers.py region 6", "    dx = dout * mask"), Secret("layers.py region 7", "   \n\n")]
    leaks, skipped = find_leaks(secrets, public, [tmp_path])
    assert leaks == []
    assert skipped == ["layers.py region 6", "layers.py region 7"]


def test_find_leaks_of_a_clean_release_is_empty(tmp_path):
    (tmp_path / "layers.py").write_text("def f():\n    # YOUR CODE HERE\n    raise NotImplementedError()\n")
    assert find_leaks([SECRET], [], [tmp_path]) == ([], [])


def test_secrets_of_notebooks_takes_regions_and_whole_answer_cells(tmp_path):
    meta = {"nbgrader": {"solution": True, "grade": False, "locked": False, "grade_id": "a", "schema_version": 3}}
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("Intro: write between ### BEGIN SOLUTION and ### END SOLUTION."),
        nbformat.v4.new_code_cell("p = None\n### BEGIN SOLUTION\np = 0.2\nq = 3\n### END SOLUTION\ncheck(p)",
                                  metadata=meta),
        nbformat.v4.new_markdown_cell("Because the mask is rescaled by 1 / (1 - p).", metadata=meta),
        nbformat.v4.new_code_cell("def answer():\n    return 42", metadata=meta),
        nbformat.v4.new_code_cell("print('public')"),
    ])
    path = tmp_path / "07_quiz.ipynb"
    nbformat.write(nb, path)
    secrets, public = secrets_of_notebooks([path])
    assert secrets == [
        Secret("07_quiz.ipynb cell 1", "p = 0.2\nq = 3"),
        Secret("07_quiz.ipynb cell 2", "Because the mask is rescaled by 1 / (1 - p)."),
        Secret("07_quiz.ipynb cell 3", "def answer():\n    return 42"),
    ]
    assert public == ["Intro: write between ### BEGIN SOLUTION and ### END SOLUTION.",
                      "p = None\ncheck(p)", "print('public')"]


def test_secrets_of_library_takes_every_region_and_the_stripped_files_as_public(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.py").write_text("def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION\n")
    (tmp_path / "sub" / "b.py").write_text("X = 2\n")
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "c.py").write_text("### BEGIN SOLUTION\nstale\n### END SOLUTION\n")
    secrets, public = secrets_of_library(tmp_path)
    assert secrets == [Secret("a.py region 1", "    return 1")]
    assert public == ["def f():\n    # YOUR CODE HERE\n    raise NotImplementedError()\n", "X = 2\n"]


def test_a_release_never_replaces_a_release_folder_someone_edited(tmp_path):
    release_course(tmp_path / "grading", tmp_path / "release", ASSIGNMENT, notebooks=[NOTEBOOK], log=quiet)
    layers = tmp_path / "release" / ASSIGNMENT / "cs231n_lib" / "layers.py"
    release_course(tmp_path / "grading", tmp_path / "release", ASSIGNMENT, notebooks=[NOTEBOOK], log=quiet)
    layers.write_text(layers.read_text(encoding="utf-8") + "# my work\n", encoding="utf-8")
    with pytest.raises(ReleaseError) as info:
        release_course(tmp_path / "grading", tmp_path / "release", ASSIGNMENT, notebooks=[NOTEBOOK], log=quiet)
    assert "cs231n_lib/layers.py" in str(info.value) and "Move" in str(info.value)
    assert layers.read_text(encoding="utf-8").endswith("# my work\n")


# --- the whole course's zip: an allow-list ----------------------------------------------------


@pytest.fixture(scope="module")
def course_release(tmp_path_factory):
    work = tmp_path_factory.mktemp("course")
    return release_course(work / "grading", work / "release", "cs231n", log=quiet)


def test_the_course_zip_holds_exactly_the_notebooks_the_library_and_the_student_files(course_release):
    release = course_release
    with zipfile.ZipFile(release.archive) as zf:
        names = zf.namelist()
    assert release.archive.name == "cs231n.zip"
    assert {name.split("/")[0] for name in names} == {"cs231n"}
    top_level = sorted({name.split("/")[1] for name in names})
    notebooks = sorted(path.name for path in NOTEBOOKS.glob("*.ipynb"))
    assert len(notebooks) >= 9
    assert top_level == sorted([*notebooks, "cs231n_lib", "README.md", "requirements.txt", "environment.yml"])
    library = sorted(path.relative_to(ROOT).as_posix() for path in (ROOT / "cs231n_lib").rglob("*.py")
                     if "__pycache__" not in path.parts)
    shipped = sorted(name.split("/", 1)[1] for name in names if name.split("/")[1] == "cs231n_lib")
    assert shipped == library


def test_no_instructor_module_is_in_the_course_zip(course_release):
    release = course_release
    instructor_modules = sorted(path.stem for path in (ROOT / "cs231n_course").glob("*.py")
                                if path.stem not in ("__init__", "__main__"))
    assert "grade" in instructor_modules and "sandbox" in instructor_modules
    with zipfile.ZipFile(release.archive) as zf:
        for name in zf.namelist():
            assert "cs231n_course" not in name, name
            assert Path(name).stem not in instructor_modules, name
            text = zf.read(name).decode("utf-8")
            assert "cs231n_course" not in text, f"{name} names the instructor package"


# --- what a student who gets only the zip reads first -------------------------------------------


def pyproject_project():
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]


def requirement_key(line):
    req = Requirement(line)
    return re.sub(r"[-_.]+", "-", req.name).lower(), req.specifier, str(req.marker or "")


def instructor_exercises():
    """{function: 'cs231n_lib/<file>.py'} of every instructor library function holding a solution region."""
    found = {}
    for path in sorted((ROOT / "cs231n_lib").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        for node in ast.parse(text).body:
            if isinstance(node, ast.FunctionDef) and "### BEGIN SOLUTION" in ast.get_source_segment(text, node):
                found[node.name] = f"cs231n_lib/{path.name}"
    return found


def readme_rows(readme):
    """{notebook file name: its cell in the README's table}."""
    return dict(re.findall(r"^\| `([^`]+\.ipynb)` \| (.*) \|$", readme, re.MULTILINE))


def test_the_release_requirements_are_exactly_the_runtime_dependencies_of_pyproject(course_release):
    text = (course_release.folder / "requirements.txt").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    wanted = pyproject_project()["dependencies"]
    assert len(wanted) >= 10 and any(line.startswith("nbgrader") for line in wanted)
    assert [requirement_key(line) for line in lines] == [requirement_key(line) for line in wanted], (
        f"requirements.txt lists {len(lines)} packages, pyproject.toml's dependencies {len(wanted)}")
    test_extra = {requirement_key(line)[0] for line in pyproject_project()["optional-dependencies"]["test"]}
    assert "pytest" in test_extra and not test_extra & {requirement_key(line)[0] for line in lines}
    assert f"# Python {pyproject_project()['requires-python']}." in text


def test_the_conda_environment_installs_the_same_requirements_file(course_release):
    env = yaml.safe_load((course_release.folder / "environment.yml").read_text(encoding="utf-8"))
    assert env["name"] == "cs231n"
    assert env["dependencies"][:2] == [f"python{pyproject_project()['requires-python']}", "pip"]
    assert env["dependencies"][2] == {"pip": ["-r requirements.txt"]}


def test_the_readme_names_every_notebook_and_every_library_exercise_where_it_is_checked(course_release):
    readme = (course_release.folder / "README.md").read_text(encoding="utf-8")
    rows = readme_rows(readme)
    assert sorted(rows) == sorted(path.name for path in NOTEBOOKS.glob("*.ipynb"))
    exercises = instructor_exercises()
    assert len(exercises) == 17  # 11 in layers.py, 6 in optim.py
    expected = {
        "02_convolution_layer.ipynb": ["conv_forward_naive", "conv_backward_naive"],
        "04_pooling_and_fast_layers.ipynb": ["max_pool_forward_naive", "max_pool_backward_naive"],
        "05_sgd_and_update_rules.ipynb": ["sgd_momentum", "nesterov_momentum", "adagrad", "rmsprop", "adam",
                                          "adadelta"],
        "06_dropout.ipynb": ["dropout_forward", "dropout_backward"],
        "09_batch_normalization.ipynb": ["batchnorm_forward", "batchnorm_backward", "batchnorm_backward_alt",
                                         "spatial_batchnorm_forward", "spatial_batchnorm_backward"],
    }
    assert sorted(name for names in expected.values() for name in names) == sorted(exercises)
    for notebook, names in expected.items():
        files = sorted({exercises[name] for name in names})
        assert len(files) == 1, files
        listed = ", ".join(f"`{name}`" for name in names)
        assert rows[notebook].startswith(f"{listed} in `{files[0]}`"), (notebook, rows[notebook])
    assert rows["00_welcome.ipynb"] == "nothing to write: read and run it"
    assert rows["01_spatial_arithmetic.ipynb"] == "6 code cells in the notebook; 3 written answers"
    assert rows["04_pooling_and_fast_layers.ipynb"].endswith(
        "; runs your `conv_forward_naive` (02), `conv_backward_naive` (02)")


def test_the_readme_is_short_and_says_how_to_set_up_work_check_and_hand_in(course_release):
    folder = course_release.folder
    readme = (folder / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 60, f"README.md has {len(readme.splitlines())} lines"
    for text in ("python -m pip install -r requirements.txt", "conda env create -f environment.yml",
                 "jupyter lab", "raise NotImplementedError()", "YOUR ANSWER HERE", "**Validate**",
                 "`nbgrader validate 01_spatial_arithmetic.ipynb`", "## Hand in", "3.10 or newer",
                 "scikit-learn"):
        assert text in readme, text
    for name in re.findall(r"`([\w./]+\.(?:txt|yml|py|ipynb))`", readme):
        assert (folder / name).is_file(), f"README.md names {name}, which the release does not hold"
    for word in ("BEGIN SOLUTION", "HIDDEN", "cs231n-course", "cs231n_course", "grading/", "formgrader",
                 "points", "autograde"):
        assert word.lower() not in readme.lower(), word


def test_a_release_of_one_notebook_describes_only_that_notebook(released):
    _, release = released
    readme = (release.folder / "README.md").read_text(encoding="utf-8")
    assert readme.startswith(f"# {ASSIGNMENT}: ")
    assert readme_rows(readme) == {f"{NOTEBOOK}.ipynb": (
        "`dropout_forward`, `dropout_backward` in `cs231n_lib/layers.py`; 1 code cell in the notebook; "
        "3 written answers; runs your `adam` (in `cs231n_lib/optim.py`)")}
    assert f"`nbgrader validate {NOTEBOOK}.ipynb`" in readme
    assert yaml.safe_load((release.folder / "environment.yml").read_text(encoding="utf-8"))["name"] == ASSIGNMENT
