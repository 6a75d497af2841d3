"""``cs231n-course grade SUBMISSIONS``: autograde copies of every submission, feedback, grades CSV.

For each student, in a process of its own with a wall-clock limit:
nbgrader ``autograde`` (on a copy in ``<course-dir>/submitted/<student>/``) then
``generate_feedback``. Afterwards ``<course-dir>/grades-<assignment>.csv`` gets one row per
student, and only the HTML feedback is kept in ``<course-dir>/feedback/``.
"""

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from cs231n_course.autograde_student import KERNEL_ENV
from cs231n_course.config import DEFAULT_CELL_TIMEOUT, library_dir, project_dir
from cs231n_course.release import private_dir, read_release_info
from cs231n_course.review import suspicious_answer_cells
from cs231n_course.sandbox import DEFAULT_SANDBOX_USER, ensure_user, sandbox_available, write_kernelspec
from cs231n_course.submissions import SubmissionError, copy_for_grading, find_submissions

GRADES_CSV = "grades-{assignment}.csv"
# Per student: kernel start and nbgrader's own work, on top of the cells' time.
STUDENT_OVERHEAD_SECONDS = 120


@dataclass
class StudentResult:
    student: str
    status: str = "ok"
    seconds: float = 0.0
    notebooks: dict = field(default_factory=dict)  # name -> (score, max_score)
    manual_pending: int = 0
    review: list = field(default_factory=list)  # answer cells that reach for the checks

    @property
    def total(self):
        return sum(score for score, _ in self.notebooks.values())


@dataclass
class GradeRun:
    results: list
    csv_path: Path
    feedback_dir: Path
    sandboxed: bool
    seconds: float


def grade_submissions(submissions_dir, course_dir="grading", cell_timeout=DEFAULT_CELL_TIMEOUT,
                      student_timeout=None, sandbox="auto", sandbox_user=DEFAULT_SANDBOX_USER, assignment=None,
                      log=print):
    """Grade every submission in ``submissions_dir``; returns a GradeRun.

    sandbox: "auto" (when root on Linux), "yes" (fail if impossible) or "no".
    student_timeout: wall-clock seconds for one student, after which their grading is
    stopped (default: STUDENT_OVERHEAD_SECONDS + 3 x cell_timeout per notebook, 29 min
    for the whole course at 60 s; a full submission takes about 34 s).
    """
    start = time.perf_counter()
    course_dir = Path(course_dir).resolve()
    info = read_release_info(course_dir, assignment)
    assignment, names = info["assignment"], info["notebooks"]
    submissions = find_submissions(submissions_dir)
    if not submissions:
        raise SubmissionError(f"{submissions_dir} holds no submissions (one folder or .zip per student)")
    use_sandbox = sandbox == "yes" or (sandbox == "auto" and sandbox_available())
    if use_sandbox and not sandbox_available():
        raise SubmissionError("--sandbox yes needs root on Linux (to run kernels as an unprivileged user)")
    private_dir(course_dir)
    results = []
    with tempfile.TemporaryDirectory(prefix="cs231n-grading-") as scratch:
        # scratch/kernels is where sandboxed kernels get their home; everything
        # else (unzipped submissions, the kernelspec) stays in scratch/private.
        scratch = Path(scratch)
        os.chmod(scratch, 0o711)
        private = private_dir(scratch / "private")
        user = ensure_user(sandbox_user).pw_name if use_sandbox else None
        secrets = [course_dir, library_dir(), Path(submissions_dir).resolve(), Path.home(), private]
        if project_dir():
            secrets.append(project_dir())
        write_kernelspec(private / "jupyter", scratch / "kernels", secrets, user)
        env = dict(os.environ, JUPYTER_PATH=os.pathsep.join(filter(None, [str(private / "jupyter"),
                                                                         os.environ.get("JUPYTER_PATH")])))
        env[KERNEL_ENV] = "cs231n-grading"
        limit = student_timeout or STUDENT_OVERHEAD_SECONDS + 3 * cell_timeout * len(names)
        for submission in submissions:
            log(f"Grading {submission.student} ...")
            result = grade_one(submission, course_dir, assignment, names, info["student_files"],
                               cell_timeout, limit, env, private)
            read_scores(course_dir, assignment, [result])
            results.append(result)
            log(f"  {result.status}: {format_points(result.total)} points in {result.seconds:.1f} s")
    csv_path = course_dir / GRADES_CSV.format(assignment=assignment)
    write_csv(csv_path, names, results)
    return GradeRun(results, csv_path, course_dir / "feedback", use_sandbox, time.perf_counter() - start)


def grade_one(submission, course_dir, assignment, names, student_files, cell_timeout, limit, env, scratch):
    result = StudentResult(submission.student)
    started = time.perf_counter()
    for folder in ("autograded", "feedback"):
        shutil.rmtree(course_dir / folder / submission.student, ignore_errors=True)
    try:
        found = copy_for_grading(submission, names, course_dir / "submitted" / submission.student / assignment,
                                 scratch)
    except SubmissionError as error:
        result.status = f"not graded: {error}"
        return result
    missing = sorted(set(names) - set(found))
    result.review = suspicious_answer_cells(course_dir / "submitted" / submission.student / assignment)
    command = [sys.executable, "-m", "cs231n_course.autograde_student", str(course_dir), assignment,
               submission.student, str(cell_timeout), json.dumps(student_files)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)
    log_file = private_dir(course_dir / "logs") / f"{submission.student}.log"
    try:
        output, _ = process.communicate(timeout=limit)
        if process.returncode != 0 and "CellTimeoutError" in (output or ""):
            result.status = (f"error: a cell went on running after being interrupted at the {cell_timeout} s "
                             f"timeout, so nbgrader gave up on the notebook; see logs/{log_file.name}")
        elif process.returncode != 0:
            result.status = f"error: nbgrader failed, see logs/{log_file.name}"
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # its kernel dies with it (PR_SET_PDEATHSIG)
        output, _ = process.communicate()
        result.status = f"error: grading took longer than {limit:.0f} s and was stopped"
    log_file.write_text(output or "", encoding="utf-8")
    if missing and result.status == "ok":
        result.status = "ok, missing " + " ".join(missing)
    keep_only_html(course_dir / "feedback" / submission.student)
    result.seconds = time.perf_counter() - started
    return result


def keep_only_html(folder):
    """Feedback folders also get a copy of the assignment's other files: students need only the HTML."""
    if not folder.exists():
        return
    for path in sorted(folder.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if path.is_file() and path.suffix != ".html":
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()


def read_scores(course_dir, assignment, results):
    """Fill each result's per-notebook (score, max) and manual_pending from the gradebook."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(f"sqlite:///{course_dir / 'gradebook.db'}") as gradebook:
        for result in results:
            if not result.status.startswith("ok"):
                continue
            try:
                submission = gradebook.find_submission(assignment, result.student)
            except MissingEntry:
                result.status = "error: no grades recorded"
                continue
            for notebook in submission.notebooks:
                result.notebooks[notebook.name] = (notebook.score, notebook.max_score)
                result.manual_pending += sum(1 for g in notebook.grades if g.needs_manual_grade)


def format_points(value):
    return f"{value:g}"


def write_csv(path, names, results):
    """One row per student: status, points per notebook, total, max total, cells awaiting manual
    grading, answer cells to review by hand (see review.py), seconds."""
    maxima = {}
    for result in results:
        for name, (_, maximum) in result.notebooks.items():
            maxima[name] = maximum
    header = ["student", "status", *names, "total", "max_total", "manual_pending", "review", "seconds"]
    partial = path.with_name(path.name + ".partial")
    with open(partial, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for r in results:
            graded = r.status.startswith("ok")
            points = [format_points(r.notebooks[n][0]) if n in r.notebooks else "" for n in names]
            writer.writerow([r.student, r.status, *points, format_points(r.total) if graded else "",
                             format_points(sum(maxima.get(n, 0) for n in names)), r.manual_pending,
                             " ".join(r.review), f"{r.seconds:.1f}"])
    os.replace(partial, path)
