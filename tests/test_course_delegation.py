"""End to end: no automatic points for answers that only delegate to shipped code.

The whole course is released and three submissions are graded in one run:
- honest: the checkout's solved cs231n_lib/layers.py and optim.py and the instructor's
  answer cells: every automatic point, 69;
- delegates: wherever the release ships something that computes an exercise's answer, the
  answer calls it: the naive conv and pool layers call the fast layers (02, 04), the output
  sizes, paddings, parameter counts and shapes of 01 come from ``shapes``, the numerical
  gradient calls ``eval_numerical_gradient`` (03), the im2col size is read off the fast
  layer's output (04), the SGD loop updates with the shipped ``sgd`` (05), the initial loss is
  ``softmax_loss`` of equal scores (07), and the gradient check reports errors it never
  computed (07). Exercises with nothing shipped to delegate to are left as released. 0 points;
- delegates-at-import: the fast layers imported under other names at the top of layers.py,
  bound before any check runs, the notebooks as released: 0 points;
- delegates-privately: the naive convolution calls the fast layer's private twin
  ``_conv_forward`` (what ``conv_forward_fast`` calls), the notebooks as released: 0 points.
The public checks alone would give the delegating submission points in 01, 02, 03, 04, 05
and 07; the hidden tests run them again with the shipped alternatives replaced by
functions that raise, and work the value answers of 01 out again the same way.
Exercises whose answer is to use the shipped tools (07's overfitting and training with the
Solver) are not delegation and are not part of this test. Notebook 09 (batch normalization)
is left as released in the delegating submissions: its forward passes have nothing shipped to
delegate to, and its backward checks need the student's own forward pass.
"""

import csv
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest
from instructor_answers import answer_cells, write_answers

from cs231n_course.sandbox import sandbox_available
from cs231n_lib.checks import gradients, optim, pooling, spatial
from cs231n_lib.checks.convnet import check_expected_initial_loss
from cs231n_lib.fast_layers import conv_forward_fast
from cs231n_lib.gradient_check import eval_numerical_gradient
from cs231n_lib.layers import softmax_loss
from cs231n_lib.optim import sgd
from cs231n_lib.shapes import Conv, Pool, conv_output_size

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "deleg"
NOTEBOOKS = ("01_spatial_arithmetic", "02_convolution_layer", "03_gradient_checks",
             "04_pooling_and_fast_layers", "05_sgd_and_update_rules", "06_dropout", "07_small_convnet",
             "08_case_studies", "09_batch_normalization")
AUTO_POINTS = {"01_spatial_arithmetic": 11, "02_convolution_layer": 8, "03_gradient_checks": 5,
               "04_pooling_and_fast_layers": 6, "05_sgd_and_update_rules": 8, "06_dropout": 5,
               "07_small_convnet": 8, "08_case_studies": 7, "09_batch_normalization": 11}
EXPECTED = {
    "honest": AUTO_POINTS,
    "delegates": dict.fromkeys(NOTEBOOKS, 0),
    "delegates-at-import": dict.fromkeys(NOTEBOOKS, 0),
    "delegates-privately": dict.fromkeys(NOTEBOOKS, 0),
}
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
PRIVATE = {
    "conv_forward_naive": "from cs231n_lib.fast_layers import _conv_forward\n"
                          "out, _ = _conv_forward(x, w, b, conv_param, out_from_pool=False)",
}
IMPORT_LINE = ("from cs231n_lib.fast_layers import conv_backward_fast as _cb, conv_forward_fast as _cf, "
               "max_pool_backward_fast as _pb, max_pool_forward_fast as _pf\n")

# grade_id -> the whole source of a delegating answer cell.
DELEGATING_CELLS = {
    "01-ex1-answer": (
        "import re\n"
        "alexnet_size = conv_output_size(227, 11, stride=4)\n"
        "try:\n"
        "    conv_output_size(7, 3, stride=3)\n"
        "except ValueError as refusal:  # the library's message holds the unrounded value\n"
        "    stride3_value = float(re.search(r'= (\\d+\\.\\d+)', str(refusal)).group(1))\n"),
    "01-ex2-answer": ("padded_size = conv_output_size(32, 5, stride=1, pad=2)\n"
                      "stem_size = conv_output_size(33, 7, stride=2, pad=3)\n"),
    "01-ex3-answer": "same_pad = next(p for p in range(10) if conv_output_size(64, 11, 1, p) == 64)\n",
    "01-ex4-answer": "conv_params = Conv(64, 3, pad=1).describe((32, 16, 16)).params\n",
    "01-ex5-answer": ("summary = Conv(64, 1).describe((256, 28, 28))\n"
                      "reduce_shape, reduce_params = summary.output_shape, summary.params\n"),
    "01-ex6-answer": ("summary = Pool(3, stride=2).describe((256, 13, 13))\n"
                      "pooled_shape, pooled_params = summary.output_shape, summary.params\n"),
    "03-numgrad-answer": ("def numerical_gradient(f, x, h=1e-5):\n"
                          "    return eval_numerical_gradient(f, x, h=h)\n"),
    "04-im2col-shape": ("def im2col_shape(x_shape, w_shape, stride, pad):\n"
                        "    out, _ = conv_forward_fast(np.zeros(x_shape), np.zeros(w_shape), np.zeros(w_shape[0]),\n"
                        "                               {'stride': stride, 'pad': pad})\n"
                        "    return (int(np.prod(w_shape[1:])), out.size // w_shape[0])\n"),
    "05-train-by-hand": (
        "def train_by_hand(model, X, y, num_iters=100, batch_size=50, learning_rate=0.1, seed=0):\n"
        "    rng = np.random.default_rng(seed)\n"
        "    loss_history = []\n"
        "    for _ in range(num_iters):\n"
        "        batch = rng.choice(len(X), size=batch_size, replace=False)\n"
        "        loss, grads = model.loss(X[batch], y[batch])\n"
        "        for name in model.params:\n"
        "            model.params[name], _ = sgd(model.params[name], grads[name], {'learning_rate': learning_rate})\n"
        "        loss_history.append(float(loss))\n"
        "    return loss_history\n"),
    "07-initial-loss-answer": ("def expected_initial_loss(num_classes):\n"
                               "    return float(softmax_loss(np.zeros((1, num_classes)), np.array([0]))[0])\n"),
    "07-gradcheck-answer": (
        "grad_model = ThreeLayerConvNet(input_dim=(1, 4, 4), num_filters=2, filter_size=3, hidden_dim=6,\n"
        "                               num_classes=5, weight_scale=0.5, seed=0, dtype=np.float64)\n"
        "grad_errors = {name: 1e-9 for name in grad_model.params}  # reported, never computed\n"),
}


def run_cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "cs231n_course", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=900)


def fill(released_layers, bodies):
    """The released layers.py with each function's student place replaced by its body."""
    text = released_layers
    for function, body in bodies.items():
        start = text.index(f"def {function}(")
        place = text.index(STUDENT_PLACE, start)
        text = text[:place] + "".join(f"    {line}\n" for line in body.splitlines()) \
            + text[place + len(STUDENT_PLACE):]
    return text


@pytest.fixture(scope="module")
def rows(tmp_path_factory):
    work = tmp_path_factory.mktemp("delegation")
    released = run_cli("release", "--assignment", ASSIGNMENT, cwd=work)
    assert released.returncode == 0, released.stdout + released.stderr
    release = work / "release" / ASSIGNMENT
    released_layers = (release / "cs231n_lib" / "layers.py").read_text(encoding="utf-8")
    submissions = work / "submissions"

    def make(name, layers=None):
        folder = submissions / name
        shutil.copytree(release, folder)
        if layers is not None:
            (folder / "cs231n_lib" / "layers.py").write_text(layers, encoding="utf-8")
        return folder

    honest = make("honest", (ROOT / "cs231n_lib" / "layers.py").read_text(encoding="utf-8"))
    shutil.copy(ROOT / "cs231n_lib" / "optim.py", honest / "cs231n_lib" / "optim.py")
    write_answers(honest, {k: v for notebook in NOTEBOOKS for k, v in answer_cells(notebook).items()})

    write_answers(make("delegates", fill(released_layers, INSIDE)), DELEGATING_CELLS)
    at_import = fill(released_layers, AT_IMPORT)
    first_def = at_import.index("\ndef ")
    make("delegates-at-import", at_import[:first_def] + "\n" + IMPORT_LINE + at_import[first_def:])
    make("delegates-privately", fill(released_layers, PRIVATE))

    result = run_cli("grade", "submissions", "--timeout", "60", cwd=work)
    with open(work / "grading" / f"grades-{ASSIGNMENT}.csv", newline="", encoding="utf-8") as f:
        graded = {row["student"]: row for row in csv.DictReader(f)}
    assert set(graded) >= set(EXPECTED), result.stdout + result.stderr
    return graded


def test_the_course_has_the_automatic_points_counted_here():
    """AUTO_POINTS is the sum of the points of each notebook's check cells (written answers are by hand)."""
    for notebook in NOTEBOOKS:
        nb = nbformat.read(ROOT / "notebooks" / f"{notebook}.ipynb", as_version=4)
        points = sum(c.metadata["nbgrader"].get("points", 0) for c in nb.cells
                     if c.metadata.get("nbgrader", {}).get("grade") and not c.metadata["nbgrader"].get("solution"))
        assert points == AUTO_POINTS[notebook], notebook


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_delegating_answers_get_no_automatic_points(rows, student):
    row = rows[student]
    assert row["status"] == "ok", f"{student}: {row}"
    got = {notebook: float(row[f"{notebook}_auto"]) for notebook in NOTEBOOKS}
    assert got == EXPECTED[student], f"{student}: {row}"
    assert float(row["auto_total"]) == sum(EXPECTED[student].values()), row


def written_points(notebook):
    """Points of the notebook's written answers (``"grade": true, "solution": true``), graded by hand."""
    nb = nbformat.read(ROOT / "notebooks" / f"{notebook}.ipynb", as_version=4)
    return sum(c.metadata["nbgrader"].get("points", 0) for c in nb.cells
               if c.metadata.get("nbgrader", {}).get("grade") and c.metadata["nbgrader"].get("solution"))


def test_the_csv_gives_each_notebooks_maxima_and_no_column_to_the_welcome(rows):
    columns = list(rows["honest"])
    kinds = ("auto", "auto_max", "manual", "manual_max")
    expected = [f"{notebook}_{kind}" for notebook in NOTEBOOKS for kind in kinds]
    assert columns[2:2 + len(expected)] == expected, columns
    assert not [c for c in columns if c.startswith("00_")], "00_welcome has no points, yet has a column"
    manual = {notebook: written_points(notebook) for notebook in NOTEBOOKS}
    assert sum(AUTO_POINTS.values()) == 69 and sum(manual.values()) == 27, manual  # the README's numbers
    for row in rows.values():
        for notebook in NOTEBOOKS:
            assert float(row[f"{notebook}_auto_max"]) == AUTO_POINTS[notebook], row
            assert float(row[f"{notebook}_manual_max"]) == manual[notebook], row
        assert (float(row["auto_max"]), float(row["manual_max"])) == (69, 27), row
        # Only code answers were written: the written ones are as released, scored 0 with nothing to grade.
        assert (row["manual_total"], row["manual_pending"]) == ("0", "0"), row


def _public_checks_of_the_delegating_answers():
    """(label, thunk) pairs: each runs one delegating answer cell and its public check, in process."""
    def answer(grade_id):
        namespace = {"np": np, "conv_output_size": conv_output_size, "Conv": Conv, "Pool": Pool,
                     "eval_numerical_gradient": eval_numerical_gradient, "conv_forward_fast": conv_forward_fast,
                     "sgd": sgd, "softmax_loss": softmax_loss}
        exec(DELEGATING_CELLS[grade_id], namespace)
        return namespace

    return [
        ("01-ex1", lambda: spatial.check_output_size(answer("01-ex1-answer")["alexnet_size"], 227, 11, stride=4, pad=0)),
        ("01-ex1 stride 3", lambda: spatial.check_output_size(answer("01-ex1-answer")["stride3_value"], 7, 3, stride=3)),
        ("01-ex2", lambda: spatial.check_output_size(answer("01-ex2-answer")["stem_size"], 33, 7, stride=2, pad=3)),
        ("01-ex3", lambda: spatial.check_same_padding(answer("01-ex3-answer")["same_pad"], 11, 64)),
        ("01-ex4", lambda: spatial.check_param_count(answer("01-ex4-answer")["conv_params"], 64, 3, 32,
                                                     input_size=16, stride=1, pad=1)),
        ("01-ex5", lambda: spatial.check_1x1(answer("01-ex5-answer")["reduce_shape"],
                                             answer("01-ex5-answer")["reduce_params"], (256, 28, 28), 64)),
        ("01-ex6", lambda: spatial.check_pool(answer("01-ex6-answer")["pooled_shape"],
                                              answer("01-ex6-answer")["pooled_params"], (256, 13, 13), 3, 2)),
        ("03", lambda: gradients.check_numerical_gradient(answer("03-numgrad-answer")["numerical_gradient"])),
        ("04", lambda: pooling.check_im2col_shape(answer("04-im2col-shape")["im2col_shape"])),
        ("05", lambda: optim.check_sgd_loop(answer("05-train-by-hand")["train_by_hand"])),
        ("07", lambda: check_expected_initial_loss(answer("07-initial-loss-answer")["expected_initial_loss"])),
    ]


@pytest.mark.parametrize("label, run", _public_checks_of_the_delegating_answers(),
                         ids=[label for label, _ in _public_checks_of_the_delegating_answers()])
def test_the_public_checks_alone_pass_the_delegating_answers(label, run, capsys):
    """So the zeros above come from the hidden tests, not from answers that were wrong anyway."""
    run()
    assert capsys.readouterr().out.startswith("OK")
