"""Tests for cs231n_lib.layer_utils: each sandwich is exactly its pieces, chained.

Oracles:
- composing the pieces by hand (the same calls, so results are identical);
- the naive layers composed the same way (within rounding);
- numerical gradients in float64 with respect to x, w and b.

ReLU has a kink at 0 and max pooling one wherever two window values tie; a
centred difference across a kink measures neither side's slope. The
gradient checks therefore use data whose pre-activations all stay clear of
0, and whose pooling windows all have a clear winner, by a margin that no
perturbation of size h can cross (`kink_margin` below computes it; each test
asserts it, so a different seed that lands near a kink fails loudly instead
of flakily).
"""

import gc
import weakref

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from cs231n_lib.fast_layers import (
    conv_backward_fast,
    conv_forward_fast,
    max_pool_backward_fast,
    max_pool_forward_fast,
)
from cs231n_lib.gradient_check import eval_numerical_gradient_array, rel_error
from cs231n_lib.layer_utils import (
    affine_bn_relu_backward,
    affine_bn_relu_forward,
    affine_relu_backward,
    affine_relu_forward,
    conv_bn_relu_backward,
    conv_bn_relu_forward,
    conv_relu_backward,
    conv_relu_forward,
    conv_relu_pool_backward,
    conv_relu_pool_forward,
)
from cs231n_lib.layers import (
    affine_backward,
    affine_forward,
    batchnorm_backward_alt,
    batchnorm_forward,
    conv_backward_naive,
    conv_forward_naive,
    max_pool_backward_naive,
    max_pool_forward_naive,
    relu_backward,
    relu_forward,
    spatial_batchnorm_backward,
    spatial_batchnorm_forward,
)

GRAD_TOL = 1e-7
# Every sandwich is piecewise linear in x, in w and in b (affine or conv,
# then ReLU, then max). Inside one linear piece a centred difference has no
# truncation error, so a large step is safe as long as it does not reach a
# kink, and h = 1e-3 has a hundred times less rounding noise than 1e-5.
H = 1e-3
# How many times the largest possible move of a pre-activation under one
# perturbation the distance to the nearest kink must be.
SAFETY = 10.0

CONV = {"stride": 1, "pad": 1}
# On the (7, 6) conv output below: 3x2 windows, stride 2, overlapping down the height.
POOL = {"pool_height": 3, "pool_width": 2, "stride": 2}


def scale_error(actual, expected):
    """max |actual - expected| / max |expected| (see test_fast_layers.py for why not rel_error)."""
    actual, expected = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    assert actual.shape == expected.shape
    return float(np.max(np.abs(actual - expected)) / max(np.max(np.abs(expected)), np.finfo(np.float64).tiny))


def largest_move(h, *arrays):
    """Largest change of any pre-activation when one entry of x, w or b moves by h.

    A pre-activation is b[f] + sum of products x * w with each entry of x and
    of w in at most one product, so moving x by h moves it by at most
    h * max|w|, moving w by at most h * max|x|, and moving b by h.
    """
    return h * max(1.0, *(float(np.max(np.abs(a))) for a in arrays))


def kink_margin(pre_activations, pool=None):
    """Distance from the nearest kink of ReLU (and of the max pool after it).

    - ReLU: min |pre-activation|;
    - pool: in each window of relu(pre) whose max is positive, the max minus
      the runner-up (a window of zeros has gradient 0 on both sides, as long
      as its pre-activations stay negative, which the ReLU margin ensures).
    """
    margin = float(np.min(np.abs(pre_activations)))
    if pool is not None and pool["pool_height"] * pool["pool_width"] > 1:
        rectified = np.maximum(pre_activations, 0)
        ph, pw, s = pool["pool_height"], pool["pool_width"], pool["stride"]
        windows = sliding_window_view(rectified, (ph, pw), axis=(2, 3))[:, :, ::s, ::s]
        ranked = np.sort(windows.reshape(*windows.shape[:4], ph * pw), axis=-1)
        top, runner_up = ranked[..., -1], ranked[..., -2]
        live = top > 0
        if live.any():
            margin = min(margin, float(np.min((top - runner_up)[live])) / 2)
    return margin


def _affine_data(seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(3, 2, 2, 2))  # flattened to (3, 8)
    w = rng.normal(size=(8, 5))
    b = rng.normal(size=5)
    dout = rng.normal(size=(3, 5))
    return x, w, b, dout


def _conv_data(seed):
    rng = np.random.default_rng(seed)
    # out: H' = 7 + 2 - 3 + 1 = 7, W' = 6 + 2 - 3 + 1 = 6
    x = rng.normal(size=(2, 2, 7, 6))
    w = rng.normal(size=(3, 2, 3, 3))
    b = rng.normal(size=3)
    return x, w, b, rng


# Seeds found by trying 0, 1, 2, ... until kink_margin cleared SAFETY * largest_move
# (by a factor 23, 4.6 and 1.5 respectively) and, for conv-relu-pool, some
# windows were entirely negative; each test re-asserts what it needs.
AFFINE_SEED = 4
CONV_RELU_SEED = 38
CONV_RELU_POOL_SEED = 413


def _check_gradients(forward, backward, x, w, b, dout):
    dx, dw, db = backward(dout)
    dx_num = eval_numerical_gradient_array(lambda v: forward(v, w, b), x, dout, h=H)
    dw_num = eval_numerical_gradient_array(lambda v: forward(x, v, b), w, dout, h=H)
    db_num = eval_numerical_gradient_array(lambda v: forward(x, w, v), b, dout, h=H)
    assert (dx.shape, dw.shape, db.shape) == (x.shape, w.shape, b.shape)
    assert rel_error(dx, dx_num) < GRAD_TOL
    assert rel_error(dw, dw_num) < GRAD_TOL
    assert rel_error(db, db_num) < GRAD_TOL


# ---------------------------------------------------------------------------
# affine -> ReLU
# ---------------------------------------------------------------------------


def test_affine_relu_gradients_match_numerical():
    x, w, b, dout = _affine_data(AFFINE_SEED)
    pre = x.reshape(3, -1) @ w + b
    assert kink_margin(pre) > SAFETY * largest_move(H, x, w), "data too close to a kink: pick another seed"
    assert (pre > 0).any() and (pre < 0).any()  # both sides of the ReLU are exercised
    _, cache = affine_relu_forward(x, w, b)
    _check_gradients(
        lambda *a: affine_relu_forward(*a)[0], lambda d: affine_relu_backward(d, cache), x, w, b, dout
    )


def test_affine_relu_is_affine_then_relu():
    x, w, b, dout = _affine_data(1)
    out, cache = affine_relu_forward(x, w, b)
    scores, affine_cache = affine_forward(x, w, b)
    expected, relu_cache = relu_forward(scores)
    np.testing.assert_array_equal(out, expected)
    grads = affine_relu_backward(dout, cache)
    expected_grads = affine_backward(relu_backward(dout, relu_cache), affine_cache)
    for got, want in zip(grads, expected_grads):
        np.testing.assert_array_equal(got, want)
    assert grads[0].shape == x.shape


# ---------------------------------------------------------------------------
# conv -> ReLU
# ---------------------------------------------------------------------------


def test_conv_relu_gradients_match_numerical():
    x, w, b, rng = _conv_data(CONV_RELU_SEED)
    pre, _ = conv_forward_naive(x, w, b, CONV)
    assert kink_margin(pre) > SAFETY * largest_move(H, x, w), "data too close to a kink: pick another seed"
    assert (pre > 0).any() and (pre < 0).any()
    out, cache = conv_relu_forward(x, w, b, CONV)
    dout = rng.normal(size=out.shape)
    _check_gradients(
        lambda *a: conv_relu_forward(*a, CONV)[0], lambda d: conv_relu_backward(d, cache), x, w, b, dout
    )


def test_conv_relu_is_conv_then_relu():
    x, w, b, rng = _conv_data(2)
    out, cache = conv_relu_forward(x, w, b, CONV)
    activations, conv_cache = conv_forward_fast(x, w, b, CONV)
    expected, relu_cache = relu_forward(activations)
    np.testing.assert_array_equal(out, expected)
    dout = rng.normal(size=out.shape)
    grads = conv_relu_backward(dout, cache)
    expected_grads = conv_backward_fast(relu_backward(dout, relu_cache), conv_cache)
    for got, want in zip(grads, expected_grads):
        np.testing.assert_array_equal(got, want)
    # ... and the naive pieces chained the same way agree within rounding.
    activations, conv_cache = conv_forward_naive(x, w, b, CONV)
    naive_out, relu_cache = relu_forward(activations)
    naive_grads = conv_backward_naive(relu_backward(dout, relu_cache), conv_cache)
    assert scale_error(out, naive_out) < 1e-10
    for got, want in zip(grads, naive_grads):
        assert scale_error(got, want) < 1e-10


# ---------------------------------------------------------------------------
# conv -> ReLU -> max pool
# ---------------------------------------------------------------------------


def test_conv_relu_pool_gradients_match_numerical():
    x, w, b, rng = _conv_data(CONV_RELU_POOL_SEED)
    pre, _ = conv_forward_naive(x, w, b, CONV)
    assert kink_margin(pre, POOL) > SAFETY * largest_move(H, x, w), "data too close to a kink: pick another seed"
    # After the pool, only each window's maximum gets a gradient, and a
    # positive maximum passes the ReLU unchanged. The ReLU's backward matters
    # only in windows whose maximum is negative (it must stop the gradient the
    # pool sends to the first of their zeros), so the data must have both kinds.
    window_max, _ = max_pool_forward_naive(pre, POOL)
    assert (window_max > 0).any() and (window_max < 0).sum() >= 3
    out, cache = conv_relu_pool_forward(x, w, b, CONV, POOL)
    assert out.shape == (2, 3, 3, 3)
    dout = rng.normal(size=out.shape)
    _check_gradients(
        lambda *a: conv_relu_pool_forward(*a, CONV, POOL)[0],
        lambda d: conv_relu_pool_backward(d, cache),
        x, w, b, dout,
    )


def test_conv_relu_pool_is_conv_then_relu_then_pool():
    x, w, b, rng = _conv_data(3)
    out, cache = conv_relu_pool_forward(x, w, b, CONV, POOL)
    activations, conv_cache = conv_forward_fast(x, w, b, CONV)
    rectified, relu_cache = relu_forward(activations)
    expected, pool_cache = max_pool_forward_fast(rectified, POOL)
    np.testing.assert_array_equal(out, expected)
    dout = rng.normal(size=out.shape)
    grads = conv_relu_pool_backward(dout, cache)
    d_rectified = max_pool_backward_fast(dout, pool_cache)
    expected_grads = conv_backward_fast(relu_backward(d_rectified, relu_cache), conv_cache)
    for got, want in zip(grads, expected_grads):
        np.testing.assert_array_equal(got, want)
    # ... and the naive pieces chained the same way agree within rounding.
    activations, conv_cache = conv_forward_naive(x, w, b, CONV)
    rectified, relu_cache = relu_forward(activations)
    naive_out, pool_cache = max_pool_forward_naive(rectified, POOL)
    d_rectified = max_pool_backward_naive(dout, pool_cache)
    naive_grads = conv_backward_naive(relu_backward(d_rectified, relu_cache), conv_cache)
    assert scale_error(out, naive_out) < 1e-10
    for got, want in zip(grads, naive_grads):
        assert scale_error(got, want) < 1e-10


def test_conv_relu_pool_steps_interleaved_keep_their_own_answers():
    # The sandwich lends its convolution output and its gradient to the scratch pool:
    # forwards and backwards of several steps in any order must not see each other's memory.
    cases = [_conv_data(10 + k) for k in range(3)]
    expected, caches = [], []
    for x, w, b, rng in cases:
        out, cache = conv_relu_pool_forward(x, w, b, CONV, POOL)
        dout = rng.normal(size=out.shape)
        alone = conv_relu_pool_backward(dout, conv_relu_pool_forward(x, w, b, CONV, POOL)[1])
        expected.append((out.copy(), dout, alone))
        caches.append(cache)
    for (x, w, b, _), cache, (out, dout, alone) in reversed(list(zip(cases, caches, expected))):
        np.testing.assert_array_equal(conv_relu_pool_forward(x, w, b, CONV, POOL)[0], out)
        for got, want in zip(conv_relu_pool_backward(dout, cache), alone):
            np.testing.assert_array_equal(got, want)


def test_the_fast_pool_cache_does_not_keep_its_input_alive():
    x, _, _, _ = _conv_data(4)
    shape, dtype, input_alive = x.shape, x.dtype, weakref.ref(x)
    out, cache = max_pool_forward_fast(x, POOL)
    del x
    gc.collect()
    assert input_alive() is None, "the pool's cache (or its output) still holds x"
    assert cache[:2] == (shape, dtype)
    dout = np.ones_like(out)
    assert max_pool_backward_fast(dout, cache).shape == shape


# ---------------------------------------------------------------------------
# compute_dx=False, dtype, errors
# ---------------------------------------------------------------------------

CONV_SANDWICHES = {
    # name: (forward of (x, w, b), backward(dout, cache, compute_dx))
    "conv_relu": (lambda x, w, b: conv_relu_forward(x, w, b, CONV), conv_relu_backward),
    "conv_relu_pool": (lambda x, w, b: conv_relu_pool_forward(x, w, b, CONV, POOL), conv_relu_pool_backward),
}


@pytest.mark.parametrize("name", sorted(CONV_SANDWICHES))
def test_compute_dx_false_gives_none_and_the_same_dw_db(name):
    forward, backward = CONV_SANDWICHES[name]
    x, w, b, rng = _conv_data(4)
    out, cache = forward(x, w, b)
    dout = rng.normal(size=out.shape)
    _, dw, db = backward(dout, cache)
    dx, dw2, db2 = backward(dout, cache, compute_dx=False)
    assert dx is None
    np.testing.assert_array_equal(dw2, dw)
    np.testing.assert_array_equal(db2, db)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sandwiches_keep_the_dtype(dtype):
    x, w, b, rng = (a.astype(dtype) if isinstance(a, np.ndarray) else a for a in _conv_data(5))
    for name, (forward, backward) in CONV_SANDWICHES.items():
        out, cache = forward(x, w, b)
        assert out.dtype == dtype, name
        grads = backward(rng.normal(size=out.shape).astype(dtype), cache)
        assert [g.dtype for g in grads] == [dtype] * 3, name
    fw = rng.normal(size=(x[0].size, 4)).astype(dtype)
    out, cache = affine_relu_forward(x, fw, np.zeros(4, dtype=dtype))
    assert out.dtype == dtype
    grads = affine_relu_backward(rng.normal(size=out.shape).astype(dtype), cache)
    assert [g.dtype for g in grads] == [dtype] * 3


def test_dout_of_the_wrong_shape_is_reported_by_the_last_layer():
    x, w, b, _ = _conv_data(6)
    _, cache = conv_relu_pool_forward(x, w, b, CONV, POOL)
    with pytest.raises(ValueError, match=r"dout has shape \(2, 3, 7, 6\), expected \(2, 3, 3, 3\)"):
        conv_relu_pool_backward(np.ones((2, 3, 7, 6)), cache)


# ---------------------------------------------------------------------------
# affine -> batchnorm -> ReLU and conv -> spatial batchnorm -> ReLU
# ---------------------------------------------------------------------------

# beta = 3 (4 for conv) and gamma in [0.4, 0.6] keep every normalised value (|x_hat| <= sqrt(N - 1)
# for N samples per feature) far above the ReLU's kink, so the centred differences are exact
# to rounding; the tests of the pieces cover the ReLU's other side.


def _bn_sandwich_data(seed, x_shape, w_shape, channels):
    rng = np.random.default_rng(seed)
    x, w, b = rng.normal(size=x_shape), rng.normal(size=w_shape), rng.normal(size=channels)
    gamma, beta = rng.uniform(0.4, 0.6, channels), np.full(channels, 3.0)
    return rng, x, w, b, gamma, beta


@pytest.mark.parametrize("kind", ["affine", "conv"])
def test_bn_sandwich_gradients_match_numerical(kind):
    if kind == "affine":
        rng, x, w, b, gamma, beta = _bn_sandwich_data(5, (4, 2, 3), (6, 5), 5)
        def forward(x, w, b, gamma, beta):
            return affine_bn_relu_forward(x, w, b, gamma, beta, {"mode": "train"})
        backward = affine_bn_relu_backward
        assert np.sqrt(4 - 1) * 0.6 < 3.0  # the margin the comment above relies on
    else:
        rng, x, w, b, gamma, beta = _bn_sandwich_data(6, (2, 2, 4, 4), (3, 2, 3, 3), 3)
        beta = beta + 1.0  # 32 values per channel: |x_hat| can reach sqrt(31)
        def forward(x, w, b, gamma, beta):
            return conv_bn_relu_forward(x, w, b, gamma, beta, CONV, {"mode": "train"})
        backward = conv_bn_relu_backward
        assert np.sqrt(2 * 4 * 4 - 1) * 0.6 < 4.0
    out, cache = forward(x, w, b, gamma, beta)
    assert out.min() > 0.5
    dout = rng.normal(size=out.shape)
    dx, dw, db, dgamma, dbeta = backward(dout, cache)
    inputs = {"x": x, "w": w, "gamma": gamma, "beta": beta}
    analytic = {"x": dx, "w": dw, "gamma": dgamma, "beta": dbeta}
    for name, value in inputs.items():
        def f(v, name=name):
            args = {**inputs, name: v}
            return forward(args["x"], args["w"], b, args["gamma"], args["beta"])[0]
        # No kink to step over, but curvature: a smaller step than H keeps the difference exact.
        numerical = eval_numerical_gradient_array(f, value, dout, h=1e-5)
        assert rel_error(analytic[name], numerical) < 1e-7, name
    # The bias before batch normalization is subtracted again with the mean: no gradient.
    assert np.abs(db).max() < 1e-10


def test_affine_bn_relu_is_affine_then_batchnorm_then_relu():
    rng, x, w, b, gamma, beta = _bn_sandwich_data(7, (4, 6), (6, 5), 5)
    beta = rng.normal(size=5)  # both sides of the ReLU
    dout = rng.normal(size=(4, 5))
    out, cache = affine_bn_relu_forward(x, w, b, gamma, beta, {"mode": "train"})
    scores, affine_cache = affine_forward(x, w, b)
    normalized, bn_cache = batchnorm_forward(scores, gamma, beta, {"mode": "train"})
    expected, relu_cache = relu_forward(normalized)
    np.testing.assert_array_equal(out, expected)
    dscores, dgamma, dbeta = batchnorm_backward_alt(relu_backward(dout, relu_cache), bn_cache)
    expected_grads = (*affine_backward(dscores, affine_cache), dgamma, dbeta)
    for got, want in zip(affine_bn_relu_backward(dout, cache), expected_grads):
        np.testing.assert_array_equal(got, want)


def test_conv_bn_relu_is_conv_then_spatial_batchnorm_then_relu():
    rng, x, w, b, gamma, beta = _bn_sandwich_data(8, (2, 2, 5, 5), (3, 2, 3, 3), 3)
    beta = rng.normal(size=3)
    out, cache = conv_bn_relu_forward(x, w, b, gamma, beta, CONV, {"mode": "train"})
    activations, conv_cache = conv_forward_fast(x, w, b, CONV)
    normalized, bn_cache = spatial_batchnorm_forward(activations, gamma, beta, {"mode": "train"})
    expected, relu_cache = relu_forward(normalized)
    np.testing.assert_array_equal(out, expected)
    dout = rng.normal(size=out.shape)
    dact, dgamma, dbeta = spatial_batchnorm_backward(relu_backward(dout, relu_cache), bn_cache)
    expected_grads = (*conv_backward_fast(dact, conv_cache), dgamma, dbeta)
    for got, want in zip(conv_bn_relu_backward(dout, cache), expected_grads):
        np.testing.assert_array_equal(got, want)
