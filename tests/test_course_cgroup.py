"""cgroup.py on fake /proc files and cgroup folders (this machine's cgroups are v1, not delegated)."""

import os
from pathlib import Path

from cs231n_course.cgroup import CGROUP_NAME, memory_cgroup, own_cgroup, remove_cgroup
from cs231n_course.kernel_launcher import join_cgroup

MOUNTINFO = (
    "22 1 0:20 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "30 22 0:26 / /sys/fs/cgroup/unified rw,nosuid - cgroup2 cgroup2 rw\n"
)


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_own_cgroup_is_the_unified_mount_plus_the_v2_path(tmp_path):
    proc = write(tmp_path / "cgroup", "4:memory:/a/b\n0::/user.slice/grader.scope\n")
    mounts = write(tmp_path / "mountinfo", MOUNTINFO)
    assert own_cgroup(proc, mounts) == Path("/sys/fs/cgroup/unified/user.slice/grader.scope")


def test_own_cgroup_is_none_without_a_v2_line_or_mount(tmp_path):
    mounts = write(tmp_path / "mountinfo", MOUNTINFO)
    assert own_cgroup(write(tmp_path / "v1", "4:memory:/a/b\n"), mounts) is None
    assert own_cgroup(write(tmp_path / "v2", "0::/\n"), write(tmp_path / "m", MOUNTINFO.splitlines()[0])) is None
    assert own_cgroup(tmp_path / "missing", mounts) is None


def test_memory_cgroup_is_made_where_memory_is_delegated(tmp_path):
    write(tmp_path / "cgroup.subtree_control", "cpu memory pids\n")
    folder = memory_cgroup(512 * 2**20, 64299, parent=tmp_path)
    assert folder == tmp_path / CGROUP_NAME.format(uid=64299)
    assert (folder / "memory.max").read_text() == str(512 * 2**20)


def test_swap_is_closed_where_the_kernel_offers_it(tmp_path):
    write(tmp_path / "cgroup.subtree_control", "memory\n")
    write(tmp_path / CGROUP_NAME.format(uid=7000) / "memory.swap.max", "max")
    folder = memory_cgroup(2**30, 7000, parent=tmp_path)
    assert (folder / "memory.swap.max").read_text() == "0"


def test_no_memory_cgroup_where_memory_is_not_delegated(tmp_path):
    write(tmp_path / "cgroup.subtree_control", "cpu pids\n")
    assert memory_cgroup(2**30, 64299, parent=tmp_path) is None
    assert not (tmp_path / CGROUP_NAME.format(uid=64299)).exists()
    assert memory_cgroup(2**30, 64299, parent=tmp_path / "missing") is None


def test_join_cgroup_writes_this_pid_and_says_when_refused(tmp_path):
    assert join_cgroup(tmp_path) is True
    assert (tmp_path / "cgroup.procs").read_text() == str(os.getpid())
    assert join_cgroup(tmp_path / "missing") is False


def test_remove_cgroup_removes_an_empty_folder_and_ignores_the_rest(tmp_path):
    (tmp_path / "empty").mkdir()
    remove_cgroup(tmp_path / "empty")
    assert not (tmp_path / "empty").exists()
    write(tmp_path / "busy" / "cgroup.procs", "12")
    remove_cgroup(tmp_path / "busy")
    assert (tmp_path / "busy").exists()
    remove_cgroup(None)
