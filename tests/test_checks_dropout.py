"""The checks of notebook 06: they pass the library's dropout and name each common mistake.

Every mistaken implementation below keeps the library's contract
(out, (dropout_param, mask)) and differs from a correct one in one place.
"""

import copy

import numpy as np
import pytest

from cs231n_lib.checks.common import NOT_IMPLEMENTED
from cs231n_lib.checks.dropout import check_conventions, check_dropout_backward, check_dropout_forward
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
    check_dropout_backward(dropout_forward, dropout_backward, p=0.6)
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
]


@pytest.mark.parametrize("forward, backward, diagnosis", BACKWARD_MISTAKES,
                         ids=[f"{f.__name__}-{b.__name__}" for f, b, _ in BACKWARD_MISTAKES])
def test_backward_mistake_is_named(forward, backward, diagnosis):
    with pytest.raises(AssertionError) as error:
        check_dropout_backward(forward, backward)
    assert diagnosis in str(error.value)


CONVENTION_MISTAKES = [
    ((0.8, 1.25, 100), "probability of KEEPING a unit"),
    ((0.5, 1.25, 100), "1 minus the keep probability"),
    ((0.2, 5.0, 100), "divides by the drop probability"),
    ((0.2, 0.8, 100), "vanilla dropout multiplies by at TEST time"),
    ((0.2, 2.0, 100), "divided by the keep probability"),
    ((0.2, 1.25, 400), "the number of units KEPT"),
    ((0.2, 1.25, 80), "500 * p"),
    (("0.2", 1.25, 100), "a number"),
]


@pytest.mark.parametrize("answers, diagnosis", CONVENTION_MISTAKES)
def test_convention_mistake_is_named(answers, diagnosis):
    with pytest.raises(AssertionError, match=None) as error:
        check_conventions(*answers)
    assert diagnosis in str(error.value)


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
