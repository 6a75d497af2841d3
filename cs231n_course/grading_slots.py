"""What one grading job owns, so that ``grade --jobs N`` grades N students at once sharing nothing.

Job k (a "slot", k = 0 .. N-1) grades one student after another, each with:

- the sandbox uid ``base uid + k`` (also its gid), taken for the run with the same lock a
  single run takes (``sandbox.hold_uid``), and a memory cgroup of that uid;
- a folder of its own in the run's scratch folder, holding the kernels' socket folder
  (jupyter_client's ipc transport: no TCP port at all), the kernelspec that starts the
  sandbox with that uid, and the sandbox's passwd files;
- for N > 1, a gradebook of its own: a copy of the course's made when the run starts.
  A student's submission is copied into it before they are graded and back into the
  course's gradebook afterwards (``gradebook_copy.py``, one lock for the course's
  gradebook), so the course's gradebook ends as a serial run leaves it;
- BLAS and OpenMP threads per kernel: the usable cores divided by N (at least 1), so N jobs
  do not oversubscribe the cores; a value set in the grader's environment wins.
"""

import dataclasses
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from cs231n_course.cgroup import memory_cgroup, remove_cgroup
from cs231n_course.sandbox import (
    KERNEL_NAME,
    check_uid_free,
    hold_uid,
    thread_limits,
    write_kernelspec,
)

# Memory to keep free per job: one full submission peaks near 0.5 GB (benchmarks/grading_memory.py).
MEMORY_PER_JOB_BYTES = 2**30


def usable_cores():
    """Cores this process may run on (its CPU affinity), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def available_memory_bytes(meminfo="/proc/meminfo"):
    """MemAvailable of /proc/meminfo in bytes, or None where there is no such file."""
    try:
        for line in Path(meminfo).read_text(encoding="utf-8").splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def default_jobs(cores=None, memory_bytes=None):
    """One job per usable core, fewer when the available memory holds less than 1 GiB per job."""
    cores = cores or usable_cores()
    memory_bytes = available_memory_bytes() if memory_bytes is None else memory_bytes
    if memory_bytes:
        cores = min(cores, memory_bytes // MEMORY_PER_JOB_BYTES)
    return max(1, int(cores))


def check_jobs(jobs):
    """``jobs`` when it is a whole number of at least 1, else ValueError naming it."""
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"--jobs must be a whole number of at least 1 (students graded at once), got {jobs!r}")
    return jobs


@dataclass(frozen=True)
class GradingSlot:
    """One job: its sandbox settings (uid base + index; None unsandboxed), the autograde_student
    JOB fields it adds (socket_dir, uid, db_url), the environment of that process, and its
    gradebook URL (None: the course's own, when there is one job)."""

    index: int
    settings: object
    job: dict
    env: dict
    db_url: str | None


def slot_uids(settings, jobs):
    return [settings.uid + index for index in range(jobs)] if settings is not None else []


def open_slots(jobs, scratch, settings, course_dir, stack):
    """``jobs`` GradingSlots in the private folder ``scratch``; ``stack`` (an ExitStack) releases them.

    Raises SandboxError when a uid belongs to an account or another grading run holds it.
    """
    for uid in slot_uids(settings, jobs):
        check_uid_free(uid)
    threads = max(1, usable_cores() // jobs)
    slots = []
    for index in range(jobs):
        folder = Path(scratch) / f"job-{index}"
        socket_dir = folder / "sockets"
        socket_dir.mkdir(parents=True)
        own = dataclasses.replace(settings, uid=settings.uid + index) if settings is not None else None
        cgroup = None
        if own is not None:
            stack.callback(hold_uid(own.uid).close)
            cgroup = memory_cgroup(own.memory_mb * 2**20, own.uid)
            stack.callback(remove_cgroup, cgroup)
        write_kernelspec(folder / "jupyter", own, socket_dir, folder / "etc", cgroup, threads)
        jupyter_path = os.pathsep.join(filter(None, [str(folder / "jupyter"), os.environ.get("JUPYTER_PATH")]))
        env = dict(os.environ, JUPYTER_PATH=jupyter_path, **thread_limits(threads))
        db_url = None
        if jobs > 1:
            shutil.copyfile(Path(course_dir) / "gradebook.db", folder / "gradebook.db")
            db_url = f"sqlite:///{folder / 'gradebook.db'}"
        job = {"kernel_name": KERNEL_NAME, "db_url": db_url,
               # Unix sockets in the private scratch folder, sandboxed or not: no kernel on TCP.
               "socket_dir": str(socket_dir), "uid": own.uid if own is not None else None}
        slots.append(GradingSlot(index, own, job, env, db_url))
    return slots
