"""Tests for batch normalization in cs231n_lib.layers.

Oracles: the reference implementation in tests/batchnorm_reference.py (loops
over the features, and each feature's Jacobian for the gradients), numerical
gradients in float64 (cs231n_lib.gradient_check), and properties every batch
normalization has (mean 0 and std 1 per feature, dx summing to 0 over the batch).
"""

import batchnorm_reference as reference
import numpy as np
import pytest

from cs231n_lib.gradient_check import eval_numerical_gradient_array, rel_error
from cs231n_lib.layers import (
    batchnorm_backward,
    batchnorm_backward_alt,
    batchnorm_forward,
    spatial_batchnorm_backward,
    spatial_batchnorm_forward,
)

BACKWARDS = [batchnorm_backward, batchnorm_backward_alt]


def batch(shape, seed, scale=3.0, shift=2.0):
    return shift + scale * np.random.default_rng(seed).standard_normal(shape)


def params(D, seed):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(D), rng.standard_normal(D)


# ---------------------------------------------------------------------------
# Forward
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(("N", "D", "eps"), [(4, 3, 1e-5), (7, 2, 0.5), (1, 5, 1e-5), (50, 10, 1e-3)])
def test_train_mode_forward_matches_the_reference(N, D, eps):
    x = batch((N, D), seed=N)
    gamma, beta = params(D, seed=D)
    out, _ = batchnorm_forward(x, gamma, beta, {"mode": "train", "eps": eps})
    expected, _, _ = reference.forward(x, gamma, beta, {"mode": "train", "eps": eps})
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


def test_train_mode_standardises_each_feature():
    x = batch((200, 6), seed=1, scale=np.arange(1, 7), shift=np.arange(6) * 10.0)
    out, _ = batchnorm_forward(x, np.ones(6), np.zeros(6), {"mode": "train"})
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(out.std(axis=0), 1, atol=1e-5)  # eps = 1e-5 against variances of 1 to 36
    gamma, beta = np.arange(1.0, 7.0), np.arange(6.0) - 3
    out, _ = batchnorm_forward(x, gamma, beta, {"mode": "train"})
    np.testing.assert_allclose(out.mean(axis=0), beta, atol=1e-12)
    np.testing.assert_allclose(out.std(axis=0), gamma, rtol=1e-5)


def test_a_constant_feature_gives_beta_not_nan():
    x = np.array([[1.0, 2.0], [1.0, 5.0], [1.0, -1.0]])
    out, _ = batchnorm_forward(x, np.array([3.0, 1.0]), np.array([0.5, 0.0]), {"mode": "train"})
    np.testing.assert_array_equal(out[:, 0], 0.5)


def test_running_averages_are_created_stored_and_updated_like_the_reference():
    batches = [batch((5, 4), seed=s) for s in range(4)]
    gamma, beta = params(4, seed=9)
    mine = {"mode": "train", "momentum": 0.7}
    theirs = {"mode": "train", "momentum": 0.7}
    for x in batches:
        batchnorm_forward(x, gamma, beta, mine)
        reference.forward(x, gamma, beta, theirs)
        np.testing.assert_allclose(mine["running_mean"], theirs["running_mean"], rtol=1e-12)
        np.testing.assert_allclose(mine["running_var"], theirs["running_var"], rtol=1e-12)
    # By hand after one call with the default momentum 0.9, from zeros: 0.1 times the batch statistic.
    x = np.array([[1.0, 2.0], [3.0, 6.0]])
    bn_param = {"mode": "train"}
    batchnorm_forward(x, np.ones(2), np.zeros(2), bn_param)
    np.testing.assert_allclose(bn_param["running_mean"], [0.2, 0.4])
    np.testing.assert_allclose(bn_param["running_var"], [0.1, 0.4])  # biased: ((1-2)^2 + (3-2)^2) / 2 = 1


@pytest.mark.parametrize(("momentum", "kept"), [(0.0, False), (1.0, True)])
def test_momentum_zero_keeps_the_batch_statistics_and_one_keeps_the_running_ones(momentum, kept):
    x = batch((6, 3), seed=3)
    start = np.array([1.0, 2.0, 3.0])
    bn_param = {"mode": "train", "momentum": momentum, "running_mean": start.copy(), "running_var": start.copy()}
    batchnorm_forward(x, np.ones(3), np.zeros(3), bn_param)
    want_mean = start if kept else x.mean(axis=0)
    want_var = start if kept else x.var(axis=0)
    np.testing.assert_allclose(bn_param["running_mean"], want_mean, rtol=1e-12)
    np.testing.assert_allclose(bn_param["running_var"], want_var, rtol=1e-12)


def test_test_mode_uses_the_running_averages_and_leaves_them_alone():
    x = batch((3, 4), seed=4)
    gamma, beta = params(4, seed=5)
    running_mean, running_var = np.array([1.0, -1.0, 0.5, 2.0]), np.array([4.0, 0.25, 1.0, 9.0])
    bn_param = {"mode": "test", "eps": 0.1, "running_mean": running_mean.copy(), "running_var": running_var.copy()}
    out, _ = batchnorm_forward(x, gamma, beta, bn_param)
    np.testing.assert_allclose(out, gamma * (x - running_mean) / np.sqrt(running_var + 0.1) + beta, rtol=1e-12)
    np.testing.assert_array_equal(bn_param["running_mean"], running_mean)
    np.testing.assert_array_equal(bn_param["running_var"], running_var)
    # A sample's test-mode output does not depend on the rest of its batch.
    alone, _ = batchnorm_forward(x[:1], gamma, beta, bn_param)
    np.testing.assert_allclose(alone, out[:1], rtol=1e-12)


def test_test_mode_without_running_averages_stores_zeros():
    bn_param = {"mode": "test"}
    out, _ = batchnorm_forward(np.ones((2, 3)), np.ones(3), np.zeros(3), bn_param)
    np.testing.assert_array_equal(bn_param["running_mean"], np.zeros(3))
    np.testing.assert_allclose(out, 1 / np.sqrt(1e-5))


def test_float32_in_float32_out_and_float32_running_averages():
    x = batch((8, 5), seed=6).astype(np.float32)
    gamma, beta = (p.astype(np.float32) for p in params(5, seed=7))
    bn_param = {"mode": "train"}
    out, cache = batchnorm_forward(x, gamma, beta, bn_param)
    assert out.dtype == np.float32
    assert bn_param["running_mean"].dtype == bn_param["running_var"].dtype == np.float32
    dout = batch((8, 5), seed=8).astype(np.float32)
    for backward in BACKWARDS:
        assert [g.dtype for g in backward(dout, cache)] == [np.float32] * 3
    out_test, _ = batchnorm_forward(x, gamma, beta, dict(bn_param, mode="test"))
    assert out_test.dtype == np.float32
    x4 = batch((2, 3, 4, 5), seed=9).astype(np.float32)
    out4, cache4 = spatial_batchnorm_forward(x4, np.ones(3, np.float32), np.zeros(3, np.float32), {"mode": "train"})
    assert out4.dtype == np.float32
    assert [g.dtype for g in spatial_batchnorm_backward(out4, cache4)] == [np.float32] * 3


def test_integer_inputs_are_promoted_to_float64():
    out, _ = batchnorm_forward(np.array([[0, 2], [4, 6]]), np.array([1, 1]), np.array([0, 0]), {"mode": "train"})
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, [[-1, -1], [1, 1]], atol=1e-5)


def test_inputs_are_not_modified():
    x = batch((5, 3), seed=10)
    gamma, beta = params(3, seed=11)
    dout = batch((5, 3), seed=12)
    copies = [a.copy() for a in (x, gamma, beta, dout)]
    _, cache = batchnorm_forward(x, gamma, beta, {"mode": "train"})
    for backward in BACKWARDS:
        backward(dout, cache)
    for before, after in zip(copies, (x, gamma, beta, dout)):
        np.testing.assert_array_equal(before, after)


# ---------------------------------------------------------------------------
# Backward
# ---------------------------------------------------------------------------


def numerical(x, gamma, beta, bn_param, dout, forward=batchnorm_forward):
    def run(x_, gamma_, beta_):
        return forward(x_, gamma_, beta_, dict(bn_param))[0]
    return (eval_numerical_gradient_array(lambda v: run(v, gamma, beta), x.copy(), dout),
            eval_numerical_gradient_array(lambda v: run(x, v, beta), gamma.copy(), dout),
            eval_numerical_gradient_array(lambda v: run(x, gamma, v), beta.copy(), dout))


@pytest.mark.parametrize("backward", BACKWARDS, ids=lambda f: f.__name__)
@pytest.mark.parametrize(("N", "D", "eps"), [(4, 5, 1e-5), (10, 3, 0.5), (2, 2, 0.5)])
def test_backward_matches_the_numerical_gradient(backward, N, D, eps):
    x = batch((N, D), seed=N * D)
    gamma, beta = params(D, seed=D + 1)
    dout = batch((N, D), seed=N + 7, shift=0.0)
    bn_param = {"mode": "train", "eps": eps}
    _, cache = batchnorm_forward(x, gamma, beta, dict(bn_param))
    for got, want in zip(backward(dout, cache), numerical(x, gamma, beta, bn_param, dout)):
        assert rel_error(got, want) < 1e-7


@pytest.mark.parametrize("backward", BACKWARDS, ids=lambda f: f.__name__)
def test_backward_matches_the_reference_jacobian_and_dx_sums_to_zero(backward):
    x = batch((30, 7), seed=13)
    gamma, beta = params(7, seed=14)
    dout = batch((30, 7), seed=15, shift=0.0)
    _, cache = batchnorm_forward(x, gamma, beta, {"mode": "train", "eps": 0.2})
    grads = backward(dout, cache)
    for got, want in zip(grads, reference.backward(dout, x, gamma, 0.2)):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(grads[0].sum(axis=0), 0, atol=1e-12)


def test_both_backward_passes_agree():
    x = batch((100, 50), seed=16)
    gamma, beta = params(50, seed=17)
    dout = batch((100, 50), seed=18, shift=0.0)
    _, cache = batchnorm_forward(x, gamma, beta, {"mode": "train"})
    for a, b in zip(batchnorm_backward(dout, cache), batchnorm_backward_alt(dout, cache)):
        assert rel_error(a, b) < 1e-12


# ---------------------------------------------------------------------------
# Spatial
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (1, 2, 3, 1), (3, 1, 2, 2)])
def test_spatial_forward_matches_the_reference_and_standardises_each_channel(shape):
    x = batch(shape, seed=sum(shape))
    C = shape[1]
    gamma, beta = params(C, seed=C)
    mine, theirs = {"mode": "train", "momentum": 0.8}, {"mode": "train", "momentum": 0.8}
    out, _ = spatial_batchnorm_forward(x, gamma, beta, mine)
    np.testing.assert_allclose(out, reference.spatial_forward(x, gamma, beta, theirs), rtol=1e-12, atol=1e-12)
    for key in ("running_mean", "running_var"):
        assert mine[key].shape == (C,)
        np.testing.assert_allclose(mine[key], theirs[key], rtol=1e-12)
    standard, _ = spatial_batchnorm_forward(x, np.ones(C), np.zeros(C), {"mode": "train"})
    np.testing.assert_allclose(standard.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    test_out, _ = spatial_batchnorm_forward(x, gamma, beta, dict(mine, mode="test"))
    rm, rv = mine["running_mean"].reshape(1, C, 1, 1), mine["running_var"].reshape(1, C, 1, 1)
    np.testing.assert_allclose(test_out, gamma.reshape(1, C, 1, 1) * (x - rm) / np.sqrt(rv + 1e-5)
                               + beta.reshape(1, C, 1, 1), rtol=1e-12)


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (3, 2, 1, 3)])
def test_spatial_backward_matches_the_numerical_gradient_and_the_reference(shape):
    x = batch(shape, seed=sum(shape) + 1)
    C = shape[1]
    gamma, beta = params(C, seed=C + 2)
    dout = batch(shape, seed=3, shift=0.0)
    bn_param = {"mode": "train", "eps": 0.01}
    _, cache = spatial_batchnorm_forward(x, gamma, beta, dict(bn_param))
    grads = spatial_batchnorm_backward(dout, cache)
    for got, want in zip(grads, numerical(x, gamma, beta, bn_param, dout, spatial_batchnorm_forward)):
        assert rel_error(got, want) < 1e-7
    for got, want in zip(grads, reference.spatial_backward(dout, x, gamma, 0.01)):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------------------
# Errors name the numbers and the fix
# ---------------------------------------------------------------------------

X = np.arange(12.0).reshape(4, 3)
ONES, ZEROS = np.ones(3), np.zeros(3)


@pytest.mark.parametrize(("args", "error", "message"), [
    ((np.ones((2, 3, 4)), ONES, ZEROS, {"mode": "train"}), ValueError,
     r"x must have 2 dimensions, got 3 \(shape \(2, 3, 4\)\)"),
    ((np.ones((0, 3)), ONES, ZEROS, {"mode": "train"}), ValueError, r"x has shape \(0, 3\).*N >= 1"),
    ((X, np.ones(4), ZEROS, {"mode": "train"}), ValueError,
     r"gamma has shape \(4,\), expected \(3,\): one value per feature of x \(D = 3\); start from gamma = np.ones\(3\)"),
    ((X, ONES, np.zeros(2), {"mode": "train"}), ValueError, r"beta has shape \(2,\), expected \(3,\).*np.zeros\(3\)"),
    ((X, np.ones((1, 3)), ZEROS, {"mode": "train"}), ValueError, r"gamma must have 1 dimensions, got 2 \(shape \(1, 3\)\)"),
    ((X, [1.0, 1.0, 1.0], ZEROS, {"mode": "train"}), TypeError, r"gamma must be a numpy array, got list"),
    ((X, ONES, ZEROS, "train"), TypeError, r"bn_param must be a dict such as \{'mode': 'train'\}, got str"),
    ((X, ONES, ZEROS, {}), ValueError, r"bn_param is missing 'mode'"),
    ((X, ONES, ZEROS, {"mode": "eval"}), ValueError, r"bn_param\['mode'\] must be 'train' or 'test', got 'eval'"),
    ((X, ONES, ZEROS, {"mode": "train", "eps": 0}), ValueError, r"bn_param\['eps'\] = 0.0 must be positive"),
    ((X, ONES, ZEROS, {"mode": "train", "eps": -1e-5}), ValueError, r"bn_param\['eps'\] = -1e-05 must be positive"),
    ((X, ONES, ZEROS, {"mode": "train", "eps": "small"}), TypeError,
     r"bn_param\['eps'\] must be a number such as 1e-05, got 'small'"),
    ((X, ONES, ZEROS, {"mode": "train", "momentum": 1.5}), ValueError,
     r"bn_param\['momentum'\] = 1.5 is outside \[0, 1\]"),
    ((X, ONES, ZEROS, {"mode": "train", "momentum": True}), TypeError, r"bn_param\['momentum'\] must be a number"),
    ((X, ONES, ZEROS, {"mode": "train", "running_mean": np.zeros(4)}), ValueError,
     r"bn_param\['running_mean'\] has shape \(4,\), expected \(3,\): one average per feature, and x has 3"),
    ((X, ONES, ZEROS, {"mode": "test", "running_var": np.array([1.0, -0.5, 2.0])}), ValueError,
     r"bn_param\['running_var'\]\[1\] = -0.5 is negative"),
])
def test_forward_errors_name_the_numbers(args, error, message):
    with pytest.raises(error, match=message):
        batchnorm_forward(*args)


@pytest.mark.parametrize("backward", BACKWARDS + [spatial_batchnorm_backward], ids=lambda f: f.__name__)
def test_backward_refuses_a_cache_that_is_not_forwards(backward):
    with pytest.raises(TypeError, match="cache must be the"):
        backward(np.ones((4, 3)), None)


@pytest.mark.parametrize("backward", BACKWARDS, ids=lambda f: f.__name__)
def test_backward_names_the_shape_of_a_wrong_dout(backward):
    _, cache = batchnorm_forward(X, ONES, ZEROS, {"mode": "train"})
    with pytest.raises(ValueError, match=r"dout has shape \(3, 4\), expected \(4, 3\)"):
        backward(np.ones((3, 4)), cache)


def test_spatial_errors_name_the_numbers():
    x = np.ones((2, 3, 4, 5))
    with pytest.raises(ValueError, match=r"x must have 4 dimensions, got 2"):
        spatial_batchnorm_forward(np.ones((2, 3)), ONES, ZEROS, {"mode": "train"})
    with pytest.raises(ValueError, match=r"gamma has shape \(4,\), expected \(3,\): one value per channel of x \(C = 3\)"):
        spatial_batchnorm_forward(x, np.ones(4), ZEROS, {"mode": "train"})
    _, cache = spatial_batchnorm_forward(x, ONES, ZEROS, {"mode": "train"})
    with pytest.raises(ValueError, match=r"dout has shape \(2, 3, 5, 4\), expected \(2, 3, 4, 5\)"):
        spatial_batchnorm_backward(np.ones((2, 3, 5, 4)), cache)
    with pytest.raises(ValueError, match=r"bn_param\['running_mean'\] has shape \(5,\), expected \(3,\)"):
        spatial_batchnorm_forward(x, ONES, ZEROS, {"mode": "train", "running_mean": np.zeros(5)})
