"""Tests for the grading sandbox: cs231n_course.sandbox, cs231n_course.kernel_launcher and
cs231n_course.autograde_student.private_socket_dir.

Oracles:
- the settings' numbers and the host's own facts (which system folders exist, where this
  checkout and the Python installation are, what the host can read and connect to);
- what a process started exactly as kernel_launcher starts a kernel (bubblewrap prefix,
  the graded copy at /assignment, setpriv, the launcher's rlimits) reports about itself
  from the inside: uid, capabilities, its root folder, /proc, the network, its limits;
- the host's /proc after the run (processes_of) and /proc/self/mountinfo.

Tests that run bubblewrap, chown or unshare skip unless root on Linux with bwrap and setpriv.
They run as TEST_UID, not the default 64231, so they never clash with a real grading run.
"""

import errno
import json
import os
import pwd
import signal
import site
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

import cs231n_course.kernel_launcher as kernel_launcher
from cs231n_course import sandbox
from cs231n_course.grade import end_processes_of
from cs231n_course.sandbox import (
    DEFAULT_SANDBOX_UID,
    MAX_FILE_BYTES,
    PASSED_THROUGH,
    SYSTEM_PATHS,
    SandboxError,
    SandboxSettings,
    bubblewrap_prefix,
    check_uid_free,
    drop_privileges,
    kernel_environment,
    missing_for_sandbox,
    parent_dirs,
    processes_of,
    python_paths,
    system_binds,
    write_etc,
    write_kernelspec,
)

ROOT = Path(__file__).resolve().parents[1]
TEST_UID = 64299
LAUNCHER = Path(kernel_launcher.__file__).resolve()
SECRET_NAME, SECRET_VALUE = "CS231N_TEST_GRADER_SECRET", "s3cr3t-of-the-grader"
RUN_SECONDS = 60

needs_root = pytest.mark.skipif(not sys.platform.startswith("linux") or os.geteuid() != 0,
                                reason="needs root on Linux (chown, unshare)")
needs_sandbox = pytest.mark.skipif(missing_for_sandbox() is not None,
                                   reason=f"sandbox not available: {missing_for_sandbox()}")

# Options of bubblewrap 0.8 used (or plausibly used) by bubblewrap_prefix, by number of arguments.
BWRAP_FLAGS = {"--unshare-pid", "--unshare-ipc", "--unshare-net", "--unshare-uts", "--unshare-cgroup",
               "--unshare-cgroup-try", "--unshare-user", "--unshare-user-try", "--unshare-all", "--share-net",
               "--die-with-parent", "--new-session", "--as-pid-1", "--clearenv"}
BWRAP_ONE = {"--dir", "--perms", "--size", "--tmpfs", "--proc", "--dev", "--mqueue", "--hostname", "--cap-add",
             "--cap-drop", "--chdir", "--remount-ro", "--uid", "--gid", "--unsetenv"}
BWRAP_TWO = {"--ro-bind", "--bind", "--dev-bind", "--ro-bind-try", "--bind-try", "--dev-bind-try", "--symlink",
             "--setenv", "--chmod"}
MOUNTS = {"--ro-bind", "--bind", "--dev-bind", "--ro-bind-try", "--bind-try", "--dev-bind-try"}
# What kernel_environment sets itself (everything else must come from PASSED_THROUGH).
SANDBOX_ENV_KEYS = {"PATH", "HOME", "USER", "LOGNAME", "TMPDIR", "MPLCONFIGDIR", "IPYTHONDIR", "JUPYTER_CONFIG_DIR",
                    "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "PYTHONDONTWRITEBYTECODE",
                    "PYDEVD_DISABLE_FILE_VALIDATION", "LANG"}


def parse_bwrap(command):
    """(flags, [(option, args), ...]) of a bubblewrap command; stops at '--'."""
    assert command[0] == "/usr/bin/bwrap" or os.path.basename(command[0]) == "bwrap", command[0]
    flags, options, i = set(), [], 1
    while i < len(command) and command[i] != "--":
        option = command[i]
        if option in BWRAP_FLAGS:
            flags.add(option)
            i += 1
        elif option in BWRAP_ONE:
            options.append((option, command[i + 1:i + 2]))
            i += 2
        elif option in BWRAP_TWO:
            options.append((option, command[i + 1:i + 3]))
            i += 3
        else:
            pytest.fail(f"unknown bubblewrap option {option!r} at {i}: teach parse_bwrap its arity")
    return flags, options


def mounts_of(options):
    """[(option, source, destination)] of every bind mount."""
    return [(option, args[0], args[1]) for option, args in options if option in MOUNTS]


def is_at_or_above(path, target):
    """True when ``path`` is ``target`` or one of its ancestors (binding it would show ``target``)."""
    path, target = Path(path), Path(target)
    return path == target or path in target.parents


@pytest.fixture
def test_uid():
    """TEST_UID, checked to be no account's and to run nothing; anything left of it is killed after."""
    try:
        account = pwd.getpwuid(TEST_UID)
    except KeyError:
        pass
    else:
        pytest.skip(f"uid {TEST_UID} belongs to {account.pw_name!r} here")
    assert processes_of(TEST_UID) == [], f"processes of uid {TEST_UID} run before the test"
    yield TEST_UID
    left = processes_of(TEST_UID)
    end_processes_of(TEST_UID)
    deadline = time.monotonic() + 3
    while processes_of(TEST_UID) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert left == [], f"processes of uid {TEST_UID} outlived the test: {left}"


# --- SandboxSettings -------------------------------------------------------------------------

def test_settings_defaults_are_valid():
    settings = SandboxSettings()
    assert settings.uid == DEFAULT_SANDBOX_UID
    assert settings.memory_mb >= 256 and settings.max_processes >= 16 and settings.tmp_mb >= 1


@pytest.mark.parametrize("field, value, shown", [
    ("uid", 0, "0"),
    ("uid", 999, "999"),
    ("uid", "64000", "'64000'"),
    ("uid", 64231.0, "64231.0"),
    ("memory_mb", 10, "10"),
    ("max_processes", 1, "1"),
    ("tmp_mb", 0, "0"),
    ("tmp_mb", -5, "-5"),
])
def test_settings_refuse_bad_values_naming_field_and_number(field, value, shown):
    with pytest.raises(ValueError) as raised:
        SandboxSettings(**{field: value})
    message = str(raised.value)
    assert field in message
    assert shown in message


@pytest.mark.parametrize("uid", [2**32 - 1, 2**32])
def test_settings_refuse_a_uid_beyond_what_linux_can_set(uid):
    with pytest.raises(ValueError, match=f"uid.*{uid}"):
        SandboxSettings(uid=uid)


def test_settings_accept_the_lowest_allowed_values():
    settings = SandboxSettings(uid=1000, memory_mb=256, max_processes=16, tmp_mb=1)
    assert (settings.uid, settings.memory_mb, settings.max_processes, settings.tmp_mb) == (1000, 256, 16, 1)


# --- missing_for_sandbox, check_uid_free, processes_of ----------------------------------------

def test_missing_for_sandbox_says_why(monkeypatch):
    monkeypatch.setattr(sandbox.sys, "platform", "darwin")
    assert "Linux" in missing_for_sandbox() and "darwin" in missing_for_sandbox()
    monkeypatch.setattr(sandbox.sys, "platform", "linux")
    monkeypatch.setattr(sandbox.os, "geteuid", lambda: 1000)
    assert "root" in missing_for_sandbox()
    monkeypatch.setattr(sandbox.os, "geteuid", lambda: 0)
    monkeypatch.setattr(sandbox.shutil, "which", lambda tool: None if tool == "bwrap" else f"/usr/bin/{tool}")
    assert "apt-get install -y bubblewrap" in missing_for_sandbox()
    monkeypatch.setattr(sandbox.shutil, "which", lambda tool: None if tool == "setpriv" else f"/usr/bin/{tool}")
    assert "apt-get install -y util-linux" in missing_for_sandbox()
    monkeypatch.setattr(sandbox.shutil, "which", lambda tool: f"/usr/bin/{tool}")
    assert missing_for_sandbox() is None
    assert sandbox.sandbox_available()


def test_check_uid_free_refuses_root_by_name():
    with pytest.raises(SandboxError, match="'root'") as raised:
        check_uid_free(0)
    assert "uid 0" in str(raised.value)


def test_check_uid_free_refuses_any_account():
    account = next((a for a in pwd.getpwall() if a.pw_uid != 0), None)
    if account is None:
        pytest.skip("no account but root here")
    with pytest.raises(SandboxError, match=repr(account.pw_name)) as raised:
        check_uid_free(account.pw_uid)
    assert f"uid {account.pw_uid}" in str(raised.value)


def test_check_uid_free_accepts_an_unused_uid(test_uid):
    assert check_uid_free(test_uid) is None


@needs_root
def test_processes_of_finds_a_process_of_that_uid_and_only_while_it_runs(test_uid):
    assert os.getpid() not in processes_of(test_uid)
    assert os.getpid() in processes_of(os.getuid())
    process = subprocess.Popen(["sleep", "30"], preexec_fn=lambda: (os.setgid(test_uid), os.setuid(test_uid)))
    try:
        deadline = time.monotonic() + 5
        while process.pid not in processes_of(test_uid) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert processes_of(test_uid) == [process.pid]
    finally:
        process.kill()
        process.wait()
    assert processes_of(test_uid) == []


# --- the pieces of the bubblewrap command -----------------------------------------------------

def test_python_paths_cover_the_interpreter_without_nesting():
    paths = python_paths()
    assert paths and all(p.is_absolute() and p.is_dir() for p in paths)
    needed = [sys.prefix, sys.base_prefix, os.path.realpath(sys.executable), os.path.dirname(os.__file__),
              *site.getsitepackages()]
    for path in needed:
        resolved = Path(path).resolve()
        assert any(p == resolved or p in resolved.parents for p in paths), (path, paths)
    for a in paths:
        for b in paths:
            assert a == b or a not in b.parents, f"{b} is inside {a}: bound twice"
    for forbidden in ("/", "/home", "/root", "/etc", "/var", "/work", str(ROOT)):
        assert not any(is_at_or_above(p, forbidden) for p in paths), (forbidden, paths)


def test_system_binds_copy_links_as_links_and_bind_folders_read_only():
    arguments = system_binds()
    triples = [tuple(arguments[i:i + 3]) for i in range(0, len(arguments), 3)]
    assert len(triples) * 3 == len(arguments)
    seen = set()
    for option, first, second in triples:
        seen.add(second)
        assert second in SYSTEM_PATHS
        if option == "--symlink":
            assert os.path.islink(second) and os.readlink(second) == first
        else:
            assert option == "--ro-bind" and first == second and os.path.isdir(second)
            assert not os.path.islink(second)
    assert seen == {p for p in SYSTEM_PATHS if os.path.lexists(p)}
    assert "/usr" in seen


def test_parent_dirs_makes_each_missing_parent_once_traversable():
    arguments = parent_dirs(["/root/.pyenv/versions/3.11.7", "/root/.pyenv/other", "/tmp/scratch/sockets",
                             "/usr/local/lib/python3.11", "/opt"])
    assert arguments == [
        "--perms", "0755", "--dir", "/root",
        "--perms", "0755", "--dir", "/root/.pyenv",
        "--perms", "0755", "--dir", "/root/.pyenv/versions",
        "--perms", "0755", "--dir", "/tmp/scratch",
    ]


def test_write_etc_names_the_uid_student(tmp_path):
    folder = write_etc(tmp_path / "etc", 64299)
    passwd = (folder / "passwd").read_text(encoding="utf-8").splitlines()
    group = (folder / "group").read_text(encoding="utf-8").splitlines()
    assert [line.split(":")[:4] for line in passwd] == [["root", "x", "0", "0"], ["student", "x", "64299", "64299"]]
    assert [line.split(":")[:3] for line in group] == [["root", "x", "0"], ["student", "x", "64299"]]
    assert sorted(p.name for p in folder.iterdir()) == ["group", "passwd"]


def test_kernel_environment_passes_only_the_allow_list(monkeypatch, tmp_path):
    monkeypatch.setenv(SECRET_NAME, SECRET_VALUE)
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    monkeypatch.delenv("LANG", raising=False)
    monkeypatch.delenv("LC_ALL", raising=False)
    env = kernel_environment(TEST_UID, tmp_path / "sockets")
    assert SECRET_NAME not in env and SECRET_VALUE not in "".join(env.values())
    assert env["OMP_NUM_THREADS"] == "3"
    assert env["LANG"] == "C.UTF-8"
    assert env["JUPYTER_RUNTIME_DIR"] == str(tmp_path / "sockets")
    assert env["HOME"] == "/tmp/home" and env["TMPDIR"] == "/tmp"
    assert env["PATH"].split(os.pathsep)[0] == os.path.dirname(sys.executable)
    assert set(env) <= SANDBOX_ENV_KEYS | set(PASSED_THROUGH)
    for key in set(os.environ) - set(PASSED_THROUGH) - SANDBOX_ENV_KEYS:
        assert key not in env, key


def test_bubblewrap_prefix_mounts_under_tmp_only_after_the_tmpfs(tmp_path):
    """A bind under /tmp made before the private /tmp is mounted would be hidden by it."""
    sockets = tmp_path / "scratch" / "sockets"
    sockets.mkdir(parents=True)
    font = tmp_path / "fontlist-v999.json"
    font.write_text("{}", encoding="utf-8")
    settings = SandboxSettings(uid=TEST_UID, tmp_mb=7)
    command = bubblewrap_prefix(settings, sockets, write_etc(tmp_path / "etc", TEST_UID), [font])
    _, options = parse_bwrap(command)
    flat = [(option, *args) for option, args in options]
    tmpfs_at = flat.index(("--tmpfs", "/tmp"))
    assert flat[tmpfs_at - 1] == ("--size", str(7 * 2**20))
    for at, (option, *args) in enumerate(flat):
        destination = args[-1] if args else ""
        if destination.startswith("/tmp/"):
            assert at > tmpfs_at, (option, args)
    assert ("--bind", str(sockets), str(sockets)) in flat
    assert ("--ro-bind", str(font), "/tmp/home/.matplotlib/fontlist-v999.json") in flat
    # each parent of the socket folder below /tmp exists, traversable by the uid
    for parent in (tmp_path / "scratch", tmp_path):
        at = flat.index(("--dir", str(parent)))
        assert flat[at - 1] == ("--perms", "0755")
    assert ("--dir", "/tmp") not in flat


def test_drop_privileges_is_setpriv_to_the_uid_with_nothing_left():
    command = drop_privileges(TEST_UID)
    assert os.path.basename(command[0]) == "setpriv"
    assert command[1:] == [f"--reuid={TEST_UID}", f"--regid={TEST_UID}", "--clear-groups", "--inh-caps=-all",
                           "--bounding-set=-all", "--no-new-privs", "--"]


# --- write_kernelspec -------------------------------------------------------------------------

def read_spec(jupyter):
    spec_dir = jupyter / "kernels" / sandbox.KERNEL_NAME
    spec = json.loads((spec_dir / "kernel.json").read_text(encoding="utf-8"))
    config_file = Path(spec["env"][kernel_launcher.CONFIG_ENV])
    return spec, json.loads(config_file.read_text(encoding="utf-8")), config_file


def test_write_kernelspec_without_settings_starts_the_launcher_unsandboxed(tmp_path):
    name = write_kernelspec(tmp_path / "jupyter")
    assert name == "cs231n-grading"
    spec, config, config_file = read_spec(tmp_path / "jupyter")
    assert spec["argv"] == [sys.executable, "-I", str(LAUNCHER), "-f", "{connection_file}"]
    assert Path(spec["argv"][2]).is_absolute()
    assert Path(spec["argv"][2]).samefile(ROOT / "cs231n_course" / "kernel_launcher.py")
    assert spec["interrupt_mode"] == "message"
    assert spec["language"] == "python"
    assert config_file.parent == tmp_path / "jupyter" / "kernels" / name
    assert config["sandbox"] is False
    assert config["env"] == {}
    assert "bubblewrap_prefix" not in config and "limits" not in config
    assert config["kernel_command"][0] == sys.executable
    assert "ipykernel_launcher" in config["kernel_command"]


@pytest.fixture
def sandboxed_spec(tmp_path, monkeypatch):
    """write_kernelspec with settings (a fake secret in the grader's environment); returns what it wrote."""
    monkeypatch.setenv(SECRET_NAME, SECRET_VALUE)
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    settings = SandboxSettings(uid=TEST_UID, memory_mb=1024, max_processes=64, tmp_mb=24)
    sockets = tmp_path / "sockets"
    sockets.mkdir()
    write_kernelspec(tmp_path / "jupyter", settings, sockets, tmp_path / "etc")
    spec, config, _ = read_spec(tmp_path / "jupyter")
    return settings, sockets, tmp_path / "etc", spec, config


def test_write_kernelspec_with_settings_unshares_everything(sandboxed_spec):
    settings, _, _, spec, config = sandboxed_spec
    assert config["sandbox"] is True and config["uid"] == settings.uid
    assert spec["argv"] == [sys.executable, "-I", str(LAUNCHER), "-f", "{connection_file}"]
    flags, options = parse_bwrap(config["bubblewrap_prefix"])
    assert {"--unshare-pid", "--unshare-net", "--unshare-ipc", "--die-with-parent", "--new-session"} <= flags
    assert "--share-net" not in flags
    assert config["drop_privileges"] == drop_privileges(settings.uid)


def test_write_kernelspec_binds_python_read_only_and_nothing_private(sandboxed_spec):
    _, sockets, etc_dir, _, config = sandboxed_spec
    _, options = parse_bwrap(config["bubblewrap_prefix"])
    mounts = mounts_of(options)
    for path in python_paths():
        assert ("--ro-bind", str(path), str(path)) in mounts, path
    writable = [m for m in mounts if m[0] != "--ro-bind"]
    assert writable == [("--bind", str(sockets), str(sockets))]
    venv = Path(sys.prefix).resolve()
    fonts = {str(p) for p in sandbox.font_cache_files()}
    for option, source, destination in mounts:
        for forbidden in ("/", "/home", "/root", "/etc", "/work", "/var", str(ROOT)):
            assert not is_at_or_above(source, forbidden), (option, source, forbidden)
            assert not is_at_or_above(destination, forbidden), (option, destination, forbidden)
        for path in (source, destination):
            if Path(path) == ROOT or ROOT in Path(path).parents:
                assert Path(path) == venv or venv in Path(path).parents, f"{path} of the checkout is bound"
        if destination.startswith("/etc/"):
            assert destination in ("/etc/passwd", "/etc/group")
            assert source == str(etc_dir / Path(destination).name)
        elif source != destination:
            # the only renames: the grader's matplotlib font list, into the kernel's private /tmp
            assert source in fonts and destination.startswith("/tmp/home/.matplotlib/"), (source, destination)
    # the private /tmp is a tmpfs of settings.tmp_mb
    flat = [(option, *args) for option, args in options]
    tmpfs_at = flat.index(("--tmpfs", "/tmp"))
    assert flat[tmpfs_at - 1] == ("--size", str(24 * 2**20))
    assert ("--proc", "/proc") in flat and ("--dev", "/dev") in flat


def test_write_kernelspec_limits_and_env(sandboxed_spec):
    settings, sockets, _, spec, config = sandboxed_spec
    assert config["limits"] == {"address_space": 1024 * 2**20, "processes": 64, "core": 0,
                                "file_size": MAX_FILE_BYTES}
    assert set(config["limits"]) <= set(kernel_launcher.LIMITS)
    env = config["env"]
    assert SECRET_NAME not in env
    assert all(SECRET_VALUE not in value for value in env.values())
    assert env["OPENBLAS_NUM_THREADS"] == "1"
    assert env["JUPYTER_RUNTIME_DIR"] == str(sockets) == config["socket_dir"]
    assert set(env) <= SANDBOX_ENV_KEYS | set(PASSED_THROUGH)
    # the kernelspec's own env (seen by the launcher, run as the grader) holds only the config's path
    assert set(spec["env"]) == {kernel_launcher.CONFIG_ENV}


# --- a real sandboxed run ---------------------------------------------------------------------

PROBE = r'''
import errno, json, os, resource, socket, sys, time
P = json.loads(PARAMS)
out = {"uid": [os.getuid(), os.geteuid()], "gid": [os.getgid(), os.getegid()], "groups": os.getgroups(),
       "pid": os.getpid(), "cwd": os.getcwd()}
status = dict(line.split(":", 1) for line in open("/proc/self/status"))
out["caps"] = {k: status[k].strip() for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")}
out["no_new_privs"] = status["NoNewPrivs"].strip()
out["root"] = sorted(os.listdir("/"))

def reach(path):
    try:
        with open(path, "rb") as f:
            f.read(1)
        return "read"
    except FileNotFoundError:
        return "missing"
    except IsADirectoryError:
        try:
            os.listdir(path)
            return "listed"
        except OSError as e:
            return errno.errorcode[e.errno]
    except OSError as e:
        return errno.errorcode[e.errno]

out["reach"] = {path: reach(path) for path in P["secrets"]}
out["checkout"] = sorted(os.listdir(P["checkout"])) if os.path.isdir(P["checkout"]) else None

def connect(port):
    s = socket.socket()
    s.settimeout(3)
    try:
        s.connect(("127.0.0.1", port))
        return "connected"
    except OSError as e:
        return type(e).__name__
    finally:
        s.close()

out["connect"] = {str(port): connect(port) for port in P["ports"]}
out["interfaces"] = sorted(name for _, name in socket.if_nameindex())
try:
    open("/assignment/written.txt", "w").close()
    out["assignment_write"] = "written"
except OSError as e:
    out["assignment_write"] = errno.errorcode[e.errno]
with open("/tmp/probe.txt", "w") as f:
    f.write("scratch")
with open(os.path.join(P["sockets"], "probe"), "w") as f:
    f.write("socket folder")
vfs = os.statvfs("/tmp")
out["tmp_bytes"] = vfs.f_blocks * vfs.f_frsize
out["rlimits"] = {name: list(resource.getrlimit(getattr(resource, name)))
                  for name in ("RLIMIT_AS", "RLIMIT_NPROC", "RLIMIT_FSIZE", "RLIMIT_CORE")}
try:
    block = bytearray(P["too_much"])
    out["memory"] = "allocated"
    del block
except MemoryError:
    out["memory"] = "MemoryError"
import numpy, matplotlib.pyplot
out["numpy"] = numpy.__file__
out["pyplot"] = matplotlib.pyplot.__name__
try:
    import cs231n_course
    out["tooling"] = cs231n_course.__file__
except ImportError:
    out["tooling"] = None
import cs231n_lib
out["library"] = cs231n_lib.__file__

r, w = os.pipe()
child = os.fork()
if child == 0:
    os.setsid()
    null = os.open("/dev/null", os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(r)
    os.write(w, b"x")
    os.close(w)
    os.execv("/bin/sleep", ["sleep", "30"])
    os._exit(127)
os.close(w)
os.read(r, 1)
time.sleep(0.2)
out["sleeper"] = {"pid": child, "sid": os.getsid(child), "alive": os.path.exists(f"/proc/{child}"),
                  "comm": open(f"/proc/{child}/comm").read().strip()}
out["proc_pids"] = sorted(int(name) for name in os.listdir("/proc") if name.isdigit())
print(json.dumps(out))
'''


@needs_sandbox
def test_sandboxed_run_sees_and_reaches_only_what_it_should(sandboxed_spec, tmp_path, test_uid):
    settings, sockets, _, _, config = sandboxed_spec
    os.chown(sockets, test_uid, test_uid)
    sockets.chmod(0o700)
    work = tmp_path / "work"
    (work / "cs231n_lib").mkdir(parents=True)
    (work / "cs231n_lib" / "__init__.py").write_text("WHERE = 'graded copy'\n", encoding="utf-8")
    work.chmod(0o777)  # only the read-only bind may stop a write
    canary = tmp_path / "canary.txt"
    canary.write_text("the grader's scratch", encoding="utf-8")
    secrets = [str(ROOT / "pyproject.toml"), str(ROOT / "cs231n_course" / "sandbox.py"), str(ROOT / ".git"),
               str(ROOT / "cs231n_lib"), str(canary), "/root/.bash_history", "/etc/shadow", "/etc/hostname",
               "/etc/hosts", "/home", "/var", "/work/shared", "/root/.cache", "/proc/1/root/etc/hostname"]
    for must_exist in (ROOT / "pyproject.toml", ROOT / "cs231n_course" / "sandbox.py", canary):
        assert must_exist.exists()  # so a "missing" inside means hidden, not absent
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    port = listener.getsockname()[1]
    with socket.create_connection(("127.0.0.1", port), timeout=3):
        pass  # the host can connect: only the sandbox's network namespace stops the kernel
    params = {"secrets": secrets, "checkout": str(ROOT), "ports": [port, 22, 80], "sockets": str(sockets),
              "too_much": settings.memory_mb * 2**20 + 1}
    code = f"PARAMS = {json.dumps(json.dumps(params))}\n" + PROBE
    config = dict(config, kernel_command=[sys.executable, "-c", code])
    command = kernel_launcher.sandbox_command(config, str(work), str(sockets / "unused.json"))
    try:
        run = subprocess.run(command, env=config["env"], capture_output=True, text=True, timeout=RUN_SECONDS,
                             preexec_fn=lambda: kernel_launcher.apply_limits(config["limits"]))
    finally:
        listener.close()
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout.strip().splitlines()[-1])

    # identity: the student's uid, no groups, no capabilities, no way back
    assert out["uid"] == [settings.uid] * 2 and out["gid"] == [settings.uid] * 2
    assert out["groups"] == []
    assert {key: int(value, 16) for key, value in out["caps"].items()} == dict.fromkeys(out["caps"], 0)
    assert out["no_new_privs"] == "1"
    assert out["cwd"] == "/assignment"

    # the filesystem: an empty root with only what the kernel needs
    expected_root = {"proc", "dev", "tmp", "etc", "assignment"}
    expected_root |= {Path(p).name for p in SYSTEM_PATHS if os.path.lexists(p)}
    expected_root |= {p.parts[1] for p in python_paths()}
    assert set(out["root"]) == expected_root
    assert all(state in ("missing", "EACCES") for state in out["reach"].values()), out["reach"]
    inside_checkout = {p.relative_to(ROOT).parts[0] for p in python_paths() if ROOT in p.parents}
    assert set(out["checkout"] or []) == inside_checkout
    assert out["tooling"] is None
    assert out["library"] == "/assignment/cs231n_lib/__init__.py"
    assert out["assignment_write"] == "EROFS"
    assert not (work / "written.txt").exists()
    assert not (tmp_path / "probe.txt").exists()
    assert (sockets / "probe").read_text(encoding="utf-8") == "socket folder"
    assert abs(out["tmp_bytes"] - settings.tmp_mb * 2**20) <= 2**16

    # no network, not even the host's loopback
    assert out["interfaces"] == ["lo"]
    assert all(result != "connected" for result in out["connect"].values()), out["connect"]

    # limits
    assert out["rlimits"]["RLIMIT_AS"] == [settings.memory_mb * 2**20] * 2
    assert out["rlimits"]["RLIMIT_NPROC"] == [settings.max_processes] * 2
    assert out["rlimits"]["RLIMIT_FSIZE"] == [MAX_FILE_BYTES] * 2
    assert out["rlimits"]["RLIMIT_CORE"] == [0, 0]
    assert out["memory"] == "MemoryError"
    assert out["numpy"].startswith(str(Path(sys.prefix).resolve())) or out["numpy"].startswith(sys.prefix)
    assert out["pyplot"] == "matplotlib.pyplot"

    # processes: its own PID namespace, and nothing outlives it
    sleeper = out["sleeper"]
    assert sleeper["alive"] and sleeper["comm"] == "sleep" and sleeper["sid"] == sleeper["pid"]
    assert set(out["proc_pids"]) == {1, out["pid"], sleeper["pid"]}
    deadline = time.monotonic() + 5
    while processes_of(test_uid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert processes_of(test_uid) == []


# --- kernel_launcher --------------------------------------------------------------------------

def connection_file(folder, name="kernel-1b2c.json"):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(json.dumps({"key": os.urandom(8).hex(), "transport": "ipc", "ip": "kernel"}).encode())
    path.chmod(0o600)
    return path


@needs_root
def test_kernel_connection_file_copies_for_the_uid(tmp_path, test_uid):
    source = connection_file(tmp_path / "runtime")
    folder = tmp_path / "sockets"
    folder.mkdir()
    copy = Path(kernel_launcher.kernel_connection_file(str(source), test_uid, str(folder)))
    assert copy.parent == folder
    assert copy.name == "kernel-1b2c-sandbox.json"
    info = copy.lstat()
    assert (info.st_uid, info.st_gid) == (test_uid, test_uid)
    assert info.st_mode & 0o7777 == 0o600
    assert not copy.is_symlink()
    assert copy.read_bytes() == source.read_bytes()
    assert source.stat().st_uid == 0  # the original is untouched


@needs_root
def test_kernel_connection_file_refuses_a_planted_symlink(tmp_path, test_uid):
    source = connection_file(tmp_path / "runtime")
    folder = tmp_path / "sockets"
    folder.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"the grader's file")
    victim.chmod(0o644)
    planted = folder / "kernel-1b2c-sandbox.json"
    planted.symlink_to(victim)
    with pytest.raises(OSError) as raised:
        kernel_launcher.kernel_connection_file(str(source), test_uid, str(folder))
    assert raised.value.errno == errno.ELOOP
    assert victim.read_bytes() == b"the grader's file"
    info = victim.stat()
    assert (info.st_uid, info.st_gid, info.st_mode & 0o7777) == (0, 0, 0o644)
    assert planted.is_symlink()


@needs_root
def test_kernel_connection_file_chown_does_not_follow_a_link_swapped_in_after_open(tmp_path, test_uid,
                                                                                    monkeypatch):
    source = connection_file(tmp_path / "runtime")
    folder = tmp_path / "sockets"
    folder.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"the grader's file")
    copy_path = folder / "kernel-1b2c-sandbox.json"
    real_fdopen = os.fdopen

    def fdopen_then_swap(fd, *args, **kwargs):
        """What a process of the uid racing in the socket folder could do between open and chown."""
        opened = real_fdopen(fd, *args, **kwargs)
        link = folder / "swap"
        link.symlink_to(victim)
        os.replace(link, copy_path)
        return opened

    monkeypatch.setattr(kernel_launcher.os, "fdopen", fdopen_then_swap)
    try:
        kernel_launcher.kernel_connection_file(str(source), test_uid, str(folder))
    except OSError:
        pass  # refusing is fine too
    monkeypatch.undo()
    info = victim.stat()
    try:
        assert (info.st_uid, info.st_gid) == (0, 0), "the grader's file now belongs to the sandbox uid"
    finally:
        os.chown(victim, 0, 0)


def test_main_refuses_other_arguments():
    for argv in ([], ["-f"], ["--file", "x.json"], ["-f", "a.json", "b.json"]):
        with pytest.raises(SystemExit) as raised:
            kernel_launcher.main(argv)
        assert "usage" in str(raised.value.code)


UNSANDBOXED_PROBE = r'''
import ctypes, json, os, sys
libc = ctypes.CDLL(None, use_errno=True)
signal_number = ctypes.c_int(-1)
libc.prctl(2, ctypes.byref(signal_number), 0, 0, 0)  # PR_GET_PDEATHSIG
print(json.dumps({"argv": sys.argv, "cwd": os.getcwd(), "pid": os.getpid(), "pdeathsig": signal_number.value,
                  "from_config": os.environ.get("FROM_CONFIG"), "from_grader": os.environ.get("FROM_GRADER")}))
'''


def test_main_without_sandbox_execs_the_kernel_as_the_grader(tmp_path):
    work = tmp_path / "graded copy"
    source = connection_file(work)
    config_file = tmp_path / "sandbox.json"
    config_file.write_text(json.dumps({"sandbox": False, "env": {"FROM_CONFIG": "config"},
                                       "kernel_command": [sys.executable, "-c", UNSANDBOXED_PROBE]}),
                           encoding="utf-8")
    env = dict(os.environ, FROM_GRADER="grader", **{kernel_launcher.CONFIG_ENV: str(config_file)})
    process = subprocess.Popen([sys.executable, "-I", str(LAUNCHER), "-f", source.name], cwd=work, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stdout, stderr = process.communicate(timeout=RUN_SECONDS)
    assert process.returncode == 0, stderr
    out = json.loads(stdout)
    assert out["argv"][1:] == ["-f", str(source)]  # made absolute
    assert out["cwd"] == str(work)
    assert out["pid"] == process.pid  # exec, not a child process
    assert out["pdeathsig"] == signal.SIGKILL
    assert out["from_config"] == "config" and out["from_grader"] == "grader"


SANDBOXED_PROBE = r'''
import json, os, resource, sys
print(json.dumps({"argv": sys.argv, "cwd": os.getcwd(), "uid": os.getuid(), "env": dict(os.environ),
                  "connection": open(sys.argv[-1]).read(),
                  "address_space": resource.getrlimit(resource.RLIMIT_AS)[0]}))
'''


@needs_sandbox
def test_main_sandboxed_runs_the_kernel_in_bubblewrap(sandboxed_spec, tmp_path, test_uid):
    settings, sockets, _, spec, config = sandboxed_spec
    os.chown(sockets, test_uid, test_uid)
    sockets.chmod(0o700)
    work = tmp_path / "graded"
    work.mkdir()
    source = connection_file(tmp_path / "runtime", "kernel-9f.json")
    config_file = tmp_path / "launcher.json"
    config_file.write_text(json.dumps(dict(config, kernel_command=[sys.executable, "-c", SANDBOXED_PROBE])),
                           encoding="utf-8")
    env = dict(os.environ, **{kernel_launcher.CONFIG_ENV: str(config_file)})
    assert env[SECRET_NAME] == SECRET_VALUE
    run = subprocess.run([*spec["argv"][:-1], str(source)], cwd=work, env=env, capture_output=True, text=True,
                         timeout=RUN_SECONDS)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    copy = sockets / "kernel-9f-sandbox.json"
    assert out["argv"][-2:] == ["-f", str(copy)]
    assert out["connection"] == source.read_text(encoding="utf-8")
    assert copy.stat().st_uid == settings.uid
    assert out["uid"] == settings.uid
    assert out["cwd"] == "/assignment"
    assert out["address_space"] == settings.memory_mb * 2**20
    assert SECRET_NAME not in out["env"] and kernel_launcher.CONFIG_ENV not in out["env"]
    # bubblewrap adds PWD for --chdir (Python may add LC_CTYPE); nothing else of the grader's passes
    assert set(out["env"]) <= set(config["env"]) | {"PWD", "LC_CTYPE"}
    assert out["env"].get("PWD", "/assignment") == "/assignment"


# --- autograde_student.private_socket_dir ----------------------------------------------------

SOCKET_DIR_PROBE = r'''
import json, os, sys
from cs231n_course.autograde_student import private_socket_dir
folder, uid = sys.argv[1], int(sys.argv[2])
private_socket_dir(folder, uid)
mounts = []
for line in open("/proc/self/mountinfo"):
    fields = line.split()
    if fields[4] == folder:
        sep = fields.index("-")
        mounts.append({"type": fields[sep + 1], "options": fields[5].split(","), "super": fields[sep + 3].split(",")})
info = os.stat(folder)
vfs = os.statvfs(folder)
print(json.dumps({"mounts": mounts, "uid": info.st_uid, "gid": info.st_gid, "mode": info.st_mode & 0o7777,
                  "listing": os.listdir(folder), "bytes": vfs.f_blocks * vfs.f_frsize,
                  "runtime_dir": os.environ.get("JUPYTER_RUNTIME_DIR")}))
'''


def host_mount_points():
    with open("/proc/self/mountinfo", encoding="utf-8") as f:
        return {line.split()[4] for line in f}


@needs_root
def test_private_socket_dir_is_a_tmpfs_of_the_uid_only_in_its_process(tmp_path, test_uid):
    from cs231n_course.sandbox import SOCKET_DIR_MB

    folder = tmp_path / "sockets"
    folder.mkdir()
    (folder / "host-file").write_text("seen by the host only", encoding="utf-8")
    run = subprocess.run([sys.executable, "-c", SOCKET_DIR_PROBE, str(folder), str(test_uid)], cwd=ROOT,
                         capture_output=True, text=True, timeout=RUN_SECONDS)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert len(out["mounts"]) == 1 and out["mounts"][0]["type"] == "tmpfs"
    assert {"nosuid", "nodev", "noexec"} <= set(out["mounts"][0]["options"])
    assert (out["uid"], out["gid"], out["mode"]) == (test_uid, test_uid, 0o700)
    assert out["listing"] == []
    assert out["bytes"] == SOCKET_DIR_MB * 2**20
    assert out["runtime_dir"] == str(folder)
    # the host never saw that mount
    assert str(folder) not in host_mount_points()
    assert sorted(p.name for p in folder.iterdir()) == ["host-file"]
    assert folder.stat().st_uid == 0


SHARED_HOST = r'''
import ctypes, json, os, subprocess, sys
libc = ctypes.CDLL(None, use_errno=True)

def call(name, *args):
    if getattr(libc, name)(*args) != 0:
        raise OSError(ctypes.get_errno(), name)

MS_BIND, MS_REC, MS_PRIVATE, MS_SHARED = 4096, 16384, 1 << 18, 1 << 20
folder = sys.argv[1]
# A mount namespace of this test's own, where the folder is a shared mount (as / is on a systemd host):
# a mount the child makes there propagates here unless the child made its mounts private first.
call("unshare", 0x00020000)
call("mount", None, b"/", None, ctypes.c_ulong(MS_REC | MS_PRIVATE), None)
call("mount", folder.encode(), folder.encode(), None, ctypes.c_ulong(MS_BIND), None)
call("mount", None, folder.encode(), None, ctypes.c_ulong(MS_SHARED), None)

def types():
    return [line.split(" - ")[1].split()[0] for line in open("/proc/self/mountinfo") if line.split()[4] == folder]

before = types()
child = subprocess.run([sys.executable, "-c", sys.argv[2], folder, sys.argv[3]], capture_output=True, text=True)
print(json.dumps({"before": before, "after": types(), "child": child.returncode, "stderr": child.stderr}))
'''


@needs_root
def test_private_socket_dir_does_not_propagate_to_a_shared_parent_mount(tmp_path, test_uid):
    folder = tmp_path / "sockets"
    folder.mkdir()
    run = subprocess.run([sys.executable, "-c", SHARED_HOST, str(folder), SOCKET_DIR_PROBE, str(test_uid)],
                         cwd=ROOT, capture_output=True, text=True, timeout=RUN_SECONDS)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["child"] == 0, out["stderr"]
    assert len(out["before"]) == 1
    assert out["after"] == out["before"], "the socket folder's tmpfs reached the namespace that started it"
    assert str(folder) not in host_mount_points()


def test_two_grading_runs_never_share_a_sandbox_uid(tmp_path):
    from cs231n_course.sandbox import hold_uid

    lock = tmp_path / "uid.lock"
    first = hold_uid(64999, lock)
    with pytest.raises(SandboxError, match=r"another grading run is using sandbox uid 64999.*--sandbox-uid"):
        hold_uid(64999, lock)
    first.close()  # the run ended (or died: the kernel drops the lock with the process)
    hold_uid(64999, lock).close()
