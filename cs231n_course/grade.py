"""``cs231n-course grade SUBMISSIONS``: autograde every submission, feedback, grades CSV.

``--jobs N`` students are graded at once, each job with its own sandbox uid, sockets and
gradebook (``grading_slots.py``). For each student, in a process of its own with a
wall-clock limit: the graded copy is
built (the release plus the student's answer files, ``submissions.build_graded_copy``)
in ``<course-dir>/submitted/<student>/``, then nbgrader ``autograde`` and
``generate_feedback`` run with every kernel in the sandbox (``sandbox.py``). Afterwards
``<course-dir>/grades-<assignment>.csv`` gets one row per entry of the submissions
folder (its columns: ``grades_csv.py``), and only the (sanitized) HTML feedback is kept
in ``<course-dir>/feedback/``.

Stopping ``grade`` stops grading: Ctrl-C or SIGTERM ends the students' processes (and so
every kernel of them) and writes the CSV with the students not yet graded marked so;
after SIGKILL the student's process and kernels die with it (PR_SET_PDEATHSIG,
bubblewrap's --die-with-parent), and the next run removes what the killed one left in
the temporary folder.
"""

import os
import queue
import shutil
import signal
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path

from cs231n_course.config import DEFAULT_CELL_TIMEOUT, DEFAULT_MAX_OUTPUT_BYTES
from cs231n_course.feedback import secure_feedback_folder
from cs231n_course.gradebook_copy import copy_submission
from cs231n_course.grades_csv import (
    format_points,
    read_maxima,
    read_points,
    write_grades_csv,
)
from cs231n_course.grading_slots import check_jobs, default_jobs, open_slots
from cs231n_course.limits import limit_notes
from cs231n_course.lms_export import write_lms_csv
from cs231n_course.progress import grading_progress
from cs231n_course.regrade import GradingRecord, graded_digest
from cs231n_course.release import private_dir, read_release_info
from cs231n_course.review import review_submission
from cs231n_course.sandbox import (
    SandboxError,
    SandboxSettings,
    missing_for_sandbox,
    processes_of,
)
from cs231n_course.student_process import RunningStudents, run_student
from cs231n_course.submissions import (
    SubmissionError,
    build_graded_copy,
    find_submissions,
)

GRADES_CSV = "grades-{assignment}.csv"
# Per student: kernel start and nbgrader's own work, on top of the cells' time.
STUDENT_OVERHEAD_SECONDS = 120
SCRATCH_PREFIX = "cs231n-grading-"
OWNER_FILE = "owner.pid"
STOPPED = "not graded: grading was stopped before this submission"
# Where a graded copy is built before grading decides whether it changed (inside the course dir,
# so that moving it into submitted/ is a rename).
STAGING = "staging"


@dataclass
class StudentResult:
    student: str
    status: str = "ok"
    seconds: float = 0.0
    notebooks: dict = field(default_factory=dict)  # name -> grades_csv.NotebookPoints
    manual_pending: int = 0
    review: list = field(default_factory=list)  # answer cells worth a human look (review.py)
    kept: bool = False  # unchanged since its last ok grade, which stands (regrade.py)

    @property
    def total(self):
        """Points so far: automatic, plus those given by hand (nbgrader's score)."""
        return sum(p.auto + (p.manual or 0) for p in self.notebooks.values())


@dataclass
class GradeRun:
    results: list
    csv_path: Path
    feedback_dir: Path
    sandboxed: bool
    seconds: float
    jobs: int = 1


class GradingStopped(KeyboardInterrupt):
    """Ctrl-C or SIGTERM during grading; the CSV of what was graded has been written."""


def grade_submissions(submissions_dir, course_dir="grading", cell_timeout=DEFAULT_CELL_TIMEOUT,
                      student_timeout=None, sandbox="auto", settings=None, assignment=None,
                      max_output_bytes=DEFAULT_MAX_OUTPUT_BYTES, log=print, force=False, students=(), jobs=None):
    """Grade every submission in ``submissions_dir``; returns a GradeRun.

    Only what changed is graded again (regrade.py): a student whose graded copy and options
    are those of their last ``ok`` grade keeps it, unless named in ``students`` or ``force``.

    sandbox: "auto" (when possible), "yes" (fail if impossible) or "no".
    settings: SandboxSettings (uid and limits) for sandboxed kernels; job k uses uid + k.
    student_timeout: wall-clock seconds for one student, after which their grading is
    stopped (default: STUDENT_OVERHEAD_SECONDS + 3 x cell_timeout per notebook).
    jobs: students graded at once (default: grading_slots.default_jobs(), one per core),
    never more than there are submissions.
    """
    start = time.perf_counter()
    jobs = default_jobs() if jobs is None else check_jobs(jobs)
    course_dir = Path(course_dir).resolve()
    check_apart(Path(submissions_dir).resolve(), course_dir)
    info = read_release_info(course_dir, assignment)
    assignment, names = info["assignment"], info["notebooks"]
    maxima = read_gradebook(course_dir, read_maxima, assignment, names)
    submissions = find_submissions(submissions_dir)
    if not submissions:
        raise SubmissionError(f"{submissions_dir} holds no submissions (one folder or .zip per student)")
    named = set(students)
    unknown = sorted(named - {s.student for s in submissions})
    if unknown:
        raise SubmissionError(f"--student {', '.join(unknown)}: no such submission in {submissions_dir}")
    missing = missing_for_sandbox()
    if sandbox == "yes" and missing:
        raise SandboxError(f"--sandbox yes: {missing}")
    settings = (settings or SandboxSettings()) if sandbox != "no" and not missing else None
    jobs = min(jobs, len(submissions))
    private_dir(course_dir)
    remove_leftovers(log)
    limit = student_timeout or STUDENT_OVERHEAD_SECONDS + 3 * cell_timeout * len(names)
    options = {"cell_timeout": cell_timeout, "max_output_bytes": max_output_bytes, "limit": limit,
               "sandbox": asdict(settings) if settings else None}
    run = SharedRun(course_dir, assignment, names, info["student_files"], limit, GradingRecord(course_dir, assignment),
                    options, {"course_dir": str(course_dir), "assignment": assignment, "cell_timeout": cell_timeout,
                              "student_files": info["student_files"], "max_output_bytes": max_output_bytes})
    finished = {}
    with tempfile.TemporaryDirectory(prefix=SCRATCH_PREFIX) as scratch, stop_on_sigterm(), ExitStack() as stack:
        scratch = private_dir(scratch)
        (scratch / OWNER_FILE).write_text(str(os.getpid()), encoding="utf-8")
        slots = open_slots(jobs, scratch, settings, course_dir, stack)
        try:
            grade_in_slots(submissions, slots, run, named, force, finished, log)
        except KeyboardInterrupt:
            results = [finished.get(s.student) or StudentResult(s.student, STOPPED) for s in submissions]
            csv_path = write_grades_csv(course_dir / GRADES_CSV.format(assignment=assignment), maxima, results)
            write_lms_csv(csv_path, assignment)
            raise GradingStopped(f"grading stopped after {len(finished)} of {len(submissions)} submission(s); "
                                 f"{csv_path} lists them") from None
    results = [finished[s.student] for s in submissions]
    csv_path = write_grades_csv(course_dir / GRADES_CSV.format(assignment=assignment), maxima, results)
    write_lms_csv(csv_path, assignment)  # grades-<assignment>-lms.csv for Canvas and Moodle (lms_export.py)
    return GradeRun(results, csv_path, course_dir / "feedback", settings is not None, time.perf_counter() - start,
                    jobs)


def check_apart(submissions_dir, course_dir):
    """Refuse a submissions folder in the course directory (grading replaces what is there) or around it."""
    if submissions_dir == course_dir or course_dir in submissions_dir.parents:
        raise SubmissionError(
            f"{submissions_dir} is inside the course directory {course_dir}, whose submitted/, autograded/ and "
            f"feedback/ folders grading replaces: copy the submissions out first (for nbgrader's collect: "
            f"cp -r {course_dir / 'submitted'} collected, then grade collected)")
    if submissions_dir in course_dir.parents:
        raise SubmissionError(f"the course directory {course_dir} is inside the submissions folder {submissions_dir}: "
                              "keep them apart (--course-dir)")


@dataclass
class SharedRun:
    """What every job of one run reads, and what they take turns to write (under ``lock``):
    the course's gradebook and the grading record."""

    course_dir: Path
    assignment: str
    names: list
    student_files: list
    limit: float
    record: GradingRecord
    options: dict
    job: dict  # autograde_student's JOB fields common to every slot
    lock: threading.Lock = field(default_factory=threading.Lock)
    processes: "RunningStudents" = field(default_factory=lambda: RunningStudents())

    @property
    def db_url(self):
        return f"sqlite:///{self.course_dir / 'gradebook.db'}"


def grade_in_slots(submissions, slots, run, named, force, finished, log):
    """Grade ``submissions`` with one thread per slot; fills ``finished`` {student: StudentResult}.

    On KeyboardInterrupt every student's grading in progress is ended, and ``finished``
    keeps those that completed.
    """
    free = queue.SimpleQueue()
    for slot in slots:
        free.put(slot)

    def grade_next(submission):
        if run.processes.stopped:
            return None
        slot = free.get()
        try:
            return grade_one(submission, run, slot, force or submission.student in named)
        finally:
            free.put(slot)

    with grading_progress(len(submissions), log) as progress, ThreadPoolExecutor(len(slots)) as pool:
        futures = [pool.submit(grade_next, submission) for submission in submissions]
        try:
            for future in as_completed(futures):
                result = future.result()
                if result is None:
                    continue
                finished[result.student] = result
                how = "unchanged, grade kept" if result.kept else f"in {result.seconds:.1f} s"
                progress.log(f"{result.student}: {result.status}, {format_points(result.total)} points {how}")
                progress.done(None if result.kept else result.seconds)
        except BaseException:
            run.processes.stop()
            pool.shutdown(wait=True, cancel_futures=True)
            for future in futures:
                if future.done() and not future.cancelled() and future.exception() is None and future.result():
                    finished.setdefault(future.result().student, future.result())
            raise


def grade_one(submission, run, slot, again=False):
    """Grade one submission in ``slot`` (or keep its earlier grade: see regrade.py).

    Returns a StudentResult, or None when the run was stopped while it was being graded.
    Only the student's own process runs while other jobs do; what this thread does itself
    holds ``run.lock``: it writes the course's gradebook and record, and CPython 3.11's
    ast.parse (review.py) fails when two threads parse at once (CPython gh-106905).
    """
    started = time.perf_counter()
    with run.lock:
        prepared = prepare_student(submission, run, slot, again)
    if isinstance(prepared, StudentResult):
        return prepared
    result, built, digest = prepared
    log_file = private_dir(run.course_dir / "logs") / f"{submission.student}.log"
    output = run_student(dict(run.job, **slot.job, student=submission.student), run, slot.env, result, log_file)
    if run.processes.stopped:
        return None
    with run.lock:
        log_file.write_text(output or "", encoding="utf-8")
        finish_student(result, built, run, slot)
        result.seconds = time.perf_counter() - started
        run.record.save(submission.student, digest, result)
    return result


def prepare_student(submission, run, slot, again):
    """Build the graded copy; a final StudentResult (not gradable, or kept), else (result, built, digest)."""
    result = StudentResult(submission.student)
    if submission.problem:
        result.status = f"not graded: {submission.problem}"
        return result
    course_dir, assignment = run.course_dir, run.assignment
    staging = private_dir(course_dir / STAGING) / submission.student
    shutil.rmtree(staging, ignore_errors=True)
    try:
        built = build_graded_copy(submission, course_dir / "release" / assignment, run.names, run.student_files,
                                  staging / assignment)
    except SubmissionError as error:
        shutil.rmtree(staging, ignore_errors=True)
        result.status = f"not graded: {error}"
        return result
    digest = graded_digest(staging / assignment, run.options)
    earlier = None if again else run.record.unchanged(submission.student, digest)
    if earlier is not None and (course_dir / "autograded" / submission.student / assignment).is_dir():
        shutil.rmtree(staging)
        return kept_result(course_dir, assignment, submission.student, earlier)
    for folder in ("autograded", "feedback", "submitted"):
        shutil.rmtree(course_dir / folder / submission.student, ignore_errors=True)
    graded_copy = course_dir / "submitted" / submission.student / assignment
    graded_copy.parent.mkdir(parents=True)
    os.replace(staging / assignment, graded_copy)
    staging.rmdir()
    result.review = review_submission(graded_copy, course_dir / "release" / assignment, run.student_files)
    if slot.db_url:  # the course's state of this student (points given by hand since the run began)
        copy_submission(run.db_url, slot.db_url, assignment, submission.student)
    if slot.settings is not None:
        end_processes_of(slot.settings.uid)
    return result, built, digest


def finish_student(result, built, run, slot):
    """After the student's process: end leftovers, keep only the feedback pages, read the points."""
    course_dir, assignment, student = run.course_dir, run.assignment, result.student
    survivors = end_processes_of(slot.settings.uid) if slot.settings is not None else 0
    if survivors:  # never expected: each kernel has a PID namespace of its own
        built.notes.append(f"{survivors} process(es) still running after grading were killed")
    feedback = course_dir / "feedback" / student
    keep_only_html(feedback)
    secure_feedback_folder(feedback)
    if slot.db_url:
        copy_submission(slot.db_url, run.db_url, assignment, student)
    read_scores(course_dir, assignment, result)
    if result.status == "ok":
        notes = built.notes + limit_notes(course_dir / "autograded" / student / assignment, run.names, slot.settings)
        if notes:
            result.status = "ok, " + "; ".join(notes)


def kept_result(course_dir, assignment, student, earlier):
    """The earlier grade of an unchanged submission: status, review and seconds recorded, points from the gradebook."""
    result = StudentResult(student, status=earlier["status"], seconds=float(earlier.get("seconds", 0.0)),
                           review=list(earlier.get("review", [])), kept=True)
    read_scores(course_dir, assignment, result)
    return result


def end_processes_of(uid):
    """SIGKILL whatever still runs as the sandbox uid; returns how many (0: each kernel has its own PID namespace)."""
    pids = processes_of(uid)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return len(pids)


class stop_on_sigterm:
    """Within the block, SIGTERM stops grading the way Ctrl-C does (KeyboardInterrupt)."""

    def __enter__(self):
        def interrupt(signum, frame):
            raise KeyboardInterrupt

        self.previous = signal.signal(signal.SIGTERM, interrupt)
        return self

    def __exit__(self, *exc):
        signal.signal(signal.SIGTERM, self.previous)
        return False


def remove_leftovers(log=print):
    """Remove the temporary folders of grading runs that were killed (their owner is gone)."""
    for folder in Path(tempfile.gettempdir()).glob(SCRATCH_PREFIX + "*"):
        try:
            owner = int((folder / OWNER_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if owner != os.getpid() and not Path(f"/proc/{owner}").exists():
            shutil.rmtree(folder, ignore_errors=True)
            log(f"Removed {folder}, left by a grading run that was killed")


def keep_only_html(folder):
    """Feedback folders also get a copy of the assignment's other files: students need only the HTML."""
    if not folder.exists():
        return
    for path in sorted(folder.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if path.is_symlink() or (path.is_file() and path.suffix != ".html"):
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()


def read_gradebook(course_dir, read, *args):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course_dir / 'gradebook.db'}") as gradebook:
        return read(gradebook, *args)


def read_scores(course_dir, assignment, result):
    """Fill the result's per-notebook points and manual_pending from the gradebook."""
    from nbgrader.api import MissingEntry

    if not result.status.startswith("ok"):
        return
    try:
        result.notebooks = read_gradebook(course_dir, read_points, assignment, result.student)
    except MissingEntry:
        result.status = "error: no grades recorded"
        return
    result.manual_pending = sum(points.pending for points in result.notebooks.values())
