"""Tests for cs231n_lib.fast_layers: the fast layers must agree with the naive ones.

Oracles:
- the naive loop layers of cs231n_lib.layers (already checked by hand and by
  numerical gradients in test_layers.py), swept by hypothesis over batch
  sizes, channels, non-square inputs and filters, strides and pads, in
  float64 and float32;
- the same inputs pushed through other block sizes and through the path that
  rebuilds the im2col matrices, which must not change the answer;
- numerical gradients on one strided, non-square case per layer;
- hand-made ties, where the gradient must go to the first maximum in
  row-major order exactly as in the naive layer;
- PyTorch, when it is installed (the test is skipped otherwise).

Only the public API of fast_layers is used, plus its documented knobs
BLOCK_BYTES, KEEP_COLS_BYTES and PER_IMAGE_POSITIONS (set with monkeypatch,
never left changed).
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cs231n_lib import fast_layers
from cs231n_lib.fast_layers import (
    conv_backward_fast,
    conv_forward_fast,
    max_pool_backward_fast,
    max_pool_forward_fast,
)
from cs231n_lib.gradient_check import eval_numerical_gradient_array, rel_error
from cs231n_lib.layers import (
    conv_backward_naive,
    conv_forward_naive,
    max_pool_backward_naive,
    max_pool_forward_naive,
)

SWEEP = settings(max_examples=100, deadline=None, database=None)
F32, F64 = np.float32, np.float64
GRAD_TOL = 1e-7
# Convolution is linear in x, in w and in b: a centred difference has no
# truncation error at any step, and h = 1e-3 leaves a hundred times less
# rounding noise than 1e-5 (see test_layers.py).
LINEAR_H = 1e-3
# Largest difference between the fast and the naive layer, relative to the
# largest value of the naive result (see scale_error).
TOL_F64 = 1e-10
TOL_F32 = 1e-5
# Between two runs of the fast layer that only group the batch differently.
TOL_SAME = 1e-12
MAX_SIZE = 10  # H and W are drawn in 1..MAX_SIZE


def scale_error(actual, expected, scale=None):
    """max |actual - expected| / max |scale|, where scale defaults to expected.

    The error relative to the result's scale, not the elementwise rel_error:
    an output that is a sum of terms of size about 1 which nearly cancel
    (out = 1e-13, say) carries a rounding error of about 1e-16 in both
    implementations, and 1e-16 / 1e-13 would look like a 0.1% disagreement
    between two correct answers. The two layers round differently (a BLAS
    matrix product sums in another order than the loops), so each entry is
    judged against the size of the largest entry instead.
    """
    actual = np.asarray(actual, dtype=F64)
    expected = np.asarray(expected, dtype=F64)
    assert actual.shape == expected.shape, f"shape {actual.shape}, expected {expected.shape}"
    if expected.size == 0:
        return 0.0
    scale = expected if scale is None else np.asarray(scale, dtype=F64)
    return float(np.max(np.abs(actual - expected))) / max(float(np.max(np.abs(scale))), np.finfo(F64).tiny)


def distinct_values(shape, rng, spacing=0.05):
    """A shuffled grid of values, any two at least `spacing` apart: max pooling has no ties."""
    size = math.prod(shape)
    return (rng.permutation(size).reshape(shape) - size / 2) * spacing


def pool_param(ph, pw, stride):
    return {"pool_height": ph, "pool_width": pw, "stride": stride}


def conv_param(stride, pad):
    return {"stride": stride, "pad": pad}


def im2col_bytes_per_image(x_shape, w_shape, stride, pad, itemsize):
    """Bytes of one image's im2col matrix: C*HH*WW rows and the row of ones, H'*W' columns."""
    _, C, H, W = x_shape
    _, _, HH, WW = w_shape
    H_out = (H + 2 * pad - HH) // stride + 1
    W_out = (W + 2 * pad - WW) // stride + 1
    return (C * HH * WW + 1) * H_out * W_out * itemsize


# ---------------------------------------------------------------------------
# Hypothesis strategies
# ---------------------------------------------------------------------------


def _conv_axis(draw, stride, pad):
    """(size, filter) along one axis with `stride` fitting exactly and 1 <= size <= MAX_SIZE.

    Draw the filter and the number of outputs, then size = (out - 1) * stride
    + filter - 2 * pad. The outputs are drawn from the range that keeps the
    size inside 1..MAX_SIZE.
    """
    filt = draw(st.integers(1, 5))
    fixed = filt - 2 * pad  # size when out = 1
    fewest = 1 if fixed >= 1 else 1 + -(-(1 - fixed) // stride)
    most = 1 + (MAX_SIZE - fixed) // stride
    out = draw(st.integers(fewest, most))
    size = (out - 1) * stride + fixed
    assert 1 <= size <= MAX_SIZE
    return size, filt


@st.composite
def conv_cases(draw):
    """((N, C, H, W), (F, C, HH, WW), stride, pad, seed), filters often non-square."""
    N = draw(st.integers(1, 3))
    C = draw(st.integers(1, 3))
    F = draw(st.integers(1, 3))
    stride = draw(st.integers(1, 3))
    pad = draw(st.integers(0, 2))
    H, HH = _conv_axis(draw, stride, pad)
    W, WW = _conv_axis(draw, stride, pad)
    seed = draw(st.integers(0, 2**32 - 1))
    return (N, C, H, W), (F, C, HH, WW), stride, pad, seed


# How the windows of a pooling sit next to each other.
POOL_KINDS = ("tiling", "overlapping", "gapped", "any")


def _pool_axis(draw, window, stride):
    """An input size along one axis that the window and stride fit exactly."""
    outputs = draw(st.integers(1, 1 + (MAX_SIZE - window) // stride))
    return (outputs - 1) * stride + window


@st.composite
def pool_cases(draw, kind):
    """((N, C, H, W), pool_height, pool_width, stride, seed).

    - tiling: stride == window along both axes (so the window is square; the
      single stride of pool_param cannot tile a non-square window both ways);
    - overlapping: stride < window along both axes;
    - gapped: stride > window along both axes (some inputs are in no window);
    - any: window and stride drawn independently (mixes the three per axis).
    """
    N = draw(st.integers(1, 3))
    C = draw(st.integers(1, 3))
    if kind == "tiling":
        stride = draw(st.integers(1, 4))
        ph = pw = stride
    elif kind == "overlapping":
        ph = draw(st.integers(2, 5))
        pw = draw(st.integers(2, 5))
        stride = draw(st.integers(1, min(ph, pw) - 1))
    elif kind == "gapped":
        stride = draw(st.integers(2, 4))
        ph = draw(st.integers(1, stride - 1))
        pw = draw(st.integers(1, stride - 1))
    else:
        ph = draw(st.integers(1, 5))
        pw = draw(st.integers(1, 5))
        stride = draw(st.integers(1, 4))
    H = _pool_axis(draw, ph, stride)
    W = _pool_axis(draw, pw, stride)
    seed = draw(st.integers(0, 2**32 - 1))
    return (N, C, H, W), ph, pw, stride, seed


def _conv_data(case, dtype):
    """x, w, b and an upstream gradient for `case`, all of `dtype`."""
    x_shape, w_shape, stride, pad, seed = case
    rng = np.random.default_rng(seed)
    x = rng.normal(size=x_shape).astype(dtype)
    w = rng.normal(size=w_shape).astype(dtype)
    b = rng.normal(size=w_shape[0]).astype(dtype)
    N, _, H, W = x_shape
    F, _, HH, WW = w_shape
    out_shape = (N, F, (H + 2 * pad - HH) // stride + 1, (W + 2 * pad - WW) // stride + 1)
    dout = rng.normal(size=out_shape).astype(dtype)
    return x, w, b, conv_param(stride, pad), dout


def _pool_data(case, dtype):
    x_shape, ph, pw, stride, seed = case
    rng = np.random.default_rng(seed)
    x = distinct_values(x_shape, rng).astype(dtype)
    N, C, H, W = x_shape
    dout = rng.normal(size=(N, C, (H - ph) // stride + 1, (W - pw) // stride + 1)).astype(dtype)
    return x, pool_param(ph, pw, stride), dout


def _conv_both(x, w, b, param, dout):
    """(fast, naive) results, each (out, dx, dw, db); the naive one in float64."""
    out, cache = conv_forward_fast(x, w, b, param)
    fast = (out, *conv_backward_fast(dout, cache))
    as64 = [a.astype(F64) for a in (x, w, b, dout)]
    out, cache = conv_forward_naive(*as64[:3], param)
    naive = (out, *conv_backward_naive(as64[3], cache))
    return fast, naive


def _pool_both(x, param, dout):
    """(fast, naive) results, each (out, dx); the naive one in float64."""
    out, cache = max_pool_forward_fast(x, param)
    fast = (out, max_pool_backward_fast(dout, cache))
    out, cache = max_pool_forward_naive(x.astype(F64), param)
    naive = (out, max_pool_backward_naive(dout.astype(F64), cache))
    return fast, naive


# ---------------------------------------------------------------------------
# Convolution: fast against naive, swept
# ---------------------------------------------------------------------------


@SWEEP
@given(conv_cases())
def test_conv_matches_naive_float64(case):
    fast, naive = _conv_both(*_conv_data(case, F64))
    for name, f, n in zip(("out", "dx", "dw", "db"), fast, naive):
        assert f.dtype == F64, name
        assert scale_error(f, n) < TOL_F64, name


def _conv_term_sizes(x, w, b, param, dout):
    """(out, dx, dw, db) of the naive layer run on |x|, |w|, |b| and |dout|, in float64.

    Each entry is the sum of the absolute values of the terms whose sum is the
    corresponding entry of the real result: the size of what was rounded.
    """
    out, cache = conv_forward_naive(*(np.abs(a).astype(F64) for a in (x, w, b)), param)
    return (out, *conv_backward_naive(np.abs(dout).astype(F64), cache))


@SWEEP
@given(conv_cases())
def test_conv_matches_naive_float32(case):
    # The naive layer runs in float64 on exactly the float32 values, so it is
    # the float32 computation's answer without the float32 rounding.
    #
    # The scale here is the size of the terms, not of the result: float32
    # rounds each partial sum at about 6e-8 of its size, and a result that
    # cancels keeps that absolute error while its own size shrinks. This
    # sweep found one: a single filter whose db sums 64 douts (sum of |dout|
    # 52) to -0.0216, off by 2e-5 relative to max |db| although numpy's own
    # float32 dout.sum() gives the same digits. In float64 the same effect is
    # 5e8 times smaller, far below the tolerance of the test above.
    data = _conv_data(case, F32)
    fast, naive = _conv_both(*data)
    sizes = _conv_term_sizes(*data)
    for name, f, n, size in zip(("out", "dx", "dw", "db"), fast, naive, sizes):
        assert f.dtype == F32, name
        assert scale_error(f, n, scale=size) < TOL_F32, name


# ---------------------------------------------------------------------------
# Max pooling: fast against naive, swept (distinct values: no ties)
# ---------------------------------------------------------------------------


def _check_pool(case, dtype, tol):
    (out, dx), (out_ref, dx_ref) = _pool_both(*_pool_data(case, dtype))
    assert out.dtype == dtype and dx.dtype == dtype
    # The max is one of the inputs, picked without arithmetic: exactly equal.
    np.testing.assert_array_equal(out, out_ref.astype(dtype))
    # dx adds up the douts that chose the same input (overlapping windows),
    # possibly in another order.
    assert scale_error(dx, dx_ref) < tol


@SWEEP
@given(data=st.data())
@pytest.mark.parametrize("kind", POOL_KINDS)
def test_max_pool_matches_naive_float64(kind, data):
    _check_pool(data.draw(pool_cases(kind), label="case"), F64, TOL_F64)


@SWEEP
@given(data=st.data())
@pytest.mark.parametrize("kind", POOL_KINDS)
def test_max_pool_matches_naive_float32(kind, data):
    _check_pool(data.draw(pool_cases(kind), label="case"), F32, TOL_F32)


# ---------------------------------------------------------------------------
# Max pooling: ties go to the first maximum in row-major order, as in the naive layer
# ---------------------------------------------------------------------------


def _integer_dout(shape, rng):
    """Small whole numbers: sums of them are exact in any order, so dx compares exactly."""
    return rng.integers(-9, 10, size=shape).astype(F64)


TIE_CONFIGS = [
    # (N, C, H, W), pool height, pool width, stride
    pytest.param((2, 2, 4, 6), 2, 2, 2, id="tiling-2x2-s2"),
    pytest.param((1, 2, 6, 6), 3, 3, 3, id="tiling-3x3-s3"),
    pytest.param((2, 1, 5, 5), 3, 3, 1, id="overlapping-3x3-s1"),
    pytest.param((1, 2, 7, 6), 3, 2, 2, id="overlapping-3x2-s2"),
    pytest.param((1, 1, 6, 7), 2, 3, 1, id="overlapping-2x3-s1"),
    pytest.param((2, 1, 7, 8), 1, 2, 3, id="gapped-1x2-s3"),
]


@pytest.mark.parametrize("x_shape, ph, pw, stride", TIE_CONFIGS)
def test_all_zero_input_routes_like_naive(x_shape, ph, pw, stride):
    rng = np.random.default_rng(30)
    x = np.zeros(x_shape)
    param = pool_param(ph, pw, stride)
    out, cache = max_pool_forward_fast(x, param)
    dout = _integer_dout(out.shape, rng)
    _, cache_ref = max_pool_forward_naive(x, param)
    np.testing.assert_array_equal(out, 0.0)
    np.testing.assert_array_equal(
        max_pool_backward_fast(dout, cache), max_pool_backward_naive(dout, cache_ref)
    )


@pytest.mark.parametrize("x_shape, ph, pw, stride", TIE_CONFIGS)
@pytest.mark.parametrize("levels", [2, 3])
def test_repeated_maxima_route_like_naive(x_shape, ph, pw, stride, levels):
    # Values from {0, ..., levels - 1}: most windows hold their maximum twice or more.
    param = pool_param(ph, pw, stride)
    for seed in range(20):
        rng = np.random.default_rng(seed)
        x = rng.integers(0, levels, size=x_shape).astype(F64)
        out, cache = max_pool_forward_fast(x, param)
        out_ref, cache_ref = max_pool_forward_naive(x, param)
        dout = _integer_dout(out.shape, rng)
        np.testing.assert_array_equal(out, out_ref)
        np.testing.assert_array_equal(
            max_pool_backward_fast(dout, cache), max_pool_backward_naive(dout, cache_ref)
        )


@SWEEP
@given(pool_cases("any"), st.integers(1, 3))
def test_ties_route_like_naive_swept(case, levels):
    x_shape, ph, pw, stride, seed = case
    rng = np.random.default_rng(seed)
    x = rng.integers(0, levels, size=x_shape).astype(F64)
    param = pool_param(ph, pw, stride)
    out, cache = max_pool_forward_fast(x, param)
    out_ref, cache_ref = max_pool_forward_naive(x, param)
    dout = _integer_dout(out.shape, rng)
    np.testing.assert_array_equal(out, out_ref)
    np.testing.assert_array_equal(max_pool_backward_fast(dout, cache), max_pool_backward_naive(dout, cache_ref))


def test_tie_goes_to_the_first_maximum_in_row_major_order_by_hand():
    # One 2x2 window holding its maximum 5 at (0, 1) and at (1, 0).
    # Row-major order reaches (0, 1) first; column-major would pick (1, 0).
    x = np.array([[1.0, 5.0], [5.0, 2.0]]).reshape(1, 1, 2, 2)
    out, cache = max_pool_forward_fast(x, pool_param(2, 2, 2))
    assert out.item() == 5.0
    dx = max_pool_backward_fast(np.array([7.0]).reshape(1, 1, 1, 1), cache)
    np.testing.assert_array_equal(dx.reshape(2, 2), [[0.0, 7.0], [0.0, 0.0]])


def test_tie_in_the_lower_row_goes_to_its_first_column_by_hand():
    # Maximum 5 only in row 1, at columns 1 and 2 of a 2x3 window: (1, 1) wins.
    x = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 5.0]]).reshape(1, 1, 2, 3)
    _, cache = max_pool_forward_fast(x, pool_param(2, 3, 1))
    dx = max_pool_backward_fast(np.ones((1, 1, 1, 1)), cache)
    np.testing.assert_array_equal(dx.reshape(2, 3), [[0.0, 0.0, 0.0], [0.0, 1.0, 0.0]])


def test_overlapping_windows_with_ties_add_up_at_the_shared_first_maximum():
    # 3x3 windows, stride 1, on 4x4: four windows, starting at (0,0), (0,1),
    # (1,0) and (1,1). On all ones each window picks its own top-left cell.
    dout = np.array([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 1, 2, 2)
    _, cache = max_pool_forward_fast(np.ones((1, 1, 4, 4)), pool_param(3, 3, 1))
    expected = np.zeros((4, 4))
    expected[0, 0], expected[0, 1], expected[1, 0], expected[1, 1] = 1.0, 2.0, 3.0, 4.0
    np.testing.assert_array_equal(max_pool_backward_fast(dout, cache).reshape(4, 4), expected)

    # Now the maximum 9 sits at (1, 2) and at (2, 1), both inside all four
    # windows. (1, 2) comes first in row-major order in every window (column-
    # major order would pick (2, 1)), so it receives all four douts.
    x = np.ones((4, 4))
    x[1, 2] = x[2, 1] = 9.0
    _, cache = max_pool_forward_fast(x.reshape(1, 1, 4, 4), pool_param(3, 3, 1))
    expected = np.zeros((4, 4))
    expected[1, 2] = 1.0 + 2.0 + 3.0 + 4.0
    np.testing.assert_array_equal(max_pool_backward_fast(dout, cache).reshape(4, 4), expected)


# ---------------------------------------------------------------------------
# Blocks of images and the rebuild path give the same answer as the default path
# ---------------------------------------------------------------------------

BLOCK_CASES = [
    # x shape, w shape, stride, pad
    pytest.param((5, 3, 7, 6), (4, 3, 3, 2), 2, 1, id="nonsquare-s2-p1"),
    pytest.param((5, 2, 6, 6), (3, 2, 3, 3), 1, 1, id="overlap-s1-p1"),
    pytest.param((5, 1, 5, 9), (2, 1, 1, 4), 1, 0, id="nonsquare-s1-p0"),
    pytest.param((5, 2, 9, 9), (2, 2, 3, 3), 3, 0, id="tiling-s3"),
]


def _conv_grads(x, w, b, param, dout, compute_dx=True):
    out, cache = conv_forward_fast(x, w, b, param)
    return (out, *conv_backward_fast(dout, cache, compute_dx=compute_dx))


def _block_settings(x_shape, w_shape, stride, pad):
    """(id, BLOCK_BYTES, KEEP_COLS_BYTES, PER_IMAGE_POSITIONS) for the non-default paths."""
    per_image = im2col_bytes_per_image(x_shape, w_shape, stride, pad, np.dtype(F64).itemsize)
    default_keep = fast_layers.KEEP_COLS_BYTES
    per_block, per_image_products = 10**9, 1
    return [
        ("one-image-per-block", 1, default_keep, per_block),
        # N = 5 in blocks of 2: 2 + 2 + 1, a block size that does not divide N
        ("two-images-per-block", 2 * per_image, default_keep, per_block),
        ("two-and-a-half-images-of-bytes", 2 * per_image + per_image // 2, default_keep, per_block),
        ("rebuild-cols", fast_layers.BLOCK_BYTES, 0, per_block),
        ("rebuild-cols-one-image-per-block", 1, 0, per_block),
        ("rebuild-cols-two-images-per-block", 2 * per_image, 0, per_block),
        ("products-per-image", fast_layers.BLOCK_BYTES, default_keep, per_image_products),
        ("products-per-image-two-images-per-block", 2 * per_image, default_keep, per_image_products),
        ("products-per-image-rebuild-cols", 2 * per_image, 0, per_image_products),
    ]


@pytest.mark.parametrize("x_shape, w_shape, stride, pad", BLOCK_CASES)
def test_conv_blocks_and_rebuild_match_default_path(monkeypatch, x_shape, w_shape, stride, pad):
    rng = np.random.default_rng(40)
    x, w, b = rng.normal(size=x_shape), rng.normal(size=w_shape), rng.normal(size=w_shape[0])
    param = conv_param(stride, pad)
    out, _ = conv_forward_fast(x, w, b, param)
    dout = rng.normal(size=out.shape)
    default = _conv_grads(x, w, b, param, dout)
    out_ref, cache_ref = conv_forward_naive(x, w, b, param)
    naive = (out_ref, *conv_backward_naive(dout, cache_ref))
    for name, block_bytes, keep_bytes, per_image_positions in _block_settings(x_shape, w_shape, stride, pad):
        with monkeypatch.context() as mp:
            mp.setattr(fast_layers, "BLOCK_BYTES", block_bytes)
            mp.setattr(fast_layers, "KEEP_COLS_BYTES", keep_bytes)
            mp.setattr(fast_layers, "PER_IMAGE_POSITIONS", per_image_positions)
            result = _conv_grads(x, w, b, param, dout)
            no_dx = _conv_grads(x, w, b, param, dout, compute_dx=False)
        for label, got, want, ref in zip(("out", "dx", "dw", "db"), result, default, naive):
            assert scale_error(got, want) < TOL_SAME, f"{name}: {label} differs from the default path"
            assert scale_error(got, ref) < TOL_F64, f"{name}: {label} differs from the naive layer"
        assert no_dx[1] is None, name
        assert scale_error(no_dx[2], default[2]) < TOL_SAME, f"{name}: dw with compute_dx=False"
        assert scale_error(no_dx[3], default[3]) < TOL_SAME, f"{name}: db with compute_dx=False"


def _random_conv(seed, x_shape, w_shape, dout_shape, dtype):
    """(x, w, b, dout) of normal values in ``dtype``; b has one bias per filter."""
    rng = np.random.default_rng(seed)
    shapes = (x_shape, w_shape, w_shape[:1], dout_shape)
    return tuple(rng.normal(size=shape).astype(dtype) for shape in shapes)


@pytest.mark.parametrize("per_image_positions", [10**9, 1], ids=["per-block", "per-image"])
@pytest.mark.parametrize("dtype", [F32, F64])
def test_conv_blocks_keep_the_dtype(monkeypatch, dtype, per_image_positions):
    x, w, b, dout = _random_conv(41, (5, 2, 6, 5), (3, 2, 3, 2), (5, 3, 6, 6), dtype)
    param = conv_param(1, 1)
    default = _conv_grads(x, w, b, param, dout)
    monkeypatch.setattr(fast_layers, "BLOCK_BYTES", 1)
    monkeypatch.setattr(fast_layers, "KEEP_COLS_BYTES", 0)
    monkeypatch.setattr(fast_layers, "PER_IMAGE_POSITIONS", per_image_positions)
    blocked = _conv_grads(x, w, b, param, dout)
    tol = TOL_SAME if dtype == F64 else TOL_F32
    for label, got, want in zip(("out", "dx", "dw", "db"), blocked, default):
        assert got.dtype == dtype, label
        assert scale_error(got, want) < tol, label


@pytest.mark.parametrize("keep_cols_bytes", [fast_layers.KEEP_COLS_BYTES, 0], ids=["kept-cols", "rebuild-cols"])
def test_backward_uses_the_blocks_of_its_forward_pass(monkeypatch, keep_cols_bytes):
    # The cache, not the current BLOCK_BYTES, decides how backward splits the batch.
    rng = np.random.default_rng(7)
    x, w, b = rng.standard_normal((4, 2, 5, 5)), rng.standard_normal((3, 2, 3, 3)), rng.standard_normal(3)
    param = conv_param(1, 1)
    dout = rng.standard_normal((4, 3, 5, 5))
    monkeypatch.setattr(fast_layers, "KEEP_COLS_BYTES", keep_cols_bytes)
    _, cache = conv_forward_fast(x, w, b, param)
    monkeypatch.setattr(fast_layers, "BLOCK_BYTES", 1)
    _, naive_cache = conv_forward_naive(x, w, b, param)
    for got, expected in zip(conv_backward_fast(dout, cache), conv_backward_naive(dout, naive_cache)):
        assert scale_error(got, expected) < 1e-10


@pytest.mark.parametrize("dtype, tol", [(F64, TOL_F64), (F32, TOL_F32)])
def test_large_outputs_take_one_product_per_image_and_match_the_naive_layer(dtype, tol):
    # 32x32 outputs: the default path multiplies image by image (PER_IMAGE_POSITIONS = 512).
    assert 32 * 32 >= fast_layers.PER_IMAGE_POSITIONS > 16 * 16
    x, w, b, dout = _random_conv(42, (2, 2, 32, 32), (3, 2, 3, 3), (2, 3, 32, 32), dtype)
    param = conv_param(1, 1)
    out_ref, cache_ref = conv_forward_naive(x.astype(F64), w.astype(F64), b.astype(F64), param)
    naive = (out_ref, *conv_backward_naive(dout.astype(F64), cache_ref))
    for compute_dx in (True, False):
        got = _conv_grads(x, w, b, param, dout, compute_dx=compute_dx)
        for label, g, want in zip(("out", "dx", "dw", "db"), got, naive):
            if g is None:
                assert label == "dx" and not compute_dx
                continue
            assert g.dtype == dtype, label
            assert scale_error(g, want) < tol, label


@SWEEP
@given(conv_cases(), st.data())
def test_conv_any_block_size_matches_default_path_swept(case, data):
    x, w, b, param, dout = _conv_data(case, F64)
    default = _conv_grads(x, w, b, param, dout)
    N = x.shape[0]
    per_image = im2col_bytes_per_image(x.shape, w.shape, param["stride"], param["pad"], 8)
    images = data.draw(st.integers(1, N), label="images per block")
    keep = data.draw(st.booleans(), label="keep cols")
    per_image_products = data.draw(st.booleans(), label="one product per image")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(fast_layers, "BLOCK_BYTES", images * per_image)
        mp.setattr(fast_layers, "PER_IMAGE_POSITIONS", 1 if per_image_products else 10**9)
        if not keep:
            mp.setattr(fast_layers, "KEEP_COLS_BYTES", 0)
        blocked = _conv_grads(x, w, b, param, dout)
    for label, got, want in zip(("out", "dx", "dw", "db"), blocked, default):
        assert scale_error(got, want) < TOL_SAME, label


# ---------------------------------------------------------------------------
# compute_dx=False
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [F32, F64])
def test_compute_dx_false_skips_dx_only(dtype):
    rng = np.random.default_rng(50)
    x = rng.normal(size=(3, 2, 7, 6)).astype(dtype)
    w = rng.normal(size=(4, 2, 3, 2)).astype(dtype)
    b = rng.normal(size=4).astype(dtype)
    param = conv_param(2, 1)
    out, cache = conv_forward_fast(x, w, b, param)
    dout = rng.normal(size=out.shape).astype(dtype)
    _, dw, db = conv_backward_fast(dout, cache)
    no_dx, dw2, db2 = conv_backward_fast(dout, cache, compute_dx=False)
    assert no_dx is None
    assert dw2.dtype == dtype and db2.dtype == dtype
    np.testing.assert_array_equal(dw2, dw)
    np.testing.assert_array_equal(db2, db)


# ---------------------------------------------------------------------------
# Inputs are left alone, caches can be used twice, any memory layout works
# ---------------------------------------------------------------------------


def test_conv_does_not_modify_its_inputs_and_cache_is_reusable():
    rng = np.random.default_rng(51)
    x, w, b = rng.normal(size=(3, 2, 6, 5)), rng.normal(size=(3, 2, 2, 3)), rng.normal(size=3)
    param = conv_param(1, 2)
    param_before = dict(param)
    copies = [a.copy() for a in (x, w, b)]
    out, cache = conv_forward_fast(x, w, b, param)
    dout = rng.normal(size=out.shape)
    dout_before = dout.copy()
    first = conv_backward_fast(dout, cache)
    second = conv_backward_fast(dout, cache)
    for a, before in zip((x, w, b, dout), (*copies, dout_before)):
        np.testing.assert_array_equal(a, before)
    assert param == param_before
    for g1, g2 in zip(first, second):
        np.testing.assert_array_equal(g1, g2)


def test_max_pool_does_not_modify_its_inputs_and_cache_is_reusable():
    rng = np.random.default_rng(52)
    x = distinct_values((2, 3, 7, 5), rng)
    x_before = x.copy()
    out, cache = max_pool_forward_fast(x, pool_param(3, 1, 2))
    out_before = out.copy()
    dout = rng.normal(size=out.shape)
    dout_before = dout.copy()
    first = max_pool_backward_fast(dout, cache)
    second = max_pool_backward_fast(dout, cache)
    np.testing.assert_array_equal(x, x_before)
    np.testing.assert_array_equal(dout, dout_before)
    np.testing.assert_array_equal(out, out_before)
    np.testing.assert_array_equal(first, second)


def test_non_contiguous_inputs_give_the_naive_answer():
    rng = np.random.default_rng(53)
    # Every array a strided or transposed view of a bigger one.
    x = rng.normal(size=(3, 6, 8, 14))[::2, 1::2, :, ::2]  # (2, 3, 8, 7)
    w = rng.normal(size=(3, 2, 3, 6)).transpose(3, 2, 0, 1)[:, :, :, ::2][:4]  # (4, 3, 3, 1)
    b = rng.normal(size=8)[::2]
    param = conv_param(1, 1)
    dout = rng.normal(size=(4, 2, 8, 9)).transpose(1, 0, 2, 3)[:, :, :, ::-1]  # (2, 4, 8, 9)
    assert not (x.flags.c_contiguous or w.flags.c_contiguous or dout.flags.c_contiguous)
    fast, naive = _conv_both(x, w, b, param, dout)
    for name, f, n in zip(("out", "dx", "dw", "db"), fast, naive):
        assert scale_error(f, n) < TOL_F64, name

    xp = distinct_values((4, 3, 6, 10), rng)[1::2, :, :, ::2]  # (2, 3, 6, 5)
    dpool = rng.normal(size=(2, 3, 10, 2)).transpose(0, 1, 3, 2)[:, :, :, ::5]  # (2, 3, 2, 2)
    (out, dx), (out_ref, dx_ref) = _pool_both(xp, pool_param(3, 2, 3), dpool)
    np.testing.assert_array_equal(out, out_ref)
    assert scale_error(dx, dx_ref) < TOL_F64


# ---------------------------------------------------------------------------
# dtype: float32 stays float32, float64 stays float64, mixed follows numpy
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [F32, F64])
def test_conv_keeps_the_dtype(dtype):
    rng = np.random.default_rng(60)
    x = rng.normal(size=(2, 2, 5, 6)).astype(dtype)
    w = rng.normal(size=(3, 2, 3, 2)).astype(dtype)
    b = rng.normal(size=3).astype(dtype)
    out, cache = conv_forward_fast(x, w, b, conv_param(2, 1))
    grads = conv_backward_fast(rng.normal(size=out.shape).astype(dtype), cache)
    assert out.dtype == dtype
    assert [g.dtype for g in grads] == [dtype] * 3


@pytest.mark.parametrize("dtype", [F32, F64])
def test_max_pool_keeps_the_dtype(dtype):
    rng = np.random.default_rng(61)
    x = rng.normal(size=(2, 2, 5, 6)).astype(dtype)
    out, cache = max_pool_forward_fast(x, pool_param(3, 2, 2))
    dx = max_pool_backward_fast(rng.normal(size=out.shape).astype(dtype), cache)
    assert out.dtype == dtype
    assert dx.dtype == dtype


def test_conv_mixed_dtypes_follow_numpy_result_type():
    # float32 images with float64 weights: numpy's result_type is float64.
    rng = np.random.default_rng(62)
    x = rng.normal(size=(2, 2, 5, 5)).astype(F32)
    w = rng.normal(size=(3, 2, 3, 3))
    b = rng.normal(size=3)
    assert np.result_type(x, w, b) == F64
    out, cache = conv_forward_fast(x, w, b, conv_param(1, 1))
    assert out.dtype == F64
    grads = conv_backward_fast(rng.normal(size=out.shape), cache)
    assert [g.dtype for g in grads] == [F64] * 3


def test_max_pool_mixed_dtypes_follow_numpy_result_type():
    rng = np.random.default_rng(63)
    x = rng.normal(size=(2, 2, 4, 4)).astype(F32)
    out, cache = max_pool_forward_fast(x, pool_param(2, 2, 2))
    assert out.dtype == F32
    dx = max_pool_backward_fast(rng.normal(size=out.shape), cache)  # float64 dout
    assert dx.dtype == F64


# ---------------------------------------------------------------------------
# Validation: the same exception, with the same message, as the naive layers
# ---------------------------------------------------------------------------

OK_CONV = conv_param(1, 0)
OK_POOL = pool_param(2, 2, 2)


def _z(*shape, dtype=F64):
    return np.zeros(shape, dtype=dtype)


BAD_CONV_FORWARD = {
    # name: (x, w, b, conv_param)
    "x-with-3-dims": (_z(3, 5, 5), _z(2, 3, 3, 3), _z(2), OK_CONV),
    "w-with-2-dims": (_z(1, 3, 5, 5), _z(2, 27), _z(2), OK_CONV),
    "b-with-2-dims": (_z(1, 3, 5, 5), _z(2, 3, 3, 3), _z(2, 1), OK_CONV),
    "channel-mismatch": (_z(1, 3, 5, 5), _z(4, 2, 3, 3), _z(4), OK_CONV),
    "bias-of-wrong-length": (_z(1, 1, 5, 5), _z(2, 1, 3, 3), _z(3), OK_CONV),
    "stride-does-not-fit-height": (_z(1, 1, 7, 7), _z(1, 1, 3, 3), _z(1), conv_param(3, 0)),
    "stride-does-not-fit-width": (_z(1, 1, 7, 6), _z(1, 1, 3, 3), _z(1), conv_param(2, 0)),
    "filter-larger-than-padded-input": (_z(1, 1, 2, 6), _z(1, 1, 5, 3), _z(1), conv_param(1, 1)),
    "missing-pad": (_z(1, 1, 5, 5), _z(2, 1, 3, 3), _z(2), {"stride": 1}),
    "missing-both-keys": (_z(1, 1, 5, 5), _z(2, 1, 3, 3), _z(2), {}),
    "conv-param-not-a-dict": (_z(1, 1, 5, 5), _z(2, 1, 3, 3), _z(2), [1, 0]),
    "stride-zero": (_z(1, 1, 5, 5), _z(2, 1, 3, 3), _z(2), conv_param(0, 0)),
    "stride-not-whole": (_z(1, 1, 5, 5), _z(2, 1, 3, 3), _z(2), conv_param(1.5, 0)),
    "stride-bool": (_z(1, 1, 5, 5), _z(2, 1, 3, 3), _z(2), conv_param(True, 0)),
    "pad-negative": (_z(1, 1, 5, 5), _z(2, 1, 3, 3), _z(2), conv_param(1, -1)),
    "complex-x": (_z(1, 1, 5, 5, dtype=np.complex128), _z(2, 1, 3, 3), _z(2), OK_CONV),
    "complex-w": (_z(1, 1, 5, 5), _z(2, 1, 3, 3, dtype=np.complex64), _z(2), OK_CONV),
    "string-b": (_z(1, 1, 5, 5), _z(2, 1, 3, 3), _z(2, dtype=np.str_), OK_CONV),
    "list-x": (_z(1, 1, 2, 2).tolist(), _z(1, 1, 1, 1), _z(1), OK_CONV),
    "empty-batch": (_z(0, 1, 5, 5), _z(2, 1, 3, 3), _z(2), OK_CONV),
}

BAD_POOL_FORWARD = {
    # name: (x, pool_param)
    "x-with-3-dims": (_z(3, 4, 4), OK_POOL),
    "window-too-big-height": (_z(1, 1, 4, 4), pool_param(5, 2, 2)),
    "window-too-big-width": (_z(1, 1, 4, 4), pool_param(2, 6, 1)),
    "stride-does-not-fit": (_z(1, 1, 4, 5), pool_param(2, 2, 2)),
    "missing-stride": (_z(1, 1, 4, 4), {"pool_height": 2, "pool_width": 2}),
    "pool-param-none": (_z(1, 1, 4, 4), None),
    "stride-zero": (_z(1, 1, 4, 4), pool_param(2, 2, 0)),
    "window-not-whole": (_z(1, 1, 4, 4), pool_param(2.0, 2, 2)),
    "complex-x": (_z(1, 1, 4, 4, dtype=np.complex128), OK_POOL),
    "object-x": (_z(1, 1, 4, 4, dtype=object), OK_POOL),
    "list-x": (_z(1, 1, 4, 4).tolist(), OK_POOL),
    "empty-channels": (_z(1, 0, 4, 4), OK_POOL),
}

BAD_DOUT = {
    # name: dout given in place of the (2, 3, 2, 2) gradient
    "wrong-shape": _z(2, 3, 3, 3),
    "swapped-axes": _z(2, 2, 3, 2),
    "3-dims": _z(2, 3, 4),
    "complex": _z(2, 3, 2, 2, dtype=np.complex128),
    "list": _z(2, 3, 2, 2).tolist(),
}


def _raised(call):
    try:
        call()
    except Exception as exc:  # noqa: BLE001 - we compare whatever was raised
        return exc
    return None


def _assert_same_error(naive_call, fast_call):
    naive_exc = _raised(naive_call)
    fast_exc = _raised(fast_call)
    assert naive_exc is not None, "the naive layer accepts this input: not a bad input"
    assert isinstance(naive_exc, (TypeError, ValueError)), repr(naive_exc)
    assert fast_exc is not None, f"fast layer accepted what the naive one refuses: {naive_exc!r}"
    assert type(fast_exc) is type(naive_exc), f"{fast_exc!r} != {naive_exc!r}"
    assert str(fast_exc) == str(naive_exc)


@pytest.mark.parametrize("name", sorted(BAD_CONV_FORWARD))
def test_conv_forward_validates_like_naive(name):
    args = BAD_CONV_FORWARD[name]
    _assert_same_error(lambda: conv_forward_naive(*args), lambda: conv_forward_fast(*args))


@pytest.mark.parametrize("name", sorted(BAD_POOL_FORWARD))
def test_max_pool_forward_validates_like_naive(name):
    args = BAD_POOL_FORWARD[name]
    _assert_same_error(lambda: max_pool_forward_naive(*args), lambda: max_pool_forward_fast(*args))


@pytest.mark.parametrize("name", sorted(BAD_DOUT))
def test_conv_backward_validates_dout_like_naive(name):
    # x (2, 1, 4, 4), three 3x3 filters, stride 1: out is (2, 3, 2, 2)
    args = (np.ones((2, 1, 4, 4)), np.ones((3, 1, 3, 3)), np.ones(3), OK_CONV)
    _, cache_naive = conv_forward_naive(*args)
    _, cache_fast = conv_forward_fast(*args)
    dout = BAD_DOUT[name]
    _assert_same_error(lambda: conv_backward_naive(dout, cache_naive), lambda: conv_backward_fast(dout, cache_fast))
    _assert_same_error(
        lambda: conv_backward_naive(dout, cache_naive),
        lambda: conv_backward_fast(dout, cache_fast, compute_dx=False),
    )


@pytest.mark.parametrize("name", sorted(BAD_DOUT))
def test_max_pool_backward_validates_dout_like_naive(name):
    # x (2, 3, 4, 4), 2x2 windows, stride 2: out is (2, 3, 2, 2)
    x = distinct_values((2, 3, 4, 4), np.random.default_rng(70))
    _, cache_naive = max_pool_forward_naive(x, OK_POOL)
    _, cache_fast = max_pool_forward_fast(x, OK_POOL)
    dout = BAD_DOUT[name]
    _assert_same_error(lambda: max_pool_backward_naive(dout, cache_naive), lambda: max_pool_backward_fast(dout, cache_fast))


def test_integer_inputs_are_promoted_like_the_naive_layers():
    rng = np.random.default_rng(71)
    x = rng.integers(-3, 4, size=(2, 2, 5, 5))
    w = rng.integers(-2, 3, size=(3, 2, 3, 3)).astype(np.int32)
    b = np.array([0, 128, -5])
    out_fast, cache_fast = conv_forward_fast(x, w, b, OK_CONV)
    out_naive, cache_naive = conv_forward_naive(x, w, b, OK_CONV)
    assert out_fast.dtype == out_naive.dtype == np.float64
    np.testing.assert_allclose(out_fast, out_naive, rtol=1e-12)
    dout = rng.integers(-2, 3, size=out_fast.shape)
    for fast, naive in zip(conv_backward_fast(dout, cache_fast), conv_backward_naive(dout, cache_naive)):
        assert fast.dtype == np.float64
        np.testing.assert_allclose(fast, naive, rtol=1e-12)
    pooled_fast, _ = max_pool_forward_fast(x[:, :, :4, :4], OK_POOL)
    pooled_naive, _ = max_pool_forward_naive(x[:, :, :4, :4], OK_POOL)
    assert pooled_fast.dtype == np.float64
    np.testing.assert_array_equal(pooled_fast, pooled_naive)


# ---------------------------------------------------------------------------
# Numerical gradients (float64) on one strided, non-square case each
# ---------------------------------------------------------------------------


def test_conv_fast_gradients_match_numerical():
    rng = np.random.default_rng(80)
    # H' = (7 + 2 - 3) / 2 + 1 = 4, W' = (6 + 2 - 2) / 2 + 1 = 4
    x = rng.normal(size=(2, 2, 7, 6))
    w = rng.normal(size=(3, 2, 3, 2))
    b = rng.normal(size=3)
    param = conv_param(2, 1)
    out, cache = conv_forward_fast(x, w, b, param)
    assert out.shape == (2, 3, 4, 4)
    dout = rng.normal(size=out.shape)
    dx, dw, db = conv_backward_fast(dout, cache)
    dx_num = eval_numerical_gradient_array(lambda v: conv_forward_fast(v, w, b, param)[0], x, dout, h=LINEAR_H)
    dw_num = eval_numerical_gradient_array(lambda v: conv_forward_fast(x, v, b, param)[0], w, dout, h=LINEAR_H)
    db_num = eval_numerical_gradient_array(lambda v: conv_forward_fast(x, w, v, param)[0], b, dout, h=LINEAR_H)
    assert rel_error(dx, dx_num) < GRAD_TOL
    assert rel_error(dw, dw_num) < GRAD_TOL
    assert rel_error(db, db_num) < GRAD_TOL


def test_max_pool_fast_gradient_matches_numerical():
    rng = np.random.default_rng(81)
    # 3x2 windows, stride 2: overlapping down the height, tiling across the width.
    # Values 0.05 apart, far more than 2h, so no perturbation changes a window's max.
    x = distinct_values((2, 2, 7, 6), rng)
    param = pool_param(3, 2, 2)
    out, cache = max_pool_forward_fast(x, param)
    assert out.shape == (2, 2, 3, 3)
    dout = rng.normal(size=out.shape)
    dx = max_pool_backward_fast(dout, cache)
    dx_num = eval_numerical_gradient_array(lambda v: max_pool_forward_fast(v, param)[0], x, dout)
    assert rel_error(dx, dx_num) < GRAD_TOL


# ---------------------------------------------------------------------------
# Optional: PyTorch as an independent implementation
# ---------------------------------------------------------------------------

TORCH_CONV_CASES = [
    pytest.param((2, 3, 7, 6), (4, 3, 3, 2), 2, 1, id="nonsquare-s2-p1"),
    pytest.param((3, 2, 5, 5), (2, 2, 3, 3), 1, 2, id="s1-p2"),
]

TORCH_POOL_CASES = [
    pytest.param((2, 3, 6, 8), 2, 2, 2, id="tiling-2x2-s2"),
    pytest.param((2, 2, 7, 6), 3, 2, 2, id="overlapping-3x2-s2"),
    pytest.param((1, 2, 7, 8), 1, 2, 3, id="gapped-1x2-s3"),
]


@pytest.mark.parametrize("x_shape, w_shape, stride, pad", TORCH_CONV_CASES)
def test_conv_matches_torch(x_shape, w_shape, stride, pad):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(90)
    x, w, b = rng.normal(size=x_shape), rng.normal(size=w_shape), rng.normal(size=w_shape[0])
    out, cache = conv_forward_fast(x, w, b, conv_param(stride, pad))
    dout = rng.normal(size=out.shape)
    dx, dw, db = conv_backward_fast(dout, cache)

    xt, wt, bt = (torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in (x, w, b))
    out_t = torch.nn.functional.conv2d(xt, wt, bt, stride=stride, padding=pad)
    (out_t * torch.tensor(dout)).sum().backward()
    for name, mine, theirs in zip(("out", "dx", "dw", "db"), (out, dx, dw, db), (out_t, xt.grad, wt.grad, bt.grad)):
        assert scale_error(mine, theirs.detach().numpy()) < TOL_F64, name


@pytest.mark.parametrize("x_shape, ph, pw, stride", TORCH_POOL_CASES)
def test_max_pool_matches_torch(x_shape, ph, pw, stride):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(91)
    x = distinct_values(x_shape, rng)
    out, cache = max_pool_forward_fast(x, pool_param(ph, pw, stride))
    dout = rng.normal(size=out.shape)
    dx = max_pool_backward_fast(dout, cache)

    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    out_t = torch.nn.functional.max_pool2d(xt, (ph, pw), stride=stride)
    (out_t * torch.tensor(dout)).sum().backward()
    np.testing.assert_array_equal(out, out_t.detach().numpy())
    assert scale_error(dx, xt.grad.numpy()) < TOL_F64


# ---------------------------------------------------------------------------
# Scratch memory reused from one call to the next (the shared buffer pool)
# ---------------------------------------------------------------------------


def _pool_case(seed):
    rng = np.random.default_rng(seed)
    x, w, b = rng.standard_normal((3, 2, 6, 5)), rng.standard_normal((4, 2, 3, 3)), rng.standard_normal(4)
    return x, w, b, rng.standard_normal((3, 4, 6, 5))


def _address(array):
    return array.__array_interface__["data"][0]


def _naive_grads(x, w, b, dout, param):
    return conv_backward_naive(dout, conv_forward_naive(x, w, b, param)[1])


def test_the_next_step_reuses_the_memory_of_the_last_without_any_argument():
    x, w, b, dout = _pool_case(20)
    param = {"stride": 1, "pad": 1}
    fast_layers.release_buffers()
    _, cache = conv_forward_fast(x, w, b, param)
    lent = {_address(cols) for cols in cache[-1][1:]}
    assert lent and fast_layers.buffer_pool.spare_bytes > 0  # the padded copy went back already
    conv_backward_fast(dout, cache)
    _, cache = conv_forward_fast(x, w, b, param)
    assert {_address(cols) for cols in cache[-1][1:]} == lent


def test_memory_a_pending_backward_still_needs_is_never_lent_out():
    x, w, b, dout = _pool_case(21)
    param = {"stride": 1, "pad": 1}
    _, first = conv_forward_fast(x, w, b, param)
    _, second = conv_forward_fast(-x, w, b, param)  # takes scratch while `first` is pending
    assert not {_address(a) for a in first[-1][1:]} & {_address(a) for a in second[-1][1:]}
    got_second = conv_backward_fast(dout, second)
    _, third = conv_forward_fast(2 * x, w, b, param)  # reuses what `second` gave back
    for got, expected in zip(conv_backward_fast(dout, first), _naive_grads(x, w, b, dout, param)):
        assert scale_error(got, expected) < 1e-10
    for got, expected in zip(got_second, _naive_grads(-x, w, b, dout, param)):
        assert scale_error(got, expected) < 1e-10
    for got, expected in zip(conv_backward_fast(dout, third), _naive_grads(2 * x, w, b, dout, param)):
        assert scale_error(got, expected) < 1e-10


@pytest.mark.parametrize("keep_cols_bytes", [fast_layers.KEEP_COLS_BYTES, 0], ids=["kept-cols", "rebuild-cols"])
def test_a_second_backward_of_one_cache_gives_the_same_gradients(monkeypatch, keep_cols_bytes):
    monkeypatch.setattr(fast_layers, "KEEP_COLS_BYTES", keep_cols_bytes)
    x, w, b, dout = _pool_case(22)
    param = {"stride": 1, "pad": 1}
    _, cache = conv_forward_fast(x, w, b, param)
    once = conv_backward_fast(dout, cache)
    conv_forward_fast(-x, w, b, param)  # may take the memory the first backward gave back
    twice = conv_backward_fast(dout, cache)
    for a, c in zip(once, twice):
        np.testing.assert_array_equal(a, c)


def test_pooled_results_equal_fresh_memory_step_after_step():
    x, w, b, dout = _pool_case(23)
    param = {"stride": 1, "pad": 1}
    fast_layers.release_buffers()
    fresh = conv_backward_fast(dout, conv_forward_fast(x, w, b, param)[1])
    for _ in range(3):
        out, cache = conv_forward_fast(x, w, b, param)
        again = conv_backward_fast(dout, cache)
    for a, c in zip(fresh, again):
        np.testing.assert_array_equal(a, c)
    np.testing.assert_allclose(conv_forward_naive(x, w, b, param)[0], out, rtol=1e-12, atol=1e-12)


def test_threads_sharing_the_pool_get_the_answers_of_one_thread():
    from concurrent.futures import ThreadPoolExecutor

    cases = [_pool_case(30 + k) for k in range(4)]
    param = {"stride": 1, "pad": 1}

    def step(case):
        x, w, b, dout = case
        out, cache = conv_forward_fast(x, w, b, param)
        return (out, *conv_backward_fast(dout, cache))

    alone = [step(case) for case in cases]
    with ThreadPoolExecutor(4) as threads:
        shared = list(threads.map(step, cases * 25))
    for k, results in enumerate(shared):
        for a, c in zip(alone[k % len(cases)], results):
            np.testing.assert_array_equal(a, c)


def test_release_frees_the_pool_and_its_bound_holds(monkeypatch):
    x, w, b, dout = _pool_case(24)
    param = {"stride": 1, "pad": 1}
    conv_backward_fast(dout, conv_forward_fast(x, w, b, param)[1])
    assert fast_layers.buffer_pool.spare_bytes > 0
    assert fast_layers.release_buffers() > 0
    assert fast_layers.buffer_pool.spare_bytes == 0
    monkeypatch.setattr(fast_layers.buffer_pool, "limit_bytes", 1000)
    got = conv_backward_fast(dout, conv_forward_fast(x, w, b, param)[1])
    assert fast_layers.buffer_pool.spare_bytes <= 1000
    for a, c in zip(got, _naive_grads(x, w, b, dout, param)):
        assert scale_error(a, c) < 1e-10


def test_a_private_workspace_keeps_a_layers_scratch_apart():
    x, w, b, dout = _pool_case(25)
    workspace = fast_layers.Workspace()
    param = {"stride": 1, "pad": 1, "workspace": workspace}
    fast_layers.release_buffers()
    got = conv_backward_fast(dout, conv_forward_fast(x, w, b, param)[1])
    assert workspace.spare_bytes > 0 and fast_layers.buffer_pool.spare_bytes == 0
    for a, c in zip(got, _naive_grads(x, w, b, dout, {"stride": 1, "pad": 1})):
        assert scale_error(a, c) < 1e-10


def test_workspace_pickles_empty_and_must_be_a_workspace():
    import pickle

    x, w, b, dout = _pool_case(26)
    workspace = fast_layers.Workspace()
    conv_backward_fast(dout, conv_forward_fast(x, w, b, {"stride": 1, "pad": 1, "workspace": workspace})[1])
    assert len(pickle.dumps(workspace)) < 200
    with pytest.raises(TypeError, match=r"conv_param\['workspace'\] must be a cs231n_lib.fast_layers.Workspace \(or leave it out to use the shared pool\), got dict"):
        conv_forward_fast(x, w, b, {"stride": 1, "pad": 1, "workspace": {}})


def test_a_workspace_pickled_by_the_earlier_class_still_loads(monkeypatch):
    import pickle

    # Before issue 15 a Workspace pickled its state as {"_spare": []}; checkpoints hold such pickles.
    monkeypatch.setattr(fast_layers.Workspace, "__getstate__", lambda self: {"_spare": []})
    old_bytes = pickle.dumps(fast_layers.Workspace())
    monkeypatch.undo()
    loaded = pickle.loads(old_bytes)
    assert isinstance(loaded, fast_layers.Workspace) and loaded.spare_bytes == 0
    x, w, b, dout = _pool_case(27)
    param = {"stride": 1, "pad": 1, "workspace": loaded}
    got = conv_backward_fast(dout, conv_forward_fast(x, w, b, param)[1])
    for a, c in zip(got, _naive_grads(x, w, b, dout, {"stride": 1, "pad": 1})):
        assert scale_error(a, c) < 1e-10
