"""Tests for the student's JupyterLab (cs231n_course/lab_config.py) and a quiet ``validate``.

Oracles: the plugin ids nbgrader's installed lab extension declares (read from its
JavaScript here) and its server extensions (its package folders); jupyter_server and
jupyterlab_server themselves, started in a subprocess with and without the student's
configuration, saying what they enable; the links on disk and the files they reach;
the kernel's own stderr under the TCP transport (the warning is there) and under ours.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import nbgrader
import pytest

from cs231n_course.lab_config import (
    DISABLED_LAB_PLUGINS,
    DISABLED_SERVER_EXTENSIONS,
    KEPT_LAB_PLUGIN,
    KEPT_SERVER_EXTENSION,
    link_solutions,
    write_student_config,
)
from cs231n_course.validate import make_validator, validate_paths

NBGRADER = Path(nbgrader.__file__).parent
TCP_WARNING = "Kernel is running over TCP without encryption"

PROBE = """
import json
from jupyter_core.paths import jupyter_path
from jupyter_server.serverapp import ServerApp
from jupyterlab_server.config import get_page_config

app = ServerApp()
app.initialize(argv=["--allow-root", "--ServerApp.root_dir=."], new_httpserver=False)
print(json.dumps({
    "server": {name: pkg.enabled for name, pkg in app.extension_manager.extensions.items()
               if name.startswith("nbgrader")},
    "disabled_plugins": sorted(get_page_config(jupyter_path("labextensions"))["disabledExtensions"]),
}))
"""


def nbgrader_lab_plugins():
    """The ``@jupyter/nbgrader:*`` plugin ids in the installed lab extension's JavaScript."""
    found = set()
    for script in (NBGRADER / "labextension" / "static").glob("*.js"):
        found |= set(re.findall(r'id:"(@jupyter/nbgrader:[a-z-]+)"', script.read_text(encoding="utf-8")))
    return found


def what_jupyter_enables(tmp_path, config_path):
    env = {key: value for key, value in os.environ.items() if not key.startswith("JUPYTER_CONFIG_PATH")}
    if config_path:
        env["JUPYTER_CONFIG_PATH"] = str(config_path)
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


def test_every_nbgrader_plugin_but_validate_is_named():
    plugins = nbgrader_lab_plugins()
    assert KEPT_LAB_PLUGIN in plugins, f"nbgrader's lab extension declares {sorted(plugins)}"
    assert set(DISABLED_LAB_PLUGINS) == plugins - {KEPT_LAB_PLUGIN}
    extensions = {f"nbgrader.server_extensions.{p.name}" for p in (NBGRADER / "server_extensions").iterdir()
                  if (p / "__init__.py").is_file()}
    assert set(DISABLED_SERVER_EXTENSIONS) == extensions - {KEPT_SERVER_EXTENSION}


def test_the_student_lab_has_validate_only_and_the_instructors_has_everything(tmp_path):
    config = tmp_path / "student-lab"
    write_student_config(config)

    student, student_log = what_jupyter_enables(tmp_path, config)
    instructor, _ = what_jupyter_enables(tmp_path, None)

    assert student["server"] == {**{name: False for name in DISABLED_SERVER_EXTENSIONS},
                                 KEPT_SERVER_EXTENSION: True}
    assert student["disabled_plugins"] == sorted(DISABLED_LAB_PLUGINS)
    assert "exchange" not in student_log.lower(), student_log[-2000:]
    assert instructor["server"] == {name: True for name in [*DISABLED_SERVER_EXTENSIONS, KEPT_SERVER_EXTENSION]}
    assert not set(instructor["disabled_plugins"]) & set(DISABLED_LAB_PLUGINS)


def test_writing_the_config_twice_leaves_it_untouched(tmp_path):
    first = write_student_config(tmp_path)
    stamps = [path.stat().st_mtime_ns for path in first]
    assert [path.stat().st_mtime_ns for path in write_student_config(tmp_path)] == stamps


@pytest.fixture
def checkout(tmp_path):
    (tmp_path / "course" / "notebooks").mkdir(parents=True)
    (tmp_path / "course" / "notebooks" / "02_conv.ipynb").write_text("solution notebook")
    (tmp_path / "course" / "cs231n_lib").mkdir()
    (tmp_path / "course" / "cs231n_lib" / "layers.py").write_text("# solution layers")
    (tmp_path / "course" / "workspace").mkdir()
    return tmp_path / "course"


def test_the_workspace_links_to_the_solution_notebooks_and_library(checkout):
    workspace = checkout / "workspace"

    assert link_solutions(workspace, checkout) == []
    assert link_solutions(workspace, checkout) == []  # a second run changes nothing

    solutions = workspace / "solutions"
    assert os.readlink(solutions / "notebooks") == "../../notebooks"
    assert os.readlink(solutions / "cs231n_lib") == "../../cs231n_lib"
    assert (solutions / "notebooks" / "02_conv.ipynb").read_text() == "solution notebook"
    assert (solutions / "cs231n_lib" / "layers.py").read_text() == "# solution layers"


def test_nothing_of_the_students_at_those_paths_is_replaced(checkout):
    workspace = checkout / "workspace"
    (workspace / "solutions" / "notebooks").mkdir(parents=True)
    (workspace / "solutions" / "notebooks" / "mine.txt").write_text("my notes")

    problems = link_solutions(workspace, checkout)

    assert len(problems) == 1 and "solutions/notebooks exists" in problems[0], problems
    assert (workspace / "solutions" / "notebooks" / "mine.txt").read_text() == "my notes"
    assert os.readlink(workspace / "solutions" / "cs231n_lib") == "../../cs231n_lib"


def test_a_solutions_file_stops_the_links(checkout):
    (checkout / "workspace" / "solutions").write_text("a file of mine")
    problems = link_solutions(checkout / "workspace", checkout)
    assert len(problems) == 1 and "not a folder the course made" in problems[0], problems
    assert (checkout / "workspace" / "solutions").read_text() == "a file of mine"


def tiny_notebook(folder):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 6 * 7\nprint(x)")])
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = folder / "tiny.ipynb"
    nbformat.write(nb, path)
    return path


def test_validate_runs_kernels_without_the_tcp_warning(tmp_path, capfd):
    notebook = tiny_notebook(tmp_path)
    make_validator(60).validate(str(notebook))  # the TCP transport: the control
    assert TCP_WARNING in capfd.readouterr().err

    lines = []
    assert validate_paths([notebook], out=lines.append) == 0

    assert lines[0] == "tiny.ipynb: all public tests pass"
    captured = capfd.readouterr()
    assert TCP_WARNING not in captured.err + captured.out
