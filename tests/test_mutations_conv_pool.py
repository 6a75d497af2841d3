"""Mutation suite for the public checks of notebooks 02 (convolution) and 04 (pooling, im2col).

Each mutation is the model solution with one student-style mistake (see
tests/mutation_harness.py). The PUBLIC check, run as the notebook's check cell
runs it without its hidden tests, must fail with a message that names or points
at that mistake. ``named`` holds the words a student needs to see to find it:
a word counts only when it is about that mistake, never a word that every
failure prints (the generic formula hints FORWARD_HINT and BACKWARD_HINT, or
"expected"). A mistake the check misses, or catches with a message that does
not name it, is marked ``xfail(strict=True)`` with what the check lacks
("issue 11: ..."), so fixing the check flips the mark.
"""

import numpy as np
import pytest
from mutation_harness import (
    Mutation,
    answer_source,
    assert_caught,
    mutate,
    mutated_function,
    run_answer,
)

from cs231n_lib import layers
from cs231n_lib.checks.conv import check_conv_backward, check_conv_forward
from cs231n_lib.checks.pooling import (
    check_im2col_shape,
    check_max_pool_backward,
    check_max_pool_forward,
)

HIDDEN = "### BEGIN HIDDEN TESTS"

# The public part of each check cell (the lines before its hidden tests), as this suite runs it.
PUBLIC_CELLS = {
    ("02_convolution_layer", "02-forward-check"):
        "from cs231n_lib.layers import conv_forward_naive\n\ncheck_conv_forward(conv_forward_naive)",
    ("02_convolution_layer", "02-backward-check"):
        "from cs231n_lib.layers import conv_backward_naive, conv_forward_naive\n\n"
        "check_conv_backward(conv_forward_naive, conv_backward_naive)",
    ("04_pooling_and_fast_layers", "04-forward-check"): "check_max_pool_forward(max_pool_forward_naive)",
    ("04_pooling_and_fast_layers", "04-backward-check"): "check_max_pool_backward(max_pool_backward_naive)",
    ("04_pooling_and_fast_layers", "04-im2col-shape-check"): "check_im2col_shape(im2col_shape)",
}


def gap(reason):
    """The xfail mark of a mistake the public check misses or misnames today."""
    return pytest.mark.xfail(strict=True, reason=f"issue 11: {reason}")


def params(mutations):
    """pytest params, one per (Mutation, gap reason or None)."""
    return [pytest.param(m, id=m.name, marks=gap(reason) if reason else ())
            for m, reason in mutations]


def quietly(check):
    """``check`` with numpy's floating-point warnings silenced (a mutant may divide by zero)."""
    def run():
        with np.errstate(all="ignore"):
            check()
    return run


# ---------------------------------------------------------------------------
# 02-forward-check: conv_forward_naive
# ---------------------------------------------------------------------------

WINDOW = "window = x_padded[n, :, i * S:i * S + g.HH, j * S:j * S + g.WW]"
PAD = "x_padded = np.pad(x, ((0, 0), (0, 0), (P, P), (P, P)))"
OUT = "out = np.zeros(g.out_shape, dtype=np.result_type(x, w, b))"
SUM = "out[n, f, i, j] = np.sum(window * w[f]) + b[f]"

CONV_FORWARD = [
    (Mutation("forgot the bias", ((SUM, "out[n, f, i, j] = np.sum(window * w[f])"),), ("bias",)), None),
    (Mutation("bias added twice (again after the loops)",
              (("    ### END SOLUTION", "    out += b.reshape(1, -1, 1, 1)\n    ### END SOLUTION"),),
              ("bias was added twice", "twice")), None),
    (Mutation("bias subtracted (sign error)", ((SUM, "out[n, f, i, j] = np.sum(window * w[f]) - b[f]"),),
              ("bias", "sign")),
     None),
    (Mutation("bias indexed by image, b[n]", ((SUM, "out[n, f, i, j] = np.sum(window * w[f]) + b[n]"),),
              ("b[n]", "bias of")),
     None),
    (Mutation("filter flipped (true convolution)",
              ((SUM, "out[n, f, i, j] = np.sum(window * w[f, :, ::-1, ::-1]) + b[f]"),), ("flipped",)), None),
    (Mutation("filter flipped upside down only",
              ((SUM, "out[n, f, i, j] = np.sum(window * w[f, :, ::-1, :]) + b[f]"),), ("flipped",)), None),
    (Mutation("filter transposed", ((SUM, "out[n, f, i, j] = np.sum(window * w[f].transpose(0, 2, 1)) + b[f]"),),
              ("transpose",)), None),
    (Mutation("stride ignored (windows move by 1)",
              ((WINDOW, "window = x_padded[n, :, i:i + g.HH, j:j + g.WW]"),), ("the stride", "stride was", "stride not used")), None),
    (Mutation("stride ignored along the width only",
              ((WINDOW, "window = x_padded[n, :, i * S:i * S + g.HH, j:j + g.WW]"),), ("the stride", "stride was", "stride not used")),
     None),
    (Mutation("stride applied to the loop over output positions",
              (("range(g.H_out)", "range(0, g.H_out, S)"), ("range(g.W_out)", "range(0, g.W_out, S)")),
              ("the stride", "stride was", "stride not used")), None),
    (Mutation("padding ignored", ((PAD, "x_padded = x"),), ("padding was", "padding not applied", "padding applied", "too much padding")), None),
    (Mutation("padding on every axis, np.pad(x, P)", ((PAD, "x_padded = np.pad(x, P)"),), ("padding was", "padding not applied", "padding applied", "too much padding")), None),
    (Mutation("padding halved, P // 2 zeros on each side",
              ((PAD, "x_padded = np.pad(x, ((0, 0), (0, 0), (P // 2, P // 2), (P // 2, P // 2)))"),),
              ("padding was", "padding not applied", "padding applied", "too much padding")), None),
    (Mutation("padding only at the bottom and right",
              ((PAD, "x_padded = np.pad(x, ((0, 0), (0, 0), (0, 2 * P), (0, 2 * P)))"),),
              ("one side", "top and left", "bottom and right", "shifted")),
     None),
    (Mutation("height padded, width not",
              ((PAD, "x_padded = np.pad(x, ((0, 0), (0, 0), (P, P), (0, 0)))"),), ("padding was", "padding not applied", "padding applied", "too much padding")), None),
    (Mutation("window one row and column short (off by one)",
              ((WINDOW, "window = x_padded[n, :, i * S:i * S + g.HH - 1, j * S:j * S + g.WW - 1]"),),
              ("off by one", "off-by-one", "one short", "one row short")),
     None),
    (Mutation("only the first channel summed",
              ((WINDOW, "window = x_padded[n, 0, i * S:i * S + g.HH, j * S:j * S + g.WW]"),),
              ("channel 0", "first channel", "every channel", "all channels")),
     None),
    (Mutation("mean of the products instead of their sum",
              ((SUM, "out[n, f, i, j] = np.mean(window * w[f]) + b[f]"),), ("mean", "average", "divided")),
     None),
    (Mutation("last image never computed, range(N - 1)", (("range(g.N)", "range(g.N - 1)"),),
              ("last image", "every image", "all images", "batch")),
     None),
    (Mutation("height and width loops swapped",
              (("range(g.H_out)", "range(g.W_out__)"), ("range(g.W_out)", "range(g.H_out)"),
               ("range(g.W_out__)", "range(g.W_out)")), ("swapped",)),
     None),
    (Mutation("output allocated as float64 (float32 in, float64 out)",
              ((OUT, "out = np.zeros(g.out_shape)"),), ("dtype",)), None),
    (Mutation("output allocated as integers", ((OUT, "out = np.zeros(g.out_shape, dtype=int)"),),
              ("dtype", "integer")),
     None),
    (Mutation("multiplies the window in place (x changed when P = 0)",
              ((PAD, f"x_padded = x if P == 0 else np.{PAD[len('x_padded = np.'):]}"),
               (SUM, "window *= w[f]\n                    out[n, f, i, j] = np.sum(window) + b[f]")),
              ("in place",)), None),
]


@pytest.mark.parametrize("mutation", params(CONV_FORWARD))
def test_conv_forward_check_names_the_mistake(mutation):
    forward = mutated_function(layers.conv_forward_naive, mutation.edits)
    assert_caught(quietly(lambda: check_conv_forward(forward)), mutation)


def test_conv_forward_check_passes_the_model_solution(capsys):
    check_conv_forward(mutated_function(layers.conv_forward_naive, ()))
    assert capsys.readouterr().out.startswith("OK:")


# ---------------------------------------------------------------------------
# 02-backward-check: conv_backward_naive
# ---------------------------------------------------------------------------

DX = "dx_padded[n, :, rows, cols] += dout[n, f, i, j] * w[f]"
DW = "dw[f] += dout[n, f, i, j] * x_padded[n, :, rows, cols]"
DB = "db = dout.sum(axis=(0, 2, 3))"
ROWS = "rows = slice(i * S, i * S + g.HH)"
COLS = "cols = slice(j * S, j * S + g.WW)"
CROP = "dx = dx_padded[:, :, P:P + g.H, P:P + g.W]"
DX_ZEROS = "dx_padded = np.zeros_like(x_padded, dtype=np.result_type(x, dout))"
DW_ZEROS = "dw = np.zeros_like(w, dtype=np.result_type(w, dout))"

CONV_BACKWARD = [
    (Mutation("dx assigned (=) instead of accumulated (+=)",
              ((DX, DX.replace("+=", "=")),), ("accumulate", "= instead of +=")), None),
    (Mutation("dw assigned (=) instead of accumulated (+=)",
              ((DW, DW.replace("+=", "=")),), ("accumulate", "= instead of +=")), None),
    (Mutation("db not summed over the batch", ((DB, "db = dout.sum(axis=(2, 3))"),), ("batch",)), None),
    (Mutation("db summed over the filters instead of the images", ((DB, "db = dout.sum(axis=(1, 2, 3))"),),
              ("summed over the filters", "axis=(0, 2, 3)")), None),
    (Mutation("db summed over everything (a scalar)", ((DB, "db = dout.sum()"),),
              ("shaped like b", "axis", "scalar")), None),
    (Mutation("db averaged instead of summed", ((DB, "db = dout.mean(axis=(0, 2, 3))"),),
              ("mean", "average", "divided")),
     None),
    (Mutation("dw averaged over the batch",
              ((CROP, CROP + "\n    dw /= g.N"),), ("averaged", "divided by N")), None),
    (Mutation("dw reset for every image",
              (("    for n in range(g.N):\n", f"    for n in range(g.N):\n        {DW_ZEROS}\n"),), ("batch",)),
     None),
    (Mutation("stride ignored (windows move by 1)",
              ((ROWS, "rows = slice(i, i + g.HH)"), (COLS, "cols = slice(j, j + g.WW)")), ("the stride", "stride was", "stride not used")),
     None),
    (Mutation("filter flipped in dx", ((DX, DX.replace("w[f]", "w[f, :, ::-1, ::-1]")),), ("flipped",)),
     None),
    (Mutation("dx and dw swapped (dx gets the window, dw the filter)",
              ((DX, "dx_padded[n, :, rows, cols] += dout[n, f, i, j] * x_padded[n, :, rows, cols]"),
               (DW, "dw[f] += dout[n, f, i, j] * w[f]")), ("swapped",)),
     None),
    (Mutation("dw from the unpadded x", ((DW, DW.replace("x_padded[n", "x[n")),), ("padding was", "padding not applied", "padding applied", "too much padding")), None),
    (Mutation("dx not cropped (still padded)", ((CROP, "dx = dx_padded"),), ("still has the padding",)), None),
    (Mutation("dx cropped at the top-left corner", ((CROP, "dx = dx_padded[:, :, :g.H, :g.W]"),),
              ("cropped at the wrong place",)), None),
    (Mutation("dx crop end forgets + P", ((CROP, "dx = dx_padded[:, :, P:g.H, P:g.W]"),),
              ("P:P + H", "one padding short")),
     None),
    (Mutation("dx crop with height and width swapped", ((CROP, "dx = dx_padded[:, :, P:P + g.W, P:P + g.H]"),),
              ("swapped",)),
     None),
    (Mutation("window one row and column short (off by one)",
              ((ROWS, "rows = slice(i * S, i * S + g.HH - 1)"), (COLS, "cols = slice(j * S, j * S + g.WW - 1)")),
              ("off by one", "off-by-one", "one short", "one row short")),
     None),
    (Mutation("float32 in, float64 gradients out",
              ((DX_ZEROS, "dx_padded = np.zeros_like(x_padded, dtype=np.float64)"),
               (DW_ZEROS, "dw = np.zeros_like(w, dtype=np.float64)"),
               (DB, "db = dout.sum(axis=(0, 2, 3), dtype=np.float64)")), ("dtype",)),
     None),
    (Mutation("dw aliased to w and zeroed (w changed in place)",
              ((DW_ZEROS, "dw = w\n    dw[:] = 0"),), ("in place", "alias")),
     None),
]


@pytest.mark.parametrize("mutation", params(CONV_BACKWARD))
def test_conv_backward_check_names_the_mistake(mutation):
    backward = mutated_function(layers.conv_backward_naive, mutation.edits)
    assert_caught(quietly(lambda: check_conv_backward(layers.conv_forward_naive, backward)), mutation)


def test_conv_backward_check_passes_the_model_solution(capsys):
    check_conv_backward(layers.conv_forward_naive, mutated_function(layers.conv_backward_naive, ()))
    assert capsys.readouterr().out.startswith("OK:")


# ---------------------------------------------------------------------------
# 04-forward-check: max_pool_forward_naive
# ---------------------------------------------------------------------------

PWINDOW = "window = x[n, c, i * S:i * S + g.pool_height, j * S:j * S + g.pool_width]"
PMAX = "out[n, c, i, j] = window.max()"
POUT = "out = np.zeros(g.out_shape, dtype=x.dtype)"

POOL_FORWARD = [
    (Mutation("average pooling", ((PMAX, "out[n, c, i, j] = window.mean()"),), ("average",)), None),
    (Mutation("min instead of max", ((PMAX, "out[n, c, i, j] = window.min()"),), ("minimum", "min()", "smallest")),
     None),
    (Mutation("stride ignored (windows move by 1)",
              ((PWINDOW, "window = x[n, c, i:i + g.pool_height, j:j + g.pool_width]"),),
              ("stride was ignored", "moved by 1")), None),
    (Mutation("window of stride size", ((PWINDOW, "window = x[n, c, i * S:i * S + S, j * S:j * S + S]"),),
              ("wrong size",)), None),
    (Mutation("window one short (off by one)",
              ((PWINDOW, "window = x[n, c, i * S:i * S + g.pool_height - 1, j * S:j * S + g.pool_width - 1]"),),
              ("wrong size",)), None),
    (Mutation("pool_height and pool_width swapped",
              ((PWINDOW, "window = x[n, c, i * S:i * S + g.pool_width, j * S:j * S + g.pool_height]"),),
              ("swapped",)),
     None),
    (Mutation("float32 in, float64 out", ((POUT, "out = np.zeros(g.out_shape)"),), ("dtype",)),
     None),
    (Mutation("integer output", ((POUT, "out = np.zeros(g.out_shape, dtype=int)"),), ("dtype",)), None),
    (Mutation("last channel skipped, range(C - 1)", (("range(g.C)", "range(g.C - 1)"),), ("channel",)),
     None),
    (Mutation("output size without the stride",
              ((POUT, "out = np.zeros((g.N, g.C, g.H - g.pool_height + 1, g.W - g.pool_width + 1), dtype=x.dtype)"),
               ("range(g.H_out)", "range(out.shape[2])"), ("range(g.W_out)", "range(out.shape[3])")),
              ("stride was ignored", "without the stride")),
     None),
    (Mutation("'/' instead of '//' in the output size",
              (("S = g.stride", "S = g.stride\n    H_out = 1 + (g.H - g.pool_height) / S"),
               ("range(g.H_out)", "range(H_out)")), ("//", "integer", "whole number")),
     None),
    (Mutation("max found by sorting the window in place (x changed)",
              ((PMAX, "window.sort(axis=1)\n                    window.sort(axis=0)\n"
                      "                    out[n, c, i, j] = window[-1, -1]"),), ("modified", "in place")), None),
]


@pytest.mark.parametrize("mutation", params(POOL_FORWARD))
def test_max_pool_forward_check_names_the_mistake(mutation):
    forward = mutated_function(layers.max_pool_forward_naive, mutation.edits)
    assert_caught(quietly(lambda: check_max_pool_forward(forward)), mutation)


def test_max_pool_forward_check_passes_the_model_solution(capsys):
    check_max_pool_forward(mutated_function(layers.max_pool_forward_naive, ()))
    assert capsys.readouterr().out.startswith("OK:")


# ---------------------------------------------------------------------------
# 04-backward-check: max_pool_backward_naive
# ---------------------------------------------------------------------------

ARGMAX = "a, b = np.unravel_index(np.argmax(window), window.shape)"
PDX = "dx[n, c, i * S + a, j * S + b] += dout[n, c, i, j]"
WHOLE = "dx[n, c, i * S:i * S + g.pool_height, j * S:j * S + g.pool_width]"
PDX_ZEROS = "dx = np.zeros_like(x, dtype=np.result_type(x, dout))"

POOL_BACKWARD = [
    (Mutation("= instead of +=", ((PDX, PDX.replace("+=", "=")),), ("= instead of +=",)), None),
    (Mutation("gradient sent to the whole window", ((PDX, f"{WHOLE} += dout[n, c, i, j]"),),
              ("every element",)), None),
    (Mutation("gradient spread evenly (average pooling backward)",
              ((PDX, f"{WHOLE} += dout[n, c, i, j] / (g.pool_height * g.pool_width)"),), ("evenly", "average")),
     None),
    (Mutation("gradient to every tied maximum", ((PDX, f"{WHOLE} += (window == window.max()) * dout[n, c, i, j]"),),
              ("tied",)), None),
    (Mutation("gradient to the last tied maximum",
              ((ARGMAX, "a, b = np.argwhere(window == window.max())[-1]"),), ("last",)), None),
    (Mutation("window offset forgotten, dx[n, c, a, b]", ((PDX, "dx[n, c, a, b] += dout[n, c, i, j]"),),
              ("i*S + a",)), None),
    (Mutation("stride left out of the offset, dx[n, c, i + a, j + b]",
              ((PDX, "dx[n, c, i + a, j + b] += dout[n, c, i, j]"),), ("i*S + a",)), None),
    (Mutation("argmin instead of argmax", ((ARGMAX, ARGMAX.replace("argmax", "argmin")),),
              ("argmin", "minimum", "smallest")),
     None),
    (Mutation("argmax unravelled with the shape of x", ((ARGMAX, ARGMAX.replace("window.shape", "x.shape[2:]")),),
              ("window.shape",)),
     None),
    (Mutation("argmax unravelled with divmod by pool_height",
              ((ARGMAX, "a, b = divmod(np.argmax(window), g.pool_height)"),),
              ("pool_width", "divmod", "swapped")),
     None),
    (Mutation("float32 in, float64 dx out", ((PDX_ZEROS, "dx = np.zeros_like(x, dtype=np.float64)"),), ("dtype",)),
     None),
    (Mutation("max found by subtracting it from the window in place (cached x changed)",
              ((ARGMAX, "window -= window.max()\n"
                        "                    a, b = np.unravel_index(np.argmax(window == 0), window.shape)"),),
              ("in place", "modified", "changed")),
     None),
    (Mutation("last row of windows skipped, range(H_out - 1)", (("range(g.H_out)", "range(g.H_out - 1)"),),
              ("lost", "every (n, c, i, j)")), None),
]


@pytest.mark.parametrize("mutation", params(POOL_BACKWARD))
def test_max_pool_backward_check_names_the_mistake(mutation):
    backward = mutated_function(layers.max_pool_backward_naive, mutation.edits)
    assert_caught(quietly(lambda: check_max_pool_backward(backward)), mutation)


def test_max_pool_backward_check_passes_the_model_solution(capsys):
    check_max_pool_backward(mutated_function(layers.max_pool_backward_naive, ()))
    assert capsys.readouterr().out.startswith("OK:")


# ---------------------------------------------------------------------------
# 04-im2col-shape-check: the im2col_shape answer cell
# ---------------------------------------------------------------------------

HOUT = "H_out = (H + 2 * pad - HH) // stride + 1"
WOUT = "W_out = (W + 2 * pad - WW) // stride + 1"
RET = "return (C * HH * WW, N * H_out * W_out)"

IM2COL = [
    (Mutation("'/' instead of '//'", ((HOUT, HOUT.replace("//", "/")), (WOUT, WOUT.replace("//", "/"))),
              ("//", "integer division", "whole number", "float")),
     None),
    (Mutation("rows and columns swapped", ((RET, "return (N * H_out * W_out, C * HH * WW)"),), ("swapped",)), None),
    (Mutation("columns for one image only", ((RET, "return (C * HH * WW, H_out * W_out)"),), ("one image",)), None),
    (Mutation("rows without the channels", ((RET, "return (HH * WW, N * H_out * W_out)"),), ("channels",)), None),
    (Mutation("padding forgotten", ((HOUT, HOUT.replace(" + 2 * pad", "")), (WOUT, WOUT.replace(" + 2 * pad", ""))),
              ("padding was left out",)), None),
    (Mutation("stride forgotten", ((HOUT, HOUT.replace(" // stride", "")), (WOUT, WOUT.replace(" // stride", ""))),
              ("stride was left out",)), None),
    (Mutation("forgot the + 1", ((HOUT, HOUT.replace(" + 1", "")), (WOUT, WOUT.replace(" + 1", ""))),
              ("forgot", "off by one", "missing")),
     None),
    (Mutation("padding counted once (H + pad)",
              ((HOUT, HOUT.replace("2 * pad", "pad")), (WOUT, WOUT.replace("2 * pad", "pad"))),
              ("each side", "both sides", "twice")),
     None),
    (Mutation("rows include the number of filters", ((RET, "return (F * C * HH * WW, N * H_out * W_out)"),),
              ("number of filters",)), None),
    (Mutation("width computed from the height", ((WOUT, "W_out = (H + 2 * pad - HH) // stride + 1"),),
              ("width", "height")),
     None),
]


def im2col_check(edits):
    """04-im2col-shape-check on the answer cell with ``edits``: the cell needs nothing run before it."""
    namespace = run_answer(mutate(answer_source("04_pooling_and_fast_layers", "04-im2col-shape"), edits),
                           {"np": np})
    return lambda: check_im2col_shape(namespace["im2col_shape"])


@pytest.mark.parametrize("mutation", params(IM2COL))
def test_im2col_shape_check_names_the_mistake(mutation):
    assert_caught(quietly(im2col_check(mutation.edits)), mutation)


def test_im2col_shape_check_passes_the_model_solution(capsys):
    im2col_check(())()
    assert capsys.readouterr().out.startswith("OK:")


# ---------------------------------------------------------------------------
# The suite runs what the notebooks run
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("cell", PUBLIC_CELLS, ids=[grade_id for _, grade_id in PUBLIC_CELLS])
def test_public_check_cell_is_what_this_suite_calls(cell):
    source = answer_source(*cell)
    assert HIDDEN in source or cell[1] == "04-im2col-shape-check"
    assert source.split(HIDDEN)[0].strip() == PUBLIC_CELLS[cell]


def test_at_least_the_asked_number_of_mutations():
    counts = {"conv forward": len(CONV_FORWARD), "conv backward": len(CONV_BACKWARD),
              "pool forward": len(POOL_FORWARD), "pool backward": len(POOL_BACKWARD), "im2col": len(IM2COL)}
    minimum = {"conv forward": 12, "conv backward": 12, "pool forward": 8, "pool backward": 8, "im2col": 4}
    assert all(counts[k] >= minimum[k] for k in counts), counts
    assert sum(counts.values()) >= 45
    for group in (CONV_FORWARD, CONV_BACKWARD, POOL_FORWARD, POOL_BACKWARD, IM2COL):
        names = [m.name for m, _ in group]
        assert len(names) == len(set(names)), names
