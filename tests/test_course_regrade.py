"""Grading again grades only what changed (regrade.py), and --student / --force grade again on demand.

One release of notebook 06, graded without the sandbox (the record is the same either way;
the sandbox's own tests are elsewhere): each grade of one student takes a few seconds.
"""

import csv
import json
import shutil
import subprocess
import sys

import nbformat
import pytest

from cs231n_course.grade import StudentResult
from cs231n_course.regrade import GradingRecord, graded_digest

ASSIGNMENT = "ps06"
NOTEBOOK = "06_dropout"


def run_cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "cs231n_course", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600)


# --- the digest and the record --------------------------------------------------------------


def test_the_digest_changes_with_any_file_its_name_or_the_options(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.py").write_bytes(b"1")
    (tmp_path / "b.ipynb").write_bytes(b"{}")
    first = graded_digest(tmp_path, {"timeout": 5})
    assert graded_digest(tmp_path, {"timeout": 5}) == first
    assert graded_digest(tmp_path, {"timeout": 6}) != first
    (tmp_path / "a" / "x.py").write_bytes(b"2")
    assert graded_digest(tmp_path, {"timeout": 5}) != first
    (tmp_path / "a" / "x.py").write_bytes(b"1")
    (tmp_path / "a" / "x.py").rename(tmp_path / "a" / "y.py")
    assert graded_digest(tmp_path, {"timeout": 5}) != first


def test_the_record_keeps_only_grades_that_ended_ok(tmp_path):
    record = GradingRecord(tmp_path, ASSIGNMENT)
    record.save("ann", "d1", StudentResult("ann", "ok", seconds=3.21, review=["06:cell 3"]))
    record.save("bob", "d2", StudentResult("bob", "error: kernel died"))
    again = GradingRecord(tmp_path, ASSIGNMENT)
    assert again.unchanged("ann", "d1") == {"digest": "d1", "status": "ok", "review": ["06:cell 3"], "seconds": 3.2}
    assert again.unchanged("ann", "other") is None and again.unchanged("bob", "d2") is None
    record.save("ann", "d3", StudentResult("ann", "not graded: broken zip"))
    assert GradingRecord(tmp_path, ASSIGNMENT).unchanged("ann", "d1") is None


@pytest.mark.parametrize("text", ["not json", '{"format": 99, "students": {}}', '["a list"]',
                                  '{"format": 1, "students": "no"}'])
def test_an_unreadable_record_means_grading_everyone_again(tmp_path, text):
    (tmp_path / f"graded-{ASSIGNMENT}.json").write_text(text, encoding="utf-8")
    assert GradingRecord(tmp_path, ASSIGNMENT).students == {}


# --- grading twice --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A release of 06 and three submissions: ann (blank), bob (blank), cat (blank)."""
    work = tmp_path_factory.mktemp("regrade")
    result = run_cli("release", "--notebooks", NOTEBOOK, "--assignment", ASSIGNMENT, cwd=work)
    assert result.returncode == 0, result.stdout + result.stderr
    for student in ("ann", "bob", "cat"):
        shutil.copytree(work / "release" / ASSIGNMENT, work / "submissions" / student)
    return work


def grade(course, *options, code=0):
    """Run grade; (students graded in this run, CSV rows by student, output). code: the exit code
    expected (1 when a submission cannot be graded)."""
    result = run_cli("grade", "submissions", "--sandbox", "no", "--timeout", "30", *options, cwd=course)
    assert result.returncode == code, result.stdout + result.stderr
    graded = {line.split(":")[0] for line in result.stdout.splitlines()
              if line.endswith(" s") and ": ok" in line}
    with open(course / "grading" / f"grades-{ASSIGNMENT}.csv", newline="", encoding="utf-8") as f:
        rows = {row["student"]: row for row in csv.DictReader(f)}
    return graded, rows, result.stdout


def autograded_time(course, student):
    return (course / "grading" / "autograded" / student / ASSIGNMENT / f"{NOTEBOOK}.ipynb").stat().st_mtime_ns


def test_a_second_run_grades_only_what_changed(course):
    graded, first_rows, _ = grade(course)
    assert graded == {"ann", "bob", "cat"}
    before = {s: autograded_time(course, s) for s in ("ann", "bob", "cat")}

    graded, rows, out = grade(course)
    assert graded == set()
    assert "3 of them unchanged since their last grade" in out
    assert rows == first_rows  # the same CSV, seconds included
    assert {s: autograded_time(course, s) for s in before} == before

    path = course / "submissions" / "bob" / f"{NOTEBOOK}.ipynb"
    nb = nbformat.read(path, as_version=4)
    answer = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "06-conventions-answer")
    answer.source = "p_library = 0.2\nkept_scale = 1.25\nexpected_dropped = 100"
    nbformat.write(nb, path)
    (course / "submissions" / "dan").mkdir()  # a late, broken submission: never recorded
    graded, rows, _ = grade(course, "--student", "ann", code=1)
    assert graded == {"ann", "bob"}
    assert float(rows["bob"]["06_dropout_auto"]) == 1 and float(first_rows["bob"]["06_dropout_auto"]) == 0
    assert rows["dan"]["status"].startswith("not graded")
    assert autograded_time(course, "cat") == before["cat"]

    graded, _, _ = grade(course, "--force", code=1)
    assert graded == {"ann", "bob", "cat"}
    record = json.loads((course / "grading" / f"graded-{ASSIGNMENT}.json").read_text(encoding="utf-8"))
    assert sorted(record["students"]) == ["ann", "bob", "cat"]


def test_naming_a_student_who_is_not_there_is_an_error(course):
    result = run_cli("grade", "submissions", "--sandbox", "no", "--student", "zed", cwd=course)
    assert result.returncode == 2
    assert "--student zed: no such submission" in result.stderr
