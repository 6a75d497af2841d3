"""A student who gets only the zip can set up from it and validate a notebook.

The release of 00_welcome and 06_dropout is zipped, the zip unpacked into an
empty folder, and the README's pip steps followed literally: a new virtual
environment, `python -m pip install -r requirements.txt`, then nbgrader's
`validate` (what the Validate button runs) with that environment's tools, in the
unpacked folder. Nothing of this checkout is importable there (no PYTHONPATH, the
repository's packages not installed), and Jupyter's user folders point into the
test's own folder so that no kernel of this machine is picked instead.

Oracles: 00 has no exercise, so nbgrader must report success; 06's library
exercises are stubs, so its checks must fail naming dropout_forward and
dropout_backward with NotImplementedError, not with a missing module.

Needs the package index pip is set up for (PyPI). Measured on 2 cores: about
45 s for the install (no pip cache) and 12 s per validated notebook; the
environment (about 700 MB) is removed afterwards.
"""

import os
import re
import shutil
import subprocess
import sys
import time
import zipfile

import pytest

from cs231n_course.release import release_course

ASSIGNMENT = "ps_zip"
NOTEBOOKS = ["00_welcome", "06_dropout"]
INSTALL_TIMEOUT = 600
VALIDATE_TIMEOUT = 300


def quiet(*args):
    pass


def run(args, cwd, env, timeout):
    started = time.perf_counter()
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    return result, time.perf_counter() - started


def student_env(tmp, venv):
    """The environment of a shell with only the student's virtual environment active."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "CONDA_PREFIX") and not k.startswith("JUPYTER")}
    env["PATH"] = os.pathsep.join([str(venv / "bin"), env.get("PATH", "")])
    env["VIRTUAL_ENV"] = str(venv)
    for name, folder in (("JUPYTER_CONFIG_DIR", "jupyter-config"), ("JUPYTER_DATA_DIR", "jupyter-data"),
                         ("JUPYTER_RUNTIME_DIR", "jupyter-runtime"), ("IPYTHONDIR", "ipython")):
        env[name] = str(tmp / folder)
    return env


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(unpacked release folder, venv, env, seconds to install), the venv removed afterwards."""
    tmp = tmp_path_factory.mktemp("student")
    release = release_course(tmp / "grading", tmp / "release", ASSIGNMENT, notebooks=NOTEBOOKS, log=quiet)
    unpacked = tmp / "downloads"
    with zipfile.ZipFile(release.archive) as zf:
        zf.extractall(unpacked)
    folder = unpacked / ASSIGNMENT
    venv = tmp / "cs231n-env"
    env = student_env(tmp, venv)
    result, _ = run([sys.executable, "-m", "venv", str(venv)], folder, env, 120)
    assert result.returncode == 0, result.stderr
    result, seconds = run([str(venv / "bin" / "python"), "-m", "pip", "install", "-r", "requirements.txt"],
                          folder, env, INSTALL_TIMEOUT)
    assert result.returncode == 0, (
        f"pip install -r requirements.txt failed after {seconds:.0f} s:\n" + result.stderr[-3000:])
    print(f"\npip install -r requirements.txt: {seconds:.1f} s")
    yield folder, venv, env, seconds
    shutil.rmtree(venv, ignore_errors=True)


def validate(installed, notebook):
    folder, venv, env, _ = installed
    result, seconds = run([str(venv / "bin" / "nbgrader"), "validate", f"{notebook}.ipynb"], folder, env,
                          VALIDATE_TIMEOUT)
    print(f"\nnbgrader validate {notebook}: {seconds:.1f} s")
    return result.stdout + result.stderr


def test_the_environment_has_the_tools_the_readme_names_and_none_of_this_checkout(installed):
    folder, venv, env, _ = installed
    for tool in ("jupyter", "jupyter-lab", "nbgrader"):
        assert (venv / "bin" / tool).is_file(), f"{tool} is missing from the student's environment"
    code = ("import importlib.util, sys\n"
            "import cs231n_lib\n"
            "print(cs231n_lib.__file__)\n"
            "print(importlib.util.find_spec('cs231n_course'))\n"
            "print(sys.prefix)\n")
    result, _ = run([str(venv / "bin" / "python"), "-B", "-c", code], folder, env, 120)
    assert result.returncode == 0, result.stderr
    library, instructor, prefix = result.stdout.splitlines()
    assert library == str(folder / "cs231n_lib" / "__init__.py")
    assert instructor == "None"
    assert prefix == str(venv)


def test_the_kernel_jupyter_starts_is_the_students_environment(installed):
    _, venv, env, _ = installed
    result, _ = run([str(venv / "bin" / "jupyter"), "kernelspec", "list"], venv, env, 120)
    assert result.returncode == 0, result.stderr
    kernels = dict(line.split() for line in result.stdout.splitlines()[1:] if line.strip())
    assert list(kernels) == ["python3"], result.stdout
    assert kernels["python3"].startswith(str(venv)), result.stdout


def test_the_welcome_notebook_validates(installed):
    output = validate(installed, "00_welcome")
    assert "Success! Your notebook passes all the tests." in output, output[-3000:]


def test_the_dropout_notebook_reports_its_open_exercises_and_nothing_missing(installed):
    output = validate(installed, "06_dropout")
    assert "VALIDATION FAILED" in output, output[-3000:]
    for name in ("dropout_forward", "dropout_backward"):
        assert re.search(rf"{name}\b.*not implemented", output, re.IGNORECASE), output[-3000:]
    assert "NotImplementedError" in output
    for problem in ("ModuleNotFoundError", "ImportError", "No module named", "No such kernel"):
        assert problem not in output, f"{problem} in the validation of 06:\n{output[-3000:]}"
