"""Tests for cs231n_course.submissions: finding submissions and building the graded copy.

Oracles: a small fake release written here (two notebooks made with nbformat, three
library files) and the student's answer files, also written here, so the graded copy
must be exactly ``RELEASE`` with ``ANSWERS`` put in (compared file by file, bytes and
names); sha256 digests, modes and link targets of every entry of a submission taken
before and after, to prove it is only read; zip archives built here with zipfile,
entry by entry, including hostile ones (links, special files, sizes that lie, names
with '..'), patched byte by byte where zipfile would not write them. Everything runs
in tmp_path; nbgrader is not run.
"""

import hashlib
import os
import shutil
import stat
import struct
import zipfile
from pathlib import Path, PurePosixPath

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from cs231n_course.submissions import (
    GradedCopy,
    Submission,
    SubmissionError,
    assignment_root,
    build_graded_copy,
    find_submissions,
    open_submission,
)

NOTEBOOKS = ["06_dropout", "07_small_convnet"]
STUDENT_FILES = ["cs231n_lib/layers.py"]
LIMIT = 2**20  # max_file_bytes passed to build_graded_copy in these tests (1 MiB)


def notebook_bytes(*sources):
    """A valid nbformat-4 notebook, one code cell per source, as the bytes Jupyter writes."""
    nb = new_notebook(cells=[new_markdown_cell("# exercise"), *(new_code_cell(s) for s in sources)])
    return nbformat.writes(nb).encode("utf-8")


RELEASE = {
    "06_dropout.ipynb": notebook_bytes("# released 06\nraise NotImplementedError"),
    "07_small_convnet.ipynb": notebook_bytes("# released 07\nraise NotImplementedError"),
    "cs231n_lib/__init__.py": b"",
    "cs231n_lib/layers.py": b"def dropout_forward(x, p):\n    raise NotImplementedError\n",
    "cs231n_lib/checks/common.py": b"def check(actual, expected):\n    assert actual == expected, 'hint'\n",
}
ANSWERS = {
    "06_dropout.ipynb": notebook_bytes("ANSWER = 'student 06'"),
    "07_small_convnet.ipynb": notebook_bytes("ANSWER = 'student 07'"),
    "cs231n_lib/layers.py": b"def dropout_forward(x, p):\n    return x * p  # student answer\n",
}
# What a student may add or change besides the answer files; none of it may reach the copy.
EXTRAS = {
    "sitecustomize.py": b"open('/tmp/pwned-sitecustomize', 'w')\n",
    "evil.pth": b"import os; os.system('touch /tmp/pwned-pth')\n",
    "cs231n_course/kernel/__init__.py": b"open('/tmp/pwned-kernel', 'w')\n",
    "cs231n_lib/checks/dropout/__init__.py": b"def __getattr__(name):\n    return lambda *a, **k: None\n",
    "cs231n_lib/extra.py": b"SECRET = 'student extra module'\n",
    ".ipynb_checkpoints/06_dropout-checkpoint.ipynb": notebook_bytes("ANSWER = 'checkpoint'"),
    "cs231n_lib/checks/common.py": b"def check(actual, expected):\n    pass  # the student made every check pass\n",
}
GRADED = {**RELEASE, **ANSWERS}
LIBRARY = "cs231n_lib/layers.py"


def test_the_fixtures_can_tell_a_student_file_from_a_released_one():
    # Every answer and every edited file differs from the released bytes, so a copy that took
    # the wrong one of the two is seen by the exact comparisons below.
    assert all(ANSWERS[name] != RELEASE[name] for name in ANSWERS)
    assert EXTRAS["cs231n_lib/checks/common.py"] != RELEASE["cs231n_lib/checks/common.py"]
    assert set(ANSWERS) == {f"{n}.ipynb" for n in NOTEBOOKS} | set(STUDENT_FILES)


# --- helpers -------------------------------------------------------------------------------


def write_files(folder, files):
    for relative, data in files.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return folder


def listing(folder):
    """{relative path: bytes} of every file under folder; fails on a link or special file."""
    found = {}
    for path in sorted(folder.rglob("*")):
        mode = path.lstat().st_mode
        if stat.S_ISDIR(mode):
            continue
        assert stat.S_ISREG(mode), f"{path} in the graded copy is not a regular file (mode {oct(mode)})"
        found[path.relative_to(folder).as_posix()] = path.read_bytes()
    return found


def snapshot(folder):
    """Every entry under folder (and folder itself): kind, sha256 or link target, and mode."""
    entries = {}
    for path in [folder, *sorted(folder.rglob("*"))]:
        info = path.lstat()
        mode = stat.S_IMODE(info.st_mode)
        if stat.S_ISLNK(info.st_mode):
            entries[str(path)] = ("link", os.readlink(path))
        elif stat.S_ISDIR(info.st_mode):
            entries[str(path)] = ("dir", mode)
        elif stat.S_ISREG(info.st_mode):
            entries[str(path)] = ("file", hashlib.sha256(path.read_bytes()).hexdigest(), mode)
        else:
            entries[str(path)] = ("special", stat.S_IFMT(info.st_mode), mode)
    return entries


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def make_zip(path, entries):
    """Write a zip of [(entry name or ZipInfo, bytes)], deflated.

    A name becomes an entry with the full Unix mode (S_IFREG | 0o644, or S_IFDIR for a name
    ending in '/'), as zip and shutil.make_archive write it on Linux and macOS.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries:
            if isinstance(name, str):
                name = zip_info(name, stat.S_IFDIR if name.endswith("/") else stat.S_IFREG,
                                0o755 if name.endswith("/") else 0o644)
            zf.writestr(name, data)
    return path


def zip_info(name, file_type, data_mode=0o644):
    info = zipfile.ZipInfo(name)
    info.create_system = 3  # unix, so external_attr holds st_mode
    info.external_attr = (file_type | data_mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def patch_zip_entry(path, name, *, file_size=None, flag_bits=None):
    """Rewrite the declared size or the flags of one entry, in its local and central headers."""
    data = bytearray(path.read_bytes())
    end = data.rindex(b"PK\x05\x06")
    count, _, offset = struct.unpack_from("<HII", data, end + 10)
    patched = False
    for _ in range(count):
        assert data[offset:offset + 4] == b"PK\x01\x02"
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", data, offset + 28)
        local = struct.unpack_from("<I", data, offset + 42)[0]
        if data[offset + 46:offset + 46 + name_len].decode() == name:
            assert data[local:local + 4] == b"PK\x03\x04"
            if file_size is not None:
                struct.pack_into("<I", data, offset + 24, file_size)
                struct.pack_into("<I", data, local + 22, file_size)
            if flag_bits is not None:
                struct.pack_into("<H", data, offset + 8, flag_bits)
                struct.pack_into("<H", data, local + 6, flag_bits)
            patched = True
        offset += 46 + name_len + extra_len + comment_len
    assert patched, f"no entry {name} in {path}"
    path.write_bytes(bytes(data))
    return path


def students(found):
    return [(s.student, s.path.name, s.problem) for s in found]


@pytest.fixture
def release(tmp_path):
    return write_files(tmp_path / "release" / "ps06", RELEASE)


def submit(tmp_path, kind, files, prefix="", student="alice"):
    """A submission of {relative path: bytes} as a folder or a zip, under an optional prefix."""
    if kind == "folder":
        write_files(tmp_path / "subs" / student / prefix, files)
        return tmp_path / "subs" / student
    return make_zip(tmp_path / "subs" / f"{student}.zip", [(prefix + name, data) for name, data in files.items()])


def build(submission_path, release, tmp_path, student="alice", **kwargs):
    destination = tmp_path / "graded" / student / "ps06"
    kwargs.setdefault("max_file_bytes", LIMIT)
    built = build_graded_copy(Submission(student, submission_path), release, NOTEBOOKS, STUDENT_FILES,
                              destination, **kwargs)
    return built, destination


def root_of(path):
    source = open_submission(Submission("x", path))
    try:
        return assignment_root(source, NOTEBOOKS)
    finally:
        if hasattr(source, "close"):
            source.close()


def without(files, *names):
    return {k: v for k, v in files.items() if k not in names}


# --- find_submissions: what is taken --------------------------------------------------------


def test_find_submissions_takes_folders_and_zips_sorted_and_skips_the_rest(tmp_path):
    for name in ("carol", "alice", ".hidden", "Zoe"):
        (tmp_path / name).mkdir()
    (tmp_path / "bob.zip").write_bytes(b"PK")
    (tmp_path / "dave.ZIP").write_bytes(b"PK")
    (tmp_path / ".eve.zip").write_bytes(b"PK")
    (tmp_path / ".DS_Store").write_bytes(b"\0")
    (tmp_path / "README.txt").write_text("not a submission")
    (tmp_path / "frank.tar.gz").write_bytes(b"\x1f\x8b")
    os.mkfifo(tmp_path / "fifo.zip")
    found = find_submissions(tmp_path)
    assert students(found) == [("Zoe", "Zoe", None), ("alice", "alice", None), ("bob", "bob.zip", None),
                               ("carol", "carol", None), ("dave", "dave.ZIP", None)]
    assert all(isinstance(s, Submission) and s.path.parent == tmp_path for s in found)


def test_find_submissions_of_an_empty_folder_is_empty(tmp_path):
    assert find_submissions(tmp_path) == []


def test_find_submissions_is_sorted_by_student_even_when_a_zip_suffix_changes_the_order(tmp_path):
    (tmp_path / "ann-marie").mkdir()
    (tmp_path / "ann.zip").write_bytes(b"PK")
    # By entry name "ann-marie" < "ann.zip"; by student id "ann" < "ann-marie".
    assert [s.student for s in find_submissions(tmp_path)] == ["ann", "ann-marie"]


def test_the_longest_allowed_student_id_is_accepted(tmp_path):
    (tmp_path / ("a" * 64)).mkdir()
    (tmp_path / "x_y-z.1").mkdir()
    (tmp_path / "0.zip").write_bytes(b"PK")
    assert students(find_submissions(tmp_path)) == [("0", "0.zip", None), ("a" * 64, "a" * 64, None),
                                                    ("x_y-z.1", "x_y-z.1", None)]


def test_symlinked_entries_in_the_submissions_folder_are_skipped(tmp_path):
    subs = tmp_path / "subs"
    real = subs / "alice"
    real.mkdir(parents=True)
    (subs / "bob.zip").write_bytes(b"PK")
    outside = tmp_path / "outside"
    (outside / "instructor").mkdir(parents=True)
    (outside / "secret.zip").write_bytes(b"PK")
    os.symlink(outside / "instructor", subs / "mallory")            # to a folder outside
    os.symlink(outside / "secret.zip", subs / "trudy.zip")          # to a zip outside
    os.symlink(real, subs / "alice2")                               # to another submission
    os.symlink(subs / "bob.zip", subs / "bob2.zip")                 # to another zip
    os.symlink(tmp_path / "nowhere", subs / "dangling")             # to nothing
    os.symlink(outside / "instructor", subs / "bad name")           # a link with a bad name too
    assert students(find_submissions(subs)) == [("alice", "alice", None), ("bob", "bob.zip", None)]


def test_a_missing_submissions_folder_is_named_with_what_to_pass(tmp_path):
    missing = tmp_path / "nope"
    with pytest.raises(SubmissionError) as info:
        find_submissions(missing)
    assert str(info.value).startswith(f"no submissions folder at {missing}: pass the folder")
    (tmp_path / "file.zip").write_bytes(b"PK")
    with pytest.raises(SubmissionError, match=r"no submissions folder at .*file\.zip"):
        find_submissions(tmp_path / "file.zip")


# --- find_submissions: entries that cannot be graded get a row saying why -----------------------


@pytest.mark.parametrize("name, is_zip", [
    ("bad name", False), ("-dash-first", False), ("émile", False), ("x" * 65, False),
    ("semi;colon", True), ("_underscore_first", True), ("bad name", True), ("ünïcode", True),
])
def test_an_unusable_student_id_gets_a_problem_naming_the_entry(tmp_path, name, is_zip):
    entry = tmp_path / (name + ".zip" if is_zip else name)
    if is_zip:
        entry.write_bytes(b"PK")
    else:
        entry.mkdir()
    (tmp_path / "alice").mkdir()
    found = find_submissions(tmp_path)
    rejected = [s for s in found if s.problem]
    assert [(s.student, s.path) for s in rejected] == [(entry.name, entry)]
    assert rejected[0].problem.startswith(f"{entry.name!r} is not a student id: use letters, digits")
    assert rejected[0].problem.endswith("rename it")
    assert [(s.student, s.problem) for s in found if not s.problem] == [("alice", None)]  # still graded


def test_archive_metadata_gets_a_problem_naming_it(tmp_path):
    (tmp_path / "__MACOSX").mkdir()
    (tmp_path / "alice").mkdir()
    assert students(find_submissions(tmp_path)) == [
        ("__MACOSX", "__MACOSX", "__MACOSX is archive metadata, not a submission"),
        ("alice", "alice", None),
    ]


@pytest.mark.parametrize("raw, shown", [
    (b"bell\x07name", "bell?name"),
    (b"esc\x1b[2Jname.zip", "esc?[2Jname.zip"),
    (b"tab\tname", "tab?name"),
    (b"caf\xe9", "caf?"),                                # not UTF-8: a lone surrogate in Python
    ("rtl\u202egpj.zip".encode(), "rtl?gpj.zip"),        # a bidi override that reverses what follows
])
def test_an_unprintable_character_in_a_name_is_shown_as_a_question_mark(tmp_path, raw, shown):
    path = os.fsencode(tmp_path) + b"/" + raw
    if raw.endswith(b".zip"):
        with open(path, "wb") as f:
            f.write(b"PK")
    else:
        os.mkdir(path)
    (tmp_path / "alice").mkdir()
    found = find_submissions(tmp_path)
    [rejected] = [s for s in found if s.problem]
    assert rejected.student == shown
    assert rejected.problem == (f"{shown!r} is not a student id: use letters, digits, '.', '_' or '-' "
                                "(at most 64, starting with a letter or digit); rename it")
    assert rejected.problem.isprintable()
    rejected.problem.encode("utf-8")  # goes to the CSV as it is
    assert os.fsencode(rejected.path) == path  # the row still points at the real entry


def test_a_folder_and_a_zip_for_one_student_get_one_problem_naming_both(tmp_path):
    (tmp_path / "alice").mkdir()
    (tmp_path / "alice.zip").write_bytes(b"PK")
    (tmp_path / "bob").mkdir()
    found = find_submissions(tmp_path)
    assert [(s.student, s.problem) for s in found] == [
        ("alice", "two submissions for alice (alice and alice.zip); keep one"),
        ("bob", None),
    ]


def test_two_zips_differing_in_case_of_the_suffix_are_one_student_twice(tmp_path):
    (tmp_path / "bob.ZIP").write_bytes(b"PK")
    (tmp_path / "bob.zip").write_bytes(b"PK")
    (tmp_path / "carol.zip").write_bytes(b"PK")
    found = find_submissions(tmp_path)
    assert [(s.student, s.problem) for s in found] == [
        ("bob", "two submissions for bob (bob.ZIP and bob.zip); keep one"),
        ("carol", None),
    ]


def test_a_trailing_newline_is_not_part_of_a_student_id(tmp_path):
    os.mkdir(os.fsencode(tmp_path) + b"/alice\n")
    [found] = find_submissions(tmp_path)
    assert found.problem is not None and found.student == "alice?"


# --- assignment_root: where in a submission the assignment is -----------------------------------


@pytest.fixture(params=["folder", "zip"])
def kind(request):
    return request.param


def test_assignment_root_is_the_top_when_it_holds_the_notebooks(tmp_path, kind):
    assert root_of(submit(tmp_path, kind, ANSWERS)) == PurePosixPath(".")


def test_assignment_root_finds_notebooks_nested_one_folder_down(tmp_path, kind):
    path = submit(tmp_path, kind, {**{f"ps06/{k}": v for k, v in ANSWERS.items()}, "notes/readme.txt": b"hi"})
    assert root_of(path) == PurePosixPath("ps06")


def test_assignment_root_prefers_the_folder_with_the_most_notebooks(tmp_path, kind):
    files = {"06_dropout.ipynb": b"{}",                                 # a stray copy at the top
             **{f"a/ps06/{k}": v for k, v in ANSWERS.items()},           # the real one, two down
             "b/07_small_convnet.ipynb": b"{}"}
    assert root_of(submit(tmp_path, kind, files)) == PurePosixPath("a/ps06")


def test_assignment_root_ignores_checkpoints_caches_archive_metadata_and_unrelated_notebooks(tmp_path, kind):
    files = {**{f".ipynb_checkpoints/{k}": v for k, v in ANSWERS.items()},
             **{f"__MACOSX/{k}": v for k, v in ANSWERS.items()},
             **{f"x/__MACOSX/{k}": v for k, v in ANSWERS.items()},
             **{f"__pycache__/{k}": v for k, v in ANSWERS.items()},
             "other/99_other.ipynb": b"{}"}
    assert root_of(submit(tmp_path, kind, files)) is None
    real = submit(tmp_path, kind, {**files, "ps06/06_dropout.ipynb": b"{}"})
    assert root_of(real) == PurePosixPath("ps06")  # one real notebook beats two in the metadata


def test_assignment_root_does_not_search_deeper_than_three_folders(tmp_path, kind):
    assert root_of(submit(tmp_path, kind, {f"1/2/3/4/{k}": v for k, v in ANSWERS.items()})) is None
    three = submit(tmp_path, kind, {**{f"1/2/3/4/{k}": v for k, v in ANSWERS.items()},
                                    "1/2/3/06_dropout.ipynb": b"{}"})
    assert root_of(three) == PurePosixPath("1/2/3")


def test_assignment_root_does_not_go_through_a_symlinked_folder(tmp_path):
    outside = write_files(tmp_path / "outside" / "ps06", ANSWERS)
    alice = tmp_path / "subs" / "alice"
    alice.mkdir(parents=True)
    os.symlink(outside, alice / "ps06")
    assert root_of(alice) is None


# --- build_graded_copy: what the copy holds ------------------------------------------------------


def test_the_copy_is_the_release_with_only_the_answer_files_put_in(tmp_path, release, kind):
    path = submit(tmp_path, kind, {**ANSWERS, **EXTRAS}, prefix="ps06/")
    built, copy = build(path, release, tmp_path)
    assert built == GradedCopy(NOTEBOOKS, [])
    assert listing(copy) == GRADED
    assert sorted(listing(copy)) == sorted(RELEASE)  # exactly the release's file names
    # Spelled out, as the brief lists them: nothing a student adds, and the released checks.
    for extra in ("sitecustomize.py", "evil.pth", "cs231n_course", "cs231n_lib/checks/dropout",
                  "cs231n_lib/extra.py", ".ipynb_checkpoints"):
        assert not (copy / extra).exists(), extra
    assert (copy / "cs231n_lib/checks/common.py").read_bytes() == RELEASE["cs231n_lib/checks/common.py"]
    assert listing(release) == RELEASE  # the release itself is untouched


def test_extras_next_to_a_wrapped_assignment_do_not_reach_the_copy(tmp_path, release, kind):
    files = {**{f"ps06/{k}": v for k, v in {**ANSWERS, **EXTRAS}.items()}, **EXTRAS}
    built, copy = build(submit(tmp_path, kind, files), release, tmp_path)
    assert built.notebooks == NOTEBOOKS
    assert listing(copy) == GRADED


def test_a_zip_wrapped_in_one_folder_with_folder_entries_is_found(tmp_path, release):
    # As shutil.make_archive writes it: a folder entry before the files in it.
    archive = make_zip(tmp_path / "subs" / "alice.zip", [
        ("ps06/", b""), ("ps06/cs231n_lib/", b""), *((f"ps06/{name}", data) for name, data in ANSWERS.items())])
    with zipfile.ZipFile(archive) as zf:
        assert [i.is_dir() for i in zf.infolist()] == [True, True, False, False, False]
    built, copy = build(archive, release, tmp_path)
    assert built == GradedCopy(NOTEBOOKS, [])
    assert listing(copy) == GRADED


@pytest.mark.parametrize("prefix", ["", "a/", "a/b/", "a/b/c/"])
def test_an_assignment_nested_up_to_three_folders_is_found(tmp_path, release, kind, prefix):
    built, copy = build(submit(tmp_path, kind, ANSWERS, prefix=prefix), release, tmp_path)
    assert built.notebooks == NOTEBOOKS
    assert listing(copy) == GRADED


def test_an_assignment_four_folders_down_is_not_searched_for(tmp_path, release, kind):
    path = submit(tmp_path, kind, ANSWERS, prefix="a/b/c/d/")
    with pytest.raises(SubmissionError, match=r"^alice(\.zip)? holds none of the notebooks "
                                              r"06_dropout\.ipynb, 07_small_convnet\.ipynb$"):
        build(path, release, tmp_path)


def test_missing_answer_files_are_noted_and_the_released_library_file_is_kept(tmp_path, release, kind):
    path = submit(tmp_path, kind, without(ANSWERS, "07_small_convnet.ipynb", LIBRARY))
    built, copy = build(path, release, tmp_path)
    assert built == GradedCopy(["06_dropout"], ["missing 07_small_convnet",
                                                "no cs231n_lib/layers.py (the released one was used)"])
    assert listing(copy) == {**without(RELEASE, "07_small_convnet.ipynb"),
                             "06_dropout.ipynb": ANSWERS["06_dropout.ipynb"]}


def test_a_submission_with_nothing_of_the_assignment_is_refused_and_an_old_copy_kept(tmp_path, release, kind):
    path = submit(tmp_path, kind, {"my_work.ipynb": notebook_bytes("x = 1"), "notes.txt": b"hi"}, student="dave")
    destination = write_files(tmp_path / "graded" / "dave" / "ps06", {"keep.txt": b"previous"})
    with pytest.raises(SubmissionError) as info:
        build(path, release, tmp_path, student="dave")
    assert str(info.value) == f"{path.name} holds none of the notebooks 06_dropout.ipynb, 07_small_convnet.ipynb"
    assert listing(destination) == {"keep.txt": b"previous"}  # nothing replaced on failure


def test_an_old_copy_is_replaced(tmp_path, release, kind):
    destination = write_files(tmp_path / "graded" / "alice" / "ps06",
                              {"old_leftover.py": b"x = 1\n", "07_small_convnet.ipynb": b"old"})
    path = submit(tmp_path, kind, without(ANSWERS, "07_small_convnet.ipynb"))
    built, copy = build(path, release, tmp_path)
    assert copy == destination
    assert built.notebooks == ["06_dropout"]
    assert listing(copy) == without(GRADED, "07_small_convnet.ipynb")


def test_a_zip_that_is_not_a_zip_is_refused_by_name(tmp_path, release):
    fake = tmp_path / "subs" / "carol.zip"
    fake.parent.mkdir()
    fake.write_text("I renamed my notebook to .zip")
    with pytest.raises(SubmissionError, match=r"^carol\.zip is not a valid zip file"):
        build(fake, release, tmp_path, student="carol")
    assert fake.read_text() == "I renamed my notebook to .zip"
    assert not (tmp_path / "graded").exists()


# --- build_graded_copy: notebooks that are not notebooks ----------------------------------------


BAD_NOTEBOOKS = {
    "bad JSON": (b'{"cells": [', "is not valid JSON ("),
    "not UTF-8": (b'{"cells": [], "nbformat": 4, "x": "\xff\xfe"}', "is not UTF-8 text"),
    "a JSON list": (b"[1, 2, 3]", "is not a version-4 notebook"),
    "JSON without cells": (b'{"nbformat": 4, "metadata": {}}', "is not a version-4 notebook"),
    "a version-3 notebook": (b'{"nbformat": 3, "nbformat_minor": 0, "worksheets": [], "cells": []}',
                             "is not a version-4 notebook"),
    "empty": (b"", "is not valid JSON ("),
}


@pytest.mark.parametrize("case", sorted(BAD_NOTEBOOKS))
def test_a_notebook_that_is_not_a_notebook_is_left_out_with_a_note(tmp_path, release, kind, case):
    data, why = BAD_NOTEBOOKS[case]
    path = submit(tmp_path, kind, {**ANSWERS, "06_dropout.ipynb": data})
    built, copy = build(path, release, tmp_path)
    assert built.notebooks == ["07_small_convnet"]
    [note] = built.notes
    assert note.startswith(f"06_dropout not graded: 06_dropout.ipynb {why}")
    assert listing(copy) == without(GRADED, "06_dropout.ipynb")


def test_a_submission_with_only_a_bad_notebook_is_refused_saying_why(tmp_path, release, kind):
    path = submit(tmp_path, kind, {"06_dropout.ipynb": b'{"cells": [', LIBRARY: ANSWERS[LIBRARY]})
    with pytest.raises(SubmissionError) as info:
        build(path, release, tmp_path)
    message = str(info.value)
    assert message.startswith("06_dropout not graded: 06_dropout.ipynb is not valid JSON (")
    assert message.endswith("; missing 07_small_convnet")


def test_a_notebook_whose_cells_are_not_cells_is_left_out(tmp_path, release):
    broken = b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": ["print(1)"]}'
    built, copy = build(submit(tmp_path, "folder", {**ANSWERS, "06_dropout.ipynb": broken}), release, tmp_path)
    assert built.notebooks == ["07_small_convnet"]
    assert not (copy / "06_dropout.ipynb").exists()


# --- build_graded_copy: hostile answer files in a folder ----------------------------------------


def plant(folder, relative, attack, outside):
    """Put ``attack`` at folder/relative, in place of the student's answer file."""
    path = folder / relative
    if attack == "through a linked folder":
        assert not path.parent.exists(), "put the linked folder where no real one is"
        real = write_files(folder / "lib_real", {path.name: ANSWERS[relative]})
        os.symlink(real.name, path.parent, target_is_directory=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    if attack == "link to /etc/passwd":
        os.symlink("/etc/passwd", path)
    elif attack == "link outside":
        os.symlink(outside, path)
    elif attack == "link inside":
        backup = write_files(folder / "backup", {relative: ANSWERS[relative]}) / relative
        os.symlink(os.path.relpath(backup, path.parent), path)
    elif attack == "FIFO":
        os.mkfifo(path)
    elif attack == "over the size limit":
        path.write_bytes(ANSWERS[relative] + b" " * (LIMIT + 1 - len(ANSWERS[relative])))
    else:
        raise AssertionError(attack)


FOLDER_ATTACKS = ["link to /etc/passwd", "link outside", "link inside", "FIFO", "over the size limit"]


def expect_refused(built, copy, relative):
    """The answer file at ``relative`` was refused: left out (a notebook) or released (the library)."""
    [note] = built.notes
    if relative.endswith(".ipynb"):
        name = relative[:-len(".ipynb")]
        assert built.notebooks == [n for n in NOTEBOOKS if n != name]
        assert note.startswith((f"missing {name}", f"{name} not graded: ")), note
        assert listing(copy) == without(GRADED, relative)
    else:
        assert built.notebooks == NOTEBOOKS
        assert note == f"no {relative} (the released one was used)" or note.startswith(f"{relative} not used: "), note
        assert listing(copy) == {**GRADED, relative: RELEASE[relative]}
    return note


@pytest.mark.parametrize("relative", ["06_dropout.ipynb", LIBRARY])
@pytest.mark.parametrize("attack", FOLDER_ATTACKS)
def test_a_hostile_answer_file_in_a_folder_is_refused_with_a_note(tmp_path, release, attack, relative):
    outside = write_files(tmp_path / "outside", {"secret.txt": b"instructor only\n"}) / "secret.txt"
    folder = submit(tmp_path, "folder", without(ANSWERS, relative))
    plant(folder, relative, attack, outside)
    before = snapshot(folder)
    built, copy = build(folder, release, tmp_path)
    note = expect_refused(built, copy, relative)
    if attack == "over the size limit":
        assert note.endswith(f"{relative} is larger than 1 MiB")
    assert snapshot(folder) == before


def test_a_library_file_reached_through_a_symlinked_folder_is_refused(tmp_path, release):
    folder = submit(tmp_path, "folder", without(ANSWERS, LIBRARY))
    plant(folder, LIBRARY, "through a linked folder", None)
    built, copy = build(folder, release, tmp_path)
    note = expect_refused(built, copy, LIBRARY)
    assert note == f"{LIBRARY} not used: {LIBRARY} is reached through a link"


def test_a_library_file_through_a_folder_linked_outside_is_refused_when_the_assignment_is_nested(tmp_path, release):
    outside = write_files(tmp_path / "outside" / "cs231n_lib", {"layers.py": b"# instructor's solution\n"})
    folder = submit(tmp_path, "folder", without(ANSWERS, LIBRARY), prefix="ps06/")
    os.symlink(outside, folder / "ps06" / "cs231n_lib")
    built, copy = build(folder, release, tmp_path)
    note = expect_refused(built, copy, LIBRARY)
    assert note == f"{LIBRARY} not used: ps06/{LIBRARY} is reached through a link"


def test_a_symlinked_assignment_folder_does_not_pull_in_files_from_outside(tmp_path, release):
    outside = write_files(tmp_path / "elsewhere" / "ps06", {**ANSWERS, "stolen.txt": b"instructor only\n"})
    eve = write_files(tmp_path / "subs" / "eve", {"07_small_convnet.ipynb": ANSWERS["07_small_convnet.ipynb"]})
    os.symlink(outside, eve / "ps06")
    built, copy = build(eve, release, tmp_path, student="eve")
    assert built == GradedCopy(["07_small_convnet"], ["missing 06_dropout",
                                                      "no cs231n_lib/layers.py (the released one was used)"])
    assert listing(copy) == {**without(RELEASE, "06_dropout.ipynb"),
                             "07_small_convnet.ipynb": ANSWERS["07_small_convnet.ipynb"]}


def test_answer_files_exactly_at_the_size_limit_are_used(tmp_path, release, kind):
    at_limit = {name: data + b" " * (LIMIT - len(data)) for name, data in ANSWERS.items()}
    built, copy = build(submit(tmp_path, kind, at_limit), release, tmp_path)
    assert built == GradedCopy(NOTEBOOKS, [])
    assert listing(copy) == {**RELEASE, **at_limit}


@pytest.mark.parametrize("relative", ["06_dropout.ipynb", LIBRARY])
@pytest.mark.parametrize("attack, reason", [("link to /etc/passwd", "link"), ("FIFO", "regular file")])
def test_a_link_or_fifo_answer_file_is_noted_as_such_not_as_missing(tmp_path, release, attack, reason, relative):
    folder = submit(tmp_path, "folder", without(ANSWERS, relative))
    plant(folder, relative, attack, None)
    built, _ = build(folder, release, tmp_path)
    [note] = built.notes
    assert reason in note and "missing" not in note and "no " + relative not in note


# --- build_graded_copy: hostile entries in a zip ------------------------------------------------


def zip_with(tmp_path, relative, entry, data):
    """alice.zip: the answers, with ``relative`` replaced by ``entry`` holding ``data``."""
    entries = [(name, payload) for name, payload in ANSWERS.items() if name != relative]
    return make_zip(tmp_path / "subs" / "alice.zip", [*entries, (entry, data)])


@pytest.mark.parametrize("relative", ["06_dropout.ipynb", LIBRARY])
@pytest.mark.parametrize("file_type", [stat.S_IFLNK, stat.S_IFIFO, stat.S_IFDIR, stat.S_IFCHR])
def test_a_link_or_special_entry_in_a_zip_is_refused_with_a_note(tmp_path, release, relative, file_type):
    archive = zip_with(tmp_path, relative, zip_info(relative, file_type, 0o777), b"/etc/passwd")
    built, copy = build(archive, release, tmp_path)
    note = expect_refused(built, copy, relative)
    assert note.endswith(f"{relative} is a link or special file in the zip")


def test_a_zip_made_by_shutil_make_archive_is_graded(tmp_path, release):
    work = write_files(tmp_path / "work" / "ps06", {**ANSWERS, **EXTRAS}).parent
    archive = Path(shutil.make_archive(str(tmp_path / "subs" / "alice"), "zip", work, "ps06"))
    built, copy = build(archive, release, tmp_path)
    assert built == GradedCopy(NOTEBOOKS, [])
    assert listing(copy) == GRADED


def test_a_zip_written_with_plain_writestr_is_graded(tmp_path, release):
    archive = tmp_path / "subs" / "alice.zip"
    archive.parent.mkdir()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in ANSWERS.items():
            zf.writestr(name, data)
    with zipfile.ZipFile(archive) as zf:
        assert {i.external_attr >> 16 for i in zf.infolist()} == {0o600}  # permissions, no file type
    built, copy = build(archive, release, tmp_path)
    assert built == GradedCopy(NOTEBOOKS, [])
    assert listing(copy) == GRADED


def test_a_zip_entry_without_unix_mode_is_a_regular_file(tmp_path, release):
    # Zips written on Windows have no st_mode in external_attr (0); they are normal files.
    entries = []
    for name, data in ANSWERS.items():
        info = zipfile.ZipInfo(name)
        info.create_system, info.external_attr = 0, 0x20  # MS-DOS "archive" attribute
        entries.append((info, data))
    built, copy = build(make_zip(tmp_path / "subs" / "alice.zip", entries), release, tmp_path)
    assert built == GradedCopy(NOTEBOOKS, [])
    assert listing(copy) == GRADED


@pytest.mark.parametrize("relative", ["06_dropout.ipynb", LIBRARY])
def test_an_oversize_zip_entry_is_refused_before_it_is_unpacked(tmp_path, release, relative, monkeypatch):
    reads = []
    original = zipfile.ZipExtFile.read
    monkeypatch.setattr(zipfile.ZipExtFile, "read", lambda self, n=-1: reads.append(n) or original(self, n))
    big = ANSWERS[relative] + b" " * (5 * LIMIT)  # deflates to a few KiB
    archive = zip_with(tmp_path, relative, relative, big)
    assert archive.stat().st_size < LIMIT // 10
    built, copy = build(archive, release, tmp_path)
    note = expect_refused(built, copy, relative)
    assert note.endswith(f"{relative} is larger than 1 MiB")
    assert len(reads) == 2 and all(0 < n <= LIMIT + 1 for n in reads)  # only the two other answer files


@pytest.mark.parametrize("relative", ["06_dropout.ipynb", LIBRARY])
def test_a_zip_bomb_whose_declared_size_lies_is_refused_and_read_only_up_to_the_limit(
        tmp_path, release, relative, monkeypatch):
    reads = []
    original = zipfile.ZipExtFile.read
    monkeypatch.setattr(zipfile.ZipExtFile, "read", lambda self, n=-1: reads.append(n) or original(self, n))
    big = ANSWERS[relative] + b" " * (5 * LIMIT)
    archive = patch_zip_entry(zip_with(tmp_path, relative, relative, big), relative, file_size=100)
    with zipfile.ZipFile(archive) as zf:
        assert zf.getinfo(relative).file_size == 100  # the lie the grader sees
    digest = sha256(archive)
    built, copy = build(archive, release, tmp_path)
    note = expect_refused(built, copy, relative)
    assert note.endswith(f"{relative} cannot be unpacked (Bad CRC-32 for file '{relative}')") or \
        note.endswith(f"{relative} is larger than 1 MiB"), note
    assert all(0 < n <= LIMIT + 1 for n in reads)
    assert sha256(archive) == digest


def test_an_encrypted_zip_entry_is_refused_with_a_note(tmp_path, release):
    archive = patch_zip_entry(zip_with(tmp_path, "06_dropout.ipynb", "06_dropout.ipynb",
                                       ANSWERS["06_dropout.ipynb"]), "06_dropout.ipynb", flag_bits=0x1)
    built, copy = build(archive, release, tmp_path)
    note = expect_refused(built, copy, "06_dropout.ipynb")
    assert note.startswith("06_dropout not graded: 06_dropout.ipynb cannot be unpacked (")
    assert "encrypted" in note


def test_zip_entries_with_dot_dot_or_an_absolute_path_are_never_read(tmp_path, release, monkeypatch):
    opened = []
    original = zipfile.ZipFile.open
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda self, name, *a, **k: opened.append(
        getattr(name, "filename", name)) or original(self, name, *a, **k))
    hostile = [
        ("sub/../07_small_convnet.ipynb", ANSWERS["07_small_convnet.ipynb"]),   # would be ./07 if normalised
        ("/07_small_convnet.ipynb", ANSWERS["07_small_convnet.ipynb"]),         # would be ./07 if stripped
        ("../cs231n_lib/layers.py", ANSWERS[LIBRARY]),
        ("/cs231n_lib/layers.py", ANSWERS[LIBRARY]),
        ("cs231n_lib/../cs231n_lib/layers.py", ANSWERS[LIBRARY]),
    ]
    archive = make_zip(tmp_path / "subs" / "alice.zip", [("06_dropout.ipynb", ANSWERS["06_dropout.ipynb"]), *hostile])
    with zipfile.ZipFile(archive) as zf:
        assert [i.filename for i in zf.infolist()][1:] == [name for name, _ in hostile]  # kept as written
    opened.clear()
    built, copy = build(archive, release, tmp_path)
    assert opened == ["06_dropout.ipynb"]
    assert built == GradedCopy(["06_dropout"], ["missing 07_small_convnet",
                                                "no cs231n_lib/layers.py (the released one was used)"])
    assert listing(copy) == {**without(RELEASE, "07_small_convnet.ipynb"),
                             "06_dropout.ipynb": ANSWERS["06_dropout.ipynb"]}


def test_a_zip_with_only_dot_dot_entries_holds_nothing_of_the_assignment(tmp_path, release):
    archive = make_zip(tmp_path / "subs" / "alice.zip",
                       [(f"../{name}", data) for name, data in ANSWERS.items()])
    with pytest.raises(SubmissionError, match=r"^alice\.zip holds none of the notebooks"):
        build(archive, release, tmp_path)
    assert not (tmp_path / "graded").exists()
    assert not (tmp_path / "subs" / "06_dropout.ipynb").exists() and not (tmp_path / "06_dropout.ipynb").exists()


# --- submissions are only ever read ---------------------------------------------------------------


def test_a_hostile_folder_is_byte_identical_after_the_copy(tmp_path, release):
    outside = write_files(tmp_path / "outside", {"secret.txt": b"instructor only\n"}) / "secret.txt"
    folder = submit(tmp_path, "folder", {**ANSWERS, **EXTRAS}, prefix="ps06/")
    root = folder / "ps06"
    (root / "06_dropout.ipynb").unlink()
    plant(root, "06_dropout.ipynb", "link outside", outside)
    (root / "07_small_convnet.ipynb").unlink()
    plant(root, "07_small_convnet.ipynb", "FIFO", outside)
    os.symlink(outside, root / "cs231n_lib" / "answers.py")
    os.symlink(outside.parent, root / "linked_dir")
    write_files(root, {"cs231n_lib/__pycache__/layers.cpython-311.pyc": b"\0compiled"})
    os.chmod(root / "cs231n_lib" / "layers.py", 0o600)
    before = snapshot(folder)
    with pytest.raises(SubmissionError, match=r"^06_dropout not graded: ps06/06_dropout.ipynb is a link, not a file; "
                                              r"07_small_convnet not graded: ps06/07_small_convnet.ipynb is not a "
                                              r"regular file"):
        build(folder, release, tmp_path)
    assert snapshot(folder) == before
    (root / "06_dropout.ipynb").unlink()
    write_files(root, {"06_dropout.ipynb": ANSWERS["06_dropout.ipynb"]})
    before = snapshot(folder)
    built, copy = build(folder, release, tmp_path)
    assert built.notebooks == ["06_dropout"]
    assert listing(copy) == {**without(GRADED, "07_small_convnet.ipynb")}
    assert snapshot(folder) == before
    assert not any(b"instructor only" in data for data in listing(copy).values())


def test_a_zip_is_byte_identical_after_the_copy(tmp_path, release):
    entries = [(f"ps06/{name}", data) for name, data in {**ANSWERS, **EXTRAS}.items()]
    entries.append((zip_info("ps06/cs231n_lib/answers.py", stat.S_IFLNK, 0o777), b"/etc/passwd"))
    archive = make_zip(tmp_path / "subs" / "alice.zip", entries)
    os.chmod(archive, 0o640)
    before = snapshot(archive.parent)
    built, copy = build(archive, release, tmp_path)
    assert built == GradedCopy(NOTEBOOKS, [])
    assert listing(copy) == GRADED
    assert snapshot(archive.parent) == before


# --- notes name what they are about, printably -----------------------------------------------------


@pytest.mark.parametrize("kind_, raw_root", [("zip", "ps\x1b[2J06"), ("folder", "ps\x1b[2J06"),
                                             ("folder", os.fsdecode(b"ps\xff06"))])
def test_names_from_inside_a_submission_are_printable_in_the_notes(tmp_path, release, kind_, raw_root):
    files = {**ANSWERS, LIBRARY: ANSWERS[LIBRARY] + b" " * LIMIT}  # over the limit: a note names it
    built, _ = build(submit(tmp_path, kind_, files, prefix=raw_root + "/"), release, tmp_path)
    [note] = built.notes
    assert note.startswith(f"{LIBRARY} not used: ")  # the note is there...
    assert note.isprintable()                         # ...and safe to print and to write as UTF-8
    note.encode("utf-8")


def test_the_size_limit_in_a_note_is_the_limit_given(tmp_path, release, kind):
    assert all(len(data) < 1000 for data in ANSWERS.values())  # the answers fit; only the big file does not
    files = {**ANSWERS, LIBRARY: b"#" * 1001}
    built, _ = build(submit(tmp_path, kind, files), release, tmp_path, max_file_bytes=1000)
    [note] = built.notes
    assert note.startswith(f"{LIBRARY} not used: {LIBRARY} is larger than ")  # refused, as it should be...
    assert "0 MiB" not in note and "1000" in note                            # ...saying the limit it broke
