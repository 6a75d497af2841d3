"""Checks for notebook 02, the convolution layer.

- ``check_conv_forward(conv_forward)``: a worked example with its output
  written out by hand, then small seeded cases (several images, channels and
  filters; non-square inputs and filters; padding; stride 2), compared with
  ``cs231n_lib.fast_layers.conv_forward_fast``;
- ``check_conv_backward(conv_forward, conv_backward)``: dx, dw and db on a
  case whose windows do not overlap (stride 2, 2x2 filters) and two where
  they do, compared with ``conv_backward_fast`` and, on one case, with a
  float64 numerical gradient of ``conv_forward_fast``.

When the output is wrong, the check tries the common mistakes one by one:
it computes, with the reference layers, what each mistake would have
produced and names the mistake whose output matches. Shapes are checked
before values, because a wrong shape already says a lot (the size without
padding, the size with stride 1, ...). A crash inside the student's code
(numpy refusing to multiply a window by a filter of another shape, an index
past the end) is explained with the shapes it involved.
"""

import re

import numpy as np

from cs231n_lib.checks.common import (
    call_student,
    fail,
    max_relative_error,
    passed,
    require_array,
)
from cs231n_lib.fast_layers import conv_backward_fast, conv_forward_fast
from cs231n_lib.gradient_check import eval_numerical_gradient_array, rel_error

WHERE = "cs231n_lib/layers.py"
TOLERANCE = 1e-7          # scale-relative, float64
FLOAT32_TOLERANCE = 1e-5
GRADIENT_TOLERANCE = 1e-7  # rel_error against the numerical gradient

# The worked example of the notebook: a 1x1x4x4 input, one 2x2 filter, bias 1,
# stride 1, no padding. Every entry of WORKED_OUT is worked out by hand there.
WORKED_X = np.array([[1., 2., 0., 1.],
                     [0., 1., 3., 1.],
                     [2., 1., 0., 0.],
                     [1., 0., 1., 2.]]).reshape(1, 1, 4, 4)
WORKED_W = np.array([[1., 2.],
                     [0., -1.]]).reshape(1, 1, 2, 2)
WORKED_B = np.array([1.])
WORKED_PARAM = {"stride": 1, "pad": 0}
WORKED_OUT = np.array([[5., 0., 2.],
                       [2., 8., 6.],
                       [5., 1., -1.]]).reshape(1, 1, 3, 3)


class _Case:
    """One fixed input: x (N, C, H, W), w (F, C, HH, WW), b (F,), stride and pad."""

    def __init__(self, label, x, w, b, stride, pad, dout=None, expected=None):
        self.label = label
        self.x, self.w, self.b = x, w, b
        self.stride, self.pad = stride, pad
        self.dout = dout
        self.expected = expected  # literal expected output, for the worked example

    @property
    def param(self):
        return {"stride": self.stride, "pad": self.pad}

    @property
    def dims(self):
        N, C, H, W = self.x.shape
        F, _, HH, WW = self.w.shape
        return N, C, H, W, F, HH, WW, self.stride, self.pad

    @property
    def overlapping(self):
        return self.stride < max(self.w.shape[2:])

    def describe(self):
        return (f"{self.label} (x {self.x.shape}, w {self.w.shape}, "
                f"stride {self.stride}, pad {self.pad})")


def _random_case(seed, label, x_shape, w_shape, stride, pad, dtype=np.float64):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal(w_shape).astype(dtype)
    b = rng.standard_normal(w_shape[0]).astype(dtype)
    case = _Case(label, x, w, b, stride, pad)
    out_shape = _reference_forward(x, w, b, stride, pad).shape
    case.dout = rng.standard_normal(out_shape).astype(dtype)
    return case


def forward_cases():
    """The cases check_conv_forward runs, in order (fresh arrays on every call)."""
    worked = _Case("the worked example", WORKED_X.copy(), WORKED_W.copy(), WORKED_B.copy(),
                   1, 0, expected=WORKED_OUT.copy())
    return [
        worked,
        _random_case(1, "several images, channels and filters", (2, 3, 5, 6), (4, 3, 3, 2), 1, 0),
        _random_case(2, "zero padding", (2, 3, 5, 6), (4, 3, 3, 3), 1, 1),
        _random_case(3, "stride 2 with padding", (2, 3, 7, 5), (4, 3, 3, 3), 2, 1),
    ]


def backward_cases():
    """The cases check_conv_backward runs, in order: first one without overlapping windows."""
    return [
        _random_case(11, "windows that do not overlap", (2, 3, 4, 6), (4, 3, 2, 2), 2, 1),
        _random_case(12, "overlapping windows", (2, 3, 5, 6), (4, 3, 3, 3), 1, 1),
        _random_case(13, "non-square filters, overlapping in height", (2, 3, 7, 4), (4, 3, 3, 2), 2, 1),
    ]


def _reference_forward(x, w, b, stride, pad):
    out, _ = conv_forward_fast(x, w, b, {"stride": stride, "pad": pad})
    return out


def _reference_backward(case):
    _, cache = conv_forward_fast(case.x, case.w, case.b, case.param)
    return conv_backward_fast(case.dout, cache)


def _close(got, expected, tol=TOLERANCE):
    return (isinstance(got, np.ndarray) and got.shape == np.shape(expected)
            and max_relative_error(got, expected) <= tol)


def _size(n, k, stride, pad):
    """Output positions along one axis, rounded down as integer division would; None if none fit."""
    return (n + 2 * pad - k) // stride + 1 if n + 2 * pad >= k else None


def _shape_text(shape):
    return "(" + ", ".join(str(int(v)) for v in shape) + ")"


# ---------------------------------------------------------------------------
# Explaining a crash inside the student's code
# ---------------------------------------------------------------------------

_TUPLE = re.compile(r"\(([\d, ]*)\)")


def _shapes_in(message):
    """Every tuple of integers written in an error message, e.g. '(3,2,3) (3,3,3)'."""
    shapes = []
    for text in _TUPLE.findall(message):
        values = [v for v in text.replace(" ", "").split(",") if v]
        if values:
            shapes.append(tuple(int(v) for v in values))
    return shapes


def _explain_crash(err, case, backward=False):
    message = str(err)
    N, C, H, W, F, HH, WW, S, P = case.dims
    padded = f"({N}, {C}, {H + 2 * P}, {W + 2 * P})"
    shapes = _shapes_in(message) if "broadcast" in message else []
    for shape in shapes:
        if len(shape) >= 3 and P > 0 and shape[-3] == C + 2 * P and C + 2 * P != F:
            return (f"an array of shape {_shape_text(shape)} has {C + 2 * P} = C + 2P channels: looks "
                    f"like the padding was applied to the channel axis as well. Pad only height and "
                    f"width: np.pad(x, ((0, 0), (0, 0), (P, P), (P, P))) gives {padded}")
    for shape in shapes:
        if len(shape) >= 2 and shape[-2] <= HH and shape[-1] <= WW and shape[-2:] != (HH, WW):
            where = "dx" if backward else "x"
            return (f"a window of shape {_shape_text(shape)} is smaller than a {HH}x{WW} filter: "
                    f"the slice ran past the bottom or right edge of {where}, so the window was cut "
                    f"short. Looks like the padding was not applied: slice every window from the "
                    f"padded array (x_padded, {padded})"
                    + (", accumulate into a dx_padded of that same shape and crop P on each side at "
                       "the end" if backward else "")
                    + f". Window (i, j) starts at row i*S and column j*S of it")
    if shapes:
        return (f"a window and a filter w[f] must have the same shape (C, HH, WW) = ({C}, {HH}, {WW}); "
                f"the shapes in the error were {', '.join(_shape_text(s) for s in shapes)}")
    if isinstance(err, IndexError) and C != F and f"axis 1 with size {C}" in message:
        return (f"out has C = {C} channels, the depth of the input; its depth is the number of "
                f"filters, F = {F}: allocate out with shape (N, F, H', W'), one activation map per filter")
    if isinstance(err, IndexError):
        return (f"an index ran past the end of an array: loop over the output positions "
                f"i in range(H_out), j in range(W_out), with H_out = 1 + (H + 2P - HH) // S, and take "
                f"windows from the padded input, which is {padded}")
    if isinstance(err, TypeError) and ("integer" in message or "slice" in message):
        return ("an index or a size is not a whole number: compute output sizes with integer "
                "division, 1 + (H + 2 * P - HH) // S, or use g.H_out and g.W_out")
    return "read the traceback above: it ends at the line of your code that failed"


def _run_student(function, args, name, case, backward=False):
    try:
        return call_student(function, *args, name=name, where=WHERE)
    except (ValueError, IndexError, TypeError) as err:
        fail(f"{name} on {case.describe()}", "no error",
             f"{type(err).__name__}: {err}", _explain_crash(err, case, backward))


# ---------------------------------------------------------------------------
# conv_forward
# ---------------------------------------------------------------------------

FORWARD_HINT = ("out[n, f, i, j] = b[f] + sum over c, a, b' of x_padded[n, c, i*S + a, j*S + b'] * "
                "w[f, c, a, b']: pad x with P zeros on each side of height and width, and slide each "
                "filter over it without flipping it")


def _forward_shape_mistake(shape, case):
    """Name the mistake that gives an output of this shape, or None."""
    N, C, H, W, F, HH, WW, S, P = case.dims
    H_out, W_out = _size(H, HH, S, P), _size(W, WW, S, P)
    formula = (f"H' = 1 + (H + 2P - HH) / S = 1 + ({H} + 2*{P} - {HH}) / {S} = {H_out} and "
               f"W' = 1 + ({W} + 2*{P} - {WW}) / {S} = {W_out}")
    unpadded = (_size(H, HH, S, 0), _size(W, WW, S, 0))
    if P > 0:
        if shape == (N, F) + unpadded:
            return (f"padding not applied: {_shape_text(shape)} is the output size without padding, "
                    f"1 + ({H} - {HH}) / {S} = {unpadded[0]} by 1 + ({W} - {WW}) / {S} = {unpadded[1]}; "
                    f"with P = {P} zeros on each side, {formula}. Pad x first: "
                    f"np.pad(x, ((0, 0), (0, 0), (P, P), (P, P)))")
        if len(shape) == 4 and shape[0] == N + 2 * P and shape[1] == F:
            return (f"padding applied to the batch axis: your output has {shape[0]} = N + 2P images "
                    f"for N = {N} inputs. Pad only height and width: "
                    f"np.pad(x, ((0, 0), (0, 0), (P, P), (P, P)))")
    if S > 1 and shape == (N, F, _size(H, HH, 1, P), _size(W, WW, 1, P)):
        return (f"stride not used: {_shape_text(shape)} is the output size for stride 1; with stride "
                f"{S}, {formula}. Loop over those output positions and start window (i, j) at row i*S "
                f"and column j*S of the padded input")
    if H_out != W_out and shape == (N, F, W_out, H_out):
        return f"height and width are swapped: out is (N, F, H', W') with {formula}"
    if C != F and shape == (N, C, H_out, W_out):
        return (f"out has C = {C} channels, the depth of the input; its depth is the number of "
                f"filters, F = {F}: one activation map per filter")
    if N != F and shape == (F, N, H_out, W_out):
        return "the first two axes are swapped: out is (N, F, H', W'), images first"
    return None


def _forward_value_mistake(out, case):
    """Name the mistake whose output equals ``out``, or None."""
    x, w, b = case.x, case.w, case.b
    N, C, H, W, F, HH, WW, S, P = case.dims
    expected = _reference_forward(x, w, b, S, P)

    if _close(out + b.reshape(1, -1, 1, 1), expected):
        return "the bias was forgotten: your output + b matches the expected output. Add b[f] to every out[n, f, i, j]"
    if _close(out - b.reshape(1, -1, 1, 1), expected):
        return "the bias was added twice: your output - b matches the expected output"
    if _close(out, _reference_forward(x, w[:, :, ::-1, ::-1], b, S, P)):
        return ("the filters are flipped: your output is the true (flipped) convolution, it matches the "
                "expected output computed with w[:, :, ::-1, ::-1]. CNN layers compute the "
                "cross-correlation: multiply x_padded[n, :, i*S + a, j*S + b'] by w[f, :, a, b'] "
                "with the same a, b' in both, without reversing the filter")
    if _close(out, _reference_forward(x, w[:, :, ::-1, :], b, S, P)) or \
            _close(out, _reference_forward(x, w[:, :, :, ::-1], b, S, P)):
        return ("the filters are flipped along one axis: your output matches the expected output "
                "computed with w reversed upside down or left to right. Pair window[a, b'] with "
                "w[f, :, a, b'], same indices")
    if HH == WW and _close(out, _reference_forward(x, w.transpose(0, 1, 3, 2), b, S, P)):
        return ("the filters are transposed: your output matches the expected output computed with "
                "w[f, c, b', a] in place of w[f, c, a, b']: rows of the window go with rows of the filter")

    H_out, W_out = out.shape[2:]
    if S > 1:
        stride1 = _reference_forward(x, w, b, 1, P)
        if _close(out, stride1[:, :, :H_out, :W_out]):
            return (f"the stride was applied to the output instead of the input: every window starts "
                    f"at row i and column j of x_padded, so your output is the top-left "
                    f"{H_out}x{W_out} corner of the stride-1 result. The stride sets how far the window "
                    f"moves in the input: window (i, j) starts at row i*S and column j*S")
        rows = np.arange(H_out)[:, None] % S == 0
        cols = np.arange(W_out)[None, :] % S == 0
        kept = np.broadcast_to(rows & cols, out.shape)
        if np.all(out[~kept] == 0) and (_close(np.where(kept, out, 0), np.where(kept, expected, 0))
                                        or _close(np.where(kept, out, 0),
                                                  np.where(kept, stride1[:, :, :H_out, :W_out], 0))):
            return (f"only the output positions whose row and column are multiples of {S} were "
                    f"computed, the others are still 0: the stride was applied to the loop over "
                    f"output positions (range(0, H_out, S)). Visit every output position, "
                    f"i in range(H_out), and move the window in the input: it starts at row i*S")
    if P > 0:
        if _close(out, _reference_forward(x, w, b, S, 2 * P)[:, :, :H_out, :W_out]):
            return (f"too much padding: your output matches the expected output with {2 * P} zeros on "
                    f"each side instead of P = {P} (cropped to your size). np.pad's pad width is the "
                    f"number of zeros added on each side, (P, P)")
        axes_names = "NCHW"
        for padded_axes in ("NHW", "CHW", "NCHW"):
            pads = [(P, P) if name in padded_axes else (0, 0) for name in axes_names]
            x_eff = np.pad(x, pads)[:N, :C]  # what a loop over range(N) and range(C) reads
            if _close(out, _reference_forward(x_eff, w, b, S, 0)):
                extra = " and ".join({"N": "the batch axis N", "C": "the channel axis C"}[a]
                                     for a in padded_axes if a in "NC")
                return (f"padding applied to the wrong axes: {extra} was padded too, so your loops read "
                        f"zeros and shifted images/channels. Pad only height and width: "
                        f"np.pad(x, ((0, 0), (0, 0), (P, P), (P, P)))")
    return None


def _check_forward_case(conv_forward, case, tol=TOLERANCE):
    x0, w0, b0 = case.x.copy(), case.w.copy(), case.b.copy()
    result = _run_student(conv_forward, (case.x, case.w, case.b, case.param), "conv_forward_naive", case)
    what = f"conv_forward_naive on {case.describe()}"
    if not (isinstance(result, tuple) and len(result) == 2):
        fail(what, "a pair (out, cache)", type(result).__name__,
             "keep the last lines of the function: cache = (x, w, b, conv_param); return out, cache")
    out = require_array(result[0], f"{what}: out", "build out as a numpy array, e.g. np.zeros(...)")
    for name, before, after in (("x", x0, case.x), ("w", w0, case.w), ("b", b0, case.b)):
        if not np.array_equal(before, after):
            fail(f"{what}: the input {name} after the call", "unchanged", "changed",
                 f"the layer must not modify {name} in place: pad into a new array (np.pad returns one)")

    expected = case.expected if case.expected is not None else _reference_forward(
        case.x, case.w, case.b, case.stride, case.pad)
    if out.shape != expected.shape:
        mistake = _forward_shape_mistake(out.shape, case)
        N, C, H, W, F, HH, WW, S, P = case.dims
        fail(f"{what}: out shape", expected.shape, out.shape, mistake or (
            f"out is (N, F, H', W') with H' = 1 + (H + 2P - HH) / S = 1 + ({H} + 2*{P} - {HH}) / {S} "
            f"= {expected.shape[2]} and W' = 1 + ({W} + 2*{P} - {WW}) / {S} = {expected.shape[3]}"))
    error = max_relative_error(out, expected)
    if not error <= tol:
        mistake = _forward_value_mistake(out, case)
        if case.expected is not None:
            got_text = f"\n{out[0, 0]}"
            expected_text = f"\n{expected[0, 0]}"
        else:
            got_text = f"a relative error of {error:.2e}"
            expected_text = f"values within {tol:g} (relative) of conv_forward_fast"
        fail(f"{what}: out", expected_text, got_text, mistake or FORWARD_HINT)
    return out


def check_conv_forward(conv_forward):
    """conv_forward(x, w, b, conv_param) -> (out, cache) must match conv_forward_fast."""
    cases = forward_cases()
    for case in cases:
        _check_forward_case(conv_forward, case)

    # The caller's dtype is kept: float32 in, float32 out.
    case = cases[-1]
    case32 = _Case(case.label + " in float32", case.x.astype(np.float32), case.w.astype(np.float32),
                   case.b.astype(np.float32), case.stride, case.pad)
    out = _check_forward_case(conv_forward, case32, tol=FLOAT32_TOLERANCE)
    if out.dtype != np.float32:
        fail(f"conv_forward_naive on {case32.describe()}: out.dtype", "float32", out.dtype,
             "keep the caller's dtype: create out with np.zeros(shape, dtype=x.dtype)")
    passed(f"conv_forward_naive matches the worked example and conv_forward_fast on {len(cases) - 1} "
           f"more cases (padding, stride 2, non-square inputs and filters) and keeps float32")


# ---------------------------------------------------------------------------
# conv_backward
# ---------------------------------------------------------------------------

BACKWARD_HINT = ("for every n, f, i, j: db[f] += dout[n, f, i, j]; dw[f] += dout[n, f, i, j] * window; "
                 "dx_padded[n, :, window rows, window cols] += dout[n, f, i, j] * w[f], where window = "
                 "x_padded[n, :, i*S:i*S + HH, j*S:j*S + WW]; finally crop P from each side of dx_padded")


def _per_image(case, image):
    """Reference (dx, dw, db) of one image alone."""
    one = _Case(case.label, case.x[image:image + 1], case.w, case.b, case.stride, case.pad,
                dout=case.dout[image:image + 1])
    return _reference_backward(one)


def _batch_mistake(got, expected, index, name, case):
    """db (index 2) or dw (index 1) not summed over the batch, or None."""
    N = case.x.shape[0]
    if got.shape == (N,) + expected.shape and _close(got.sum(axis=0), expected):
        return (f"{name} is not summed over the batch: it has shape {got.shape}, one {name} per image, "
                f"and their sum over axis 0 is the expected {name}. The filters are shared by all "
                f"images, so their gradients add up: sum over n as well")
    for image, label in ((N - 1, "the last image"), (0, "the first image")):
        if _close(got, _per_image(case, image)[index]):
            return (f"{name} is not summed over the batch: it matches the gradient of {label} alone "
                    f"(was {name} reset or assigned inside the loop over images?). Start {name} at "
                    f"zero once, before the loops, and add every image's contribution to it")
    if _close(got * N, expected):
        return (f"{name} is averaged over the batch (divided by N = {N}): the layer's gradient is the "
                f"sum over images; any averaging belongs to the loss")
    return None


def _dx_assigned(case, order):
    """dx when its windows are assigned (=) instead of accumulated (+=), loops in ``order``."""
    x, w, dout = case.x, case.w, case.dout
    N, C, H, W, F, HH, WW, S, P = case.dims
    H_out, W_out = dout.shape[2:]
    dx_padded = np.zeros((N, C, H + 2 * P, W + 2 * P))
    positions = [(i, j) for i in range(H_out) for j in range(W_out)]
    for n in range(N):
        if order == "summed over filters":
            for i, j in positions:
                dx_padded[n, :, i * S:i * S + HH, j * S:j * S + WW] = np.tensordot(dout[n, :, i, j], w, axes=1)
            continue
        pairs = ([(f, i, j) for f in range(F) for i, j in positions] if order == "filters outside"
                 else [(f, i, j) for i, j in positions for f in range(F)])
        for f, i, j in pairs:
            dx_padded[n, :, i * S:i * S + HH, j * S:j * S + WW] = dout[n, f, i, j] * w[f]
    return dx_padded[:, :, P:P + H, P:P + W]


def _dw_assigned(case):
    """The dw of '=' in place of '+=': only the last window's contribution survives."""
    N, C, H, W, F, HH, WW, S, P = case.dims
    H_out, W_out = case.dout.shape[2:]
    x_padded = np.pad(case.x, ((0, 0), (0, 0), (P, P), (P, P)))
    i, j = H_out - 1, W_out - 1
    windows = x_padded[:, :, i * S:i * S + HH, j * S:j * S + WW]  # (N, C, HH, WW)
    last_image = case.dout[N - 1, :, i, j, None, None, None] * windows[N - 1]
    all_images = np.tensordot(case.dout[:, :, i, j], windows, axes=([0], [0]))
    return last_image, all_images


def _dx_mistake(dx, case, index, cases):
    for order in ("filters outside", "positions outside", "summed over filters"):
        if _close(dx, _dx_assigned(case, order)):
            return ("dx is assigned (=) where it must accumulate (+=): each dx_padded window is "
                    "overwritten by the last filter or the last overlapping window that touches it. "
                    "An input pixel feeds every output whose window covers it, for every filter, and "
                    "its gradient is the sum of all those contributions: use +=")
    if case.overlapping and index > 0 and not cases[0].overlapping:
        first = cases[0]
        return (f"dx was right with stride {first.stride} and {first.w.shape[2]}x{first.w.shape[3]} filters, "
                f"where windows do not overlap, but is wrong here, where they do: looks like = instead "
                f"of += on dx_padded, so a pixel covered by several windows keeps only one "
                f"contribution. Accumulate with +=")
    N, C, H, W, F, HH, WW, S, P = case.dims
    if P > 0:
        # The reference dx_padded: the gradient with respect to the padded input itself.
        x_padded = np.pad(case.x, ((0, 0), (0, 0), (P, P), (P, P)))
        _, cache = conv_forward_fast(x_padded, case.w, case.b, {"stride": S, "pad": 0})
        dx_padded = conv_backward_fast(case.dout, cache)[0]
        for start in (0, 2 * P):
            if _close(dx, dx_padded[:, :, start:start + H, start:start + W]):
                return (f"dx is cropped at the wrong place: it matches dx_padded[:, :, {start}:{start + H}, "
                        f"{start}:{start + W}]. Take dx_padded[:, :, P:P + H, P:P + W], the part that "
                        f"lines up with x (P = {P} rows and columns of padding on each side)")
    return None


def _check_backward_shapes(grads, case):
    what = f"conv_backward_naive on {case.describe()}"
    if not (isinstance(grads, tuple) and len(grads) == 3):
        fail(what, "a tuple (dx, dw, db)", type(grads).__name__, "end with: return dx, dw, db")
    N, C, H, W, F, HH, WW, S, P = case.dims
    dx, dw, db = grads
    for name, value, like in (("db", db, case.b), ("dw", dw, case.w), ("dx", dx, case.x)):
        require_array(value, f"{what}: {name}", f"{name} is a numpy array shaped like {name[1:]}")
        if value.shape == like.shape:
            continue
        hint = f"{name} has the shape of {name[1:]}, {_shape_text(like.shape)}"
        if name in ("db", "dw") and value.shape == (N,) + like.shape:
            hint = (f"{name} is not summed over the batch: {_shape_text(value.shape)} holds one {name} "
                    f"per image. The filters are shared by all images, so their gradients add up: "
                    f"sum over n as well")
        elif name == "db" and value.shape == (N,):
            hint = ("db was summed over the filters instead of over the images: db[f] is the sum of "
                    "dout[:, f, :, :], i.e. dout.sum(axis=(0, 2, 3))")
        elif name == "db":
            hint = f"db[f] is the sum of dout[:, f, :, :] over images and positions: shape ({F},)"
        elif name == "dx" and value.shape == (N, C, H + 2 * P, W + 2 * P):
            hint = (f"dx still has the padding: {_shape_text(value.shape)} is the padded input. Crop "
                    f"it: dx_padded[:, :, P:P + H, P:P + W]")
        fail(f"{what}: {name} shape", like.shape, value.shape, hint)


def _check_backward_case(conv_forward, conv_backward, case, index, cases):
    what = f"conv_backward_naive on {case.describe()}"
    result = _run_student(conv_forward, (case.x, case.w, case.b, case.param), "conv_forward_naive", case)
    if not (isinstance(result, tuple) and len(result) == 2):
        fail(f"conv_forward_naive on {case.describe()}", "a pair (out, cache)", type(result).__name__,
             "run check_conv_forward first")
    grads = _run_student(conv_backward, (case.dout, result[1]), "conv_backward_naive", case, backward=True)
    _check_backward_shapes(grads, case)
    dx, dw, db = grads
    rdx, rdw, rdb = _reference_backward(case)

    for name, got, expected, grad_index in (("db", db, rdb, 2), ("dw", dw, rdw, 1)):
        error = max_relative_error(got, expected)
        if not error <= TOLERANCE:
            mistake = _batch_mistake(got, expected, grad_index, name, case)
            if mistake is None and name == "dw":
                last_image, all_images = _dw_assigned(case)
                if _close(got, last_image) or _close(got, all_images):
                    mistake = ("dw is assigned (=) where it must accumulate (+=): only the last "
                               "window's contribution survives. dw[f] sums dout[n, f, i, j] * window "
                               "over every image and every position")
            fail(f"{what}: {name}", "values within 1e-07 (relative) of conv_backward_fast",
                 f"a relative error of {error:.2e}", mistake or BACKWARD_HINT)
    error = max_relative_error(dx, rdx)
    if not error <= TOLERANCE:
        fail(f"{what}: dx", "values within 1e-07 (relative) of conv_backward_fast",
             f"a relative error of {error:.2e}", _dx_mistake(dx, case, index, cases) or BACKWARD_HINT)
    return grads


def _numerical_gradients(case):
    """Centred-difference gradients of sum(conv_forward_fast(...) * dout) in float64."""
    x, w, b = (a.astype(np.float64) for a in (case.x, case.w, case.b))
    param = case.param
    dx = eval_numerical_gradient_array(lambda v: conv_forward_fast(v, w, b, param)[0], x, case.dout)
    dw = eval_numerical_gradient_array(lambda v: conv_forward_fast(x, v, b, param)[0], w, case.dout)
    db = eval_numerical_gradient_array(lambda v: conv_forward_fast(x, w, v, param)[0], b, case.dout)
    return dx, dw, db


def check_conv_backward(conv_forward, conv_backward):
    """conv_backward(dout, cache) -> (dx, dw, db) must match conv_backward_fast and a numerical gradient."""
    cases = backward_cases()
    results = [_check_backward_case(conv_forward, conv_backward, case, index, cases)
               for index, case in enumerate(cases)]
    # A second, independent oracle on the overlapping case: the numerical gradient.
    case, grads = cases[1], results[1]
    for name, got, numerical in zip(("dx", "dw", "db"), grads, _numerical_gradients(case)):
        error = rel_error(got, numerical)
        if not error < GRADIENT_TOLERANCE:
            fail(f"conv_backward_naive on {case.describe()}: {name} against the numerical gradient",
                 f"a relative error below {GRADIENT_TOLERANCE:g}", f"{error:.2e}", BACKWARD_HINT)
    passed(f"dx, dw and db match conv_backward_fast on {len(cases)} cases (with and without overlapping "
           f"windows) and a numerical gradient (relative errors below {GRADIENT_TOLERANCE:g})")
