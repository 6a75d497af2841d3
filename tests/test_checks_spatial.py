"""Tests for cs231n_lib.checks.spatial, the checks of notebook 01.

The check module holds no formula: QUESTIONS stores salted hashes of each
notebook question's answer and of the wrong values its slips give. Here the
formulas live, the right one and every slip, as reference functions, and
prove every hash (``REFERENCE`` rebuilds the table). Then, for every check:
(a) the right answer passes; (b) each named mistake, written out below as a
deliberately wrong formula, fails with an AssertionError that names it and
does not print the answer; (c) an answer left at None (the student has not
filled in the cell yet) says it "is not implemented yet"; (d) a question the
notebook does not ask raises ValueError.
"""

import math
import re

import numpy as np
import pytest

from cs231n_lib.checks import spatial
from cs231n_lib.checks.common import NOT_IMPLEMENTED, answer_digest, matches_digest
from cs231n_lib.checks.spatial import (
    ANSWER_DIGITS,
    QUESTIONS,
    check_1x1,
    check_output_size,
    check_param_count,
    check_pool,
    check_same_padding,
)
from cs231n_lib.shapes import Conv, Pool, conv_output_size, pool_output_size

# ---------------------------------------------------------------------------
# The formulas: output size (N, F, S, P)
# ---------------------------------------------------------------------------


def right(n, f, s, p):
    return (n - f + 2 * p) / s + 1


def forgot_plus_one(n, f, s, p):
    return (n - f + 2 * p) / s


def forgot_plus_one_int(n, f, s, p):
    return (n - f + 2 * p) // s


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


def paper_224(n, f, s, p):
    return right(224, f, s, p)


def integer_division(n, f, s, p):
    return (n - f + 2 * p) // s + 1


def rounded(n, f, s, p):
    return round((n - f + 2 * p) / s + 1)


def truncated(n, f, s, p):
    return int((n - f + 2 * p) / s + 1)


# ---------------------------------------------------------------------------
# The formulas: padding that keeps the size (F, N), parameter counts (K, F, C), volumes
# ---------------------------------------------------------------------------


def same_pad(f, n):
    return (f - 1) / 2


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


def per_position(k, f, c, positions):
    return k * (f * f * c + 1) * positions


def swapped_k_and_c(k, f, c):
    return c * (f * f * k + 1)


def padding_in_filter(k, f, c, pad):
    return k * ((f + 2 * pad) ** 2 * c + 1)


def conv_volume(shape, k, f, s, p):
    c, h, w = shape
    return (k, int(right(h, f, s, p)), int(right(w, f, s, p)))


def pool_volume(shape, f, s):
    c, h, w = shape
    return (c, int(right(h, f, s, 0)), int(right(w, f, s, 0)))


def hwc(volume):
    c, h, w = volume
    return (h, w, c)


# ---------------------------------------------------------------------------
# The table, rebuilt from the formulas: (check, question) -> (answer, [(slip value, slip name), ...])
# ---------------------------------------------------------------------------


def output_size_question(n, f, s, p, *, extra=()):
    """The slips the check names on an output-size question, as the old check chose them: the +1
    always, the padding slips when P > 0, the stride when S > 1; a value that is not whole also as
    // or int() would cut it; then the question's own slips ``extra``."""
    q = (n, f, s, p)
    answer = right(*q)
    slips = [(forgot_plus_one(*q), "forgot_plus_one")]
    if p:
        slips += [(forgot_padding(*q), "forgot_padding"), (padded_one_side(*q), "padded_one_side"),
                  (forgot_padding_and_plus_one(*q), "forgot_padding_and_plus_one")]
    if s > 1:
        slips.append((no_stride(*q), "no_stride"))
    slips += [(math.floor(value), slip) for value, slip in slips if not float(value).is_integer()]
    slips += [(mistake(*q), slip) for mistake, slip in extra]
    return answer, slips


def param_question(k, f, c, positions, *, extra=()):
    answer = right_params(k, f, c)
    slips = [(forgot_biases(k, f, c), "forgot_biases"), (not_full_depth(k, f, c), "not_full_depth"),
             (no_biases_no_depth(k, f, c), "no_biases_no_depth"),
             (one_bias_per_layer(k, f, c), "one_bias_per_layer"), (one_filter(k, f, c), "one_filter"),
             (per_position(k, f, c, positions), "per_position"), (swapped_k_and_c(k, f, c), "swapped_k_c")]
    return answer, slips + list(extra)


def reference_table():
    fits = conv_output_size  # raises ValueError when the stride does not fit
    assert fits(16, 3, 1, 1) == 16 and fits(28, 1, 1, 0) == 28 and pool_output_size(13, 3, 2) == 6
    reduce_out = conv_volume((256, 28, 28), 64, 1, 1, 0)
    pool_out = pool_volume((256, 13, 13), 3, 2)
    return {
        ("output_size", (227, 11, 4, 0)): output_size_question(
            227, 11, 4, 0, extra=[(paper_224, "paper_224"), (swapped_n_and_f, "swapped_n_f")]),
        ("output_size", (7, 3, 3, 0)): output_size_question(
            7, 3, 3, 0, extra=[(integer_division, "integer_division_stride3"),
                               (rounded, "integer_division_stride3"), (truncated, "integer_division_stride3")]),
        ("output_size", (32, 5, 1, 2)): output_size_question(32, 5, 1, 2),
        ("output_size", (33, 7, 2, 3)): output_size_question(
            33, 7, 2, 3, extra=[(padding_subtracted, "padding_subtracted")]),
        ("same_padding", (11, 64)): (same_pad(11, 64), [
            (11 - 1, "pad_f_minus_1"), (11, "pad_f"), ((11 + 1) / 2, "pad_f_plus_1_half"),
            ((11 + 1) // 2, "pad_f_plus_1_half"), (11 / 2, "pad_f_half"), (0, "no_padding")]),
        ("params", (64, 3, 32, 16, 1, 1)): param_question(
            64, 3, 32, conv_output_size(16, 3, 1, 1) ** 2,
            extra=[(padding_in_filter(64, 3, 32, 1), "padding_in_filter")]),
        ("1x1_shape", (256, 28, 28, 64)): (reduce_out, [
            (hwc(reduce_out), "hwc_order"), ((256, 28, 28), "kept_input_depth"),
            (conv_volume((256, 28, 28), 64, 3, 1, 0), "changed_width_1x1"),  # as a 3x3 without padding
            ((64, 27, 27), "changed_width_1x1")]),  # the +1 forgotten
        ("1x1_params", (256, 28, 28, 64)): param_question(64, 1, 256, 28 * 28),
        ("pool_shape", (256, 13, 13, 3, 2)): (pool_out, [
            (hwc(pool_out), "hwc_order"), ((1,) + pool_out[1:], "pool_changed_depth"),
            ((256, (13 - 3) // 2, (13 - 3) // 2), "pool_forgot_plus_one"),
            ((256, 13 - 3 + 1, 13 - 3 + 1), "pool_no_stride")]),
        ("pool_params", (256, 13, 13, 3, 2)): (0, []),
    }


REFERENCE = reference_table()


def digest(key, value):
    return answer_digest(value, ANSWER_DIGITS, tag=spatial._tag(*key))


def test_the_table_holds_the_notebooks_questions():
    assert set(QUESTIONS) == set(REFERENCE)


@pytest.mark.parametrize("key", list(REFERENCE), ids=str)
def test_the_answer_hash_is_the_formulas_answer(key):
    answer, _ = REFERENCE[key]
    assert QUESTIONS[key][0] == digest(key, answer)


@pytest.mark.parametrize("key", list(REFERENCE), ids=str)
def test_the_slip_hashes_are_what_each_slip_gives(key):
    answer, slips = REFERENCE[key]
    expected = {(digest(key, value), slip) for value, slip in slips if digest(key, value) != digest(key, answer)}
    assert set(QUESTIONS[key][1]) == expected
    assert len(QUESTIONS[key][1]) == len(expected), "no slip is listed twice"
    assert all(slip in spatial.SLIPS for _, slip in QUESTIONS[key][1])
    assert QUESTIONS[key][0] not in {d for d, _ in QUESTIONS[key][1]}


def test_every_slip_text_is_used():
    used = {slip for _, slips in QUESTIONS.values() for _, slip in slips}
    assert used == set(spatial.SLIPS)


def test_the_check_module_holds_no_formula_or_answer():
    import inspect

    source = inspect.getsource(spatial)
    assert "conv_output_size" not in source and "pool_output_size" not in source
    assert not re.search(r"\b(18,?496|16,?448|2\.33)\b", source)
    assert "(256, 6, 6)" not in source and "(64, 28, 28)" not in source


def test_answer_digest_is_canonical():
    assert answer_digest(55) == answer_digest(55.0) == answer_digest(np.int64(55))
    assert answer_digest(7 / 3, 3) == answer_digest(2.33, 3) != answer_digest(2.34, 3)
    assert answer_digest((64, 28, 28)) == answer_digest([64.0, 28, 28]) == answer_digest(np.array([64, 28, 28]))
    assert answer_digest(55) != answer_digest(55, tag="other")
    assert not matches_digest("55", answer_digest(55)) and not matches_digest(None, answer_digest(55))


def failure(check, *args, **kwargs):
    with pytest.raises(AssertionError) as info:
        check(*args, **kwargs)
    return str(info.value)


# ---------------------------------------------------------------------------
# Output size
# ---------------------------------------------------------------------------

FITTING = [(227, 11, 4, 0), (32, 5, 1, 2), (33, 7, 2, 3)]
NOT_FITTING = (7, 3, 3, 0)
OUTPUT_SIZE_QUESTIONS = FITTING + [NOT_FITTING]


@pytest.mark.parametrize("case", FITTING)
def test_output_size_passes_on_the_library_value(case, capsys):
    n, f, s, p = case
    check_output_size(conv_output_size(n, f, s, p), n, f, s, p, name="size")
    check_output_size(right(n, f, s, p), n, f, s, p, name="size")  # a float from / passes too
    check_output_size(np.int64(conv_output_size(n, f, s, p)), n, f, s, p, name="size")
    out = capsys.readouterr()
    assert out.out.count("OK:") == 3 and not out.err
    assert f"({n} - {f} + 2*{p}) / {s} + 1 = {conv_output_size(n, f, s, p)}\n" in out.out


@pytest.mark.parametrize("case", FITTING)
def test_output_size_wants_a_whole_number_exactly(case):
    n, f, s, p = case
    for near in (right(n, f, s, p) - 0.001, right(n, f, s, p) + 0.4):
        assert "expected (N - F + 2P) / S + 1" in failure(check_output_size, near, n, f, s, p, name="size")


def test_output_size_wants_the_unrounded_value_when_the_stride_does_not_fit(capsys):
    n, f, s, p = NOT_FITTING
    with pytest.raises(ValueError):
        conv_output_size(n, f, s, p)
    check_output_size(right(n, f, s, p), n, f, s, p, name="size")
    check_output_size(round(right(n, f, s, p), 2), n, f, s, p, name="size")  # typed by hand
    out = capsys.readouterr().out
    assert out.count("OK:") == 2 and "= 2.33, not a whole number: stride 3 does not fit" in out
    assert "expected" in failure(check_output_size, 2.3, n, f, s, p, name="size")  # one decimal is too few


@pytest.mark.parametrize("mistake", [integer_division, rounded, truncated])
def test_output_size_names_integer_division_on_a_stride_that_does_not_fit(mistake):
    n, f, s, p = NOT_FITTING
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
        (forgot_plus_one, (7, 3, 3, 0), "forgot the +1"),
        (forgot_plus_one_int, (7, 3, 3, 0), "forgot the +1"),
        (forgot_padding, (32, 5, 1, 2), "forgot the padding"),
        (forgot_padding, (33, 7, 2, 3), "forgot the padding"),
        (padded_one_side, (32, 5, 1, 2), "padded only one side (P instead of 2P)"),
        (padded_one_side, (33, 7, 2, 3), "padded only one side (P instead of 2P)"),
        (padded_one_side_int, (33, 7, 2, 3), "padded only one side (P instead of 2P)"),
        (forgot_padding_and_plus_one, (32, 5, 1, 2), "forgot both the padding (2P) and the +1"),
        (forgot_padding_and_plus_one, (33, 7, 2, 3), "forgot both the padding (2P) and the +1"),
        (no_stride, (227, 11, 4, 0), "did not divide by the stride"),
        (no_stride, (33, 7, 2, 3), "did not divide by the stride"),
        (no_stride, (7, 3, 3, 0), "did not divide by the stride"),
        (swapped_n_and_f, (227, 11, 4, 0), "swapped N and F"),
        (swapped_n_and_f, (227, 11, 4, 0), "negative"),
        (padding_subtracted, (33, 7, 2, 3), "subtracted the padding"),
        (paper_224, (227, 11, 4, 0), "used N = 224"),
    ],
)
def test_output_size_names_each_slip(mistake, case, diagnosis):
    n, f, s, p = case
    message = failure(check_output_size, mistake(n, f, s, p), n, f, s, p, name="size")
    assert diagnosis in message
    assert message.startswith(f"size, the output size for N={n}, F={f}, S={s}, P={p}: expected")
    assert "Hint:" in message
    assert f"got {_show(right(n, f, s, p))}" not in message.split("Hint:")[0]
    hint = message.split("Hint:")[1]
    assert _show(right(n, f, s, p)) not in re.findall(r"[\d.,]+", hint), "the answer is not printed"


def _show(x):
    return f"{int(x):,}" if float(x).is_integer() else f"{x:.2f}"


@pytest.mark.parametrize("case", OUTPUT_SIZE_QUESTIONS)
def test_output_size_without_a_known_slip_gives_the_formula(case):
    n, f, s, p = case
    message = failure(check_output_size, 99, n, f, s, p, name="size")
    assert "expected (N - F + 2P) / S + 1 with the question's numbers, got 99" in message
    assert "put the numbers N, F, S and P above into" in message
    said = message.split(": expected", 1)[1]  # after the question's own numbers
    assert not re.search(rf"(?<![\d.]){re.escape(_show(right(*case)))}(?![\d.])", said)


def test_output_size_says_a_negative_size_is_wrong_in_sign():
    assert "not positive" in failure(check_output_size, -3, 33, 7, 2, 3, name="size")


@pytest.mark.parametrize("answer", ["17", True, [17], float("nan")])
def test_output_size_wants_a_number(answer):
    message = failure(check_output_size, answer, 33, 7, 2, 3, name="size")
    assert "a number" in message or "a finite number" in message


def test_output_size_left_unanswered_is_not_implemented_yet():
    message = failure(check_output_size, None, 227, 11, 4, 0, name="output_size")
    assert f"output_size {NOT_IMPLEMENTED}" in message


@pytest.mark.parametrize("case", [(31, 5, 2, 2), (224, 7, 2, 3), (10, 3, 2, 0), (7, 3, 1, 0)])
def test_output_size_of_a_question_the_notebook_does_not_ask_is_an_instructor_error(case):
    n, f, s, p = case
    with pytest.raises(ValueError, match="no worked answer is stored") as info:
        check_output_size(right(n, f, s, p), n, f, s, p, name="size")
    assert f"N={n}, F={f}, S={s}, P={p}" in str(info.value)
    with pytest.raises(ValueError, match="no worked answer is stored"):
        check_output_size(None, n, f, s, p, name="size")  # before the student has answered too


# ---------------------------------------------------------------------------
# Same padding
# ---------------------------------------------------------------------------


def test_same_padding_passes_on_padding_that_keeps_the_size(capsys):
    pad = (11 - 1) // 2
    assert conv_output_size(64, 11, 1, pad) == 64
    check_same_padding(pad, 11, 64, name="same_pad")
    check_same_padding(float(pad), 11, 64, name="same_pad")
    check_same_padding(np.int64(pad), 11, 64, name="same_pad")
    out = capsys.readouterr().out
    assert out.count("OK:") == 3 and "same_pad = (11 - 1) / 2 = 5: (64 - 11 + 2*5) / 1 + 1 = 64" in out


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


def test_same_padding_does_not_work_out_the_size_a_wrong_pad_gives():
    message = failure(check_same_padding, 7, 11, 64, name="same_pad")
    assert "solve N - F + 2P + 1 = N for P" in message
    assert "68" not in message and "would be" not in message


def test_same_padding_refuses_an_even_filter():
    with pytest.raises(ValueError, match="odd filter size, got 4"):
        check_same_padding(1, 4)


def test_same_padding_of_a_question_the_notebook_does_not_ask_is_an_instructor_error():
    with pytest.raises(ValueError, match=r"check_same_padding\(F=3, N=32\): no worked answer is stored"):
        check_same_padding(1, 3)


def test_same_padding_left_unanswered_is_not_implemented_yet():
    assert NOT_IMPLEMENTED in failure(check_same_padding, None, 11, 64, name="same_pad")


# ---------------------------------------------------------------------------
# Parameter counts
# ---------------------------------------------------------------------------

K, F, C, SIZE = 64, 3, 32, 16  # the notebook's exercise: 64 3x3 filters on 16x16x32, pad 1
PARAMS_QUESTION = dict(input_size=SIZE, stride=1, pad=1)


def test_param_count_passes_on_the_library_count(capsys):
    library = Conv(K, F, pad=1).describe((C, SIZE, SIZE)).params
    assert library == right_params(K, F, C)
    check_param_count(library, K, F, C, **PARAMS_QUESTION, name="conv_params")
    check_param_count(float(library), K, F, C, **PARAMS_QUESTION, name="conv_params")
    out = capsys.readouterr().out
    assert out.count("OK:") == 2
    assert "conv_params = K * (F*F*C + 1) = 64 * (3*3*32 + 1) = 18,496: one bias per filter" in out


@pytest.mark.parametrize(
    "mistake, diagnosis",
    [
        (forgot_biases, "forgot the biases"),
        (not_full_depth, "filters that do not span the full depth"),
        (no_biases_no_depth, "forgot both the biases and the depth"),
        (one_bias_per_layer, "one bias per filter"),
        (one_filter, "counted a single filter"),
        (lambda k, f, c: per_position(k, f, c, SIZE * SIZE), "parameter sharing"),
        (swapped_k_and_c, "swapped K and C"),
        (lambda k, f, c: padding_in_filter(k, f, c, 1), "counted the padding into the filter size"),
        (lambda k, f, c: padding_in_filter(k, f, c, 1), "does not enter the count"),
    ],
)
def test_param_count_names_each_slip(mistake, diagnosis):
    message = failure(check_param_count, mistake(K, F, C), K, F, C, **PARAMS_QUESTION, name="conv_params")
    assert diagnosis in message
    assert "expected K * (F*F*C + 1), weights and biases" in message
    assert "18,496" not in message and "18496" not in message
    assert "288" not in message and "256" not in message, "no part of the answer is worked out"


def test_param_count_without_a_known_slip_gives_the_formula():
    message = failure(check_param_count, 20_480, K, F, C, **PARAMS_QUESTION, name="conv_params")
    assert "one bias: K * (F*F*C + 1), with K, F and C from the question" in message


def test_param_count_of_a_question_the_notebook_does_not_ask_is_an_instructor_error():
    with pytest.raises(ValueError, match="no worked answer is stored"):
        check_param_count(760, 10, 5, 3, name="lecture")  # ten 5x5 filters on 32x32x3
    with pytest.raises(ValueError, match="no worked answer is stored"):
        check_param_count(right_params(K, F, C), K, F, C, name="conv_params")  # input size left out


def test_param_count_left_unanswered_is_not_implemented_yet():
    message = failure(check_param_count, None, K, F, C, **PARAMS_QUESTION, name="conv_params")
    assert f"conv_params {NOT_IMPLEMENTED}" in message


# ---------------------------------------------------------------------------
# 1x1 convolutions
# ---------------------------------------------------------------------------

VOLUME, FILTERS = (256, 28, 28), 64
NAMES = ("reduce_shape", "reduce_params")
REDUCE_PARAMS = right_params(FILTERS, 1, 256)


def test_1x1_passes_on_the_library_description(capsys):
    layer = Conv(FILTERS, 1).describe(VOLUME)
    check_1x1(layer.output_shape, layer.params, VOLUME, FILTERS, names=NAMES)
    check_1x1(list(layer.output_shape), float(layer.params), VOLUME, FILTERS, names=NAMES)  # a list, a float
    check_1x1(np.array(layer.output_shape), np.int64(layer.params), VOLUME, FILTERS, names=NAMES)
    out = capsys.readouterr().out
    assert out.count("OK:") == 3
    assert ("reduce_shape = (64, 28, 28) (28x28x64), the same H x W with depth 64; "
            "reduce_params = K * (F*F*C + 1) = 64 * (1*1*256 + 1) = 16,448") in out


@pytest.mark.parametrize(
    "shape, diagnosis",
    [
        ((28, 28, 64), "lecture's order H x W x C"),
        ((256, 28, 28), "kept the input depth"),
        ((64, 26, 26), "changed the width or height"),
        ((64, 27, 27), "changed the width or height"),
        ((64, 30, 30), "K filters give K maps"),
    ],
)
def test_1x1_names_shape_slips(shape, diagnosis):
    message = failure(check_1x1, shape, REDUCE_PARAMS, VOLUME, FILTERS, names=NAMES)
    assert diagnosis in message and "expected the output volume as (C, H, W), depth first" in message
    assert "(64, 28, 28)" not in message and "28x28x64" not in message


@pytest.mark.parametrize(
    "mistake, diagnosis",
    [
        (forgot_biases, "forgot the biases"),
        (not_full_depth, "do not span the full depth"),
        (no_biases_no_depth, "forgot both the biases and the depth"),
        (one_bias_per_layer, "one bias per filter"),
        (one_filter, "counted a single filter"),
        (lambda k, f, c: per_position(k, f, c, 28 * 28), "parameter sharing"),
        (swapped_k_and_c, "swapped K and C"),
    ],
)
def test_1x1_names_parameter_slips(mistake, diagnosis):
    message = failure(check_1x1, (64, 28, 28), mistake(FILTERS, 1, 256), VOLUME, FILTERS, names=NAMES)
    assert diagnosis in message and message.startswith("reduce_params")
    assert "16,448" not in message and "16448" not in message


@pytest.mark.parametrize("shape", [(64, 28), "64x28x28", (64, 28.5, 28)])
def test_1x1_wants_a_volume_of_three_whole_numbers(shape):
    assert "(C, H, W)" in failure(check_1x1, shape, REDUCE_PARAMS, VOLUME, FILTERS, names=NAMES)


@pytest.mark.parametrize(
    "shape, params, missing", [(None, REDUCE_PARAMS, "reduce_shape"), ((64, 28, 28), None, "reduce_params")]
)
def test_1x1_left_unanswered_is_not_implemented_yet(shape, params, missing):
    assert f"{missing} {NOT_IMPLEMENTED}" in failure(check_1x1, shape, params, VOLUME, FILTERS, names=NAMES)


def test_1x1_of_a_question_the_notebook_does_not_ask_is_an_instructor_error():
    with pytest.raises(ValueError, match=r"check_1x1\(input_shape=\(256, 28, 28\), K=32\): no worked answer"):
        check_1x1((32, 28, 28), right_params(32, 1, 256), VOLUME, 32, names=NAMES)


# ---------------------------------------------------------------------------
# Pooling
# ---------------------------------------------------------------------------

POOL_IN = (256, 13, 13)
POOL_NAMES = ("pooled_shape", "pooled_params")


def test_pool_passes_on_the_library_description(capsys):
    layer = Pool(3, stride=2).describe(POOL_IN)
    assert layer.output_shape == pool_volume(POOL_IN, 3, 2) == (256, pool_output_size(13, 3, 2), 6)
    check_pool(layer.output_shape, layer.params, POOL_IN, 3, 2, names=POOL_NAMES)
    check_pool(list(layer.output_shape), 0.0, POOL_IN, 3, 2, names=POOL_NAMES)
    out = capsys.readouterr().out
    assert out.count("OK:") == 2
    assert "pooled_shape = (256, 6, 6) (6x6x256) and pooled_params = 0: pooling" in out


@pytest.mark.parametrize(
    "shape, params, diagnosis",
    [
        ((6, 6, 256), 0, "lecture's order H x W x C"),
        ((1, 6, 6), 0, "changed the depth"),
        ((256, 5, 5), 0, "forgot the +1"),
        ((256, 11, 11), 0, "did not divide by the stride"),
        ((256, 7, 7), 0, "without padding"),
        ((256, 6, 6), 3 * 3 * 256, "no weights or biases to learn"),
        ((256, 6, 6), 3 * 3 * 256 + 1, "no weights or biases to learn"),
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


def test_pool_of_a_question_the_notebook_does_not_ask_is_an_instructor_error():
    with pytest.raises(ValueError, match=r"check_pool\(input_shape=\(256, 13, 13\), F=2, S=2\): no worked"):
        check_pool((256, 6, 6), 0, POOL_IN, 2, 2, names=POOL_NAMES)


def test_messages_name_what_was_checked_expected_got_and_a_hint():
    message = failure(check_output_size, 54, 227, 11, 4, 0, name="alexnet_size")
    assert re.match(r"alexnet_size, .*: expected .*, got 54\.\nHint: ", message)
    assert "55" not in message
