"""The checks of notebook 06: they pass the library's dropout and name each common mistake.

Every mistaken implementation below keeps the library's contract
(out, (dropout_param, mask)) and differs from a correct one in one place.
"""

import copy
import hashlib
import inspect

import numpy as np
import pytest

from cs231n_lib.checks import dropout as dropout_checks
from cs231n_lib.checks.common import NOT_IMPLEMENTED, ROUNDING
from cs231n_lib.checks.dropout import (
    check_conventions,
    check_dropout_backward,
    check_dropout_forward,
)
from cs231n_lib.layers import dropout_backward, dropout_forward


def _rng(param):
    return param["rng"] if param.get("rng") is not None else np.random.default_rng(param.get("seed"))


def _test_mode(x):
    return x.copy(), np.ones_like(x)


def _inverted(x, param, keep):
    """The right ending, given a keep array: scaled mask in x's dtype."""
    mask = (keep / (1 - param["p"])).astype(x.dtype)
    return x * mask, (param, mask)


# ---------------------------------------------------------------------------
# Mistaken forward passes
# ---------------------------------------------------------------------------


def vanilla_forward(x, param):
    """Scales at test time instead of train time."""
    p = param["p"]
    if param["mode"] == "test":
        return x * (1 - p), (param, np.full_like(x, 1 - p))
    keep = (_rng(param).random(x.shape) >= p).astype(x.dtype)
    return x * keep, (param, keep)


def rescaled_at_test_forward(x, param):
    """Right in train mode, but scales again at test time."""
    p = param["p"]
    if param["mode"] == "test":
        return x * (1 - p), (param, np.full_like(x, 1 - p))
    return _inverted(x, param, _rng(param).random(x.shape) >= p)


def keep_probability_forward(x, param):
    """The lecture's convention: p is the probability of keeping a unit."""
    p = param["p"]
    if param["mode"] == "test":
        return _test_mode(x)
    keep = _rng(param).random(x.shape) < p
    mask = (keep / p).astype(x.dtype)
    return x * mask, (param, mask)


def divide_by_p_forward(x, param):
    p = param["p"]
    if param["mode"] == "test":
        return _test_mode(x)
    keep = _rng(param).random(x.shape) >= p
    mask = (keep / p).astype(x.dtype)
    return x * mask, (param, mask)


def global_generator_forward(x, param):
    p = param["p"]
    if param["mode"] == "test":
        return _test_mode(x)
    return _inverted(x, param, np.random.random(x.shape) >= p)


def unscaled_cache_forward(x, param):
    """The output is right, but the cache keeps the 0/1 mask, so backward misses the scale."""
    p = param["p"]
    if param["mode"] == "test":
        return _test_mode(x)
    keep = (_rng(param).random(x.shape) >= p).astype(x.dtype)
    return x * keep / (1 - p), (param, keep)


def float64_forward(x, param):
    p = param["p"]
    if param["mode"] == "test":
        return _test_mode(x)
    mask = (_rng(param).random(x.shape) >= p) / (1 - p)  # float64, never cast
    return x * mask, (param, mask)


def fresh_generator_forward(x, param):
    """Ignores both the seed and the generator."""
    p = param["p"]
    if param["mode"] == "test":
        return _test_mode(x)
    return _inverted(x, param, np.random.default_rng().random(x.shape) >= p)


def ignores_rng_forward(x, param):
    """Honours 'seed' but not 'rng' (so FullyConnectedNet's generator would be bypassed)."""
    p = param["p"]
    if param["mode"] == "test":
        return _test_mode(x)
    return _inverted(x, param, np.random.default_rng(param.get("seed")).random(x.shape) >= p)


def copied_generator_forward(x, param):
    """Draws from a copy of the generator, so the generator never moves on."""
    p = param["p"]
    if param["mode"] == "test":
        return _test_mode(x)
    return _inverted(x, param, copy.deepcopy(_rng(param)).random(x.shape) >= p)


def fixed_pattern_forward(x, param):
    """Drops the same units every time."""
    p = param["p"]
    if param["mode"] == "test":
        return _test_mode(x)
    keep = (np.arange(x.size) % 10 >= round(10 * p)).reshape(x.shape)
    return _inverted(x, param, keep)


def drops_at_test_forward(x, param):
    p = param["p"]
    keep = _rng(param).random(x.shape) >= p
    return _inverted(x, param, keep)


def in_place_forward(x, param):
    """Right values, but x itself is scaled and returned."""
    p = param["p"]
    if param["mode"] == "test":
        return _test_mode(x)
    mask = ((_rng(param).random(x.shape) >= p) / (1 - p)).astype(x.dtype)
    x *= mask
    return x, (param, mask)


def vanilla_output_in_train_forward(x, param):
    """Vanilla dropout's test-mode output, x * (1 - p), returned in train mode."""
    p = param["p"]
    if param["mode"] == "test":
        return _test_mode(x)
    return x * (1 - p), (param, np.full_like(x, 1 - p))


def not_implemented(*args):
    raise NotImplementedError()


# ---------------------------------------------------------------------------
# Mistaken backward passes
# ---------------------------------------------------------------------------


def no_mask_backward(dout, cache):
    return dout.copy()


def new_mask_backward(dout, cache):
    param, mask = cache
    p = param["p"]
    if param["mode"] == "test":
        return dout.copy()
    keep = _rng(param).random(dout.shape) >= p
    return dout * keep / (1 - p)


def new_global_mask_backward(dout, cache):
    param, mask = cache
    p = param["p"]
    return dout * (np.random.random(dout.shape) >= p) / (1 - p)


def unscaled_backward(dout, cache):
    param, mask = cache
    return dout * (mask != 0)


def in_place_backward(dout, cache):
    param, mask = cache
    dout *= mask
    return dout


def mask_in_place_backward(dout, cache):
    param, mask = cache
    mask = np.asarray(mask)
    if mask.flags.writeable:
        mask *= dout
        return mask
    return dout * mask


def scales_twice_backward(dout, cache):
    param, mask = cache
    return dout * mask / (1 - param["p"])


def divides_by_mask_backward(dout, cache):
    param, mask = cache
    with np.errstate(all="ignore"):
        return dout / mask


def forgot_dout_backward(dout, cache):
    param, mask = cache
    return np.array(mask, copy=True)


def float64_backward(dout, cache):
    param, mask = cache
    dx = np.zeros(dout.shape)
    dx[...] = dout * mask
    return dx


def global_touching_backward(dout, cache):
    """Right values, but it calls numpy's global generator on the way."""
    np.random.random()
    param, mask = cache
    return dout * mask


# ---------------------------------------------------------------------------
# The correct implementation passes
# ---------------------------------------------------------------------------


def test_library_dropout_passes(capsys):
    check_dropout_forward(dropout_forward)
    check_dropout_forward(dropout_forward, p=0.6)
    check_dropout_backward(dropout_forward, dropout_backward)
    check_dropout_backward(dropout_forward, dropout_backward, p=0.5)
    check_conventions(0.2, 1.25, 100)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 5 and all(line.startswith("OK: ") for line in lines)


def test_checks_leave_numpys_global_generator_as_it_was():
    np.random.seed(123)
    before = np.random.get_state()
    with pytest.raises(AssertionError):
        check_dropout_forward(global_generator_forward)
    with pytest.raises(AssertionError):
        check_dropout_backward(dropout_forward, global_touching_backward)
    after = np.random.get_state()
    assert np.array_equal(before[1], after[1]) and before[2] == after[2]


def test_forward_check_refuses_p_one_half():
    with pytest.raises(ValueError, match="away from 0.5"):
        check_dropout_forward(dropout_forward, p=0.5)


# ---------------------------------------------------------------------------
# Each named mistake is diagnosed
# ---------------------------------------------------------------------------


FORWARD_MISTAKES = [
    (vanilla_forward, "scaled at test time instead of train time"),
    (rescaled_at_test_forward, "scaled at test time instead of train time"),
    (keep_probability_forward, "p is used as the keep probability"),
    (divide_by_p_forward, "not by p"),
    (global_generator_forward, "numpy's global generator is used"),
    (unscaled_cache_forward, "the mask in the cache has 0s and 1s"),
    (float64_forward, "dtype of out for a float32 x"),
    (fresh_generator_forward, "the same seed gives the same mask"),
    (ignores_rng_forward, "dropout_param['rng']"),
    (copied_generator_forward, "each training step needs a new mask"),
    (fixed_pattern_forward, "seeds 0 and 1"),
    (drops_at_test_forward, "nothing is dropped at test time"),
    (in_place_forward, "dropout_forward modified x in place"),
    (vanilla_output_in_train_forward, "vanilla dropout's test mode output"),
]


@pytest.mark.parametrize("forward, diagnosis", FORWARD_MISTAKES, ids=[f.__name__ for f, _ in FORWARD_MISTAKES])
def test_forward_mistake_is_named(forward, diagnosis):
    with pytest.raises(AssertionError) as error:
        check_dropout_forward(forward)
    assert diagnosis in str(error.value)
    assert "expected" in str(error.value) and "Hint:" in str(error.value)


def test_keep_probability_is_named_for_p_above_one_half():
    with pytest.raises(AssertionError, match="p is used as the keep probability"):
        check_dropout_forward(keep_probability_forward, p=0.6)


BACKWARD_MISTAKES = [
    (dropout_forward, no_mask_backward, "the mask is not applied in backward"),
    (dropout_forward, new_mask_backward, "a new mask is drawn in backward"),
    (dropout_forward, new_global_mask_backward, "a new mask is drawn in backward"),
    (dropout_forward, unscaled_backward, "without the 1 / (1 - p)"),
    (dropout_forward, global_touching_backward, "numpy's global generator is used"),
    (unscaled_cache_forward, dropout_backward, "your forward stores the mask without its scale"),
    (dropout_forward, in_place_backward, "dropout_backward modified dout in place"),
    (dropout_forward, mask_in_place_backward, "dropout_backward modified the cache in place"),
    (dropout_forward, scales_twice_backward, "the scale is applied twice"),
    (dropout_forward, divides_by_mask_backward, "a division by the mask"),
    (dropout_forward, forgot_dout_backward, "dout was forgotten"),
    (dropout_forward, float64_backward, "dtype of dx for a float32 dout"),
]


@pytest.mark.parametrize("p", [0.3, 0.5])
@pytest.mark.parametrize("forward, backward, diagnosis", BACKWARD_MISTAKES,
                         ids=[f"{f.__name__}-{b.__name__}" for f, b, _ in BACKWARD_MISTAKES])
def test_backward_mistake_is_named(forward, backward, diagnosis, p):
    with pytest.raises(AssertionError) as error:
        check_dropout_backward(forward, backward, p=p)
    assert diagnosis in str(error.value)
    assert "expected" in str(error.value) and "Hint:" in str(error.value)


def test_backward_check_names_its_worked_cases_for_an_unknown_p():
    for p in [0.6, 0.0, 1.0, 0.25]:
        with pytest.raises(ValueError, match="worked cases for p = 0.3 and 0.5"):
            check_dropout_backward(dropout_forward, dropout_backward, p=p)


def test_backward_mistakes_on_the_worked_case_are_named_there():
    """The mistakes with a literal output are named on the worked case itself, not later."""
    for backward, word in [(no_mask_backward, "not applied"), (forgot_dout_backward, "forgotten"),
                           (unscaled_backward, "without the 1 / (1 - p)"),
                           (scales_twice_backward, "twice"), (divides_by_mask_backward, "division"),
                           (new_mask_backward, "new mask")]:
        for p in dropout_checks.BACKWARD_CASES:
            message = _failure(check_dropout_backward, dropout_forward, backward, p)
            assert message.startswith(f"dropout_backward on the worked case with p = {p}:"), message
            assert word in message, message


# ---------------------------------------------------------------------------
# The backward check's worked cases, proven from the reference backward and each mistake's formula
# ---------------------------------------------------------------------------


def reference_backward(dout, mask):
    """The instructor's backward: the chain rule through out = x * mask is dx = dout * mask."""
    return dout * mask


# Each named mistake's formula (instructor side), applied to the worked case's inputs.
MISTAKE_FORMULAS = {
    "mask_not_applied": lambda dout, mask, p: dout,
    "dout_forgotten": lambda dout, mask, p: mask,
    "no_scale": lambda dout, mask, p: dout * (mask != 0),
    "scaled_twice": lambda dout, mask, p: dout * mask / (1 - p),
}


@pytest.mark.parametrize("p", [0.3, 0.5])
def test_worked_case_inputs_are_what_forward_caches(p):
    case = dropout_checks.BACKWARD_CASES[p]
    dout, mask = np.array(case["dout"]), np.array(case["mask"])
    assert dout.shape == mask.shape and dout.dtype == mask.dtype == np.float64
    assert np.all(dout != 0)  # so a zero of dx shows a dropped unit
    keep = mask != 0
    assert 0 < keep.sum() < keep.size
    np.testing.assert_allclose(mask, keep / (1 - p), rtol=1e-11, atol=0)


@pytest.mark.parametrize("p", [0.3, 0.5])
def test_worked_case_dx_is_the_reference_backward(p):
    case = dropout_checks.BACKWARD_CASES[p]
    dout, mask = np.array(case["dout"]), np.array(case["mask"])
    np.testing.assert_allclose(case["dx"], reference_backward(dout, mask), rtol=1e-11, atol=0)
    # The float32 case: the same inputs cast, within the check's tolerance of the same literal.
    dx32 = reference_backward(dout.astype(np.float32), mask.astype(np.float32))
    assert dx32.dtype == np.float32
    np.testing.assert_allclose(dx32, case["dx"], rtol=ROUNDING, atol=0)


@pytest.mark.parametrize("p", [0.3, 0.5])
def test_worked_case_mistakes_are_each_mistakes_output(p):
    case = dropout_checks.BACKWARD_CASES[p]
    dout, mask = np.array(case["dout"]), np.array(case["mask"])
    assert set(case["mistakes"]) == set(MISTAKE_FORMULAS) == set(dropout_checks.BACKWARD_MISTAKES)
    outputs = {}
    for name, formula in MISTAKE_FORMULAS.items():
        outputs[name] = formula(dout, mask, p)
        np.testing.assert_allclose(case["mistakes"][name], outputs[name], rtol=1e-11, atol=0)
        # ... also in float32, within the check's tolerance
        got32 = formula(dout.astype(np.float32), mask.astype(np.float32), p)
        np.testing.assert_allclose(got32, case["mistakes"][name], rtol=ROUNDING, atol=0)
    # Every mistake is told apart from the right dx and from the others at the check's tolerance.
    arrays = [reference_backward(dout, mask)] + list(outputs.values())
    for i, a in enumerate(arrays):
        for b in arrays[i + 1:]:
            assert not np.allclose(a, b, rtol=100 * ROUNDING, atol=0)


def test_worked_case_new_mask_differs_from_the_cached_one():
    """new_mask_backward draws from the check's generator (seed 12): its zeros fall elsewhere."""
    for p, case in dropout_checks.BACKWARD_CASES.items():
        keep = np.random.default_rng(12).random(np.shape(case["dout"])) >= p
        assert np.any(keep != (np.array(case["mask"]) != 0))


def test_backward_failure_messages_never_show_the_worked_dx():
    for p, case in dropout_checks.BACKWARD_CASES.items():
        shown = {f"{v:.3f}"[:-1] for v in np.ravel(case["dx"]) if v != 0 and abs(v) not in (1.0, 2.0)}
        for forward, backward, _ in BACKWARD_MISTAKES:
            with np.errstate(all="ignore"):
                message = _failure(check_dropout_backward, forward, backward, p)
            for text in shown:
                assert text not in message, (text, message)


def test_backward_consistency_check_computes_no_gradient_of_its_own():
    """The check after the student's forward compares sums and zeros, never dout times a mask."""
    source = inspect.getsource(dropout_checks._check_transpose_of_forward)
    assert "dout * out" in source and "dx * x" in source
    for text in ["dout * mask", "dout * cache_mask", "* cache_mask", "out / x"]:
        assert text not in source


CONVENTION_MISTAKES = [
    ((0.8, 1.25, 100), "probability of KEEPING a unit"),
    ((0.5, 1.25, 100), "1 minus the keep probability"),
    ((0.2, 5.0, 100), "divides by the drop probability"),
    ((0.2, 0.8, 100), "vanilla dropout multiplies by at TEST time"),
    ((0.2, 2.0, 100), "divided by the keep probability"),
    ((0.2, 1.25, 400), "the number of units KEPT"),
    ((0.2, 1.25, 80), "a fraction p of the 500"),
    ((0.2, 1.25, 0.2), "a fraction, not a count"),
    ((0.2, 1 // 0.8, 100), "// is floor (integer) division"),
    ((0.2, 1 // 0.2, 100), "// is floor (integer) division"),
    ((20, 1.25, 100), "not a percentage"),
    ((80, 1.25, 100), "not a percentage"),
    ((-0.2, 1.25, 100), "between 0 and 1"),
    (("0.2", 1.25, 100), "a number"),
    ((float("nan"), 1.25, 100), "a finite number"),
]


@pytest.mark.parametrize("answers, diagnosis", CONVENTION_MISTAKES)
def test_convention_mistake_is_named(answers, diagnosis):
    with pytest.raises(AssertionError, match=None) as error:
        check_conventions(*answers)
    assert diagnosis in str(error.value)
    assert "Hint:" in str(error.value)


# ---------------------------------------------------------------------------
# The conventions' hashes, proven from the answers worked out here
# ---------------------------------------------------------------------------

# The reference answers (instructor side): the lecture keeps a unit with probability 0.8,
# in a layer of 500 units.
KEEP, UNITS = 0.8, 500
ANSWERS = {"p_library": 1 - KEEP, "kept_scale": 1 / KEEP, "expected_dropped": UNITS * (1 - KEEP)}
# Named wrong values and a word of the message each one must get.
WRONG_VALUES = {
    "p_library": [(KEEP, "KEEPING"), (100 * (1 - KEEP), "percentage"), (100 * KEEP, "percentage")],
    "kept_scale": [(1 / (1 - KEEP), "drop probability"), (KEEP, "vanilla dropout"),
                   (1 // KEEP, "//"), (1 // 0.2, "//")],  # 1 // 0.2 is 4.0
    "expected_dropped": [(UNITS * KEEP, "KEPT"), (1 - KEEP, "a fraction, not a count"),
                         (100 * (1 - KEEP), "percentage")],
}


def reference_digest(name, value):
    """Written independently of the module: sha256 of 'salt:name:value to 3 decimals', 16 hex digits."""
    text = "%.3f" % (round(float(value), 3) + 0.0)
    return hashlib.sha256(("cs231n-06-dropout-conventions:" + name + ":" + text).encode()).hexdigest()[:16]


def test_module_digest_is_the_stated_one():
    assert dropout_checks.SALT == "cs231n-06-dropout-conventions" and dropout_checks.DIGITS == 3
    for name in ANSWERS:
        for value in [0.2, 1.25, 100, 1.0, 20, -0.0, 0.0004, 123.4567]:
            assert dropout_checks._digest(name, value) == reference_digest(name, value)


def test_right_hashes_are_the_answers():
    assert dropout_checks.RIGHT == {name: reference_digest(name, value) for name, value in ANSWERS.items()}


def test_wrong_hashes_are_the_named_wrong_values():
    for name, cases in WRONG_VALUES.items():
        expected = {reference_digest(name, value) for value, _ in cases}
        assert set(dropout_checks.WRONG[name]) == expected
        assert dropout_checks.RIGHT[name] not in dropout_checks.WRONG[name]
        for value, word in cases:
            assert word in dropout_checks.WRONG[name][reference_digest(name, value)]


def test_answers_within_the_stated_precision_pass(capsys):
    check_conventions(0.2, 1.25, 100)
    check_conventions(0.2001, 1.2504, 100.0004)
    check_conventions(np.float32(0.2), np.float64(1.25), np.int64(100))
    lines = capsys.readouterr().out.splitlines()
    assert len(set(lines)) == 1 and lines[0].startswith("OK: ")


def test_module_holds_no_answer_and_no_solution_line():
    """No constant holds a value answer, and no message or hint spells out a solution line."""
    source = inspect.getsource(dropout_checks)
    for constant in ["LIBRARY_P", "KEPT_SCALE", "EXPECTED_DROPPED"]:
        assert constant not in source
    for name, value in vars(dropout_checks).items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            assert not any(np.isclose(value, answer) for answer in ANSWERS.values()), name
    for line in ["dx = dout * mask", "out = x * mask", "rng.random(x.shape) >= p",
                 "keep / (1 - p)", "500 * p", "1 / 0.8 = 1.25", "dout * mask", "x * mask",
                 "mask / (1 - p)", ">= p)"]:
        assert line not in source.replace("\n", " "), line


def _failure(check, *args):
    with pytest.raises(AssertionError) as error:
        check(*args)
    return str(error.value)


def test_failure_messages_never_show_an_answer_or_a_solution_line():
    messages = [_failure(check_conventions, *answers) for answers, _ in CONVENTION_MISTAKES]
    for message in messages:
        for answer in ["0.2 ", "0.2,", "0.2.", "1.25", "100 ", "100."]:
            got = message.split(", got ", 1)[1].split("\n", 1)[0] if ", got " in message else ""
            assert answer not in message.replace(got, ""), message
    with np.errstate(all="ignore"):
        messages += [_failure(check_dropout_forward, forward) for forward, _ in FORWARD_MISTAKES]
        messages += [_failure(check_dropout_backward, f, b) for f, b, _ in BACKWARD_MISTAKES]
    for message in messages:
        for line in ["dx = dout * mask", "out = x * mask", "rng.random(x.shape) >= p", "keep / (1 - p)"]:
            assert line not in message, message


def test_in_place_changes_are_named_before_any_value():
    """x or dout changed in place: the message says so, not what the values look like."""
    message = _failure(check_dropout_forward, in_place_forward)
    assert message.startswith("x after dropout_forward")
    message = _failure(check_dropout_backward, dropout_forward, in_place_backward)
    assert message.startswith("dout after dropout_backward")


def test_backward_check_requires_float32_dx_for_float32_dout():
    message = _failure(check_dropout_backward, dropout_forward, float64_backward)
    assert "expected float32, got float64" in message


# ---------------------------------------------------------------------------
# A student's copy: nothing written yet
# ---------------------------------------------------------------------------


def test_unwritten_forward_says_not_implemented():
    with pytest.raises(AssertionError, match=NOT_IMPLEMENTED) as error:
        check_dropout_forward(not_implemented)
    assert "cs231n_lib/layers.py" in str(error.value)


def test_unwritten_backward_says_not_implemented():
    with pytest.raises(AssertionError, match=NOT_IMPLEMENTED):
        check_dropout_backward(dropout_forward, not_implemented)


def test_unanswered_conventions_say_not_implemented():
    for answers in [(None, None, None), (0.2, None, None), (0.2, 1.25, None)]:
        with pytest.raises(AssertionError, match=NOT_IMPLEMENTED):
            check_conventions(*answers)
