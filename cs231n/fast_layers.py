"""CS231n's ``cs231n.fast_layers``, re-exported from cs231n_lib.fast_layers.

The fast layers here are pure numpy: nothing to compile (the course's need
its Cython extension built first).

Not provided: ``conv_forward_im2col/conv_backward_im2col``,
``conv_forward_strides/conv_backward_strides``,
``max_pool_forward_reshape/max_pool_backward_reshape`` and
``max_pool_forward_im2col/max_pool_backward_im2col``. They name the course's
separate implementation strategies (one of them its Cython im2col), between
which its ``*_fast`` functions choose; the library has one fast
implementation of each layer, ``conv_*_fast`` and ``max_pool_*_fast``, which
are what the notebooks call.
"""

from cs231n_lib.fast_layers import (
    conv_backward_fast,
    conv_forward_fast,
    max_pool_backward_fast,
    max_pool_forward_fast,
)

__all__ = [
    "conv_backward_fast",
    "conv_forward_fast",
    "max_pool_backward_fast",
    "max_pool_forward_fast",
]
