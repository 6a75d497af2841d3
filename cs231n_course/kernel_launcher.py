"""Start one grading kernel: ``python -I /abs/path/kernel_launcher.py -f CONNECTION_FILE``.

nbgrader starts this (through the kernelspec ``sandbox.write_kernelspec`` writes) in the
graded copy's folder. It imports nothing but the standard library, never adds that folder
to its import path (``-I``) and leaves it at once. The JSON file named by the environment
variable ``CS231N_KERNEL_CONFIG`` says what to do:

- sandboxed (root on Linux): apply the resource limits, then ``exec`` bubblewrap with the
  command ``sandbox.bubblewrap_prefix`` prepared, the graded copy bound read-only at
  ``/assignment`` and the connection file re-written for the student's uid. bubblewrap
  gives the kernel an empty root with only the Python installation, the system's
  libraries, the graded copy, a private ``/tmp`` and the folder of its sockets, in new
  PID, mount, IPC, UTS and network namespaces; ``setpriv`` then makes it the student's
  uid with no capabilities and no way to regain any. When the grading process dies, so
  does every process of the sandbox (``--die-with-parent`` and the PID namespace).
- not sandboxed: the kernel runs as the grader, and dies with the grading process.
"""

import ctypes
import json
import os
import resource
import signal
import sys

CONFIG_ENV = "CS231N_KERNEL_CONFIG"
SANDBOX_WORKDIR = "/assignment"
PR_SET_PDEATHSIG = 1
LIMITS = {"address_space": resource.RLIMIT_AS, "processes": resource.RLIMIT_NPROC,
          "core": resource.RLIMIT_CORE, "file_size": resource.RLIMIT_FSIZE}


def kernel_connection_file(connection_file, uid, folder):
    """A copy of ``connection_file`` in ``folder`` that the sandboxed kernel (``uid``) can read.

    jupyter_client writes the connection file readable by the grader alone, and in a
    folder the sandbox does not see.
    """
    copy = os.path.join(folder, os.path.splitext(os.path.basename(connection_file))[0] + "-sandbox.json")
    with open(connection_file, "rb") as source:
        data = source.read()
    fd = os.open(copy, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as target:
        target.write(data)
        os.fchown(target.fileno(), uid, uid)
    return copy


def sandbox_command(config, workdir, connection_file):
    """The bubblewrap command line that runs ipykernel on ``connection_file`` in the sandbox."""
    return [*config["bubblewrap_prefix"], "--ro-bind", workdir, SANDBOX_WORKDIR, "--chdir", SANDBOX_WORKDIR,
            "--", *config["drop_privileges"], *config["kernel_command"], "-f", connection_file]


def apply_limits(limits):
    """setrlimit for each named limit ({"address_space": bytes, "processes": count, ...})."""
    for name, value in limits.items():
        resource.setrlimit(LIMITS[name], (value, value))


def join_cgroup(folder):
    """Move this process (and so the sandbox) into the cgroup ``folder``; False when refused.

    RLIMIT_AS still caps each process when this fails (see cs231n_course/cgroup.py).
    """
    try:
        with open(os.path.join(folder, "cgroup.procs"), "w", encoding="ascii") as f:
            f.write(str(os.getpid()))
        return True
    except OSError:
        return False


def die_with_parent():
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2 or argv[0] != "-f":
        sys.exit("usage: python -I kernel_launcher.py -f CONNECTION_FILE (started by nbgrader)")
    connection_file = os.path.abspath(argv[1])
    with open(os.environ[CONFIG_ENV], encoding="utf-8") as f:
        config = json.load(f)
    workdir = os.getcwd()
    env = config["env"]
    if not config.get("sandbox"):
        die_with_parent()
        os.execve(config["kernel_command"][0], [*config["kernel_command"], "-f", connection_file],
                  {**os.environ, **env})
    os.chdir("/")
    kernel_file = kernel_connection_file(connection_file, config["uid"], config["socket_dir"])
    apply_limits(config["limits"])
    if config.get("cgroup"):
        join_cgroup(config["cgroup"])
    command = sandbox_command(config, workdir, kernel_file)
    os.execve(command[0], command, env)


if __name__ == "__main__":
    main()
