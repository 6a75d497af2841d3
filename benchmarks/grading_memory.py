"""Peak memory of grading one full, solved submission: every process of ``grade`` together.

Run from the repository root, as root with bubblewrap (so the kernels run in the sandbox,
as they do when grading for real):

    python -m benchmarks.grading_memory [--keep DIR] [--interval 0.1]

The whole course is released into a temporary folder, one submission is made from the
release with every exercise solved (the checkout's ``cs231n_lib/layers.py`` and
``optim.py`` and the instructor's code answer cells; written answers left as released),
and ``cs231n-course grade`` grades it. Every ``--interval`` seconds the resident set
sizes (RSS) of ``grade`` and all its descendants (the student's grading process,
nbgrader, bubblewrap, the kernels) are added up; the largest sum is the peak. Summed RSS
counts a page shared by two processes twice (numpy's libraries in the grader and in the
kernel), so it overstates what the processes need together: an upper bound, which is
what a container's memory limit is compared with. A process that lives less than one
interval can be missed.

Prints the peak in MB (2**20 bytes), the processes and their RSS at that moment, and the
seconds grading took; writes benchmarks/results/grading_memory.json. The budget is
700 MB (a Gradescope container has about 768 MB by default); the exit status is 1 above it.
"""

import argparse
import contextlib
import csv
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import nbformat
import psutil

from benchmarks.timing import write_results

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "memory"
BUDGET_MB = 700
# Not the grader's default uid: a ``grade`` run kills every process of its sandbox uid, so one
# running elsewhere on the machine with the default would kill this run's kernels.
SANDBOX_UID = 64999
MB = 2**20


def cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "cs231n_course", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=1800)


@contextlib.contextmanager
def work_folder(keep, prefix):
    """``keep`` made (a new folder, kept afterwards), or a temporary folder named ``prefix...``."""
    if keep:
        keep.mkdir(parents=True)
        yield keep.resolve()
    else:
        with tempfile.TemporaryDirectory(prefix=prefix) as work:
            yield Path(work)


def instructor_answers():
    """grade_id -> source of every code answer cell in the instructor's notebooks."""
    answers = {}
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type == "code" and meta.get("solution"):
                answers[meta["grade_id"]] = cell.source
    return answers


def solved_submission(release, folder):
    """A copy of the release with every code exercise solved as the instructor did."""
    shutil.copytree(release, folder)
    for module in ("layers.py", "optim.py"):
        shutil.copy(ROOT / "cs231n_lib" / module, folder / "cs231n_lib" / module)
    answers, used = instructor_answers(), set()
    for path in sorted(folder.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id in answers:
                cell.source = answers[grade_id]
                used.add(grade_id)
        nbformat.write(nb, path)
    missing = sorted(set(answers) - used)
    if missing:
        raise RuntimeError(f"{len(missing)} answer cell(s) not found in the release: {missing}")
    return folder


def label(cmdline):
    """A short name for a process: its program and the module (``-m``) or script it runs, if any."""
    if not cmdline:
        return ""
    program = Path(cmdline[0]).name
    if "-m" in cmdline[:-1]:
        return f"{program} -m {cmdline[cmdline.index('-m') + 1]}"
    script = next((Path(arg).name for arg in cmdline[1:] if arg.endswith(".py")), "")
    return f"{program} {script}".strip()


def tree_rss(process):
    """{pid: (name, rss bytes)} of process and all its descendants (those that vanish are skipped)."""
    try:
        members = [process, *process.children(recursive=True)]
    except psutil.NoSuchProcess:
        return {}
    sizes = {}
    for member in members:
        try:
            sizes[member.pid] = (label(member.cmdline()) or member.name(), member.memory_info().rss)
        except psutil.NoSuchProcess:
            pass
    return sizes


class PeakSampler(threading.Thread):
    """Samples tree_rss(pid) every interval seconds until stop(); keeps the largest sum."""

    def __init__(self, pid, interval):
        super().__init__(daemon=True)
        self.process, self.interval = psutil.Process(pid), interval
        self.peak, self.at_peak, self.samples = 0, {}, 0
        self.stopping = threading.Event()

    def run(self):
        while not self.stopping.is_set():
            sizes = tree_rss(self.process)
            total = sum(rss for _, rss in sizes.values())
            self.samples += 1
            if total > self.peak:
                self.peak, self.at_peak = total, sizes
            self.stopping.wait(self.interval)

    def stop(self):
        self.stopping.set()
        self.join()


def measure(work, interval, uid):
    released = cli("release", "--assignment", ASSIGNMENT, cwd=work)
    if released.returncode != 0:
        raise RuntimeError("release failed:\n" + released.stdout + released.stderr)
    solved_submission(work / "release" / ASSIGNMENT, work / "submissions" / "solved")
    command = [sys.executable, "-m", "cs231n_course", "grade", "submissions", "--sandbox", "yes",
               "--sandbox-uid", str(uid)]
    started = time.perf_counter()
    grading = subprocess.Popen(command, cwd=work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    sampler = PeakSampler(grading.pid, interval)
    sampler.start()
    output, _ = grading.communicate(timeout=1800)
    seconds = time.perf_counter() - started
    sampler.stop()
    with open(work / "grading" / f"grades-{ASSIGNMENT}.csv", newline="", encoding="utf-8") as f:
        [row] = list(csv.DictReader(f))
    if grading.returncode != 0 or row["status"] != "ok":
        raise RuntimeError(f"grading failed (exit {grading.returncode}, status {row['status']!r}):\n{output}")
    return {
        "peak_mb": round(sampler.peak / MB, 1),
        "budget_mb": BUDGET_MB,
        "seconds": round(seconds, 1),
        "samples": sampler.samples,
        "interval_s": interval,
        "auto_points": f"{row['auto_total']} of {row['auto_max']}",
        "processes_at_peak": sorted(([name, round(rss / MB, 1)] for name, rss in sampler.at_peak.values()),
                                    key=lambda item: -item[1]),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--interval", type=float, default=0.1, help="seconds between samples (default 0.1)")
    parser.add_argument("--sandbox-uid", type=int, default=SANDBOX_UID,
                        help=f"uid the kernels run as (default {SANDBOX_UID}, no process may run as it)")
    parser.add_argument("--keep", type=Path, default=None, help="work in this (new) folder and keep it")
    args = parser.parse_args(argv)
    with work_folder(args.keep, "grading-memory-") as work:
        result = measure(work, args.interval, args.sandbox_uid)
    print(f"peak memory of grading one full submission: {result['peak_mb']:.1f} MB "
          f"(summed RSS of all processes, budget {BUDGET_MB} MB), {result['seconds']:.1f} s, "
          f"{result['auto_points']} automatic points, {result['samples']} samples")
    for name, rss in result["processes_at_peak"]:
        print(f"  {rss:7.1f} MB  {name}")
    print(f"wrote {write_results('grading_memory', result)}")
    return 0 if result["peak_mb"] <= BUDGET_MB else 1


if __name__ == "__main__":
    sys.exit(main())
