"""Checks for notebook 01, spatial arithmetic: output sizes, padding, parameter counts.

The student works each answer out by hand with a formula. These checks are
called with the question's numbers (N, F, S, P, ...), so they stay general:
they evaluate the formula the notebook teaches (``cs231n_lib.shapes`` and
K * (F * F * C + 1)), but a failure message never prints the expected value;
it says what is wrong and how to work the answer out. When a wrong answer
equals what a known slip would give (the +1 forgotten, the padding left out,
added on one side only or subtracted, N and F swapped, a stride that does
not fit hidden by integer division, the biases forgotten, filters that do
not span the full depth, K and C swapped, ...), the message names that slip.
The slips named below by QUESTION_SLIPS are recognised from salted hashes of
the wrong value they give on the notebook's own question (``answer_digest``
in ``common``); tests/test_checks_spatial.py keeps those slips and proves
the hashes.
"""

import math
import numbers

import numpy as np

from cs231n_lib.checks.common import fail, matches_digest, passed, require_answered
from cs231n_lib.shapes import conv_output_size, format_volume, pool_output_size

WHERE = "the answer cell above"

# Slips recognised on the notebook's questions: (check, the question's numbers) -> salted hashes
# (tag = the check) of the wrong value each slip gives, with its name. The question's numbers are
# (N, F, S, P) for output sizes, (K, F, C, P) for parameter counts, (C, H, W, F, S) for pools.
_SWAPPED = ("swapped N and F: the formula starts with N - F, the input size minus the filter size; "
            "F - N gives a negative size")
_SWAPPED_KC = ("swapped K and C: K is the number of filters and C the depth of the input, "
               "and each filter has F*F*C weights")
QUESTION_SLIPS = {
    ("output_size", (227, 11, 4, 0)): (
        ("0666f20ae1dfd616", "used N = 224, the input size printed in the AlexNet paper: with 224, "
                             "stride 4 does not fit; the network's real input is 227x227, so N = 227"),
        ("39c23f6ba2ef5014", _SWAPPED),
    ),
    ("output_size", (33, 7, 2, 3)): (
        ("8912443830f5b4ea", "subtracted the padding (a minus sign): padding adds P zeros on each side, "
                             "so the input grows to N + 2P"),
    ),
    ("params", (64, 3, 32, 1)): (
        ("e62f0d95fc0c8b68", "counted the padding into the filter size: padding adds zeros around the "
                             "input, the filter stays F x F, so the padding does not enter the count"),
        ("e7401c9d12e43895", _SWAPPED_KC),
    ),
    ("params", (64, 1, 256, 0)): (
        ("5314bd0b800b2de0", _SWAPPED_KC),
    ),
    ("pool", (256, 13, 13, 3, 2)): (
        ("65cd6e056cd0e682", "did not divide by the stride S: the window moves S pixels per step, "
                             "so each side is (N - F) / S + 1"),
    ),
}


def _question_slips(check, question, got):
    """The names of the slips whose hashed wrong value on this question is ``got``."""
    return [text for digest, text in QUESTION_SLIPS.get((check, tuple(question)), ())
            if matches_digest(got, digest, tag=check)]


# ---------------------------------------------------------------------------
# Reading answers
# ---------------------------------------------------------------------------


def _number(value, what, hint):
    """A real number from an int, float or numpy scalar; anything else fails the check."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        fail(what, "a number", f"{value!r} of type {type(value).__name__}", hint)
    value = float(value)
    if not math.isfinite(value):
        fail(what, "a finite number", _show(value), hint)
    return value


def _is_whole(x):
    return float(x).is_integer()


def _show(x):
    """32.0 -> '32', 2.3333 -> '2.33'."""
    x = float(x)
    if not math.isfinite(x):
        return str(x)
    return f"{int(x):,}" if x.is_integer() else f"{x:.2f}"


def _same(got, value):
    return math.isclose(got, value, rel_tol=1e-9, abs_tol=1e-9)


def _matches(got, value):
    """``got`` is ``value``, or is ``value`` cut down to a whole number by // or int()."""
    if _same(got, value):
        return True
    return _is_whole(got) and not _is_whole(value) and got == math.floor(value)


def _diagnose(got, expected, slips):
    """The descriptions of the slips whose result equals ``got`` (slips that give the right answer are skipped)."""
    return [text for value, text in slips if not _matches(expected, value) and _matches(got, value)]


def _looks_like(found, otherwise):
    if not found:
        return otherwise
    return "looks like you " + "; or you ".join(found) + "."


def _shape(value, what, hint):
    """A (C, H, W) tuple of whole numbers from a tuple, list or array of three numbers."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if not isinstance(value, (tuple, list)):
        fail(what, "a (C, H, W) tuple of three whole numbers", f"{value!r} of type {type(value).__name__}", hint)
    if len(value) != 3:
        fail(what, "a (C, H, W) tuple of three whole numbers", f"{len(value)} numbers: {tuple(value)!r}", hint)
    numbers_ = [_number(v, what, hint) for v in value]
    if not all(_is_whole(v) for v in numbers_):
        fail(what, "whole numbers", tuple(_show(v) for v in numbers_), hint)
    return tuple(int(v) for v in numbers_)


# ---------------------------------------------------------------------------
# Output size of a convolution along one axis
# ---------------------------------------------------------------------------


def check_output_size(answer, n, f, stride=1, pad=0, *, name="your answer"):
    """Check a hand-computed output size (N - F + 2P) / S + 1.

    When the stride fits, the answer is that whole number. When it does not
    fit, ``conv_output_size`` refuses the layer, and the answer is the exact,
    unrounded value of the formula (to two decimals), which shows why.
    """
    value = require_answered(answer, name, WHERE)
    formula = f"({n} - {f} + 2*{pad}) / {stride} + 1"
    what = f"{name}, the output size for N={n}, F={f}, S={stride}, P={pad}"
    hint = f"work out {formula} and store the number in {name}"
    got = _number(value, what, hint)
    exact = (n - f + 2 * pad) / stride + 1
    try:
        expected = conv_output_size(n, f, stride, pad)
    except ValueError as err:
        expected, refusal = None, str(err)

    if expected is not None:
        if _same(got, expected):
            passed(f"{name} = {formula} = {expected}")
            return
        expected_text = "(N - F + 2P) / S + 1, a whole number here"
    else:
        if not _is_whole(got) and abs(got - exact) < 0.01:
            passed(
                f"{name} = {formula} = {exact:.2f}, not a whole number: stride {stride} does not fit, "
                f"so the library refuses this layer"
            )
            return
        expected_text = "the exact value of (N - F + 2P) / S + 1, which is not a whole number here"
        if _is_whole(got) and got in (math.floor(exact), round(exact)):
            fits = refusal.split("; ", 1)[1] if "; " in refusal else ""
            fail(what, expected_text, _show(got),
                 "looks like integer division (//), int() or round() hid the remainder: stride "
                 f"{stride} does not fit this input, so there is no whole output size. Use / and keep "
                 "the fraction, to two decimals or more." + (f" The library says that {fits}." if fits else ""))

    slips = [((n - f + 2 * pad) / stride, "forgot the +1: (N - F + 2P) / S counts the steps between "
                                           "positions, and the first position comes before any step")]
    if pad:
        slips += [
            ((n - f) / stride + 1, "forgot the padding: with P zeros on each side the input is N + 2P wide, "
                                   "so use N - F + 2P"),
            ((n - f + pad) / stride + 1, "padded only one side (P instead of 2P): the zeros go on both "
                                         "sides, so the input grows by 2P"),
            ((n - f) / stride, "forgot both the padding (2P) and the +1"),
        ]
    if stride > 1:
        slips.append(((n - f + 2 * pad) + 1, "did not divide by the stride S: the filter moves S pixels "
                                             "per step"))
    found = _diagnose(got, expected if expected is not None else exact, slips)
    found += _question_slips("output_size", (n, f, stride, pad), got)
    if not found and got <= 0:
        found = ["got a size that is not positive: check the signs, N - F + 2P is the input size plus "
                 "the padding minus the filter size"]
    fail(what, expected_text, _show(got),
         _looks_like(found, "put the numbers N, F, S and P above into (N - F + 2P) / S + 1.")
         + _fraction_hint(expected))


def _fraction_hint(expected):
    if expected is None:
        return " When S does not divide N - F + 2P, the answer is that fraction itself, unrounded."
    return ""


# ---------------------------------------------------------------------------
# Zero padding that keeps the size
# ---------------------------------------------------------------------------


def check_same_padding(answer, f, n=32, *, name="your answer"):
    """Check the padding P that keeps an N x N input N x N under an F x F filter at stride 1: (F - 1) / 2."""
    if f % 2 == 0:
        raise ValueError(f"check_same_padding needs an odd filter size, got {f}: no whole P keeps the size")
    value = require_answered(answer, name, WHERE)
    what = f"{name}, the padding that keeps a {n}x{n} input {n}x{n} under a {f}x{f} filter at stride 1"
    hint = "the output size at stride 1 is N - F + 2P + 1; choose P so that it equals N"
    got = _number(value, what, hint)
    expected = (f - 1) // 2
    if _same(got, expected):
        passed(f"{name} = ({f} - 1) / 2 = {expected}: ({n} - {f} + 2*{expected}) / 1 + 1 = "
               f"{conv_output_size(n, f, 1, expected)}")
        return
    slips = [
        (f - 1, "used F - 1, the total number of pixels the filter trims from each axis; P counts the "
                "zeros on EACH side, so that total is split over two sides: (F - 1) / 2"),
        (f, "padded by the filter size F; the filter only trims F - 1 pixels per axis, half on each side"),
        ((f + 1) / 2, "used (F + 1) / 2, one zero too many on each side"),
        (0, "left the padding out: without zeros the output shrinks by F - 1"),
    ]
    found = [text for value_, text in slips if _same(got, value_)]
    if not found and _same(got, f / 2):
        found = ["used F / 2, which is not a whole number for an odd F; padding comes in whole pixels"]
    effect = ""
    if _is_whole(got) and got >= 0:
        size = n - f + 2 * int(got) + 1
        effect = f" With P = {int(got)} the output would be {size}x{size}, not {n}x{n}."
    fail(what, "the P for which N - F + 2P + 1 = N", _show(got),
         _looks_like(found, "solve N - F + 2P + 1 = N for P.") + effect)


# ---------------------------------------------------------------------------
# Parameter counts
# ---------------------------------------------------------------------------


def _param_slips(num_filters, f, depth, positions=None):
    K, C = num_filters, depth
    weights = f * f * C
    slips = [
        (K * weights, "forgot the biases: each of the K filters also has one bias, so add K"),
        (K * (f * f + 1), f"used filters that do not span the full depth: each filter is {f}x{f}x{C}, "
                          f"so it has {f}*{f}*{C} = {weights} weights, not {f}*{f}"),
        (K * f * f, f"forgot both the biases and the depth: each filter has {f}*{f}*{C} weights and 1 bias"),
        (K * weights + 1, "gave the whole layer one bias: there is one bias per filter"),
        (weights + 1, f"counted a single filter: the layer has K = {K} of them"),
    ]
    if positions and positions > 1:
        slips.append((K * (weights + 1) * positions,
                      f"counted the weights again at each of the {positions} output positions: the same "
                      "filter is reused at every position (parameter sharing), so the image size does not "
                      "enter the count"))
    return slips


def _check_params(got, num_filters, f, depth, what, positions=None, pad=0):
    """Fail unless ``got`` is K * (F*F*C + 1); on success return that sum written out."""
    expected = num_filters * (f * f * depth + 1)
    formula = f"{num_filters} * ({f}*{f}*{depth} + 1)"
    if _same(got, expected):
        return f"K * (F*F*C + 1) = {formula} = {expected:,}"
    found = _diagnose(got, expected, _param_slips(num_filters, f, depth, positions))
    found += _question_slips("params", (num_filters, f, depth, pad), got)
    fail(what, "K * (F*F*C + 1), weights and biases", _show(got),
         _looks_like(found, "each of the K filters has F*F*C weights and one bias: K * (F*F*C + 1), "
                            "with K, F and C from the question."))


def check_param_count(answer, num_filters, f, depth, *, input_size=None, stride=1, pad=0,
                      name="your answer"):
    """Check a hand-counted number of parameters of a convolution layer, K * (F * F * C + 1).

    ``input_size`` (with ``stride`` and ``pad``) is only used to recognise an
    answer that counted the weights once per output position.
    """
    value = require_answered(answer, name, WHERE)
    what = f"{name}, the parameters of {num_filters} filters of size {f}x{f} on an input of depth {depth}"
    got = _number(value, what, f"store the count, a whole number, in {name}")
    positions = None
    if input_size is not None:
        positions = conv_output_size(input_size, f, stride, pad) ** 2
    passed(f"{name} = {_check_params(got, num_filters, f, depth, what, positions, pad)}: one bias per filter, "
           "and the image size does not enter the count")


# ---------------------------------------------------------------------------
# 1x1 convolutions
# ---------------------------------------------------------------------------


def _shape_slips(got, expected, input_shape, kind):
    """Common ways a (C, H, W) answer goes wrong."""
    C, H, W = input_shape
    K, H_out, W_out = expected
    if got == (H_out, W_out, K):
        return ("wrote the volume in the lecture's order H x W x C; the library writes volumes as "
                "(C, H, W), depth first (format_volume converts one into the other)")
    if kind == "conv" and got == (C, H_out, W_out) and C != K:
        return "kept the input depth: the output depth is the number of filters K, one map per filter"
    if kind == "pool" and got[0] != C:
        return ("changed the depth: pooling works on each activation map separately, so the depth "
                "stays C")
    return None


def check_1x1(shape, params, input_shape, num_filters, *, names=("your shape", "your count")):
    """Check the output volume (C, H, W) and the parameter count of a layer of 1x1 filters."""
    shape_name, params_name = names
    shape = require_answered(shape, shape_name, WHERE)
    params = require_answered(params, params_name, WHERE)
    C, H, W = input_shape
    expected = (num_filters, H, W)
    what = (f"{shape_name}, the output of {num_filters} 1x1 filters on a "
            f"{format_volume(input_shape)} volume (C, H, W) = {tuple(input_shape)}")
    got = _shape(shape, what, f"write the volume as a tuple (C, H, W), e.g. {tuple(input_shape)}")
    if got != expected:
        slip = _shape_slips(got, expected, input_shape, "conv")
        if slip is None and got[1:] != (H, W):
            slip = ("changed the width or height: a 1x1 filter fits at every pixel, (N - 1 + 2*0) / 1 + 1 "
                    "= N, so a 1x1 convolution keeps H and W")
        fail(what, "(K, H, W): K maps of the input's H x W", got,
             _looks_like([slip] if slip else [], "K filters give K maps of the same H x W."))
    what = f"{params_name}, the parameters of {num_filters} 1x1 filters on an input of depth {C}"
    got_params = _number(params, what, f"store the count, a whole number, in {params_name}")
    count = _check_params(got_params, num_filters, 1, C, what, H * W)
    passed(f"{shape_name} = {expected} ({format_volume(expected)}), the same H x W with depth "
           f"{num_filters}; {params_name} = {count}")


# ---------------------------------------------------------------------------
# Pooling
# ---------------------------------------------------------------------------


def check_pool(shape, params, input_shape, size, stride, *, names=("your shape", "your count")):
    """Check the output volume (C, H, W) and parameter count (0) of a max-pooling layer."""
    shape_name, params_name = names
    shape = require_answered(shape, shape_name, WHERE)
    params = require_answered(params, params_name, WHERE)
    C, H, W = input_shape
    expected = (C, pool_output_size(H, size, stride), pool_output_size(W, size, stride))
    what = (f"{shape_name}, the output of a {size}x{size} max pool with stride {stride} on a "
            f"{format_volume(input_shape)} volume (C, H, W) = {tuple(input_shape)}")
    got = _shape(shape, what, f"write the volume as a tuple (C, H, W), e.g. {tuple(input_shape)}")
    if got != expected:
        slip = _shape_slips(got, expected, input_shape, "pool")
        if slip is None and got[1:] == ((H - size) // stride,) * 2:
            slip = "forgot the +1: (N - F) / S counts the steps, and there is one more window than steps"
        if slip is None:
            slip = next(iter(_question_slips("pool", (C, H, W, size, stride), got)), None)
        fail(what, "(C, H', W'): the same depth C, each side (N - F) / S + 1", got,
             _looks_like([slip] if slip else [],
                         f"pooling keeps the depth; each side is ({H} - {size}) / {stride} + 1, without padding."))
    what = f"{params_name}, the parameters of a max-pooling layer"
    got_params = _number(params, what, f"store the count, a whole number, in {params_name}")
    if got_params != 0:
        fail(what, "the number of weights and biases a max pool learns", _show(got_params),
             "pooling takes a fixed maximum over each window: there are no weights or biases to learn.")
    passed(f"{shape_name} = {expected} ({format_volume(expected)}) and {params_name} = 0: pooling "
           "shrinks H and W, keeps the depth and learns nothing")
