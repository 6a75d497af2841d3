"""Tests for cs231n_lib.checks.pooling, the check cells of notebook 04.

Each check must pass on the library's own layers, name each common mistake
when it is fed a deliberately mistaken implementation written here, and say
"is not implemented yet" for a function that raises NotImplementedError.
"""

import re

import numpy as np
import pytest

from cs231n_lib.checks.common import NOT_IMPLEMENTED
from cs231n_lib.checks.pooling import (
    TIES_DOUT,
    TIES_DX,
    TIES_X,
    check_im2col_shape,
    check_max_pool_backward,
    check_max_pool_forward,
)
from cs231n_lib.fast_layers import max_pool_backward_fast, max_pool_forward_fast
from cs231n_lib.layers import max_pool_backward_naive, max_pool_forward_naive
from cs231n_lib.shapes import conv_geometry, pool_geometry

TIES_POOL = {"pool_height": 2, "pool_width": 2, "stride": 2}


def not_implemented(*args, **kwargs):
    raise NotImplementedError()


# ---------------------------------------------------------------------------
# The reference data and the correct layers
# ---------------------------------------------------------------------------


def test_hand_worked_tie_gradient_matches_both_library_layers():
    for forward, backward in ((max_pool_forward_naive, max_pool_backward_naive),
                              (max_pool_forward_fast, max_pool_backward_fast)):
        _, cache = forward(TIES_X, TIES_POOL)
        np.testing.assert_array_equal(backward(TIES_DOUT, cache), TIES_DX)


def test_forward_check_passes_on_the_library_layer(capsys):
    check_max_pool_forward(max_pool_forward_naive)
    assert capsys.readouterr().out.startswith("OK: max_pool_forward_naive")


def test_backward_check_passes_on_the_library_layer(capsys):
    check_max_pool_backward(max_pool_backward_naive)
    assert capsys.readouterr().out.startswith("OK: max_pool_backward_naive")


def test_backward_check_also_passes_on_the_fast_layer(capsys):
    # Its cache differs, so wrap it: the check hands over the naive cache (x, pool_param).
    def backward(dout, cache):
        x, pool_param = cache
        return max_pool_backward_fast(dout, max_pool_forward_fast(x, pool_param)[1])

    check_max_pool_backward(backward)
    assert capsys.readouterr().out.startswith("OK:")


# ---------------------------------------------------------------------------
# Forward mistakes
# ---------------------------------------------------------------------------


def forward_with(reduce=np.max, step=None, window=None, out_shape=None, dtype=None):
    """A loop forward pass with one knob turned: the reduction, the window step, the window size."""

    def forward(x, pool_param):
        g = pool_geometry(x.shape, pool_param)
        S = g.stride if step is None else step
        PH, PW = (g.pool_height, g.pool_width) if window is None else window(g)
        shape = g.out_shape if out_shape is None else out_shape(g)
        out = np.zeros(shape, dtype=x.dtype if dtype is None else dtype)
        for n, c, i, j in np.ndindex(shape):
            out[n, c, i, j] = reduce(x[n, c, i * S:i * S + PH, j * S:j * S + PW])
        return out, (x, pool_param)

    return forward


def stride_one_shape(g):
    return (g.N, g.C, g.H - g.pool_height + 1, g.W - g.pool_width + 1)


def only_first_channel(x, pool_param):
    out, cache = max_pool_forward_naive(x, pool_param)
    out[:, 1:] = 0.0
    return out, cache


def doubled(x, pool_param):
    out, cache = max_pool_forward_naive(x, pool_param)
    return 2 * out, cache


def overwrites_x(x, pool_param):
    out, cache = max_pool_forward_naive(x, pool_param)
    x[...] = 0.0
    return out, cache


def returns_out_only(x, pool_param):
    return max_pool_forward_naive(x, pool_param)[0]


FORWARD_MISTAKES = {
    "average": (forward_with(reduce=np.mean), False, "average pooling instead of max pooling"),
    "stride ignored": (forward_with(step=1), False, "the stride was ignored (windows moved by 1)"),
    "stride ignored, stride-1 shape": (forward_with(step=1, out_shape=stride_one_shape), False,
                                       "looks like the stride was ignored"),
    "window S x S": (forward_with(window=lambda g: (g.stride, g.stride)), False,
                     "windows of the wrong size (S by S instead of PH by PW)"),
    "window one too large": (forward_with(window=lambda g: (g.pool_height + 1, g.pool_width + 1)), False,
                             "windows of the wrong size (one row and one column too many)"),
    "window one too small": (forward_with(window=lambda g: (g.pool_height - 1, g.pool_width - 1)), False,
                             "windows of the wrong size (one row and one column short)"),
    "float64 output": (forward_with(dtype=np.float64), True, "keep the caller's dtype"),
    "x overwritten": (overwrites_x, False, "do not assign into x"),
    "out only": (returns_out_only, False, "a pair (out, cache)"),
    "only the first channel": (only_first_channel, False, "the last channel was never computed"),
    "unknown": (doubled, False, "check the four loops"),
}


@pytest.mark.parametrize("mistake", FORWARD_MISTAKES)
def test_forward_check_names_the_mistake(mistake):
    forward, _, diagnosis = FORWARD_MISTAKES[mistake]
    with pytest.raises(AssertionError) as info:
        check_max_pool_forward(forward)
    message = str(info.value)
    assert diagnosis in message, message
    assert "expected" in message and "Hint:" in message


def test_forward_window_of_stride_size_passes_tiling_but_not_overlapping():
    with pytest.raises(AssertionError, match="overlapping 3x3 windows"):
        check_max_pool_forward(forward_with(window=lambda g: (g.stride, g.stride)))


# ---------------------------------------------------------------------------
# Backward mistakes
# ---------------------------------------------------------------------------


def backward_with(route, assign=False, rows=None, forget_stride=False):
    """A loop backward pass; route(window) -> (PH, PW) array of weights for dout in that window."""

    def backward(dout, cache):
        x, pool_param = cache
        g = pool_geometry(x.shape, pool_param)
        S = 1 if forget_stride else g.stride
        dx = np.zeros_like(x)
        H_out = g.H_out if rows is None else rows(g)
        for n, c, i, j in np.ndindex(g.N, g.C, H_out, g.W_out):
            top, left = i * g.stride, j * g.stride
            window = x[n, c, top:top + g.pool_height, left:left + g.pool_width]
            share = route(window) * dout[n, c, i, j]
            target = dx[n, c, i * S:i * S + g.pool_height, j * S:j * S + g.pool_width]
            if assign:
                target[share != 0] = share[share != 0]
            else:
                target += share
        return dx

    return backward


def first_max(window):
    hot = np.zeros_like(window)
    hot[np.unravel_index(np.argmax(window), window.shape)] = 1.0
    return hot


def last_max(window):
    flipped = window[::-1, ::-1]
    hot = np.zeros_like(window)
    a, b = np.unravel_index(np.argmax(flipped), window.shape)
    hot[window.shape[0] - 1 - a, window.shape[1] - 1 - b] = 1.0
    return hot


def every_tied_max(window):
    return (window == window.max()).astype(window.dtype)


def everywhere(window):
    return np.ones_like(window)


def evenly(window):
    return np.full_like(window, 1.0 / window.size)


def dx_shaped_like_dout(dout, cache):
    return np.zeros_like(dout)


BACKWARD_MISTAKES = {
    "= instead of +=": (backward_with(first_max, assign=True), "= instead of +="),
    "every element": (backward_with(everywhere), "sent to every element of the window"),
    "every element, assigned": (backward_with(everywhere, assign=True), "sent to every element of the window"),
    "spread evenly": (backward_with(evenly), "spread evenly over the window"),
    "every tied maximum": (backward_with(every_tied_max), "sent to every tied maximum"),
    "last tied maximum": (backward_with(last_max), "the last tied maximum instead of the first"),
    "windows skipped": (backward_with(first_max, rows=lambda g: g.H_out - 1), "gradient is lost"),
    "stride forgotten": (backward_with(first_max, forget_stride=True), "the stride was left out of the offset"),
    "dx shaped like dout": (dx_shaped_like_dout, "dx shape"),
}


@pytest.mark.parametrize("mistake", BACKWARD_MISTAKES)
def test_backward_check_names_the_mistake(mistake):
    backward, diagnosis = BACKWARD_MISTAKES[mistake]
    with pytest.raises(AssertionError) as info:
        check_max_pool_backward(backward)
    message = str(info.value)
    assert diagnosis in message, message
    assert "expected" in message and "Hint:" in message


def test_the_mistaken_backward_helper_is_right_with_its_knobs_untouched(capsys):
    check_max_pool_backward(backward_with(first_max))
    assert capsys.readouterr().out.startswith("OK:")


def test_assign_passes_tiling_and_loses_mass_with_overlapping_windows():
    with pytest.raises(AssertionError) as info:
        check_max_pool_backward(backward_with(first_max, assign=True))
    message = str(info.value)
    assert "overlapping 3x3 windows" in message
    # The message quotes the lost mass: sum(dx) < sum(dout).
    sums = re.search(r"sum\(dx\) = ([\d.]+), sum\(dout\) = ([\d.]+)", message)
    assert sums is not None, message
    assert float(sums.group(1)) < float(sums.group(2))


def test_every_tied_maximum_passes_until_the_tie_case():
    with pytest.raises(AssertionError, match="tied maxima in 2x2 windows"):
        check_max_pool_backward(backward_with(every_tied_max))


# ---------------------------------------------------------------------------
# im2col shape
# ---------------------------------------------------------------------------


def output_size(n, f, stride, pad):
    return (n + 2 * pad - f) // stride + 1


def im2col_shape_with(mistake=None):
    def im2col_shape(x_shape, w_shape, stride, pad):
        N, C, H, W = x_shape
        F, _, HH, WW = w_shape
        H_out, W_out = output_size(H, HH, stride, pad), output_size(W, WW, stride, pad)
        rows, cols = C * HH * WW, N * H_out * W_out
        if mistake == "swapped":
            return cols, rows
        if mistake == "one image":
            return rows, H_out * W_out
        if mistake == "no channels":
            return HH * WW, cols
        if mistake == "no pad":
            return rows, N * output_size(H, HH, stride, 0) * output_size(W, WW, stride, 0)
        if mistake == "no stride":
            return rows, N * output_size(H, HH, 1, pad) * output_size(W, WW, 1, pad)
        if mistake == "filters in rows":
            return F * rows, cols
        if mistake == "not a pair":
            return f"{rows} x {cols}"
        if mistake == "unknown":
            return rows + 1, cols
        return rows, cols

    return im2col_shape


def test_im2col_check_passes_on_a_correct_answer(capsys):
    check_im2col_shape(im2col_shape_with())
    assert capsys.readouterr().out.startswith("OK: im2col_shape")


def test_im2col_check_accepts_a_list_and_numpy_ints(capsys):
    check_im2col_shape(lambda *args: [np.int64(v) for v in im2col_shape_with()(*args)])
    assert capsys.readouterr().out.startswith("OK:")


@pytest.mark.parametrize("mistake, diagnosis", [
    ("swapped", "rows and columns are swapped"),
    ("one image", "the columns count one image only"),
    ("no channels", "the rows leave out the channels"),
    ("no pad", "the padding was left out"),
    ("no stride", "the stride was left out"),
    ("filters in rows", "the rows include the number of filters"),
    ("not a pair", "a pair of whole numbers"),
    ("unknown", "rows: C * HH * WW"),
])
def test_im2col_check_names_the_mistake(mistake, diagnosis):
    with pytest.raises(AssertionError) as info:
        check_im2col_shape(im2col_shape_with(mistake))
    assert diagnosis in str(info.value), str(info.value)


# ---------------------------------------------------------------------------
# Not implemented yet
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("check, where", [
    (check_max_pool_forward, "cs231n_lib/layers.py"),
    (check_max_pool_backward, "cs231n_lib/layers.py"),
    (check_im2col_shape, "the cell above"),
])
def test_an_unwritten_function_is_reported_as_not_implemented(check, where):
    with pytest.raises(AssertionError) as info:
        check(not_implemented)
    assert NOT_IMPLEMENTED in str(info.value)
    assert where in str(info.value)
# ---------------------------------------------------------------------------
# The literals of cs231n_lib.checks.pooling, recomputed here from the library's
# layers (the reference) and from mutants of them (the named mistakes)
# ---------------------------------------------------------------------------

from mutation_harness import mutated_function  # noqa: E402

from cs231n_lib.checks import pooling  # noqa: E402
from cs231n_lib.checks.common import answer_digest  # noqa: E402

PWINDOW = "window = x[n, c, i * S:i * S + g.pool_height, j * S:j * S + g.pool_width]"
PMAX = "out[n, c, i, j] = window.max()"
FORWARD_MUTANTS = {
    "mean": ((PMAX, "out[n, c, i, j] = window.mean()"),),
    "min": ((PMAX, "out[n, c, i, j] = window.min()"),),
    "stride ignored": ((PWINDOW, "window = x[n, c, i:i + g.pool_height, j:j + g.pool_width]"),),
    "stride-size window": ((PWINDOW, "window = x[n, c, i * S:i * S + S, j * S:j * S + S]"),),
    "window one short": ((PWINDOW, "window = x[n, c, i * S:i * S + g.pool_height - 1, j * S:j * S + g.pool_width - 1]"),),
    "window one too large": ((PWINDOW, "window = x[n, c, i * S:i * S + g.pool_height + 1, j * S:j * S + g.pool_width + 1]"),),
    "pool sizes swapped": ((PWINDOW, "window = x[n, c, i * S:i * S + g.pool_width, j * S:j * S + g.pool_height]"),),
    "last channel skipped": (("range(g.C)", "range(g.C - 1)"),),
}
ARGMAX = "a, b = np.unravel_index(np.argmax(window), window.shape)"
PDX = "dx[n, c, i * S + a, j * S + b] += dout[n, c, i, j]"
WHOLE = "dx[n, c, i * S:i * S + g.pool_height, j * S:j * S + g.pool_width]"
BACKWARD_MUTANTS = {
    "assigned": ((PDX, PDX.replace("+=", "=")),),
    "every element": ((PDX, f"{WHOLE} += dout[n, c, i, j]"),),
    "evenly": ((PDX, f"{WHOLE} += dout[n, c, i, j] / (g.pool_height * g.pool_width)"),),
    "every tied maximum": ((PDX, f"{WHOLE} += (window == window.max()) * dout[n, c, i, j]"),),
    "last tied maximum": ((ARGMAX, "a, b = np.argwhere(window == window.max())[-1]"),),
    "offset forgotten": ((PDX, "dx[n, c, a, b] += dout[n, c, i, j]"),),
    "stride left out of the offset": ((PDX, "dx[n, c, i + a, j + b] += dout[n, c, i, j]"),),
    "argmin": ((ARGMAX, ARGMAX.replace("argmax", "argmin")),),
    "divmod by pool_height": ((ARGMAX, "a, b = divmod(np.argmax(window), g.pool_height)"),),
}


def _outputs(function, *args):
    """function(*args) or None when it raises (a crash is explained by the check, not by a table)."""
    try:
        with np.errstate(all="ignore"):
            return function(*args)
    except (IndexError, ValueError, TypeError):
        return None


def forward_tables():
    """(expected outputs, mistakes) as the module stores them, from the library layer and its mutants."""
    expected, mistakes = {}, {}
    for label, x_shape, pool_param, dtype, k in pooling.FORWARD_CASES:
        x = pooling.fixed_values(x_shape, k, dtype)
        right = max_pool_forward_naive(x, dict(pool_param))[0]
        np.testing.assert_array_equal(right, max_pool_forward_fast(x, dict(pool_param))[0])
        expected[label] = right.tolist()
        table = {}
        for key, edits in FORWARD_MUTANTS.items():
            result = _outputs(mutated_function(max_pool_forward_naive, edits), x.copy(), dict(pool_param))
            if result is None or np.shape(result[0]) != right.shape or np.array_equal(result[0], right):
                continue
            table.setdefault(answer_digest(result[0], tag=label), key)
        mistakes[label] = table
    return expected, mistakes


def backward_tables():
    expected, mistakes = {}, {}
    for label, x, pool_param, dout in pooling.backward_cases():
        right = max_pool_backward_naive(dout, (x, dict(pool_param)))
        fast = max_pool_backward_fast(dout, max_pool_forward_fast(x, dict(pool_param))[1])
        np.testing.assert_array_equal(right, fast)
        expected[label] = right.tolist()
        table = {}
        for key, edits in BACKWARD_MUTANTS.items():
            dx = _outputs(mutated_function(max_pool_backward_naive, edits), dout.copy(), (x.copy(), dict(pool_param)))
            if dx is None or np.shape(dx) != right.shape or np.array_equal(dx, right):
                continue
            table.setdefault(answer_digest(dx, tag=label), key)
        mistakes[label] = table
    return expected, mistakes


def im2col_reference(x_shape, w_shape, stride, pad, mistake=None):
    N, C, H, W = x_shape
    F, _, HH, WW = w_shape
    H_out, W_out = output_size(H, HH, stride, pad), output_size(W, WW, stride, pad)
    rows, cols = C * HH * WW, N * H_out * W_out
    return {
        None: (rows, cols),
        "swapped": (cols, rows),
        "one image": (rows, H_out * W_out),
        "no channels": (HH * WW, cols),
        "no pad": (rows, N * output_size(H, HH, stride, 0) * output_size(W, WW, stride, 0)),
        "no stride": (rows, N * output_size(H, HH, 1, pad) * output_size(W, WW, 1, pad)),
        "filters in rows": (F * rows, cols),
        "no + 1": (rows, N * (output_size(H, HH, stride, pad) - 1) * (output_size(W, WW, stride, pad) - 1)),
        "pad once": (rows, N * ((H + pad - HH) // stride + 1) * ((W + pad - WW) // stride + 1)),
        "width from height": (rows, N * H_out * H_out),
    }[mistake]


IM2COL_MISTAKE_KEYS = ["swapped", "one image", "no channels", "no pad", "no stride", "filters in rows",
                       "no + 1", "pad once", "width from height"]


def im2col_tables():
    expected, mistakes = [], []
    for index, (x_shape, w_shape, stride, pad) in enumerate(pooling.IM2COL_CASES):
        g = conv_geometry(x_shape, w_shape, {"stride": stride, "pad": pad})
        right = im2col_reference(x_shape, w_shape, stride, pad)
        assert right == (g.C * g.HH * g.WW, g.N * g.H_out * g.W_out)
        tag = f"im2col {index}"
        expected.append(answer_digest(right, tag=tag))
        table = {}
        for key in IM2COL_MISTAKE_KEYS:
            wrong = im2col_reference(x_shape, w_shape, stride, pad, key)
            if wrong != right:
                table.setdefault(answer_digest(wrong, tag=tag), key)
        mistakes.append(table)
    return expected, mistakes


def test_forward_literals_are_the_library_layer_and_its_mutants():
    expected, mistakes = forward_tables()
    assert expected == pooling.FORWARD_OUT
    assert mistakes == pooling.FORWARD_MISTAKES


def test_backward_literals_are_the_library_layer_and_its_mutants():
    expected, mistakes = backward_tables()
    assert expected == pooling.BACKWARD_DX
    assert mistakes == pooling.BACKWARD_MISTAKES


def test_im2col_digests_are_the_formula_and_its_mistakes():
    expected, mistakes = im2col_tables()
    assert expected == pooling.IM2COL_EXPECTED
    assert mistakes == pooling.IM2COL_MISTAKES


def test_every_named_mistake_has_a_message():
    for table in list(pooling.FORWARD_MISTAKES.values()):
        assert set(table.values()) <= set(pooling.FORWARD_MESSAGES)
    for table in list(pooling.BACKWARD_MISTAKES.values()):
        assert set(table.values()) <= set(pooling.BACKWARD_MESSAGES)
    for table in pooling.IM2COL_MISTAKES:
        assert set(table.values()) <= set(pooling.IM2COL_MESSAGES)


def test_fixed_values_are_distinct():
    for label, x_shape, _pool_param, dtype, k in pooling.FORWARD_CASES:
        x = pooling.fixed_values(x_shape, k, dtype)
        assert len(np.unique(x)) == x.size, label


def test_public_cases_cover_what_the_hidden_tests_check():
    params = [p for _, _, p, _, _ in pooling.FORWARD_CASES]
    assert any(p["pool_height"] != p["pool_width"] for p in params)
    assert any(p["stride"] == 3 for p in params)
    assert any(dtype == np.float32 for *_, dtype, _ in pooling.FORWARD_CASES)
    assert any(x.dtype == np.float32 for _, x, _, _ in pooling.backward_cases())
    assert any(p["pool_height"] != p["pool_width"] for _, _, p, _ in pooling.backward_cases())


def test_im2col_check_wants_ints_and_never_prints_the_answer():
    def with_slash(x_shape, w_shape, stride, pad):
        rows, cols = im2col_shape_with()(x_shape, w_shape, stride, pad)
        return rows, float(cols)

    with pytest.raises(AssertionError, match="integer division //"):
        check_im2col_shape(with_slash)
    with pytest.raises(AssertionError) as info:
        check_im2col_shape(im2col_shape_with("unknown"))
    assert "(76, 2048)" in str(info.value) and "(75, 2048)" not in str(info.value)


def test_float32_gradient_must_stay_float32():
    def float64_dx(dout, cache):
        return max_pool_backward_naive(dout, cache).astype(np.float64)

    with pytest.raises(AssertionError, match="dx dtype"):
        check_max_pool_backward(float64_dx)


def test_cached_x_changed_in_place_is_reported():
    def clobbers(dout, cache):
        dx = max_pool_backward_naive(dout, cache)
        cache[0][...] = 0.0
        return dx

    with pytest.raises(AssertionError, match="changed in place"):
        check_max_pool_backward(clobbers)
