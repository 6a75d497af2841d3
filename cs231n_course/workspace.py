"""The student's workspace: built from a released copy of the course, never overwriting their work.

``make lab`` calls ``sync_workspace(release_dir, workspace_dir)`` before every
start of JupyterLab. The rule: nothing a student wrote is ever overwritten or
lost.

How it tells the student's work apart from the course's files: the manifest
``workspace/.course-manifest.json`` records the sha256 of every file as the
course last delivered it (``{"format": 1, "files": {relpath: sha256}, "course":
{relpath: sha256}}``; older manifests lack ``"course"``). A file whose bytes no
longer match is one the student changed, even if only its outputs differ:
running a notebook makes it theirs, so it is never overwritten.

Whether the *course* changed a notebook is decided on what it teaches, not on its
bytes: the types and sources of its cells with their nbgrader metadata and tags
(``course_digest``; recorded under ``"course"``). Outputs, execution counts,
cell ids and notebook or cell metadata (kernelspec, Python version, widget ids:
what running the solution notebooks rewrites) never count as a course change.
Other files are compared byte for byte. For each file of the release:

==========================  ===========================  ==========================
in the workspace             course changed it?           what happens
==========================  ===========================  ==========================
missing, never delivered     (new file)                   copied in: ``added``
missing, delivered before    any                          copied back: ``restored``
same bytes as the release    any                          nothing
same course content          any                          nothing
as delivered (untouched)     yes                          replaced: ``updated``
changed by the student       no                           nothing
changed by the student       yes                          left as is; the course's
                                                          version goes to
                                                          ``course-updates/``: ``kept``
the student's own file       (new file, same name)        as for a changed file: ``kept``
==========================  ===========================  ==========================

A symlink anywhere on a file's path inside the workspace counts as a student
change: the course never writes through one. Files delivered earlier that the
release no longer holds are left in place and reported once, in
``removed_from_course``; from then on they are the student's own.

"Course changed it?" compares the release with the version the manifest
recorded; when the course did not change, that record stays as it was, so a file
the student never touched keeps matching it and still takes later updates.

After ``kept``, the manifest records the version put in ``course-updates/``:
the student is told once, not at every start, and once they adopt that
version the file counts as untouched again and takes later updates.

Every write goes to a temporary file in the same folder and is then moved into
place with ``os.replace``; the manifest is written last. An interrupted sync is
therefore safe to run again.
"""

import hashlib
import json
import os
import re
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from cs231n_course.config import course_files
from cs231n_course.notebook_format import course_content

MANIFEST_NAME = ".course-manifest.json"
UPDATES_DIR = "course-updates"
MANIFEST_FORMAT = 1

# What _current_state returns besides a sha256: nothing is there, or
# something the course must not write to (a symlink, a folder, ...).
_MISSING = "missing"
_BLOCKED = "blocked"


@dataclass
class SyncReport:
    """What ``sync_workspace`` did. Paths are relative posix strings, sorted.

    - added: new course files copied in (every file on a first build)
    - updated: files the student never changed, replaced by the new version
    - restored: delivered files the student had deleted, copied back
    - kept: files the student changed (or made) that the course changed too;
      left as is, with the course's version in ``course-updates/<path>``
    - removed_from_course: delivered earlier, gone from the release; left as is
    - first_build: True when the workspace had no manifest yet
    - release: the release folder, as given
    - course_files: how many files the release holds
    """

    added: list = field(default_factory=list)
    updated: list = field(default_factory=list)
    restored: list = field(default_factory=list)
    kept: list = field(default_factory=list)
    removed_from_course: list = field(default_factory=list)
    first_build: bool = False
    release: str = ""
    course_files: int = 0


def sync_workspace(release_dir, workspace_dir):
    """Bring ``workspace_dir`` up to date with ``release_dir``; return a ``SyncReport``.

    Creates the workspace on the first call. Never overwrites or deletes a
    file the student changed or made (see the module docstring for the rules).
    Raises ``FileNotFoundError`` when there is no release, and ``ValueError``
    when the manifest is unreadable, before writing anything.
    """
    release, workspace = Path(release_dir), Path(workspace_dir)
    sources = _release_files(release)
    delivered = _load_manifest(workspace / MANIFEST_NAME)
    report = SyncReport(
        first_build=delivered is None, release=release.as_posix(), course_files=len(sources)
    )
    delivered = delivered or {}

    # Plan everything first, so that an error leaves the workspace untouched.
    manifest, plan = {}, []
    for rel, source in sources.items():
        new = _version(rel, source.read_bytes())
        action, manifest[rel] = _decide(delivered.get(rel), _current_state(workspace, rel), new)
        if action == "kept":
            _require_writable_update(workspace, rel)
        if action is not None:
            plan.append((rel, source, action))
    for rel in sorted(set(delivered) - set(sources)):
        if os.path.lexists(workspace / rel):
            report.removed_from_course.append(rel)

    workspace.mkdir(parents=True, exist_ok=True)
    for rel, source, action in plan:
        target = workspace / UPDATES_DIR / rel if action == "kept" else workspace / rel
        _copy_atomic(source, target)
        getattr(report, action).append(rel)
    if report.first_build or manifest != delivered:
        _write_manifest(workspace / MANIFEST_NAME, manifest)
    return report


def course_digest(rel, data):
    """The sha256 of what a file means to the course: for a notebook, its
    ``notebook_format.course_content`` (cells' types, sources, nbgrader metadata and
    tags); for any other file (or a notebook that cannot be read), its bytes.
    """
    if rel.endswith(".ipynb"):
        try:
            return _sha256(course_content(json.loads(data)).encode("utf-8"))
        except (ValueError, KeyError, TypeError, AttributeError):  # not JSON, not a notebook
            pass
    return _sha256(data)


@dataclass(frozen=True)
class _Version:
    """One version of a file: the sha256 of its bytes and its ``course_digest``
    (None when unknown: a manifest written before digests were recorded).
    """

    sha256: str
    course: str = None


def _version(rel, data):
    return _Version(_sha256(data), course_digest(rel, data))


def format_report(report, workspace_dir):
    """Return the report as short lines for the student's terminal; "" if nothing happened."""
    where = Path(workspace_dir).as_posix().rstrip("/") + "/"
    versions = "new version is" if len(report.kept) == 1 else "new versions are"
    lines = [
        _listing(f"Added {_count(report.added, 'new file')}", report.added),
        _listing(f"Updated {_count(report.updated, 'file')} you had not changed", report.updated),
        _listing(f"Restored {_count(report.restored, 'file')} you had deleted", report.restored),
        _listing(
            f"Kept {_count(report.kept, 'file')} you changed; the course's {versions} "
            f"in {where}{UPDATES_DIR}/ to compare",
            report.kept,
        ),
        _listing("No longer part of the course (left as is)", report.removed_from_course),
    ]
    if report.first_build:  # one line instead of the whole course as "Added"
        files = f"{report.course_files} file" + ("" if report.course_files == 1 else "s")
        lines[0] = f"Workspace: {where} built from {report.release} ({files})."
    return "\n".join(line for line in lines if line)


def _release_files(release):
    """Return {relpath: Path} for every file of the release, sorted, skipping caches."""
    if not release.is_dir():
        raise FileNotFoundError(
            f"No course release at {release.as_posix()}/. Build it with "
            "`cs231n-course release`, or run `make lab`, which builds it first."
        )
    found = {path.relative_to(release).as_posix(): path for path in course_files(release)}
    if not found:
        raise ValueError(
            f"The course release {release.as_posix()}/ holds no files. Rebuild it with "
            "`cs231n-course release`, or run `make lab`, which builds it first."
        )
    return dict(sorted(found.items()))


def _load_manifest(path):
    """Return {relpath: _Version} from the manifest, or None if there is none yet."""
    if not os.path.lexists(path):
        return None
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError) as error:
        raise _corrupt_manifest(path, f"not readable JSON: {error}") from error
    files = data.get("files") if isinstance(data, dict) else None
    course = data.get("course") if isinstance(data, dict) else None
    if not isinstance(files, dict) or not isinstance(course, (dict, type(None))) \
            or data.get("format") != MANIFEST_FORMAT:
        raise _corrupt_manifest(path, f'expected {{"format": {MANIFEST_FORMAT}, "files": {{...}}}}')
    for rel, digest in [*files.items(), *(course or {}).items()]:
        if not _is_sha256(digest):
            raise _corrupt_manifest(path, f"the entry for {rel} is not a sha256")
    if course is None:  # written before course digests were recorded: they are unknown
        return {rel: _Version(digest) for rel, digest in files.items()}
    return {rel: _Version(digest, course.get(rel, digest)) for rel, digest in files.items()}


def _corrupt_manifest(path, problem):
    """Return the ValueError for a manifest that cannot be trusted, with the fix."""
    return ValueError(
        f"The workspace manifest {path.as_posix()} is damaged ({problem}). Without it the "
        "course cannot tell your changes apart from its own files, so it does not guess. "
        f"Move it aside (for example rename it to {path.name}.bak) and run again: every "
        "file already in the workspace is then kept as yours, and the course's version of "
        f"any that differ goes to {UPDATES_DIR}/."
    )


def _decide(delivered, current, new):
    """Return (action, version to record): an action name or None for nothing.

    delivered: the _Version the manifest recorded, or None if never delivered;
    current: the workspace's _Version, or _MISSING / _BLOCKED; new: the release's _Version.
    """
    if current == _MISSING:
        return ("added" if delivered is None else "restored"), new
    readable = current != _BLOCKED
    if readable and current.sha256 == new.sha256:
        return None, new
    untouched = readable and delivered is not None and current.sha256 == delivered.sha256
    if untouched:
        delivered = current  # its course digest is known even from an older manifest
    if readable and current.course == new.course:
        # Already the course's content (run, or copied from course-updates/): nothing to deliver.
        return None, (delivered if untouched else new)
    if delivered is None:
        return "kept", new  # the student's own file has the name of a new course file
    if _same_course(delivered, new):
        return None, delivered  # only the student changed it, or only outputs or metadata changed
    return ("updated" if untouched else "kept"), new


def _same_course(delivered, new):
    """True if the course did not change the file between two releases."""
    if delivered.course is None:  # recorded by an older version: only the bytes are known
        return delivered.sha256 == new.sha256
    return delivered.course == new.course


def _current_state(workspace, rel):
    """Return the workspace file's _Version, _MISSING, or _BLOCKED (do not write there)."""
    if _is_blocked(workspace, rel):
        return _BLOCKED
    path = workspace / rel
    if not os.path.lexists(path):
        return _MISSING
    return _version(rel, path.read_bytes())


def _is_blocked(workspace, rel):
    """True if writing ``workspace/rel`` could touch anything but a plain file in the workspace.

    That is: a symlink anywhere below ``workspace`` on the path, a parent that
    is not a folder, or something other than a regular file at the end.
    """
    path = workspace
    parts = rel.split("/")
    for depth, part in enumerate(parts, start=1):
        path = path / part
        if path.is_symlink():
            return True
        if not path.exists():
            return False
        is_last = depth == len(parts)
        if (is_last and not path.is_file()) or (not is_last and not path.is_dir()):
            return True
    return False


def _require_writable_update(workspace, rel):
    """Raise ValueError if the course's version of ``rel`` cannot go to course-updates/."""
    if _is_blocked(workspace, f"{UPDATES_DIR}/{rel}"):
        path = (workspace / UPDATES_DIR / rel).as_posix()
        raise ValueError(
            f"Cannot write the course's new version of {rel} to {path}: a symlink or a "
            f"non-file is in the way. Move {(workspace / UPDATES_DIR).as_posix()}/ aside "
            "and run again; the course only ever writes plain files there."
        )


def _copy_atomic(source, target):
    """Copy ``source`` (bytes and permission bits) to ``target``."""
    _write_atomic(target, source.read_bytes(), mode=stat.S_IMODE(source.stat().st_mode))


def _write_manifest(path, versions):
    """Write the manifest atomically, as sorted, indented JSON.

    ``"course"`` holds the course digests that differ from the bytes' sha256 (notebooks).
    """
    files = {rel: version.sha256 for rel, version in versions.items()}
    course = {rel: version.course for rel, version in versions.items()
              if version.course not in (None, version.sha256)}
    content = {"format": MANIFEST_FORMAT, "files": files, "course": course}
    text = json.dumps(content, indent=2, sort_keys=True)
    _write_atomic(path, (text + "\n").encode("utf-8"), mode=0o644)


def _write_atomic(target, data, mode):
    """Write ``data`` to a temporary file beside ``target``, then move it into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        if os.path.lexists(temporary):
            os.remove(temporary)
        raise


def _sha256(data):
    return hashlib.sha256(data).hexdigest()


def _is_sha256(value):
    return isinstance(value, str) and re.fullmatch("[0-9a-f]{64}", value) is not None


def _count(paths, noun):
    """Return e.g. "1 file" or "2 files" for a list of paths."""
    return f"{len(paths)} {noun}" if len(paths) == 1 else f"{len(paths)} {noun}s"


def _listing(head, paths):
    """Return "head: a, b" for a list of paths, or "" when it is empty."""
    return f"{head}: {', '.join(paths)}" if paths else ""
