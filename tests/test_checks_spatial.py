"""Tests for cs231n_lib.checks.spatial, the checks of notebook 01.

For every check: (a) the library's own numbers pass; (b) each named mistake,
written out below as a deliberately wrong formula, fails with an
AssertionError that names it; (c) an answer left at None (the student has
not filled in the cell yet) says it "is not implemented yet".
"""

import re

import numpy as np
import pytest

from cs231n_lib.checks.common import NOT_IMPLEMENTED, answer_digest, matches_digest
from cs231n_lib.checks.spatial import (
    QUESTION_SLIPS,
    check_1x1,
    check_output_size,
    check_param_count,
    check_pool,
    check_same_padding,
)
from cs231n_lib.shapes import Conv, Pool, conv_output_size, pool_output_size

# ---------------------------------------------------------------------------
# Output size: the right formula and the slips the check names
# ---------------------------------------------------------------------------


def right(n, f, s, p):
    return (n - f + 2 * p) / s + 1


def forgot_plus_one(n, f, s, p):
    return (n - f + 2 * p) / s


def forgot_padding(n, f, s, p):
    return (n - f) / s + 1


def padded_one_side(n, f, s, p):
    return (n - f + p) / s + 1


def padded_one_side_int(n, f, s, p):
    return (n - f + p) // s + 1


def forgot_padding_and_plus_one(n, f, s, p):
    return (n - f) / s


def no_stride(n, f, s, p):
    return (n - f + 2 * p) + 1


def swapped_n_and_f(n, f, s, p):
    return (f - n + 2 * p) / s + 1


def padding_subtracted(n, f, s, p):
    return (n - f - 2 * p) / s + 1


def integer_division(n, f, s, p):
    return (n - f + 2 * p) // s + 1


def rounded(n, f, s, p):
    return round((n - f + 2 * p) / s + 1)


FITTING = [(227, 11, 4, 0), (32, 5, 1, 2), (33, 7, 2, 3), (7, 3, 2, 0)]
NOT_FITTING = [(7, 3, 3, 0), (224, 7, 2, 3), (10, 3, 2, 0)]


def failure(check, *args, **kwargs):
    with pytest.raises(AssertionError) as info:
        check(*args, **kwargs)
    return str(info.value)


@pytest.mark.parametrize("case", FITTING)
def test_output_size_passes_on_the_library_value(case, capsys):
    n, f, s, p = case
    check_output_size(conv_output_size(n, f, s, p), n, f, s, p, name="size")
    check_output_size(right(n, f, s, p), n, f, s, p, name="size")  # a float from / passes too
    check_output_size(np.int64(conv_output_size(n, f, s, p)), n, f, s, p, name="size")
    out = capsys.readouterr()
    assert out.out.count("OK:") == 3 and not out.err
    assert f"({n} - {f} + 2*{p}) / {s} + 1 = {conv_output_size(n, f, s, p)}" in out.out


@pytest.mark.parametrize("case", NOT_FITTING)
def test_output_size_wants_the_unrounded_value_when_the_stride_does_not_fit(case, capsys):
    n, f, s, p = case
    with pytest.raises(ValueError):
        conv_output_size(n, f, s, p)
    check_output_size(right(n, f, s, p), n, f, s, p, name="size")
    check_output_size(round(right(n, f, s, p), 2), n, f, s, p, name="size")  # typed by hand
    assert "does not fit" in capsys.readouterr().out


@pytest.mark.parametrize("mistake", [integer_division, rounded])
@pytest.mark.parametrize("case", NOT_FITTING)
def test_output_size_names_integer_division_on_a_stride_that_does_not_fit(case, mistake):
    n, f, s, p = case
    message = failure(check_output_size, mistake(n, f, s, p), n, f, s, p, name="size")
    assert "integer division (//)" in message
    assert f"stride {s} does not fit" in message
    library = str(pytest.raises(ValueError, conv_output_size, n, f, s, p).value)
    assert library.split("; ", 1)[1] in message, "the library's advice on what would fit is quoted"
    assert f"{right(n, f, s, p):.2f}" not in message, "the exact value is not printed"


@pytest.mark.parametrize(
    "mistake, case, diagnosis",
    [
        (forgot_plus_one, (227, 11, 4, 0), "forgot the +1"),
        (forgot_plus_one, (32, 5, 1, 2), "forgot the +1"),
        (forgot_plus_one, (33, 7, 2, 3), "forgot the +1"),
        (forgot_padding, (32, 5, 1, 2), "forgot the padding"),
        (forgot_padding, (33, 7, 2, 3), "forgot the padding"),
        (padded_one_side, (32, 5, 1, 2), "padded only one side (P instead of 2P)"),
        (padded_one_side, (33, 7, 2, 3), "padded only one side (P instead of 2P)"),
        (padded_one_side_int, (33, 7, 2, 3), "padded only one side (P instead of 2P)"),
        (forgot_padding_and_plus_one, (32, 5, 1, 2), "forgot both the padding (2P) and the +1"),
        (no_stride, (227, 11, 4, 0), "did not divide by the stride"),
        (forgot_plus_one, (7, 3, 3, 0), "forgot the +1"),
        (swapped_n_and_f, (227, 11, 4, 0), "swapped N and F"),
        (swapped_n_and_f, (227, 11, 4, 0), "negative"),
        (padding_subtracted, (33, 7, 2, 3), "subtracted the padding"),
        (lambda n, f, s, p: right(224, f, s, p), (227, 11, 4, 0), "used N = 224"),
    ],
)
def test_output_size_names_each_slip(mistake, case, diagnosis):
    n, f, s, p = case
    message = failure(check_output_size, mistake(n, f, s, p), n, f, s, p, name="size")
    assert diagnosis in message
    assert message.startswith(f"size, the output size for N={n}, F={f}, S={s}, P={p}: expected")
    assert "Hint:" in message


def test_output_size_names_every_slip_an_answer_could_come_from():
    # (31 - 5 + 2*2) / 2 + 1 = 16; forgetting the +1 and padding one side both give 15.
    message = failure(check_output_size, 15, 31, 5, 2, 2, name="size")
    assert "forgot the +1" in message and "padded only one side" in message


def test_output_size_without_a_known_slip_gives_the_formula():
    message = failure(check_output_size, 99, 33, 7, 2, 3, name="size")
    assert "expected (N - F + 2P) / S + 1, a whole number here, got 99" in message
    assert "17" not in message


def test_output_size_says_a_negative_size_is_wrong_in_sign():
    assert "not positive" in failure(check_output_size, -3, 33, 7, 2, 3, name="size")


# The slips QUESTION_SLIPS recognises, as the student would write them, on the notebook's questions.
QUESTION_SLIP_VALUES = {
    ("output_size", (227, 11, 4, 0)): [right(224, 11, 4, 0), swapped_n_and_f(227, 11, 4, 0)],
    ("output_size", (33, 7, 2, 3)): [padding_subtracted(33, 7, 2, 3)],
    ("params", (64, 3, 32, 1)): [64 * ((3 + 2 * 1) ** 2 * 32 + 1),  # the padding counted into F
                                 32 * (3 * 3 * 64 + 1)],  # K and C swapped
    ("params", (64, 1, 256, 0)): [256 * (1 * 1 * 64 + 1)],  # K and C swapped
    ("pool", (256, 13, 13, 3, 2)): [(256, 13 - 3 + 1, 13 - 3 + 1)],  # the stride ignored
}
QUESTION_ANSWERS = {
    ("output_size", (227, 11, 4, 0)): 55, ("output_size", (33, 7, 2, 3)): 17,
    ("params", (64, 3, 32, 1)): 18_496, ("params", (64, 1, 256, 0)): 16_448,
    ("pool", (256, 13, 13, 3, 2)): (256, 6, 6),
}


def test_the_question_slip_hashes_are_the_slips_values():
    """QUESTION_SLIPS holds salted hashes of what each slip gives on the notebook's question."""
    assert set(QUESTION_SLIPS) == set(QUESTION_SLIP_VALUES)
    for key, values in QUESTION_SLIP_VALUES.items():
        check = key[0]
        assert [digest for digest, _ in QUESTION_SLIPS[key]] == [answer_digest(v, tag=check) for v in values]
        for digest, _ in QUESTION_SLIPS[key]:
            assert not matches_digest(QUESTION_ANSWERS[key], digest, tag=check)


def test_answer_digest_is_canonical():
    assert answer_digest(55) == answer_digest(55.0) == answer_digest(np.int64(55))
    assert answer_digest(7 / 3, 3) == answer_digest(2.33, 3) != answer_digest(2.34, 3)
    assert answer_digest((64, 28, 28)) == answer_digest([64.0, 28, 28]) == answer_digest(np.array([64, 28, 28]))
    assert answer_digest(55) != answer_digest(55, tag="other")
    assert not matches_digest("55", answer_digest(55)) and not matches_digest(None, answer_digest(55))


@pytest.mark.parametrize("answer", ["17", True, [17], float("nan")])
def test_output_size_wants_a_number(answer):
    message = failure(check_output_size, answer, 33, 7, 2, 3, name="size")
    assert "a number" in message or "a finite number" in message


def test_output_size_left_unanswered_is_not_implemented_yet():
    message = failure(check_output_size, None, 7, 3, 1, 0, name="output_size")
    assert f"output_size {NOT_IMPLEMENTED}" in message


# ---------------------------------------------------------------------------
# Same padding
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("f", [1, 3, 5, 7, 11])
def test_same_padding_passes_on_padding_that_keeps_the_size(f, capsys):
    pad = (f - 1) // 2
    assert conv_output_size(64, f, 1, pad) == 64
    check_same_padding(pad, f, 64, name="same_pad")
    check_same_padding(float(pad), f, 64, name="same_pad")
    assert capsys.readouterr().out.count("OK:") == 2


@pytest.mark.parametrize(
    "mistake, diagnosis",
    [
        (lambda f: f - 1, "used F - 1, the total"),
        (lambda f: f, "padded by the filter size F"),
        (lambda f: (f + 1) / 2, "used (F + 1) / 2, one zero too many"),
        (lambda f: (f + 1) // 2, "used (F + 1) / 2, one zero too many"),
        (lambda f: f / 2, "used F / 2, which is not a whole number"),
        (lambda f: 0, "left the padding out"),
    ],
)
def test_same_padding_names_each_slip(mistake, diagnosis):
    message = failure(check_same_padding, mistake(11), 11, 64, name="same_pad")
    assert diagnosis in message
    assert "expected the P for which N - F + 2P + 1 = N" in message
    assert not re.search(r"(?<![\w.])5(?![\d.])", message), "the answer 5 is not printed"


def test_same_padding_says_what_size_a_wrong_pad_gives():
    message = failure(check_same_padding, 10, 11, 64, name="same_pad")
    assert "With P = 10 the output would be 74x74, not 64x64" in message
    assert 74 == conv_output_size(64, 11, 1, 10)


def test_same_padding_refuses_an_even_filter():
    with pytest.raises(ValueError, match="odd filter size, got 4"):
        check_same_padding(1, 4)


def test_same_padding_left_unanswered_is_not_implemented_yet():
    assert NOT_IMPLEMENTED in failure(check_same_padding, None, 11, name="same_pad")


# ---------------------------------------------------------------------------
# Parameter counts
# ---------------------------------------------------------------------------

K, F, C, SIZE = 64, 3, 32, 16  # the notebook's exercise: 64 3x3 filters on 16x16x32, pad 1


def right_params(k, f, c):
    return k * (f * f * c + 1)


def forgot_biases(k, f, c):
    return k * f * f * c


def not_full_depth(k, f, c):
    return k * (f * f + 1)


def no_biases_no_depth(k, f, c):
    return k * f * f


def one_bias_per_layer(k, f, c):
    return k * f * f * c + 1


def one_filter(k, f, c):
    return f * f * c + 1


def per_position(k, f, c, positions=SIZE * SIZE):
    return k * (f * f * c + 1) * positions


def test_param_count_passes_on_the_library_count(capsys):
    library = Conv(K, F, pad=1).describe((C, SIZE, SIZE)).params
    assert library == right_params(K, F, C) == 18496
    check_param_count(library, K, F, C, input_size=SIZE, pad=1, name="conv_params")
    check_param_count(760, 10, 5, 3, name="lecture")  # ten 5x5 filters on 32x32x3
    assert capsys.readouterr().out.count("OK:") == 2


@pytest.mark.parametrize(
    "mistake, diagnosis",
    [
        (forgot_biases, "forgot the biases"),
        (not_full_depth, "filters that do not span the full depth"),
        (no_biases_no_depth, "forgot both the biases and the depth"),
        (one_bias_per_layer, "one bias per filter"),
        (one_filter, "counted a single filter"),
        (per_position, "parameter sharing"),
        (lambda k, f, c: c * (f * f * k + 1), "swapped K and C"),
        (lambda k, f, c: k * ((f + 2) ** 2 * c + 1), "counted the padding into the filter size"),
        (lambda k, f, c: k * ((f + 2) ** 2 * c + 1), "does not enter the count"),
    ],
)
def test_param_count_names_each_slip(mistake, diagnosis):
    message = failure(check_param_count, mistake(K, F, C), K, F, C, input_size=SIZE, pad=1, name="conv_params")
    assert diagnosis in message
    assert "expected K * (F*F*C + 1), weights and biases" in message
    assert "18,496" not in message and "18496" not in message


def test_param_count_names_the_lecture_slips():
    assert "forgot the biases" in failure(check_param_count, 750, 10, 5, 3)
    assert "full depth" in failure(check_param_count, 260, 10, 5, 3)


def test_param_count_left_unanswered_is_not_implemented_yet():
    assert f"conv_params {NOT_IMPLEMENTED}" in failure(check_param_count, None, K, F, C, name="conv_params")


# ---------------------------------------------------------------------------
# 1x1 convolutions
# ---------------------------------------------------------------------------

VOLUME, FILTERS = (256, 28, 28), 64
NAMES = ("reduce_shape", "reduce_params")


def test_1x1_passes_on_the_library_description(capsys):
    layer = Conv(FILTERS, 1).describe(VOLUME)
    check_1x1(layer.output_shape, layer.params, VOLUME, FILTERS, names=NAMES)
    check_1x1([64, 28, 28], 16448.0, VOLUME, FILTERS, names=NAMES)  # a list and a float are fine
    check_1x1(np.array([64, 28, 28]), np.int64(16448), VOLUME, FILTERS, names=NAMES)
    assert capsys.readouterr().out.count("OK:") == 3


@pytest.mark.parametrize(
    "shape, diagnosis",
    [
        ((28, 28, 64), "lecture's order H x W x C"),
        ((256, 28, 28), "kept the input depth"),
        ((64, 26, 26), "changed the width or height"),
    ],
)
def test_1x1_names_shape_slips(shape, diagnosis):
    message = failure(check_1x1, shape, 16448, VOLUME, FILTERS, names=NAMES)
    assert diagnosis in message and "expected (K, H, W)" in message
    assert "(64, 28, 28)" not in message and "28x28x64" not in message


@pytest.mark.parametrize(
    "mistake, diagnosis",
    [
        (forgot_biases, "forgot the biases"),
        (not_full_depth, "do not span the full depth"),
        (lambda k, f, c: per_position(k, f, c, positions=28 * 28), "parameter sharing"),
        (lambda k, f, c: c * (f * f * k + 1), "swapped K and C"),
    ],
)
def test_1x1_names_parameter_slips(mistake, diagnosis):
    message = failure(check_1x1, (64, 28, 28), mistake(FILTERS, 1, 256), VOLUME, FILTERS, names=NAMES)
    assert diagnosis in message and message.startswith("reduce_params")


@pytest.mark.parametrize("shape", [(64, 28), "64x28x28", (64, 28.5, 28)])
def test_1x1_wants_a_volume_of_three_whole_numbers(shape):
    assert "(C, H, W)" in failure(check_1x1, shape, 16448, VOLUME, FILTERS, names=NAMES)


@pytest.mark.parametrize(
    "shape, params, missing", [(None, 16448, "reduce_shape"), ((64, 28, 28), None, "reduce_params")]
)
def test_1x1_left_unanswered_is_not_implemented_yet(shape, params, missing):
    assert f"{missing} {NOT_IMPLEMENTED}" in failure(check_1x1, shape, params, VOLUME, FILTERS, names=NAMES)


# ---------------------------------------------------------------------------
# Pooling
# ---------------------------------------------------------------------------

POOL_IN = (256, 13, 13)
POOL_NAMES = ("pooled_shape", "pooled_params")


def test_pool_passes_on_the_library_description(capsys):
    layer = Pool(3, stride=2).describe(POOL_IN)
    assert layer.output_shape == (256, pool_output_size(13, 3, 2), 6)
    check_pool(layer.output_shape, layer.params, POOL_IN, 3, 2, names=POOL_NAMES)
    assert "OK:" in capsys.readouterr().out


@pytest.mark.parametrize(
    "shape, params, diagnosis",
    [
        ((6, 6, 256), 0, "lecture's order H x W x C"),
        ((1, 6, 6), 0, "changed the depth"),
        ((256, 5, 5), 0, "forgot the +1"),
        ((256, 11, 11), 0, "did not divide by the stride"),
        ((256, 6, 6), 3 * 3 * 256, "no weights or biases to learn"),
    ],
)
def test_pool_names_each_slip(shape, params, diagnosis):
    message = failure(check_pool, shape, params, POOL_IN, 3, 2, names=POOL_NAMES)
    assert diagnosis in message
    assert "(256, 6, 6)" not in message and "6x6x256" not in message
    assert "expected 0" not in message


def test_pool_left_unanswered_is_not_implemented_yet():
    message = failure(check_pool, None, None, POOL_IN, 3, 2, names=POOL_NAMES)
    assert f"pooled_shape {NOT_IMPLEMENTED}" in message


def test_messages_name_what_was_checked_expected_got_and_a_hint():
    message = failure(check_output_size, 54, 227, 11, 4, 0, name="alexnet_size")
    assert re.match(r"alexnet_size, .*: expected .*, got 54\.\nHint: ", message)
    assert "55" not in message
