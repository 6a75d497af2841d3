"""Sandwich layers: a few layers that always appear together, as one layer.

A convolutional network repeats the same short patterns (conv -> ReLU ->
pool, affine -> ReLU) many times. Writing each pattern once keeps a model's
``loss`` short: one call per block instead of three forward calls, three
backward calls and three caches to keep track of. Nothing new is computed
here: each sandwich only chains layers you have already written and
gradient-checked (``affine_forward``, ``relu_forward`` from
``cs231n_lib.layers``; the fast convolution and pooling from
``cs231n_lib.fast_layers``), so its backward pass is the chain rule applied
to their backward passes in reverse order.

Every sandwich follows the layer contract:

    out, cache = sandwich_forward(inputs..., params)
    grads = sandwich_backward(dout, cache)

The cache is a tuple of the pieces' caches, in forward order.
"""

from cs231n_lib.fast_layers import (
    _conv_forward,
    _max_pool_backward,
    buffer_pool,
    conv_backward_fast,
    conv_forward_fast,
    max_pool_forward_fast,
)
from cs231n_lib.layers import (
    affine_backward,
    affine_forward,
    batchnorm_backward_alt,
    batchnorm_forward,
    relu_backward,
    relu_forward,
    spatial_batchnorm_backward,
    spatial_batchnorm_forward,
)


def affine_relu_forward(x, w, b):
    """An affine layer followed by a ReLU: out = max(0, x.reshape(N, D) @ w + b).

    Inputs:
    - x: (N, d_1, ..., d_k) inputs, flattened to (N, D) with D = d_1 * ... * d_k
    - w: (D, M) weights
    - b: (M,) biases
    Returns (out, cache): out is (N, M); cache is (affine_cache, relu_cache).
    """
    scores, affine_cache = affine_forward(x, w, b)
    out, relu_cache = relu_forward(scores)
    return out, (affine_cache, relu_cache)


def affine_relu_backward(dout, cache):
    """Backward pass of affine_relu_forward.

    Inputs:
    - dout: (N, M) upstream gradient
    - cache: (affine_cache, relu_cache) from affine_relu_forward
    Returns (dx, dw, db) shaped like x (N, d_1, ..., d_k), w (D, M), b (M,).
    """
    affine_cache, relu_cache = cache
    dscores = relu_backward(dout, relu_cache)
    return affine_backward(dscores, affine_cache)


def conv_relu_forward(x, w, b, conv_param):
    """A convolution followed by a ReLU: out = max(0, conv(x, w) + b).

    Inputs:
    - x: (N, C, H, W) input images
    - w: (F, C, HH, WW) filter weights
    - b: (F,) biases
    - conv_param: {'stride': S, 'pad': P}
    Returns (out, cache): out is (N, F, H', W') with H' = 1 + (H + 2P - HH) / S
    and W' = 1 + (W + 2P - WW) / S; cache is (conv_cache, relu_cache).
    """
    activations, conv_cache = conv_forward_fast(x, w, b, conv_param)
    out, relu_cache = relu_forward(activations)
    return out, (conv_cache, relu_cache)


def conv_relu_backward(dout, cache, compute_dx=True):
    """Backward pass of conv_relu_forward.

    Inputs:
    - dout: (N, F, H', W') upstream gradient
    - cache: (conv_cache, relu_cache) from conv_relu_forward
    - compute_dx: False skips the input gradient and returns dx as None; a
      first layer, whose input is the raw images, needs no gradient for them.
    Returns (dx, dw, db) shaped like x (N, C, H, W), w (F, C, HH, WW), b (F,).
    """
    conv_cache, relu_cache = cache
    dactivations = relu_backward(dout, relu_cache)
    return conv_backward_fast(dactivations, conv_cache, compute_dx=compute_dx)


def conv_relu_pool_forward(x, w, b, conv_param, pool_param):
    """Convolution, ReLU, then max pooling: out = maxpool(max(0, conv(x, w) + b)).

    Inputs:
    - x: (N, C, H, W) input images
    - w: (F, C, HH, WW) filter weights
    - b: (F,) biases
    - conv_param: {'stride': S, 'pad': P}
    - pool_param: {'pool_height': PH, 'pool_width': PW, 'stride': PS}
    Returns (out, cache): out is (N, F, H'', W''), where the convolution gives
    H' = 1 + (H + 2P - HH) / S, W' = 1 + (W + 2P - WW) / S and the pooling
    H'' = 1 + (H' - PH) / PS, W'' = 1 + (W' - PW) / PS;
    cache is (conv_cache, pool_cache, relu_cache).

    ReLU and max pooling commute (the max of rectified values is the
    rectified max), so this pools first and rectifies the pooled volume,
    which is PH*PW times smaller. Outputs and gradients are exactly those of
    conv, then ReLU, then pool.

    The convolution's output is needed only until it is pooled, so its memory
    comes from the fast layers' scratch pool and goes back to it at once (and
    the same for its gradient in the backward pass): no fresh memory for the
    largest arrays of a training step.
    """
    activations, conv_cache = _conv_forward(x, w, b, conv_param, out_from_pool=True)
    pooled, pool_cache = max_pool_forward_fast(activations, pool_param)
    buffer_pool.give_back([activations])
    out, relu_cache = relu_forward(pooled)
    return out, (conv_cache, pool_cache, relu_cache)


def conv_relu_pool_backward(dout, cache, compute_dx=True):
    """Backward pass of conv_relu_pool_forward.

    Inputs:
    - dout: (N, F, H'', W'') upstream gradient
    - cache: (conv_cache, pool_cache, relu_cache) from conv_relu_pool_forward
    - compute_dx: False skips the input gradient and returns dx as None (for
      a first layer on raw images).
    Returns (dx, dw, db) shaped like x (N, C, H, W), w (F, C, HH, WW), b (F,).
    """
    conv_cache, pool_cache, relu_cache = cache
    dpooled = relu_backward(dout, relu_cache)
    dactivations = _max_pool_backward(dpooled, pool_cache, dx_from_pool=True)
    grads = conv_backward_fast(dactivations, conv_cache, compute_dx=compute_dx)
    buffer_pool.give_back([dactivations])
    return grads


def affine_bn_relu_forward(x, w, b, gamma, beta, bn_param):
    """Affine, batch normalization, then ReLU: out = max(0, batchnorm(x.reshape(N, D) @ w + b)).

    Inputs:
    - x: (N, d_1, ..., d_k) inputs, flattened to (N, D)
    - w: (D, M) weights; b: (M,) biases
    - gamma, beta: (M,) batch normalization scale and shift
    - bn_param: batchnorm_forward's dict ('mode', running averages, ...)
    Returns (out, cache): out is (N, M); cache is (affine_cache, bn_cache, relu_cache).
    """
    scores, affine_cache = affine_forward(x, w, b)
    normalized, bn_cache = batchnorm_forward(scores, gamma, beta, bn_param)
    out, relu_cache = relu_forward(normalized)
    return out, (affine_cache, bn_cache, relu_cache)


def affine_bn_relu_backward(dout, cache):
    """Backward pass of affine_bn_relu_forward.

    Inputs:
    - dout: (N, M) upstream gradient
    - cache: (affine_cache, bn_cache, relu_cache) from affine_bn_relu_forward
    Returns (dx, dw, db, dgamma, dbeta) shaped like x, w (D, M), b, gamma and beta (M,).
    """
    affine_cache, bn_cache, relu_cache = cache
    dnormalized = relu_backward(dout, relu_cache)
    dscores, dgamma, dbeta = batchnorm_backward_alt(dnormalized, bn_cache)
    dx, dw, db = affine_backward(dscores, affine_cache)
    return dx, dw, db, dgamma, dbeta


def conv_bn_relu_forward(x, w, b, gamma, beta, conv_param, bn_param):
    """Convolution, spatial batch normalization, then ReLU.

    Inputs:
    - x: (N, C, H, W) input images; w: (F, C, HH, WW); b: (F,)
    - gamma, beta: (F,) per-channel scale and shift
    - conv_param: {'stride': S, 'pad': P}; bn_param: as in batchnorm_forward
    Returns (out, cache): out is (N, F, H', W'); cache is (conv_cache, bn_cache, relu_cache).
    """
    activations, conv_cache = conv_forward_fast(x, w, b, conv_param)
    normalized, bn_cache = spatial_batchnorm_forward(activations, gamma, beta, bn_param)
    out, relu_cache = relu_forward(normalized)
    return out, (conv_cache, bn_cache, relu_cache)


def conv_bn_relu_backward(dout, cache):
    """Backward pass of conv_bn_relu_forward.

    Inputs:
    - dout: (N, F, H', W') upstream gradient
    - cache: (conv_cache, bn_cache, relu_cache) from conv_bn_relu_forward
    Returns (dx, dw, db, dgamma, dbeta) shaped like x, w, b, gamma and beta.
    """
    conv_cache, bn_cache, relu_cache = cache
    dnormalized = relu_backward(dout, relu_cache)
    dactivations, dgamma, dbeta = spatial_batchnorm_backward(dnormalized, bn_cache)
    dx, dw, db = conv_backward_fast(dactivations, conv_cache)
    return dx, dw, db, dgamma, dbeta
