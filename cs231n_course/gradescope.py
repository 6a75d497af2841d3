"""``cs231n-course gradescope``: an autograder zip for Gradescope, and what it runs there.

Gradescope grades each submission in a container of its own, built once from the zip:
it runs ``setup.sh`` (as root, on Ubuntu) when it builds the image, then, per
submission, ``run_autograder`` with the student's files in ``/autograder/submission/``;
whatever ``/autograder/results/results.json`` says is the grade (see Gradescope's
autograder specification). The zip (``build_autograder``) holds, at its root:

- ``setup.sh``: installs Python, bubblewrap and, into a virtual environment at
  ``GRADER_VENV``, the course's dependencies and this package from the wheel in
  ``wheels/`` (no git clone, no checkout);
- ``run_autograder``: runs ``python -m cs231n_course.gradescope``, which is ``run_autograder``
  below;
- ``course/``: the private part of the instructor's course directory that grading reads
  (the gradebook with the hidden tests, ``source/`` and ``release/`` of the assignment, the
  release info), never a student's grade or feedback;
- ``wheels/``: this package, built with the *released* library (every solution region
  stripped, the release's own check), so the grader's site-packages, which the sandbox
  shows read-only to student code, holds no solution;
- ``constraints-pyX.Y.txt``: the versions the instructor tested with, used when the
  image's Python is X.Y; ``gradescope.json``: the assignment and the grading options.

Grading one submission is ``grade.grade_submissions`` on a folder holding that one
submission (student id ``submission``), with a scratch copy of ``course/``: the same
graded copy, sandbox, hidden tests and limits as ``cs231n-course grade``. Then
``results.json`` gets one test per graded cell of the release (see ``cell_tests``).
``CS231N_AUTOGRADER_ROOT`` moves ``/autograder`` (the tests emulate the tree).
"""

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import nbformat

from cs231n_course.config import DEFAULT_CELL_TIMEOUT, LIBRARY_NAME, library_dir
from cs231n_course.release import RELEASE_INFO, read_release_info, zip_folder

AUTOGRADER_ZIP = "autograder.zip"
ROOT_ENV = "CS231N_AUTOGRADER_ROOT"
DEFAULT_ROOT = "/autograder"
GRADER_VENV = "/opt/cs231n-grader"
PYTHON_ENV = "CS231N_GRADER_PYTHON"
STUDENT = "submission"
SETTINGS_FILE = "gradescope.json"
# Folders of the instructor's course directory that grading needs (the rest is grades and feedback).
COURSE_PARTS = ("source", "release")
# The end of what one test's output shows (Gradescope shows text; a long traceback helps no one).
MAX_TEST_OUTPUT = 4000
# Visibility of a cell's result: at once when the student can run the same check themselves,
# after grades are published when it also runs hidden tests (its score would answer them).
PUBLIC_VISIBILITY = "visible"
HIDDEN_VISIBILITY = "after_published"

SETUP_SH = """\
#!/usr/bin/env bash
# Written by `cs231n-course gradescope`. Gradescope runs it once, as root, when it builds
# the autograder's image (Ubuntu): Python, bubblewrap for the sandbox, and the grader in a
# virtual environment from the wheel in this zip (its dependencies from PyPI).
set -euo pipefail
SOURCE=/autograder/source
VENV={venv}
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends python3 python3-venv python3-pip bubblewrap util-linux
python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install --no-cache-dir --upgrade pip
VERSION=$("$VENV/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
CONSTRAINTS="$SOURCE/constraints-py$VERSION.txt"
if [ -f "$CONSTRAINTS" ]; then
    set -- -c "$CONSTRAINTS"
else
    echo "No constraints for Python $VERSION (tested with {tested}): newest versions allowed by the wheel."
    set --
fi
"$VENV/bin/python" -m pip install --no-cache-dir "$@" "$SOURCE/wheels/{wheel}"
# Build matplotlib's font cache once (the sandbox hands it to every kernel) and check the install.
"$VENV/bin/python" -c "import matplotlib.pyplot, cs231n_course.gradescope"
chmod +x "$SOURCE/run_autograder"
"""

RUN_AUTOGRADER = """\
#!/usr/bin/env bash
# Written by `cs231n-course gradescope`. Gradescope runs it, as root in /autograder, once per
# submission; it writes /autograder/results/results.json ({root_env} moves /autograder).
exec "${{{python_env}:-{venv}/bin/python}}" -I -m cs231n_course.gradescope "$@"
"""


class AutograderError(RuntimeError):
    """The autograder zip could not be built; the message says why."""


# --- Building the zip --------------------------------------------------------------------------


def build_autograder(course_dir="grading", output=AUTOGRADER_ZIP, assignment=None,
                     cell_timeout=DEFAULT_CELL_TIMEOUT, project_dir=None, allow_unsandboxed=False):
    """Write the autograder zip for the released ``assignment`` of ``course_dir``; returns (path, settings).

    allow_unsandboxed: grade without the sandbox where the container cannot run it (student
    code then runs as root beside the hidden tests); by default such a submission is not graded.

    project_dir: the checkout whose pyproject.toml and cs231n_course/ go into the wheel
    (default: the one this package runs from).
    """
    course_dir = Path(course_dir).resolve()
    info = read_release_info(course_dir, assignment)
    assignment = info["assignment"]
    project_dir = Path(project_dir) if project_dir else Path(__file__).resolve().parents[1]
    if not (project_dir / "pyproject.toml").is_file():
        raise AutograderError(f"no pyproject.toml in {project_dir}: run from a checkout of the course")
    output = Path(output)
    with tempfile.TemporaryDirectory(prefix="cs231n-gradescope-build-") as scratch:
        scratch = Path(scratch)
        root = scratch / "zip"
        root.mkdir()
        copy_course(course_dir, assignment, root / "course")
        wheel = build_wheel(project_dir, course_dir / "release" / assignment / LIBRARY_NAME, root / "wheels",
                            scratch / "project")
        check_wheel(wheel, scratch / "unpacked")
        tested = f"{sys.version_info.major}.{sys.version_info.minor}"
        (root / f"constraints-py{tested}.txt").write_text(frozen_requirements(), encoding="utf-8")
        auto_points, manual_points = course_points(course_dir, assignment, info["notebooks"])
        settings = {"assignment": assignment, "notebooks": info["notebooks"], "cell_timeout": cell_timeout,
                    "tested_python": tested, "wheel": wheel.name, "auto_points": auto_points,
                    "manual_points": manual_points, "allow_unsandboxed": bool(allow_unsandboxed)}
        (root / SETTINGS_FILE).write_text(json.dumps(settings, indent=1) + "\n", encoding="utf-8")
        write_script(root / "setup.sh", SETUP_SH.format(venv=GRADER_VENV, tested=tested, wheel=wheel.name))
        write_script(root / "run_autograder", RUN_AUTOGRADER.format(venv=GRADER_VENV, python_env=PYTHON_ENV,
                                                                    root_env=ROOT_ENV))
        output.parent.mkdir(parents=True, exist_ok=True)
        zip_folder(root, output, top="")  # setup.sh at the zip's root, as Gradescope wants
    return output, settings


def course_points(course_dir, assignment, notebooks):
    """(automatic, manual) points of the release: Gradescope's autograder and manual questions."""
    from cs231n_course.grade import read_gradebook
    from cs231n_course.grades_csv import read_maxima

    maxima = read_gradebook(course_dir, read_maxima, assignment, notebooks)
    return sum(a for a, _ in maxima.values()), sum(m for _, m in maxima.values())


def copy_course(course_dir, assignment, destination):
    """The gradebook, the release info and the assignment's source/ and release/ folders."""
    gradebook = course_dir / "gradebook.db"
    if not gradebook.is_file():
        raise AutograderError(f"no gradebook in {course_dir}: run `cs231n-course release` first")
    destination.mkdir()
    shutil.copyfile(gradebook, destination / "gradebook.db")
    name = RELEASE_INFO.format(assignment=assignment)
    shutil.copyfile(course_dir / name, destination / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints")
    for part in COURSE_PARTS:
        shutil.copytree(course_dir / part / assignment, destination / part / assignment, ignore=ignore)


def build_wheel(project_dir, released_library, wheels, project):
    """A wheel of this package whose cs231n_lib is the released (solution-free) one; returns its path."""
    if not released_library.is_dir():
        raise AutograderError(f"no released library at {released_library}: run `cs231n-course release` again")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    project.mkdir()
    for name in ("pyproject.toml", "LICENSE"):
        shutil.copyfile(project_dir / name, project / name)
    shutil.copytree(project_dir / "cs231n_course", project / "cs231n_course", ignore=ignore)
    shutil.copytree(released_library, project / LIBRARY_NAME, ignore=ignore)
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(wheels),
                            str(project)], capture_output=True, text=True)
    found = sorted(wheels.glob("*.whl"))
    if built.returncode != 0 or len(found) != 1:
        raise AutograderError(f"pip wheel failed:\n{built.stdout}{built.stderr}")
    return found[0]


def check_wheel(wheel, unpacked):
    """Raise AutograderError when a solution region of the instructor's library is in the wheel."""
    from cs231n_course.leaks import find_leaks, secrets_of_library

    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(unpacked)
    secrets, public = secrets_of_library(library_dir())
    leaks, _ = find_leaks(secrets, public, [unpacked])
    if leaks:
        raise AutograderError(f"solution text in {wheel.name}:\n" + "\n".join(leaks))


def frozen_requirements():
    """``pip freeze`` of this environment without editable installs (this package is one)."""
    frozen = subprocess.run([sys.executable, "-m", "pip", "freeze", "--exclude-editable"], capture_output=True,
                            text=True, check=True).stdout
    kept = [line for line in frozen.splitlines() if line and not line.startswith(("#", "-e ", "cs231n-course"))
            and " @ " not in line]
    return "# The versions `cs231n-course gradescope` was run with (pip constraints).\n" + "\n".join(kept) + "\n"


def write_script(path, text):
    path.write_text(text, encoding="utf-8")
    path.chmod(0o755)


# --- Grading one submission on Gradescope ------------------------------------------------------


def sandbox_mode():
    """("yes", None) when the sandbox works in this container, else ("no", why).

    Root and bwrap are not enough in a container: its seccomp profile may forbid the
    namespaces bubblewrap and the grader make, so both are tried once.
    """
    from cs231n_course.sandbox import missing_for_sandbox

    missing = missing_for_sandbox()
    if missing:
        return "no", missing
    probes = [[shutil.which("bwrap"), "--unshare-pid", "--unshare-net", "--unshare-ipc", "--die-with-parent",
               "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "true"]]
    if shutil.which("unshare"):
        probes.append([shutil.which("unshare"), "--mount", "true"])
    for probe in probes:
        try:
            done = subprocess.run(probe, capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired) as error:
            return "no", f"{Path(probe[0]).name} cannot run here ({error})"
        if done.returncode != 0:
            return "no", f"{Path(probe[0]).name} cannot make namespaces here ({done.stderr.strip()[:200]})"
    return "yes", None


def copy_submission(source, destination):
    """Copy the submission's folders, regular files and links (as links); nothing else is copied.

    build_graded_copy then takes only the answer files from it, refusing links, as ``grade`` does.
    """
    destination.mkdir()
    for parent, folders, files in os.walk(source):
        relative = Path(parent).relative_to(source)
        for name in folders + files:
            path, target = Path(parent) / name, destination / relative / name
            mode = os.lstat(path).st_mode
            if stat.S_ISLNK(mode):
                target.symlink_to(os.readlink(path))
            elif stat.S_ISDIR(mode):
                target.mkdir()
            elif stat.S_ISREG(mode):
                shutil.copyfile(path, target, follow_symlinks=False)
        folders[:] = [name for name in folders if not os.path.islink(Path(parent) / name)]


def run_autograder(root=None, log=print):
    """Grade ``<root>/submission`` and write ``<root>/results/results.json``; returns the results dict."""
    from cs231n_course.grade import grade_submissions

    started = time.perf_counter()
    root = Path(root or os.environ.get(ROOT_ENV) or DEFAULT_ROOT)
    source = root / "source"
    settings = json.loads((source / SETTINGS_FILE).read_text(encoding="utf-8"))
    results_dir = root / "results"
    mode, why = sandbox_mode()
    log(f"Sandbox: {'yes' if mode == 'yes' else 'NO, ' + why}")
    if mode != "yes" and not settings.get("allow_unsandboxed"):
        results = not_graded(NO_SANDBOX, time.perf_counter() - started)
        write_results(results_dir, results)
        log(f"Not graded: the sandbox cannot run here ({why}); rebuild the zip with --allow-unsandboxed "
            "to grade without it")
        return results
    with tempfile.TemporaryDirectory(prefix="cs231n-gradescope-") as scratch:
        scratch = Path(scratch)
        os.chmod(scratch, 0o700)
        course = scratch / "course"
        shutil.copytree(source / "course", course)
        submissions = scratch / "submissions"
        submissions.mkdir()
        if (root / "submission").is_dir():
            copy_submission(root / "submission", submissions / STUDENT)
        else:
            (submissions / STUDENT).mkdir()
        run = grade_submissions(submissions, course, settings["cell_timeout"], sandbox=mode,
                                assignment=settings["assignment"], log=log)
        result = run.results[0]
        tests = cell_tests(course, settings["assignment"], settings["notebooks"], result)
    results = results_json(result, tests, mode, why, time.perf_counter() - started)
    write_results(results_dir, results)
    log(f"{result.status}: {results['score']:g} of {sum(t['max_score'] for t in tests):g} points; "
        f"{results_dir / 'results.json'}")
    return results


# What a student reads when their code was not graded (the autograder's log says why).
NO_SANDBOX = ("Not graded: this autograder cannot isolate student code in this container, so it did "
              "not run your code. Your submission is kept; your instructor will grade it.")
AUTOGRADER_FAILED = ("The autograder failed on this submission: please tell the course staff (the "
                     "autograder's log says why).")


def not_graded(output, seconds=None):
    """results.json of a submission that was not graded: score 0, no tests, ``output`` for the student."""
    results = {"score": 0.0, "output": output, "stdout_visibility": "hidden", "tests": []}
    if seconds is not None:
        results["execution_time"] = round(seconds)
    return results


def write_results(results_dir, results):
    """Write ``results_dir/results.json`` (the folder made if needed)."""
    results_dir.mkdir(parents=True, exist_ok=True)
    (results_dir / "results.json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")


def results_json(result, tests, mode, why, seconds):
    """The whole of results.json (Gradescope's autograder specification)."""
    graded = result.status.startswith("ok")
    lines = ["Graded." if graded else f"Not graded: {result.status.split(': ', 1)[-1]}"]
    if graded and result.status != "ok":
        lines.append(f"Notes: {result.status[len('ok, '):]}")
    lines.append("Student code ran in the grader's sandbox." if mode == "yes" else
                 f"Student code ran WITHOUT the grader's sandbox in this container ({why}).")
    if any(t["visibility"] == HIDDEN_VISIBILITY for t in tests):
        lines.append("Checks that also run hidden tests show their result once grades are published.")
    if any(t["max_score"] == 0 for t in tests):
        lines.append("Written answers are graded by hand.")
    return {
        "score": sum(t["score"] for t in tests),
        "execution_time": round(seconds),
        "output": "\n".join(lines),
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def cell_tests(course, assignment, notebooks, result):
    """One Gradescope test per graded cell of the release, in notebook order.

    Check cells: the autograder's score of the cell, out of its points, and the cell's
    outputs (hidden test lines redacted, paths made relative, as in the feedback page).
    Written answers are graded by hand (a manual question on Gradescope): 0 of 0 here.
    """
    from cs231n_course.grade import read_gradebook

    graded = result.status.startswith("ok")
    tests = []
    for notebook in notebooks:
        cells = read_gradebook(course, gradebook_cells, assignment, notebook, STUDENT if graded else None)
        autograded = course / "autograded" / STUDENT / assignment / f"{notebook}.ipynb"
        outputs = cell_outputs(autograded, course / "release" / assignment) if graded and autograded.is_file() \
            else {}
        for grade_id, kind, max_score, score in cells:
            test = {"name": f"{notebook}: {grade_id}", "number": f"{notebook[:2]}.{len(tests) + 1}"}
            if kind == "manual":
                test.update(score=0.0, max_score=0.0, visibility=PUBLIC_VISIBILITY,
                            output=f"A written answer worth {max_score:g} point(s), graded by hand.")
            else:
                shown, hidden = outputs.get(grade_id, ("", False))
                if not graded:
                    shown = f"Not graded: {result.status.split(': ', 1)[-1]}"
                points = float(score or 0.0)
                test.update(score=points, max_score=float(max_score),
                            status="passed" if points >= max_score else "failed",
                            visibility=HIDDEN_VISIBILITY if hidden else PUBLIC_VISIBILITY,
                            output=shown or ("Passed." if points >= max_score else "Failed."))
            tests.append(test)
    return tests


def gradebook_cells(gradebook, assignment, notebook, student):
    """[(grade_id, "auto" or "manual", max_score, score or None)] of a notebook's graded cells."""
    from cs231n_course.grades_csv import cell_kinds

    released = gradebook.find_notebook(notebook, assignment)
    kinds = cell_kinds(released)
    maxima = {cell.name: cell.max_score for cell in [*released.grade_cells, *released.task_cells]}
    scores = {}
    if student is not None:
        submitted = gradebook.find_submission_notebook(notebook, assignment, student)
        scores = {grade.name: grade.score for grade in submitted.grades}
    return [(name, kinds[name], maxima[name], scores.get(name)) for name in maxima]


def cell_outputs(autograded, release_folder):
    """{grade_id: (text, has_hidden_tests)} of the autograded notebook's graded cells.

    The outputs go through the feedback page's redaction (``RedactHiddenTracebacks``,
    ``RedactHiddenOutputs``) and path rewriting, then become plain text.
    """
    from cs231n_course.feedback import RedactHiddenOutputs, relative_paths
    from cs231n_course.preprocessors import RedactHiddenTracebacks, hidden_test_lines

    nb = nbformat.read(autograded, as_version=4)
    for index, cell in enumerate(nb.cells):
        RedactHiddenTracebacks().preprocess_cell(cell, {}, index)
    RedactHiddenOutputs().preprocess(nb, {})
    relative_paths(nb, [autograded.parent, release_folder], autograded.parent.name)
    found = {}
    for cell in nb.cells:
        info = cell.metadata.get("nbgrader", {})
        if info.get("grade") and cell.cell_type == "code":
            found[info.get("grade_id")] = (outputs_text(cell.get("outputs", [])), bool(hidden_test_lines(cell.source)))
    return found


def outputs_text(outputs):
    """What a cell printed and the error it ended with, as plain text, at most MAX_TEST_OUTPUT characters."""
    from cs231n_course.preprocessors import ANSI_ESCAPE

    pieces = []
    for output in outputs:
        if output.output_type == "stream":
            pieces.append(output.text)
        elif output.output_type == "error":
            pieces.append(f"{output.ename}: {output.evalue}")
        elif output.output_type == "execute_result" and "text/plain" in output.get("data", {}):
            pieces.append(output.data["text/plain"])
    text = ANSI_ESCAPE.sub("", "\n".join(piece.rstrip("\n") for piece in pieces)).strip()
    if len(text) > MAX_TEST_OUTPUT:
        text = "[... cut]\n" + text[-MAX_TEST_OUTPUT:]
    return text


def main():
    """run_autograder's entry point: always leaves a results.json, even when grading fails."""
    root = Path(os.environ.get(ROOT_ENV) or DEFAULT_ROOT)
    try:
        run_autograder(root)
    except Exception as error:  # the student must see a result; the instructor sees the traceback
        import traceback

        traceback.print_exc()
        write_results(root / "results", not_graded(AUTOGRADER_FAILED))
        print(f"cs231n_course.gradescope: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
