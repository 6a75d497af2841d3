"""Checks for notebook 04: max pooling (naive forward and backward) and the im2col matrix.

References, none of them the function under exercise:
- forward: ``max_pool_forward_fast`` (separable, vectorised);
- backward: the numerical gradient of ``max_pool_forward_fast`` on a case
  without ties, ``max_pool_backward_fast`` elsewhere, and a hand-made case of
  tied maxima whose gradient is written out below as literals;
- im2col shape: ``conv_geometry`` from ``cs231n_lib.shapes``.

When a result is wrong, the check recomputes what a few common mistakes would
have produced (the mean instead of the max, windows moved by one, windows of
another size, ``=`` instead of ``+=``, the gradient sent to the whole window
or to every tied maximum, ...) and names the one that matches.
"""

import itertools

import numpy as np

from cs231n_lib.checks.common import call_student, fail, passed, require_array
from cs231n_lib.fast_layers import max_pool_backward_fast, max_pool_forward_fast
from cs231n_lib.gradient_check import eval_numerical_gradient_array
from cs231n_lib.shapes import conv_geometry

LAYERS = "cs231n_lib/layers.py"
TOL = 1e-9


def _pool(size_h, size_w, stride):
    return {"pool_height": size_h, "pool_width": size_w, "stride": stride}


# (label, x shape, pool_param)
TILING = ("tiling 2x2 windows, stride 2", (2, 3, 4, 6), _pool(2, 2, 2))
OVERLAPPING = ("overlapping 3x3 windows, stride 2", (2, 2, 5, 7), _pool(3, 3, 2))
NON_SQUARE = ("overlapping 2x3 windows, stride 1", (1, 2, 4, 5), _pool(2, 3, 1))

# Tied maxima in each 2x2 window (the top-right window is all zeros, as after a ReLU).
TIES_X = np.array([[[[1.0, 3.0, 0.0, 0.0],
                     [3.0, 0.0, 0.0, 0.0],
                     [0.0, 5.0, 4.0, 0.0],
                     [1.0, 5.0, 0.0, 4.0]]]])
TIES_DOUT = np.array([[[[1.0, 2.0],
                        [3.0, 4.0]]]])
# Each window's dout goes to its first maximum in row-major order, worked out by hand.
TIES_DX = np.array([[[[0.0, 1.0, 2.0, 0.0],
                      [0.0, 0.0, 0.0, 0.0],
                      [0.0, 3.0, 4.0, 0.0],
                      [0.0, 0.0, 0.0, 0.0]]]])


def _distinct_values(shape, dtype=np.float64, seed=0):
    """Distinct values 1 apart in a random order: no ties, and safe for centred differences."""
    rng = np.random.default_rng(seed)
    size = int(np.prod(shape))
    return (rng.permutation(size) - size / 2).reshape(shape).astype(dtype)


def _close(got, expected, tol=TOL):
    got = np.asarray(got, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if got.shape != expected.shape:
        return False
    scale = max(float(np.max(np.abs(expected))), 1e-12)
    return bool(float(np.max(np.abs(got - expected))) / scale <= tol)


def _windows(x, height, width, stride, out_hw, fill=-np.inf):
    """Every pooling window: (N, C, H', W', height, width), for any window size.

    Windows that would run past the bottom or right edge are cut there, as
    numpy slicing does: the missing cells are filled with ``fill``.
    """
    H_out, W_out = out_hw
    need_h = stride * (H_out - 1) + height
    need_w = stride * (W_out - 1) + width
    pad_h, pad_w = max(0, need_h - x.shape[2]), max(0, need_w - x.shape[3])
    padded = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (0, pad_h), (0, pad_w)), constant_values=fill)
    views = np.lib.stride_tricks.sliding_window_view(padded, (height, width), axis=(2, 3))
    return views[:, :, ::stride, ::stride][:, :, :H_out, :W_out]


def _scatter(per_element, x_shape, stride):
    """Add what each window sends to each of its cells, (N, C, H', W', PH, PW), into an array shaped like x."""
    N, C, H_out, W_out, height, width = per_element.shape
    dx = np.zeros(x_shape)
    for a in range(height):
        for b in range(width):
            rows = slice(a, a + stride * (H_out - 1) + 1, stride)
            cols = slice(b, b + stride * (W_out - 1) + 1, stride)
            dx[:, :, rows, cols] += per_element[..., a, b]
    return dx


def _one_hot(windows, flat_index):
    """(N, C, H', W', PH, PW) with a 1 at flat_index (row-major within the window), 0 elsewhere."""
    height, width = windows.shape[-2:]
    hot = np.zeros(windows.shape[:4] + (height * width,))
    np.put_along_axis(hot, flat_index[..., None], 1.0, axis=-1)
    return hot.reshape(windows.shape)


def _unpack(result, name):
    if not (isinstance(result, tuple) and len(result) == 2):
        fail(f"what {name} returns", "a pair (out, cache)", type(result).__name__,
             "keep the last lines of the function: cache = (x, pool_param); return out, cache")
    return result[0]


# ---------------------------------------------------------------------------
# Forward
# ---------------------------------------------------------------------------


def _forward_mistakes(x, pool_param, out_hw):
    """(what it gives, output it would give, name, hint) for common mistakes in the forward pass."""
    PH, PW, S = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    right = _windows(x, PH, PW, S, out_hw)
    mistakes = [(
        "the mean of each window",
        right.mean(axis=(-2, -1)),
        "average pooling instead of max pooling",
        "each output is the mean of its window; max pooling keeps the largest value: window.max()",
    )]
    moved_by_one = _windows(x, PH, PW, 1, out_hw)
    mistakes.append((
        "the max of windows moved by 1 instead of S",
        moved_by_one.max(axis=(-2, -1)),
        "the stride was ignored (windows moved by 1)",
        f"output (i, j) starts at row i*S and column j*S of the input, with S = {S}: "
        "slice x[n, c, i*S:i*S + PH, j*S:j*S + PW]",
    ))
    heights = sorted({PH - 1, PH, PH + 1, S} - {0})
    widths = sorted({PW - 1, PW, PW + 1, S} - {0})
    for height, width in itertools.product(heights, widths):
        if (height, width) == (PH, PW):
            continue
        mistakes.append((
            f"the max of {height}x{width} windows",
            _windows(x, height, width, S, out_hw).max(axis=(-2, -1)),
            f"windows of the wrong size ({height}x{width} instead of {PH}x{PW})",
            f"a window is PH = {PH} rows by PW = {PW} columns, starting at (i*S, j*S): "
            "x[n, c, i*S:i*S + PH, j*S:j*S + PW]; its size does not depend on the stride",
        ))
    return mistakes


def _check_forward_case(forward, label, x_shape, pool_param, dtype):
    g_name = "max_pool_forward_naive"
    x = _distinct_values(x_shape, dtype)
    x_before = x.copy()
    result = call_student(forward, x, dict(pool_param), name=g_name, where=LAYERS)
    out = require_array(_unpack(result, g_name), f"{g_name} output ({label})",
                        "out should be a numpy array of shape (N, C, H', W')")
    what = f"{g_name} on {label}, x of shape {x_shape}, pool_param {pool_param}"
    if not np.array_equal(x, x_before):
        fail(f"{what}: the input x", "unchanged", "a modified x",
             "pooling reads x and writes only into out; do not assign into x")
    expected, _ = max_pool_forward_fast(x, pool_param)
    N, C, H, W = x_shape
    PH, PW, S = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    if out.shape != expected.shape:
        hint = (f"H' = 1 + (H - PH) / S = 1 + ({H} - {PH}) / {S} = {expected.shape[2]} and "
                f"W' = 1 + ({W} - {PW}) / {S} = {expected.shape[3]}; the geometry g computed at the "
                "top of the function has them: np.zeros(g.out_shape, dtype=x.dtype)")
        if out.shape == (N, C, H - PH + 1, W - PW + 1):
            hint = "looks like the stride was ignored (windows moved by 1). " + hint
        fail(f"{what}: output shape", expected.shape, out.shape, hint)
    if out.dtype != x.dtype:
        fail(f"{what}: output dtype", x.dtype, out.dtype,
             "keep the caller's dtype: allocate out with dtype=x.dtype")
    if _close(out, expected):
        return
    for gives, wrong, name, hint in _forward_mistakes(x, pool_param, expected.shape[2:]):
        if _close(out, wrong):
            fail(what, f"the max of each {PH}x{PW} window", gives, f"looks like {name}: {hint}")
    first = tuple(int(k) for k in np.argwhere(~np.isclose(out, expected))[0])
    fail(what, f"out{first} = {float(expected[first]):g}", f"{float(out[first]):g}",
         "out[n, c, i, j] is the max of x[n, c, i*S:i*S + PH, j*S:j*S + PW]; "
         "check the four loops (n, c, i, j) and the slice")


def check_max_pool_forward(forward, hidden=False):
    """Check a max-pooling forward pass against max_pool_forward_fast.

    Cases: windows that tile the input, then overlapping windows; with
    ``hidden=True`` also non-square windows and a float32 input.
    """
    cases = [TILING + (np.float64,), OVERLAPPING + (np.float64,)]
    kinds = "tiling and overlapping windows"
    if hidden:
        cases += [NON_SQUARE + (np.float64,), (TILING[0] + ", float32",) + TILING[1:] + (np.float32,)]
        kinds = "tiling, overlapping and non-square windows, float64 and float32"
    for label, x_shape, pool_param, dtype in cases:
        _check_forward_case(forward, label, x_shape, pool_param, dtype)
    passed(f"max_pool_forward_naive matches max_pool_forward_fast ({kinds}).")


# ---------------------------------------------------------------------------
# Backward
# ---------------------------------------------------------------------------


def _overlap_x(x_shape):
    """Distinct values, with x[..., 2, 2] the largest: the max of four overlapping 3x3 windows."""
    x = _distinct_values(x_shape, seed=1)
    x[:, :, 2, 2] = x.max() + 1.0
    return x


def _positive_dout(shape, seed=2):
    # Positive: then a lost or duplicated gradient shows in the total, sum(dx) vs sum(dout).
    return np.random.default_rng(seed).uniform(0.5, 1.5, size=shape)


def _backward_mistakes(x, pool_param, dout):
    """(what it gives, dx it would give, name, hint) for mistakes that can be recomputed exactly."""
    PH, PW, S = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    windows = _windows(x, PH, PW, S, dout.shape[2:])
    d = dout[..., None, None]
    flat = windows.reshape(windows.shape[:4] + (PH * PW,))
    last = PH * PW - 1 - np.argmax(flat[..., ::-1], axis=-1)
    is_max = windows == windows.max(axis=(-2, -1), keepdims=True)
    return [
        ("each dout sent to every element of its window",
         _scatter(np.ones_like(windows) * d, x.shape, S),
         "the gradient was sent to every element of the window",
         "only the maximum moved the output; the other elements of the window get no gradient, "
         f"so sum(dx) would be PH*PW = {PH * PW} times sum(dout)"),
        ("each dout divided by PH*PW and sent to every element of its window",
         _scatter(np.ones_like(windows) * d / (PH * PW), x.shape, S),
         "the gradient was spread evenly over the window (average pooling's backward pass)",
         "max pooling sends the whole dout[n, c, i, j] to the window's maximum, not 1/(PH*PW) of it "
         "to every element"),
        ("each dout sent to every tied maximum of its window",
         _scatter(is_max * d, x.shape, S),
         "the gradient was sent to every tied maximum",
         "when several elements share the maximum, send dout to one of them only (the library's "
         "convention: the first in row-major order, which np.argmax(window) returns); giving the full "
         "dout to each of k tied elements multiplies the gradient by k"),
        ("each dout sent to the last tied maximum of its window",
         _scatter(_one_hot(windows, last) * d, x.shape, S),
         "the gradient went to the last tied maximum instead of the first",
         "the library's convention is the first maximum in row-major order, as "
         "np.unravel_index(np.argmax(window), window.shape) gives; a comparison with >= in a loop "
         "keeps the last one"),
    ]


def _check_backward_case(backward, label, x, pool_param, dout, expected, reference):
    name = "max_pool_backward_naive"
    cache = (x.copy(), dict(pool_param))
    what = f"{name} on {label}, x of shape {x.shape}, pool_param {pool_param}"
    dx = require_array(call_student(backward, dout.copy(), cache, name=name, where=LAYERS),
                       f"{name} result ({label})", "return dx, a numpy array shaped like x")
    if dx.shape != x.shape:
        fail(f"{what}: dx shape", x.shape, dx.shape, "dx has the shape of x: np.zeros_like(x)")
    if _close(dx, expected):
        return
    total, total_dout = float(np.sum(dx)), float(np.sum(dout))
    sums = f"sum(dx) = {total:.4f}, sum(dout) = {total_dout:.4f}"
    for gives, wrong, mistake, hint in _backward_mistakes(x, pool_param, dout):
        if _close(dx, wrong):
            fail(what, f"the same dx as {reference}", f"{gives} ({sums})", f"looks like {mistake}: {hint}")
    # How many windows picked each input as their maximum: more than one only where windows overlap.
    picked = max_pool_backward_fast(np.ones_like(dout), max_pool_forward_fast(x, pool_param)[1])
    shared = picked > 1
    if (shared.any() and _close(np.where(shared, 0.0, dx), np.where(shared, 0.0, expected))
            and np.all(dx[shared] < expected[shared] - 1e-12) and total < total_dout):
        fail(what, f"the same dx as {reference} (the gradient adds up: sum(dx) = sum(dout) = {total_dout:.4f})",
             f"dx too small where one input is the maximum of several windows ({sums})",
             "looks like = instead of += : with overlapping windows one input can be the maximum of "
             "several windows, and each of them sends it a gradient; accumulate with "
             "dx[...] += dout[n, c, i, j]")
    if total < total_dout - 1e-9:
        hint = ("some windows' gradient is lost: check that the loops visit every (n, c, i, j) "
                "and that you accumulate with +=")
    elif total > total_dout + 1e-9:
        hint = "more gradient came out than went in: each dout[n, c, i, j] goes to one element only"
    else:
        hint = ("the gradient adds up but lands on the wrong elements: the maximum of window (i, j) "
                "is at x[n, c, i*S + a, j*S + b] where (a, b) = np.unravel_index(np.argmax(window), "
                "window.shape)")
    first = tuple(int(k) for k in np.argwhere(~np.isclose(dx, expected))[0])
    fail(what, f"dx{first} = {float(expected[first]):g} (from {reference})",
         f"{float(dx[first]):g} ({sums})", hint)


def check_max_pool_backward(backward, hidden=False):
    """Check a max-pooling backward pass.

    Cases: tiling windows (against max_pool_backward_fast), overlapping
    windows whose maxima are shared (against the numerical gradient), tied
    maxima (against a gradient worked out by hand); with ``hidden=True`` also
    non-square overlapping windows.
    """
    label, shape, pool_param = TILING
    x = _distinct_values(shape, seed=3)
    out, fast_cache = max_pool_forward_fast(x, pool_param)
    dout = _positive_dout(out.shape)
    _check_backward_case(backward, label, x, pool_param, dout,
                         max_pool_backward_fast(dout, fast_cache), "max_pool_backward_fast")

    label, shape, pool_param = OVERLAPPING
    x = _overlap_x(shape)
    out, _ = max_pool_forward_fast(x, pool_param)
    dout = _positive_dout(out.shape)
    # Max pooling is linear between ties and the values are 1 apart: a step of 1e-3 crosses no tie.
    numerical = eval_numerical_gradient_array(
        lambda v: max_pool_forward_fast(v, pool_param)[0], x.copy(), dout, h=1e-3)
    _check_backward_case(backward, label, x, pool_param, dout, numerical, "the numerical gradient")

    _check_backward_case(backward, "tied maxima in 2x2 windows, stride 2", TIES_X.copy(), _pool(2, 2, 2),
                         TIES_DOUT.copy(), TIES_DX,
                         "the answer worked out by hand (each dout to the first maximum of its window)")
    labels = "tiling, overlapping, tied maxima"
    if hidden:
        label, shape, pool_param = NON_SQUARE
        x = _distinct_values(shape, seed=4)
        out, fast_cache = max_pool_forward_fast(x, pool_param)
        dout = _positive_dout(out.shape, seed=5)
        _check_backward_case(backward, label, x, pool_param, dout,
                             max_pool_backward_fast(dout, fast_cache), "max_pool_backward_fast")
        labels += ", non-square"
    passed(f"max_pool_backward_naive gives the right gradient ({labels}).")


# ---------------------------------------------------------------------------
# im2col
# ---------------------------------------------------------------------------

IM2COL_CASES = [
    # (x_shape, w_shape, stride, pad)
    ((2, 3, 32, 32), (16, 3, 5, 5), 1, 2),
    ((5, 2, 9, 7), (4, 2, 3, 3), 2, 1),
    ((1, 1, 4, 4), (1, 1, 3, 3), 1, 0),
]


def _im2col_mistakes(g):
    rows, cols = g.C * g.HH * g.WW, g.N * g.H_out * g.W_out
    H0 = (g.H - g.HH) // g.stride + 1
    W0 = (g.W - g.WW) // g.stride + 1
    return [
        ((cols, rows), "rows and columns are swapped",
         "one row per filter weight (C*HH*WW rows) and one column per receptive field, so that "
         "w.reshape(F, -1) @ cols multiplies (F, C*HH*WW) by (C*HH*WW, columns)"),
        ((rows, g.H_out * g.W_out), "the columns count one image only",
         "the receptive fields of all N images sit side by side: N * H' * W' columns"),
        ((g.HH * g.WW, cols), "the rows leave out the channels",
         "a filter spans all C input channels, so a receptive field holds C * HH * WW numbers"),
        ((rows, g.N * H0 * W0), "the padding was left out of H' and W'",
         "H' = (H + 2P - HH) / S + 1 and W' = (W + 2P - WW) / S + 1"),
        ((rows, g.N * (g.H + 2 * g.pad - g.HH + 1) * (g.W + 2 * g.pad - g.WW + 1)),
         "the stride was left out of H' and W'",
         "H' = (H + 2P - HH) / S + 1: with stride S the filter visits every S-th position"),
        ((g.F * rows, cols), "the rows include the number of filters",
         "the filters live in w, not in the im2col matrix: its rows are C * HH * WW"),
    ]


def check_im2col_shape(im2col_shape):
    """Check im2col_shape(x_shape, w_shape, stride, pad) -> (rows, columns) on a few layers."""
    for x_shape, w_shape, stride, pad in IM2COL_CASES:
        got = call_student(im2col_shape, x_shape, w_shape, stride, pad, name="im2col_shape")
        g = conv_geometry(x_shape, w_shape, {"stride": stride, "pad": pad})
        expected = (g.C * g.HH * g.WW, g.N * g.H_out * g.W_out)
        what = f"im2col_shape({x_shape}, {w_shape}, stride={stride}, pad={pad})"
        try:
            if isinstance(got, (str, bytes)) or len(got) != 2:
                raise TypeError
            got_pair = tuple(int(v) for v in got)
        except (TypeError, ValueError):
            fail(what, f"a pair of whole numbers like {expected}", repr(got),
                 "return (rows, columns) as a tuple of ints")
        if got_pair == expected:
            continue
        for wrong, mistake, hint in _im2col_mistakes(g):
            if got_pair == wrong:
                fail(what, expected, got_pair, f"looks like {mistake}: {hint}")
        fail(what, expected, got_pair,
             "rows: C * HH * WW (one per filter weight); columns: N * H' * W' (one per output "
             "position of every image), with H' = (H + 2P - HH) / S + 1")
    passed("im2col_shape gives (C*HH*WW, N*H'*W') for every layer tried.")
