"""``cs231n-course release``: the students' version of the course, proven free of solutions.

Steps:
1. ``<course-dir>/source/<assignment>/``: the chosen notebooks, as the student's
   copy words them (``student_notebooks.student_source``), and the library
   with every solution region replaced by ``raise NotImplementedError()``
   (nbgrader copies non-notebook files verbatim, so they must be stripped first).
2. nbgrader ``generate_assignment`` (with whole-line marker rules) fills
   ``<course-dir>/release/<assignment>/`` and the gradebook.
3. That folder is copied to ``<release-dir>/<assignment>/`` and zipped.
4. The text of every solution region (library and notebooks, and every answer
   cell without regions) is searched for in every released file and in the zip.
"""

import hashlib
import json
import os
import shutil
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from cs231n_course.config import (
    DEFAULT_ASSIGNMENT,
    LIBRARY_NAME,
    course_files,
    default_notebooks_dir,
    is_ignored,
    library_dir,
    nbgrader_config,
    read_text_or_none,
)
from cs231n_course.leaks import find_leaks, secrets_of_library, secrets_of_notebooks
from cs231n_course.nbgrader_run import NbgraderFailed, run_nbgrader
from cs231n_course.solutions import solution_regions, strip_solutions
from cs231n_course.student_files import write_student_files
from cs231n_course.student_notebooks import student_source

RELEASE_INFO = "cs231n-release-{assignment}.json"


class ReleaseError(RuntimeError):
    """The release could not be built, or it would leak a solution."""


@dataclass
class Release:
    assignment: str
    folder: Path
    archive: Path
    notebooks: list
    student_files: list
    secrets_checked: int
    seconds: float
    skipped_secrets: list = field(default_factory=list)


def private_dir(path):
    """Create ``path`` (and parents) and make it readable by its owner only."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def select_notebooks(notebooks_dir, names=None):
    """The instructor notebooks to release: all ``*.ipynb`` in notebooks_dir, or the named ones.

    names: stems or file names ("06_dropout" or "06_dropout.ipynb").
    """
    notebooks_dir = Path(notebooks_dir)
    if not notebooks_dir.is_dir():
        raise ReleaseError(
            f"no notebooks folder at {notebooks_dir}: pass --notebooks-dir (the folder of the "
            "instructor notebooks, notebooks/ in a checkout of the course)"
        )
    available = sorted(p for p in notebooks_dir.glob("*.ipynb") if not is_ignored(p))
    if not names:
        return available
    by_stem = {p.stem: p for p in available}
    wanted = [Path(n).stem if n.endswith(".ipynb") else n for n in names]
    missing = [n for n in wanted if n not in by_stem]
    if missing:
        raise ReleaseError(
            f"no notebook named {', '.join(missing)} in {notebooks_dir}; "
            f"there are: {', '.join(sorted(by_stem))}"
        )
    return [by_stem[n] for n in wanted]


def write_student_library(library, destination):
    """Copy the library to destination with every solution region stripped.

    Returns the relative paths (under the assignment folder) of files that had regions.
    """
    library = Path(library)
    edited = []
    for path in course_files(library):
        relative = path.relative_to(library)
        target = Path(destination) / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        text = read_text_or_none(path)
        if text is None:
            shutil.copyfile(path, target)
            continue
        if solution_regions(text, str(path)):
            edited.append((Path(LIBRARY_NAME) / relative).as_posix())
        target.write_text(strip_solutions(text, str(path)), encoding="utf-8")
    return edited


def file_hashes(folder):
    """{relative path: sha256} of every file under folder."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(Path(folder).rglob("*")) if p.is_file()}


def refuse_to_replace_edited(folder, manifest):
    """Raise ReleaseError when someone changed or added files in a previous release folder.

    A release folder is rebuilt whole; work done inside it would be lost, so it
    must be moved aside first (students work in workspace/ or their own copy).
    """
    if not folder.exists():
        return
    built = json.loads(manifest.read_text(encoding="utf-8")) if manifest.is_file() else None
    if built is None:
        changed = sorted(file_hashes(folder))
    else:
        now = file_hashes(folder)
        changed = sorted(name for name in now.keys() | built.keys() if now.get(name) != built.get(name))
    if changed:
        shown = ", ".join(changed[:5]) + (f" and {len(changed) - 5} more" if len(changed) > 5 else "")
        raise ReleaseError(
            f"{folder} holds files that differ from the release built there ({shown}): "
            f"they could be someone's work, so nothing was replaced. Move {folder} aside (or delete "
            "it if it holds nothing of yours) and run release again; work belongs in workspace/."
        )


def zip_folder(folder, archive, top=None):
    """Zip ``folder`` so that it unpacks as ``<top>/...`` (default: the folder's name; "" for its
    contents at the zip's root), file modes kept; written atomically."""
    folder, archive = Path(folder), Path(archive)
    top = folder.name if top is None else top
    partial = archive.with_name(archive.name + ".partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, (Path(top) / path.relative_to(folder)).as_posix())
    os.replace(partial, archive)


def release_course(course_dir="grading", release_dir="release", assignment=DEFAULT_ASSIGNMENT,
                   notebooks_dir=None, notebooks=None, library=None, log=print):
    """Build the student release; returns a Release. Raises ReleaseError on failure or leak."""
    start = time.perf_counter()
    notebooks_dir = Path(notebooks_dir) if notebooks_dir else default_notebooks_dir()
    if notebooks_dir is None:
        raise ReleaseError("cannot find the instructor notebooks: pass --notebooks-dir")
    library = Path(library) if library else library_dir()
    chosen = select_notebooks(notebooks_dir, notebooks)
    course_dir = private_dir(course_dir)

    source = course_dir / "source" / assignment
    if source.exists():
        shutil.rmtree(source)  # generated from notebooks/ and the library: nothing of anyone's is lost
    source.mkdir(parents=True)
    for path in chosen:
        nb = student_source(nbformat.read(path, as_version=4))
        (source / path.name).write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
    student_files = write_student_library(library, source / LIBRARY_NAME)

    log(f"Generating the student version of {len(chosen)} notebook(s) with nbgrader ...")
    config = nbgrader_config(course_dir, assignment, student_files=student_files)
    try:
        run_nbgrader("generate_assignment", config, assignment)
    except NbgraderFailed as error:
        raise ReleaseError(str(error)) from None

    built = course_dir / "release" / assignment
    release_dir = Path(release_dir)
    release_dir.mkdir(parents=True, exist_ok=True)
    folder = release_dir / assignment
    manifest = release_dir / f"{assignment}.manifest.json"
    refuse_to_replace_edited(folder, manifest)
    if folder.exists():
        shutil.rmtree(folder)  # a build output, unchanged since built (checked just above)
    shutil.copytree(built, folder)
    write_student_files(folder, assignment)  # README.md, requirements.txt, environment.yml
    archive = release_dir / f"{assignment}.zip"
    zip_folder(folder, archive)

    library_secrets, library_public = secrets_of_library(library)
    notebook_secrets, notebook_public = secrets_of_notebooks(chosen)
    secrets = library_secrets + notebook_secrets
    leaks, skipped = find_leaks(secrets, library_public + notebook_public, [folder, archive, built])
    if leaks:
        shutil.rmtree(folder)
        archive.unlink()
        raise ReleaseError("solution text found in the release (release removed):\n" + "\n".join(leaks))
    manifest.write_text(json.dumps(file_hashes(folder), indent=1) + "\n", encoding="utf-8")

    info = {
        "assignment": assignment,
        "notebooks": [p.stem for p in chosen],
        "student_files": student_files,
        "released": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    (course_dir / RELEASE_INFO.format(assignment=assignment)).write_text(json.dumps(info, indent=1) + "\n",
                                                                       encoding="utf-8")
    (course_dir / "nbgrader_config.py").write_text(
        NBGRADER_CONFIG.format(assignment=assignment, student_files=student_files), encoding="utf-8")
    return Release(assignment, folder, archive, [p.stem for p in chosen], student_files,
                   len(secrets) - len(skipped), time.perf_counter() - start, skipped)


def read_release_info(course_dir, assignment=None):
    """What ``release`` recorded for ``assignment`` (default: the only one released in course_dir)."""
    course_dir = Path(course_dir)
    if assignment is None:
        found = sorted(course_dir.glob(RELEASE_INFO.format(assignment="*")))
        if len(found) > 1:
            names = [json.loads(p.read_text(encoding="utf-8"))["assignment"] for p in found]
            raise ReleaseError(f"{course_dir} holds several releases ({', '.join(names)}): pass --assignment")
        path = found[0] if found else course_dir / RELEASE_INFO.format(assignment="<name>")
    else:
        path = course_dir / RELEASE_INFO.format(assignment=assignment)
    if not path.is_file():
        raise ReleaseError(
            f"{course_dir} holds no release{f' of {assignment}' if assignment else ''}: run "
            f"`cs231n-course release --course-dir {course_dir}` first"
        )
    return json.loads(path.read_text(encoding="utf-8"))


NBGRADER_CONFIG = """\
# Written by `cs231n-course release`: lets nbgrader's own tools (the formgrader for
# written answers, `nbgrader export`) work in this course directory with the rules
# cs231n-course grades by. Run them from this folder.
import os

from cs231n_course.config import nbgrader_config

c = get_config()  # noqa: F821 (provided by nbgrader)
c.merge(nbgrader_config(os.path.dirname(os.path.abspath(__file__)), {assignment!r},
                        student_files={student_files!r}))
"""
