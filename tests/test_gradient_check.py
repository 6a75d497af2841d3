"""Tests for cs231n_lib.gradient_check: numerical gradients checked against calculus."""

import numpy as np
import pytest

from cs231n_lib.gradient_check import (
    eval_numerical_gradient,
    eval_numerical_gradient_array,
    grad_check_sparse,
    rel_error,
)


def cube_sum(x):
    return np.sum(x**3)


def points_away_from_zero(shape, seed):
    """|x| in [0.5, 2]: the O(h^2) = 1e-10 error of the centred difference of
    x**3 stays far below 1e-8 relative to the gradient 3x**2 >= 0.75."""
    rng = np.random.default_rng(seed)
    return rng.uniform(0.5, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)


# ---------------------------------------------------------------------------
# eval_numerical_gradient
# ---------------------------------------------------------------------------


def test_numerical_gradient_of_sum_of_cubes_is_three_x_squared():
    x = points_away_from_zero((3, 4), seed=0)
    grad = eval_numerical_gradient(cube_sum, x)
    assert grad.shape == x.shape
    np.testing.assert_allclose(grad, 3 * x**2, rtol=1e-8)


def test_numerical_gradient_of_a_linear_function_is_its_coefficients():
    a = np.array([[1.0, -2.0], [0.5, 4.0]])
    grad = eval_numerical_gradient(lambda v: np.sum(a * v), np.zeros((2, 2)))
    np.testing.assert_allclose(grad, a, rtol=1e-9)


def test_numerical_gradient_perturbs_x_in_place_for_closures():
    # f ignores its argument and reads x itself: the gradient is still right
    x = points_away_from_zero((5,), seed=1)
    grad = eval_numerical_gradient(lambda _: np.sum(x**2), x)
    np.testing.assert_allclose(grad, 2 * x, rtol=1e-8)


def test_numerical_gradient_leaves_x_unchanged():
    x = points_away_from_zero((4, 3), seed=2)
    x_before = x.copy()
    eval_numerical_gradient(cube_sum, x)
    np.testing.assert_array_equal(x, x_before)


# ---------------------------------------------------------------------------
# eval_numerical_gradient_array
# ---------------------------------------------------------------------------


def test_numerical_gradient_array_of_x_times_a_is_a_times_df():
    rng = np.random.default_rng(3)
    a = rng.normal(size=(3, 4))
    df = rng.normal(size=(3, 4))
    x = rng.normal(size=(3, 4))
    # d/dx sum((x * a) * df) = a * df
    grad = eval_numerical_gradient_array(lambda v: v * a, x, df)
    np.testing.assert_allclose(grad, a * df, rtol=1e-8, atol=1e-10)


def test_numerical_gradient_array_of_a_matrix_product():
    rng = np.random.default_rng(4)
    w = rng.normal(size=(4, 2))
    df = rng.normal(size=(3, 2))
    x = rng.normal(size=(3, 4))
    # d/dx sum((x @ w) * df) = df @ w.T
    grad = eval_numerical_gradient_array(lambda v: v @ w, x, df)
    np.testing.assert_allclose(grad, df @ w.T, rtol=1e-7, atol=1e-9)


def test_numerical_gradient_array_rejects_f_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"f\(x\) has shape \(3,\), expected \(2,\)"):
        eval_numerical_gradient_array(lambda v: v, np.zeros(3), np.ones(2))


# ---------------------------------------------------------------------------
# grad_check_sparse
# ---------------------------------------------------------------------------


def test_grad_check_sparse_small_errors_for_a_correct_gradient():
    x = points_away_from_zero((6, 5), seed=5)
    errors = grad_check_sparse(cube_sum, x, 3 * x**2, num_checks=7, seed=0)
    assert errors.shape == (7,)
    assert errors.dtype == np.float64
    assert np.all(errors < 1e-8)


def test_grad_check_sparse_large_errors_for_a_wrong_gradient():
    x = points_away_from_zero((6, 5), seed=5)
    errors = grad_check_sparse(cube_sum, x, 6 * x**2, num_checks=7, seed=0)
    # |g - 2g| / (|g| + |2g|) = 1/3 at every entry
    assert errors.shape == (7,)
    np.testing.assert_allclose(errors, 1 / 3, rtol=1e-6)


def test_grad_check_sparse_flags_a_single_wrong_entry_it_samples():
    x = points_away_from_zero((4,), seed=6)
    wrong = 3 * x**2
    wrong[2] = 0.0
    # 40 draws from 4 entries: entry 2 is picked with certainty ~ 1 - (3/4)**40
    errors = grad_check_sparse(cube_sum, x, wrong, num_checks=40, seed=1)
    assert errors.max() == pytest.approx(1.0)
    assert np.sum(errors > 0.5) < 40  # the other entries are still right


def test_grad_check_sparse_is_reproducible_with_a_seed():
    x = points_away_from_zero((10, 10), seed=7)
    wrong = 3 * x**2 + np.random.default_rng(8).normal(size=x.shape)
    first = grad_check_sparse(cube_sum, x, wrong, num_checks=5, seed=3)
    again = grad_check_sparse(cube_sum, x, wrong, num_checks=5, seed=3)
    np.testing.assert_array_equal(first, again)


def test_grad_check_sparse_rejects_gradient_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"analytic_grad has shape \(3,\), expected \(2, 2\)"):
        grad_check_sparse(cube_sum, np.ones((2, 2)), np.ones(3))


# ---------------------------------------------------------------------------
# x is restored even when f raises
# ---------------------------------------------------------------------------


class FailOnCall:
    """A function that raises on its n-th call (1-based), else sums its input."""

    def __init__(self, failing_call):
        self.failing_call = failing_call
        self.calls = 0

    def __call__(self, x):
        self.calls += 1
        if self.calls == self.failing_call:
            raise RuntimeError("boom")
        return np.sum(x)


CHECKERS = {
    "eval_numerical_gradient": lambda f, x: eval_numerical_gradient(f, x),
    "eval_numerical_gradient_array": lambda f, x: eval_numerical_gradient_array(lambda v: np.array(f(v)), x, 1.0),
    "grad_check_sparse": lambda f, x: grad_check_sparse(f, x, np.ones_like(x), num_checks=3, seed=0),
}


@pytest.mark.parametrize("failing_call", [1, 2], ids=["on-x-plus-h", "on-x-minus-h"])
@pytest.mark.parametrize("name", sorted(CHECKERS))
def test_x_is_restored_when_f_raises(name, failing_call):
    x = np.random.default_rng(9).normal(size=(3, 2))
    x_before = x.copy()
    with pytest.raises(RuntimeError, match="boom"):
        CHECKERS[name](FailOnCall(failing_call), x)
    assert np.array_equal(x, x_before)


# ---------------------------------------------------------------------------
# Printing
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CHECKERS))
def test_quiet_by_default(name, capsys):
    CHECKERS[name](np.sum, np.ones((2, 2)))
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == ""


def test_eval_numerical_gradient_verbose_prints_every_entry(capsys):
    eval_numerical_gradient(cube_sum, np.ones((2, 3)), verbose=True)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 6
    assert lines[0].startswith("(0, 0)")


def test_grad_check_sparse_verbose_prints_each_check(capsys):
    x = np.ones((2, 3))
    grad_check_sparse(cube_sum, x, 3 * x**2, num_checks=4, seed=0, verbose=True)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 4
    assert all("relative error" in line for line in lines)
    assert "numerical: 3.0" in lines[0]


# ---------------------------------------------------------------------------
# rel_error
# ---------------------------------------------------------------------------


def test_rel_error_of_identical_arrays_is_zero():
    a = np.array([[1.5, -2.0], [0.0, 3.0]])
    assert rel_error(a, a.copy()) == 0.0


def test_rel_error_of_two_zero_arrays_is_zero():
    assert rel_error(np.zeros(3), np.zeros(3)) == 0.0


def test_rel_error_by_hand():
    # |1 - 3| / (1 + 3) = 0.5 ; |2 - 2| / 4 = 0 -> max 0.5
    assert rel_error(np.array([1.0, 2.0]), np.array([3.0, 2.0])) == pytest.approx(0.5)
    assert rel_error(1.0, -1.0) == pytest.approx(1.0)  # |2| / 2
    assert isinstance(rel_error(1.0, 2.0), float)


def test_rel_error_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"\(2,\) and \(3,\)"):
        rel_error(np.zeros(2), np.zeros(3))


# ---------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CHECKERS))
def test_integer_x_is_refused(name):
    with pytest.raises(TypeError, match="dtype int64"):
        CHECKERS[name](np.sum, np.ones((2, 2), dtype=np.int64))


def test_grad_check_sparse_accepts_a_nested_list_gradient():
    x = np.ones((2, 2))
    errors = grad_check_sparse(lambda v: np.sum(v**2), x, [[2.0, 2.0], [2.0, 2.0]], num_checks=3, seed=0)
    assert np.all(errors < 1e-8)


def test_grad_check_sparse_without_seed_picks_entries_from_the_global_generator():
    x = points_away_from_zero((5, 4), seed=7)
    wrong = 3 * x**2
    wrong[::2] = 0.0  # every even row wrong: which entries were picked shows in the errors
    np.random.seed(231)
    first = grad_check_sparse(cube_sum, x, wrong, num_checks=12)
    np.random.seed(231)
    again = grad_check_sparse(cube_sum, x, wrong, num_checks=12)
    np.testing.assert_array_equal(first, again)
    assert 0 < np.sum(first > 0.5) < 12
