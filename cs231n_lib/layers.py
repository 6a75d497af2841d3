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


# ---------------------------------------------------------------------------
# Batch normalization
# ---------------------------------------------------------------------------


def batchnorm_forward(x, gamma, beta, bn_param):
    """Batch normalization forward pass: normalise each feature over the batch, then scale and shift it.

    Inputs:
    - x: (N, D) a batch of N samples with D features each
    - gamma: (D,) scale of each feature
    - beta: (D,) shift of each feature
    - bn_param: dict with
      - 'mode': 'train' or 'test' (required)
      - 'eps': constant > 0 added to the variance before its square root (default 1e-5)
      - 'momentum': 0 <= momentum <= 1, the share of the running averages kept at each
        train-mode call (default 0.9)
      - 'running_mean', 'running_var': (D,) running averages of the batch means and
        variances, created in bn_param as zeros in x's dtype when missing. Train mode
        updates them in bn_param; test mode only reads them.
    Returns (out, cache): out is (N, D), in x's dtype when gamma and beta share it;
    cache is a tuple whose first item is x (the backward passes check dout's shape
    against it), followed by whatever batchnorm_backward and batchnorm_backward_alt need.

    For feature j with mean m_j and variance v_j:
        x_hat[i, j] = (x[i, j] - m_j) / sqrt(v_j + eps)
        out[i, j] = gamma[j] * x_hat[i, j] + beta[j]
    Train mode uses the batch's own mean and variance (the biased one, divided by N)
    and moves each running average towards them:
        running = momentum * running + (1 - momentum) * batch statistic
    Test mode uses the running averages instead, so a sample's output does not
    depend on the rest of its batch.
    """
    x = as_float_array("x", x, ndim=2)
    N, D = x.shape
    if N < 1 or D < 1:
        raise ValueError(f"x has shape {x.shape}: batch normalization needs at least one sample "
                         "and one feature, x of shape (N, D) with N >= 1 and D >= 1")
    gamma, beta = _require_scale_and_shift(gamma, beta, D, f"feature of x (D = {D})")
    mode, eps, momentum, running_mean, running_var = _parse_bn_param(bn_param, D, x.dtype)
    ### BEGIN SOLUTION
    if mode == "train":
        mean = x.mean(axis=0)                      # (D,) mean of each feature over the batch
        centred = x - mean                         # (N, D)
        var = np.mean(centred ** 2, axis=0)        # (D,) biased variance: divided by N
        std = np.sqrt(var + eps)                   # (D,)
        bn_param["running_mean"] = momentum * running_mean + (1 - momentum) * mean
        bn_param["running_var"] = momentum * running_var + (1 - momentum) * var
    else:
        centred = x - running_mean
        std = np.sqrt(running_var + eps)
    x_hat = centred / std                          # (N, D)
    out = gamma * x_hat + beta                     # (N, D)
    cache = (x, x_hat, centred, std, gamma)
    ### END SOLUTION
    return out, cache


def batchnorm_backward(dout, cache):
    """Backward pass of batchnorm_forward in train mode, one node of the computational graph at a time.

    Inputs:
    - dout: (N, D) upstream gradient
    - cache: from batchnorm_forward in train mode
    Returns (dx, dgamma, dbeta): dx is (N, D), dgamma and dbeta are (D,).

    Draw the forward pass as a graph of small operations (the mean, the
    centring, the variance, the square root, the division, the scale and
    shift) and walk it from out back to x, one line per node: each node turns
    the gradient of its output into the gradients of its inputs. An input that
    feeds several nodes receives the sum of their gradients.
    """
    dout = _batchnorm_dout(dout, cache)
    ### BEGIN SOLUTION
    x, x_hat, centred, std, gamma = cache
    N = x.shape[0]
    # node out = gamma * x_hat + beta
    dbeta = dout.sum(axis=0)                              # (D,)
    dgamma = np.sum(dout * x_hat, axis=0)                 # (D,)
    dx_hat = dout * gamma                                 # (N, D)
    # node x_hat = centred / std: the first path back into centred
    dcentred = dx_hat / std                               # (N, D)
    dstd = -np.sum(dx_hat * centred, axis=0) / std ** 2   # (D,)
    # node std = sqrt(var + eps)
    dvar = dstd / (2 * std)                               # (D,)
    # node var = mean of centred ** 2 over the batch: the second path back into centred
    dcentred = dcentred + 2 * centred * dvar / N          # (N, D)
    # node centred = x - mean: the first path back into x
    dmean = -np.sum(dcentred, axis=0)                     # (D,)
    # node mean = mean of x over the batch: the second path back into x
    dx = dcentred + dmean / N                             # (N, D)
    ### END SOLUTION
    return dx, dgamma, dbeta


def batchnorm_backward_alt(dout, cache):
    """Backward pass of batchnorm_forward in train mode, in a closed form worked out on paper.

    Inputs:
    - dout: (N, D) upstream gradient
    - cache: from batchnorm_forward in train mode
    Returns (dx, dgamma, dbeta), the same as batchnorm_backward: dx is (N, D),
    dgamma and dbeta are (D,).

    Simplify the chain rule of the graph into one expression for dx, written
    with x_hat, dgamma and dbeta, so that no intermediate node is needed.
    """
    dout = _batchnorm_dout(dout, cache)
    ### BEGIN SOLUTION
    x, x_hat, centred, std, gamma = cache
    N = x.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = np.sum(dout * x_hat, axis=0)
    dx = gamma / (N * std) * (N * dout - dbeta - x_hat * dgamma)
    ### END SOLUTION
    return dx, dgamma, dbeta


def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    """Spatial batch normalization: batch normalization of each channel of a batch of images.

    Inputs:
    - x: (N, C, H, W) input images
    - gamma: (C,) scale of each channel
    - beta: (C,) shift of each channel
    - bn_param: as for batchnorm_forward, with running averages of shape (C,)
    Returns (out, cache): out is (N, C, H, W); cache is (x.shape, the cache of
    batchnorm_forward).

    A channel's statistics are taken over all N * H * W of its values (every
    image and every pixel), so that a convolution's output keeps meaning the
    same thing at every position. Reuse batchnorm_forward: give it a 2-D array
    with one row per pixel and one column per channel, and turn its output back
    into (N, C, H, W).
    """
    x = as_float_array("x", x, ndim=4)
    N, C, H, W = x.shape
    gamma, beta = _require_scale_and_shift(gamma, beta, C, f"channel of x (C = {C})")
    ### BEGIN SOLUTION
    x_rows = x.transpose(0, 2, 3, 1).reshape(N * H * W, C)    # channels last, one row per pixel
    out_rows, bn_cache = batchnorm_forward(x_rows, gamma, beta, bn_param)
    out = out_rows.reshape(N, H, W, C).transpose(0, 3, 1, 2)
    ### END SOLUTION
    return out, (x.shape, bn_cache)


def spatial_batchnorm_backward(dout, cache):
    """Backward pass of spatial_batchnorm_forward in train mode.

    Inputs:
    - dout: (N, C, H, W) upstream gradient
    - cache: (x.shape, the cache of batchnorm_forward) from spatial_batchnorm_forward
    Returns (dx, dgamma, dbeta): dx is (N, C, H, W), dgamma and dbeta are (C,).

    Undo the forward pass's reshaping on dout, reuse a backward pass of
    batchnorm_forward, and reshape its dx back into (N, C, H, W).
    """
    if not (isinstance(cache, tuple) and len(cache) == 2 and isinstance(cache[0], tuple)):
        raise TypeError("cache must be the pair (x.shape, batchnorm cache) that "
                        f"spatial_batchnorm_forward returned, got {type(cache).__name__}")
    x_shape, bn_cache = cache
    dout = require_dout(dout, x_shape)
    ### BEGIN SOLUTION
    N, C, H, W = dout.shape
    dout_rows = dout.transpose(0, 2, 3, 1).reshape(N * H * W, C)
    dx_rows, dgamma, dbeta = batchnorm_backward_alt(dout_rows, bn_cache)
    dx = dx_rows.reshape(N, H, W, C).transpose(0, 3, 1, 2)
    ### END SOLUTION
    return dx, dgamma, dbeta


def _require_scale_and_shift(gamma, beta, size, what):
    """gamma and beta as float arrays of shape (size,): one scale and one shift per ``what``."""
    gamma = as_float_array("gamma", gamma, ndim=1)
    beta = as_float_array("beta", beta, ndim=1)
    for name, value, start in (("gamma", gamma, "np.ones"), ("beta", beta, "np.zeros")):
        if value.shape != (size,):
            raise ValueError(f"{name} has shape {value.shape}, expected ({size},): one value per "
                             f"{what}; start from {name} = {start}({size})")
    return gamma, beta


def _bn_number(bn_param, key, default):
    value = bn_param.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"bn_param['{key}'] must be a number such as {default}, got {value!r}")
    return float(value)


def _parse_bn_param(bn_param, D, dtype):
    """(mode, eps, momentum, running_mean, running_var) of bn_param for D features.

    Missing running averages are stored into bn_param as zeros of shape (D,) in ``dtype``.
    """
    require_keys("bn_param", bn_param, ("mode",), "{'mode': 'train'}")
    mode = bn_param["mode"]
    if mode not in ("train", "test"):
        raise ValueError(f"bn_param['mode'] must be 'train' or 'test', got {mode!r}")
    eps = _bn_number(bn_param, "eps", 1e-5)
    if not eps > 0:
        raise ValueError(f"bn_param['eps'] = {eps} must be positive: it keeps sqrt(var + eps) "
                         "above 0 for a feature that is constant over the batch; 1e-5 is usual")
    momentum = _bn_number(bn_param, "momentum", 0.9)
    if not 0 <= momentum <= 1:
        raise ValueError(f"bn_param['momentum'] = {momentum} is outside [0, 1]: it is the share of "
                         "the running averages kept at each train-mode call; 0.9 is usual")
    running = []
    for key in ("running_mean", "running_var"):
        if key not in bn_param:
            bn_param[key] = np.zeros(D, dtype=dtype)
        value = as_float_array(f"bn_param['{key}']", bn_param[key], ndim=1)
        if value.shape != (D,):
            raise ValueError(f"bn_param['{key}'] has shape {value.shape}, expected ({D},): one "
                             f"average per feature, and x has {D}. Was this bn_param made for "
                             "another layer? Give each layer its own dict")
        running.append(value)
    negative = np.flatnonzero(running[1] < 0)
    if negative.size:
        i = int(negative[0])
        raise ValueError(f"bn_param['running_var'][{i}] = {float(running[1][i])} is negative; a "
                         "variance is 0 or more (start from zeros if unsure)")
    return (mode, eps, momentum, *running)


def _batchnorm_dout(dout, cache):
    """dout as a float array shaped like the x at the front of batchnorm_forward's cache."""
    if not (isinstance(cache, tuple) and cache and isinstance(cache[0], np.ndarray)):
        raise TypeError("cache must be the tuple batchnorm_forward returned, with x as its first "
                        f"item, got {type(cache).__name__}")
    return require_dout(dout, cache[0].shape)
