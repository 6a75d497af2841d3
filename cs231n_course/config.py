"""Where the course's files live, and the nbgrader configuration every command uses."""

import os
from pathlib import Path

from traitlets.config import Config

import cs231n_lib

DEFAULT_ASSIGNMENT = "cs231n"
DEFAULT_CELL_TIMEOUT = 60
# Outputs one graded cell keeps (feedback.CapOutputs); the rest is cut with a note.
DEFAULT_MAX_OUTPUT_BYTES = 1_000_000
LIBRARY_NAME = "cs231n_lib"
# Never shipped, never graded: caches and editor leftovers.
IGNORED_NAMES = ("__pycache__", ".ipynb_checkpoints", ".pytest_cache")
IGNORED_SUFFIXES = (".pyc", ".pyo")


def library_dir():
    """The instructor's library: the folder of the imported cs231n_lib package."""
    return Path(cs231n_lib.__file__).resolve().parent


def project_dir():
    """The checkout holding notebooks/ and cs231n_lib/ (None for a non-editable install)."""
    candidate = library_dir().parent
    return candidate if (candidate / "notebooks").is_dir() else None


def default_notebooks_dir():
    project = project_dir()
    return project / "notebooks" if project else None


def is_ignored(path):
    return any(part in IGNORED_NAMES for part in path.parts) or path.suffix in IGNORED_SUFFIXES


def course_files(folder):
    """Sorted paths of the files under ``folder`` that are not ignored (symlinked folders not entered)."""
    found = []
    for parent, subfolders, names in os.walk(folder):
        subfolders[:] = [name for name in subfolders if name not in IGNORED_NAMES]
        found += [Path(parent) / name for name in names if not is_ignored(Path(name))]
    return sorted(found)


def read_text_or_none(path):
    """The file's text, or None for a binary (non-UTF-8) file."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None


def set_execution_limits(config, cell_timeout):
    """Per-cell timeout for nbgrader's Execute; a cell still running then is interrupted."""
    config.Execute.timeout = int(cell_timeout)
    config.Execute.interrupt_on_timeout = True
    config.Execute.startup_timeout = 120
    # The notebook has run and its outputs are kept: end the kernel at once instead of asking it
    # to shut down and waiting (0.2-0.3 s per notebook); grade ends whatever is left of its uid.
    config.Execute.shutdown_kernel = "immediate"


def nbgrader_config(course_dir, assignment=DEFAULT_ASSIGNMENT, cell_timeout=DEFAULT_CELL_TIMEOUT,
                    kernel_name=None, student_files=(), max_output_bytes=None, socket_dir=None, db_url=None):
    """The traitlets Config for NbGraderAPI on the course directory ``course_dir``.

    ``student_files``: paths (relative to the assignment folder) of the library
    files students edit (those with solution regions). Autograde grades the
    student's copy of these; every other file is replaced by the released one.
    ``max_output_bytes``: outputs one cell keeps (default: CapOutputs'); ``socket_dir``:
    talk to kernels over Unix sockets in this folder (the sandbox has no network); ``db_url``:
    the gradebook (default: ``gradebook.db`` in ``course_dir``).
    """
    from nbconvert.preprocessors import (
        ClearMetadataPreprocessor,
        CSSHTMLHeaderPreprocessor,
    )
    from nbgrader.preprocessors import (
        AssignLatePenalties,
        CheckCellMetadata,
        ClearMarkScheme,
        ClearOutput,
        ComputeChecksums,
        DeduplicateIds,
        GetGrades,
        IgnorePattern,
        IncludeHeaderFooter,
        InstantiateTests,
        LimitOutput,
        LockCells,
        OverwriteCells,
        OverwriteKernelspec,
        SaveAutoGrades,
        SaveCells,
    )

    from cs231n_course.preprocessors import (
        RedactHiddenTracebacks,
        RestoreDeletedCells,
        StderrToStdout,
        StrictClearHiddenTests,
        StrictClearSolutions,
    )

    c = Config()
    c.CourseDirectory.root = str(Path(course_dir).resolve())
    c.CourseDirectory.course_id = "cs231n-course"
    if db_url:
        c.CourseDirectory.db_url = db_url
    c.CourseDirectory.ignore = [*IGNORED_NAMES, *(f"*{suffix}" for suffix in IGNORED_SUFFIXES), "feedback"]
    # Same order as nbgrader 0.9's default, with the strict marker rules swapped in.
    c.GenerateAssignment.preprocessors = [
        IncludeHeaderFooter, InstantiateTests, LockCells, StrictClearSolutions, ClearOutput,
        CheckCellMetadata, ComputeChecksums, SaveCells, StrictClearHiddenTests, ClearMarkScheme,
        ComputeChecksums, CheckCellMetadata,
    ]
    # RestoreTamperedCells first: repairs that nbgrader's own steps would fail on (restore.py).
    c.Autograde.sanitize_preprocessors = [
        ClearOutput, "cs231n_course.restore.RestoreTamperedCells", DeduplicateIds, OverwriteKernelspec,
        RestoreDeletedCells, OverwriteCells, CheckCellMetadata,
    ]
    # Execute's config applies to it; a dead kernel ends only its notebook (crash.py), and a notebook
    # without a graded cell is not run (ungraded.py).
    c.Autograde.autograde_preprocessors = [
        "cs231n_course.ungraded.ExecuteGradedOnly", StderrToStdout, IgnorePattern, ClearMetadataPreprocessor,
        LimitOutput,
        "cs231n_course.feedback.CapOutputs", SaveAutoGrades, AssignLatePenalties, CheckCellMetadata,
    ]
    set_execution_limits(c, cell_timeout)
    if kernel_name:
        c.Execute.kernel_name = kernel_name
    if max_output_bytes:
        c.CapOutputs.max_bytes = int(max_output_bytes)
    if socket_dir:
        c.KernelManager.transport = "ipc"
        c.KernelManager.ip = str(Path(socket_dir) / "kernel")
    c.GenerateFeedback.preprocessors = [
        GetGrades, RedactHiddenTracebacks, "cs231n_course.feedback.RedactHiddenOutputs",
        StrictClearHiddenTests, CSSHTMLHeaderPreprocessor,
    ]
    # Feedback pages: sanitized outputs, then only allow-listed markup and a no-script CSP (feedback.py).
    c.GenerateFeedback.exporter_class = "cs231n_course.feedback.SecureFeedbackExporter"
    c.HTMLExporter.sanitize_html = True
    c.Autograde.exclude_overwriting = {assignment: [str(p) for p in student_files]}
    return c
