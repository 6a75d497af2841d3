"""Layers as pairs of functions: the readable, loop-based teaching code.

Every layer follows one contract:

    out, cache = layer_forward(inputs..., params)
    grads = layer_backward(dout, cache)

where ``dout`` is the gradient of the loss with respect to ``out`` and the
backward returns the gradients with respect to each input, in order. Arrays
are NCHW; the output keeps the caller's float dtype.

The naive convolution and pooling are written as explicit loops so each line
can be read against the formula; ``cs231n_lib.fast_layers`` computes the same
thing quickly with the same signatures.
"""

import numpy as np

from cs231n_lib.randomness import random_source
from cs231n_lib.shapes import conv_geometry, pool_geometry
from cs231n_lib.validation import (
    as_float_array,
    require_dout,
    require_keys,
    require_labels,
    require_shape,
)


def affine_forward(x, w, b):
    """Fully connected layer: out = x.reshape(N, D) @ w + b.

    Inputs:
    - x: (N, d_1, ..., d_k) inputs, flattened to (N, D) with D = d_1 * ... * d_k
    - w: (D, M) weights
    - b: (M,) biases
    Returns (out, cache): out is (N, M); cache is (x, w, b).
    """
    x = as_float_array("x", x)
    w = as_float_array("w", w, ndim=2)
    b = as_float_array("b", b, ndim=1)
    if x.ndim < 2 or min(x.shape) < 1:
        raise ValueError(
            f"x must be (N, d_1, ..., d_k) with every size positive, got shape {x.shape}"
        )
    D = int(np.prod(x.shape[1:]))
    if w.shape[0] != D:
        raise ValueError(
            f"x has {D} features per sample (x.shape[1:] = {x.shape[1:]}) "
            f"but w has {w.shape[0]} rows; w needs shape ({D}, M)"
        )
    require_shape("b", b, (w.shape[1],))
    out = x.reshape(x.shape[0], D) @ w + b
    return out, (x, w, b)


def affine_backward(dout, cache):
    """Backward pass of affine_forward.

    Inputs:
    - dout: (N, M) upstream gradient
    - cache: (x, w, b) from affine_forward
    Returns (dx, dw, db): dx = dout @ w.T reshaped like x (N, d_1, ..., d_k),
    dw = x_flat.T @ dout (D, M), db = sum of dout over the batch (M,).
    """
    x, w, b = cache
    N = x.shape[0]
    dout = require_dout(dout, (N, w.shape[1]))
    x_flat = x.reshape(N, -1)
    dx = (dout @ w.T).reshape(x.shape)
    dw = x_flat.T @ dout
    db = dout.sum(axis=0)
    return dx, dw, db


def relu_forward(x):
    """Rectified linear unit: out = max(0, x), elementwise.

    Inputs:
    - x: array of any shape
    Returns (out, cache): out has x's shape; cache is x.
    """
    x = as_float_array("x", x)
    return np.maximum(x, 0), x


def relu_backward(dout, cache):
    """Backward pass of relu_forward: dx = dout where x > 0, else 0.

    The gradient at exactly x = 0 is taken as 0 (a kink: any value in
    [0, 1] is a valid subgradient there).
    """
    x = cache
    dout = require_dout(dout, x.shape)
    return dout * (x > 0)


def conv_forward_naive(x, w, b, conv_param):
    """Convolution forward pass, with explicit loops.

    Inputs:
    - x: (N, C, H, W) input images
    - w: (F, C, HH, WW) filter weights
    - b: (F,) biases
    - conv_param: {'stride': S, 'pad': P}, P zeros added on every side of H and W
    Returns (out, cache): out is (N, F, H', W') with
    H' = 1 + (H + 2P - HH) / S and W' = 1 + (W + 2P - WW) / S;
    cache is (x, w, b, conv_param).

    out[n, f, i, j] = b[f] + sum over c, a, b' of
                      x_padded[n, c, i*S + a, j*S + b'] * w[f, c, a, b']
    """
    x = as_float_array("x", x, ndim=4)
    w = as_float_array("w", w, ndim=4)
    b = as_float_array("b", b, ndim=1)
    g = conv_geometry(x.shape, w.shape, conv_param, b.shape)
    ### BEGIN SOLUTION
    S, P = g.stride, g.pad
    x_padded = np.pad(x, ((0, 0), (0, 0), (P, P), (P, P)))
    out = np.zeros(g.out_shape, dtype=np.result_type(x, w, b))
    for n in range(g.N):
        for f in range(g.F):
            for i in range(g.H_out):
                for j in range(g.W_out):
                    window = x_padded[n, :, i * S:i * S + g.HH, j * S:j * S + g.WW]
                    out[n, f, i, j] = np.sum(window * w[f]) + b[f]
    ### END SOLUTION
    cache = (x, w, b, conv_param)
    return out, cache


def conv_backward_naive(dout, cache):
    """Convolution backward pass, with explicit loops.

    Inputs:
    - dout: (N, F, H', W') upstream gradient
    - cache: (x, w, b, conv_param) from conv_forward_naive
    Returns (dx, dw, db) shaped like x (N, C, H, W), w (F, C, HH, WW), b (F,).

    Each output value used one window of x_padded and one filter, so it sends
    dout[n, f, i, j] * w[f] back into that window and dout * window into
    dw[f]. Windows overlap when S < HH, hence the +=.
    """
    x, w, b, conv_param = cache
    g = conv_geometry(x.shape, w.shape, conv_param, b.shape)
    dout = require_dout(dout, g.out_shape)
    ### BEGIN SOLUTION
    S, P = g.stride, g.pad
    x_padded = np.pad(x, ((0, 0), (0, 0), (P, P), (P, P)))
    dx_padded = np.zeros_like(x_padded, dtype=np.result_type(x, dout))
    dw = np.zeros_like(w, dtype=np.result_type(w, dout))
    db = dout.sum(axis=(0, 2, 3))
    for n in range(g.N):
        for f in range(g.F):
            for i in range(g.H_out):
                for j in range(g.W_out):
                    rows = slice(i * S, i * S + g.HH)
                    cols = slice(j * S, j * S + g.WW)
                    dx_padded[n, :, rows, cols] += dout[n, f, i, j] * w[f]
                    dw[f] += dout[n, f, i, j] * x_padded[n, :, rows, cols]
    dx = dx_padded[:, :, P:P + g.H, P:P + g.W]
    ### END SOLUTION
    return dx, dw, db


def max_pool_forward_naive(x, pool_param):
    """Max-pooling forward pass, with explicit loops.

    Inputs:
    - x: (N, C, H, W) input
    - pool_param: {'pool_height': PH, 'pool_width': PW, 'stride': S}
    Returns (out, cache): out is (N, C, H', W') with H' = 1 + (H - PH) / S
    and W' = 1 + (W - PW) / S; cache is (x, pool_param).

    out[n, c, i, j] = max of x[n, c, i*S : i*S + PH, j*S : j*S + PW]
    """
    x = as_float_array("x", x, ndim=4)
    g = pool_geometry(x.shape, pool_param)
    ### BEGIN SOLUTION
    S = g.stride
    out = np.zeros(g.out_shape, dtype=x.dtype)
    for n in range(g.N):
        for c in range(g.C):
            for i in range(g.H_out):
                for j in range(g.W_out):
                    window = x[n, c, i * S:i * S + g.pool_height, j * S:j * S + g.pool_width]
                    out[n, c, i, j] = window.max()
    ### END SOLUTION
    cache = (x, pool_param)
    return out, cache


def max_pool_backward_naive(dout, cache):
    """Max-pooling backward pass, with explicit loops.

    Inputs:
    - dout: (N, C, H', W') upstream gradient
    - cache: (x, pool_param) from max_pool_forward_naive
    Returns dx: (N, C, H, W).

    Only the largest value of each window moved the output, so the whole
    dout[n, c, i, j] goes to it; on a tie, to the first maximum in row-major
    order. Overlapping windows (S < PH or S < PW) can pick the same input, so
    the gradients add up (+=).
    """
    x, pool_param = cache
    g = pool_geometry(x.shape, pool_param)
    dout = require_dout(dout, g.out_shape)
    ### BEGIN SOLUTION
    S = g.stride
    dx = np.zeros_like(x, dtype=np.result_type(x, dout))
    for n in range(g.N):
        for c in range(g.C):
            for i in range(g.H_out):
                for j in range(g.W_out):
                    window = x[n, c, i * S:i * S + g.pool_height, j * S:j * S + g.pool_width]
                    a, b = np.unravel_index(np.argmax(window), window.shape)
                    dx[n, c, i * S + a, j * S + b] += dout[n, c, i, j]
    ### END SOLUTION
    return dx


def dropout_forward(x, dropout_param):
    """Inverted dropout forward pass.

    Inputs:
    - x: input of any shape
    - dropout_param: dict with
      - 'p': probability of DROPPING each unit, 0 <= p < 1 (PyTorch's
        torch.nn.Dropout convention). Beware: the CS231n lecture code uses p
        as the probability of KEEPING a unit; this library does not.
      - 'mode': 'train' (drop and rescale) or 'test' (identity)
      - 'seed': optional int: the same mask at every call with this seed, or
      - 'rng': optional numpy Generator to draw the mask from (it advances).
      With neither, the mask comes from numpy's global generator (see
      cs231n_lib.randomness for the rule).
    Returns (out, cache): out has x's shape and dtype; cache is
    (dropout_param, mask), the mask all ones in test mode.

    In train mode each unit is kept with probability 1 - p and the kept ones
    are divided by 1 - p, so the expected value of out equals x and test time
    needs no rescaling.
    """
    x = as_float_array("x", x)
    p, mode, rng = _parse_dropout_param(dropout_param)
    if mode == "test":
        # A read-only view of ones: the same backward code works in both modes.
        return x.copy(), (dropout_param, np.broadcast_to(np.ones((), x.dtype), x.shape))
    ### BEGIN SOLUTION
    keep = rng.random(x.shape) >= p
    mask = (keep / (1 - p)).astype(x.dtype)
    out = x * mask
    ### END SOLUTION
    return out, (dropout_param, mask)


def dropout_backward(dout, cache):
    """Backward pass of dropout_forward.

    Inputs:
    - dout: upstream gradient, shaped like forward's x
    - cache: (dropout_param, mask) from dropout_forward; mask is the array forward
      multiplied x by (all ones in test mode)
    Returns dx, shaped like dout, in its dtype: the derivative of forward's output
    with respect to x, applied to dout. Draw nothing: backward reuses forward's mask.
    """
    dropout_param, mask = cache
    dout = require_dout(dout, mask.shape)
    ### BEGIN SOLUTION
    dx = dout * mask
    ### END SOLUTION
    return dx


def _parse_dropout_param(dropout_param):
    example = "{'p': 0.5, 'mode': 'train'}"
    require_keys("dropout_param", dropout_param, ("p", "mode"), example)
    p = dropout_param["p"]
    if isinstance(p, bool) or not isinstance(p, (int, float, np.floating, np.integer)):
        raise TypeError(f"dropout_param['p'] must be a number, got {p!r}")
    if not 0 <= p < 1:
        raise ValueError(
            f"dropout_param['p'] = {p} is outside [0, 1): p is the probability "
            "of dropping a unit (p=1 would drop everything)"
        )
    mode = dropout_param["mode"]
    if mode not in ("train", "test"):
        raise ValueError(f"dropout_param['mode'] must be 'train' or 'test', got {mode!r}")
    rng = random_source(
        dropout_param.get("seed"), dropout_param.get("rng"),
        seed_name="dropout_param['seed']", rng_name="dropout_param['rng']",
    )
    return float(p), mode, rng


def softmax_loss(x, y):
    """Softmax (cross-entropy) loss, averaged over the batch.

    Inputs:
    - x: (N, C) class scores
    - y: (N,) integer labels, 0 <= y[i] < C
    Returns (loss, dx): loss = mean_i -log(exp(x[i, y_i]) / sum_j exp(x[i, j])),
    dx: (N, C) its gradient. Scores are shifted by their row maximum first, so
    large scores do not overflow.
    """
    x = as_float_array("x", x, ndim=2)
    N, C = x.shape
    require_labels(y, N, C)
    shifted = x - x.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    rows = np.arange(N)
    loss = -log_probs[rows, y].mean()
    dx = np.exp(log_probs)
    dx[rows, y] -= 1
    dx /= N
    return float(loss), dx


def svm_loss(x, y):
    """Multiclass SVM (hinge) loss with margin 1, averaged over the batch.

    Inputs:
    - x: (N, C) class scores
    - y: (N,) integer labels, 0 <= y[i] < C
    Returns (loss, dx): loss = mean_i sum_{j != y_i} max(0, x[i, j] - x[i, y_i] + 1),
    dx: (N, C) its gradient.
    """
    x = as_float_array("x", x, ndim=2)
    N, C = x.shape
    require_labels(y, N, C)
    rows = np.arange(N)
    margins = np.maximum(0, x - x[rows, y][:, None] + 1)
    margins[rows, y] = 0
    loss = margins.sum() / N
    positive = (margins > 0).astype(x.dtype)
    dx = positive
    dx[rows, y] -= positive.sum(axis=1)
    dx /= N
    return float(loss), dx
