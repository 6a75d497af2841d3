"""``grade --jobs N``: N students at once, each job with its own uid, sockets and gradebook copy,
and a course gradebook and CSV exactly as a serial run leaves them.

The end-to-end test grades the same five submissions of notebook 06 twice, from two copies of
one course directory: once with ``--jobs 1`` and once with ``--jobs 2`` (sandboxed where the
machine allows), and compares the CSVs row by row and the gradebooks field by field.
"""

import csv
import datetime
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from gradebooks import build_gradebook
from instructor_answers import ROOT, answer_cells, write_answers
from nbgrader.api import Gradebook
from sqlalchemy.exc import SAWarning

from cs231n_course.gradebook_copy import (
    COMMENT_FIELDS,
    GRADE_FIELDS,
    NOTEBOOK_FIELDS,
    copy_submission,
)
from cs231n_course.grading_slots import check_jobs, default_jobs
from cs231n_course.sandbox import DEFAULT_SANDBOX_UID, sandbox_available, thread_limits

ASSIGNMENT = "par06"
NOTEBOOK = "06_dropout"
GiB = 2**30


# --- how many jobs, and their threads -------------------------------------------------------


@pytest.mark.parametrize("cores, memory, jobs", [
    (2, 24 * GiB, 2),  # this machine
    (8, 3 * GiB + 5, 3),  # memory bounds it: 1 GiB per job
    (4, GiB // 2, 1),  # never fewer than one
    (16, 0, 16),  # memory unknown (no /proc/meminfo): one per core
])
def test_default_jobs_is_one_per_core_within_one_gib_of_free_memory_each(cores, memory, jobs):
    assert default_jobs(cores, memory) == jobs


@pytest.mark.parametrize("jobs", [0, -2, 1.5, "2", True])
def test_a_number_of_jobs_that_is_not_a_whole_number_above_zero_is_refused(jobs):
    with pytest.raises(ValueError, match=f"--jobs must be a whole number of at least 1 .*got {jobs!r}"):
        check_jobs(jobs)


def test_blas_threads_are_set_unless_the_environment_sets_them():
    assert thread_limits(1, environ={}) == {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
                                            "MKL_NUM_THREADS": "1"}
    assert thread_limits(2, environ={"OMP_NUM_THREADS": "4"}) == {"OPENBLAS_NUM_THREADS": "2", "MKL_NUM_THREADS": "2"}
    assert thread_limits(None, environ={}) == {}


# --- copying one student's submission between gradebooks -----------------------------------


CHECKS = [("c1", "nb1", 2), ("c2", "nb1", 3), ("c3", "nb2", 1)]
WRITTEN = [("w1", "nb2", 4)]


def two_gradebooks(tmp_path):
    """(source url, target url): the same assignment; in the source ann is graded, bob too; the target has none."""
    source, target = tmp_path / "source", tmp_path / "target"
    source.mkdir()
    target.mkdir()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)
        build_gradebook(source, "a1", ["nb1", "nb2"], CHECKS, WRITTEN,
                        {"ann": {"c1": (2, None, False), "c2": (0, 1.5, True), "c3": (1, None, False),
                                 "w1": (None, 3, False)},
                         "bob": {"c1": (0, None, False)}})
        build_gradebook(target, "a1", ["nb1", "nb2"], CHECKS, WRITTEN, {})
    return f"sqlite:///{source / 'gradebook.db'}", f"sqlite:///{target / 'gradebook.db'}"


def submission_fields(url, student):
    """Everything copy_submission copies, by notebook and cell name."""
    with Gradebook(url) as gb:
        submitted = gb.find_submission("a1", student)
        fields = {"timestamp": submitted.timestamp, "extension": submitted.extension,
                  "email": submitted.student.email}
        for notebook in submitted.notebooks:
            fields[notebook.name] = {name: getattr(notebook, name) for name in NOTEBOOK_FIELDS}
            for grade in notebook.grades:
                fields[notebook.name, grade.name, "grade"] = {name: getattr(grade, name) for name in GRADE_FIELDS}
            for comment in notebook.comments:
                fields[notebook.name, comment.name, "comment"] = {name: getattr(comment, name)
                                                                  for name in COMMENT_FIELDS}
        return fields


def test_a_submission_is_copied_with_every_score_comment_and_flag(tmp_path):
    source, target = two_gradebooks(tmp_path)
    with Gradebook(source) as gb:
        gb.update_or_create_student("ann", email="ann@example.edu")
        submitted = gb.find_submission("a1", "ann")
        submitted.timestamp = datetime.datetime(2026, 12, 1, 10, 0)
        submitted.extension = datetime.timedelta(hours=6)
        notebook = gb.find_submission_notebook("nb2", "a1", "ann")
        notebook.flagged, notebook.late_submission_penalty = True, 0.5
        gb.find_grade("c3", "nb2", "a1", "ann").extra_credit = 0.25
        gb.find_comment("w1", "nb2", "a1", "ann").manual_comment = "good"
        gb.db.commit()
    assert copy_submission(source, target, "a1", "ann") is True
    copied = submission_fields(target, "ann")
    assert copied == submission_fields(source, "ann")
    assert copied["nb2"] == {"flagged": True, "late_submission_penalty": 0.5}
    assert (copied["timestamp"], copied["extension"]) == (datetime.datetime(2026, 12, 1, 10, 0),
                                                          datetime.timedelta(hours=6))
    assert copied["nb1", "c2", "grade"] == {"auto_score": 0, "manual_score": 1.5, "extra_credit": None,
                                            "needs_manual_grade": True}
    with Gradebook(target) as gb:  # only ann was copied
        assert [student.id for student in gb.students] == ["ann"]


def test_copying_again_overwrites_what_the_target_had(tmp_path):
    source, target = two_gradebooks(tmp_path)
    copy_submission(source, target, "a1", "ann")
    with Gradebook(target) as gb:  # the target changes (a job graded ann) ...
        gb.find_grade("c1", "nb1", "a1", "ann").auto_score = 0
        gb.find_grade("w1", "nb2", "a1", "ann").manual_score = None
        gb.db.commit()
    copy_submission(source, target, "a1", "ann")  # ... and the course's state is copied in again
    assert submission_fields(target, "ann") == submission_fields(source, "ann")


def test_a_student_without_a_submission_is_not_copied(tmp_path):
    source, target = two_gradebooks(tmp_path)
    assert copy_submission(source, target, "a1", "zed") is False
    with Gradebook(target) as gb:
        assert gb.students == []


# --- serial and parallel grading of the same submissions ------------------------------------


def run_cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "cs231n_course", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=900)


PRINT_UID = "import os\nprint('kernel uid', os.getuid())\n"


def make_submissions(release, submissions):
    """ann and eve: solved; bob: blank; cat: the library solved, the notebook's answers blank; dan: no notebook.

    ann's and bob's first answer cells print the uid their kernel runs as.
    """
    answers = answer_cells(NOTEBOOK)
    for student in ("ann", "bob", "cat", "eve"):
        shutil.copytree(release, submissions / student)
    for student in ("ann", "cat", "eve"):
        shutil.copy(ROOT / "cs231n_lib" / "layers.py", submissions / student / "cs231n_lib" / "layers.py")
    first = sorted(answers)[0]
    write_answers(submissions / "ann", {**answers, first: PRINT_UID + answers[first]})
    write_answers(submissions / "eve", answers)
    write_answers(submissions / "bob", {first: PRINT_UID + "raise NotImplementedError()\n"})
    (submissions / "dan").mkdir()
    (submissions / "dan" / "notes.txt").write_text("no notebook here\n", encoding="utf-8")


def give_a_manual_grade_before_grading(course_dir):
    """eve's first written answer already has points given by hand (as after a regrade)."""
    with warnings.catch_warnings(), Gradebook(f"sqlite:///{course_dir / 'gradebook.db'}") as gb:
        warnings.simplefilter("ignore", SAWarning)  # nbgrader's add_submission warns about its own session
        notebook = gb.find_notebook(NOTEBOOK, ASSIGNMENT)
        written = sorted({cell.name for cell in notebook.grade_cells} & {cell.name for cell in notebook.solution_cells})
        gb.add_student("eve")
        gb.add_submission(ASSIGNMENT, "eve")
        gb.find_grade(written[0], NOTEBOOK, ASSIGNMENT, "eve").manual_score = 1
        gb.db.commit()
    return written[0]


def gradebook_rows(course_dir):
    """Every field grading writes, per student, notebook and cell, in a stable order."""
    rows = []
    with Gradebook(f"sqlite:///{course_dir / 'gradebook.db'}") as gb:
        for student in sorted(s.id for s in gb.students):
            submitted = gb.find_submission(ASSIGNMENT, student)
            rows.append((student, str(submitted.timestamp), str(submitted.extension)))
            for notebook in sorted(submitted.notebooks, key=lambda n: n.name):
                rows.append((student, notebook.name, *(getattr(notebook, f) for f in NOTEBOOK_FIELDS)))
                for grade in sorted(notebook.grades, key=lambda g: g.name):
                    rows.append((student, notebook.name, grade.name, *(getattr(grade, f) for f in GRADE_FIELDS)))
                for comment in sorted(notebook.comments, key=lambda c: c.name):
                    rows.append((student, notebook.name, comment.name, *(getattr(comment, f) for f in COMMENT_FIELDS)))
    return rows


def csv_rows(course_dir, name):
    with open(course_dir / name, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def serial_and_parallel(tmp_path_factory):
    work = tmp_path_factory.mktemp("parallel")
    released = run_cli("release", "--notebooks", NOTEBOOK, "--assignment", ASSIGNMENT, cwd=work)
    assert released.returncode == 0, released.stdout + released.stderr
    make_submissions(work / "release" / ASSIGNMENT, work / "submissions")
    manual_cell = give_a_manual_grade_before_grading(work / "grading")
    runs = {}
    for jobs in (1, 2):
        course = work / f"grading-{jobs}"
        shutil.copytree(work / "grading", course)
        result = run_cli("grade", "submissions", "--course-dir", course.name, "--jobs", str(jobs), "--timeout", "60",
                         cwd=work)
        assert result.returncode == 1, result.stdout + result.stderr  # dan cannot be graded
        runs[jobs] = course, result.stdout
    return runs, manual_cell


def test_both_runs_say_how_many_students_they_graded_at_once(serial_and_parallel):
    runs, _ = serial_and_parallel
    for jobs, (_, output) in runs.items():
        assert "Graded 4 of 5 submission(s) in " in output
        assert f", {jobs} at once)." in output


def test_the_parallel_csv_is_the_serial_csv_row_by_row(serial_and_parallel):
    runs, _ = serial_and_parallel
    serial = csv_rows(runs[1][0], f"grades-{ASSIGNMENT}.csv")
    parallel = csv_rows(runs[2][0], f"grades-{ASSIGNMENT}.csv")
    assert [row["student"] for row in serial] == ["ann", "bob", "cat", "dan", "eve"]
    assert serial[0]["status"] == "ok" and float(serial[0]["auto_total"]) == float(serial[0]["auto_max"]) > 0
    assert float(serial[1]["auto_total"]) == 0 and serial[3]["status"].startswith("not graded")
    assert 0 < float(serial[2]["auto_total"]) < float(serial[2]["auto_max"])
    for one, two in zip(serial, parallel, strict=True):
        assert {k: v for k, v in one.items() if k != "seconds"} == {k: v for k, v in two.items() if k != "seconds"}
    lms = f"grades-{ASSIGNMENT}-lms.csv"
    assert csv_rows(runs[1][0], lms) == csv_rows(runs[2][0], lms)


def test_the_parallel_gradebook_is_the_serial_gradebook_field_by_field(serial_and_parallel):
    runs, manual_cell = serial_and_parallel
    serial, parallel = gradebook_rows(runs[1][0]), gradebook_rows(runs[2][0])
    assert serial == parallel
    # the points given by hand before grading are kept, and marked for a new look, in both
    (eve_row,) = [row for row in parallel if row[:3] == ("eve", NOTEBOOK, manual_cell) and len(row) == 7]
    assert eve_row[4] == 1 and eve_row[6] is True


def test_each_student_has_feedback_and_a_graded_copy_in_both_runs(serial_and_parallel):
    runs, _ = serial_and_parallel
    for course, _ in runs.values():
        for student in ("ann", "bob", "cat", "eve"):
            assert (course / "feedback" / student / ASSIGNMENT / f"{NOTEBOOK}.html").is_file()
            assert (course / "autograded" / student / ASSIGNMENT / f"{NOTEBOOK}.ipynb").is_file()


@pytest.mark.skipif(not sandbox_available(), reason="sandbox uids need root on Linux and bwrap")
def test_two_jobs_ran_their_kernels_as_two_uids(serial_and_parallel):
    runs, _ = serial_and_parallel

    def uids(course):
        found = set()
        for student in ("ann", "bob"):
            text = (course / "autograded" / student / ASSIGNMENT / f"{NOTEBOOK}.ipynb").read_text(encoding="utf-8")
            found |= {int(line.split("kernel uid ")[1].split("\\n")[0]) for line in text.split('"')
                      if line.startswith("kernel uid ")}
        return found

    assert uids(runs[1][0]) == {DEFAULT_SANDBOX_UID}
    # ann and bob are the first two submissions: they are graded at the same time, one per job
    assert uids(runs[2][0]) == {DEFAULT_SANDBOX_UID, DEFAULT_SANDBOX_UID + 1}


def test_no_job_folder_or_gradebook_copy_is_left_behind(serial_and_parallel):
    runs, _ = serial_and_parallel
    for course, _ in runs.values():
        assert not list(Path(course).rglob("job-*"))
        assert sorted(p.name for p in Path(course).glob("*.db")) == ["gradebook.db"]
