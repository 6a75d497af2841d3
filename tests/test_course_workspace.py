"""Tests for cs231n_course.workspace: the student's workspace and its sync.

Oracles: the bytes on disk (every file a test cares about is read back and
compared with what the student or the course wrote); sha256 digests computed
here with hashlib; a snapshot of every path's bytes, mode and mtime to prove
that a sync which has nothing to do writes nothing; the exact report lines.
Everything runs in tmp_path.
"""

import hashlib
import json
import os
import stat

import pytest

from cs231n_course.workspace import SyncReport, format_report, sync_workspace

COURSE = {
    "01_spatial_arithmetic.ipynb": b'{"cells": ["spatial"]}\n',
    "02_convolution.ipynb": b'{"cells": ["conv"]}\n',
    "cs231n_lib/__init__.py": b'"""The library."""\n',
    "cs231n_lib/layers.py": b"def conv_forward(x, w):\n    raise NotImplementedError\n",
}


class _AnyBytes:
    """Equal to any bytes: for a file whose content another assertion checks."""

    def __eq__(self, other):
        return isinstance(other, bytes)


ANY_BYTES = _AnyBytes()


def write_files(folder, files):
    """Write {relpath: bytes} under folder, creating subfolders."""
    for rel, data in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def read_tree(folder):
    """Return {relpath: bytes} for every file under folder, symlinks not followed."""
    found = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink():
            found[path.relative_to(folder).as_posix()] = path.read_bytes()
    return found


def snapshot(folder):
    """Return every path under folder (and folder itself) with its bytes, mode and mtime."""
    paths = [folder, *sorted(folder.rglob("*"))]
    return {
        path.relative_to(folder).as_posix(): (
            path.read_bytes() if path.is_file() else None,
            path.lstat().st_mode,
            path.lstat().st_mtime_ns,
        )
        for path in paths
    }


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def manifest_files(workspace):
    return json.loads((workspace / ".course-manifest.json").read_text())["files"]


def make_symlink(link, target):
    try:
        os.symlink(target, link)
    except OSError as error:  # e.g. Windows without the privilege
        pytest.skip(f"cannot make symlinks here: {error}")


@pytest.fixture
def release(tmp_path):
    folder = tmp_path / "release" / "cs231n"
    write_files(folder, COURSE)
    return folder


@pytest.fixture
def workspace(tmp_path, release):
    """A workspace already built once from the release."""
    folder = tmp_path / "workspace"
    sync_workspace(release, folder)
    return folder


def test_first_build_copies_every_file_and_writes_the_manifest(tmp_path, release):
    workspace = tmp_path / "workspace"

    report = sync_workspace(release, workspace)

    assert report.first_build
    assert report.added == sorted(COURSE)
    assert report.updated == report.restored == report.kept == report.removed_from_course == []
    assert read_tree(workspace) == {**COURSE, ".course-manifest.json": ANY_BYTES}
    manifest = json.loads((workspace / ".course-manifest.json").read_text())
    assert manifest == {"format": 1, "files": {rel: sha256(data) for rel, data in COURSE.items()}, "course": {}}
    expected = f"Workspace: {workspace.as_posix()}/ built from {release.as_posix()} (4 files)."
    assert format_report(report, workspace) == expected


def test_first_build_message_uses_the_paths_as_given(release, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    report = sync_workspace("release/cs231n", "workspace")
    assert format_report(report, "workspace") == (
        "Workspace: workspace/ built from release/cs231n (4 files)."
    )


def test_second_run_with_nothing_changed_writes_nothing(release, workspace):
    before = snapshot(workspace)

    report = sync_workspace(release, workspace)

    assert report == SyncReport(release=release.as_posix(), course_files=len(COURSE))
    assert snapshot(workspace) == before
    assert format_report(report, workspace) == ""


def test_student_edit_survives_a_course_update(release, workspace):
    mine = b"def conv_forward_naive(x, w, b, conv_param):\n    return my_loops(x, w)\n"
    course_fix = COURSE["cs231n_lib/layers.py"] + b"# fixed docstring\n"
    (workspace / "cs231n_lib/layers.py").write_bytes(mine)
    (release / "cs231n_lib/layers.py").write_bytes(course_fix)

    report = sync_workspace(release, workspace)

    assert report.kept == ["cs231n_lib/layers.py"]
    assert report.updated == report.added == report.restored == []
    assert (workspace / "cs231n_lib/layers.py").read_bytes() == mine
    assert (workspace / "course-updates/cs231n_lib/layers.py").read_bytes() == course_fix
    assert format_report(report, "workspace") == (
        "Kept 1 file you changed; the course's new version is in workspace/course-updates/ "
        "to compare: cs231n_lib/layers.py"
    )


def test_a_kept_file_is_reported_once_and_then_takes_later_updates(release, workspace):
    course_fix = COURSE["cs231n_lib/layers.py"] + b"# fixed docstring\n"
    (workspace / "cs231n_lib/layers.py").write_bytes(b"my version\n")
    (release / "cs231n_lib/layers.py").write_bytes(course_fix)
    sync_workspace(release, workspace)

    assert sync_workspace(release, workspace).kept == []
    assert (workspace / "cs231n_lib/layers.py").read_bytes() == b"my version\n"

    # The student adopts the course's version; the next fix then just arrives.
    (workspace / "cs231n_lib/layers.py").write_bytes(course_fix)
    (release / "cs231n_lib/layers.py").write_bytes(course_fix + b"# second fix\n")
    report = sync_workspace(release, workspace)
    assert report.updated == ["cs231n_lib/layers.py"]
    assert (workspace / "cs231n_lib/layers.py").read_bytes() == course_fix + b"# second fix\n"


def test_student_edit_with_no_course_change_is_left_alone_silently(release, workspace):
    (workspace / "02_convolution.ipynb").write_bytes(b'{"cells": ["my answers"]}\n')

    report = sync_workspace(release, workspace)

    assert format_report(report, workspace) == ""
    assert (workspace / "02_convolution.ipynb").read_bytes() == b'{"cells": ["my answers"]}\n'
    assert not (workspace / "course-updates").exists()


def test_a_file_the_student_never_changed_is_updated(release, workspace):
    v2 = b'{"cells": ["spatial v2"]}\n'
    (release / "01_spatial_arithmetic.ipynb").write_bytes(v2)

    report = sync_workspace(release, workspace)

    assert report.updated == ["01_spatial_arithmetic.ipynb"]
    assert (workspace / "01_spatial_arithmetic.ipynb").read_bytes() == v2
    assert manifest_files(workspace)["01_spatial_arithmetic.ipynb"] == sha256(v2)
    assert format_report(report, "workspace") == (
        "Updated 1 file you had not changed: 01_spatial_arithmetic.ipynb"
    )


def test_a_new_course_file_is_added(release, workspace):
    write_files(release, {"09_new.ipynb": b'{"cells": ["new"]}\n', "cs231n_lib/optim.py": b"# sgd"})

    report = sync_workspace(release, workspace)

    assert report.added == ["09_new.ipynb", "cs231n_lib/optim.py"]
    assert (workspace / "09_new.ipynb").read_bytes() == b'{"cells": ["new"]}\n'
    assert (workspace / "cs231n_lib/optim.py").read_bytes() == b"# sgd"
    assert format_report(report, "workspace") == (
        "Added 2 new files: 09_new.ipynb, cs231n_lib/optim.py"
    )


def test_a_deleted_file_is_restored(release, workspace):
    (workspace / "cs231n_lib/layers.py").unlink()

    report = sync_workspace(release, workspace)

    assert report.restored == ["cs231n_lib/layers.py"]
    assert (workspace / "cs231n_lib/layers.py").read_bytes() == COURSE["cs231n_lib/layers.py"]
    assert format_report(report, "workspace") == (
        "Restored 1 file you had deleted: cs231n_lib/layers.py"
    )


def test_the_students_own_files_are_never_touched(release, workspace):
    write_files(workspace, {"notes.md": b"my notes\n", "scratch/try.py": b"print(1)\n"})
    before = snapshot(workspace / "scratch")
    notes_before = (workspace / "notes.md").stat().st_mtime_ns
    (release / "02_convolution.ipynb").write_bytes(b'{"cells": ["conv v2"]}\n')

    report = sync_workspace(release, workspace)

    assert report.updated == ["02_convolution.ipynb"]
    assert (workspace / "notes.md").read_bytes() == b"my notes\n"
    assert (workspace / "notes.md").stat().st_mtime_ns == notes_before
    assert snapshot(workspace / "scratch") == before
    assert "notes.md" not in manifest_files(workspace)


def test_a_new_course_file_with_the_name_of_a_students_file_is_kept(release, workspace):
    (workspace / "09_new.ipynb").write_bytes(b"the student's own notebook\n")
    (release / "09_new.ipynb").write_bytes(b"the course's new notebook\n")

    report = sync_workspace(release, workspace)

    assert report.kept == ["09_new.ipynb"]
    assert report.added == []
    assert (workspace / "09_new.ipynb").read_bytes() == b"the student's own notebook\n"
    assert (workspace / "course-updates/09_new.ipynb").read_bytes() == (
        b"the course's new notebook\n"
    )


def test_a_file_removed_from_the_course_is_left_in_place_and_reported_once(release, workspace):
    (release / "02_convolution.ipynb").unlink()

    report = sync_workspace(release, workspace)

    assert report.removed_from_course == ["02_convolution.ipynb"]
    assert (workspace / "02_convolution.ipynb").read_bytes() == COURSE["02_convolution.ipynb"]
    assert "02_convolution.ipynb" not in manifest_files(workspace)
    assert format_report(report, "workspace") == (
        "No longer part of the course (left as is): 02_convolution.ipynb"
    )
    assert sync_workspace(release, workspace).removed_from_course == []


def test_first_build_into_a_folder_with_files_keeps_them(tmp_path, release):
    workspace = tmp_path / "workspace"
    same = COURSE["02_convolution.ipynb"]
    write_files(workspace, {"cs231n_lib/layers.py": b"older work\n", "02_convolution.ipynb": same})

    report = sync_workspace(release, workspace)

    assert report.first_build
    assert report.kept == ["cs231n_lib/layers.py"]
    assert report.added == ["01_spatial_arithmetic.ipynb", "cs231n_lib/__init__.py"]
    assert (workspace / "cs231n_lib/layers.py").read_bytes() == b"older work\n"
    course_version = workspace / "course-updates/cs231n_lib/layers.py"
    assert course_version.read_bytes() == COURSE["cs231n_lib/layers.py"]
    assert (workspace / "02_convolution.ipynb").read_bytes() == same
    assert manifest_files(workspace)["02_convolution.ipynb"] == sha256(same)


def test_a_symlinked_file_is_never_written_through(tmp_path, release, workspace):
    outside = tmp_path / "elsewhere.py"
    outside.write_bytes(b"outside the workspace\n")
    (workspace / "cs231n_lib/layers.py").unlink()
    make_symlink(workspace / "cs231n_lib/layers.py", outside)
    (release / "cs231n_lib/layers.py").write_bytes(b"course v2\n")

    report = sync_workspace(release, workspace)

    assert report.kept == ["cs231n_lib/layers.py"]
    assert outside.read_bytes() == b"outside the workspace\n"
    assert (workspace / "cs231n_lib/layers.py").is_symlink()
    assert (workspace / "course-updates/cs231n_lib/layers.py").read_bytes() == b"course v2\n"


def test_a_symlinked_folder_is_never_written_through(tmp_path, release, workspace):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (workspace / "cs231n_lib/__init__.py").unlink()
    (workspace / "cs231n_lib/layers.py").unlink()
    (workspace / "cs231n_lib").rmdir()
    make_symlink(workspace / "cs231n_lib", outside)
    write_files(release, {"cs231n_lib/optim.py": b"# sgd\n"})

    report = sync_workspace(release, workspace)

    assert list(outside.iterdir()) == []
    # The course changed neither file in the folder: nothing to say about them.
    assert report.added == report.restored == []
    assert report.kept == ["cs231n_lib/optim.py"]
    assert (workspace / "course-updates/cs231n_lib/optim.py").read_bytes() == b"# sgd\n"


def test_a_symlinked_course_updates_folder_stops_the_sync_first(tmp_path, release, workspace):
    make_symlink(workspace / "course-updates", tmp_path)
    (workspace / "cs231n_lib/layers.py").write_bytes(b"mine\n")
    (release / "cs231n_lib/layers.py").write_bytes(b"course v2\n")
    (release / "01_spatial_arithmetic.ipynb").write_bytes(b"spatial v2\n")
    before = snapshot(workspace)

    with pytest.raises(ValueError, match=r"course-updates/ aside") as raised:
        sync_workspace(release, workspace)

    assert "cs231n_lib/layers.py" in str(raised.value)
    assert snapshot(workspace) == before
    assert not (tmp_path / "cs231n_lib").exists()


def test_a_missing_release_says_how_to_build_it(tmp_path):
    missing = tmp_path / "release" / "cs231n"

    with pytest.raises(FileNotFoundError) as raised:
        sync_workspace(missing, tmp_path / "workspace")

    message = str(raised.value)
    assert missing.as_posix() in message
    assert "cs231n-course release" in message and "make lab" in message
    assert not (tmp_path / "workspace").exists()


def test_an_empty_release_is_refused(tmp_path, workspace):
    empty = tmp_path / "empty"
    empty.mkdir()
    before = snapshot(workspace)

    with pytest.raises(ValueError, match="holds no files") as raised:
        sync_workspace(empty, workspace)

    assert empty.as_posix() in str(raised.value)
    assert snapshot(workspace) == before


@pytest.mark.parametrize(
    "content, problem",
    [
        (b"{not json", "not readable JSON"),
        (b'{"format": 2, "files": {}}', '"format": 1'),
        (b'{"format": 1, "files": []}', '"format": 1'),
        (b'[1, 2]', '"format": 1'),
        (b'{"format": 1, "files": {"a.py": "123"}}', "entry for a.py is not a sha256"),
    ],
)
def test_a_damaged_manifest_is_refused_with_the_fix(release, workspace, content, problem):
    manifest = workspace / ".course-manifest.json"
    manifest.write_bytes(content)
    (release / "01_spatial_arithmetic.ipynb").write_bytes(b"spatial v2\n")
    before = snapshot(workspace)

    with pytest.raises(ValueError) as raised:
        sync_workspace(release, workspace)

    message = str(raised.value)
    assert manifest.as_posix() in message
    assert problem in message
    assert "Move it aside" in message
    assert snapshot(workspace) == before


def test_caches_in_the_release_are_not_copied(tmp_path, release):
    write_files(
        release,
        {
            "cs231n_lib/__pycache__/layers.cpython-311.pyc": b"\x00",
            "cs231n_lib/stray.pyc": b"\x00",
            ".ipynb_checkpoints/01_spatial_arithmetic-checkpoint.ipynb": b"{}",
        },
    )
    workspace = tmp_path / "workspace"

    report = sync_workspace(release, workspace)

    assert report.added == sorted(COURSE)
    assert set(read_tree(workspace)) == {*COURSE, ".course-manifest.json"}


def test_file_modes_are_copied(tmp_path, release):
    script = release / "cs231n_lib/layers.py"
    script.chmod(0o755)
    (release / "02_convolution.ipynb").chmod(0o640)
    workspace = tmp_path / "workspace"

    sync_workspace(release, workspace)

    assert stat.S_IMODE((workspace / "cs231n_lib/layers.py").stat().st_mode) == 0o755
    assert stat.S_IMODE((workspace / "02_convolution.ipynb").stat().st_mode) == 0o640


def test_a_later_report_lists_each_kind_on_its_own_line(release, workspace):
    (workspace / "01_spatial_arithmetic.ipynb").unlink()
    (workspace / "cs231n_lib/layers.py").write_bytes(b"mine\n")
    (release / "cs231n_lib/layers.py").write_bytes(b"course v2\n")
    (release / "cs231n_lib/__init__.py").write_bytes(b"# v2\n")
    (release / "02_convolution.ipynb").unlink()
    write_files(release, {"09_new.ipynb": b"{}\n"})

    text = format_report(sync_workspace(release, workspace), "workspace")

    assert text.splitlines() == [
        "Added 1 new file: 09_new.ipynb",
        "Updated 1 file you had not changed: cs231n_lib/__init__.py",
        "Restored 1 file you had deleted: 01_spatial_arithmetic.ipynb",
        "Kept 1 file you changed; the course's new version is in workspace/course-updates/ "
        "to compare: cs231n_lib/layers.py",
        "No longer part of the course (left as is): 02_convolution.ipynb",
    ]


# --- Notebooks: the course changed only if what it teaches changed -----------------------
#
# Oracle: notebooks written here as plain JSON, in the two forms the issue saw: as
# released (no outputs, one kernelspec) and as JupyterLab saves them after a run
# (another kernelspec and Python version, cell metadata, outputs, execution counts).


def notebook(sources, points=2, run=None):
    """The bytes of a notebook with a markdown cell, a code cell and a graded test cell.

    run: None for the released form, or a label for a run: run-specific metadata and outputs.
    """
    markdown, code, test = sources
    cells = [
        {"cell_type": "markdown", "id": "a1", "metadata": {}, "source": [markdown]},
        {"cell_type": "code", "id": "b2", "metadata": {"nbgrader": {"grade_id": "ex", "solution": True}},
         "execution_count": None, "outputs": [], "source": [code]},
        {"cell_type": "code", "id": "c3", "execution_count": None, "outputs": [], "source": [test],
         "metadata": {"nbgrader": {"grade_id": "ex_test", "grade": True, "points": points},
                      "tags": ["raises-exception"]}},
    ]
    meta = {"kernelspec": {"name": "python3", "display_name": "Python 3"}}
    if run is not None:
        meta = {"kernelspec": {"name": f"venv-{run}", "display_name": run},
                "language_info": {"name": "python", "version": f"3.11.{len(run)}"}, "widgets": {run: {}}}
        for count, cell in enumerate(cells[1:], start=1):
            cell["id"] = f"{cell['id']}-{run}"
            cell["execution_count"] = count
            cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": [f"ran {run}\n"]}]
            cell["metadata"]["execution"] = {"iopub.execute_input": run}
        cells[0]["metadata"]["collapsed"] = True
    return (json.dumps({"cells": cells, "metadata": meta, "nbformat": 4, "nbformat_minor": 5},
                       indent=1, sort_keys=True) + "\n").encode("utf-8")


V1 = ("# Convolution", "out = None  # YOUR CODE HERE", "check_conv(out)")
NB = "02_convolution.ipynb"


@pytest.fixture
def nb_release(tmp_path):
    folder = tmp_path / "release" / "cs231n"
    write_files(folder, {NB: notebook(V1), "cs231n_lib/layers.py": b"# layers\n"})
    return folder


@pytest.fixture
def nb_workspace(tmp_path, nb_release):
    folder = tmp_path / "workspace"
    sync_workspace(nb_release, folder)
    return folder


def test_a_release_differing_only_in_outputs_and_metadata_is_no_course_update(nb_release, nb_workspace):
    released = notebook(V1)
    (nb_release / NB).write_bytes(notebook(V1, run="lab"))  # the solution notebooks were run
    before = snapshot(nb_workspace)

    report = sync_workspace(nb_release, nb_workspace)

    assert format_report(report, nb_workspace) == ""
    assert snapshot(nb_workspace) == before  # not even the manifest was rewritten
    assert (nb_workspace / NB).read_bytes() == released
    assert manifest_files(nb_workspace)[NB] == sha256(released)


def test_a_notebook_the_student_only_ran_is_theirs_and_never_overwritten(nb_release, nb_workspace):
    ran = notebook(V1, run="student")
    (nb_workspace / NB).write_bytes(ran)
    v2 = ("# Convolution", "out = None  # YOUR CODE HERE", "check_conv(out, hint=True)")
    (nb_release / NB).write_bytes(notebook(v2))

    report = sync_workspace(nb_release, nb_workspace)

    assert report.kept == [NB] and report.updated == []
    assert (nb_workspace / NB).read_bytes() == ran
    assert (nb_workspace / "course-updates" / NB).read_bytes() == notebook(v2)


def test_a_run_notebook_and_a_run_release_give_no_course_update(nb_release, nb_workspace):
    ran = notebook(V1, run="student")
    (nb_workspace / NB).write_bytes(ran)
    (nb_release / NB).write_bytes(notebook(V1, run="instructor"))

    report = sync_workspace(nb_release, nb_workspace)

    assert format_report(report, nb_workspace) == ""
    assert (nb_workspace / NB).read_bytes() == ran
    assert not (nb_workspace / "course-updates").exists()


def test_an_untouched_notebook_still_takes_a_real_update_after_metadata_only_releases(nb_release, nb_workspace):
    (nb_release / NB).write_bytes(notebook(V1, run="first"))
    sync_workspace(nb_release, nb_workspace)
    v2 = ("# Convolution, revised", *V1[1:])
    (nb_release / NB).write_bytes(notebook(v2))

    report = sync_workspace(nb_release, nb_workspace)

    assert report.updated == [NB] and report.kept == []
    assert (nb_workspace / NB).read_bytes() == notebook(v2)


@pytest.mark.parametrize("change", ["points", "cell type", "tag"])
def test_a_change_of_points_cell_type_or_tags_is_a_course_change(nb_release, nb_workspace, change):
    data = json.loads(notebook(V1))
    if change == "points":
        data["cells"][2]["metadata"]["nbgrader"]["points"] = 3
    elif change == "cell type":
        data["cells"][0]["cell_type"] = "raw"
    else:
        data["cells"][2]["metadata"]["tags"] = []
    changed = json.dumps(data).encode("utf-8")
    (nb_release / NB).write_bytes(changed)

    report = sync_workspace(nb_release, nb_workspace)

    assert report.updated == [NB]
    assert (nb_workspace / NB).read_bytes() == changed


def test_a_manifest_without_course_digests_learns_them_from_an_untouched_file(nb_release, nb_workspace):
    manifest = nb_workspace / ".course-manifest.json"
    old = json.loads(manifest.read_text())
    del old["course"]  # as written before course digests were recorded
    manifest.write_text(json.dumps(old))
    (nb_release / NB).write_bytes(notebook(V1, run="lab"))

    report = sync_workspace(nb_release, nb_workspace)

    assert format_report(report, nb_workspace) == ""
    assert (nb_workspace / NB).read_bytes() == notebook(V1)
    recorded = json.loads(manifest.read_text())
    assert recorded["files"][NB] == sha256(notebook(V1))
    assert set(recorded["course"]) == {NB}
