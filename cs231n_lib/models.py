"""Models: the layers put together, with one API for all of them.

    scores = model.loss(X)            # test mode: (N, C) class scores, dropout off
    loss, grads = model.loss(X, y)    # train mode: scalar loss, grads keyed like model.params

``model.params`` maps names ('W1', 'b1', ...) to arrays in the model's dtype;
the Solver updates them in place of the dict. Initial weights and dropout
masks follow cs231n_lib.randomness: ``seed`` fixes both (the same masks at
every call, so a dropout model can be gradient-checked), ``rng`` draws both
from a generator that advances, and with neither they come from numpy's
global generator (``np.random.seed(231)`` before building a model
reproduces it).

- FullyConnectedNet: {affine - [batchnorm] - relu - [dropout]} x (L - 1) - affine - softmax
- TwoLayerNet: affine - relu - affine - softmax, CS231n's constructor
- ThreeLayerConvNet: conv - relu - 2x2 max pool - affine - relu - affine - softmax
- ConvNet: the lecture's general pattern
  [[CONV-RELU]*N - POOL?]*M - [FC-RELU]*K - FC, built from a list such as
  ["conv32", "conv32", "pool", "conv64", "pool", "fc100"].
"""

import math
import re

import numpy as np

from cs231n_lib.fast_layers import max_pool_backward_fast, max_pool_forward_fast
from cs231n_lib.layer_utils import (
    affine_bn_relu_backward,
    affine_bn_relu_forward,
    affine_relu_backward,
    affine_relu_forward,
    conv_relu_backward,
    conv_relu_forward,
    conv_relu_pool_backward,
    conv_relu_pool_forward,
)
from cs231n_lib.layers import (
    affine_backward,
    affine_forward,
    dropout_backward,
    dropout_forward,
    softmax_loss,
)
from cs231n_lib.randomness import derived_seed, random_source, require_seed
from cs231n_lib.shapes import FC, Conv, Pool, format_stack_table, summarize_stack
from cs231n_lib.validation import require_float_dtype, require_positive_int


def _require_non_negative(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise TypeError(f"{name} must be a number, got {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return float(value)


def _weight_scale(weight_scale, fan_in):
    """A number, or 'he' for sqrt(2 / fan_in) (He et al., for ReLU layers)."""
    if weight_scale == "he":
        return math.sqrt(2.0 / fan_in)
    if isinstance(weight_scale, bool) or not isinstance(weight_scale, (int, float, np.floating)):
        raise TypeError(f"weight_scale must be a positive number or 'he', got {weight_scale!r}")
    if weight_scale <= 0:
        raise ValueError(f"weight_scale must be positive, got {weight_scale}")
    return float(weight_scale)


class _Model:
    """What every model shares: its dtype, where its random numbers come from, L2 regularisation."""

    def __init__(self, reg, dtype, seed, rng):
        self.reg = _require_non_negative("reg", reg)
        self.dtype = require_float_dtype(dtype)
        self._init_source = random_source(seed, rng)
        self.seed = require_seed("seed", seed)
        self._rng = rng
        self.params = {}

    def _init_weight(self, shape, scale):
        return (scale * self._init_source.standard_normal(shape)).astype(self.dtype)

    def _dropout_param(self, p, mode, layer):
        """dropout_param for dropout layer ``layer``: fixed by the seed, else the rng, else global."""
        param = {"p": p, "mode": mode}
        if self.seed is not None:
            param["seed"] = derived_seed(self.seed, layer)
        elif self._rng is not None:
            param["rng"] = self._rng
        return param

    def _as_input(self, X):
        if not isinstance(X, np.ndarray):
            raise TypeError(f"X must be a numpy array, got {type(X).__name__}")
        return X.astype(self.dtype, copy=False)

    def _add_regularization(self, loss, grads):
        """loss + 0.5 * reg * sum(W**2) over weights (names starting with W), grads += reg * W."""
        if self.reg == 0:
            return loss
        for name, w in self.params.items():
            if name.startswith("W"):
                loss += 0.5 * self.reg * float(np.sum(w * w))
                grads[name] += self.reg * w
        return loss


NORMALIZATIONS = (None, "batchnorm")


class FullyConnectedNet(_Model):
    """A fully connected net with ReLUs, optional batch normalization and optional dropout.

    {affine - [batchnorm] - relu - [dropout]} x (L - 1) - affine - softmax

    Inputs:
    - hidden_dims: list of hidden layer sizes, e.g. [100, 50] (L - 1 of them)
    - input_dim: D, the size of one flattened input (X: (N, d_1, ..., d_k), D = d_1*...*d_k)
    - num_classes: C
    - dropout: probability of DROPPING a hidden unit (0 means no dropout layers)
    - use_batchnorm: True puts batch normalization after every hidden affine layer
      (the same as normalization='batchnorm')
    - reg: L2 strength; the loss adds 0.5 * reg * sum(W**2) over weights only
    - weight_scale: standard deviation of the initial weights, or 'he'
    - dtype: np.float32 for training, np.float64 for gradient checks
    - seed, rng: where the initial weights and dropout masks come from (see the
      module docstring); a seed gives the same masks at every call
    - normalization: None or 'batchnorm' (the later CS231n spelling of use_batchnorm)
    Parameters: W1 (D, H1), b1 (H1,), ..., WL (H_{L-1}, C), bL (C,); with batch
    normalization also gamma1, beta1 (H1,), ... for each hidden layer (gamma starts
    at 1 and beta at 0; neither is regularised). ``bn_params[i]`` holds hidden
    layer i + 1's running mean and variance.
    """

    def __init__(self, hidden_dims, input_dim=3 * 32 * 32, num_classes=10, dropout=0.0,
                 use_batchnorm=False, reg=0.0, weight_scale=1e-2, dtype=np.float32, seed=None,
                 *, normalization=None, rng=None):
        super().__init__(reg, dtype, seed, rng)
        dims = [require_positive_int("input_dim", input_dim)]
        dims += [require_positive_int(f"hidden_dims[{i}]", h) for i, h in enumerate(hidden_dims)]
        dims.append(require_positive_int("num_classes", num_classes))
        self.dropout = _require_non_negative("dropout", dropout)
        if self.dropout >= 1:
            raise ValueError(f"dropout = {dropout} must be below 1: it is the probability of dropping a unit")
        self.normalization = _normalization(use_batchnorm, normalization)
        self.use_batchnorm = self.normalization == "batchnorm"
        self.num_layers = len(dims) - 1
        for i, (d_in, d_out) in enumerate(zip(dims[:-1], dims[1:]), start=1):
            self.params[f"W{i}"] = self._init_weight((d_in, d_out), _weight_scale(weight_scale, d_in))
            self.params[f"b{i}"] = np.zeros(d_out, dtype=self.dtype)
            if self.use_batchnorm and i < self.num_layers:
                self.params[f"gamma{i}"] = np.ones(d_out, dtype=self.dtype)
                self.params[f"beta{i}"] = np.zeros(d_out, dtype=self.dtype)
        self.bn_params = [{"mode": "train"} for _ in range(self.num_layers - 1)] if self.use_batchnorm else []

    def loss(self, X, y=None):
        """Scores (N, C) for y None; else (loss, grads) with grads keyed like params."""
        X = self._as_input(X)
        mode = "test" if y is None else "train"
        hidden, caches = X, []
        for i in range(1, self.num_layers):
            weights = self.params[f"W{i}"], self.params[f"b{i}"]
            if self.use_batchnorm:
                bn_param = self.bn_params[i - 1]
                bn_param["mode"] = mode
                hidden, block_cache = affine_bn_relu_forward(
                    hidden, *weights, self.params[f"gamma{i}"], self.params[f"beta{i}"], bn_param)
            else:
                hidden, block_cache = affine_relu_forward(hidden, *weights)
            dropout_cache = None
            if self.dropout > 0:
                hidden, dropout_cache = dropout_forward(hidden, self._dropout_param(self.dropout, mode, i))
            caches.append((block_cache, dropout_cache))
        L = self.num_layers
        scores, last_cache = affine_forward(hidden, self.params[f"W{L}"], self.params[f"b{L}"])
        if y is None:
            return scores

        loss, dscores = softmax_loss(scores, y)
        grads = {}
        dhidden, grads[f"W{L}"], grads[f"b{L}"] = affine_backward(dscores, last_cache)
        for i in range(L - 1, 0, -1):
            block_cache, dropout_cache = caches[i - 1]
            if dropout_cache is not None:
                dhidden = dropout_backward(dhidden, dropout_cache)
            if self.use_batchnorm:
                dhidden, grads[f"W{i}"], grads[f"b{i}"], grads[f"gamma{i}"], grads[f"beta{i}"] = (
                    affine_bn_relu_backward(dhidden, block_cache))
            else:
                dhidden, grads[f"W{i}"], grads[f"b{i}"] = affine_relu_backward(dhidden, block_cache)
        return self._add_regularization(loss, grads), grads


def _normalization(use_batchnorm, normalization):
    """The one normalization asked for by CS231n's two spellings, use_batchnorm and normalization."""
    if not isinstance(use_batchnorm, (bool, np.bool_)):
        raise TypeError(f"use_batchnorm must be True or False, got {use_batchnorm!r}")
    if normalization not in NORMALIZATIONS:
        raise ValueError(
            f"normalization={normalization!r} is not available: use None or 'batchnorm' "
            "(layer normalization is not part of this course)"
        )
    return "batchnorm" if use_batchnorm else normalization


class TwoLayerNet(FullyConnectedNet):
    """affine - relu - affine - softmax, with CS231n's constructor.

    A FullyConnectedNet with one hidden layer: the same layers and the same
    ``loss``, built from CS231n's arguments.

    Inputs:
    - input_dim: D; hidden_dim: H; num_classes: C
    - weight_scale: standard deviation of the initial weights
    - reg: L2 strength on W1 and W2
    - dtype: float64 by default, as CS231n's TwoLayerNet computes
    - seed, rng: see FullyConnectedNet
    Parameters: W1 (D, H), b1 (H,), W2 (H, C), b2 (C,).
    """

    def __init__(self, input_dim=3 * 32 * 32, hidden_dim=100, num_classes=10, weight_scale=1e-3,
                 reg=0.0, dtype=np.float64, seed=None, *, rng=None):
        super().__init__([hidden_dim], input_dim=input_dim, num_classes=num_classes, reg=reg,
                         weight_scale=weight_scale, dtype=dtype, seed=seed, rng=rng)


class ThreeLayerConvNet(_Model):
    """conv - relu - 2x2 max pool - affine - relu - affine - softmax.

    The convolution has stride 1 and pad (filter_size - 1) / 2, so it keeps
    H and W; the pool halves them.

    Inputs:
    - input_dim: (C, H, W) of one image; H and W even
    - num_filters: F; filter_size: an odd HH = WW
    - hidden_dim: size of the hidden affine layer
    - num_classes, weight_scale, reg, dtype, seed, rng: as in FullyConnectedNet
    Parameters: W1 (F, C, HH, WW), b1 (F,), W2 (F*H/2*W/2, hidden_dim), b2,
    W3 (hidden_dim, num_classes), b3.
    The images need no gradient, so the first layer skips computing it.
    """

    def __init__(self, input_dim=(3, 32, 32), num_filters=32, filter_size=7, hidden_dim=100,
                 num_classes=10, weight_scale=1e-3, reg=0.0, dtype=np.float32, seed=None, *, rng=None):
        super().__init__(reg, dtype, seed, rng)
        filter_size = require_positive_int("filter_size", filter_size)
        if filter_size % 2 == 0:
            raise ValueError(
                f"filter_size {filter_size} is even: no pad keeps the size at stride 1; "
                f"use {filter_size - 1} or {filter_size + 1}"
            )
        self.conv_param = {"stride": 1, "pad": (filter_size - 1) // 2}
        self.pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
        rows = summarize_stack(
            tuple(input_dim),
            [Conv(num_filters, filter_size, pad=self.conv_param["pad"], name="CONV"), Pool(2, name="POOL"),
             FC(hidden_dim, name="FC"), FC(num_classes, name="FC")],
        )
        C = rows[0].output_shape[0]
        pooled = math.prod(rows[2].output_shape)
        self.params["W1"] = self._init_weight((num_filters, C, filter_size, filter_size), _weight_scale(weight_scale, C * filter_size**2))
        self.params["b1"] = np.zeros(num_filters, dtype=self.dtype)
        self.params["W2"] = self._init_weight((pooled, hidden_dim), _weight_scale(weight_scale, pooled))
        self.params["b2"] = np.zeros(hidden_dim, dtype=self.dtype)
        self.params["W3"] = self._init_weight((hidden_dim, num_classes), _weight_scale(weight_scale, hidden_dim))
        self.params["b3"] = np.zeros(num_classes, dtype=self.dtype)

    def loss(self, X, y=None):
        """Scores (N, C) for y None; else (loss, grads) with grads keyed like params."""
        X = self._as_input(X)
        p = self.params
        pooled, conv_cache = conv_relu_pool_forward(X, p["W1"], p["b1"], self.conv_param, self.pool_param)
        hidden, hidden_cache = affine_relu_forward(pooled, p["W2"], p["b2"])
        scores, scores_cache = affine_forward(hidden, p["W3"], p["b3"])
        if y is None:
            return scores

        loss, dscores = softmax_loss(scores, y)
        grads = {}
        dhidden, grads["W3"], grads["b3"] = affine_backward(dscores, scores_cache)
        dpooled, grads["W2"], grads["b2"] = affine_relu_backward(dhidden, hidden_cache)
        _, grads["W1"], grads["b1"] = conv_relu_pool_backward(dpooled, conv_cache, compute_dx=False)
        return self._add_regularization(loss, grads), grads


_LAYER_SPEC = re.compile(r"^(?:conv(?P<filters>\d+)(?:x(?P<size>\d+))?|(?P<pool>pool)|fc(?P<units>\d+))$")


def parse_layers(layers):
    """['conv32', 'conv64x5', 'pool', 'fc100'] -> Conv / Pool / FC descriptors.

    - 'convF': F filters of 3x3, stride 1, pad 1 (the size is kept), then ReLU
    - 'convFxK': F filters of KxK (K odd), pad (K-1)/2, then ReLU
    - 'pool': 2x2 max pool, stride 2
    - 'fcH': affine to H units, then ReLU
    The order must follow [[CONV-RELU]*N - POOL?]*M - [FC-RELU]*K.
    """
    descriptors, seen_fc = [], False
    for i, spec in enumerate(layers):
        match = _LAYER_SPEC.match(str(spec).strip().lower()) if isinstance(spec, str) else None
        if match is None:
            raise ValueError(
                f"layers[{i}] = {spec!r} is not a layer: use 'conv32' (32 3x3 filters), "
                "'conv32x5' (5x5 filters), 'pool' (2x2 max pool) or 'fc100' (100 hidden units)"
            )
        if match["units"]:
            seen_fc = True
            descriptors.append(FC(int(match["units"]), name=f"FC{i + 1}"))
            continue
        if seen_fc:
            raise ValueError(
                f"layers[{i}] = {spec!r} comes after a fully connected layer: the pattern is "
                "[[CONV-RELU]*N - POOL?]*M - [FC-RELU]*K - FC, so convs and pools come first"
            )
        if match["pool"]:
            descriptors.append(Pool(2, name=f"POOL{i + 1}"))
            continue
        size = int(match["size"] or 3)
        if size % 2 == 0:
            raise ValueError(f"layers[{i}] = {spec!r}: filter size {size} is even; use an odd size so pad (K-1)/2 keeps H and W")
        descriptors.append(Conv(int(match["filters"]), size, pad=(size - 1) // 2, name=f"CONV{i + 1}"))
    return descriptors


class ConvNet(_Model):
    """The lecture's general pattern, built from a list of layer names.

    [[CONV-RELU]*N - POOL?]*M - [FC-RELU]*K - FC - softmax

    Inputs:
    - layers: e.g. ["conv32", "conv32", "pool", "conv64", "pool", "fc100"]
      (see parse_layers); the last FC to num_classes is added for you
    - input_dim: (C, H, W) of one image
    - num_classes, reg, dtype, seed, rng: as in FullyConnectedNet
    - weight_scale: 'he' (default: sqrt(2 / fan_in), which keeps activations
      from shrinking in deep ReLU nets) or a number
    Parameters: W1, b1, W2, b2, ... numbered over the conv and FC layers in
    order (pools have none). ``describe()`` tabulates the volumes and costs.
    """

    def __init__(self, layers, input_dim=(3, 32, 32), num_classes=10, weight_scale="he",
                 reg=0.0, dtype=np.float32, seed=None, *, rng=None):
        super().__init__(reg, dtype, seed, rng)
        self.input_dim = tuple(input_dim)
        descriptors = parse_layers(layers) + [FC(num_classes, name="SCORES")]
        self.rows = summarize_stack(self.input_dim, descriptors)
        self.layers = []  # (kind, parameter index or None) in forward order
        index = 0
        for descriptor, row in zip(descriptors, self.rows[1:]):
            if isinstance(descriptor, Pool):
                self.layers.append(("pool", None))
                continue
            index += 1
            fan_in = math.prod(row.input_shape) if isinstance(descriptor, FC) else row.input_shape[0] * descriptor.size**2
            if isinstance(descriptor, Conv):
                shape = (descriptor.num_filters, row.input_shape[0], descriptor.size, descriptor.size)
                self.layers.append(("conv", index))
            else:
                shape = (math.prod(row.input_shape), descriptor.num_outputs)
                self.layers.append(("fc", index))
            self.params[f"W{index}"] = self._init_weight(shape, _weight_scale(weight_scale, fan_in))
            self.params[f"b{index}"] = np.zeros(shape[0] if isinstance(descriptor, Conv) else shape[1], dtype=self.dtype)
        self.layers[-1] = ("scores", index)
        self._conv_params = {
            i: {"stride": 1, "pad": (self.params[f"W{i}"].shape[2] - 1) // 2}
            for kind, i in self.layers if kind == "conv"
        }
        self._pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}

    def describe(self):
        """A table of each layer's output volume, parameters and multiply-adds."""
        return format_stack_table(self.rows)

    def loss(self, X, y=None):
        """Scores (N, C) for y None; else (loss, grads) with grads keyed like params."""
        out = self._as_input(X)
        caches = []
        for kind, i in self.layers:
            if kind == "conv":
                out, cache = conv_relu_forward(out, self.params[f"W{i}"], self.params[f"b{i}"], self._conv_params[i])
            elif kind == "pool":
                out, cache = max_pool_forward_fast(out, self._pool_param)
            elif kind == "fc":
                out, cache = affine_relu_forward(out, self.params[f"W{i}"], self.params[f"b{i}"])
            else:
                out, cache = affine_forward(out, self.params[f"W{i}"], self.params[f"b{i}"])
            caches.append(cache)
        if y is None:
            return out

        loss, dout = softmax_loss(out, y)
        grads = {}
        for position in range(len(self.layers) - 1, -1, -1):
            (kind, i), cache = self.layers[position], caches[position]
            first = position == 0
            if kind == "conv":
                dout, grads[f"W{i}"], grads[f"b{i}"] = conv_relu_backward(dout, cache, compute_dx=not first)
            elif kind == "pool":
                dout = None if first else max_pool_backward_fast(dout, cache)
            elif kind == "fc":
                dout, grads[f"W{i}"], grads[f"b{i}"] = affine_relu_backward(dout, cache)
            else:
                dout, grads[f"W{i}"], grads[f"b{i}"] = affine_backward(dout, cache)
        return self._add_regularization(loss, grads), grads
