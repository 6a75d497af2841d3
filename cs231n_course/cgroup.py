"""A cgroup v2 memory cap on all of a student's kernel processes together, where the machine allows.

Every sandboxed process also gets RLIMIT_AS (``SandboxSettings.memory_mb``), which caps
each process alone. Where the grader's own cgroup v2 hands the memory controller to its
children (``memory`` in its ``cgroup.subtree_control``: a delegated cgroup, or the root
of a container's cgroup namespace), grading makes one child cgroup with ``memory.max``
and puts every kernel in it, so the processes of one student share the cap. Elsewhere
(cgroup v1, or no delegation) ``memory_cgroup`` returns None and RLIMIT_AS alone applies.
"""

import os
from pathlib import Path

CGROUP_NAME = "cs231n-grading-{uid}"


def own_cgroup(proc_cgroup="/proc/self/cgroup", mountinfo="/proc/self/mountinfo"):
    """The folder of this process's cgroup v2 (unified hierarchy), or None."""
    try:
        lines = Path(proc_cgroup).read_text(encoding="utf-8").splitlines()
        mounts = Path(mountinfo).read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    relative = next((line[3:] for line in lines if line.startswith("0::")), None)
    for mount in mounts:
        fields = mount.split()
        if relative is not None and " - cgroup2 " in mount and len(fields) > 4:
            return Path(fields[4]) / relative.lstrip("/")
    return None


def memory_cgroup(memory_bytes, uid, parent=None):
    """Make ``<parent>/cs231n-grading-<uid>`` with ``memory.max``; returns its folder, or None.

    parent: the grader's cgroup (default ``own_cgroup()``); None is returned when it does
    not delegate the memory controller or cannot be written.
    """
    parent = Path(parent) if parent else own_cgroup()
    try:
        if parent is None or "memory" not in (parent / "cgroup.subtree_control").read_text().split():
            return None
        folder = parent / CGROUP_NAME.format(uid=uid)
        folder.mkdir(exist_ok=True)
        (folder / "memory.max").write_text(str(int(memory_bytes)))
        if (folder / "memory.swap.max").exists():
            (folder / "memory.swap.max").write_text("0")
        return folder
    except OSError:
        return None


def remove_cgroup(folder):
    """Remove the cgroup made by ``memory_cgroup`` once its processes are gone."""
    if folder is not None:
        try:
            os.rmdir(folder)
        except OSError:
            pass
