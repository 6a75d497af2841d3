"""CS231n's ``cs231n.layers``: the naive layers, re-exported from cs231n_lib.layers.

Not provided: ``layernorm_forward``, ``layernorm_backward``,
``spatial_groupnorm_forward`` and ``spatial_groupnorm_backward`` (later years'
assignment 2): the library has no layer or group normalization.

Note: dropout's ``p`` is the probability of dropping a unit, as in the
spring-2017 assignment and torch.nn.Dropout; from 2018 on, the course's code
uses it as the probability of keeping one (pass 1 - p).
"""

from cs231n_lib.layers import (
    affine_backward,
    affine_forward,
    batchnorm_backward,
    batchnorm_backward_alt,
    batchnorm_forward,
    conv_backward_naive,
    conv_forward_naive,
    dropout_backward,
    dropout_forward,
    max_pool_backward_naive,
    max_pool_forward_naive,
    relu_backward,
    relu_forward,
    softmax_loss,
    spatial_batchnorm_backward,
    spatial_batchnorm_forward,
    svm_loss,
)

__all__ = [
    "affine_backward",
    "affine_forward",
    "batchnorm_backward",
    "batchnorm_backward_alt",
    "batchnorm_forward",
    "conv_backward_naive",
    "conv_forward_naive",
    "dropout_backward",
    "dropout_forward",
    "max_pool_backward_naive",
    "max_pool_forward_naive",
    "relu_backward",
    "relu_forward",
    "softmax_loss",
    "spatial_batchnorm_backward",
    "spatial_batchnorm_forward",
    "svm_loss",
]
