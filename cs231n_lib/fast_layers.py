"""Fast convolution and max pooling in pure numpy, with the naive layers' contract.

Same signatures, validation and results as ``conv_forward_naive`` and friends,
so a notebook switches with one line. No compiled code.

Convolution as one matrix multiply (im2col). For filters w: (F, C, HH, WW)
and L = H' * W' output positions per image, gather every receptive field of
the padded input into a matrix ``cols`` of shape (C*HH*WW, images*L); then

    out = w.reshape(F, C*HH*WW) @ cols.

``cols`` is filled by HH*WW strided slice copies (one per filter offset), not
by a Python loop over positions. The backward pass runs it in reverse:
dw = dout @ cols.T, and the input gradient scatters w.T @ dout back with HH*WW
strided additions (col2im).

Two refinements. ``cols`` has one more row, all ones, and the filter matrix
one more column, the biases: the forward product adds the bias, and the
backward product that gives dw gives db in its last row. When an image has
at least ``PER_IMAGE_POSITIONS`` (512) output positions, each image's columns
are multiplied on their own, straight into that image's (F, H', W') output;
below that, one product per block and a pass that reorders it into
(N, F, H', W') are faster (products of a few hundred columns run slowly).

Memory: ``cols`` holds (C*HH*WW + 1)*L values per image (a 7x7x3 filter on a
32x32 image: 148 * 1024 values, 1.2 MiB in float64). The batch is processed
in blocks of images whose ``cols`` fill about ``BLOCK_BYTES`` (8 MiB), so
each block is multiplied while it is still in cache. The forward pass keeps
every block's ``cols`` for the backward pass while the whole batch's take at
most ``KEEP_COLS_BYTES`` (256 MiB); above that the backward pass rebuilds
them block by block, and memory stays at one block.

Scratch memory (the padded input, ``cols``, the matrix products and their
gradients) comes from ``buffer_pool``, a bounded pool shared by every call
(see cs231n_lib.buffer_pool): training calls the same layers with the same
shapes step after step, and memory taken fresh every time costs page faults.
A forward pass's ``cols`` go back to the pool when its backward pass is done
with them, so memory a pending backward still needs is never lent out.
``release_buffers()`` gives the pool's memory back to the system.
"""

import threading

import numpy as np

from cs231n_lib.buffer_pool import BufferPool
from cs231n_lib.shapes import conv_geometry, pool_geometry
from cs231n_lib.validation import as_float_array, require_dout

BLOCK_BYTES = 8 * 2**20
KEEP_COLS_BYTES = 256 * 2**20
PER_IMAGE_POSITIONS = 512

buffer_pool = BufferPool()
_claim_lock = threading.Lock()


class Workspace(BufferPool):
    """A pool of one's own: ``conv_param['workspace'] = Workspace()`` keeps a layer's scratch apart.

    The fast layers use ``buffer_pool`` without it. A private pool is for a
    caller who wants to bound or release one model's memory on its own; it
    also keeps checkpoints pickled with earlier versions loading.
    """


def release_buffers():
    """Give the shared pool's spare scratch memory back; returns the number of bytes."""
    return buffer_pool.release()


def _pool(conv_param):
    workspace = conv_param.get("workspace")
    if workspace is None:
        return buffer_pool
    if not isinstance(workspace, BufferPool):
        raise TypeError(
            "conv_param['workspace'] must be a cs231n_lib.fast_layers.Workspace (or leave it out to "
            f"use the shared pool), got {type(workspace).__name__}"
        )
    return workspace


def _claim(held):
    """Take every array out of the cache's list at once, so two backward passes never share one."""
    with _claim_lock:
        claimed = list(held)
        held.clear()
    return claimed


def _cols_bytes_per_image(g, itemsize):
    """Bytes of one image's columns of the im2col matrix (C*HH*WW rows and the row of ones)."""
    return (g.C * g.HH * g.WW + 1) * g.H_out * g.W_out * itemsize


def _images_per_block(g, itemsize):
    return max(1, min(g.N, BLOCK_BYTES // _cols_bytes_per_image(g, itemsize)))


def _blocks(g, itemsize):
    """Slices of the batch, each a block of images."""
    step = _images_per_block(g, itemsize)
    return [slice(start, min(start + step, g.N)) for start in range(0, g.N, step)]


def _pad_channels_first(x, pad, dtype, pool):
    """x: (N, C, H, W) -> zero-padded (C, N, H + 2*pad, W + 2*pad) copy, taken from ``pool``.

    Channels first, so every slice taken by im2col and col2im is a plain
    strided view, never a transpose.
    """
    N, C, H, W = x.shape
    padded = pool.take((C, N, H + 2 * pad, W + 2 * pad), dtype)
    if pad:
        padded[:, :, :pad] = 0
        padded[:, :, pad + H:] = 0
        padded[:, :, pad:pad + H, :pad] = 0
        padded[:, :, pad:pad + H, pad + W:] = 0
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


def _im2col(padded, g, images, pool):
    """Receptive fields of ``images``: cols (C*HH*WW + 1, images * H'*W'), taken from ``pool``.

    Row (c, a, b) holds what weight w[:, c, a, b] multiplies at each output
    position, the columns in (image, i, j) order. The last row is ones: the
    bias rides along in the forward product, and the backward product's last
    row is db.
    """
    count = images.stop - images.start
    K = g.C * g.HH * g.WW
    cols = pool.take((K + 1, count * g.H_out * g.W_out), padded.dtype)
    fields = cols[:K].reshape(g.C, g.HH, g.WW, count, g.H_out, g.W_out)
    for a, b, view in _offset_views(padded, g, images):
        fields[:, a, b] = view
    cols[K] = 1
    return cols


def _by_image(matrix, count):
    """(rows, count * L) -> (count, rows, L): the matrix of each image, a view."""
    return matrix.reshape(matrix.shape[0], count, -1).transpose(1, 0, 2)


def _per_image(g):
    """True: one product per image, written straight into the output.

    With many output positions per image that is faster than one product per
    block followed by a pass that reorders it into (N, F, H', W'); with few,
    the products are too small for BLAS to run at speed (measured here:
    faster for 32x32 outputs, slower for 16x16).
    """
    return g.H_out * g.W_out >= PER_IMAGE_POSITIONS


def _col2im_add(dcols, dpadded, g, images):
    """Add the (C*HH*WW, images * H'*W') gradient ``dcols`` into ``dpadded``: the adjoint of _im2col."""
    dcols = dcols.reshape(g.C, g.HH, g.WW, images.stop - images.start, g.H_out, g.W_out)
    # Windows overlap when S < HH or S < WW: this must add, never assign.
    for a, b, view in _offset_views(dpadded, g, images):
        view += dcols[:, a, b]


def _product(a, b, pool):
    """a @ b written into an array taken from ``pool``."""
    return np.matmul(a, b, out=pool.take((a.shape[0], b.shape[1]), np.result_type(a, b)))


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
    return _conv_forward(x, w, b, conv_param, out_from_pool=False)


def _conv_forward(x, w, b, conv_param, out_from_pool):
    """conv_forward_fast; with ``out_from_pool`` its output is taken from ``buffer_pool``.

    For a caller that uses the output only for a moment and then gives it back
    (conv_relu_pool_forward pools it straight away).
    """
    x = as_float_array("x", x, ndim=4)
    w = as_float_array("w", w, ndim=4)
    b = as_float_array("b", b, ndim=1)
    g = conv_geometry(x.shape, w.shape, conv_param, b.shape)
    pool = _pool(conv_param)
    dtype = np.result_type(x, w, b)
    padded = _pad_channels_first(x, g.pad, dtype, pool)
    K = g.C * g.HH * g.WW
    w_and_b = np.empty((g.F, K + 1), dtype=dtype)  # [w_rows | b], for cols' row of ones
    w_and_b[:, :K] = w.reshape(g.F, K)
    w_and_b[:, K] = b
    keep = g.N * _cols_bytes_per_image(g, dtype.itemsize) <= KEEP_COLS_BYTES
    per_image = _per_image(g)
    blocks = _blocks(g, dtype.itemsize)
    kept_cols = []
    out = buffer_pool.take(g.out_shape, dtype) if out_from_pool else np.empty(g.out_shape, dtype=dtype)
    for images in blocks:
        count = images.stop - images.start
        cols = _im2col(padded, g, images, pool)
        out_images = out[images].reshape(count, g.F, -1)  # (images, F, H'*W'), a view
        if per_image:
            np.matmul(w_and_b, _by_image(cols, count), out=out_images)
        else:
            out_rows = _product(w_and_b, cols, pool)  # (F, images * H'*W')
            np.copyto(out_images, _by_image(out_rows, count))
            pool.give_back([out_rows])
        if keep:
            kept_cols.append(cols)
        else:
            pool.give_back([cols])
    if keep:
        # The backward pass needs only the kept cols, so the padded copy goes back now.
        pool.give_back([padded])
        held = [None, *kept_cols]
    else:
        held = [padded]
    # ``held`` is the scratch a backward pass takes over (and gives back to the pool).
    cache = (x, w, b, conv_param, blocks, held)
    return out, cache


def conv_backward_fast(dout, cache, compute_dx=True):
    """Convolution backward pass (im2col and col2im).

    Inputs:
    - dout: (N, F, H', W') upstream gradient
    - cache: from conv_forward_fast
    - compute_dx: False skips the input gradient (dx is returned as None),
      for a first layer whose input is data that needs no gradient.
    Returns (dx, dw, db) shaped like x (N, C, H, W), w (F, C, HH, WW), b (F,).
    The forward pass's scratch memory goes back to the pool; running the
    backward pass of one cache again gives the same result (it rebuilds it).
    """
    x, w, b, conv_param, blocks, held = cache
    g = conv_geometry(x.shape, w.shape, conv_param, b.shape)
    dout = require_dout(dout, g.out_shape)
    pool = _pool(conv_param)
    forward_dtype = np.result_type(x, w, b)
    dtype = np.result_type(forward_dtype, dout)
    claimed = _claim(held)
    padded = claimed[0] if claimed else None
    kept_cols = claimed[1:]
    if not kept_cols and padded is None:
        padded = _pad_channels_first(x, g.pad, forward_dtype, pool)
    w_rows = w.reshape(g.F, -1).astype(dtype, copy=False)
    K = g.C * g.HH * g.WW
    # cols @ dout_rows.T: dw_rows.T, then db from the row of ones. This orientation,
    # not dout_rows @ cols.T, because OpenBLAS runs it 25-35% faster here in float32.
    dw_and_db = np.zeros((K + 1, g.F), dtype=dtype)
    per_image = _per_image(g)
    dpadded = None
    if compute_dx:
        dpadded = pool.take((g.C, g.N, g.H + 2 * g.pad, g.W + 2 * g.pad), dtype)
        dpadded.fill(0)
    for k, images in enumerate(blocks):
        cols = kept_cols[k] if kept_cols else _im2col(padded, g, images, pool)
        count = images.stop - images.start
        dout_images = dout[images].reshape(count, g.F, -1)  # (images, F, H'*W')
        if per_image:
            products = pool.take((count, K + 1, g.F), dtype)
            np.matmul(_by_image(cols, count), dout_images.transpose(0, 2, 1), out=products)
            dw_and_db += products.sum(axis=0)
            pool.give_back([products])
        if compute_dx or not per_image:
            # (F, images * H'*W'), in the column order of cols.
            dout_rows = pool.take((g.F, count * g.H_out * g.W_out), dtype)
            np.copyto(_by_image(dout_rows, count), dout_images)
            if not per_image:
                dw_and_db += cols @ dout_rows.T
            if compute_dx:
                dcols = _product(w_rows.T, dout_rows, pool)
                _col2im_add(dcols, dpadded, g, images)
                pool.give_back([dcols])
            pool.give_back([dout_rows])
        if not kept_cols:
            pool.give_back([cols])
    pool.give_back(kept_cols + ([padded] if padded is not None else []))
    dw = np.ascontiguousarray(dw_and_db[:K].T).reshape(w.shape)
    db = dw_and_db[K].astype(dout.dtype)
    if not compute_dx:
        return None, dw, db
    P = g.pad
    dx = dpadded[:, :, P:P + g.H, P:P + g.W].transpose(1, 0, 2, 3).copy()
    pool.give_back([dpadded])
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
    row_max = buffer_pool.take((g.N, g.C, g.H, g.W_out), x.dtype)
    best_col = _running_max(_offset_slices(x, 3, g.pool_width, g.stride, g.W_out), row_max)
    out = np.empty(g.out_shape, dtype=x.dtype)
    best_row = _running_max(_offset_slices(row_max, 2, g.pool_height, g.stride, g.H_out), out)
    buffer_pool.give_back([row_max])
    # Only x's shape and dtype are needed later, so the cache does not keep x alive.
    return out, (x.shape, x.dtype, pool_param, best_row, best_col)


def max_pool_backward_fast(dout, cache):
    """Max-pooling backward pass: each dout goes to its window's maximum.

    Inputs:
    - dout: (N, C, H', W') upstream gradient
    - cache: from max_pool_forward_fast
    Returns dx: (N, C, H, W); overlapping windows add up their gradients.
    """
    return _max_pool_backward(dout, cache, dx_from_pool=False)


def _max_pool_backward(dout, cache, dx_from_pool):
    """max_pool_backward_fast; with ``dx_from_pool`` dx is taken from ``buffer_pool`` (see _conv_forward)."""
    x_shape, x_dtype, pool_param, best_row, best_col = cache
    g = pool_geometry(x_shape, pool_param)
    dout = require_dout(dout, g.out_shape)
    dtype = np.result_type(x_dtype, dout)
    d_row_max = buffer_pool.take((g.N, g.C, g.H, g.W_out), dtype)
    _route_back(dout, best_row, d_row_max, 2, g.pool_height, g.stride)
    dx = buffer_pool.take(x_shape, dtype) if dx_from_pool else np.empty(x_shape, dtype=dtype)
    _route_back(d_row_max, best_col, dx, 3, g.pool_width, g.stride)
    buffer_pool.give_back([d_row_max])
    return dx


def _offset_slices(a, axis, window, stride, count):
    """Views of ``a`` along ``axis``: the k-th holds element k of each of ``count`` windows."""
    span = stride * (count - 1) + 1
    index = [slice(None)] * a.ndim
    for k in range(window):
        index[axis] = slice(k, k + span, stride)
        yield a[tuple(index)]


def _running_max(views, best):
    """Elementwise max over equally shaped views, written into ``best``; returns which view held it.

    Strictly-greater updates keep the first maximum on ties. The index is the
    last view that raised the max, i.e. the largest k * (view k raised it).
    Scratch comes from ``buffer_pool``.
    """
    views = list(views)
    index = np.empty(best.shape, dtype=np.min_scalar_type(len(views) - 1))
    if len(views) == 1:
        np.copyto(best, views[0])
        index.fill(0)
        return index
    # View 1 raised the max exactly where index is 1 after the first comparison.
    np.greater(views[1], views[0], out=index.view(np.bool_) if index.itemsize == 1 else index)
    np.maximum(views[0], views[1], out=best)
    raised = buffer_pool.take(best.shape, np.bool_)
    for k, view in enumerate(views[2:], start=2):
        np.greater(view, best, out=raised)
        np.maximum(best, view, out=best)
        np.copyto(index, k, where=raised)
    buffer_pool.give_back([raised])
    return index


def _route_back(dout, index, d_input, axis, window, stride):
    """Send each dout to the offset ``index`` chose along ``axis``, into ``d_input``: the adjoint of _running_max."""
    count = dout.shape[axis]
    # Windows that tile the axis write each input once: no zero fill, no +=.
    tiles = window == stride and d_input.shape[axis] == count * window
    if tiles and window == 2:
        # index is 0 or 1: the second offset gets dout * index, the first the rest.
        first, second = _offset_slices(d_input, axis, window, stride, count)
        np.multiply(dout, index.view(np.bool_), out=second)
        np.subtract(dout, second, out=first)
        return
    if not tiles:
        d_input.fill(0)
    chosen = buffer_pool.take(index.shape, np.bool_)
    routed = None if tiles else buffer_pool.take(dout.shape, d_input.dtype)
    for k, view in enumerate(_offset_slices(d_input, axis, window, stride, count)):
        np.equal(index, k, out=chosen)
        if tiles:
            np.multiply(dout, chosen, out=view)
        else:
            view += np.multiply(dout, chosen, out=routed)
    buffer_pool.give_back([chosen] + ([] if tiles else [routed]))
