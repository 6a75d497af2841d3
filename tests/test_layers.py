"""Tests for cs231n_lib.layers.

Oracles, from the most to the least concrete:
- tiny cases worked out by hand (the arithmetic is in the comments);
- numerical gradients (float64, relative error < 1e-7) of every backward;
- a second, direct implementation of convolution and max pooling written
  here with sliding_window_view, swept by hypothesis over shapes, strides
  and pads (conv backward through the adjoint identity, pool backward
  against a numerical gradient of the reference);
- naive loop references for softmax and SVM losses.
"""

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.lib.stride_tricks import sliding_window_view

from cs231n_lib.gradient_check import (
    eval_numerical_gradient,
    eval_numerical_gradient_array,
    rel_error,
)
from cs231n_lib.layers import (
    affine_backward,
    affine_forward,
    conv_backward_naive,
    conv_forward_naive,
    dropout_backward,
    dropout_forward,
    max_pool_backward_naive,
    max_pool_forward_naive,
    relu_backward,
    relu_forward,
    softmax_loss,
    svm_loss,
)

SWEEP = settings(max_examples=100, deadline=None, database=None)
GRAD_TOL = 1e-7
# rel_error is elementwise, so an entry whose true gradient happens to be near
# 0 is compared against the ~1e-10 rounding noise of the centred difference;
# with h = 1e-5 an unlucky draw reaches ~1e-7. Affine and conv are linear in
# each input, so the centred difference has no truncation error at any h, and
# a larger step shrinks the rounding noise a hundredfold.
LINEAR_H = 1e-3


# ---------------------------------------------------------------------------
# Reference implementations (deliberately written differently from the library)
# ---------------------------------------------------------------------------


def reference_conv(x, w, b, stride, pad):
    """out[n, f, i, j] = b[f] + sum_{c,a,d} xp[n, c, i*S + a, j*S + d] * w[f, c, a, d]."""
    _, _, HH, WW = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    windows = sliding_window_view(xp, (HH, WW), axis=(2, 3))[:, :, ::stride, ::stride]
    return np.einsum("nchwad,fcad->nfhw", windows, w) + b[None, :, None, None]


def reference_max_pool(x, pool_height, pool_width, stride):
    windows = sliding_window_view(x, (pool_height, pool_width), axis=(2, 3))
    return windows[:, :, ::stride, ::stride].max(axis=(4, 5))


def reference_softmax_loss(x, y):
    """Cross-entropy through log-sum-exp, one row at a time."""
    N = x.shape[0]
    loss = 0.0
    dx = np.zeros_like(x)
    for i in range(N):
        lse = np.logaddexp.reduce(x[i])
        loss += lse - x[i, y[i]]
        dx[i] = np.exp(x[i] - lse)
        dx[i, y[i]] -= 1.0
    return loss / N, dx / N


def reference_svm_loss(x, y):
    """Hinge loss by a double loop over samples and classes."""
    N, C = x.shape
    loss = 0.0
    dx = np.zeros_like(x)
    for i in range(N):
        for j in range(C):
            if j == y[i]:
                continue
            margin = x[i, j] - x[i, y[i]] + 1.0
            if margin > 0:
                loss += margin
                dx[i, j] += 1.0
                dx[i, y[i]] -= 1.0
    return loss / N, dx / N


def distinct_values(shape, rng, spacing=0.05):
    """Every entry different from every other by at least `spacing` (no max-pool ties)."""
    size = math.prod(shape)
    return (rng.permutation(size).reshape(shape) - size / 2) * spacing


def away_from_zero(shape, rng, low=0.1):
    """Random values with |v| >= low, so ReLU never sits on its kink."""
    return rng.uniform(low, 1.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)


def pool_param(ph, pw, stride):
    return {"pool_height": ph, "pool_width": pw, "stride": stride}


# ---------------------------------------------------------------------------
# Affine
# ---------------------------------------------------------------------------


def test_affine_forward_by_hand():
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    w = np.array([[1.0, 0.0, -1.0], [2.0, 1.0, 0.0]])
    b = np.array([0.5, -1.0, 2.0])
    out, _ = affine_forward(x, w, b)
    # row 0: [1*1 + 2*2 + 0.5, 1*0 + 2*1 - 1, 1*(-1) + 2*0 + 2] = [5.5, 1, 1]
    # row 1: [3*1 + 4*2 + 0.5, 3*0 + 4*1 - 1, 3*(-1) + 4*0 + 2] = [11.5, 3, -1]
    np.testing.assert_array_equal(out, [[5.5, 1.0, 1.0], [11.5, 3.0, -1.0]])


def test_affine_backward_by_hand():
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    w = np.array([[1.0, 0.0, -1.0], [2.0, 1.0, 0.0]])
    b = np.array([0.5, -1.0, 2.0])
    _, cache = affine_forward(x, w, b)
    dx, dw, db = affine_backward(np.ones((2, 3)), cache)
    # dx[n, d] = sum_m w[d, m]: row sums of w are 0 and 3
    np.testing.assert_array_equal(dx, [[0.0, 3.0], [0.0, 3.0]])
    # dw[d, m] = sum_n x[n, d]: column sums of x are 1+3 = 4 and 2+4 = 6
    np.testing.assert_array_equal(dw, [[4.0, 4.0, 4.0], [6.0, 6.0, 6.0]])
    np.testing.assert_array_equal(db, [2.0, 2.0, 2.0])


def test_affine_flattens_each_sample():
    x = np.arange(12.0).reshape(2, 3, 2)
    w = np.eye(6)
    out, _ = affine_forward(x, w, np.zeros(6))
    np.testing.assert_array_equal(out, x.reshape(2, 6))


def test_affine_gradients_match_numerical():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 2, 3, 2))
    w = rng.normal(size=(12, 5))
    b = rng.normal(size=5)
    dout = rng.normal(size=(3, 5))
    _, cache = affine_forward(x, w, b)
    dx, dw, db = affine_backward(dout, cache)
    dx_num = eval_numerical_gradient_array(lambda v: affine_forward(v, w, b)[0], x, dout, h=LINEAR_H)
    dw_num = eval_numerical_gradient_array(lambda v: affine_forward(x, v, b)[0], w, dout, h=LINEAR_H)
    db_num = eval_numerical_gradient_array(lambda v: affine_forward(x, w, v)[0], b, dout, h=LINEAR_H)
    assert dx.shape == x.shape
    assert rel_error(dx, dx_num) < GRAD_TOL
    assert rel_error(dw, dw_num) < GRAD_TOL
    assert rel_error(db, db_num) < GRAD_TOL


# ---------------------------------------------------------------------------
# ReLU
# ---------------------------------------------------------------------------


def test_relu_forward_and_backward_by_hand():
    x = np.array([-2.0, -0.5, 0.0, 0.5, 3.0])
    out, cache = relu_forward(x)
    np.testing.assert_array_equal(out, [0.0, 0.0, 0.0, 0.5, 3.0])
    dx = relu_backward(np.array([1.0, 2.0, 3.0, 4.0, 5.0]), cache)
    np.testing.assert_array_equal(dx, [0.0, 0.0, 0.0, 4.0, 5.0])  # 0 at the kink


def test_relu_gradient_matches_numerical():
    rng = np.random.default_rng(1)
    x = away_from_zero((4, 3, 5), rng)
    dout = rng.normal(size=x.shape)
    _, cache = relu_forward(x)
    dx = relu_backward(dout, cache)
    dx_num = eval_numerical_gradient_array(lambda v: relu_forward(v)[0], x, dout)
    assert rel_error(dx, dx_num) < GRAD_TOL


# ---------------------------------------------------------------------------
# Convolution: hand-worked cases
# ---------------------------------------------------------------------------


def test_conv_2x2_filter_on_3x3_by_hand():
    x = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]).reshape(1, 1, 3, 3)
    w = np.array([[1.0, -1.0], [2.0, 0.5]]).reshape(1, 1, 2, 2)
    b = np.array([10.0])
    out, _ = conv_forward_naive(x, w, b, {"stride": 1, "pad": 0})
    # top-left     [[1,2],[4,5]]: 1*1 + 2*(-1) + 4*2 + 5*0.5 + 10 = 19.5
    # top-right    [[2,3],[5,6]]: 2*1 + 3*(-1) + 5*2 + 6*0.5 + 10 = 22
    # bottom-left  [[4,5],[7,8]]: 4*1 + 5*(-1) + 7*2 + 8*0.5 + 10 = 27
    # bottom-right [[5,6],[8,9]]: 5*1 + 6*(-1) + 8*2 + 9*0.5 + 10 = 29.5
    np.testing.assert_array_equal(out, np.array([[19.5, 22.0], [27.0, 29.5]]).reshape(1, 1, 2, 2))


def test_conv_pad_1_stride_2_by_hand():
    x = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)  # [[1,2,3],[4,5,6],[7,8,9]]
    w = np.zeros((1, 1, 3, 3))
    w[0, 0, 1, 1] = 1.0  # centre tap
    w[0, 0, 2, 2] = 2.0  # bottom-right tap
    b = np.array([-1.0])
    out, _ = conv_forward_naive(x, w, b, {"stride": 2, "pad": 1})
    # padded input is 5x5; output (3 - 3 + 2) / 2 + 1 = 2 per axis.
    # Window (i, j) starts at padded (2i, 2j), so the taps read
    # x[2i, 2j] (centre) and x[2i+1, 2j+1] (bottom-right; 0 outside x):
    # (0,0): 1 + 2*5 - 1 = 10     (0,1): 3 + 2*0 - 1 = 2
    # (1,0): 7 + 2*0 - 1 = 6      (1,1): 9 + 2*0 - 1 = 8
    np.testing.assert_array_equal(out, np.array([[10.0, 2.0], [6.0, 8.0]]).reshape(1, 1, 2, 2))


def test_conv_non_square_input_and_filter_by_hand():
    x = np.array([[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]]).reshape(1, 1, 2, 4)
    w = np.array([[1.0, 10.0, 100.0]]).reshape(1, 1, 1, 3)  # HH=1, WW=3
    out, _ = conv_forward_naive(x, w, np.zeros(1), {"stride": 1, "pad": 0})
    # out[i, j] = x[i, j] + 10 x[i, j+1] + 100 x[i, j+2]
    # row 0: 1 + 20 + 300 = 321, 2 + 30 + 400 = 432
    # row 1: 5 + 60 + 700 = 765, 6 + 70 + 800 = 876
    np.testing.assert_array_equal(out, np.array([[321.0, 432.0], [765.0, 876.0]]).reshape(1, 1, 2, 2))


def test_conv_sums_over_channels_and_uses_one_bias_per_filter():
    x = np.stack([np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[10.0, 20.0], [30.0, 40.0]])])[None]
    w = np.zeros((2, 2, 2, 2))
    w[0, 0] = 1.0  # filter 0: sum of channel 0
    w[0, 1, 0, 0] = 1.0  # ... plus the top-left of channel 1
    w[1, 1, 1, 1] = -1.0  # filter 1: minus the bottom-right of channel 1
    b = np.array([0.0, 100.0])
    out, _ = conv_forward_naive(x, w, b, {"stride": 1, "pad": 0})
    # filter 0: (1 + 2 + 3 + 4) + 10 + 0 = 20; filter 1: -40 + 100 = 60
    np.testing.assert_array_equal(out, np.array([20.0, 60.0]).reshape(1, 2, 1, 1))


def test_conv_backward_by_hand_on_overlapping_windows():
    # 1x3 input, 1x2 filter [a, b] = [2, 3], stride 1: windows overlap on x[1].
    x = np.array([1.0, 1.0, 1.0]).reshape(1, 1, 1, 3)
    w = np.array([2.0, 3.0]).reshape(1, 1, 1, 2)
    _, cache = conv_forward_naive(x, w, np.zeros(1), {"stride": 1, "pad": 0})
    dout = np.array([1.0, 10.0]).reshape(1, 1, 1, 2)
    dx, dw, db = conv_backward_naive(dout, cache)
    # x[0] only in window 0 as tap a: 1*2 = 2
    # x[1] in window 0 as tap b and window 1 as tap a: 1*3 + 10*2 = 23
    # x[2] only in window 1 as tap b: 10*3 = 30
    np.testing.assert_array_equal(dx.ravel(), [2.0, 23.0, 30.0])
    # dw[a] = 1*x[0] + 10*x[1] = 11, dw[b] = 1*x[1] + 10*x[2] = 11
    np.testing.assert_array_equal(dw.ravel(), [11.0, 11.0])
    np.testing.assert_array_equal(db, [11.0])


# ---------------------------------------------------------------------------
# Convolution: numerical gradients
# ---------------------------------------------------------------------------

CONV_CASES = [
    # x shape, w shape, stride, pad
    pytest.param((2, 3, 5, 5), (2, 3, 3, 3), 1, 0, id="square-s1-p0"),
    pytest.param((2, 3, 5, 5), (3, 3, 3, 3), 1, 1, id="square-s1-p1"),
    pytest.param((2, 3, 5, 5), (3, 3, 3, 3), 2, 1, id="square-s2-p1"),
    pytest.param((2, 1, 7, 5), (2, 1, 3, 1), 2, 0, id="nonsquare-s2-p0"),
    pytest.param((2, 2, 5, 7), (2, 2, 2, 3), 1, 0, id="nonsquare-s1-p0"),
    pytest.param((1, 2, 6, 8), (2, 2, 2, 4), 2, 1, id="nonsquare-s2-p1"),
]


@pytest.mark.parametrize("x_shape, w_shape, stride, pad", CONV_CASES)
def test_conv_gradients_match_numerical(x_shape, w_shape, stride, pad):
    rng = np.random.default_rng(2)
    x = rng.normal(size=x_shape)
    w = rng.normal(size=w_shape)
    b = rng.normal(size=w_shape[0])
    param = {"stride": stride, "pad": pad}
    out, cache = conv_forward_naive(x, w, b, param)
    dout = rng.normal(size=out.shape)
    dx, dw, db = conv_backward_naive(dout, cache)
    conv_of_x = lambda v: conv_forward_naive(v, w, b, param)[0]  # noqa: E731
    conv_of_w = lambda v: conv_forward_naive(x, v, b, param)[0]  # noqa: E731
    conv_of_b = lambda v: conv_forward_naive(x, w, v, param)[0]  # noqa: E731
    dx_num = eval_numerical_gradient_array(conv_of_x, x, dout, h=LINEAR_H)
    dw_num = eval_numerical_gradient_array(conv_of_w, w, dout, h=LINEAR_H)
    db_num = eval_numerical_gradient_array(conv_of_b, b, dout, h=LINEAR_H)
    assert (dx.shape, dw.shape, db.shape) == (x.shape, w.shape, b.shape)
    assert rel_error(dx, dx_num) < GRAD_TOL
    assert rel_error(dw, dw_num) < GRAD_TOL
    assert rel_error(db, db_num) < GRAD_TOL


# ---------------------------------------------------------------------------
# Max pooling: hand-worked cases
# ---------------------------------------------------------------------------

POOL_4X4 = np.array(
    [
        [1.0, 5.0, 2.0, 0.0],
        [3.0, 4.0, 8.0, 6.0],
        [7.0, 2.0, 9.0, 1.0],
        [0.0, 6.0, 3.0, 4.0],
    ]
).reshape(1, 1, 4, 4)


def test_max_pool_2x2_stride_2_by_hand():
    out, cache = max_pool_forward_naive(POOL_4X4, pool_param(2, 2, 2))
    # windows: [[1,5],[3,4]] -> 5, [[2,0],[8,6]] -> 8, [[7,2],[0,6]] -> 7, [[9,1],[3,4]] -> 9
    np.testing.assert_array_equal(out, np.array([[5.0, 8.0], [7.0, 9.0]]).reshape(1, 1, 2, 2))
    dx = max_pool_backward_naive(np.array([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 1, 2, 2), cache)
    expected = np.zeros((4, 4))
    expected[0, 1] = 1.0  # the 5
    expected[1, 2] = 2.0  # the 8
    expected[2, 0] = 3.0  # the 7
    expected[2, 2] = 4.0  # the 9
    np.testing.assert_array_equal(dx, expected.reshape(1, 1, 4, 4))


def test_overlapping_pool_sums_gradients_at_a_shared_max():
    # 3x3 windows, stride 1, on 4x4: 2x2 windows that all contain the centre
    # cells (1..2, 1..2). The largest value (100) sits at (1, 1), so every
    # window picks it and it receives the sum of all four upstream gradients.
    x = np.arange(16.0).reshape(4, 4) / 10
    x[1, 1] = 100.0
    out, cache = max_pool_forward_naive(x.reshape(1, 1, 4, 4), pool_param(3, 3, 1))
    np.testing.assert_array_equal(out, np.full((1, 1, 2, 2), 100.0))
    dout = np.array([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 1, 2, 2)
    dx = max_pool_backward_naive(dout, cache)
    expected = np.zeros((4, 4))
    expected[1, 1] = 1.0 + 2.0 + 3.0 + 4.0
    np.testing.assert_array_equal(dx, expected.reshape(1, 1, 4, 4))


def test_overlapping_pool_splits_gradients_between_two_maxima():
    # 100 at the corner (0, 0) is only in window (0, 0); 50 at (2, 2) is in all
    # four windows and is the max of the other three.
    x = np.arange(16.0).reshape(4, 4) / 10
    x[0, 0] = 100.0
    x[2, 2] = 50.0
    out, cache = max_pool_forward_naive(x.reshape(1, 1, 4, 4), pool_param(3, 3, 1))
    np.testing.assert_array_equal(out, np.array([[100.0, 50.0], [50.0, 50.0]]).reshape(1, 1, 2, 2))
    dx = max_pool_backward_naive(np.array([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 1, 2, 2), cache)
    expected = np.zeros((4, 4))
    expected[0, 0] = 1.0
    expected[2, 2] = 2.0 + 3.0 + 4.0
    np.testing.assert_array_equal(dx, expected.reshape(1, 1, 4, 4))


# ---------------------------------------------------------------------------
# Max pooling: numerical gradients
# ---------------------------------------------------------------------------

POOL_CASES = [
    # x shape, pool height, pool width, stride
    pytest.param((2, 3, 4, 6), 2, 2, 2, id="tiling-2x2-s2"),
    pytest.param((1, 2, 6, 6), 3, 3, 3, id="tiling-3x3-s3"),
    pytest.param((2, 2, 5, 5), 3, 3, 1, id="overlap-3x3-s1"),
    pytest.param((1, 1, 7, 7), 3, 3, 2, id="overlap-3x3-s2"),
    pytest.param((1, 2, 5, 7), 3, 2, 1, id="overlap-3x2-s1"),
]


@pytest.mark.parametrize("x_shape, ph, pw, stride", POOL_CASES)
def test_max_pool_gradient_matches_numerical(x_shape, ph, pw, stride):
    rng = np.random.default_rng(3)
    x = distinct_values(x_shape, rng)
    param = pool_param(ph, pw, stride)
    out, cache = max_pool_forward_naive(x, param)
    dout = rng.normal(size=out.shape)
    dx = max_pool_backward_naive(dout, cache)
    dx_num = eval_numerical_gradient_array(lambda v: max_pool_forward_naive(v, param)[0], x, dout)
    assert rel_error(dx, dx_num) < GRAD_TOL


# ---------------------------------------------------------------------------
# Hypothesis sweeps against the references
# ---------------------------------------------------------------------------


def _draw_axis(draw, stride, pad, max_filter):
    """Draw (size, filter) along one axis so that `stride` fits exactly.

    size = (out - 1) * stride + filter - 2 * pad, kept in 1..9.
    """
    f = draw(st.integers(1, max_filter))
    lowest_out = max(1, -(-(1 - f + 2 * pad) // stride) + 1)
    highest_out = (9 - f + 2 * pad) // stride + 1
    out = draw(st.integers(lowest_out, highest_out))
    size = (out - 1) * stride + f - 2 * pad
    assert 1 <= size <= 9
    return size, f


@st.composite
def conv_cases(draw):
    N = draw(st.integers(1, 2))
    C = draw(st.integers(1, 3))
    F = draw(st.integers(1, 3))
    stride = draw(st.integers(1, 3))
    pad = draw(st.integers(0, 2))
    H, HH = _draw_axis(draw, stride, pad, max_filter=5)
    W, WW = _draw_axis(draw, stride, pad, max_filter=5)
    seed = draw(st.integers(0, 2**32 - 1))
    return (N, C, H, W), (F, C, HH, WW), stride, pad, seed


@st.composite
def pool_cases(draw, overlapping=False):
    N = draw(st.integers(1, 2))
    C = draw(st.integers(1, 3))
    if overlapping:
        ph = draw(st.integers(2, 4))
        pw = draw(st.integers(2, 4))
        stride = draw(st.integers(1, min(ph, pw) - 1))
    else:
        ph = draw(st.integers(1, 4))
        pw = draw(st.integers(1, 4))
        stride = draw(st.integers(1, 3))
    # size = (out - 1) * stride + window, kept <= 9
    H = (draw(st.integers(1, (9 - ph) // stride + 1)) - 1) * stride + ph
    W = (draw(st.integers(1, (9 - pw) // stride + 1)) - 1) * stride + pw
    seed = draw(st.integers(0, 2**32 - 1))
    return (N, C, H, W), ph, pw, stride, seed


@SWEEP
@given(conv_cases())
def test_conv_forward_matches_reference(case):
    x_shape, w_shape, stride, pad, seed = case
    rng = np.random.default_rng(seed)
    x = rng.normal(size=x_shape)
    w = rng.normal(size=w_shape)
    b = rng.normal(size=w_shape[0])
    out, _ = conv_forward_naive(x, w, b, {"stride": stride, "pad": pad})
    expected = reference_conv(x, w, b, stride, pad)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-10)


def _inner(a, b):
    """<a, b> together with a bound on its rounding error."""
    products = a * b
    return products.sum(), 1e-10 * (np.abs(products).sum() + 1.0)


@SWEEP
@given(conv_cases())
def test_conv_backward_is_the_adjoint_of_the_reference(case):
    # conv(x, w) - b is linear in x and in w, so for any directions v, u:
    #   <dout, conv(v, w, 0)> = <dx, v>   and   <dout, conv(x, u, 0)> = <dw, u>
    x_shape, w_shape, stride, pad, seed = case
    rng = np.random.default_rng(seed)
    x = rng.normal(size=x_shape)
    w = rng.normal(size=w_shape)
    b = rng.normal(size=w_shape[0])
    zero_b = np.zeros_like(b)
    out, cache = conv_forward_naive(x, w, b, {"stride": stride, "pad": pad})
    dout = rng.normal(size=out.shape)
    dx, dw, db = conv_backward_naive(dout, cache)
    assert (dx.shape, dw.shape, db.shape) == (x.shape, w.shape, b.shape)
    for _ in range(2):
        v = rng.normal(size=x_shape)
        lhs, tol_l = _inner(dout, reference_conv(v, w, zero_b, stride, pad))
        rhs, tol_r = _inner(dx, v)
        assert abs(lhs - rhs) <= tol_l + tol_r
        u = rng.normal(size=w_shape)
        lhs, tol_l = _inner(dout, reference_conv(x, u, zero_b, stride, pad))
        rhs, tol_r = _inner(dw, u)
        assert abs(lhs - rhs) <= tol_l + tol_r
    np.testing.assert_allclose(db, dout.sum(axis=(0, 2, 3)), rtol=1e-12, atol=1e-12)


@SWEEP
@given(pool_cases())
def test_max_pool_forward_matches_reference(case):
    x_shape, ph, pw, stride, seed = case
    x = distinct_values(x_shape, np.random.default_rng(seed))
    out, _ = max_pool_forward_naive(x, pool_param(ph, pw, stride))
    np.testing.assert_array_equal(out, reference_max_pool(x, ph, pw, stride))


def _check_pool_backward_against_numerical_reference(case):
    x_shape, ph, pw, stride, seed = case
    rng = np.random.default_rng(seed)
    x = distinct_values(x_shape, rng)
    out, cache = max_pool_forward_naive(x, pool_param(ph, pw, stride))
    dout = rng.normal(size=out.shape)
    dx = max_pool_backward_naive(dout, cache)
    dx_num = eval_numerical_gradient_array(lambda v: reference_max_pool(v, ph, pw, stride), x, dout)
    np.testing.assert_allclose(dx, dx_num, rtol=1e-7, atol=1e-8)


@SWEEP
@given(pool_cases())
def test_max_pool_backward_matches_numerical_gradient_of_reference(case):
    _check_pool_backward_against_numerical_reference(case)


@SWEEP
@given(pool_cases(overlapping=True))
def test_overlapping_max_pool_backward_matches_numerical_gradient_of_reference(case):
    _check_pool_backward_against_numerical_reference(case)


# ---------------------------------------------------------------------------
# Dropout (p is the probability of DROPPING a unit)
# ---------------------------------------------------------------------------


def train(p, **extra):
    return {"p": p, "mode": "train", **extra}


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_dropout_drops_a_fraction_p(p):
    n = 100_000
    out, _ = dropout_forward(np.ones(n), train(p, seed=0))
    dropped = np.mean(out == 0)
    standard_error = math.sqrt(p * (1 - p) / n)
    assert abs(dropped - p) < 4 * standard_error


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_dropout_keeps_the_mean(p):
    n = 100_000
    out, _ = dropout_forward(np.ones(n), train(p, seed=1))
    # each unit is 1/(1-p) with probability 1-p, else 0: mean 1, variance p/(1-p)
    standard_error = math.sqrt(p / (1 - p) / n)
    assert abs(out.mean() - 1.0) < 4 * standard_error


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_dropout_scales_kept_units_by_one_over_keep_probability(p):
    x = away_from_zero((50, 40), np.random.default_rng(2))
    out, _ = dropout_forward(x, train(p, seed=3))
    kept = out != 0
    assert kept.any() and not kept.all()
    np.testing.assert_allclose(out[kept], x[kept] / (1 - p), rtol=1e-12)


def test_dropout_test_mode_is_the_identity():
    x = np.random.default_rng(4).normal(size=(3, 4))
    out, cache = dropout_forward(x, {"p": 0.7, "mode": "test"})
    np.testing.assert_array_equal(out, x)
    dout = np.random.default_rng(5).normal(size=(3, 4))
    np.testing.assert_array_equal(dropout_backward(dout, cache), dout)


def test_dropout_backward_passes_gradient_only_through_kept_units():
    x = away_from_zero((6, 7), np.random.default_rng(6))
    out, cache = dropout_forward(x, train(0.4, seed=7))
    dout = np.random.default_rng(8).normal(size=x.shape)
    dx = dropout_backward(dout, cache)
    # out = x * s with s in {0, 1/(1-p)}, so dx = dout * out / x
    np.testing.assert_allclose(dx, dout * out / x, rtol=1e-12)


def test_dropout_gradient_matches_numerical():
    rng = np.random.default_rng(9)
    x = rng.normal(size=(4, 5, 3))
    param = train(0.3, seed=11)
    out, cache = dropout_forward(x, param)
    dout = rng.normal(size=out.shape)
    dx = dropout_backward(dout, cache)
    dx_num = eval_numerical_gradient_array(lambda v: dropout_forward(v, param)[0], x, dout)
    assert rel_error(dx, dx_num) < GRAD_TOL


def test_dropout_same_seed_same_mask_different_seed_different_mask():
    x = np.ones((20, 30))
    first, _ = dropout_forward(x, train(0.5, seed=42))
    again, _ = dropout_forward(x, train(0.5, seed=42))
    other, _ = dropout_forward(x, train(0.5, seed=43))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_dropout_accepts_an_explicit_generator():
    x = np.ones((20, 30))
    a, _ = dropout_forward(x, train(0.5, rng=np.random.default_rng(5)))
    b, _ = dropout_forward(x, train(0.5, rng=np.random.default_rng(5)))
    np.testing.assert_array_equal(a, b)
    shared = np.random.default_rng(5)
    first, _ = dropout_forward(x, train(0.5, rng=shared))
    second, _ = dropout_forward(x, train(0.5, rng=shared))
    np.testing.assert_array_equal(first, a)
    assert not np.array_equal(first, second)  # the generator advanced
    assert set(np.unique(first)) == {0.0, 2.0}


def test_dropout_without_seed_or_rng_draws_from_the_global_generator():
    np.random.seed(123)
    first, _ = dropout_forward(np.ones((10, 10)), train(0.5))
    np.random.seed(123)
    again, _ = dropout_forward(np.ones((10, 10)), train(0.5))
    np.testing.assert_array_equal(first, again)
    # The mask is the global generator's next 100 uniforms, compared with p.
    np.random.seed(123)
    expected = (np.random.random_sample((10, 10)) >= 0.5) / 0.5
    np.testing.assert_array_equal(first, expected)


def test_dropout_without_seed_draws_fresh_masks():
    x = np.ones(1000)
    a, _ = dropout_forward(x, train(0.5))
    b, _ = dropout_forward(x, train(0.5))
    assert not np.array_equal(a, b)  # equal with probability 2**-1000


def test_dropout_p_zero_keeps_everything():
    x = np.random.default_rng(12).normal(size=(5, 6))
    out, _ = dropout_forward(x, train(0.0, seed=0))
    np.testing.assert_array_equal(out, x)


# ---------------------------------------------------------------------------
# Losses
# ---------------------------------------------------------------------------


def test_softmax_loss_of_zero_scores_is_log_num_classes():
    loss, dx = softmax_loss(np.zeros((4, 10)), np.array([0, 3, 9, 5]))
    assert loss == pytest.approx(math.log(10), rel=1e-12)
    # every probability is 1/10: dx = (1/10 - [j == y]) / 4
    expected = np.full((4, 10), 0.1)
    expected[[0, 1, 2, 3], [0, 3, 9, 5]] -= 1.0
    np.testing.assert_allclose(dx, expected / 4, rtol=1e-12)


def test_softmax_loss_huge_scores_do_not_overflow():
    x = np.array([[1e4, 0.0, -1e4], [0.0, 1e4, 1e4 - 1.0]])
    y = np.array([1, 2])
    loss, dx = softmax_loss(x, y)
    assert np.isfinite(loss)
    assert np.all(np.isfinite(dx))
    ref_loss, ref_dx = reference_softmax_loss(x, y)
    # row 0: the label's score is 1e4 below the max -> loss 1e4 (+ e^-2e4, nothing);
    # row 1: log(e^0 + e^1e4 + e^(1e4 - 1)) - (1e4 - 1) = 1 + log(1 + e^-1) = log(1 + e)
    assert ref_loss == pytest.approx((1e4 + math.log1p(math.e)) / 2, rel=1e-12)
    assert loss == pytest.approx(ref_loss, rel=1e-12)
    np.testing.assert_allclose(dx, ref_dx, rtol=1e-10, atol=1e-15)


def test_softmax_loss_matches_reference():
    rng = np.random.default_rng(13)
    x = rng.normal(scale=3.0, size=(7, 5))
    y = rng.integers(0, 5, size=7)
    loss, dx = softmax_loss(x, y)
    ref_loss, ref_dx = reference_softmax_loss(x, y)
    assert loss == pytest.approx(ref_loss, rel=1e-12)
    np.testing.assert_allclose(dx, ref_dx, rtol=1e-10, atol=1e-15)


def test_softmax_loss_gradient_matches_numerical():
    rng = np.random.default_rng(14)
    x = rng.normal(size=(6, 4))
    y = rng.integers(0, 4, size=6)
    _, dx = softmax_loss(x, y)
    dx_num = eval_numerical_gradient(lambda v: softmax_loss(v, y)[0], x)
    assert rel_error(dx, dx_num) < GRAD_TOL


def svm_scores_away_from_kinks(rng, N, C, gap=0.05):
    """Scores whose margins x[i, j] - x[i, y_i] + 1 are all at least `gap` from 0."""
    while True:
        x = rng.normal(scale=2.0, size=(N, C))
        y = rng.integers(0, C, size=N)
        margins = x - x[np.arange(N), y][:, None] + 1.0
        margins[np.arange(N), y] = 1.0  # the label's own "margin" is not a kink
        if np.min(np.abs(margins)) >= gap:
            return x, y


def test_svm_loss_by_hand():
    x = np.array([[3.0, 1.0, 3.5], [0.0, 2.0, -1.0]])
    y = np.array([0, 1])
    loss, dx = svm_loss(x, y)
    # row 0 (label 0, score 3): max(0, 1 - 3 + 1) = 0, max(0, 3.5 - 3 + 1) = 1.5
    # row 1 (label 1, score 2): max(0, 0 - 2 + 1) = 0, max(0, -1 - 2 + 1) = 0
    assert loss == pytest.approx(1.5 / 2)
    np.testing.assert_array_equal(dx, np.array([[-1.0, 0.0, 1.0], [0.0, 0.0, 0.0]]) / 2)


def test_svm_loss_matches_double_loop_reference():
    rng = np.random.default_rng(15)
    x, y = svm_scores_away_from_kinks(rng, 8, 5)
    loss, dx = svm_loss(x, y)
    ref_loss, ref_dx = reference_svm_loss(x, y)
    assert loss == pytest.approx(ref_loss, rel=1e-12)
    np.testing.assert_allclose(dx, ref_dx, rtol=1e-12)


def test_svm_loss_gradient_matches_numerical():
    x, y = svm_scores_away_from_kinks(np.random.default_rng(16), 6, 4)
    _, dx = svm_loss(x, y)
    dx_num = eval_numerical_gradient(lambda v: svm_loss(v, y)[0], x)
    assert rel_error(dx, dx_num) < GRAD_TOL


# ---------------------------------------------------------------------------
# dtype: float32 in -> float32 out
# ---------------------------------------------------------------------------

F32 = np.float32


def _f32(rng, *shape):
    return rng.normal(size=shape).astype(F32)


def test_float32_affine():
    rng = np.random.default_rng(17)
    out, cache = affine_forward(_f32(rng, 2, 3, 2), _f32(rng, 6, 4), _f32(rng, 4))
    grads = affine_backward(_f32(rng, 2, 4), cache)
    assert out.dtype == F32
    assert [g.dtype for g in grads] == [F32, F32, F32]


def test_float32_relu():
    rng = np.random.default_rng(18)
    out, cache = relu_forward(_f32(rng, 3, 4))
    assert out.dtype == F32
    assert relu_backward(_f32(rng, 3, 4), cache).dtype == F32


def test_float32_conv():
    rng = np.random.default_rng(19)
    out, cache = conv_forward_naive(_f32(rng, 2, 2, 5, 5), _f32(rng, 3, 2, 3, 3), _f32(rng, 3), {"stride": 2, "pad": 1})
    grads = conv_backward_naive(_f32(rng, *out.shape), cache)
    assert out.dtype == F32
    assert [g.dtype for g in grads] == [F32, F32, F32]


def test_float32_max_pool():
    rng = np.random.default_rng(20)
    out, cache = max_pool_forward_naive(_f32(rng, 2, 2, 4, 4), pool_param(2, 2, 2))
    assert out.dtype == F32
    assert max_pool_backward_naive(_f32(rng, *out.shape), cache).dtype == F32


@pytest.mark.parametrize("mode", ["train", "test"])
def test_float32_dropout(mode):
    rng = np.random.default_rng(21)
    out, cache = dropout_forward(_f32(rng, 4, 5), {"p": 0.3, "mode": mode, "seed": 0})
    assert out.dtype == F32
    assert dropout_backward(_f32(rng, 4, 5), cache).dtype == F32


@pytest.mark.parametrize("loss_fn", [softmax_loss, svm_loss])
def test_float32_losses(loss_fn):
    rng = np.random.default_rng(22)
    loss, dx = loss_fn(_f32(rng, 5, 3), np.array([0, 1, 2, 1, 0]))
    assert dx.dtype == F32
    assert np.isfinite(loss)


# ---------------------------------------------------------------------------
# Error paths: each message names the offending numbers
# ---------------------------------------------------------------------------

CONV_OK = {"stride": 1, "pad": 0}


def test_conv_rejects_x_with_3_dims():
    with pytest.raises(ValueError, match=re.escape("x must have 4 dimensions, got 3 (shape (3, 5, 5))")):
        conv_forward_naive(np.zeros((3, 5, 5)), np.zeros((2, 3, 3, 3)), np.zeros(2), CONV_OK)


def test_conv_channel_mismatch_names_both_counts():
    with pytest.raises(ValueError, match=r"x has 3 channels .* depth 2"):
        conv_forward_naive(np.zeros((1, 3, 5, 5)), np.zeros((4, 2, 3, 3)), np.zeros(4), CONV_OK)


def test_conv_stride_that_does_not_fit_shows_the_formula():
    with pytest.raises(ValueError, match=re.escape("height: stride 3 does not fit: (7 - 3 + 2*0) / 3 + 1 = 2.33")):
        conv_forward_naive(np.zeros((1, 1, 7, 7)), np.zeros((1, 1, 3, 3)), np.zeros(1), {"stride": 3, "pad": 0})
    with pytest.raises(ValueError, match=re.escape("width: stride 2 does not fit: (6 - 3 + 2*0) / 2 + 1 = 2.50")):
        conv_forward_naive(np.zeros((1, 1, 7, 6)), np.zeros((1, 1, 3, 3)), np.zeros(1), {"stride": 2, "pad": 0})


def test_conv_bias_of_wrong_length_names_both_shapes():
    with pytest.raises(ValueError, match=re.escape("b has shape (3,), expected (2,)")):
        conv_forward_naive(np.zeros((1, 1, 5, 5)), np.zeros((2, 1, 3, 3)), np.zeros(3), CONV_OK)


def test_conv_missing_pad_is_named():
    with pytest.raises(ValueError, match="missing 'pad'"):
        conv_forward_naive(np.zeros((1, 1, 5, 5)), np.zeros((2, 1, 3, 3)), np.zeros(2), {"stride": 1})


def test_pool_window_too_big_names_the_sizes():
    with pytest.raises(ValueError, match="height: pool window 5 is larger than the input 4"):
        max_pool_forward_naive(np.zeros((1, 1, 4, 4)), pool_param(5, 2, 2))


def test_pool_stride_that_does_not_fit_shows_the_formula():
    with pytest.raises(ValueError, match=re.escape("width: pool window 2 with stride 2 does not fit: (5 - 2) / 2 + 1 = 2.50")):
        max_pool_forward_naive(np.zeros((1, 1, 4, 5)), pool_param(2, 2, 2))


@pytest.mark.parametrize("p, shown", [(1.0, "= 1.0 is outside [0, 1)"), (-0.1, "= -0.1 is outside [0, 1)"), (1.5, "= 1.5")])
def test_dropout_p_outside_range_names_the_value(p, shown):
    with pytest.raises(ValueError, match=re.escape(shown)):
        dropout_forward(np.ones(3), train(p))


def test_dropout_p_not_a_number():
    with pytest.raises(TypeError, match="'0.5'"):
        dropout_forward(np.ones(3), train("0.5"))


def test_dropout_bad_mode_names_it():
    with pytest.raises(ValueError, match=r"'train' or 'test', got 'eval'"):
        dropout_forward(np.ones(3), {"p": 0.5, "mode": "eval"})


def test_dropout_seed_and_rng_together_are_refused():
    with pytest.raises(ValueError, match=re.escape("both dropout_param['seed'] and dropout_param['rng']")):
        dropout_forward(np.ones(3), train(0.5, seed=0, rng=np.random.default_rng(0)))


def test_dropout_rng_must_be_a_generator():
    with pytest.raises(TypeError, match="RandomState"):
        dropout_forward(np.ones(3), train(0.5, rng=np.random.RandomState(0)))


@pytest.mark.parametrize(("seed", "error", "shown"), [(1.5, TypeError, "1.5"), (-3, ValueError, "-3")])
def test_dropout_bad_seed_is_named(seed, error, shown):
    with pytest.raises(error, match=re.escape("dropout_param['seed']") + ".*" + re.escape(shown)):
        dropout_forward(np.ones(3), train(0.5, seed=seed))


def test_dropout_missing_mode_is_named():
    with pytest.raises(ValueError, match="missing 'mode'"):
        dropout_forward(np.ones(3), {"p": 0.5})


FLOAT_INPUT_CALLS = {
    # name: (shape of x, call)
    "affine": ((2, 2), lambda x: affine_forward(x, np.zeros((2, 3)), np.zeros(3))),
    "relu": ((2, 2), relu_forward),
    "conv": ((1, 1, 2, 2), lambda x: conv_forward_naive(x, np.zeros((1, 1, 1, 1)), np.zeros(1), CONV_OK)),
    "max_pool": ((1, 1, 2, 2), lambda x: max_pool_forward_naive(x, pool_param(1, 1, 1))),
    "dropout": ((2, 2), lambda x: dropout_forward(x, train(0.5))),
    "softmax_loss": ((2, 2), lambda x: softmax_loss(x, np.array([0, 1]))),
    "svm_loss": ((2, 2), lambda x: svm_loss(x, np.array([0, 1]))),
}


def _first_array(result):
    """The layer's output (or loss's gradient) from whatever the call returned."""
    if isinstance(result, tuple):
        return result[1] if isinstance(result[0], float) else result[0]
    return result


@pytest.mark.parametrize("name", sorted(FLOAT_INPUT_CALLS))
@pytest.mark.parametrize("int_dtype", [np.int64, np.uint8, np.bool_])
def test_integer_x_is_promoted_to_float64_like_numpy_arithmetic(name, int_dtype):
    shape, call = FLOAT_INPUT_CALLS[name]
    values = (np.arange(np.prod(shape)).reshape(shape) % 2).astype(int_dtype)
    if name == "dropout":  # random: compare dtype only
        assert _first_array(call(values)).dtype == np.float64
        return
    promoted = _first_array(call(values))
    as_floats = _first_array(call(values.astype(np.float64)))
    assert promoted.dtype == np.float64
    np.testing.assert_array_equal(promoted, as_floats)


@pytest.mark.parametrize("name", sorted(FLOAT_INPUT_CALLS))
@pytest.mark.parametrize("bad_dtype", [np.complex128, np.str_, object])
def test_non_numeric_x_is_refused_naming_the_dtype(name, bad_dtype):
    shape, call = FLOAT_INPUT_CALLS[name]
    x = np.ones(shape).astype(bad_dtype)
    with pytest.raises(TypeError, match=re.escape(f"must hold floats, got dtype {x.dtype}")):
        call(x)


def test_the_course_integer_bias_gives_the_same_convolution_as_a_float_bias():
    # CS231n's conv-forward cell builds its bias as np.array([0, 128]).
    x = np.linspace(-0.1, 0.5, num=2 * 3 * 4 * 4).reshape(2, 3, 4, 4)
    w = np.linspace(-0.2, 0.3, num=2 * 3 * 4 * 4).reshape(2, 3, 4, 4)
    b_int = np.array([0, 128])
    out_int, _ = conv_forward_naive(x, w, b_int, {"stride": 2, "pad": 1})
    out_float, _ = conv_forward_naive(x, w, b_int.astype(np.float64), {"stride": 2, "pad": 1})
    assert out_int.dtype == np.float64
    np.testing.assert_array_equal(out_int, out_float)
    assert out_int[0, 1].min() > 100  # the 128 bias reached the second filter's outputs


def test_integer_dout_is_promoted_in_backward():
    x = np.array([[-1.0, 2.0], [3.0, -4.0]])
    _, cache = relu_forward(x)
    dx = relu_backward(np.array([[1, 1], [1, 1]]), cache)
    assert dx.dtype == np.float64
    np.testing.assert_array_equal(dx, [[0.0, 1.0], [1.0, 0.0]])


@pytest.mark.parametrize("name", sorted(FLOAT_INPUT_CALLS))
def test_list_instead_of_array_is_refused(name):
    shape, call = FLOAT_INPUT_CALLS[name]
    with pytest.raises(TypeError, match="must be a numpy array, got list"):
        call(np.ones(shape).tolist())


def test_affine_feature_mismatch_names_both_numbers():
    with pytest.raises(ValueError, match=r"x has 12 features .* but w has 10 rows"):
        affine_forward(np.zeros((2, 3, 4)), np.zeros((10, 5)), np.zeros(5))


def test_affine_bias_of_wrong_length():
    with pytest.raises(ValueError, match=re.escape("b has shape (4,), expected (5,)")):
        affine_forward(np.zeros((2, 3)), np.zeros((3, 5)), np.zeros(4))


@pytest.mark.parametrize("loss_fn", [softmax_loss, svm_loss])
@pytest.mark.parametrize("labels, shown", [([0, 5, 1], "y[1] = 5 is outside 0..2"), ([-1, 0, 1], "y[0] = -1 is outside 0..2")])
def test_labels_out_of_range_name_the_label_and_index(loss_fn, labels, shown):
    with pytest.raises(ValueError, match=re.escape(shown)):
        loss_fn(np.zeros((3, 3)), np.array(labels))


@pytest.mark.parametrize("loss_fn", [softmax_loss, svm_loss])
def test_labels_of_wrong_shape(loss_fn):
    with pytest.raises(ValueError, match=re.escape("y has shape (2,), expected (3,)")):
        loss_fn(np.zeros((3, 4)), np.array([0, 1]))
    with pytest.raises(ValueError, match=re.escape("y has shape (3, 1), expected (3,)")):
        loss_fn(np.zeros((3, 4)), np.array([[0], [1], [2]]))


@pytest.mark.parametrize("loss_fn", [softmax_loss, svm_loss])
def test_float_labels_are_refused(loss_fn):
    with pytest.raises(TypeError, match="integer class labels, got float64"):
        loss_fn(np.zeros((2, 3)), np.array([0.0, 1.0]))
    with pytest.raises(TypeError, match="integer class labels, got list"):
        loss_fn(np.zeros((2, 3)), [0, 1])


@pytest.mark.parametrize("loss_fn", [softmax_loss, svm_loss])
def test_scores_must_be_2d(loss_fn):
    with pytest.raises(ValueError, match=r"x must have 2 dimensions, got 1"):
        loss_fn(np.zeros(3), np.array([0]))


def _backward_with_wrong_dout():
    """(name, backward call, wrong dout shape, expected shape) for every layer."""
    x4 = np.ones((2, 1, 4, 4))
    _, affine_cache = affine_forward(np.ones((2, 3)), np.ones((3, 5)), np.ones(5))
    _, relu_cache = relu_forward(np.ones((2, 3)))
    _, conv_cache = conv_forward_naive(x4, np.ones((3, 1, 3, 3)), np.ones(3), CONV_OK)
    _, pool_cache = max_pool_forward_naive(x4, pool_param(2, 2, 2))
    _, drop_cache = dropout_forward(np.ones((2, 3)), train(0.5, seed=0))
    return [
        ("affine", lambda d: affine_backward(d, affine_cache), (2, 4), (2, 5)),
        ("relu", lambda d: relu_backward(d, relu_cache), (3, 2), (2, 3)),
        ("conv", lambda d: conv_backward_naive(d, conv_cache), (2, 3, 3, 3), (2, 3, 2, 2)),
        ("max_pool", lambda d: max_pool_backward_naive(d, pool_cache), (2, 1, 4, 4), (2, 1, 2, 2)),
        ("dropout", lambda d: dropout_backward(d, drop_cache), (2, 4), (2, 3)),
    ]


@pytest.mark.parametrize("index", range(5), ids=[row[0] for row in _backward_with_wrong_dout()])
def test_backward_rejects_dout_of_the_wrong_shape(index):
    _, backward, wrong, expected = _backward_with_wrong_dout()[index]
    message = f"dout has shape {wrong}, expected {expected}"
    with pytest.raises(ValueError, match=re.escape(message)):
        backward(np.ones(wrong))


def test_dropout_backward_test_mode_rejects_dout_of_the_wrong_shape():
    _, cache = dropout_forward(np.ones((2, 3)), {"p": 0.5, "mode": "test"})
    with pytest.raises(ValueError, match=re.escape("dout has shape (7,), expected (2, 3)")):
        dropout_backward(np.ones(7), cache)


@pytest.mark.parametrize("index", range(5), ids=[row[0] for row in _backward_with_wrong_dout()])
def test_backward_rejects_a_list_dout_with_a_type_error(index):
    _, backward, _, expected = _backward_with_wrong_dout()[index]
    with pytest.raises(TypeError, match="numpy array"):
        backward(np.ones(expected).tolist())
