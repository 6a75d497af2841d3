"""Grader side of the sandbox: what a kernel may see and use, and the kernelspec that starts it.

Isolation starts from nothing (bubblewrap's way) and adds what a kernel needs:

- read-only: the Python installation (``sys.base_prefix``, the venv, site-packages) and
  the system's shared libraries and programs (``/usr``, with ``/bin``, ``/lib``, ...
  as on the host), a generated ``/etc/passwd`` naming the student's uid;
- read-only at ``/assignment``, its working folder: the graded copy (the release plus
  the student's answer files, built by ``submissions.build_graded_copy``);
- writable: a private ``/tmp`` (a tmpfs of ``tmp_bytes``), and the folder of the
  kernel's sockets (jupyter_client's ``ipc`` transport: there is no network at all);
- nothing else: no ``/home``, ``/root``, ``/etc``, ``/var``, ``/work``, no checkout, no
  course directory, no other student, no host ``/proc``.

Each student runs as a numeric uid (``SandboxSettings.uid``) that no other process uses
while they are graded, with limits on memory (address space per process), processes
and file size; see ``SandboxSettings``.
"""

import fcntl
import grp
import json
import os
import pwd
import shutil
import site
import sys
from dataclasses import dataclass
from pathlib import Path

import cs231n_course.kernel_launcher as kernel_launcher

KERNEL_NAME = "cs231n-grading"
# Numeric ids no account on a normal system uses (Debian leaves 60000-64999 to local use).
DEFAULT_SANDBOX_UID = 64231
DEFAULT_MEMORY_MB = 2048
DEFAULT_MAX_PROCESSES = 128
DEFAULT_TMP_MB = 128
MAX_UID = 2**32 - 2
# Biggest file a kernel may write (its /tmp and socket folder are small tmpfs anyway).
MAX_FILE_BYTES = 64 * 2**20
# Top-level system folders a kernel may need, bound read-only (a merged-/usr link is copied as a link).
SYSTEM_PATHS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
SOCKET_DIR_MB = 16
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
PASSED_THROUGH = ("LANG", "LC_ALL", *THREAD_VARIABLES, "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


class SandboxError(RuntimeError):
    """The sandbox cannot be set up on this machine; the message says why and what to do."""


@dataclass(frozen=True)
class SandboxSettings:
    """Limits for one student's kernels.

    uid: the numeric user id student code runs as (also its group id);
    memory_mb: address space per process (RLIMIT_AS), enough for numpy, matplotlib and
    the course's largest notebook with room to spare;
    max_processes: processes and threads of that uid at once (RLIMIT_NPROC);
    tmp_mb: size of the kernel's private /tmp.
    """

    uid: int = DEFAULT_SANDBOX_UID
    memory_mb: int = DEFAULT_MEMORY_MB
    max_processes: int = DEFAULT_MAX_PROCESSES
    tmp_mb: int = DEFAULT_TMP_MB

    def __post_init__(self):
        for name, low in (("uid", 1000), ("memory_mb", 256), ("max_processes", 16), ("tmp_mb", 1)):
            value = getattr(self, name)
            if not isinstance(value, int) or value < low:
                raise ValueError(f"sandbox {name} must be a whole number of at least {low}, got {value!r}")
        # (uid_t)-1 means "unchanged" to setresuid, and larger numbers wrap around to root.
        if self.uid > MAX_UID:
            raise ValueError(f"sandbox uid must be at most {MAX_UID}, got {self.uid}")


def missing_for_sandbox():
    """Why the sandbox cannot run here (a sentence), or None when it can."""
    if not sys.platform.startswith("linux"):
        return f"the sandbox needs Linux (this is {sys.platform})"
    if os.geteuid() != 0:
        return "the sandbox needs root (to run student code as another uid in its own namespaces)"
    for tool, package in (("bwrap", "bubblewrap"), ("setpriv", "util-linux")):
        if shutil.which(tool) is None:
            return f"the sandbox needs {tool}: apt-get install -y {package}"
    return None


def sandbox_available():
    return missing_for_sandbox() is None


def check_uid_free(uid):
    """Refuse a uid (also the gid) of an account or group: its files and processes would be the student's."""
    for kind, lookup in (("account", lambda: pwd.getpwuid(uid).pw_name), ("group", lambda: grp.getgrgid(uid).gr_name)):
        try:
            name = lookup()
        except KeyError:
            continue
        raise SandboxError(f"uid {uid} belongs to the {kind} {name!r}; pass --sandbox-uid with a number "
                           "no account or group uses (for example 64231)")


# One grading run per sandbox uid: each run ends every process of its uid between students,
# so two runs sharing one would kill each other's kernels.
UID_LOCK = "/run/lock/cs231n-grading-uid-{uid}.lock"


def hold_uid(uid, lock_path=None):
    """Take the uid for this run (an exclusive lock, released when the returned file is closed).

    Raises SandboxError when another grading run holds it.
    """
    path = Path(lock_path or UID_LOCK.format(uid=uid))
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+")  # noqa: SIM115 (kept open for the whole run: the lock lives as long as it)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise SandboxError(f"another grading run is using sandbox uid {uid} (it would end this run's "
                           f"kernels and this one its): wait for it, or pass --sandbox-uid with another "
                           f"free number (lock: {path})") from None
    return handle


def processes_of(uid):
    """PIDs of the processes whose real uid is ``uid``."""
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    found.append(int(entry.name))
            except FileNotFoundError:
                continue
    return found


def python_paths():
    """Folders the interpreter needs: its installation, its venv, its site-packages."""
    paths = {Path(sys.base_prefix), Path(sys.prefix), *map(Path, site.getsitepackages())}
    resolved = sorted({p.resolve() for p in paths if p.exists()}, key=lambda p: len(p.parts))
    kept = []
    for path in resolved:
        if not any(path == k or k in path.parents for k in kept):
            kept.append(path)
    return kept


def system_binds():
    """bubblewrap arguments for SYSTEM_PATHS as they are on the host (links stay links)."""
    arguments = []
    for path in SYSTEM_PATHS:
        if os.path.islink(path):
            arguments += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            arguments += ["--ro-bind", path, path]
    return arguments


def parent_dirs(paths):
    """bubblewrap arguments creating each missing parent of ``paths`` traversable by anyone.

    bubblewrap makes missing parents mode 700 for root, which the student's uid could
    not enter (a Python under /root/.pyenv, say).
    """
    made, arguments = set(), []
    for path in paths:
        for parent in reversed(Path(path).parents):
            if str(parent) not in ("/", "/tmp") and parent not in made and not any(
                    str(parent) == p or str(parent).startswith(p + "/") for p in SYSTEM_PATHS):
                made.add(parent)
                arguments += ["--perms", "0755", "--dir", str(parent)]
    return arguments


def thread_limits(threads, environ=None):
    """{THREAD_VARIABLES: threads} for those ``environ`` (default os.environ) does not set; {} for None."""
    environ = os.environ if environ is None else environ
    return {key: str(threads) for key in THREAD_VARIABLES if threads and key not in environ}


def kernel_environment(uid, socket_dir, threads=None):
    """The whole environment of a sandboxed kernel (nothing else of the grader's passes).

    threads: BLAS and OpenMP threads per kernel, unless the grader's environment sets them.
    """
    env = {key: value for key, value in os.environ.items() if key in PASSED_THROUGH}
    env.update(thread_limits(threads))
    env.update(
        PATH=os.pathsep.join([os.path.dirname(sys.executable), "/usr/local/bin", "/usr/bin", "/bin"]),
        HOME="/tmp/home", USER="student", LOGNAME="student", TMPDIR="/tmp",
        MPLCONFIGDIR="/tmp/home/.matplotlib",
        IPYTHONDIR="/tmp/home/.ipython", JUPYTER_CONFIG_DIR="/tmp/home/.jupyter",
        JUPYTER_DATA_DIR="/tmp/home/.jupyter-data", JUPYTER_RUNTIME_DIR=str(socket_dir),
        PYTHONDONTWRITEBYTECODE="1", PYDEVD_DISABLE_FILE_VALIDATION="1",
    )
    env.setdefault("LANG", "C.UTF-8")
    return env


def font_cache_files():
    """matplotlib's font list of the grader, so each kernel need not rebuild it (about 1 s)."""
    import matplotlib

    return sorted(Path(matplotlib.get_cachedir()).glob("fontlist-*.json"))


def write_etc(folder, uid):
    """passwd and group files that name ``uid`` 'student' (read-only in the sandbox)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "passwd").write_text(f"root:x:0:0:root:/nonexistent:/usr/sbin/nologin\n"
                                   f"student:x:{uid}:{uid}:student:/tmp/home:/usr/sbin/nologin\n", encoding="utf-8")
    (folder / "group").write_text(f"root:x:0:\nstudent:x:{uid}:\n", encoding="utf-8")
    return folder


def kernel_command():
    return [sys.executable, "-B", "-m", "ipykernel_launcher", "--HistoryManager.hist_file=:memory:"]


def bubblewrap_prefix(settings, socket_dir, etc_dir, font_files=()):
    """bubblewrap's command up to the graded copy's bind (kernel_launcher adds the rest)."""
    python = [str(p) for p in python_paths()]
    command = [shutil.which("bwrap"),
               "--unshare-pid", "--unshare-ipc", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try",
               "--die-with-parent", "--new-session", "--hostname", "sandbox",
               "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID",
               *system_binds(), "--proc", "/proc", "--dev", "/dev",
               "--perms", "1777", "--size", str(settings.tmp_mb * 2**20), "--tmpfs", "/tmp",
               "--perms", "0777", "--dir", "/tmp/home", "--perms", "0777", "--dir", "/tmp/home/.matplotlib",
               # after /tmp: the grader's scratch folder may be in the host's /tmp
               *parent_dirs([*python, str(socket_dir)])]
    for path in python:
        command += ["--ro-bind", path, path]
    command += ["--ro-bind", str(Path(etc_dir) / "passwd"), "/etc/passwd",
                "--ro-bind", str(Path(etc_dir) / "group"), "/etc/group",
                "--bind", str(socket_dir), str(socket_dir)]
    for font_file in font_files:
        command += ["--ro-bind", str(font_file), f"/tmp/home/.matplotlib/{Path(font_file).name}"]
    return command


def drop_privileges(uid):
    """setpriv: become ``uid`` with no groups, no capabilities, no way back (no_new_privs)."""
    return [shutil.which("setpriv"), f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
            "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]


def write_kernelspec(jupyter_path, settings=None, socket_dir=None, etc_dir=None, cgroup=None, threads=None):
    """Write ``<jupyter_path>/kernels/cs231n-grading/`` (kernel.json and its config); returns the name.

    settings: a SandboxSettings to sandbox the kernels (socket_dir and etc_dir needed too),
    or None to run them as the grader; cgroup: a folder made by ``cgroup.memory_cgroup``
    that every kernel joins, or None; threads: BLAS threads per sandboxed kernel (see
    kernel_environment; an unsandboxed kernel inherits the grader's environment).
    """
    spec_dir = Path(jupyter_path) / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True, exist_ok=True)
    config = {"sandbox": settings is not None, "kernel_command": kernel_command(), "env": {}}
    if settings is not None:
        config.update(
            uid=settings.uid, socket_dir=str(socket_dir), cgroup=str(cgroup) if cgroup else None,
            env=kernel_environment(settings.uid, socket_dir, threads),
            bubblewrap_prefix=bubblewrap_prefix(settings, socket_dir, write_etc(etc_dir, settings.uid),
                                                font_cache_files()),
            drop_privileges=drop_privileges(settings.uid),
            limits={"address_space": settings.memory_mb * 2**20, "processes": settings.max_processes,
                    "core": 0, "file_size": MAX_FILE_BYTES},
        )
    config_file = spec_dir / "sandbox.json"
    config_file.write_text(json.dumps(config, indent=1), encoding="utf-8")
    spec = {
        "argv": [sys.executable, "-I", str(Path(kernel_launcher.__file__).resolve()), "-f", "{connection_file}"],
        "display_name": "cs231n grading sandbox",
        "language": "python",
        # bubblewrap does not pass SIGINT on: ask ipykernel to interrupt itself.
        "interrupt_mode": "message",
        "env": {kernel_launcher.CONFIG_ENV: str(config_file)},
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec, indent=1), encoding="utf-8")
    return KERNEL_NAME
