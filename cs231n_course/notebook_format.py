"""The one stored form of a course notebook: nothing in it depends on who ran it, where or when.

Running a notebook in JupyterLab rewrites its kernelspec, the Python version in
``language_info``, cell metadata (collapsed, scrolled, execution timings) and
the ids of widgets in outputs. ``normalize`` keeps only what the course means:
cells, their sources, their outputs, nbgrader metadata and tags; one
kernelspec; the language without a version; and, in outputs, no widget view
(the notebooks keep no widget state, so a saved view could never render: the
static picture saved beside it is what a reader sees).

``cs231n-course normalize notebooks/`` rewrites files in place;
tests/test_notebook_format.py keeps every notebook of the course normalized.
"""

import copy
import json
from pathlib import Path

import nbformat

KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}
LANGUAGE_INFO = {"name": "python", "file_extension": ".py", "mimetype": "text/x-python",
                 "codemirror_mode": {"name": "ipython", "version": 3},
                 "nbconvert_exporter": "python", "pygments_lexer": "ipython3"}
CELL_METADATA_KEPT = ("nbgrader", "tags")
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def normalize(nb):
    """A normalized copy of ``nb`` (a NotebookNode)."""
    nb = copy.deepcopy(nb)
    nb.metadata = nbformat.from_dict({"kernelspec": dict(KERNELSPEC), "language_info": copy.deepcopy(LANGUAGE_INFO)})
    for cell in nb.cells:
        cell.metadata = nbformat.from_dict({key: cell.metadata[key] for key in CELL_METADATA_KEPT
                                            if key in cell.metadata and cell.metadata[key]})
        for output in cell.get("outputs", []):
            data = output.get("data")
            if data and WIDGET_VIEW in data and len(data) > 1:
                del data[WIDGET_VIEW]
    return nb


def dumps(nb):
    """The bytes a normalized notebook is stored as (nbformat's own layout: one-space indent, sorted keys)."""
    return nbformat.writes(normalize(nb)) + "\n"


def normalize_file(path):
    """Rewrite ``path`` in normalized form; True when its bytes changed."""
    path = Path(path)
    before = path.read_text(encoding="utf-8")
    after = dumps(nbformat.reads(before, as_version=4))
    if after == before:
        return False
    path.write_text(after, encoding="utf-8")
    return True


def course_content(nb):
    """What a notebook means to the course: its cells' types, sources, nbgrader metadata and tags, as JSON text.

    nb: a NotebookNode or the plain JSON of a notebook file (sources as strings or lists of
    lines). Two notebooks with equal ``course_content`` differ only in outputs, execution
    counts and run-specific metadata.
    """
    cells = [{"cell_type": cell["cell_type"],
              "source": "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"],
              "nbgrader": cell.get("metadata", {}).get("nbgrader", {}),
              "tags": sorted(cell.get("metadata", {}).get("tags", []))} for cell in nb["cells"]]
    return json.dumps(cells, sort_keys=True)
