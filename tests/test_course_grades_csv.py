"""The grades CSV (grades_csv.py), on a gradebook built here with nbgrader's API.

The course "ps" has three notebooks: 00_intro (no points), 01_a (check cells c1: 2 and
c2: 3 points, written answer w1: 1 point, and an ungraded answer cell) and 02_b (check
cell d1: 4 points, written answers w2: 2 and w3: 1). So 01_a's maxima are 5 automatic and
1 manual, 02_b's 4 and 3, the course's 9 and 4. Each student's points are worked out in
the comment next to their grades.
"""

import csv

import pytest
from gradebooks import build_gradebook
from nbgrader.api import Gradebook

from cs231n_course.grade import StudentResult, read_scores
from cs231n_course.grades_csv import read_maxima, write_grades_csv

ASSIGNMENT = "ps"
NAMES = ["00_intro", "01_a", "02_b"]
HEADER = ["student", "status",
          "01_a_auto", "01_a_auto_max", "01_a_manual", "01_a_manual_max",
          "02_b_auto", "02_b_auto_max", "02_b_manual", "02_b_manual_max",
          "auto_total", "auto_max", "manual_total", "manual_max", "manual_pending", "review", "seconds"]
# Per student and cell: (auto_score, manual_score, needs_manual_grade), as nbgrader's autograde
# and formgrader leave them.
GRADES = {
    # c2 failed but was raised by hand to 1; w1 graded 1, w2 1.5; w3 left as released (0 at once).
    # 01_a: auto 2 + 1 = 3, manual 1; 02_b: auto 4, manual 1.5 + 0; totals 7 and 2.5.
    "graded": {"c1": (2, None, False), "c2": (0, 1, False), "w1": (None, 1, False),
               "d1": (4, None, False), "w2": (None, 1.5, False), "w3": (0, None, False)},
    # w1 answered, not graded yet: 01_a's manual and the manual total are unknown, 1 pending.
    # 01_a: auto 5; 02_b: auto 0, manual 2 + 0; auto total 5.
    "waiting": {"c1": (2, None, False), "c2": (3, None, False), "w1": (None, None, True),
                "d1": (0, None, False), "w2": (None, 2, False), "w3": (0, None, False)},
    # Graded by hand, then autograded again: nbgrader keeps w1's 1 and w2's 2 and marks both
    # for a new look. 01_a: auto 0, manual 1; 02_b: auto 4, manual 2; 2 pending.
    "regraded": {"c1": (0, None, False), "c2": (0, None, False), "w1": (None, 1, True),
                 "d1": (4, None, False), "w2": (None, 2, True), "w3": (0, None, False)},
}


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    checks = [("c1", "01_a", 2), ("c2", "01_a", 3), ("d1", "02_b", 4)]
    written = [("w1", "01_a", 1), ("w2", "02_b", 2), ("w3", "02_b", 1)]
    answers = [("a1", "01_a")]  # an answer cell whose check is another cell
    return build_gradebook(tmp_path_factory.mktemp("course"), ASSIGNMENT, NAMES, checks, written, GRADES, answers)


def written_rows(course, results):
    (course / "grades.csv").unlink(missing_ok=True)
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        maxima = read_maxima(gb, ASSIGNMENT, NAMES)
    path = write_grades_csv(course / "grades.csv", maxima, results)
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    return rows[0], [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def graded_result(course, student):
    result = StudentResult(student, seconds=12.34)
    read_scores(course, ASSIGNMENT, result)
    return result


def test_maxima_are_split_and_a_notebook_without_points_has_no_column(course):
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        assert read_maxima(gb, ASSIGNMENT, NAMES) == {"01_a": (5, 1), "02_b": (4, 3)}
    header, _ = written_rows(course, [])
    assert header == HEADER
    assert not [column for column in header if column.startswith("00_intro")]


def test_a_graded_student_gets_automatic_and_manual_points_apart(course):
    result = graded_result(course, "graded")
    _, [row] = written_rows(course, [result])
    assert row == {"student": "graded", "status": "ok",
                   "01_a_auto": "3", "01_a_auto_max": "5", "01_a_manual": "1", "01_a_manual_max": "1",
                   "02_b_auto": "4", "02_b_auto_max": "4", "02_b_manual": "1.5", "02_b_manual_max": "3",
                   "auto_total": "7", "auto_max": "9", "manual_total": "2.5", "manual_max": "4",
                   "manual_pending": "0", "review": "", "seconds": "12.3"}
    assert result.total == 7 + 2.5


def test_an_answer_awaiting_a_grade_by_hand_leaves_its_manual_columns_empty(course):
    _, [row] = written_rows(course, [graded_result(course, "waiting")])
    assert (row["01_a_auto"], row["01_a_manual"], row["02_b_auto"], row["02_b_manual"]) == ("5", "", "0", "2")
    assert (row["auto_total"], row["manual_total"], row["manual_pending"]) == ("5", "", "1"), row


def test_points_given_by_hand_still_count_after_grading_again(course):
    _, [row] = written_rows(course, [graded_result(course, "regraded")])
    manual = ("01_a_manual", "02_b_manual", "manual_total", "manual_pending")
    assert tuple(row[c] for c in manual) == ("1", "2", "3", "2"), row
    assert (row["01_a_auto"], row["02_b_auto"], row["auto_total"]) == ("0", "4", "4"), row


def test_a_student_not_graded_gets_maxima_only_and_rows_keep_their_order(course):
    stopped = StudentResult("a-stopped", "not graded: grading was stopped", review=["06: x"])
    _, rows = written_rows(course, [graded_result(course, "waiting"), stopped, graded_result(course, "graded")])
    assert [row["student"] for row in rows] == ["waiting", "a-stopped", "graded"]
    row = rows[1]
    assert row["status"] == "not graded: grading was stopped" and row["review"] == "06: x"
    empty = [c for c in HEADER if c.endswith(("_auto", "_manual", "_total")) or c == "manual_pending"]
    assert len(empty) == 2 * 2 + 3, empty
    assert [c for c in empty if row[c] != ""] == [], row
    assert (row["01_a_auto_max"], row["02_b_manual_max"], row["auto_max"], row["manual_max"]) == ("5", "3", "9", "4")


def test_a_notebook_the_gradebook_does_not_know_is_an_error_naming_it(course):
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb, \
            pytest.raises(ValueError, match="03_c of assignment ps"):
        read_maxima(gb, ASSIGNMENT, [*NAMES, "03_c"])
