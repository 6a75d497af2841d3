"""End to end: no automatic points for answers that only delegate to the shipped fast layers.

Notebooks 02 (conv forward 4 points, conv backward 4) and 04 (max pool forward 2,
backward 3, im2col shape 1) are released and three submissions graded:
- honest: the checkout's cs231n_lib/layers.py and the instructor's im2col_shape: 8 and 6;
- delegates: each naive layer calls the fast one from inside the function
  (``return conv_forward_fast(...)`` in the student's place), im2col_shape unanswered: 0 and 0;
- delegates-at-import: the same, with the fast layers imported under other names at the
  top of layers.py (bound before any check runs): 0 and 0.
The public checks alone would give both delegating submissions 8 and 5; the hidden tests
run them again with the fast layers replaced by functions that raise.
"""

import csv
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from cs231n_course.sandbox import sandbox_available

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "deleg"
NOTEBOOKS = ("02_convolution_layer", "04_pooling_and_fast_layers")
SOLVED_LAYERS = (ROOT / "cs231n_lib" / "layers.py").read_text(encoding="utf-8")
STUDENT_PLACE = "    # YOUR CODE HERE\n    raise NotImplementedError()\n"

pytestmark = pytest.mark.skipif(not sandbox_available(), reason="grading needs the sandbox (root on Linux and bwrap)")

INSIDE = {
    "conv_forward_naive": "from cs231n_lib.fast_layers import conv_forward_fast\n"
                          "out, _ = conv_forward_fast(x, w, b, conv_param)",
    "conv_backward_naive": "from cs231n_lib.fast_layers import conv_backward_fast, conv_forward_fast\n"
                           "dx, dw, db = conv_backward_fast(dout, conv_forward_fast(x, w, b, conv_param)[1])",
    "max_pool_forward_naive": "from cs231n_lib.fast_layers import max_pool_forward_fast\n"
                              "out, _ = max_pool_forward_fast(x, pool_param)",
    "max_pool_backward_naive": "from cs231n_lib.fast_layers import max_pool_backward_fast, max_pool_forward_fast\n"
                               "dx = max_pool_backward_fast(dout, max_pool_forward_fast(x, pool_param)[1])",
}
AT_IMPORT = {
    "conv_forward_naive": "out, _ = _cf(x, w, b, conv_param)",
    "conv_backward_naive": "dx, dw, db = _cb(dout, _cf(x, w, b, conv_param)[1])",
    "max_pool_forward_naive": "out, _ = _pf(x, pool_param)",
    "max_pool_backward_naive": "dx = _pb(dout, _pf(x, pool_param)[1])",
}
IMPORT_LINE = ("from cs231n_lib.fast_layers import conv_backward_fast as _cb, conv_forward_fast as _cf, "
               "max_pool_backward_fast as _pb, max_pool_forward_fast as _pf\n")
EXPECTED = {"honest": (8, 6), "delegates": (0, 0), "delegates-at-import": (0, 0)}


def run_cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "cs231n_course", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def fill(released_layers, bodies):
    """The released layers.py with each function's student place replaced by its body."""
    text = released_layers
    for function, body in bodies.items():
        start = text.index(f"def {function}(")
        place = text.index(STUDENT_PLACE, start)
        text = text[:place] + "".join(f"    {line}\n" for line in body.splitlines()) \
            + text[place + len(STUDENT_PLACE):]
    return text


def instructor_source(notebook, grade_id):
    nb = nbformat.read(ROOT / "notebooks" / f"{notebook}.ipynb", as_version=4)
    return next(c.source for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


@pytest.fixture(scope="module")
def rows(tmp_path_factory):
    work = tmp_path_factory.mktemp("delegation")
    released = run_cli("release", "--notebooks", *NOTEBOOKS, "--assignment", ASSIGNMENT, cwd=work)
    assert released.returncode == 0, released.stdout + released.stderr
    release = work / "release" / ASSIGNMENT
    released_layers = (release / "cs231n_lib" / "layers.py").read_text(encoding="utf-8")
    submissions = work / "submissions"

    def make(name, layers):
        folder = submissions / name
        shutil.copytree(release, folder)
        (folder / "cs231n_lib" / "layers.py").write_text(layers, encoding="utf-8")
        return folder

    honest = make("honest", SOLVED_LAYERS)
    path = honest / "04_pooling_and_fast_layers.ipynb"
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "04-im2col-shape":
            cell.source = instructor_source("04_pooling_and_fast_layers", "04-im2col-shape")
    nbformat.write(nb, path)

    make("delegates", fill(released_layers, INSIDE))
    at_import = fill(released_layers, AT_IMPORT)
    first_def = at_import.index("\ndef ")
    make("delegates-at-import", at_import[:first_def] + "\n" + IMPORT_LINE + at_import[first_def:])

    result = run_cli("grade", "submissions", "--timeout", "30", cwd=work)
    with open(work / "grading" / f"grades-{ASSIGNMENT}.csv", newline="", encoding="utf-8") as f:
        graded = {row["student"]: row for row in csv.DictReader(f)}
    assert set(graded) >= set(EXPECTED), result.stdout + result.stderr
    return graded


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_delegating_answers_get_no_automatic_points(rows, student):
    row = rows[student]
    assert row["status"] == "ok", f"{student}: {row}"
    got = tuple(float(row[notebook]) for notebook in NOTEBOOKS)
    assert got == EXPECTED[student], f"{student}: {row}"
