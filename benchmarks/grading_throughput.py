"""Grading time for a class: N copies of one full, solved submission, graded with --jobs 1 and --jobs 2.

Run from the repository root, as root with bubblewrap (the kernels run in the sandbox, as
they do when grading for real):

    python -m benchmarks.grading_throughput [--students 20] [--jobs 1 2] [--keep DIR]

The whole course is released into a temporary folder and one submission is made with every
exercise solved (``grading_memory.solved_submission``); ``--students`` copies of it are
graded by ``cs231n-course grade --jobs J`` for each J, each from a fresh copy of the course
directory. Every copy must get every automatic point. Prints, per J, the wall time, the
seconds per submission (wall time / students), the mean seconds one submission took
(the CSV's ``seconds``: longer than wall / students when jobs share the cores) and the time
300 submissions would take at that rate; writes benchmarks/results/grading_throughput.json.
"""

import argparse
import csv
import shutil
import sys
import time
from pathlib import Path

from benchmarks.grading_memory import cli, solved_submission, work_folder
from benchmarks.timing import write_results

ASSIGNMENT = "throughput"
CLASS_SIZE = 300
TARGET_MINUTES = 90
# A uid of its own: a run of ``grade`` with the default one elsewhere on the machine is refused, not disturbed.
SANDBOX_UID = 64900


def grade_copies(work, jobs, students, uid):
    course = work / f"grading-jobs-{jobs}"
    shutil.copytree(work / "grading", course)
    started = time.perf_counter()
    graded = cli("grade", "submissions", "--course-dir", course.name, "--jobs", str(jobs), "--sandbox", "yes",
                 "--sandbox-uid", str(uid), cwd=work)
    wall = time.perf_counter() - started
    with open(course / f"grades-{ASSIGNMENT}.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    wrong = [row["student"] for row in rows if row["status"] != "ok" or row["auto_total"] != row["auto_max"]]
    if graded.returncode != 0 or len(rows) != students or wrong:
        raise RuntimeError(f"--jobs {jobs}: exit {graded.returncode}, not every point for {wrong}:\n"
                           + graded.stdout + graded.stderr)
    per_submission = wall / students
    return {"jobs": jobs, "students": students, "wall_s": round(wall, 1),
            "s_per_submission": round(per_submission, 2),
            "mean_s_one_submission": round(sum(float(row["seconds"]) for row in rows) / students, 1),
            f"minutes_for_{CLASS_SIZE}": round(per_submission * CLASS_SIZE / 60, 1),
            "auto_points": f"{rows[0]['auto_total']} of {rows[0]['auto_max']}"}


def measure(work, students, jobs_list, uid):
    released = cli("release", "--assignment", ASSIGNMENT, cwd=work)
    if released.returncode != 0:
        raise RuntimeError("release failed:\n" + released.stdout + released.stderr)
    first = solved_submission(work / "release" / ASSIGNMENT, work / "submissions" / "student-01")
    for index in range(2, students + 1):
        shutil.copytree(first, work / "submissions" / f"student-{index:02d}")
    return [grade_copies(work, jobs, students, uid) for jobs in jobs_list]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=20, help="copies of the submission (default 20)")
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2], help="values of --jobs (default: 1 2)")
    parser.add_argument("--sandbox-uid", type=int, default=SANDBOX_UID,
                        help=f"first uid the kernels run as (default {SANDBOX_UID}; job k uses it + k)")
    parser.add_argument("--keep", type=Path, default=None, help="work in this (new) folder and keep it")
    args = parser.parse_args(argv)
    with work_folder(args.keep, "grading-throughput-") as work:
        runs = measure(work, args.students, args.jobs, args.sandbox_uid)
    for run in runs:
        print(f"--jobs {run['jobs']}: {run['students']} full submissions in {run['wall_s']:.1f} s = "
              f"{run['s_per_submission']:.2f} s each (one alone took {run['mean_s_one_submission']:.1f} s on "
              f"average); {CLASS_SIZE} would take {run[f'minutes_for_{CLASS_SIZE}']:.1f} min "
              f"(target {TARGET_MINUTES} min with --jobs 2); {run['auto_points']} automatic points each")
    print(f"wrote {write_results('grading_throughput', {'runs': runs})}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
