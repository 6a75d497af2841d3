"""Autograde one student and write their feedback, in a process of its own.

``python -I -m cs231n_course.autograde_student JOB_JSON``

``cs231n-course grade`` runs one of these per student, in the course directory, with a
wall-clock limit, so a kernel that ignores interrupts costs that student's grade, not the
run. JOB_JSON holds: course_dir, assignment, student, cell_timeout, student_files,
max_output_bytes, kernel_name (the kernelspec found through JUPYTER_PATH, or null),
db_url (the gradebook; null: the course directory's), socket_dir (the kernels talk over Unix sockets there, never TCP) and, when sandboxed, uid:
this process then gets a mount namespace of its own in which ``socket_dir`` is a small
tmpfs owned by ``uid``, where the connection files and the kernels' sockets live. It
vanishes with this process, whatever ends it.
"""

import ctypes
import json
import os
import sys

# nbformat imports jsonschema, whose optional IRI format check imports rfc3987_syntax, which
# builds its grammar at import: 1.0 of this process's 2.4 s of imports, once per student.
# Notebook schemas have no IRI field, so the check is never used: make the import fail fast.
sys.modules.setdefault("rfc3987_syntax", None)

from cs231n_course.config import nbgrader_config  # noqa: E402 (after the line above, on purpose)
from cs231n_course.nbgrader_run import NbgraderFailed, run_nbgrader  # noqa: E402
from cs231n_course.sandbox import SOCKET_DIR_MB  # noqa: E402

CLONE_NEWNS = 0x00020000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 2, 4, 8, 16384, 1 << 18


def _libc_call(name, *args):
    libc = ctypes.CDLL(None, use_errno=True)
    if getattr(libc, name)(*args) != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"{name}{args}: {os.strerror(error)}")


def private_socket_dir(socket_dir, uid):
    """In a new mount namespace, mount a tmpfs of SOCKET_DIR_MB at ``socket_dir``, owned by ``uid``."""
    _libc_call("unshare", CLONE_NEWNS)
    _libc_call("mount", None, b"/", None, ctypes.c_ulong(MS_REC | MS_PRIVATE), None)
    options = f"size={SOCKET_DIR_MB}m,mode=0700,uid={uid},gid={uid}".encode()
    _libc_call("mount", b"tmpfs", str(socket_dir).encode(), b"tmpfs",
               ctypes.c_ulong(MS_NOSUID | MS_NODEV | MS_NOEXEC), options)
    os.environ["JUPYTER_RUNTIME_DIR"] = str(socket_dir)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    job = json.loads(argv[0])
    if job.get("uid") is not None:  # sandboxed: the sockets' folder becomes a tmpfs of the kernels' uid
        private_socket_dir(job["socket_dir"], job["uid"])
    config = nbgrader_config(job["course_dir"], job["assignment"], cell_timeout=job["cell_timeout"],
                             kernel_name=job.get("kernel_name"), student_files=job["student_files"],
                             max_output_bytes=job["max_output_bytes"], socket_dir=job.get("socket_dir"),
                             db_url=job.get("db_url"))
    try:
        run_nbgrader("autograde", config, job["assignment"], job["student"])
        run_nbgrader("generate_feedback", config, job["assignment"], job["student"])
    except NbgraderFailed as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
