"""``cs231n-course``: release the course, grade submissions, validate your work, sync the workspace.

Also runnable as ``python -m cs231n_course``.
"""

import argparse
import sys
from pathlib import Path

from cs231n_course.config import (
    DEFAULT_ASSIGNMENT,
    DEFAULT_CELL_TIMEOUT,
    DEFAULT_MAX_OUTPUT_BYTES,
)
from cs231n_course.sandbox import (
    DEFAULT_MAX_PROCESSES,
    DEFAULT_MEMORY_MB,
    DEFAULT_SANDBOX_UID,
)

DESCRIPTION = """\
The course's workflow on nbgrader.
  instructors:    cs231n-course release  ->  hand out release/cs231n.zip
                  cs231n-course grade submissions/  ->  grading/grades-cs231n.csv, grading/feedback/
  students:       cs231n-course validate  (runs the public tests of your notebooks)
  make lab runs:  cs231n-course workspace (builds or updates workspace/ from release/)
"""


def build_parser():
    parser = argparse.ArgumentParser(prog="cs231n-course", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    release = commands.add_parser(
        "release", help="build the students' version of the course into release/ (and a zip)",
        description="Generate the student version with nbgrader (solutions and hidden tests removed), "
                    "strip every solution region from the library, zip it, and check that no solution "
                    "text is left anywhere in the release.")
    add_course_options(release)
    release.add_argument("--assignment", default=DEFAULT_ASSIGNMENT,
                         help="the assignment name, also the release folder's (default: %(default)s)")
    release.add_argument("--release-dir", default="release", type=Path,
                         help="where the student version and its zip go (default: %(default)s)")
    release.add_argument("--notebooks-dir", type=Path, default=None,
                         help="the instructor notebooks (default: notebooks/ of this checkout)")
    release.add_argument("--notebooks", nargs="+", metavar="NAME", default=None,
                         help="release only these notebooks, e.g. 06_dropout (default: all)")

    grade = commands.add_parser(
        "grade", help="autograde every submission, write feedback and grades.csv",
        description="Autograde copies of the submissions (never the originals) with nbgrader, "
                    "several students at once (--jobs), each in a sandbox, then write HTML feedback without hidden "
                    "tests to <course-dir>/feedback/ and one row per student to <course-dir>/grades-<assignment>.csv.")
    grade.add_argument("submissions", type=Path,
                       help="folder with one folder or .zip per student, named by student id, "
                            "each holding the release layout (the notebooks and cs231n_lib/)")
    add_course_options(grade)
    grade.add_argument("--assignment", default=None,
                       help="which release to grade (default: the only one in the course directory)")
    grade.add_argument("--student", action="append", default=[], metavar="ID",
                       help="grade this student again even if their submission did not change "
                            "(repeatable); by default only new or changed submissions are graded")
    grade.add_argument("--force", action="store_true",
                       help="grade every submission again, changed or not")
    grade.add_argument("--jobs", type=int, default=None, metavar="N",
                       help="students graded at once, each with its own sandbox uid (--sandbox-uid + 0..N-1) "
                            "and gradebook copy (default: one per core, fewer if there is less than 1 GiB of "
                            "free memory per job)")
    grade.add_argument("--timeout", type=int, default=DEFAULT_CELL_TIMEOUT, metavar="SECONDS",
                       help="per-cell time limit; a cell still running is interrupted and scores 0 "
                            "(default: %(default)s)")
    grade.add_argument("--student-timeout", type=int, default=None, metavar="SECONDS",
                       help="wall-clock limit for one student, for a kernel that ignores interrupts "
                            "(default: 120 + 3 x --timeout per notebook)")
    grade.add_argument("--sandbox", choices=["auto", "yes", "no"], default="auto",
                       help="run each kernel in a bubblewrap sandbox (empty root, no network, its own "
                            "uid and PID namespace): needs root on Linux and bwrap; auto = when "
                            "possible (default: %(default)s)")
    grade.add_argument("--sandbox-uid", type=int, default=DEFAULT_SANDBOX_UID, metavar="UID",
                       help="numeric uid student code runs as; no account may have it (default: %(default)s)")
    grade.add_argument("--memory-mb", type=int, default=DEFAULT_MEMORY_MB, metavar="MB",
                       help="memory (address space) of each sandboxed process (default: %(default)s)")
    grade.add_argument("--max-processes", type=int, default=DEFAULT_MAX_PROCESSES, metavar="N",
                       help="processes and threads a student's code may run at once (default: %(default)s)")
    grade.add_argument("--max-output-kb", type=int, default=DEFAULT_MAX_OUTPUT_BYTES // 1000, metavar="KB",
                       help="output one cell keeps; the rest is cut with a note (default: %(default)s)")

    validate = commands.add_parser(
        "validate", help="run your notebooks' public tests and say which pass",
        description="Run each notebook top to bottom as the grader would (public tests only) and "
                    "report the tests that fail. Your files are not changed.")
    validate.add_argument("paths", nargs="*", type=Path,
                          help="notebooks or folders of notebooks (default: workspace/ if it exists, else .)")
    validate.add_argument("--timeout", type=int, default=DEFAULT_CELL_TIMEOUT, metavar="SECONDS",
                          help="per-cell time limit (default: %(default)s)")

    workspace = commands.add_parser(
        "workspace", help="build or update your workspace/ from the release, never overwriting your work",
        description="Copy new course files into the workspace; files you changed are kept and the "
                    "course's new version is put in .course-updates/ beside them.")
    workspace.add_argument("--release-dir", default=Path("release") / DEFAULT_ASSIGNMENT, type=Path,
                           help="the released course folder (default: %(default)s)")
    workspace.add_argument("--workspace-dir", default=Path("workspace"), type=Path,
                           help="your workspace (default: %(default)s)")

    normalize = commands.add_parser(
        "normalize", help="store course notebooks in their one normalized form (for course authors)",
        description="Rewrite notebooks in place without run-specific metadata (kernelspec and Python "
                    "version, cell UI state, widget views): what running them in JupyterLab adds. "
                    "Outputs stay. tests/test_notebook_format.py checks that every course notebook is stored so.")
    normalize.add_argument("notebooks", nargs="+", type=Path, help="notebook files, e.g. notebooks/*.ipynb")

    gradescope = commands.add_parser(
        "gradescope", help="write autograder.zip: the release's grader for Gradescope",
        description="Package the released assignment's grader for Gradescope: setup.sh, run_autograder, "
                    "the gradebook with the hidden tests and a wheel of this package (library without "
                    "solutions). Gradescope grades each submission with the sandbox and hidden tests of "
                    "`grade` and shows one test per graded cell.")
    add_course_options(gradescope)
    gradescope.add_argument("--assignment", default=None,
                            help="which release (default: the only one in the course directory)")
    gradescope.add_argument("--output", default=Path("autograder.zip"), type=Path,
                            help="the zip to write (default: %(default)s)")
    gradescope.add_argument("--timeout", type=int, default=DEFAULT_CELL_TIMEOUT, metavar="SECONDS",
                            help="per-cell time limit (default: %(default)s)")
    gradescope.add_argument("--allow-unsandboxed", action="store_true",
                            help="where Gradescope's container cannot run the sandbox, grade without it "
                                 "(student code then runs as root beside the hidden tests); by default "
                                 "such a submission is not graded and says so")
    return parser


def add_course_options(parser):
    parser.add_argument("--course-dir", default=Path("grading"), type=Path,
                        help="the nbgrader course directory: sources, gradebook, submitted copies, "
                             "feedback, grades.csv; kept private (default: %(default)s)")


def run_release(args):
    from cs231n_course.release import release_course

    release = release_course(args.course_dir, args.release_dir, args.assignment, args.notebooks_dir,
                             args.notebooks)
    print(f"Released {len(release.notebooks)} notebook(s) and the library "
          f"({len(release.student_files)} file(s) with exercises) in {release.seconds:.1f} s:")
    print(f"  {release.folder}/  and  {release.archive}")
    print(f"  Checked {release.secrets_checked} solution texts: none appears in the release"
          + (f" ({len(release.skipped_secrets)} also occur outside solutions, not checkable: "
             f"{', '.join(release.skipped_secrets)})" if release.skipped_secrets else "") + ".")
    print(f"  nbgrader course directory (keep it private): {args.course_dir}/")
    return 0


def run_grade(args):
    from cs231n_course.grade import GradingStopped, format_points, grade_submissions
    from cs231n_course.grading_slots import check_jobs
    from cs231n_course.sandbox import SandboxSettings

    if args.max_output_kb < 1:
        raise ValueError(f"--max-output-kb must be at least 1, got {args.max_output_kb}")
    if args.jobs is not None:
        check_jobs(args.jobs)
    settings = SandboxSettings(uid=args.sandbox_uid, memory_mb=args.memory_mb, max_processes=args.max_processes)
    try:
        run = grade_submissions(args.submissions, args.course_dir, args.timeout, args.student_timeout,
                                args.sandbox, settings, args.assignment, max_output_bytes=args.max_output_kb * 1000,
                                force=args.force, students=args.student, jobs=args.jobs)
    except GradingStopped as stopped:
        print(f"cs231n-course grade: {stopped}", file=sys.stderr)
        return 130
    ok = [r for r in run.results if r.status.startswith("ok")]
    kept = sum(r.kept for r in run.results)
    where = "sandboxed" if run.sandboxed else "NOT sandboxed: student code ran as you"
    print(f"Graded {len(ok)} of {len(run.results)} submission(s) in {run.seconds:.1f} s "
          f"({where}, {run.jobs} at once).")
    if kept:
        print(f"  {kept} of them unchanged since their last grade, which stands (--force grades everyone again).")
    for r in run.results:
        flag = f"  REVIEW {' | '.join(r.review)}" if r.review else ""
        print(f"  {r.student:20s} {format_points(r.total):>6s}  {r.status}{flag}")
    print(f"Grades: {run.csv_path}\nFeedback: {run.feedback_dir}/<student>/")
    return 0 if len(ok) == len(run.results) else 1


def run_validate(args):
    from cs231n_course.validate import validate_paths

    paths = args.paths or [Path("workspace") if Path("workspace").is_dir() else Path(".")]
    return validate_paths(paths, args.timeout)


def run_workspace(args):
    from cs231n_course.workspace import format_report, sync_workspace

    report = sync_workspace(args.release_dir, args.workspace_dir)
    text = format_report(report, args.workspace_dir)
    if text:
        print(text)
    return 0


def run_normalize(args):
    from cs231n_course.notebook_format import normalize_file

    changed = [path for path in args.notebooks if normalize_file(path)]
    print(f"normalized {len(changed)} of {len(args.notebooks)} notebook(s)"
          + (": " + ", ".join(str(p) for p in changed) if changed else ""))
    return 0


def run_gradescope(args):
    from cs231n_course.gradescope import AutograderError, build_autograder

    try:
        path, settings = build_autograder(args.course_dir, args.output, args.assignment, args.timeout,
                                          allow_unsandboxed=args.allow_unsandboxed)
    except AutograderError as error:
        print(f"cs231n-course gradescope: {error}", file=sys.stderr)
        return 2
    print(f"Wrote {path} ({path.stat().st_size / 2**20:.1f} MiB): {settings['assignment']}, "
          f"{len(settings['notebooks'])} notebook(s). Upload it as a programming assignment's autograder (README):\n"
          f"  autograder points {settings['auto_points']:g}; written answers, graded by hand: "
          f"{settings['manual_points']:g} point(s).")
    return 0


COMMANDS = {"release": run_release, "grade": run_grade, "validate": run_validate, "workspace": run_workspace,
            "normalize": run_normalize, "gradescope": run_gradescope}


def main(argv=None):
    args = build_parser().parse_args(argv)
    # Imported after parsing: they pull in nbgrader, which --help does not need.
    from cs231n_course.release import ReleaseError
    from cs231n_course.sandbox import SandboxError
    from cs231n_course.submissions import SubmissionError

    try:
        return COMMANDS[args.command](args)
    except (ReleaseError, SubmissionError, SandboxError, FileNotFoundError, ValueError) as error:
        print(f"cs231n-course {args.command}: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
