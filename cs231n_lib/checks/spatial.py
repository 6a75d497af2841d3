"""Checks for notebook 01, spatial arithmetic: output sizes, padding, parameter counts.

The student works each answer out by hand with a formula; the references
are ``cs231n_lib.shapes`` (``conv_output_size``, ``pool_output_size``) and
the parameter count K * (F * F * C + 1) written out here. When a wrong
answer equals what a known slip would give (the +1 forgotten, the padding
left out or added on one side only, a stride that does not fit hidden by
integer division, the biases forgotten, filters that do not span the full
depth, ...), the message names that slip.
"""

import math
import numbers

import numpy as np

from cs231n_lib.checks.common import fail, passed, require_answered
from cs231n_lib.shapes import conv_output_size, format_volume, pool_output_size

WHERE = "the answer cell above"


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
        expected_text = str(expected)
    else:
        if not _is_whole(got) and abs(got - exact) < 0.01:
            passed(
                f"{name} = {formula} = {exact:.2f}, not a whole number: stride {stride} does not fit, "
                f"so the library refuses this layer"
            )
            return
        expected_text = f"the exact value {exact:.2f}, which is not a whole number"
        if _is_whole(got) and got in (math.floor(exact), round(exact)):
            fail(what, expected_text, _show(got),
                 "looks like integer division (//), int() or round() hid the remainder: the formula "
                 f"gives {exact:.2f}, so stride {stride} does not fit this input and there is no whole "
                 f"output size. Use / and keep the fraction. The library says: {refusal}")

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
    fail(what, expected_text, _show(got),
         _looks_like(found, f"use (N - F + 2P) / S + 1 = {formula}.") + _fraction_hint(expected))


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
    fail(what, str(expected), _show(got), _looks_like(found, "solve N - F + 2P + 1 = N for P.") + effect)


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


def _check_params(got, num_filters, f, depth, what, positions=None):
    """Fail unless ``got`` is K * (F*F*C + 1); on success return that sum written out."""
    expected = num_filters * (f * f * depth + 1)
    formula = f"{num_filters} * ({f}*{f}*{depth} + 1)"
    if _same(got, expected):
        return f"K * (F*F*C + 1) = {formula} = {expected:,}"
    found = _diagnose(got, expected, _param_slips(num_filters, f, depth, positions))
    fail(what, f"{expected:,}", _show(got),
         _looks_like(found, f"each of the K filters has F*F*C weights and one bias: {formula}."))


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
    passed(f"{name} = {_check_params(got, num_filters, f, depth, what, positions)}: one bias per filter, "
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
        fail(what, expected, got, _looks_like([slip] if slip else [],
                                              "K filters give K maps of the same H x W."))
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
        fail(what, expected, got, _looks_like([slip] if slip else [],
                                              f"pooling keeps the depth; each side is ({H} - {size}) / "
                                              f"{stride} + 1, without padding."))
    what = f"{params_name}, the parameters of a max-pooling layer"
    got_params = _number(params, what, f"store the count, a whole number, in {params_name}")
    if got_params != 0:
        fail(what, 0, _show(got_params),
             "pooling takes a fixed maximum over each window: there are no weights or biases to learn.")
    passed(f"{shape_name} = {expected} ({format_volume(expected)}) and {params_name} = 0: pooling "
           "shrinks H and W, keeps the depth and learns nothing")
