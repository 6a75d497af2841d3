"""Tests for cs231n_course.cli: the ``cs231n-course`` command's options, exit codes and messages.

Oracles: the exit code and the text each command prints; the instructor's own
files (cs231n_lib/layers.py and notebook 06's answer cells), copied into the
release to make a solved copy; a digest of every file of the copy validated,
before and after. The release runs once for the module (in process, through
``main``); the three validate runs start together as ``python -m
cs231n_course`` processes (about 8 s each, 2 CPUs suffice).
"""

import contextlib
import hashlib
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from cs231n_course.cli import main

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = "06_dropout"
ASSIGNMENT = "ps06"
WRITTEN_ANSWERS = ("06-inline-q1-answer", "06-inline-q2-answer", "06-inline-q3-answer")
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


def start_cli(*args, cwd):
    return subprocess.Popen([sys.executable, "-m", "cs231n_course", *map(str, args)], cwd=cwd, env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(process, timeout=300):
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def run_main(*args):
    """(exit code, stdout, stderr) of main(args) in this process; argparse's SystemExit gives the code."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(a) for a in args])
        except SystemExit as exit:
            code = exit.code
    return code, out.getvalue(), err.getvalue()


def instructor_cell(grade_id):
    nb = nbformat.read(ROOT / "notebooks" / f"{NOTEBOOK}.ipynb", as_version=4)
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def copy_instructor_cells(folder, grade_ids):
    path = folder / f"{NOTEBOOK}.ipynb"
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in grade_ids:
            cell.source = instructor_cell(grade_id).source
    nbformat.write(nb, path)


def solve_code(folder):
    """The library exercise and the notebook exercise done, as the instructor did them."""
    shutil.copyfile(ROOT / "cs231n_lib" / "layers.py", folder / "cs231n_lib" / "layers.py")
    copy_instructor_cells(folder, ["06-conventions-answer"])


def snapshot(folder):
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and "__pycache__" not in p.parts}


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    work = tmp_path_factory.mktemp("cli")
    code, out, err = run_main("release", "--course-dir", work / "grading", "--release-dir", work / "release",
                              "--assignment", ASSIGNMENT, "--notebooks", NOTEBOOK)
    assert code == 0, out + err
    return {"work": work, "folder": work / "release" / ASSIGNMENT, "out": out}


@pytest.fixture(scope="module")
def validations(released, tmp_path_factory):
    work = tmp_path_factory.mktemp("validate")
    folders = {name: Path(shutil.copytree(released["folder"], work / name / ASSIGNMENT))
               for name in ("untouched", "code_solved", "solved")}
    solve_code(folders["code_solved"])
    solve_code(folders["solved"])
    copy_instructor_cells(folders["solved"], WRITTEN_ANSWERS)
    before = snapshot(folders["untouched"])
    processes = {
        "untouched": start_cli("validate", cwd=folders["untouched"]),  # no path: validates "."
        "code_solved": start_cli("validate", ASSIGNMENT, cwd=work / "code_solved"),
        "solved": start_cli("validate", folders["solved"] / f"{NOTEBOOK}.ipynb", "--timeout", 120, cwd=work),
    }
    results = {name: finish(process) for name, process in processes.items()}
    return {"results": results, "before": before, "after": snapshot(folders["untouched"])}


# --- help and argument errors --------------------------------------------------------------


def test_the_module_runs_as_the_command_and_its_help_lists_every_subcommand():
    result = subprocess.run([sys.executable, "-m", "cs231n_course", "--help"], env=ENV,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: cs231n-course [-h] COMMAND ...")
    for command in ("release", "grade", "validate", "workspace"):
        assert f"cs231n-course {command}" in result.stdout
    assert result.stderr == ""


@pytest.mark.parametrize("command, options", [
    ("release", ["--course-dir", "--assignment", "--release-dir", "--notebooks-dir", "--notebooks"]),
    ("grade", ["submissions", "--course-dir", "--assignment", "--timeout", "--student-timeout", "--sandbox",
               "{auto,yes,no}", "--sandbox-uid", "--memory-mb", "--max-processes", "--max-output-kb",
               "--student", "--force", "--jobs"]),
    ("validate", ["paths", "--timeout"]),
    ("workspace", ["--release-dir", "--workspace-dir"]),
])
def test_each_subcommand_help_exits_zero_and_names_its_options(command, options):
    code, out, err = run_main(command, "--help")
    assert code == 0, err
    assert out.startswith(f"usage: cs231n-course {command} [-h]")
    for option in options:
        assert option in out, f"{command} --help does not mention {option}"
    assert "(default: " in out


def test_a_missing_or_unknown_command_is_a_usage_error():
    code, _, err = run_main()
    assert code == 2 and "the following arguments are required: COMMAND" in err
    code, _, err = run_main("publish")
    assert code == 2 and "invalid choice: 'publish'" in err


# --- release and grade ---------------------------------------------------------------------


def test_release_reports_what_it_released(released):
    lines = released["out"].splitlines()
    assert lines.pop(0) == "Generating the student version of 1 notebook(s) with nbgrader ..."
    assert lines[0].startswith("Released 1 notebook(s) and the library (2 file(s) with exercises) in ")
    assert lines[1] == f"  {released['folder']}/  and  {released['work'] / 'release' / (ASSIGNMENT + '.zip')}"
    assert lines[2].startswith("  Checked ") and "none appears in the release" in lines[2]
    assert lines[3] == f"  nbgrader course directory (keep it private): {released['work'] / 'grading'}/"


def test_release_of_an_unknown_notebook_exits_2_listing_the_available_ones(tmp_path):
    code, out, err = run_main("release", "--course-dir", tmp_path / "grading", "--release-dir",
                              tmp_path / "release", "--notebooks", "99_nope")
    assert code == 2
    assert err.startswith("cs231n-course release: no notebook named 99_nope in ")
    assert "there are: 00_welcome, 01_spatial_arithmetic, " in err and NOTEBOOK in err
    assert out == "" and not (tmp_path / "release").exists()


def test_grade_without_a_release_exits_2_and_says_to_run_release_first(tmp_path):
    (tmp_path / "submissions" / "alice").mkdir(parents=True)
    course = tmp_path / "grading"
    course.mkdir()
    code, out, err = run_main("grade", tmp_path / "submissions", "--course-dir", course, "--sandbox", "no")
    assert code == 2, out + err
    assert err.startswith(f"cs231n-course grade: {course.resolve()} holds no release")
    assert f"run `cs231n-course release --course-dir {course.resolve()}` first" in err
    assert out == ""
    assert sorted(course.iterdir()) == []  # nothing written


@pytest.mark.parametrize("option, value, words", [
    ("--memory-mb", "10", "sandbox memory_mb must be a whole number of at least 256, got 10"),
    ("--max-processes", "2", "sandbox max_processes must be a whole number of at least 16, got 2"),
    ("--sandbox-uid", "0", "sandbox uid must be a whole number of at least 1000, got 0"),
    ("--max-output-kb", "0", "--max-output-kb must be at least 1, got 0"),
    ("--jobs", "0", "--jobs must be a whole number of at least 1 (students graded at once), got 0"),
])
def test_grade_refuses_a_limit_that_cannot_work_naming_it(tmp_path, option, value, words):
    (tmp_path / "submissions").mkdir()
    code, out, err = run_main("grade", tmp_path / "submissions", "--course-dir", tmp_path / "grading", option, value)
    assert code == 2, out + err
    assert err == f"cs231n-course grade: {words}\n"
    assert not (tmp_path / "grading").exists()


def test_workspace_builds_the_workspace_from_the_release(released, tmp_path):
    workspace = tmp_path / "workspace"
    code, _, err = run_main("workspace", "--release-dir", released["folder"], "--workspace-dir", workspace)
    assert code == 0, err
    for rel in (f"{NOTEBOOK}.ipynb", "cs231n_lib/layers.py"):
        assert (workspace / rel).read_bytes() == (released["folder"] / rel).read_bytes()


# --- validate ------------------------------------------------------------------------------


@pytest.mark.parametrize("make, words", [
    (lambda tmp: tmp / "missing.ipynb", "is neither a notebook nor a folder of notebooks"),
    (lambda tmp: tmp, "no notebooks in"),
])
def test_validate_of_nothing_to_validate_exits_2_naming_the_path(tmp_path, make, words):
    path = make(tmp_path)
    code, _, err = run_main("validate", path)
    assert code == 2
    assert err.startswith("cs231n-course validate: ") and words in err and str(path) in err


def test_validate_of_the_untouched_release_exits_1_saying_what_is_not_implemented(validations):
    result = validations["results"]["untouched"]
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"{NOTEBOOK}.ipynb: " in result.stdout and " test(s) fail" in result.stdout
    assert "dropout_forward is not implemented yet" in result.stdout
    assert "p_library is not implemented yet" in result.stdout
    assert result.stdout.rstrip().endswith("Some tests fail: fix them, then run cs231n-course validate again.")


def test_validate_changes_none_of_the_students_files(validations):
    assert validations["after"] == validations["before"]
    assert f"{NOTEBOOK}.ipynb" in validations["before"]


def test_validate_of_a_fully_solved_copy_exits_0(validations):
    result = validations["results"]["solved"]
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        f"{NOTEBOOK}.ipynb: all public tests pass",
        "All public tests pass. (Hidden tests and written answers are graded later.)",
    ]


def test_validate_with_the_code_solved_and_written_answers_left_for_later_exits_0(validations):
    result = validations["results"]["code_solved"]
    assert result.returncode == 0, result.stdout + result.stderr
    assert "all public tests pass" in result.stdout
    assert [line.strip() for line in result.stdout.splitlines() if "to write:" in line] == [
        f"- to write: Inline question {n}" for n in (1, 2, 3)]


def test_validate_lists_what_passed_and_the_whole_check_message():
    from types import SimpleNamespace

    from cs231n_course.validate import summarize

    message = ("\x1b[1;31mCheck failed:\x1b[0m dropout_backward on p 0.5: expected dx, got something else.\n"
               "Hint: reuse the mask\n\nPassed before this check in this run (1):\n  OK: forward")
    results = {"failed": [{"source": "check_dropout_backward(dropout_forward, dropout_backward)",
                           "raw_error": message}]}
    passed = [SimpleNamespace(source="# the forward pass\ncheck_dropout_forward(dropout_forward)")]
    lines, ok = summarize(Path("06_dropout.ipynb"), results, passed)
    assert not ok
    assert lines == [
        "06_dropout.ipynb: 1 test(s) fail",
        "  passed: 1 test(s)",
        "    OK  check_dropout_forward(dropout_forward)",
        "  - the test starting 'check_dropout_backward(dropout_forward, dropout_backward)':",
        "      Check failed: dropout_backward on p 0.5: expected dx, got something else.",
        "      Hint: reuse the mask",
    ]


@pytest.mark.parametrize("inside", ["grading/submitted", "grading"])
def test_grade_refuses_submissions_inside_the_course_directory_and_changes_nothing(released, tmp_path, inside):
    """nbgrader's collect puts submissions in grading/submitted/, which grading replaces."""
    course = released["work"] / "grading"
    submissions = released["work"] / inside
    (submissions / "alice" / "notes.txt").parent.mkdir(parents=True, exist_ok=True)
    (submissions / "alice" / "notes.txt").write_text("mine\n", encoding="utf-8")
    code, out, err = run_main("grade", submissions, "--course-dir", course, "--sandbox", "no")
    assert code == 2, out + err
    assert f"is inside the course directory {course.resolve()}" in err and "copy the submissions out first" in err
    assert (submissions / "alice" / "notes.txt").read_text(encoding="utf-8") == "mine\n"
    shutil.rmtree(submissions / "alice")


def test_grade_refuses_a_course_directory_inside_the_submissions_folder(tmp_path):
    (tmp_path / "submissions" / "grading").mkdir(parents=True)
    code, out, err = run_main("grade", tmp_path / "submissions", "--course-dir", tmp_path / "submissions" / "grading",
                              "--sandbox", "no")
    assert code == 2, out + err
    assert "is inside the submissions folder" in err
