"""Stopping ``grade`` stops grading: Ctrl-C, SIGTERM and SIGKILL while a kernel runs student code.

One release of notebook 06; each test grades a copy of its course directory with a
submission whose answer cell loops for good (under a 120 s cell timeout, so only the
signal can end it) and a blank one after it.
"""

import csv
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from cs231n_course.grade import OWNER_FILE, SCRATCH_PREFIX, STOPPED
from cs231n_course.sandbox import DEFAULT_SANDBOX_UID, processes_of, sandbox_available

pytestmark = pytest.mark.skipif(not sandbox_available(), reason="the sandbox needs root on Linux and bwrap")

ASSIGNMENT = "ps06"
NOTEBOOK = "06_dropout"
# Everything of a stopped run must be gone within this many seconds.
GONE_WITHIN = 5


def run_cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "cs231n_course", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600)


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    work = tmp_path_factory.mktemp("stop")
    result = run_cli("release", "--notebooks", NOTEBOOK, "--assignment", ASSIGNMENT, cwd=work)
    assert result.returncode == 0, result.stdout + result.stderr
    return work


@pytest.fixture
def course(released, tmp_path):
    """A fresh course directory and a submissions folder: a-looper (never ends), b-blank."""
    shutil.copytree(released / "grading", tmp_path / "grading")
    submissions = tmp_path / "submissions"
    looper = submissions / "a-looper"
    shutil.copytree(released / "release" / ASSIGNMENT, looper)
    path = looper / f"{NOTEBOOK}.ipynb"
    nb = nbformat.read(path, as_version=4)
    answer = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "06-conventions-answer")
    answer.source = "while True:\n    pass"
    nbformat.write(nb, path)
    shutil.copytree(released / "release" / ASSIGNMENT, submissions / "b-blank")
    return tmp_path


def grader_processes(course_dir):
    """PIDs of autograde_student processes grading in ``course_dir``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if b"cs231n_course.autograde_student" in command and str(course_dir).encode() in command:
                found.append(int(entry.name))
    return found


def start_grading(course):
    process = subprocess.Popen(
        [sys.executable, "-m", "cs231n_course", "grade", "submissions", "--timeout", "120"],
        cwd=course, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not processes_of(DEFAULT_SANDBOX_UID):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no kernel started within 120 s"
        time.sleep(0.2)
    time.sleep(2)  # the looping cell is running
    return process


def seconds_until_gone(course_dir):
    """Seconds until no kernel and no per-student grader of ``course_dir`` runs (fails after GONE_WITHIN)."""
    start = time.monotonic()
    while processes_of(DEFAULT_SANDBOX_UID) or grader_processes(course_dir):
        elapsed = time.monotonic() - start
        assert elapsed < GONE_WITHIN, (f"after {elapsed:.1f} s still running: kernels "
                                       f"{processes_of(DEFAULT_SANDBOX_UID)}, graders {grader_processes(course_dir)}")
        time.sleep(0.1)
    return time.monotonic() - start


def csv_rows(course):
    with open(course / "grading" / f"grades-{ASSIGNMENT}.csv", newline="", encoding="utf-8") as f:
        return {row["student"]: row for row in csv.DictReader(f)}


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_or_sigterm_ends_every_kernel_and_writes_a_whole_csv(course, signum):
    process = start_grading(course)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stderr
    assert "grading stopped after 0 of 2 submission(s)" in stderr
    seconds_until_gone(course / "grading")
    rows = csv_rows(course)
    assert sorted(rows) == ["a-looper", "b-blank"]
    assert all(row["status"] == STOPPED for row in rows.values()), rows


def test_sigkill_ends_every_kernel_and_the_next_run_cleans_up(course):
    process = start_grading(course)
    scratch = [folder for folder in Path("/tmp").glob(SCRATCH_PREFIX + "*")
               if (folder / OWNER_FILE).is_file() and (folder / OWNER_FILE).read_text() == str(process.pid)]
    assert len(scratch) == 1
    process.kill()
    process.communicate(timeout=30)
    seconds_until_gone(course / "grading")
    assert scratch[0].exists(), "nothing was left behind: this test would prove nothing"
    assert not (course / "grading" / f"grades-{ASSIGNMENT}.csv").exists(), "a killed run wrote a CSV"

    shutil.rmtree(course / "submissions" / "a-looper")
    again = run_cli("grade", "submissions", "--timeout", "30", cwd=course)
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"Removed {scratch[0]}" in again.stdout
    assert not scratch[0].exists()
    assert csv_rows(course)["b-blank"]["status"] == "ok"

