"""Spatial arithmetic of convolution and pooling layers.

The core rule: a filter of size F slid with stride S over an input of size N
padded with P zeros on each side stops at (N - F + 2P) / S + 1 positions. The
layers call ``conv_geometry`` and ``pool_geometry`` to validate their inputs,
so a stride that does not fit is reported the same way everywhere.

Shapes of volumes are (C, H, W) tuples (depth, height, width), following the
library's NCHW layout. Tables print them as the lecture does, H x W x C.
"""

import math
from dataclasses import dataclass

from cs231n_lib.validation import (
    require_keys,
    require_non_negative_int,
    require_positive_int,
)


def conv_output_size(n, f, stride=1, pad=0, *, axis=None):
    """Number of positions a filter takes along one axis.

    Inputs:
    - n: input size along the axis (height or width)
    - f: filter size along the axis
    - stride: step between filter positions
    - pad: zeros added on each side of the input
    - axis: optional name ('height', 'width') used in error messages
    Returns (n - f + 2*pad) / stride + 1 as an int.
    Raises ValueError when that is not a whole number >= 1, saying which
    pad or stride would fit instead.
    """
    n = require_positive_int("input size", n)
    f = require_positive_int("filter size", f)
    stride = require_positive_int("stride", stride)
    pad = require_non_negative_int("pad", pad)
    span = n - f + 2 * pad
    if span >= 0 and span % stride == 0:
        return span // stride + 1
    formula = f"({n} - {f} + 2*{pad}) / {stride} + 1"
    fixes = [f"{fix} (with stride {stride})" for fix in _nearest_fitting_pads(n, f, stride, pad)]
    strides = _nearest_fitting_strides(span, stride)
    if strides:
        fixes.append(f"{' or '.join(strides)} (with pad {pad})")
    if not fixes:
        # Stride 1 fits any input at least as large as the filter.
        fixes.append(f"pad={max(pad, (f - n + 1) // 2)} with stride=1")
    if span < 0:
        problem = (
            f"filter {f} is larger than the input {n} padded by {pad} on each "
            f"side ({n} + 2*{pad} = {n + 2 * pad}): {formula} = "
            f"{span / stride + 1:.2f}"
        )
    else:
        problem = (
            f"stride {stride} does not fit: {formula} = "
            f"{span / stride + 1:.2f} is not a whole number"
        )
    raise ValueError(_explain(axis, problem, fixes))


def pool_output_size(n, f, stride=None, *, axis=None):
    """Number of positions a pooling window takes along one axis (no padding).

    Inputs:
    - n: input size along the axis
    - f: window size along the axis
    - stride: step between windows; defaults to f (windows that tile)
    - axis: optional name ('height', 'width') used in error messages
    Returns (n - f) / stride + 1 as an int; raises ValueError when it is not a
    whole number >= 1, saying which stride or window size would fit.
    """
    n = require_positive_int("input size", n)
    f = require_positive_int("pool size", f)
    stride = f if stride is None else require_positive_int("stride", stride)
    span = n - f
    if span >= 0 and span % stride == 0:
        return span // stride + 1
    formula = f"({n} - {f}) / {stride} + 1"
    # A 1x1 "pool" does nothing, so only windows of 2 or more are suggested.
    windows = [g for g in range(2, n + 1) if (n - g) % stride == 0 and g != f]
    fixes = [" or ".join(_nearest_fitting_strides(span, stride))] if span > 0 else []
    if windows:
        best = min(windows, key=lambda g: (abs(g - f), g))
        fixes.append(f"pool size {best} (with stride {stride})")
    if span < 0:
        problem = f"pool window {f} is larger than the input {n}"
    else:
        problem = (
            f"pool window {f} with stride {stride} does not fit: {formula} = "
            f"{span / stride + 1:.2f} is not a whole number"
        )
    raise ValueError(_explain(axis, problem, fixes))


def _explain(axis, problem, fixes):
    message = problem if not fixes else f"{problem}; {' or '.join(fixes)} would fit"
    return message if axis is None else f"{axis}: {message}"


def _nearest_fitting_pads(n, f, stride, pad):
    """The smallest pad >= 0 closest to ``pad`` for which the stride fits."""
    candidates = [
        p
        for p in range(0, pad + max(stride, f) + 1)
        if n - f + 2 * p >= 0 and (n - f + 2 * p) % stride == 0
    ]
    if not candidates:
        return []
    best = min(candidates, key=lambda p: (abs(p - pad), p))
    return [f"pad={best}"]


def _nearest_fitting_strides(span, stride):
    """Strides that divide ``span`` and are nearest to ``stride``."""
    if span <= 0:
        return []
    divisors = [d for d in range(1, span + 1) if span % d == 0]
    gap = min(abs(d - stride) for d in divisors)
    return [f"stride={d}" for d in divisors if abs(d - stride) == gap]


@dataclass(frozen=True)
class ConvGeometry:
    """Sizes of one convolution: x (N, C, H, W), w (F, C, HH, WW), out (N, F, H_out, W_out)."""

    N: int
    C: int
    H: int
    W: int
    F: int
    HH: int
    WW: int
    stride: int
    pad: int
    H_out: int
    W_out: int

    @property
    def out_shape(self):
        return (self.N, self.F, self.H_out, self.W_out)


@dataclass(frozen=True)
class PoolGeometry:
    """Sizes of one pooling: x (N, C, H, W) -> out (N, C, H_out, W_out)."""

    N: int
    C: int
    H: int
    W: int
    pool_height: int
    pool_width: int
    stride: int
    H_out: int
    W_out: int

    @property
    def out_shape(self):
        return (self.N, self.C, self.H_out, self.W_out)


def conv_geometry(x_shape, w_shape, conv_param, b_shape=None):
    """Validate a convolution's shapes and parameters and compute its output size.

    Inputs:
    - x_shape: (N, C, H, W)
    - w_shape: (F, C, HH, WW)
    - conv_param: {'stride': S, 'pad': P}
    - b_shape: (F,), checked when given
    Returns a ConvGeometry; raises ValueError naming the numbers that clash.
    """
    _require_4d("x", x_shape, "(N, C, H, W)")
    _require_4d("w", w_shape, "(F, C, HH, WW)")
    N, C, H, W = x_shape
    F, C_w, HH, WW = w_shape
    if C_w != C:
        raise ValueError(
            f"x has {C} channels (x.shape[1]) but the filters in w have depth "
            f"{C_w} (w.shape[1]): filters always extend the full depth of the "
            f"input, so w needs shape ({F}, {C}, {HH}, {WW})"
        )
    if b_shape is not None and tuple(b_shape) != (F,):
        raise ValueError(
            f"b has shape {tuple(b_shape)}, expected ({F},): one bias per filter"
        )
    require_keys("conv_param", conv_param, ("stride", "pad"), "{'stride': 1, 'pad': 0}")
    stride = require_positive_int("conv_param['stride']", conv_param["stride"])
    pad = require_non_negative_int("conv_param['pad']", conv_param["pad"])
    H_out = conv_output_size(H, HH, stride, pad, axis="height")
    W_out = conv_output_size(W, WW, stride, pad, axis="width")
    return ConvGeometry(N, C, H, W, F, HH, WW, stride, pad, H_out, W_out)


def pool_geometry(x_shape, pool_param):
    """Validate a max-pooling's shapes and parameters and compute its output size.

    Inputs:
    - x_shape: (N, C, H, W)
    - pool_param: {'pool_height': PH, 'pool_width': PW, 'stride': S}
    Returns a PoolGeometry; raises ValueError naming the numbers that clash.
    """
    _require_4d("x", x_shape, "(N, C, H, W)")
    N, C, H, W = x_shape
    example = "{'pool_height': 2, 'pool_width': 2, 'stride': 2}"
    require_keys("pool_param", pool_param, ("pool_height", "pool_width", "stride"), example)
    ph = require_positive_int("pool_param['pool_height']", pool_param["pool_height"])
    pw = require_positive_int("pool_param['pool_width']", pool_param["pool_width"])
    stride = require_positive_int("pool_param['stride']", pool_param["stride"])
    H_out = pool_output_size(H, ph, stride, axis="height")
    W_out = pool_output_size(W, pw, stride, axis="width")
    return PoolGeometry(N, C, H, W, ph, pw, stride, H_out, W_out)


def _require_4d(name, shape, layout):
    if len(shape) != 4:
        raise ValueError(
            f"{name} must have 4 dimensions {layout}, got {len(shape)} "
            f"(shape {tuple(shape)})"
        )
    if min(shape) < 1:
        raise ValueError(f"every size in {name}.shape {layout} must be positive, got {tuple(shape)}")


# ---------------------------------------------------------------------------
# Layer descriptors: what a layer does to a (C, H, W) volume, and what it costs.
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LayerSummary:
    """One row of a network table.

    - input_shape, output_shape: (C, H, W) volumes
    - params: number of learnable weights and biases
    - macs: multiply-adds for one image's forward pass
    """

    name: str
    input_shape: tuple
    output_shape: tuple
    params: int
    macs: int

    @property
    def activations(self):
        """Number of values in the output volume (for one image)."""
        return math.prod(self.output_shape)

    def activation_bytes(self, bytes_per_value=4):
        """Memory of the output volume for one image (4 bytes per float32)."""
        return self.activations * bytes_per_value


def _pair(name, size):
    if isinstance(size, tuple):
        if len(size) != 2:
            raise ValueError(f"{name} must be an int or a (height, width) pair, got {size}")
        return (require_positive_int(name, size[0]), require_positive_int(name, size[1]))
    size = require_positive_int(name, size)
    return (size, size)


def _volume(shape):
    if len(shape) != 3:
        raise ValueError(f"a volume is (C, H, W), got {tuple(shape)}")
    return tuple(require_positive_int("volume size", s) for s in shape)


@dataclass(frozen=True)
class Conv:
    """A convolution layer of ``num_filters`` filters of ``size`` (int or (HH, WW)).

    Each filter spans the full input depth C, so it has C*HH*WW weights and one
    bias: params = F * (C*HH*WW + 1); multiply-adds = F * H' * W' * C*HH*WW.
    """

    num_filters: int
    size: int | tuple[int, int]
    stride: int = 1
    pad: int = 0
    name: str = "CONV"

    def describe(self, input_shape):
        C, H, W = _volume(input_shape)
        F = require_positive_int("num_filters", self.num_filters)
        HH, WW = _pair("filter size", self.size)
        H_out = conv_output_size(H, HH, self.stride, self.pad, axis=f"{self.name} height")
        W_out = conv_output_size(W, WW, self.stride, self.pad, axis=f"{self.name} width")
        weights_per_filter = C * HH * WW
        return LayerSummary(
            self.name,
            (C, H, W),
            (F, H_out, W_out),
            params=F * (weights_per_filter + 1),
            macs=F * H_out * W_out * weights_per_filter,
        )


@dataclass(frozen=True)
class Pool:
    """A max-pooling layer with a ``size`` window (int or (PH, PW)); no parameters.

    ``stride`` defaults to the window size, so windows tile the input.
    """

    size: int | tuple[int, int]
    stride: int | None = None
    name: str = "POOL"

    def describe(self, input_shape):
        C, H, W = _volume(input_shape)
        ph, pw = _pair("pool size", self.size)
        H_out = pool_output_size(H, ph, self.stride, axis=f"{self.name} height")
        W_out = pool_output_size(W, pw, self.stride, axis=f"{self.name} width")
        return LayerSummary(self.name, (C, H, W), (C, H_out, W_out), params=0, macs=0)


@dataclass(frozen=True)
class FC:
    """A fully connected layer to ``num_outputs`` units; the input is flattened.

    params = D * M + M for D inputs and M outputs; multiply-adds = D * M.
    The output volume is written (M, 1, 1).
    """

    num_outputs: int
    name: str = "FC"

    def describe(self, input_shape):
        shape = _volume(input_shape)
        D = math.prod(shape)
        M = require_positive_int("num_outputs", self.num_outputs)
        return LayerSummary(self.name, shape, (M, 1, 1), params=D * M + M, macs=D * M)


@dataclass(frozen=True)
class ReLU:
    """An elementwise nonlinearity: same volume out, no parameters.

    Listing it makes a table match the lecture's CONV-RELU drawings; leave it
    out to count memory as frameworks that apply ReLU in place do.
    """

    name: str = "RELU"

    def describe(self, input_shape):
        shape = _volume(input_shape)
        return LayerSummary(self.name, shape, shape, params=0, macs=0)


def summarize_stack(input_shape, layers):
    """Describe a stack of Conv / Pool / FC / ReLU layers applied to one (C, H, W) image.

    Returns a list of LayerSummary: first an 'INPUT' row (whose activations
    are the image itself), then one row per layer.
    """
    shape = _volume(input_shape)
    rows = [LayerSummary("INPUT", shape, shape, params=0, macs=0)]
    for layer in layers:
        if not hasattr(layer, "describe"):
            raise TypeError(
                f"layers must be Conv, Pool, FC or ReLU descriptors, got {layer!r}"
            )
        rows.append(layer.describe(rows[-1].output_shape))
    return rows


def format_volume(shape):
    """(C, H, W) -> 'HxWxC', the lecture's way of writing a volume."""
    C, H, W = shape
    return f"{H}x{W}x{C}"


def format_stack_table(rows, bytes_per_value=4):
    """A plain-text table of ``summarize_stack`` rows with totals.

    Columns: layer, output volume (HxWxC), activations, parameters,
    multiply-adds. The footer gives the totals and the forward activation
    memory for one image at ``bytes_per_value`` bytes per value.
    """
    header = f"{'layer':<10}{'volume':>14}{'activations':>14}{'params':>14}{'mult-adds':>16}"
    lines = [header, "-" * len(header)]
    for r in rows:
        lines.append(
            f"{r.name:<10}{format_volume(r.output_shape):>14}"
            f"{r.activations:>14,}{r.params:>14,}{r.macs:>16,}"
        )
    total_act = sum(r.activations for r in rows)
    total_params = sum(r.params for r in rows)
    total_macs = sum(r.macs for r in rows)
    lines.append("-" * len(header))
    lines.append(
        f"{'total':<10}{'':>14}{total_act:>14,}{total_params:>14,}{total_macs:>16,}"
    )
    lines.append(
        f"forward activation memory: {format_bytes(total_act * bytes_per_value)} "
        f"per image at {bytes_per_value} bytes per value"
    )
    return "\n".join(lines)


def format_bytes(n):
    """A byte count in readable units: '812 B', '52.8 KiB', '132 KiB', '58.1 MiB'."""
    if n < 1024:
        return f"{int(n)} B"
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        n /= 1024
        # Move up a unit before rounding would print 1000 or more of this one.
        if n < 999.5 or unit == "TiB":
            return f"{n:.3g} {unit}" if n < 100 else f"{n:.0f} {unit}"
