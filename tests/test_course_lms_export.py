"""The LMS grade file (lms_export.py), from a grades CSV written on a gradebook built here.

The course "hw" has three notebooks: 00_intro (no points), 01_x (check cell c1: 3 points,
written answer w1: 2) and 02_y (check cells d1: 1.5 and d2: 2, written answer w2: 1): 9.5
points in all. Each student's points per notebook are worked out next to their grades;
the LMS file gives automatic + manual per notebook and their sum, an answer not yet
graded by hand counting 0. nbgrader's own ``nbgrader export`` on the same gradebook is a
second oracle for the totals (its score counts such an answer 0 too).
"""

import csv
import re
import subprocess
import sys
from pathlib import Path

import pytest
from gradebooks import build_gradebook
from nbgrader.api import Gradebook

from cs231n_course.grade import StudentResult, read_scores
from cs231n_course.grades_csv import read_maxima, write_grades_csv
from cs231n_course.lms_export import IDENTITY, lms_path, lms_table, write_lms_csv
from cs231n_course.release import NBGRADER_CONFIG

ASSIGNMENT = "hw"
NAMES = ["00_intro", "01_x", "02_y"]
CHECKS = [("c1", "01_x", 3), ("d1", "02_y", 1.5), ("d2", "02_y", 2)]
WRITTEN = [("w1", "01_x", 2), ("w2", "02_y", 1)]
# Per student and cell: (auto_score, manual_score, needs_manual_grade).
GRADES = {
    # 01_x: 3 + 1.5 = 4.5; 02_y: 1.5 + 0 + 1 = 2.5; total 7.
    "alice": {"c1": (3, None, False), "w1": (None, 1.5, False), "d1": (1.5, None, False),
              "d2": (0, None, False), "w2": (None, 1, False)},
    # w1 awaits a grade by hand, so counts 0. 01_x: 0 + 0 = 0; 02_y: 1.5 + 2 + 0.5 = 4; total 4.
    "bob": {"c1": (0, None, False), "w1": (None, None, True), "d1": (1.5, None, False),
            "d2": (2, None, False), "w2": (None, 0.5, False)},
    # Graded by hand, then autograded again: w1's 2 and w2's 0 stand though marked for a new look.
    # 01_x: 3 + 2 = 5; 02_y: 1.5 + 2 + 0 = 3.5; total 8.5.
    "carol": {"c1": (3, None, False), "w1": (None, 2, True), "d1": (1.5, None, False),
              "d2": (2, None, False), "w2": (None, 0, True)},
}
EXPECTED = {"alice": (4.5, 2.5, 7), "bob": (0, 4, 4), "carol": (5, 3.5, 8.5)}
HEADER = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "hw 01_x", "hw 02_y", "hw total"]


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    return build_gradebook(tmp_path_factory.mktemp("lms"), ASSIGNMENT, NAMES, CHECKS, WRITTEN, GRADES)


def results(course_dir):
    """What grade.py would hold after a run: three graded students and one it could not grade."""
    graded = []
    for student in GRADES:
        result = StudentResult(student, seconds=1.0)
        read_scores(course_dir, ASSIGNMENT, result)
        graded.append(result)
    graded[2].status = "ok, 1 notebook(s) missing"  # a note after ok is still a grade
    return [graded[1], StudentResult("dave", "not graded: the zip is not a zip"), graded[0], graded[2]]


@pytest.fixture(scope="module")
def lms(course):
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        maxima = read_maxima(gb, ASSIGNMENT, NAMES)
    csv_path = write_grades_csv(course / f"grades-{ASSIGNMENT}.csv", maxima, results(course))
    path = write_lms_csv(csv_path, ASSIGNMENT)
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    return path, rows


def test_the_file_is_written_next_to_the_grades_csv(course, lms):
    path, _ = lms
    assert path == course / "grades-hw-lms.csv" == lms_path(course / "grades-hw.csv")
    assert not list(course.glob("*.partial")), list(course.glob("*"))


def test_one_row_per_graded_student_with_points_per_notebook_and_total(lms):
    _, rows = lms
    assert rows[0] == HEADER
    got = {row[2]: tuple(float(cell) for cell in row[5:]) for row in rows[1:]}
    assert got == EXPECTED, rows
    assert [row[2] for row in rows[1:]] == ["bob", "alice", "carol"], "rows keep the grades CSV's order"
    for row in rows[1:]:
        assert row[:5] == ["", "", row[2], row[2], ""], f"identity columns of {row[2]}: {row[:5]}"


def test_a_submission_not_graded_has_no_row_so_an_import_leaves_its_grade_alone(lms):
    _, rows = lms
    assert "dave" not in {row[2] for row in rows}, rows


def test_an_answer_awaiting_a_grade_by_hand_counts_zero(course, lms):
    with open(course / "grades-hw.csv", newline="", encoding="utf-8") as f:
        bob = next(row for row in csv.DictReader(f) if row["student"] == "bob")
    assert (bob["01_x_manual"], bob["manual_total"]) == ("", ""), "the grades CSV leaves it empty"
    _, rows = lms
    [row] = [row for row in rows if row[2] == "bob"]
    assert row[5:] == ["0", "4", "4"], f"bob: 01_x 0 + (pending: 0), 02_y 1.5 + 2 + 0.5, total 4; got {row[5:]}"


def test_the_layout_is_one_canvas_and_moodle_imports(lms):
    """Canvas: Student, ID, [SIS User ID, SIS Login ID,] Section, then assignments; Moodle: numbers only."""
    _, rows = lms
    header = rows[0]
    assert header[:5] == IDENTITY == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    titled_with_id = [title for title in header if re.search(r"\(\s*\d+\s*\)\s*$", title)]
    assert titled_with_id == [], f"Canvas reads a trailing (number) as an assignment id: {titled_with_id}"
    assert len(set(header)) == len(header), header
    for row in rows[1:]:
        assert len(row) == len(header), row
        assert "Points Possible" not in row[0], "Moodle would look for a user named so and stop"
        values = [float(cell) for cell in row[5:]]  # every grade cell a number: Moodle stops at any other
        assert all(0 <= value <= 100 for value in values), f"Moodle's default maximum is 100: {row}"
        assert sum(values[:-1]) == values[-1], f"the total is the sum of the notebooks: {row}"


def test_totals_agree_with_nbgrader_export_which_still_works(course, lms):
    (course / "nbgrader_config.py").write_text(NBGRADER_CONFIG.format(assignment=ASSIGNMENT, student_files=[]),
                                               encoding="utf-8")
    nbgrader = Path(sys.executable).parent / "nbgrader"
    done = subprocess.run([str(nbgrader), "export", "--to", "nbgrader-export.csv"], cwd=course,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    with open(course / "nbgrader-export.csv", newline="", encoding="utf-8") as f:
        exported = {row["student_id"]: row for row in csv.DictReader(f)}
    assert set(exported) == set(GRADES), exported
    assert {s: float(row["max_score"]) for s, row in exported.items()} == dict.fromkeys(GRADES, 9.5)
    _, rows = lms
    ours = {row[2]: float(row[-1]) for row in rows[1:]}
    theirs = {student: float(row["score"]) for student, row in exported.items()}
    assert ours == theirs == {s: total for s, (_, _, total) in EXPECTED.items()}, (ours, theirs)


def test_a_file_that_is_not_a_grades_csv_is_refused_naming_what_is_missing():
    with pytest.raises(ValueError, match="lacks a student or status column"):
        lms_table(["id", "points"], [], ASSIGNMENT)
    with pytest.raises(ValueError, match="01_x_auto_max but no 01_x_manual column"):
        lms_table(["student", "status", "01_x_auto", "01_x_auto_max"], [], ASSIGNMENT)
