"""CS231n's ``cs231n.layer_utils``: the sandwich layers, re-exported from cs231n_lib.layer_utils.

Unlike the course's module, this one does not also re-export every layer of
``cs231n.layers`` and ``cs231n.fast_layers``: import those from there.
"""

from cs231n_lib.layer_utils import (
    affine_relu_backward,
    affine_relu_forward,
    conv_bn_relu_backward,
    conv_bn_relu_forward,
    conv_relu_backward,
    conv_relu_forward,
    conv_relu_pool_backward,
    conv_relu_pool_forward,
)

__all__ = [
    "affine_relu_backward",
    "affine_relu_forward",
    "conv_bn_relu_backward",
    "conv_bn_relu_forward",
    "conv_relu_backward",
    "conv_relu_forward",
    "conv_relu_pool_backward",
    "conv_relu_pool_forward",
]
