"""Frozen copy of cs231n_lib/fast_layers.py as of 276c200 (before issue 15), for `make bench` only.

benchmarks.layer_processes times it beside the current fast layers, in the
same run, so the README can show the before and after side by side. It is
not imported by the library or the tests, and never ships to students.
"""

import numpy as np

from cs231n_lib.shapes import conv_geometry, pool_geometry
from cs231n_lib.validation import as_float_array, require_dout

BLOCK_BYTES = 8 * 2**20
KEEP_COLS_BYTES = 256 * 2**20


class Workspace:
    """Spare arrays, lent to a layer's forward pass and returned by its backward pass."""

    def __init__(self):
        self._spare = []

    def borrow(self, shape, dtype):
        """An uninitialised array of ``shape`` and ``dtype``: a spare one if there is one."""
        for i, array in enumerate(self._spare):
            if array.shape == shape and array.dtype == dtype:
                return self._spare.pop(i)
        return np.empty(shape, dtype=dtype)

    def give_back(self, arrays):
        """Return arrays for later calls; the caller must not use them afterwards."""
        self._spare.extend(arrays)

    def __getstate__(self):
        # Spare memory is not worth saving: a checkpointed model pickles an empty workspace.
        return {"_spare": []}


def _workspace(conv_param):
    workspace = conv_param.get("workspace")
    if workspace is not None and not isinstance(workspace, Workspace):
        raise TypeError(
            f"conv_param['workspace'] must be a cs231n_lib.fast_layers.Workspace, got {type(workspace).__name__}"
        )
    return workspace


def _images_per_block(g, itemsize):
    per_image = g.C * g.HH * g.WW * g.H_out * g.W_out * itemsize
    return max(1, min(g.N, BLOCK_BYTES // per_image))


def _blocks(g, itemsize):
    """Slices of the batch, each a block of images."""
    step = _images_per_block(g, itemsize)
    return [slice(start, min(start + step, g.N)) for start in range(0, g.N, step)]


def _pad_channels_first(x, pad, dtype):
    """x: (N, C, H, W) -> zero-padded (C, N, H + 2*pad, W + 2*pad) copy.

    Channels first, so every slice taken by im2col and col2im is a plain
    strided view, never a transpose.
    """
    N, C, H, W = x.shape
    padded = np.zeros((C, N, H + 2 * pad, W + 2 * pad), dtype=dtype)
    padded[:, :, pad:pad + H, pad:pad + W] = x.transpose(1, 0, 2, 3)
    return padded


def _offset_views(padded, g, images):
    """Yield (a, b, view): what filter offset (a, b) sees of the padded ``images``.

    view: (C, images, H', W'), view[c, n, i, j] = padded[c, n, a + S*i, b + S*j]
    """
    S = g.stride
    rows = S * (g.H_out - 1) + 1
    cols = S * (g.W_out - 1) + 1
    block = padded[:, images]
    for a in range(g.HH):
        for b in range(g.WW):
            yield a, b, block[:, :, a:a + rows:S, b:b + cols:S]


def _im2col(padded, g, images, workspace=None):
    """Receptive fields of ``images``: cols (C, HH, WW, images, H', W').

    cols.reshape(C*HH*WW, -1) is the matrix that multiplies the filters.
    """
    count = images.stop - images.start
    shape = (g.C, g.HH, g.WW, count, g.H_out, g.W_out)
    cols = workspace.borrow(shape, padded.dtype) if workspace else np.empty(shape, dtype=padded.dtype)
    for a, b, view in _offset_views(padded, g, images):
        cols[:, a, b] = view
    return cols


def _matrix(cols):
    """(C, HH, WW, images, H', W') -> (C*HH*WW, images * H'*W'), a view."""
    C, HH, WW = cols.shape[:3]
    return cols.reshape(C * HH * WW, -1)


def _col2im_add(dcols, dpadded, g, images):
    """Add the (C*HH*WW, images * H'*W') gradient ``dcols`` into ``dpadded``: the adjoint of _im2col."""
    dcols = dcols.reshape(g.C, g.HH, g.WW, images.stop - images.start, g.H_out, g.W_out)
    # Windows overlap when S < HH or S < WW: this must add, never assign.
    for a, b, view in _offset_views(dpadded, g, images):
        view += dcols[:, a, b]


def conv_forward_fast(x, w, b, conv_param):
    """Convolution forward pass by im2col and one matrix multiply per block of images.

    Inputs:
    - x: (N, C, H, W) input images
    - w: (F, C, HH, WW) filter weights
    - b: (F,) biases
    - conv_param: {'stride': S, 'pad': P}
    Returns (out, cache): out is (N, F, H', W') with H' = 1 + (H + 2P - HH) / S,
    W' = 1 + (W + 2P - WW) / S, in the dtype of x, w and b (float32 stays float32).
    """
    x = as_float_array("x", x, ndim=4)
    w = as_float_array("w", w, ndim=4)
    b = as_float_array("b", b, ndim=1)
    g = conv_geometry(x.shape, w.shape, conv_param, b.shape)
    dtype = np.result_type(x, w, b)
    padded = _pad_channels_first(x, g.pad, dtype)
    w_rows = w.reshape(g.F, -1).astype(dtype, copy=False)
    keep = g.N * g.C * g.HH * g.WW * g.H_out * g.W_out * dtype.itemsize <= KEEP_COLS_BYTES
    blocks = _blocks(g, dtype.itemsize)
    kept_cols = []
    out = np.empty(g.out_shape, dtype=dtype)
    bias = b.reshape(1, -1, 1, 1)
    workspace = _workspace(conv_param) if keep else None
    for images in blocks:
        cols = _im2col(padded, g, images, workspace)
        out_rows = w_rows @ _matrix(cols)  # (F, images * H'*W')
        # Back to (images, F, H', W') and the bias added, in one pass.
        np.add(out_rows.reshape(g.F, -1, g.H_out, g.W_out).transpose(1, 0, 2, 3), bias, out=out[images])
        if keep:
            kept_cols.append(cols)
    cache = (x, w, b, conv_param, padded, blocks, kept_cols if keep else None)
    return out, cache


def conv_backward_fast(dout, cache, compute_dx=True):
    """Convolution backward pass (im2col and col2im).

    Inputs:
    - dout: (N, F, H', W') upstream gradient
    - cache: from conv_forward_fast
    - compute_dx: False skips the input gradient (dx is returned as None),
      for a first layer whose input is data that needs no gradient.
    Returns (dx, dw, db) shaped like x (N, C, H, W), w (F, C, HH, WW), b (F,).
    With conv_param['workspace'], the buffers go back to it: run the backward
    pass of a cache once.
    """
    x, w, b, conv_param, padded, blocks, kept_cols = cache
    g = conv_geometry(x.shape, w.shape, conv_param, b.shape)
    dout = require_dout(dout, g.out_shape)
    dtype = np.result_type(padded, dout)
    w_rows = w.reshape(g.F, -1).astype(dtype, copy=False)
    dw_rows = np.zeros((g.F, g.C * g.HH * g.WW), dtype=dtype)
    db = np.zeros(g.F, dtype=dout.dtype)
    dpadded = np.zeros(padded.shape, dtype=dtype) if compute_dx else None
    for k, images in enumerate(blocks):
        cols = _matrix(kept_cols[k] if kept_cols is not None else _im2col(padded, g, images))
        # (F, images * H'*W'), in the column order of cols.
        dout_rows = dout[images].transpose(1, 0, 2, 3).reshape(g.F, -1)
        db += dout_rows.sum(axis=1)
        dw_rows += dout_rows @ cols.T
        if compute_dx:
            _col2im_add(w_rows.T @ dout_rows, dpadded, g, images)
    workspace = _workspace(conv_param)
    if workspace is not None and kept_cols is not None:
        workspace.give_back(kept_cols)
    dw = dw_rows.reshape(w.shape)
    if not compute_dx:
        return None, dw, db
    P = g.pad
    dx = dpadded[:, :, P:P + g.H, P:P + g.W].transpose(1, 0, 2, 3).copy()
    return dx, dw, db


def max_pool_forward_fast(x, pool_param):
    """Max-pooling forward pass, separable: a max across each row, then down the columns.

    Inputs:
    - x: (N, C, H, W) input
    - pool_param: {'pool_height': PH, 'pool_width': PW, 'stride': S}
    Returns (out, cache): out is (N, C, H', W') with H' = 1 + (H - PH) / S and
    W' = 1 + (W - PW) / S.

    The width pass takes, for every input row, the max over each window's
    PW columns (and which column held it); the height pass takes the max of
    those over each window's PH rows. Ties go to the first maximum in
    row-major order, as in the naive layer (NaN inputs give NaN outputs, but
    their gradient may be routed differently). Each pass is a few
    whole-array operations per window offset.
    """
    x = as_float_array("x", x, ndim=4)
    g = pool_geometry(x.shape, pool_param)
    row_max, best_col = _running_max(_offset_slices(x, 3, g.pool_width, g.stride, g.W_out))
    out, best_row = _running_max(_offset_slices(row_max, 2, g.pool_height, g.stride, g.H_out))
    return out, (x, pool_param, best_row, best_col)


def max_pool_backward_fast(dout, cache):
    """Max-pooling backward pass: each dout goes to its window's maximum.

    Inputs:
    - dout: (N, C, H', W') upstream gradient
    - cache: from max_pool_forward_fast
    Returns dx: (N, C, H, W); overlapping windows add up their gradients.
    """
    x, pool_param, best_row, best_col = cache
    g = pool_geometry(x.shape, pool_param)
    dout = require_dout(dout, g.out_shape)
    dtype = np.result_type(x, dout)
    d_row_max = _route_back(dout, best_row, (g.N, g.C, g.H, g.W_out), 2, g.pool_height, g.stride, dtype)
    return _route_back(d_row_max, best_col, x.shape, 3, g.pool_width, g.stride, dtype)


def _offset_slices(a, axis, window, stride, count):
    """Views of ``a`` along ``axis``: the k-th holds element k of each of ``count`` windows."""
    span = stride * (count - 1) + 1
    index = [slice(None)] * a.ndim
    for k in range(window):
        index[axis] = slice(k, k + span, stride)
        yield a[tuple(index)]


def _running_max(views):
    """Elementwise max over equally shaped views, and the index of the first view holding it.

    Strictly-greater updates keep the first maximum on ties. The index is the
    last view that raised the max, i.e. the largest k * (view k raised it).
    """
    views = list(views)
    best = views[0]
    index = np.zeros(best.shape, dtype=np.min_scalar_type(len(views) - 1))
    for k, view in enumerate(views[1:], start=1):
        raised = view > best
        best = np.maximum(best, view) if k == 1 else np.maximum(best, view, out=best)
        np.maximum(index, raised.view(np.uint8) * index.dtype.type(k), out=index)
    return (best.copy() if len(views) == 1 else best), index


def _route_back(dout, index, shape, axis, window, stride, dtype):
    """Send each dout to the offset ``index`` chose along ``axis``: the adjoint of _running_max."""
    count = dout.shape[axis]
    tiles = window == stride and shape[axis] == count * window
    # Windows that tile the axis write each input once: no zero fill, no +=.
    d_input = np.empty(shape, dtype=dtype) if tiles else np.zeros(shape, dtype=dtype)
    for k, view in enumerate(_offset_slices(d_input, axis, window, stride, count)):
        if tiles:
            np.multiply(dout, index == k, out=view)
        else:
            view += dout * (index == k)
    return d_input
