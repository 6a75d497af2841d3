"""Run one nbgrader step through its Python API and turn a failure into an exception."""

import logging
import os
import sys
from contextlib import contextmanager


class NbgraderFailed(RuntimeError):
    """An nbgrader step reported failure; the message holds its log."""


def nbgrader_api(config):
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
    api.log.setLevel(logging.WARNING)
    return api


def run_nbgrader(step, config, assignment, student=None):
    """Call NbGraderAPI.<step>(assignment[, student]); return its log text."""
    api = nbgrader_api(config)
    args = (assignment,) if student is None else (assignment, student)
    with interpreter_scripts_on_path():
        result = getattr(api, step)(*args, force=True)
    if not result["success"]:
        raise NbgraderFailed(f"nbgrader {step} failed:\n{result.get('error') or ''}\n{result.get('log') or ''}")
    return result.get("log") or ""


@contextmanager
def interpreter_scripts_on_path():
    """nbgrader runs `alembic` from PATH: find this interpreter's copy even in an unactivated venv."""
    saved = os.environ.get("PATH", "")
    os.environ["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), saved])
    try:
        yield
    finally:
        os.environ["PATH"] = saved
