"""Find student submissions (folders or zips) and build the copy each is graded from.

Every byte of a submission is taken as hostile. A submission contributes only its answer
files (the released notebooks and the library files with exercises), each read as a
regular file of bounded size, never through a link; the graded copy is the release
with those files put in. Nothing else a student sends (extra modules or packages,
``.pth`` files, ``sitecustomize.py``, links) is ever on disk where code can import it.
Submissions are only ever read.
"""

import json
import os
import re
import shutil
import stat
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from cs231n_course.config import is_ignored

STUDENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
MAX_SEARCH_DEPTH = 3
MAX_ANSWER_FILE_BYTES = 64 * 2**20
# Folders archivers add that are never a student's work.
ARCHIVE_LEFTOVERS = ("__MACOSX",)
CELL_TYPES = ("code", "markdown", "raw")


class SubmissionError(ValueError):
    """A submission that cannot be graded; the message says which and why."""


@dataclass(frozen=True)
class Submission:
    """One entry of the submissions folder: ``problem`` says why it cannot be graded (or None)."""

    student: str
    path: Path
    problem: str | None = None


def printable(name):
    """``name`` with control and other unprintable characters shown as '?', for messages and the CSV."""
    return "".join(ch if ch.isprintable() and unicodedata.category(ch) != "Cs" else "?" for ch in name)


def find_submissions(folder):
    """One Submission per folder or ``.zip`` in ``folder``, sorted by student id.

    Entries that cannot be graded (a name that is not a student id, a folder and a zip
    for one id) come back with ``problem`` set, so they get a row of their own and the
    others are still graded. Raises SubmissionError only for a missing folder.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise SubmissionError(f"no submissions folder at {folder}: pass the folder that holds one "
                              "folder or .zip per student (named by student id)")
    by_id, rejected = {}, []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(".") or entry.is_symlink():
            continue
        if not (entry.is_dir() or (entry.is_file() and entry.suffix.lower() == ".zip")):
            continue
        student = entry.name[:-len(entry.suffix)] if entry.is_file() else entry.name
        if entry.name in ARCHIVE_LEFTOVERS:
            rejected.append(Submission(entry.name, entry, f"{entry.name} is archive metadata, not a submission"))
        elif not STUDENT_ID.fullmatch(student):
            rejected.append(Submission(printable(entry.name), entry,
                                       f"{printable(entry.name)!r} is not a student id: use letters, digits, "
                                       "'.', '_' or '-' (at most 64, starting with a letter or digit); rename it"))
        else:
            by_id.setdefault(student, []).append(entry)
    found = list(rejected)
    for student, entries in by_id.items():
        if len(entries) > 1:
            names = " and ".join(entry.name for entry in entries)
            found.append(Submission(student, entries[0], f"two submissions for {student} ({names}); keep one"))
        else:
            found.append(Submission(student, entries[0]))
    return sorted(found, key=lambda submission: (submission.student, str(submission.path)))


def format_bytes(count):
    return f"{count / 2**20:g} MiB" if count >= 2**20 else f"{count} bytes"


def is_assignment_file(relative):
    return not (is_ignored(relative) or any(part in ARCHIVE_LEFTOVERS for part in relative.parts))


class FolderSource:
    """Answer files read from a submission folder: regular files only, no link on the way."""

    def __init__(self, folder):
        self.folder = Path(folder)

    def roots(self):
        """Candidate assignment folders (relative), at most MAX_SEARCH_DEPTH down, none through a link."""
        found = [PurePosixPath(".")]
        for parent, subfolders, _ in os.walk(self.folder):
            relative = Path(parent).relative_to(self.folder)
            subfolders[:] = sorted(name for name in subfolders if not os.path.islink(os.path.join(parent, name)))
            if len(relative.parts) >= MAX_SEARCH_DEPTH:
                subfolders[:] = []
            found += [PurePosixPath(*relative.parts, name) for name in subfolders
                      if is_assignment_file(relative / name)]
        return found

    def has_file(self, relative):
        """True when anything is at ``relative`` (``read`` then says what is wrong with it)."""
        return os.path.lexists(self.folder / relative)

    def read(self, relative, limit):
        """The bytes of the file at ``relative``; raises SubmissionError for a link, non-file or oversize."""
        path = self.folder / relative
        shown = printable(str(relative))
        if any((self.folder / Path(*relative.parts[:n])).is_symlink() for n in range(1, len(relative.parts))):
            raise SubmissionError(f"{shown} is reached through a link")
        if path.is_symlink():
            raise SubmissionError(f"{shown} is a link, not a file")
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError as error:
            raise SubmissionError(f"{shown} cannot be read ({error.strerror})") from None
        with os.fdopen(fd, "rb") as f:
            info = os.fstat(f.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise SubmissionError(f"{shown} is not a regular file")
            data = f.read(limit + 1)
        if len(data) > limit:
            raise SubmissionError(f"{shown} is larger than {format_bytes(limit)}")
        return data


class ZipSource:
    """Answer files read from a zip without unpacking it: regular entries only, size-bounded."""

    def __init__(self, archive):
        try:
            self.zip = zipfile.ZipFile(archive)
            self.entries = {}
            for info in self.zip.infolist():
                name = PurePosixPath(info.filename)
                if not info.is_dir() and not name.is_absolute() and ".." not in name.parts:
                    self.entries.setdefault(name, info)
        except (zipfile.BadZipFile, OSError, ValueError) as error:
            raise SubmissionError(f"{Path(archive).name} is not a valid zip file ({error})") from None

    def roots(self):
        found = {PurePosixPath(".")}
        for name in self.entries:
            for depth in range(1, min(len(name.parts) - 1, MAX_SEARCH_DEPTH) + 1):
                candidate = PurePosixPath(*name.parts[:depth])
                if is_assignment_file(Path(candidate)):
                    found.add(candidate)
        return sorted(found)

    def has_file(self, relative):
        return PurePosixPath(relative) in self.entries

    def read(self, relative, limit):
        info = self.entries[PurePosixPath(relative)]
        shown = printable(str(relative))
        kind = stat.S_IFMT(info.external_attr >> 16)
        if kind not in (0, stat.S_IFREG):  # 0: a zip from a tool that records no file type
            raise SubmissionError(f"{shown} is a link or special file in the zip")
        if info.file_size > limit:
            raise SubmissionError(f"{shown} is larger than {format_bytes(limit)}")
        try:
            with self.zip.open(info) as f:
                data = f.read(limit + 1)
        except (zipfile.BadZipFile, OSError, NotImplementedError, RuntimeError) as error:
            raise SubmissionError(f"{shown} cannot be unpacked ({error})") from None
        if len(data) > limit:
            raise SubmissionError(f"{shown} is larger than {format_bytes(limit)}")
        return data

    def close(self):
        self.zip.close()


def open_submission(submission):
    return ZipSource(submission.path) if submission.path.is_file() else FolderSource(submission.path)


def assignment_root(source, notebook_names):
    """The candidate folder of ``source`` holding the most released notebooks (None: none)."""
    best, best_count = None, 0
    for root in source.roots():
        count = sum(source.has_file(root / f"{name}.ipynb") for name in notebook_names)
        if count > best_count:
            best, best_count = root, count
    return best


def notebook_problem(data):
    """Why ``data`` is not a notebook nbgrader can grade (a sentence), or None."""
    try:
        nb = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        return "is not UTF-8 text"
    except json.JSONDecodeError as error:
        return f"is not valid JSON ({error.msg} at line {error.lineno})"
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list) or nb.get("nbformat") != 4:
        return "is not a version-4 notebook"
    for index, cell in enumerate(nb["cells"]):
        source = cell.get("source") if isinstance(cell, dict) else None
        if (not isinstance(cell, dict) or cell.get("cell_type") not in CELL_TYPES or not isinstance(source, (str, list))
                or (isinstance(source, list) and not all(isinstance(line, str) for line in source))
                or not isinstance(cell.get("metadata", {}), dict)):
            return f"is not a valid notebook (cell {index} is not a cell with a type and source)"
    return None


@dataclass
class GradedCopy:
    notebooks: list   # released notebooks the student's copy holds
    notes: list       # what was left out or replaced, and why (for the status)


def build_graded_copy(submission, release_folder, notebook_names, student_files, destination,
                      max_file_bytes=MAX_ANSWER_FILE_BYTES):
    """Make ``destination``: the released folder with only the student's answer files put in.

    A notebook the student does not have, or that is not a readable notebook, is left out
    (it scores 0, and ``notes`` says why); a library answer file the student does not have
    stays as released. Raises SubmissionError when no notebook can be graded.
    """
    source = open_submission(submission)
    try:
        root = assignment_root(source, notebook_names)
        if root is None:
            raise SubmissionError(f"{printable(submission.path.name)} holds none of the notebooks "
                                  f"{', '.join(n + '.ipynb' for n in notebook_names)}")
        destination = Path(destination)
        if destination.exists():
            shutil.rmtree(destination)
        released = {f"{name}.ipynb" for name in notebook_names}
        shutil.copytree(release_folder, destination, symlinks=False,
                        ignore=lambda folder, names: [n for n in names if n in released
                                                      and Path(folder) == Path(release_folder)])
        found, notes = [], []
        for name in notebook_names:
            relative = root / f"{name}.ipynb"
            if not source.has_file(relative):
                notes.append(f"missing {name}")
                continue
            try:
                data = source.read(relative, max_file_bytes)
            except SubmissionError as error:
                notes.append(f"{name} not graded: {error}")
                continue
            problem = notebook_problem(data)
            if problem:
                notes.append(f"{name} not graded: {name}.ipynb {problem}")
                continue
            (destination / f"{name}.ipynb").write_bytes(data)
            found.append(name)
        for relative_name in student_files:
            relative = root / relative_name
            if not source.has_file(relative):
                notes.append(f"no {relative_name} (the released one was used)")
                continue
            try:
                (destination / relative_name).write_bytes(source.read(relative, max_file_bytes))
            except SubmissionError as error:
                notes.append(f"{relative_name} not used: {error}")
        if not found:
            raise SubmissionError("; ".join(notes))
        return GradedCopy(found, notes)
    finally:
        if isinstance(source, ZipSource):
            source.close()
