"""The layer shapes the speed benchmarks time, shared by every process that times them.

No library is imported here but numpy, so a process that times PyTorch
holds no thread pool of ours and the other way round.
"""

import numpy as np

# name: (x shape, w shape, stride, pad)
CONV_SHAPES = {
    "A": ((50, 3, 32, 32), (32, 3, 7, 7), 1, 3),
    "B": ((64, 32, 16, 16), (64, 32, 3, 3), 1, 1),
    "C": ((128, 1, 8, 8), (16, 1, 3, 3), 1, 1),
    "D": ((100, 3, 31, 31), (25, 3, 3, 3), 2, 1),
}
# name: (x shape, pool size, stride)
POOL_SHAPES = {"pool": ((50, 32, 32, 32), 2, 2)}
DTYPES = ("float32", "float64")


def conv_arrays(name, dtype, seed=0):
    """(x, w, b, dout, stride, pad) of conv case ``name``: the same numbers in every process."""
    x_shape, w_shape, stride, pad = CONV_SHAPES[name]
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal(w_shape).astype(dtype)
    b = rng.standard_normal(w_shape[0]).astype(dtype)
    N, _, H, W = x_shape
    F, _, HH, WW = w_shape
    out_shape = (N, F, (H + 2 * pad - HH) // stride + 1, (W + 2 * pad - WW) // stride + 1)
    dout = rng.standard_normal(out_shape).astype(dtype)
    return x, w, b, dout, stride, pad


def pool_arrays(name, dtype, seed=0):
    """(x, dout, size, stride) of pool case ``name``."""
    x_shape, size, stride = POOL_SHAPES[name]
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(x_shape).astype(dtype)
    N, C, H, W = x_shape
    dout = rng.standard_normal((N, C, (H - size) // stride + 1, (W - size) // stride + 1)).astype(dtype)
    return x, dout, size, stride


def all_cases():
    """[(kind, name, dtype)] in the order the benchmarks report them."""
    return [(kind, name, dtype) for dtype in DTYPES
            for kind, names in (("conv", CONV_SHAPES), ("pool", POOL_SHAPES)) for name in names]
