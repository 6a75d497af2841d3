"""Find student submissions (folders or zips of the release layout) and copy them for grading.

Submissions are only ever read: each is copied (a zip extracted) into the
course directory's ``submitted/<student>/<assignment>/`` and graded there.
"""

import re
import shutil
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path

from cs231n_course.config import is_ignored

STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MAX_UNZIPPED_BYTES = 500 * 2**20
MAX_SEARCH_DEPTH = 3


class SubmissionError(ValueError):
    """A submission that cannot be graded; the message says which and why."""


@dataclass(frozen=True)
class Submission:
    student: str
    path: Path


def find_submissions(folder):
    """One Submission per folder or ``.zip`` in ``folder``, named by its stem; sorted by student.

    Raises SubmissionError for a missing folder, an unusable name, or two entries
    for one student.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise SubmissionError(f"no submissions folder at {folder}: pass the folder that holds one "
                              "folder or .zip per student (named by student id)")
    found = {}
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue
        if not (entry.is_dir() or entry.suffix.lower() == ".zip"):
            continue
        student = entry.stem if entry.is_file() else entry.name
        if not STUDENT_ID.match(student):
            raise SubmissionError(
                f"{entry.name}: a student id must be letters, digits, '.', '_' or '-' (at most 64, "
                "starting with a letter or digit); rename it"
            )
        if student in found:
            raise SubmissionError(f"two submissions for {student}: {found[student].path.name} and {entry.name}; keep one")
        found[student] = Submission(student, entry)
    return sorted(found.values(), key=lambda submission: submission.student)


def assignment_root(folder, notebook_names):
    """The folder (at most MAX_SEARCH_DEPTH down) holding the most of the released notebooks."""
    best, best_count = None, 0
    for candidate in [folder, *sorted(p for p in folder.rglob("*") if p.is_dir())]:
        relative = candidate.relative_to(folder)
        if len(relative.parts) > MAX_SEARCH_DEPTH or is_ignored(relative) or through_symlink(folder, relative):
            continue
        count = sum((candidate / f"{name}.ipynb").is_file() for name in notebook_names)
        if count > best_count:
            best, best_count = candidate, count
    return best


def through_symlink(folder, relative):
    """True when a folder on the way from ``folder`` to ``folder/relative`` is a symlink."""
    return any((folder / Path(*relative.parts[:n])).is_symlink() for n in range(1, len(relative.parts) + 1))


def safe_extract(archive, destination):
    """Extract a zip refusing absolute paths, '..', links and more than MAX_UNZIPPED_BYTES."""
    with zipfile.ZipFile(archive) as zf:
        members = zf.infolist()
        total = sum(m.file_size for m in members)
        if total > MAX_UNZIPPED_BYTES:
            raise SubmissionError(f"{archive.name} unpacks to {total / 2**20:.0f} MiB, more than "
                                  f"{MAX_UNZIPPED_BYTES / 2**20:.0f} MiB")
        for member in members:
            name = Path(member.filename)
            is_link = stat.S_ISLNK(member.external_attr >> 16)
            if name.is_absolute() or ".." in name.parts or is_link:
                raise SubmissionError(f"{archive.name}: unsafe entry {member.filename!r} (absolute, '..' or a link)")
        zf.extractall(destination)


def copy_for_grading(submission, notebook_names, destination, scratch):
    """Copy the submission's assignment folder to ``destination`` (replaced); returns notebooks found."""
    source = submission.path
    if source.is_file():
        unpacked = Path(scratch) / f"unzipped-{submission.student}"
        try:
            safe_extract(source, unpacked)
        except zipfile.BadZipFile:
            raise SubmissionError(f"{source.name} is not a valid zip file") from None
        source = unpacked
    root = assignment_root(source, notebook_names)
    if root is None:
        raise SubmissionError(f"{submission.path.name} holds none of the notebooks "
                              f"{', '.join(n + '.ipynb' for n in notebook_names)}")
    if destination.exists():
        shutil.rmtree(destination)
    shutil.copytree(root, destination, symlinks=False,
                    ignore=lambda d, names: [n for n in names if is_ignored(Path(n)) or (Path(d) / n).is_symlink()])
    return sorted(n for n in notebook_names if (destination / f"{n}.ipynb").is_file())
