"""Checks for notebook 01, spatial arithmetic: output sizes, padding, parameter counts.

The student works each answer out by hand with a formula. These checks hold
no formula and no answer: QUESTIONS stores, for each question the notebook
asks (the check and the question's numbers), a salted hash of the right
answer (``answer_digest`` in ``common``) and salted hashes of the wrong value
each known slip gives on that question (the +1 forgotten, the padding left
out, added on one side only or subtracted, N and F swapped, a stride that
does not fit hidden by integer division, the biases forgotten, filters that
do not span the full depth, K and C swapped, ...), with the slip's name. A
failure message never prints the expected value: it says what is wrong and
how to work the answer out. A check asked about a question that is not in
QUESTIONS raises ValueError (no worked answer is stored for it).
tests/test_checks_spatial.py keeps the formulas, the right one and every
slip, and proves each hash.
"""

import math
import numbers

import numpy as np

from cs231n_lib.checks.common import fail, matches_digest, passed, require_answered
from cs231n_lib.shapes import format_volume

WHERE = "the answer cell above"

# Whole numbers are compared exactly; any other number to this many significant digits
# (3.14 and 3.1416 are the same answer, 3.1 is not). A number that is not whole never
# equals a whole one (54.999 is not 55).
ANSWER_DIGITS = 3

# The slips, by name. Each text is formatted with the question's given numbers
# (N, F, S, P for output sizes; K, F, C for parameter counts; C, H, W, K, F, S for volumes).
SLIPS = {
    # output size (N - F + 2P) / S + 1
    "forgot_plus_one": "forgot the +1: (N - F + 2P) / S counts the steps between positions, and the first "
                       "position comes before any step",
    "forgot_padding": "forgot the padding: with P zeros on each side the input is N + 2P wide, so use N - F + 2P",
    "padded_one_side": "padded only one side (P instead of 2P): the zeros go on both sides, so the input "
                       "grows by 2P",
    "forgot_padding_and_plus_one": "forgot both the padding (2P) and the +1",
    "no_stride": "did not divide by the stride S: the filter moves S pixels per step",
    "swapped_n_f": "swapped N and F: the formula starts with N - F, the input size minus the filter size; "
                   "F - N gives a negative size",
    "padding_subtracted": "subtracted the padding (a minus sign): padding adds P zeros on each side, so the "
                          "input grows to N + 2P",
    "paper_224": "used N = 224, the input size printed in the AlexNet paper: with 224, stride 4 does not fit; "
                 "the network's real input is 227x227, so N = 227",
    # Only the 7x7 input with a 3x3 filter and stride 3 (section 4) has a stride that does not fit;
    # the last sentence quotes the library's refusal of that layer.
    "integer_division_stride3": "used integer division (//), int() or round(), which hid the remainder: "
                                "stride {S} does not fit this input, so there is no whole output size. Use / "
                                "and keep the fraction, to two decimals or more. The library says that pad=1 "
                                "(with stride 3) or stride=2 or stride=4 (with pad 0) would fit",
    # padding that keeps the size
    "pad_f_minus_1": "used F - 1, the total number of pixels the filter trims from each axis; P counts the "
                     "zeros on EACH side, so that total is split over the two sides",
    "pad_f": "padded by the filter size F; the filter only trims F - 1 pixels per axis, split over both sides",
    "pad_f_plus_1_half": "used (F + 1) / 2, one zero too many on each side",
    "pad_f_half": "used F / 2, which is not a whole number for an odd F; padding comes in whole pixels",
    "no_padding": "left the padding out: without zeros the output shrinks by F - 1",
    # parameter counts K * (F*F*C + 1)
    "forgot_biases": "forgot the biases: each of the K filters also has one bias, so add K",
    "not_full_depth": "used filters that do not span the full depth: each filter is F x F x C, so it has "
                      "F*F*C weights (F={F}, C={C}), not F*F",
    "no_biases_no_depth": "forgot both the biases and the depth: each filter has F*F*C weights (F={F}, C={C}) "
                          "and 1 bias",
    "one_bias_per_layer": "gave the whole layer one bias: there is one bias per filter",
    "one_filter": "counted a single filter: the layer has K = {K} of them",
    "per_position": "counted the weights again at each output position: the same filter is reused at every "
                    "position (parameter sharing), so the image size does not enter the count",
    "padding_in_filter": "counted the padding into the filter size: padding adds zeros around the input, the "
                         "filter stays F x F, so the padding does not enter the count",
    "swapped_k_c": "swapped K and C: K is the number of filters and C the depth of the input, and each filter "
                   "has F*F*C weights",
    # output volumes (C, H, W)
    "hwc_order": "wrote the volume in the lecture's order H x W x C; the library writes volumes as (C, H, W), "
                 "depth first (format_volume converts one into the other)",
    "kept_input_depth": "kept the input depth: the output depth is the number of filters K, one map per filter",
    "changed_width_1x1": "changed the width or height: a 1x1 filter fits at every pixel; put F = 1, S = 1 and "
                         "P = 0 into (N - F + 2P) / S + 1",
    "pool_changed_depth": "changed the depth: pooling works on each activation map separately, it neither "
                          "mixes nor drops maps",
    "pool_forgot_plus_one": "forgot the +1: (N - F) / S counts the steps, and there is one more window than steps",
    "pool_no_stride": "did not divide by the stride S: the window moves S pixels per step, so each side is "
                      "(N - F) / S + 1",
}

# The notebook's questions: (check, the question's numbers) -> (salted hash of the right answer,
# ((salted hash of the wrong value a slip gives, the slip's name in SLIPS), ...)). Each hash is
# answer_digest(value, ANSWER_DIGITS, tag=_tag(check, question)). The question's numbers are
# (N, F, S, P) for "output_size"; (F, N) for "same_padding"; (K, F, C, input size, S, P) for
# "params"; (C, H, W, K) for "1x1_shape" and "1x1_params"; (C, H, W, F, S) for "pool_shape"
# and "pool_params".
QUESTIONS = {
    ('output_size', (227, 11, 4, 0)): ("1c2fd4d68f9dd62c", (
        ("749e668b8cddf0e4", "forgot_plus_one"),
        ("dc330a0e70952281", "no_stride"),
        ("bb6ee46922a3dbe1", "paper_224"),
        ("54be79309b79c467", "swapped_n_f"),
    )),
    ('output_size', (7, 3, 3, 0)): ("d04f42bb1bbf98a5", (
        ("43067232f66db13a", "forgot_plus_one"),
        ("df005b166501a38e", "no_stride"),
        ("239b900123e6fcfa", "forgot_plus_one"),
        ("ee1ebf5217e982da", "integer_division_stride3"),
    )),
    ('output_size', (32, 5, 1, 2)): ("d528aade04e1a7d2", (
        ("87df62e7b6636eae", "forgot_plus_one"),
        ("0c104eb7f8e56765", "forgot_padding"),
        ("d57dcc94193c22bc", "padded_one_side"),
        ("ecb8912f4a57058b", "forgot_padding_and_plus_one"),
    )),
    ('output_size', (33, 7, 2, 3)): ("306788e4f49255df", (
        ("567f427a3f0fdc30", "forgot_plus_one"),
        ("3ad11590dbc903e1", "forgot_padding"),
        ("4080793ff38a4444", "padded_one_side"),
        ("4f59f037bf8c1a33", "forgot_padding_and_plus_one"),
        ("19f244ed526839e8", "no_stride"),
        ("07a65fa70a25b14a", "padded_one_side"),
        ("66a2f434958410eb", "padding_subtracted"),
    )),
    ('same_padding', (11, 64)): ("53519664642b9a5c", (
        ("0f259569423d151f", "pad_f_minus_1"),
        ("189069401ad96ded", "pad_f"),
        ("ba1e4432f1e2355a", "pad_f_plus_1_half"),
        ("401ffd31a8769eab", "pad_f_half"),
        ("99bde66eaaf6ae2e", "no_padding"),
    )),
    ('params', (64, 3, 32, 16, 1, 1)): ("fb26755379c83645", (
        ("7b8c2c43df846d4f", "forgot_biases"),
        ("a4fc34e0debead1f", "not_full_depth"),
        ("b65cfaf8fc5376e9", "no_biases_no_depth"),
        ("9d6d5e322a9b30e4", "one_bias_per_layer"),
        ("dfcbf5204d2bf940", "one_filter"),
        ("47c4a19894cbd038", "per_position"),
        ("c7f4d85611d8ad55", "swapped_k_c"),
        ("5e46f73288ab4801", "padding_in_filter"),
    )),
    ('1x1_shape', (256, 28, 28, 64)): ("1eccf6b0269ed4d5", (
        ("573a6edd19e674b5", "hwc_order"),
        ("89bf2b288f53f483", "kept_input_depth"),
        ("2495ceb36fae01e6", "changed_width_1x1"),
        ("b52c678d749b7c31", "changed_width_1x1"),
    )),
    ('1x1_params', (256, 28, 28, 64)): ("2aab9fc545b7bfde", (
        ("b1343c346e073ad1", "forgot_biases"),
        ("a6b68734de2ad3bb", "not_full_depth"),
        ("0935bab83e85747a", "no_biases_no_depth"),
        ("708f5818c14407b4", "one_bias_per_layer"),
        ("f79d22ba838d11d4", "one_filter"),
        ("bd46e3b0634d448d", "per_position"),
        ("9a196bb131d73cfc", "swapped_k_c"),
    )),
    ('pool_shape', (256, 13, 13, 3, 2)): ("75ff89b05ca521a4", (
        ("3848f9d2bf24b151", "hwc_order"),
        ("ad1d26179e495b89", "pool_changed_depth"),
        ("186af8611a336d5b", "pool_forgot_plus_one"),
        ("7d378805bc51b9e6", "pool_no_stride"),
    )),
    ('pool_params', (256, 13, 13, 3, 2)): ("0bbc007dd7a1b257", ()),
}


def _tag(check, question):
    """The salt of a question's hashes: a value hashes differently on every question."""
    return f"spatial/{check}/" + ",".join(str(number) for number in question)


def _question(check, question, asked):
    """The stored (answer hash, slips) of a question; ValueError if the notebook does not ask it."""
    question = tuple(question)
    try:
        return QUESTIONS[(check, question)]
    except KeyError:
        raise ValueError(
            f"{asked}: no worked answer is stored for this question. The checks of notebook 01 only "
            f"know the questions the notebook asks (QUESTIONS in cs231n_lib/checks/spatial.py); to ask "
            f"another, add its hashes there (tests/test_checks_spatial.py computes them)."
        ) from None


def _hashes_to(got, digest, tag):
    """Does the student's value hash to ``digest``? Whole numbers exactly, others to ANSWER_DIGITS digits."""
    for number in np.ravel(np.asarray(got, dtype=float)):
        if not number.is_integer() and float(f"{number:.{ANSWER_DIGITS}g}").is_integer():
            return False  # rounding would make a whole number of it
    return matches_digest(got, digest, ANSWER_DIGITS, tag)


def _judge(check, question, got, asked, given):
    """(is ``got`` the right answer?, the texts of the slips whose hashed wrong value ``got`` is)."""
    answer, slips = _question(check, question, asked)
    tag = _tag(check, question)
    if _hashes_to(got, answer, tag):
        return True, []
    found = []
    for digest, slip in slips:
        text = SLIPS[slip].format(**given)
        if text not in found and _hashes_to(got, digest, tag):
            found.append(text)
    return False, found


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
    """32.0 -> '32', 3.14159 -> '3.14'."""
    x = float(x)
    if not math.isfinite(x):
        return str(x)
    return f"{int(x):,}" if x.is_integer() else f"{x:.2f}"


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
    fit, the library refuses the layer, and the answer is the exact,
    unrounded value of the formula (to two decimals), which shows why.
    """
    formula = f"({n} - {f} + 2*{pad}) / {stride} + 1"
    question = (n, f, stride, pad)
    asked = f"check_output_size(N={n}, F={f}, S={stride}, P={pad})"
    _question("output_size", question, asked)
    value = require_answered(answer, name, WHERE)
    what = f"{name}, the output size for N={n}, F={f}, S={stride}, P={pad}"
    got = _number(value, what, f"work out {formula} and store the number in {name}")
    right, found = _judge("output_size", question, got, asked, {"N": n, "F": f, "S": stride, "P": pad})
    if right:
        if _is_whole(got):
            passed(f"{name} = {formula} = {_show(got)}")
        else:
            passed(f"{name} = {formula} = {_show(got)}, not a whole number: stride {stride} does not fit, "
                   "so the library refuses this layer")
        return
    if not found and got <= 0:
        found = ["got a size that is not positive: check the signs, N - F + 2P is the input size plus "
                 "the padding minus the filter size"]
    fail(what, "(N - F + 2P) / S + 1 with the question's numbers", _show(got),
         _looks_like(found, "put the numbers N, F, S and P above into (N - F + 2P) / S + 1; when S does "
                            "not divide N - F + 2P, keep the fraction, unrounded."))


# ---------------------------------------------------------------------------
# Zero padding that keeps the size
# ---------------------------------------------------------------------------


def check_same_padding(answer, f, n=32, *, name="your answer"):
    """Check the padding P that keeps an N x N input N x N under an F x F filter at stride 1."""
    if f % 2 == 0:
        raise ValueError(f"check_same_padding needs an odd filter size, got {f}: no whole P keeps the size")
    question = (f, n)
    asked = f"check_same_padding(F={f}, N={n})"
    _question("same_padding", question, asked)
    value = require_answered(answer, name, WHERE)
    what = f"{name}, the padding that keeps a {n}x{n} input {n}x{n} under a {f}x{f} filter at stride 1"
    hint = "the output size at stride 1 is N - F + 2P + 1; choose P so that it equals N"
    got = _number(value, what, hint)
    right, found = _judge("same_padding", question, got, asked, {"F": f, "N": n})
    if right:
        P = _show(got)
        passed(f"{name} = ({f} - 1) / 2 = {P}: ({n} - {f} + 2*{P}) / 1 + 1 = {n}")
        return
    fail(what, "the P for which N - F + 2P + 1 = N", _show(got),
         _looks_like(found, "solve N - F + 2P + 1 = N for P."))


# ---------------------------------------------------------------------------
# Parameter counts
# ---------------------------------------------------------------------------


def _check_params(check, question, got, num_filters, f, depth, what, asked):
    """Fail unless ``got`` is the right count; on success return K * (F*F*C + 1) written out."""
    right, found = _judge(check, question, got, asked, {"K": num_filters, "F": f, "C": depth})
    if right:
        return f"K * (F*F*C + 1) = {num_filters} * ({f}*{f}*{depth} + 1) = {_show(got)}"
    fail(what, "K * (F*F*C + 1), weights and biases", _show(got),
         _looks_like(found, "each of the K filters has F*F*C weights and one bias: K * (F*F*C + 1), "
                            "with K, F and C from the question."))


def check_param_count(answer, num_filters, f, depth, *, input_size=None, stride=1, pad=0,
                      name="your answer"):
    """Check a hand-counted number of parameters of a convolution layer, K * (F * F * C + 1).

    ``input_size``, ``stride`` and ``pad`` are part of the question (the count
    does not depend on them; an answer that counted the weights once per output
    position is named).
    """
    question = (num_filters, f, depth, input_size, stride, pad)
    asked = (f"check_param_count(K={num_filters}, F={f}, C={depth}, input_size={input_size}, "
             f"stride={stride}, pad={pad})")
    _question("params", question, asked)
    value = require_answered(answer, name, WHERE)
    what = f"{name}, the parameters of {num_filters} filters of size {f}x{f} on an input of depth {depth}"
    got = _number(value, what, f"store the count, a whole number, in {name}")
    count = _check_params("params", question, got, num_filters, f, depth, what, asked)
    passed(f"{name} = {count}: one bias per filter, and the image size does not enter the count")


# ---------------------------------------------------------------------------
# 1x1 convolutions
# ---------------------------------------------------------------------------


def check_1x1(shape, params, input_shape, num_filters, *, names=("your shape", "your count")):
    """Check the output volume (C, H, W) and the parameter count of a layer of 1x1 filters."""
    shape_name, params_name = names
    C, H, W = input_shape
    question = (C, H, W, num_filters)
    asked = f"check_1x1(input_shape={tuple(input_shape)}, K={num_filters})"
    _question("1x1_shape", question, asked)
    _question("1x1_params", question, asked)
    shape = require_answered(shape, shape_name, WHERE)
    params = require_answered(params, params_name, WHERE)
    what = (f"{shape_name}, the output of {num_filters} 1x1 filters on a "
            f"{format_volume(input_shape)} volume (C, H, W) = {tuple(input_shape)}")
    got = _shape(shape, what, f"write the volume as a tuple (C, H, W), e.g. {tuple(input_shape)}")
    right, found = _judge("1x1_shape", question, got, asked, {"C": C, "H": H, "W": W, "K": num_filters})
    if not right:
        fail(what, "the output volume as (C, H, W), depth first", got,
             _looks_like(found, "K filters give K maps; each side is (N - F + 2P) / S + 1 with F = 1, "
                                "S = 1 and P = 0."))
    what = f"{params_name}, the parameters of {num_filters} 1x1 filters on an input of depth {C}"
    got_params = _number(params, what, f"store the count, a whole number, in {params_name}")
    count = _check_params("1x1_params", question, got_params, num_filters, 1, C, what, asked)
    passed(f"{shape_name} = {got} ({format_volume(got)}), the same H x W with depth "
           f"{num_filters}; {params_name} = {count}")


# ---------------------------------------------------------------------------
# Pooling
# ---------------------------------------------------------------------------


def check_pool(shape, params, input_shape, size, stride, *, names=("your shape", "your count")):
    """Check the output volume (C, H, W) and parameter count of a max-pooling layer."""
    shape_name, params_name = names
    C, H, W = input_shape
    question = (C, H, W, size, stride)
    asked = f"check_pool(input_shape={tuple(input_shape)}, F={size}, S={stride})"
    _question("pool_shape", question, asked)
    _question("pool_params", question, asked)
    shape = require_answered(shape, shape_name, WHERE)
    params = require_answered(params, params_name, WHERE)
    given = {"C": C, "H": H, "W": W, "F": size, "S": stride}
    what = (f"{shape_name}, the output of a {size}x{size} max pool with stride {stride} on a "
            f"{format_volume(input_shape)} volume (C, H, W) = {tuple(input_shape)}")
    got = _shape(shape, what, f"write the volume as a tuple (C, H, W), e.g. {tuple(input_shape)}")
    right, found = _judge("pool_shape", question, got, asked, given)
    if not right:
        fail(what, "the output volume as (C, H, W), depth first", got,
             _looks_like(found, f"pooling keeps the depth; each side is ({H} - {size}) / {stride} + 1, "
                                    "without padding."))
    what = f"{params_name}, the parameters of a max-pooling layer"
    got_params = _number(params, what, f"store the count, a whole number, in {params_name}")
    right, _ = _judge("pool_params", question, got_params, asked, given)
    if not right:
        fail(what, "the number of weights and biases a max pool learns", _show(got_params),
             "pooling takes a fixed maximum over each window: there are no weights or biases to learn.")
    passed(f"{shape_name} = {got} ({format_volume(got)}) and {params_name} = {_show(got_params)}: pooling "
           "shrinks H and W, keeps the depth and learns nothing")
