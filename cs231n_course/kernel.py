"""The grading kernel: ipykernel started in a sandbox (``python -m cs231n_course.kernel -f FILE``).

nbgrader starts this through the kernelspec ``grading_kernelspec`` writes, in
the notebook's folder (``autograded/<student>/<assignment>``). When the grader
is root on Linux it then, before becoming ipykernel:

1. enters a mount namespace of its own, where
   - the submission's folder is seen read-only at ``<scratch>/work`` (the cwd),
   - every secret path (course directory with sources and gradebook, the
     instructor's checkout and library, the submissions folder, the grader's
     home) is covered by an empty tmpfs,
   - the Python installation is mounted back so the kernel can run;
2. drops to the unprivileged sandbox user (no supplementary groups);
3. asks to be killed when the grader process dies (no runaway kernels).

Without root it only does step 3 and runs as the grader (see the README for
what that does and does not protect).
"""

import ctypes
import json
import os
import pwd
import resource
import shutil
import signal
import site
import stat
import sys
import tempfile
from pathlib import Path

CONFIG_ENV = "CS231N_KERNEL_CONFIG"
CLONE_NEWNS = 0x00020000
MS_RDONLY, MS_NOSUID, MS_NODEV = 1, 2, 4
MS_REMOUNT, MS_BIND, MS_MOVE, MS_REC, MS_PRIVATE = 32, 4096, 8192, 16384, 1 << 18
MNT_DETACH = 2
PR_SET_PDEATHSIG = 1
SANDBOX_MAX_PROCESSES = 512
PASSED_THROUGH = ("LANG", "LC_ALL", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "CS231N_DATA")

_libc = ctypes.CDLL(None, use_errno=True)


def _check(result, what):
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def mount(source, target, fstype=None, flags=0, data=None):
    encode = lambda s: None if s is None else str(s).encode()  # noqa: E731
    _check(_libc.mount(encode(source), encode(target), encode(fstype), ctypes.c_ulong(flags), encode(data)),
           f"mount {source} on {target}")


def is_within(path, parent):
    path, parent = Path(path), Path(parent)
    return path == parent or parent in path.parents


def outermost(paths):
    paths = sorted({Path(p) for p in paths}, key=lambda p: len(p.parts))
    kept = []
    for p in paths:
        if not any(is_within(p, k) for k in kept):
            kept.append(p)
    return kept


def traversable_by_others(path):
    mode = os.stat(path).st_mode
    return bool(mode & stat.S_IXOTH)


def blocking_ancestors(path):
    """The first ancestor of ``path`` an unrelated user cannot enter, if any."""
    for ancestor in reversed(Path(path).parents):
        if not traversable_by_others(ancestor):
            return [ancestor]
    return []


def python_paths():
    """Folders the interpreter needs: its installation, its venv, its site-packages."""
    paths = {Path(sys.base_prefix), Path(sys.prefix), *map(Path, site.getsitepackages())}
    return outermost(p.resolve() for p in paths if p.exists())


def hide(path):
    mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, "mode=755,size=64k")


def build_private_view(work, view, secrets, stage):
    """In a new mount namespace: ``work`` read-only at ``view``, ``secrets`` hidden, Python usable."""
    # Never hide the system itself (a grader whose home is "/", say).
    secrets = [Path(s) for s in secrets if Path(s).exists() and not is_within("/usr", s)]
    needed = python_paths()
    _check(_libc.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
    mount(None, "/", None, MS_REC | MS_PRIVATE)

    staged = []
    for index, path in enumerate(needed):
        place = stage / str(index)
        place.mkdir()
        mount(path, place, None, MS_BIND | MS_REC)
        staged.append((path, place))
    mount(work, view, None, MS_BIND | MS_REC)
    mount(None, view, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)

    blockers = [b for path in needed for b in blocking_ancestors(path)]
    covered = outermost(secrets + blockers)
    for path in covered:
        hide(path)
    for path, place in staged:
        if any(is_within(path, c) for c in covered):
            make_dirs(path)
            mount(place, path, None, MS_MOVE)
        else:
            _check(_libc.umount2(str(place).encode(), MNT_DETACH), f"umount {place}")
    # A secret inside a folder mounted back (e.g. the library in site-packages).
    for secret in secrets:
        if any(is_within(secret, path) and secret != path for path, _ in staged):
            hide(secret)


def make_dirs(path):
    missing = []
    for candidate in [Path(path), *Path(path).parents]:
        if candidate.exists():
            break
        missing.append(candidate)
    for directory in reversed(missing):
        directory.mkdir()
        os.chmod(directory, 0o755)


def kernel_environment(scratch):
    env = {key: value for key, value in os.environ.items()
           if key in PASSED_THROUGH or key.startswith(("OPENBLAS_", "JPY_"))}
    env.update(
        PATH=os.pathsep.join([os.path.dirname(sys.executable), "/usr/local/bin", "/usr/bin", "/bin"]),
        HOME=str(scratch / "home"), TMPDIR=str(scratch / "tmp"), MPLCONFIGDIR=str(scratch / "home"),
        IPYTHONDIR=str(scratch / "home" / ".ipython"), JUPYTER_CONFIG_DIR=str(scratch / "home" / ".jupyter"),
        JUPYTER_DATA_DIR=str(scratch / "home" / ".jupyter-data"), PYTHONNOUSERSITE="1",
        PYDEVD_DISABLE_FILE_VALIDATION="1",
    )
    env.setdefault("LANG", "C.UTF-8")
    return env


def reuse_font_cache(home, user):
    """Give matplotlib the grader's font list, saving each kernel a rebuild of it."""
    cache = Path(os.environ.get("MPLCONFIGDIR") or Path.home() / ".cache" / "matplotlib")
    for font_list in cache.glob("fontlist-*.json"):
        shutil.copyfile(font_list, home / font_list.name)
        os.chown(home / font_list.name, user.pw_uid, user.pw_gid)


def enter_sandbox(config, connection_file):
    """Set up the view, become the sandbox user; returns the connection file the kernel reads."""
    user = pwd.getpwnam(config["user"])
    scratch = Path(tempfile.mkdtemp(prefix="kernel-", dir=config["scratch"]))
    os.chmod(scratch, 0o711)
    for name in ("home", "tmp"):
        (scratch / name).mkdir()
        os.chown(scratch / name, user.pw_uid, user.pw_gid)
    (scratch / "work").mkdir()
    stage = scratch / "stage"
    stage.mkdir(mode=0o700)
    reuse_font_cache(scratch / "home", user)
    copied = scratch / "home" / "connection.json"
    shutil.copyfile(connection_file, copied)
    os.chown(copied, user.pw_uid, user.pw_gid)

    build_private_view(Path.cwd(), scratch / "work", config["secrets"], stage)
    os.chdir(scratch / "work")
    os.setgroups([])
    os.setgid(user.pw_gid)
    os.setuid(user.pw_uid)
    resource.setrlimit(resource.RLIMIT_NPROC, (SANDBOX_MAX_PROCESSES, SANDBOX_MAX_PROCESSES))
    return copied, kernel_environment(scratch)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2 or argv[0] != "-f":
        sys.exit("usage: python -m cs231n_course.kernel -f CONNECTION_FILE (started by nbgrader)")
    connection_file = argv[1]
    config = json.loads(Path(os.environ[CONFIG_ENV]).read_text(encoding="utf-8"))
    env = dict(os.environ)
    if config.get("user"):
        connection_file, env = enter_sandbox(config, connection_file)
    # Dies with the grader, so a killed grading run leaves no kernel spinning.
    _check(_libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl(PR_SET_PDEATHSIG)")
    os.execve(sys.executable, [sys.executable, "-m", "ipykernel_launcher", "-f", str(connection_file),
                               "--HistoryManager.hist_file=:memory:"], env)


if __name__ == "__main__":
    main()
