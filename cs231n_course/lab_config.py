"""The student's JupyterLab that ``make lab`` starts: no instructor tools, the solutions one folder away.

``python -m cs231n_course.lab_config --config-dir build/student-lab --workspace workspace``
(run by ``make lab`` before JupyterLab starts) does two things:

- writes a Jupyter configuration folder that ``make lab`` puts on ``JUPYTER_CONFIG_PATH``
  for that one launch. It turns off nbgrader's instructor parts: the lab plugins of the
  Nbgrader menu (Formgrader, Create Assignment), the Create Assignment sidebar and the
  assignment and course lists, and the server extensions behind them (formgrader,
  assignment_list, course_list: the latter two are what look for the exchange folder
  and log "Unwritable directory"). The Validate button (lab plugin and server extension
  ``validate_assignment``) stays. Folders on ``JUPYTER_CONFIG_PATH`` take precedence
  over the environment's own configuration (where ``pip install nbgrader`` enables
  everything), so a plain ``jupyter lab`` (the instructor's) keeps every tool;
- makes ``<workspace>/solutions/`` with two links into the checkout: ``notebooks``
  (the solution notebooks) and ``cs231n_lib`` (the library with its solutions), so a
  self-learner opens a model solution from the file browser in one step. A solution
  notebook run from there starts its kernel in ``notebooks/`` of the checkout, so it
  imports the checkout's library, not the workspace's. Nothing already at those paths
  is replaced.
"""

import argparse
import json
import os
import sys
from pathlib import Path

# Plugin ids: nbgrader/labextension (the "id" of each plugin in its static/*.js).
DISABLED_LAB_PLUGINS = (
    "@jupyter/nbgrader:menu",
    "@jupyter/nbgrader:create-assignment",
    "@jupyter/nbgrader:assignment-list",
    "@jupyter/nbgrader:course-list",
)
KEPT_LAB_PLUGIN = "@jupyter/nbgrader:validate-assignment"
DISABLED_SERVER_EXTENSIONS = (
    "nbgrader.server_extensions.formgrader",
    "nbgrader.server_extensions.assignment_list",
    "nbgrader.server_extensions.course_list",
)
KEPT_SERVER_EXTENSION = "nbgrader.server_extensions.validate_assignment"
SERVER_CONFIG = Path("jupyter_server_config.d") / "cs231n-student-lab.json"
PAGE_CONFIG = Path("labconfig") / "page_config.json"
SOLUTIONS_DIR = "solutions"
SOLUTION_LINKS = ("notebooks", "cs231n_lib")


def write_student_config(folder):
    """Write the student's Jupyter configuration into ``folder``; return the files written."""
    folder = Path(folder)
    server = {"ServerApp": {"jpserver_extensions": {
        **{name: False for name in DISABLED_SERVER_EXTENSIONS}, KEPT_SERVER_EXTENSION: True}}}
    page = {"disabledExtensions": {name: True for name in DISABLED_LAB_PLUGINS}}
    written = []
    for relative, content in ((SERVER_CONFIG, server), (PAGE_CONFIG, page)):
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(content, indent=2, sort_keys=True) + "\n"
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def link_solutions(workspace, checkout):
    """Make ``workspace/solutions/{notebooks,cs231n_lib}`` link to the checkout's folders.

    Returns the problems met as lines for the terminal ([] when every link is in place).
    A link is relative when both sides share a root, so a moved checkout keeps working.
    Never replaces anything: a file or a different link at one of those paths stays.
    """
    workspace, checkout = Path(workspace), Path(checkout)
    folder = workspace / SOLUTIONS_DIR
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        return [f"{folder.as_posix()} is not a folder the course made: the solution links were not made"]
    problems = []
    for name in SOLUTION_LINKS:
        target = (checkout / name).resolve()
        link = folder / name
        if not target.is_dir():
            problems.append(f"no {name}/ in {checkout.as_posix()}: {link.as_posix()} was not made")
            continue
        if os.path.lexists(link):
            if not (link.is_symlink() and link.resolve() == target):
                problems.append(f"{link.as_posix()} exists and is not a link to {target.as_posix()}: left as is")
            continue
        folder.mkdir(parents=True, exist_ok=True)
        os.symlink(os.path.relpath(target, folder.resolve()), link, target_is_directory=True)
    return problems


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m cs231n_course.lab_config",
        description="Prepare the student's JupyterLab: its configuration folder and the solution links.")
    parser.add_argument("--config-dir", type=Path, required=True,
                        help="where to write the configuration (put it on JUPYTER_CONFIG_PATH)")
    parser.add_argument("--workspace", type=Path, required=True, help="the student's workspace folder")
    parser.add_argument("--checkout", type=Path, default=Path("."),
                        help="the checkout holding notebooks/ and cs231n_lib/ (default: .)")
    args = parser.parse_args(argv)
    write_student_config(args.config_dir)
    for line in link_solutions(args.workspace, args.checkout):
        print(f"warning: {line}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
