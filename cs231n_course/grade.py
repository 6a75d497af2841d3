"""``cs231n-course grade SUBMISSIONS``: autograde every submission, feedback, grades CSV.

For each student, in a process of its own with a wall-clock limit: the graded copy is
built (the release plus the student's answer files, ``submissions.build_graded_copy``)
in ``<course-dir>/submitted/<student>/``, then nbgrader ``autograde`` and
``generate_feedback`` run with every kernel in the sandbox (``sandbox.py``). Afterwards
``<course-dir>/grades-<assignment>.csv`` gets one row per entry of the submissions
folder (its columns: ``grades_csv.py``), and only the (sanitized) HTML feedback is kept
in ``<course-dir>/feedback/``.

Stopping ``grade`` stops grading: Ctrl-C or SIGTERM ends the student's process (and so
every kernel of it) and writes the CSV with the students not yet graded marked so;
after SIGKILL the student's process and kernels die with it (PR_SET_PDEATHSIG,
bubblewrap's --die-with-parent), and the next run removes what the killed one left in
the temporary folder.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path

from cs231n_course.cgroup import memory_cgroup, remove_cgroup
from cs231n_course.config import DEFAULT_CELL_TIMEOUT, DEFAULT_MAX_OUTPUT_BYTES
from cs231n_course.feedback import secure_feedback_folder
from cs231n_course.grades_csv import (
    format_points,
    read_maxima,
    read_points,
    write_grades_csv,
)
from cs231n_course.kernel_launcher import die_with_parent
from cs231n_course.limits import PROCESS_REFUSALS, limit_notes
from cs231n_course.lms_export import write_lms_csv
from cs231n_course.progress import grading_progress
from cs231n_course.regrade import GradingRecord, graded_digest
from cs231n_course.release import private_dir, read_release_info
from cs231n_course.review import review_submission
from cs231n_course.sandbox import (
    SandboxError,
    SandboxSettings,
    check_uid_free,
    hold_uid,
    missing_for_sandbox,
    processes_of,
    write_kernelspec,
)
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


class GradingStopped(KeyboardInterrupt):
    """Ctrl-C or SIGTERM during grading; the CSV of what was graded has been written."""


def grade_submissions(submissions_dir, course_dir="grading", cell_timeout=DEFAULT_CELL_TIMEOUT,
                      student_timeout=None, sandbox="auto", settings=None, assignment=None,
                      max_output_bytes=DEFAULT_MAX_OUTPUT_BYTES, log=print, force=False, students=()):
    """Grade every submission in ``submissions_dir``; returns a GradeRun.

    Only what changed is graded again (regrade.py): a student whose graded copy and options
    are those of their last ``ok`` grade keeps it, unless named in ``students`` or ``force``.

    sandbox: "auto" (when possible), "yes" (fail if impossible) or "no".
    settings: SandboxSettings (uid and limits) for sandboxed kernels.
    student_timeout: wall-clock seconds for one student, after which their grading is
    stopped (default: STUDENT_OVERHEAD_SECONDS + 3 x cell_timeout per notebook).
    """
    start = time.perf_counter()
    course_dir = Path(course_dir).resolve()
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
    uid_lock = None
    if settings is not None:
        check_uid_free(settings.uid)
        uid_lock = hold_uid(settings.uid)
    private_dir(course_dir)
    remove_leftovers(log)
    results = []
    with tempfile.TemporaryDirectory(prefix=SCRATCH_PREFIX) as scratch, stop_on_sigterm(), ExitStack() as stack:
        if uid_lock is not None:
            stack.callback(uid_lock.close)
        scratch = private_dir(scratch)
        (scratch / OWNER_FILE).write_text(str(os.getpid()), encoding="utf-8")
        socket_dir = scratch / "sockets"
        socket_dir.mkdir()
        cgroup = memory_cgroup(settings.memory_mb * 2**20, settings.uid) if settings else None
        stack.callback(remove_cgroup, cgroup)
        write_kernelspec(scratch / "jupyter", settings, socket_dir, scratch / "etc", cgroup)
        env = dict(os.environ, JUPYTER_PATH=os.pathsep.join(filter(None, [str(scratch / "jupyter"),
                                                                         os.environ.get("JUPYTER_PATH")])))
        limit = student_timeout or STUDENT_OVERHEAD_SECONDS + 3 * cell_timeout * len(names)
        job = {"course_dir": str(course_dir), "assignment": assignment, "cell_timeout": cell_timeout,
               "student_files": info["student_files"], "max_output_bytes": max_output_bytes,
               "kernel_name": "cs231n-grading",
               # Unix sockets in the private scratch folder, sandboxed or not: no kernel on TCP.
               "socket_dir": str(socket_dir), "uid": settings.uid if settings else None}
        record = GradingRecord(course_dir, assignment)
        options = {"cell_timeout": cell_timeout, "max_output_bytes": max_output_bytes, "limit": limit,
                   "sandbox": asdict(settings) if settings else None}
        try:
            with grading_progress(len(submissions), log) as progress:
                for submission in submissions:
                    again = force or submission.student in named
                    result = grade_one(submission, course_dir, names, info["student_files"], job, limit, env,
                                       settings, record, options, again)
                    results.append(result)
                    how = "unchanged, grade kept" if result.kept else f"in {result.seconds:.1f} s"
                    progress.log(f"{submission.student}: {result.status}, {format_points(result.total)} points "
                                 f"{how}")
                    progress.done(0.0 if result.kept else result.seconds)
        except KeyboardInterrupt:
            done = {r.student for r in results}
            results += [StudentResult(s.student, STOPPED) for s in submissions if s.student not in done]
            csv_path = write_grades_csv(course_dir / GRADES_CSV.format(assignment=assignment), maxima, results)
            write_lms_csv(csv_path, assignment)
            raise GradingStopped(f"grading stopped after {len(done)} of {len(submissions)} submission(s); "
                                 f"{csv_path} lists them") from None
    csv_path = write_grades_csv(course_dir / GRADES_CSV.format(assignment=assignment), maxima, results)
    write_lms_csv(csv_path, assignment)  # grades-<assignment>-lms.csv for Canvas and Moodle (lms_export.py)
    return GradeRun(results, csv_path, course_dir / "feedback", settings is not None, time.perf_counter() - start)


def grade_one(submission, course_dir, names, student_files, job, limit, env, settings, record, options,
              again=False):
    """Grade one submission (or keep its earlier grade: see regrade.py); a StudentResult."""
    result = StudentResult(submission.student)
    started = time.perf_counter()
    if submission.problem:
        result.status = f"not graded: {submission.problem}"
        return result
    assignment = job["assignment"]
    staging = private_dir(course_dir / STAGING) / submission.student
    shutil.rmtree(staging, ignore_errors=True)
    try:
        built = build_graded_copy(submission, course_dir / "release" / assignment, names, student_files,
                                  staging / assignment)
    except SubmissionError as error:
        shutil.rmtree(staging, ignore_errors=True)
        result.status = f"not graded: {error}"
        return result
    digest = graded_digest(staging / assignment, options)
    earlier = None if again else record.unchanged(submission.student, digest)
    if earlier is not None and (course_dir / "autograded" / submission.student / assignment).is_dir():
        shutil.rmtree(staging)
        return kept_result(course_dir, assignment, submission.student, earlier)
    for folder in ("autograded", "feedback", "submitted"):
        shutil.rmtree(course_dir / folder / submission.student, ignore_errors=True)
    graded_copy = course_dir / "submitted" / submission.student / assignment
    graded_copy.parent.mkdir(parents=True)
    os.replace(staging / assignment, graded_copy)
    staging.rmdir()
    result.review = review_submission(graded_copy, course_dir / "release" / assignment, student_files)
    if settings is not None:
        end_processes_of(settings.uid)
    log_file = private_dir(course_dir / "logs") / f"{submission.student}.log"
    output = run_student(dict(job, student=submission.student), limit, env, course_dir, result, log_file)
    log_file.write_text(output or "", encoding="utf-8")
    survivors = end_processes_of(settings.uid) if settings is not None else 0
    if survivors:  # never expected: each kernel has a PID namespace of its own
        built.notes.append(f"{survivors} process(es) still running after grading were killed")
    feedback = course_dir / "feedback" / submission.student
    keep_only_html(feedback)
    secure_feedback_folder(feedback)
    read_scores(course_dir, assignment, result)
    if result.status == "ok":
        notes = built.notes + limit_notes(course_dir / "autograded" / submission.student / assignment, names,
                                          settings)
        if notes:
            result.status = "ok, " + "; ".join(notes)
    result.seconds = time.perf_counter() - started
    record.save(submission.student, digest, result)
    return result


def kept_result(course_dir, assignment, student, earlier):
    """The earlier grade of an unchanged submission: status, review and seconds recorded, points from the gradebook."""
    result = StudentResult(student, status=earlier["status"], seconds=float(earlier.get("seconds", 0.0)),
                           review=list(earlier.get("review", [])), kept=True)
    read_scores(course_dir, assignment, result)
    return result


def run_student(job, limit, env, course_dir, result, log_file):
    """Run autograde_student for one student; sets result.status on failure; returns its output."""
    command = [sys.executable, "-I", "-m", "cs231n_course.autograde_student", json.dumps(job)]
    process = subprocess.Popen(command, env=env, cwd=course_dir, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True,
                               preexec_fn=die_with_parent)
    try:
        output, _ = process.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        kill_group(process)
        output, _ = process.communicate()
        result.status = f"error: grading took longer than {limit:.0f} s and was stopped"
        return output
    except BaseException:
        kill_group(process)
        process.wait()
        raise
    if process.returncode != 0 and any(refusal in (output or "") for refusal in PROCESS_REFUSALS):
        result.status = ("error: the student's code reached the process limit, and the kernel stopped answering; "
                         f"see logs/{log_file.name}")
    elif process.returncode != 0 and "CellTimeoutError" in (output or ""):
        result.status = (f"error: a cell went on running after being interrupted at the {job['cell_timeout']} s "
                         f"timeout, so nbgrader gave up on the notebook; see logs/{log_file.name}")
    elif process.returncode != 0:
        result.status = f"error: nbgrader failed, see logs/{log_file.name}"
    return output


def kill_group(process):
    try:
        os.killpg(process.pid, signal.SIGKILL)  # its kernels die with it (bubblewrap --die-with-parent)
    except ProcessLookupError:
        pass


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
