"""Grader side of the sandbox: the unprivileged user and the kernelspec nbgrader starts.

See cs231n_course/kernel.py for what the kernel itself does.
"""

import json
import os
import pwd
import subprocess
import sys
from pathlib import Path

from cs231n_course.kernel import CONFIG_ENV

KERNEL_NAME = "cs231n-grading"
DEFAULT_SANDBOX_USER = "cs231n-sandbox"


class SandboxError(RuntimeError):
    """The sandbox cannot be set up on this machine."""


def sandbox_available():
    """True when kernels can run as another user in a private mount namespace (root on Linux)."""
    return sys.platform.startswith("linux") and os.geteuid() == 0


def ensure_user(name):
    """The sandbox account, created (system account, no home, no login shell) if missing."""
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pass
    command = ["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
               "--shell", "/usr/sbin/nologin", "--user-group", name]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise SandboxError(
            f"could not create the sandbox user {name!r} ({' '.join(command)} said: "
            f"{result.stderr.strip() or result.returncode}); create it yourself or pass --no-sandbox"
        )
    return pwd.getpwnam(name)


def write_kernelspec(jupyter_path, scratch, secrets, user=None):
    """Write ``<jupyter_path>/kernels/cs231n-grading/kernel.json``; returns the kernel name.

    ``scratch``: a folder for per-kernel scratch space (made traversable by the
    sandbox user); ``secrets``: paths the kernel must not see; ``user``: the
    sandbox account, or None to run kernels as the grader.
    """
    spec_dir = Path(jupyter_path) / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True, exist_ok=True)
    scratch = Path(scratch)
    scratch.mkdir(parents=True, exist_ok=True)
    if user:
        os.chmod(scratch, 0o711)
    config_file = spec_dir / "sandbox.json"
    config = {"user": user, "scratch": str(scratch), "secrets": sorted({str(Path(s).resolve()) for s in secrets})}
    config_file.write_text(json.dumps(config, indent=1), encoding="utf-8")
    spec = {
        "argv": [sys.executable, "-m", "cs231n_course.kernel", "-f", "{connection_file}"],
        "display_name": "cs231n grading sandbox",
        "language": "python",
        "env": {CONFIG_ENV: str(config_file)},
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec, indent=1), encoding="utf-8")
    return KERNEL_NAME
