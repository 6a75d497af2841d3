"""Tests for cs231n_course.submissions: finding submissions and copying them for grading.

Oracles: the files each test writes (names and bytes, compared after the copy);
sha256 digests and link targets of every entry of a submission taken before and
after, to prove it is only read; zip archives built here with zipfile, entry by
entry, including the hostile ones. Everything runs in tmp_path.
"""

import hashlib
import os
import stat
import zipfile
from pathlib import Path

import pytest

from cs231n_course import submissions
from cs231n_course.submissions import (
    Submission, SubmissionError, assignment_root, copy_for_grading, find_submissions, safe_extract,
)

NOTEBOOKS = ["06_dropout", "07_small_convnet"]
RELEASE = {
    "06_dropout.ipynb": b'{"cells": ["dropout"]}\n',
    "07_small_convnet.ipynb": b'{"cells": ["convnet"]}\n',
    "cs231n_lib/__init__.py": b"",
    "cs231n_lib/layers.py": b"def dropout_forward(x):\n    return x\n",
    "cs231n_lib/checks/dropout.py": b"def check():\n    pass\n",
}


def write_files(folder, files):
    for rel, data in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return folder


def read_files(folder):
    """{relpath: bytes} of every regular file under folder."""
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.is_symlink()}


def snapshot(folder):
    """Every entry under folder (and folder itself): kind, bytes digest or link target, mode."""
    entries = {}
    for path in [folder, *sorted(folder.rglob("*"))]:
        info = path.lstat()
        if path.is_symlink():
            entries[str(path)] = ("link", os.readlink(path))
        elif path.is_dir():
            entries[str(path)] = ("dir", stat.S_IMODE(info.st_mode))
        else:
            entries[str(path)] = ("file", hashlib.sha256(path.read_bytes()).hexdigest(), stat.S_IMODE(info.st_mode))
    return entries


def make_zip(path, entries):
    """Write a zip of {entry name or ZipInfo: bytes}."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return path


def students(found):
    return [(s.student, s.path.name) for s in found]


# --- find_submissions ----------------------------------------------------------------------


def test_find_submissions_takes_folders_and_zips_sorted_and_skips_the_rest(tmp_path):
    for name in ("carol", "alice", ".hidden", "Zoe"):
        (tmp_path / name).mkdir()
    (tmp_path / "bob.zip").write_bytes(b"PK")
    (tmp_path / "dave.ZIP").write_bytes(b"PK")
    (tmp_path / ".eve.zip").write_bytes(b"PK")
    (tmp_path / ".DS_Store").write_bytes(b"\0")
    (tmp_path / "README.txt").write_text("not a submission")
    (tmp_path / "frank.tar.gz").write_bytes(b"\x1f\x8b")
    found = find_submissions(tmp_path)
    assert students(found) == [("Zoe", "Zoe"), ("alice", "alice"), ("bob", "bob.zip"),
                               ("carol", "carol"), ("dave", "dave.ZIP")]
    assert all(isinstance(s, Submission) and s.path.parent == tmp_path for s in found)


def test_find_submissions_of_an_empty_folder_is_empty(tmp_path):
    assert find_submissions(tmp_path) == []


def test_find_submissions_is_sorted_by_student_even_when_a_zip_suffix_changes_the_order(tmp_path):
    (tmp_path / "ann-marie").mkdir()
    (tmp_path / "ann.zip").write_bytes(b"PK")
    assert [s.student for s in find_submissions(tmp_path)] == ["ann", "ann-marie"]


@pytest.mark.parametrize("name, is_zip", [
    ("bad name", False), ("-dash-first", False), ("émile", False), ("x" * 65, False),
    ("semi;colon", True), ("_underscore_first", True),
])
def test_an_unusable_student_id_is_refused_naming_the_entry(tmp_path, name, is_zip):
    entry = tmp_path / (name + ".zip" if is_zip else name)
    if is_zip:
        entry.write_bytes(b"PK")
    else:
        entry.mkdir()
    (tmp_path / "alice").mkdir()
    with pytest.raises(SubmissionError) as info:
        find_submissions(tmp_path)
    message = str(info.value)
    assert message.startswith(f"{entry.name}: a student id must be")
    assert "rename it" in message


def test_the_longest_allowed_student_id_is_accepted(tmp_path):
    (tmp_path / ("a" * 64)).mkdir()
    (tmp_path / "x_y-z.1").mkdir()
    assert [s.student for s in find_submissions(tmp_path)] == ["a" * 64, "x_y-z.1"]


def test_a_folder_and_a_zip_for_one_student_are_refused_naming_both(tmp_path):
    (tmp_path / "alice").mkdir()
    (tmp_path / "alice.zip").write_bytes(b"PK")
    (tmp_path / "bob").mkdir()
    with pytest.raises(SubmissionError, match=r"^two submissions for alice: alice and alice\.zip; keep one$"):
        find_submissions(tmp_path)


def test_two_zips_differing_in_case_of_the_suffix_are_one_student_twice(tmp_path):
    (tmp_path / "bob.ZIP").write_bytes(b"PK")
    (tmp_path / "bob.zip").write_bytes(b"PK")
    with pytest.raises(SubmissionError, match=r"two submissions for bob: bob\.ZIP and bob\.zip"):
        find_submissions(tmp_path)


def test_a_missing_submissions_folder_is_named_with_what_to_pass(tmp_path):
    missing = tmp_path / "nope"
    with pytest.raises(SubmissionError) as info:
        find_submissions(missing)
    assert str(info.value).startswith(f"no submissions folder at {missing}: pass the folder")
    (tmp_path / "file.zip").write_bytes(b"PK")
    with pytest.raises(SubmissionError, match="no submissions folder at"):
        find_submissions(tmp_path / "file.zip")


# --- assignment_root -----------------------------------------------------------------------


def test_assignment_root_is_the_folder_itself_when_it_holds_the_notebooks(tmp_path):
    write_files(tmp_path, RELEASE)
    assert assignment_root(tmp_path, NOTEBOOKS) == tmp_path


def test_assignment_root_finds_notebooks_nested_one_folder_down(tmp_path):
    write_files(tmp_path / "ps06", RELEASE)
    (tmp_path / "notes").mkdir()
    assert assignment_root(tmp_path, NOTEBOOKS) == tmp_path / "ps06"


def test_assignment_root_prefers_the_folder_with_the_most_notebooks(tmp_path):
    write_files(tmp_path, {"06_dropout.ipynb": b"{}"})                 # a stray copy at the top
    write_files(tmp_path / "a" / "ps06", RELEASE)                      # the real one, two down
    write_files(tmp_path / "b", {"07_small_convnet.ipynb": b"{}"})
    assert assignment_root(tmp_path, NOTEBOOKS) == tmp_path / "a" / "ps06"


def test_assignment_root_ignores_checkpoints_and_unrelated_notebooks(tmp_path):
    write_files(tmp_path / ".ipynb_checkpoints", RELEASE)
    write_files(tmp_path / "other", {"99_other.ipynb": b"{}"})
    assert assignment_root(tmp_path, NOTEBOOKS) is None


def test_assignment_root_does_not_search_deeper_than_three_folders(tmp_path):
    write_files(tmp_path / "1" / "2" / "3" / "4", RELEASE)
    assert assignment_root(tmp_path, NOTEBOOKS) is None
    write_files(tmp_path / "1" / "2" / "3", {"06_dropout.ipynb": b"{}"})
    assert assignment_root(tmp_path, NOTEBOOKS) == tmp_path / "1" / "2" / "3"


# --- safe_extract --------------------------------------------------------------------------


def test_safe_extract_unpacks_a_normal_zip(tmp_path):
    archive = make_zip(tmp_path / "alice.zip", {f"ps06/{k}": v for k, v in RELEASE.items()})
    safe_extract(archive, tmp_path / "out")
    assert read_files(tmp_path / "out" / "ps06") == RELEASE


@pytest.mark.parametrize("entry", ["../escape.txt", "ps06/../../escape.txt", "/tmp/absolute-escape.txt"])
def test_safe_extract_refuses_entries_that_leave_the_destination(tmp_path, entry):
    archive = make_zip(tmp_path / "mallory.zip", {"ps06/06_dropout.ipynb": b"{}", entry: b"gotcha"})
    destination = tmp_path / "deep" / "out"
    with pytest.raises(SubmissionError) as info:
        safe_extract(archive, destination)
    assert str(info.value) == f"mallory.zip: unsafe entry {entry!r} (absolute, '..' or a link)"
    assert not destination.exists()  # checked before anything is written
    assert not (tmp_path / "deep" / "escape.txt").exists() and not (tmp_path / "escape.txt").exists()


def test_safe_extract_refuses_a_symbolic_link_entry(tmp_path):
    link = zipfile.ZipInfo("ps06/cs231n_lib/layers.py")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    archive = make_zip(tmp_path / "linker.zip", {"ps06/06_dropout.ipynb": b"{}", link: b"/etc/passwd"})
    with pytest.raises(SubmissionError, match=r"linker\.zip: unsafe entry 'ps06/cs231n_lib/layers\.py'"):
        safe_extract(archive, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_safe_extract_refuses_an_archive_that_unpacks_too_big(tmp_path, monkeypatch):
    monkeypatch.setattr(submissions, "MAX_UNZIPPED_BYTES", 2**20)
    archive = make_zip(tmp_path / "bomb.zip", {"a.bin": b"\0" * 2**20, "b.bin": b"\0" * 2**20})
    assert archive.stat().st_size < 2**20 // 10  # small on disk, big unpacked
    with pytest.raises(SubmissionError, match=r"^bomb\.zip unpacks to 2 MiB, more than 1 MiB$"):
        safe_extract(archive, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_safe_extract_accepts_an_archive_exactly_at_the_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(submissions, "MAX_UNZIPPED_BYTES", 10)
    archive = make_zip(tmp_path / "fits.zip", {"a.txt": b"12345", "b.txt": b"67890"})
    safe_extract(archive, tmp_path / "out")
    assert read_files(tmp_path / "out") == {"a.txt": b"12345", "b.txt": b"67890"}


# --- copy_for_grading ----------------------------------------------------------------------


def hostile_folder(tmp_path):
    """alice/ps06 with the release files plus caches, compiled files and symbolic links."""
    outside = write_files(tmp_path / "outside", {"secret.txt": b"instructor only\n"})
    folder = write_files(tmp_path / "subs" / "alice" / "ps06", RELEASE)
    write_files(folder, {
        "cs231n_lib/__pycache__/layers.cpython-311.pyc": b"\0compiled",
        "cs231n_lib/stale.pyc": b"\0compiled",
        ".ipynb_checkpoints/06_dropout-checkpoint.ipynb": b"{}",
    })
    os.symlink(outside / "secret.txt", folder / "cs231n_lib" / "answers.py")
    os.symlink(outside, folder / "linked_dir")
    os.symlink("layers.py", folder / "cs231n_lib" / "relative_link.py")
    return tmp_path / "subs" / "alice"


def test_copy_for_grading_copies_the_assignment_folder_without_links_or_caches(tmp_path):
    alice = hostile_folder(tmp_path)
    before = snapshot(alice)
    destination = tmp_path / "course" / "submitted" / "alice" / "ps06"
    found = copy_for_grading(Submission("alice", alice), NOTEBOOKS, destination, tmp_path / "scratch")
    assert found == NOTEBOOKS
    assert read_files(destination) == RELEASE
    assert not any(p.is_symlink() for p in destination.rglob("*"))
    assert not any(p.name in ("__pycache__", ".ipynb_checkpoints", "linked_dir") for p in destination.rglob("*"))
    assert snapshot(alice) == before


def test_copy_for_grading_replaces_an_old_copy(tmp_path):
    alice = write_files(tmp_path / "alice", RELEASE)
    destination = write_files(tmp_path / "dest", {"old_leftover.py": b"x = 1\n", "06_dropout.ipynb": b"old"})
    copy_for_grading(Submission("alice", alice), NOTEBOOKS, destination, tmp_path / "scratch")
    assert read_files(destination) == RELEASE


def test_copy_for_grading_unzips_a_zip_and_leaves_it_untouched(tmp_path):
    entries = {f"ps06/{k}": v for k, v in RELEASE.items() if k != "07_small_convnet.ipynb"}
    entries["ps06/cs231n_lib/__pycache__/layers.cpython-311.pyc"] = b"\0"
    archive = make_zip(tmp_path / "bob.zip", entries)
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    destination = tmp_path / "dest"
    found = copy_for_grading(Submission("bob", archive), NOTEBOOKS, destination, tmp_path / "scratch")
    assert found == ["06_dropout"]  # the other notebook is simply missing
    assert read_files(destination) == {k: v for k, v in RELEASE.items() if k != "07_small_convnet.ipynb"}
    assert hashlib.sha256(archive.read_bytes()).hexdigest() == digest


def test_copy_for_grading_reports_a_zip_that_is_not_a_zip(tmp_path):
    fake = tmp_path / "carol.zip"
    fake.write_text("I renamed my notebook to .zip")
    with pytest.raises(SubmissionError, match=r"^carol\.zip is not a valid zip file$"):
        copy_for_grading(Submission("carol", fake), NOTEBOOKS, tmp_path / "dest", tmp_path / "scratch")
    assert fake.read_text() == "I renamed my notebook to .zip"
    assert not (tmp_path / "dest").exists()


def test_copy_for_grading_passes_on_an_unsafe_zip_refusal(tmp_path):
    archive = make_zip(tmp_path / "mallory.zip", {"ps06/06_dropout.ipynb": b"{}", "../x": b""})
    with pytest.raises(SubmissionError, match="unsafe entry"):
        copy_for_grading(Submission("mallory", archive), NOTEBOOKS, tmp_path / "dest", tmp_path / "scratch")
    assert not (tmp_path / "dest").exists()


def test_copy_for_grading_names_the_notebooks_it_did_not_find(tmp_path):
    dave = write_files(tmp_path / "dave", {"my_work.ipynb": b"{}", "notes.txt": b"hi"})
    destination = write_files(tmp_path / "dest", {"keep.txt": b"previous"})
    with pytest.raises(SubmissionError) as info:
        copy_for_grading(Submission("dave", dave), NOTEBOOKS, destination, tmp_path / "scratch")
    assert str(info.value) == "dave holds none of the notebooks 06_dropout.ipynb, 07_small_convnet.ipynb"
    assert read_files(destination) == {"keep.txt": b"previous"}  # nothing replaced on failure


def test_a_symlinked_assignment_folder_does_not_pull_in_files_from_outside(tmp_path):
    outside = write_files(tmp_path / "elsewhere" / "ps06", {**RELEASE, "stolen.txt": b"instructor only\n"})
    eve = tmp_path / "subs" / "eve"
    eve.mkdir(parents=True)
    os.symlink(outside, eve / "ps06")
    destination = tmp_path / "dest"
    try:
        copy_for_grading(Submission("eve", eve), NOTEBOOKS, destination, tmp_path / "scratch")
    except SubmissionError:
        return  # refusing the submission is a fine answer too
    assert not (destination / "stolen.txt").exists()
    assert not any(Path(p).read_bytes() == b"instructor only\n" for p in destination.rglob("*") if p.is_file())
