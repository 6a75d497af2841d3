"""Tests for cs231n_lib.checks.conv, the checks of notebook 02.

Each named mistake is written out below as a small wrong implementation of
the layer, fed to the check, and the test asserts the check names it.
"""

import functools

import numpy as np
import pytest
from mutation_harness import mutated_function

from cs231n_lib.checks import conv
from cs231n_lib.checks.common import answer_digest
from cs231n_lib.checks.conv import check_conv_backward, check_conv_forward
from cs231n_lib.fast_layers import conv_backward_fast, conv_forward_fast
from cs231n_lib.layers import conv_backward_naive, conv_forward_naive


def sizes(x, w, conv_param):
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    return N, C, H, W, F, HH, WW, conv_param["stride"], conv_param["pad"]


def pad_hw(x, P):
    return np.pad(x, ((0, 0), (0, 0), (P, P), (P, P)))


def slide(x_padded, w, b, S, out_shape, *, start=lambda i, S: i * S, step=1, channel_loop=False,
          bias=1, dtype=None, images=None):
    """The forward loops over out_shape, with switches for the mistakes below."""
    F, C, HH, WW = w.shape
    out = np.zeros(out_shape, dtype=dtype or np.result_type(x_padded, w, b))
    for n in range(images if images is not None else out_shape[0]):
        for f in range(F):
            for i in range(0, out_shape[2], step):
                for j in range(0, out_shape[3], step):
                    r, c = start(i, S), start(j, S)
                    if channel_loop:
                        value = sum(np.sum(x_padded[n, ch, r:r + HH, c:c + WW] * w[f, ch]) for ch in range(C))
                    else:
                        value = np.sum(x_padded[n, :, r:r + HH, c:c + WW] * w[f])
                    out[n, f, i, j] = value + bias * b[f]
    return out


def out_size(n, k, S, P):
    return (n + 2 * P - k) // S + 1


def correct_shape(x, w, conv_param):
    N, C, H, W, F, HH, WW, S, P = sizes(x, w, conv_param)
    return (N, F, out_size(H, HH, S, P), out_size(W, WW, S, P))


# ---------------------------------------------------------------------------
# Forward: a correct loop implementation and mistaken ones
# ---------------------------------------------------------------------------


def forward_ok(x, w, b, conv_param):
    S, P = conv_param["stride"], conv_param["pad"]
    return slide(pad_hw(x, P), w, b, S, correct_shape(x, w, conv_param)), (x, w, b, conv_param)


def forward_without_bias(x, w, b, conv_param):
    S, P = conv_param["stride"], conv_param["pad"]
    return slide(pad_hw(x, P), w, b, S, correct_shape(x, w, conv_param), bias=0), (x, w, b, conv_param)


def forward_bias_twice(x, w, b, conv_param):
    S, P = conv_param["stride"], conv_param["pad"]
    return slide(pad_hw(x, P), w, b, S, correct_shape(x, w, conv_param), bias=2), (x, w, b, conv_param)


def forward_unpadded(x, w, b, conv_param):
    """No padding anywhere: output size from the unpadded input."""
    N, C, H, W, F, HH, WW, S, P = sizes(x, w, conv_param)
    shape = (N, F, out_size(H, HH, S, 0), out_size(W, WW, S, 0))
    return slide(x, w, b, S, shape), (x, w, b, conv_param)


def forward_unpadded_right_size(x, w, b, conv_param):
    """No padding, but the output size from the formula: the border windows are cut short."""
    return slide(x, w, b, conv_param["stride"], correct_shape(x, w, conv_param)), (x, w, b, conv_param)


def forward_pads_every_axis(x, w, b, conv_param):
    """np.pad(x, P) pads N and C too; the window then has C + 2P channels."""
    S, P = conv_param["stride"], conv_param["pad"]
    return slide(np.pad(x, P), w, b, S, correct_shape(x, w, conv_param)), (x, w, b, conv_param)


def forward_batch_padded_shape(x, w, b, conv_param):
    """N, H and W padded, and the number of images read from x_padded.shape."""
    N, C, H, W, F, HH, WW, S, P = sizes(x, w, conv_param)
    x_padded = np.pad(x, ((P, P), (0, 0), (P, P), (P, P)))
    shape = (x_padded.shape[0],) + correct_shape(x, w, conv_param)[1:]
    return slide(x_padded, w, b, S, shape), (x, w, b, conv_param)


def forward_batch_padded_values(x, w, b, conv_param):
    """N, H and W padded, looping over range(N): image n reads x[n - P]."""
    S, P = conv_param["stride"], conv_param["pad"]
    x_padded = np.pad(x, ((P, P), (0, 0), (P, P), (P, P)))
    return slide(x_padded, w, b, S, correct_shape(x, w, conv_param)), (x, w, b, conv_param)


def forward_channels_padded_values(x, w, b, conv_param):
    """C, H and W padded, looping over the channels one by one: channel c reads x[:, c - P]."""
    S, P = conv_param["stride"], conv_param["pad"]
    x_padded = np.pad(x, ((0, 0), (P, P), (P, P), (P, P)))
    return (slide(x_padded, w, b, S, correct_shape(x, w, conv_param), channel_loop=True),
            (x, w, b, conv_param))


def forward_stride_on_output(x, w, b, conv_param):
    """Window (i, j) starts at row i, column j: the stride only sets the output size."""
    S, P = conv_param["stride"], conv_param["pad"]
    return (slide(pad_hw(x, P), w, b, S, correct_shape(x, w, conv_param), start=lambda i, S: i),
            (x, w, b, conv_param))


def forward_stride_ignored(x, w, b, conv_param):
    N, C, H, W, F, HH, WW, S, P = sizes(x, w, conv_param)
    shape = (N, F, out_size(H, HH, 1, P), out_size(W, WW, 1, P))
    return slide(pad_hw(x, P), w, b, 1, shape), (x, w, b, conv_param)


def forward_stride_in_output_loop(x, w, b, conv_param):
    """for i in range(0, H_out, S): the positions in between stay 0."""
    S, P = conv_param["stride"], conv_param["pad"]
    return (slide(pad_hw(x, P), w, b, S, correct_shape(x, w, conv_param), step=S),
            (x, w, b, conv_param))


def forward_flipped(x, w, b, conv_param):
    return forward_ok(x, w[:, :, ::-1, ::-1], b, conv_param)[0], (x, w, b, conv_param)


def forward_flipped_rows(x, w, b, conv_param):
    return forward_ok(x, w[:, :, ::-1, :], b, conv_param)[0], (x, w, b, conv_param)


def forward_transposed_filters(x, w, b, conv_param):
    """window[a, b'] * w[f, c, b', a]: only runs when the filters are square."""
    if w.shape[2] != w.shape[3]:
        return forward_ok(x, w, b, conv_param)
    return forward_ok(x, w.transpose(0, 1, 3, 2), b, conv_param)[0], (x, w, b, conv_param)


def forward_height_width_swapped(x, w, b, conv_param):
    out = forward_ok(x, w, b, conv_param)[0]
    if out.shape[2] == out.shape[3]:
        return out, (x, w, b, conv_param)
    return np.ascontiguousarray(out.transpose(0, 1, 3, 2)), (x, w, b, conv_param)


def forward_depth_is_channels(x, w, b, conv_param):
    """out allocated as (N, C, H', W'): storing the map of filter f = C runs past its end."""
    full = forward_ok(x, w, b, conv_param)[0]
    out = np.zeros(x.shape[:2] + full.shape[2:])
    for f in range(w.shape[0]):
        out[:, f] = full[:, f]
    return out, (x, w, b, conv_param)


def forward_loops_over_channels(x, w, b, conv_param):
    """out allocated as (N, C, H', W') and filled for f in range(C) only."""
    full = forward_ok(x, w, b, conv_param)[0]
    C = x.shape[1]
    return full[:, :C].copy() if C < w.shape[0] else full, (x, w, b, conv_param)


def forward_axes_swapped(x, w, b, conv_param):
    """out allocated as (F, N, H', W'): filters first."""
    out = forward_ok(x, w, b, conv_param)[0]
    return np.ascontiguousarray(out.transpose(1, 0, 2, 3)), (x, w, b, conv_param)


def forward_double_padding(x, w, b, conv_param):
    S, P = conv_param["stride"], conv_param["pad"]
    return slide(pad_hw(x, 2 * P), w, b, S, correct_shape(x, w, conv_param)), (x, w, b, conv_param)


def forward_float64_always(x, w, b, conv_param):
    S, P = conv_param["stride"], conv_param["pad"]
    return (slide(pad_hw(x, P), w, b, S, correct_shape(x, w, conv_param), dtype=np.float64),
            (x, w, b, conv_param))


def forward_modifies_x(x, w, b, conv_param):
    out, cache = forward_ok(x, w, b, conv_param)
    x *= 1.0 + 1e-3
    return out, cache


def forward_float_sizes(x, w, b, conv_param):
    """Output size with / instead of //."""
    N, C, H, W, F, HH, WW, S, P = sizes(x, w, conv_param)
    H_out = 1 + (H + 2 * P - HH) / S
    x_padded = pad_hw(x, P)
    out = np.zeros((N, F, int(H_out), int(H_out)))
    for i in range(int(H_out)):
        out[0, 0, i, 0] = np.sum(x_padded[0, :, i * S:i * S + H_out, 0:WW] * w[0])
    return out, (x, w, b, conv_param)


def forward_index_past_end(x, w, b, conv_param):
    """Loops over the input height H instead of the output height H'."""
    N, C, H, W, F, HH, WW, S, P = sizes(x, w, conv_param)
    out = np.zeros(correct_shape(x, w, conv_param))
    x_padded = pad_hw(x, P)
    for i in range(H):
        for j in range(out.shape[3]):
            out[0, 0, i, j] = np.sum(x_padded[0, :, i * S:i * S + HH, j * S:j * S + WW] * w[0]) + b[0]
    return out, (x, w, b, conv_param)


def forward_returns_out_only(x, w, b, conv_param):
    return forward_ok(x, w, b, conv_param)[0]


def forward_doubled(x, w, b, conv_param):
    out, cache = forward_ok(x, w, b, conv_param)
    return 2 * out, cache


def not_implemented(*args):
    raise NotImplementedError()




def test_forward_check_passes_on_correct_implementations(capsys):
    for implementation in (conv_forward_naive, conv_forward_fast, forward_ok):
        check_conv_forward(implementation)
        assert capsys.readouterr().out.startswith("OK: conv_forward_naive matches the worked example")


def test_worked_example_literal_is_the_convolution():
    out, _ = conv_forward_fast(conv.WORKED_X, conv.WORKED_W, conv.WORKED_B, conv.WORKED_PARAM)
    np.testing.assert_array_equal(out, conv.WORKED_OUT)
    # By hand: the top-left window [[1, 2], [0, 1]] against [[1, 2], [0, -1]], plus the bias 1.
    assert 1 * 1 + 2 * 2 + 0 * 0 + 1 * (-1) + 1 == conv.WORKED_OUT[0, 0, 0, 0]


FORWARD_MISTAKES = [
    (forward_without_bias, "the bias was forgotten"),
    (forward_bias_twice, "the bias was added twice"),
    (forward_unpadded, "padding not applied: (1, 2, 1, 2) is the output size without padding"),
    (forward_unpadded_right_size, "Looks like the padding was not applied"),
    (forward_pads_every_axis, "padding was applied to the channel axis as well"),
    (forward_batch_padded_shape, "padding applied to the batch axis"),
    (forward_batch_padded_values, "padding applied to the wrong axes: the batch axis N was padded too"),
    (forward_channels_padded_values, "padding applied to the wrong axes: the channel axis C was padded too"),
    (forward_stride_on_output, "the stride was applied to the output instead of the input"),
    (forward_stride_ignored, "stride not used: (2, 3, 5, 3) is the output size for stride 1"),
    (forward_stride_in_output_loop, "only the output positions whose row and column are multiples of S"),
    (forward_flipped, "the filters are flipped: your output is the true (flipped) convolution"),
    (forward_flipped_rows, "the filters are flipped along one axis"),
    (forward_transposed_filters, "the filters are transposed"),
    (forward_height_width_swapped, "height and width are swapped"),
    (forward_depth_is_channels, "its depth is the number of filters"),
    (forward_axes_swapped, "the first two axes are swapped: out is (N, F, H', W'), images first"),
    (forward_double_padding, "too much padding"),
    (forward_float64_always, "out.dtype: expected float32, got float64"),
    (forward_modifies_x, "the layer must not modify x in place"),
    (forward_float_sizes, "integer division"),
    (forward_index_past_end, "an index ran past the end"),
    (forward_returns_out_only, "a pair (out, cache)"),
    (forward_doubled, conv.FORWARD_HINT),
    (not_implemented, "conv_forward_naive is not implemented yet"),
]


@pytest.mark.parametrize("mistake, diagnosis", FORWARD_MISTAKES, ids=[m.__name__ for m, _ in FORWARD_MISTAKES])
def test_forward_check_names_the_mistake(mistake, diagnosis):
    with pytest.raises(AssertionError) as info:
        check_conv_forward(mistake)
    assert diagnosis in str(info.value)
    assert "Hint:" in str(info.value) or "not implemented yet" in str(info.value)


def test_forward_check_shows_the_worked_example_numbers():
    with pytest.raises(AssertionError) as info:
        check_conv_forward(forward_flipped)
    message = str(info.value)
    assert "the worked example" in message
    assert "[ 5.  0.  2.]" in message  # the expected output, written out


def test_forward_crash_is_explained_and_chained():
    with pytest.raises(AssertionError) as info:
        check_conv_forward(forward_unpadded_right_size)
    assert "ValueError" in str(info.value) and "zero padding (x (1, 2, 3, 4)" in str(info.value)
    assert isinstance(info.value.__context__, ValueError)  # the student's traceback stays visible


# ---------------------------------------------------------------------------
# Backward: a correct loop implementation and mistaken ones
# ---------------------------------------------------------------------------


def backward(dout, cache, *, dx_assign=None, dw_assign=False, dw_per_image=False, dw_reset_per_image=False,
             dw_scale=1.0, db_mode="sum", crop="P", pad=True, reverse_positions=False):
    """Loop backward pass with switches for the mistakes below."""
    x, w, b, conv_param = cache
    N, C, H, W, F, HH, WW, S, P = sizes(x, w, conv_param)
    H_out, W_out = dout.shape[2:]
    x_padded = pad_hw(x, P) if pad else x
    dx_padded = np.zeros_like(x_padded)
    dw = np.zeros((N,) + w.shape) if dw_per_image else np.zeros_like(w)
    for n in range(N):
        if dw_reset_per_image:
            dw = np.zeros_like(w)
        positions = [(i, j) for i in range(H_out) for j in range(W_out)]
        if reverse_positions:  # from the last window to the first
            positions.reverse()
        for i, j in positions:
            rows, cols = slice(i * S, i * S + HH), slice(j * S, j * S + WW)
            if dx_assign == "summed over filters":
                dx_padded[n, :, rows, cols] = np.tensordot(dout[n, :, i, j], w, axes=1)
            for f in range(F):
                if dx_assign == "one by one":
                    dx_padded[n, :, rows, cols] = dout[n, f, i, j] * w[f]
                elif dx_assign is None:
                    dx_padded[n, :, rows, cols] += dout[n, f, i, j] * w[f]
                contribution = dout[n, f, i, j] * x_padded[n, :, rows, cols]
                if dw_per_image:
                    dw[n, f] += contribution
                elif dw_assign:
                    dw[f] = contribution
                else:
                    dw[f] += contribution
    dw = dw * dw_scale
    db = {"sum": dout.sum(axis=(0, 2, 3)), "per image": dout.sum(axis=(2, 3)),
          "first image": dout[0].sum(axis=(1, 2)), "over filters": dout.sum(axis=(1, 2, 3))}[db_mode]
    if not pad or crop is None:
        dx = dx_padded
    else:
        start = {"P": P, "zero": 0}[crop]
        dx = dx_padded[:, :, start:start + H, start:start + W]
    return dx, dw, db



def test_backward_check_passes_on_correct_implementations(capsys):
    check_conv_backward(conv_forward_naive, conv_backward_naive)
    check_conv_backward(conv_forward_fast, conv_backward_fast)
    check_conv_backward(forward_ok, backward)
    assert capsys.readouterr().out.count("OK: dx, dw and db match 5 worked cases") == 3


BACKWARD_MISTAKES = [
    ("dx_assign_one_by_one", dict(dx_assign="one by one"), "dx is assigned (=) where it must accumulate (+=)"),
    ("dx_assign_summed_over_filters", dict(dx_assign="summed over filters"),
     "dx is assigned (=) where it must accumulate (+=)"),
    ("dw_assign", dict(dw_assign=True), "dw is assigned (=) where it must accumulate (+=)"),
    ("dw_one_per_image", dict(dw_per_image=True), "dw is not summed over the batch: (2, 2, 2, 2, 2) holds one dw"),
    ("dw_reset_per_image", dict(dw_reset_per_image=True), "dw is not summed over the batch"),
    ("db_one_per_image", dict(db_mode="per image"), "db is not summed over the batch: (2, 2) holds one db"),
    ("db_over_filters", dict(db_mode="over filters"), "db was summed over the filters instead of over the images"),
    ("dx_not_cropped", dict(crop=None), "dx still has the padding"),
    ("dx_cropped_at_zero", dict(crop="zero"), "dx is cropped at the wrong place"),
    ("no_padding", dict(pad=False), "Looks like the padding was not applied"),
]


@pytest.mark.parametrize("switches, diagnosis", [(s, d) for _, s, d in BACKWARD_MISTAKES],
                         ids=[name for name, _, _ in BACKWARD_MISTAKES])
def test_backward_check_names_the_mistake(switches, diagnosis):
    with pytest.raises(AssertionError) as info:
        check_conv_backward(forward_ok, functools.partial(backward, **switches))
    assert diagnosis in str(info.value)
    assert "Hint:" in str(info.value)


def test_backward_check_falls_back_to_the_general_hint():
    def sign_flipped(dout, cache):
        dx, dw, db = backward(dout, cache)
        return -dx, dw, db

    with pytest.raises(AssertionError) as info:
        check_conv_backward(forward_ok, sign_flipped)
    assert conv.BACKWARD_HINT in str(info.value)


def test_backward_check_wants_a_triple():
    with pytest.raises(AssertionError, match=r"a tuple \(dx, dw, db\)"):
        check_conv_backward(forward_ok, lambda dout, cache: backward(dout, cache)[:2])


@pytest.mark.parametrize("forward, backward_fn, name", [
    (forward_ok, not_implemented, "conv_backward_naive"),
    (not_implemented, backward, "conv_forward_naive"),
])
def test_backward_check_says_what_is_not_implemented(forward, backward_fn, name):
    with pytest.raises(AssertionError, match=f"{name} is not implemented yet"):
        check_conv_backward(forward, backward_fn)


def test_cases_are_fixed():
    first, second = conv.forward_cases(), conv.forward_cases()
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a.x, b.x)
        np.testing.assert_array_equal(a.w, b.w)


# ---------------------------------------------------------------------------
# The literals of cs231n_lib.checks.conv, recomputed here: the expected outputs
# from the reference loops above (forward_ok, backward), cross-checked with the
# library's layers; the named mistakes from mutants of the model solution and
# from the mistaken implementations above
# ---------------------------------------------------------------------------

WINDOW = "window = x_padded[n, :, i * S:i * S + g.HH, j * S:j * S + g.WW]"
PAD = "x_padded = np.pad(x, ((0, 0), (0, 0), (P, P), (P, P)))"
SUM = "out[n, f, i, j] = np.sum(window * w[f]) + b[f]"
FORWARD_EDITS = {
    "bias forgotten": ((SUM, "out[n, f, i, j] = np.sum(window * w[f])"),),
    "bias twice": (("    ### END SOLUTION", "    out += b.reshape(1, -1, 1, 1)\n    ### END SOLUTION"),),
    "bias subtracted": ((SUM, "out[n, f, i, j] = np.sum(window * w[f]) - b[f]"),),
    "bias of image": ((SUM, "out[n, f, i, j] = np.sum(window * w[f]) + b[n]"),),
    "flipped": ((SUM, "out[n, f, i, j] = np.sum(window * w[f, :, ::-1, ::-1]) + b[f]"),),
    "flipped rows": ((SUM, "out[n, f, i, j] = np.sum(window * w[f, :, ::-1, :]) + b[f]"),),
    "transposed": ((SUM, "out[n, f, i, j] = np.sum(window * w[f].transpose(0, 2, 1)) + b[f]"),),
    "stride on output": ((WINDOW, "window = x_padded[n, :, i:i + g.HH, j:j + g.WW]"),),
    "stride width only": ((WINDOW, "window = x_padded[n, :, i * S:i * S + g.HH, j:j + g.WW]"),),
    "stride in output loop": (("range(g.H_out)", "range(0, g.H_out, S)"), ("range(g.W_out)", "range(0, g.W_out, S)")),
    "padding one side": ((PAD, "x_padded = np.pad(x, ((0, 0), (0, 0), (0, 2 * P), (0, 2 * P)))"),),
    "off by one": ((WINDOW, "window = x_padded[n, :, i * S:i * S + g.HH - 1, j * S:j * S + g.WW - 1]"),),
    "first channel": ((WINDOW, "window = x_padded[n, 0, i * S:i * S + g.HH, j * S:j * S + g.WW]"),),
    "mean": ((SUM, "out[n, f, i, j] = np.mean(window * w[f]) + b[f]"),),
    "last image": (("range(g.N)", "range(g.N - 1)"),),
}
FORWARD_FUNCTIONS = {
    "too much padding": forward_double_padding,
    "batch padded": forward_batch_padded_values,
    "channels padded": forward_channels_padded_values,
    "bias forgotten": forward_without_bias,
    "bias twice": forward_bias_twice,
    "stride on output": forward_stride_on_output,
    "stride in output loop": forward_stride_in_output_loop,
    "flipped": forward_flipped,
    "flipped rows": forward_flipped_rows,
    "transposed": forward_transposed_filters,
}

DX = "dx_padded[n, :, rows, cols] += dout[n, f, i, j] * w[f]"
DW = "dw[f] += dout[n, f, i, j] * x_padded[n, :, rows, cols]"
DB = "db = dout.sum(axis=(0, 2, 3))"
ROWS = "rows = slice(i * S, i * S + g.HH)"
COLS = "cols = slice(j * S, j * S + g.WW)"
CROP = "dx = dx_padded[:, :, P:P + g.H, P:P + g.W]"
DW_ZEROS = "dw = np.zeros_like(w, dtype=np.result_type(w, dout))"
BACKWARD_EDITS = {
    "dx assigned": ((DX, DX.replace("+=", "=")),),
    "dw assigned": ((DW, DW.replace("+=", "=")),),
    "dw reset": (("    for n in range(g.N):\n", f"    for n in range(g.N):\n        {DW_ZEROS}\n"),),
    "dw averaged": ((CROP, CROP + "\n    dw /= g.N"),),
    "db mean": ((DB, "db = dout.mean(axis=(0, 2, 3))"),),
    "db over filters": ((DB, "db = dout.sum(axis=(1, 2, 3))"),),
    "stride ignored": ((ROWS, "rows = slice(i, i + g.HH)"), (COLS, "cols = slice(j, j + g.WW)")),
    "flipped dx": ((DX, DX.replace("w[f]", "w[f, :, ::-1, ::-1]")),),
    "dx dw swapped": ((DX, "dx_padded[n, :, rows, cols] += dout[n, f, i, j] * x_padded[n, :, rows, cols]"),
                      (DW, "dw[f] += dout[n, f, i, j] * w[f]")),
    "cropped top-left": ((CROP, "dx = dx_padded[:, :, :g.H, :g.W]"),),
}
BACKWARD_SWITCHES = {
    "dx assigned": [dict(dx_assign="one by one"), dict(dx_assign="summed over filters"),
                    dict(dx_assign="summed over filters", reverse_positions=True)],
    "dw assigned": [dict(dw_assign=True)],
    "dw reset": [dict(dw_reset_per_image=True)],
    "cropped top-left": [dict(crop="zero")],
}


def _quiet(function, *args):
    try:
        with np.errstate(all="ignore"):
            return function(*args)
    except (IndexError, ValueError, TypeError):
        return None


def forward_tables():
    expected, mistakes = {}, {}
    for case in conv.forward_cases():
        args = (case.x, case.w, case.b, case.param)
        right = forward_ok(*args)[0]
        np.testing.assert_allclose(right, conv_forward_naive(*args)[0], rtol=0, atol=1e-12)
        np.testing.assert_allclose(right, conv_forward_fast(*args)[0], rtol=0, atol=1e-4)
        assert np.array_equal(right, np.round(right))  # whole numbers: exact in float32 too
        expected[case.label] = right.tolist()
        table = {}
        candidates = [(key, mutated_function(conv_forward_naive, edits)) for key, edits in FORWARD_EDITS.items()]
        candidates += list(FORWARD_FUNCTIONS.items())
        for key, function in candidates:
            result = _quiet(function, case.x.copy(), case.w.copy(), case.b.copy(), case.param)
            if result is None or np.shape(result[0]) != right.shape or np.allclose(result[0], right):
                continue
            digest = answer_digest(np.asarray(result[0], dtype=np.float64), tag=case.label)
            assert table.get(digest, key) == key, (case.label, key, table[digest])
            table[digest] = key
        mistakes[case.label] = table
    return expected, mistakes


def backward_tables():
    expected, mistakes = {}, {}
    for case in conv.backward_cases():
        cache = (case.x, case.w, case.b, case.param)
        right = backward(case.dout, cache)
        _, fast_cache = conv_forward_fast(*cache)
        for mine, naive, fast in zip(right, conv_backward_naive(case.dout, cache),
                                     conv_backward_fast(case.dout, fast_cache)):
            np.testing.assert_allclose(mine, naive, rtol=0, atol=1e-12)
            np.testing.assert_allclose(mine, fast, rtol=0, atol=1e-4)
        expected[case.label] = {name: g.tolist() for name, g in zip(("dx", "dw", "db"), right)}
        candidates = [(key, mutated_function(conv_backward_naive, edits)) for key, edits in BACKWARD_EDITS.items()]
        candidates += [(key, functools.partial(backward, **switches))
                       for key, many in BACKWARD_SWITCHES.items() for switches in many]
        table = {}
        for key, function in candidates:
            grads = _quiet(function, case.dout.copy(), (case.x.copy(), case.w.copy(), case.b.copy(), case.param))
            if grads is None:
                continue
            for name, got, good in zip(("dx", "dw", "db"), grads, right):
                if np.shape(got) != good.shape or np.allclose(got, good):
                    continue
                digest = answer_digest(np.asarray(got, dtype=np.float64), tag=f"{case.label}|{name}")
                assert table.get(digest, key) == key, (case.label, key, table[digest])
                table[digest] = key
        mistakes[case.label] = table
    return expected, mistakes


def test_forward_literals_are_the_reference_and_its_mutants():
    expected, mistakes = forward_tables()
    assert expected == conv.FORWARD_OUT
    assert mistakes == conv.FORWARD_MISTAKES
    np.testing.assert_array_equal(np.array(conv.FORWARD_OUT[conv.WORKED]), conv.WORKED_OUT)


def test_backward_literals_are_the_reference_and_its_mutants():
    expected, mistakes = backward_tables()
    assert expected == conv.BACKWARD_GRADS
    assert mistakes == conv.BACKWARD_MISTAKES


def test_every_named_mistake_has_a_message():
    for table in conv.FORWARD_MISTAKES.values():
        assert set(table.values()) <= set(conv.FORWARD_MESSAGES)
    for table in conv.BACKWARD_MISTAKES.values():
        assert set(table.values()) <= set(conv.BACKWARD_MESSAGES)


def test_public_cases_cover_what_the_hidden_tests_check():
    forward, backward_ = conv.forward_cases(), conv.backward_cases()
    for cases in (forward, backward_):
        assert any(c.stride == 3 and c.w.shape[2:] == (1, 1) for c in cases)
        assert any(c.x.dtype == np.float32 for c in cases)
        assert any(c.x.shape[2] != c.x.shape[3] for c in cases)
        assert any(c.w.shape[2] != c.w.shape[3] for c in cases)
        assert any(c.stride == 2 and c.pad == 1 for c in cases)
    assert not backward_[0].overlapping and backward_[1].overlapping


def test_a_wrong_forward_pass_is_blamed_by_the_numerical_gradient():
    with pytest.raises(AssertionError) as info:
        check_conv_backward(forward_doubled, backward)
    assert "against the numerical gradient" in str(info.value)
    assert "fix the forward pass first" in str(info.value)


def test_backward_check_wants_the_callers_dtype_and_untouched_inputs():
    def float64_grads(dout, cache):
        return tuple(g.astype(np.float64) for g in backward(dout, cache))

    def zeroes_w(dout, cache):
        grads = backward(dout, cache)
        cache[1][...] = 0.0
        return grads

    with pytest.raises(AssertionError, match=r"dx.dtype: expected float32, got float64"):
        check_conv_backward(forward_ok, float64_grads)
    with pytest.raises(AssertionError, match="changed in place"):
        check_conv_backward(forward_ok, zeroes_w)
