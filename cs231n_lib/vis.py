"""Pictures of what a network learned: image grids, filters, training curves, errors.

Colours are chosen so that every figure reads the same for everyone. Lines use
the Okabe-Ito palette (``OKABE_ITO``), eight colours that stay distinct under
the common forms of colour blindness (protanopia, deuteranopia, tritanopia),
and no meaning rests on colour alone: train and validation curves also differ
by marker and line style, and the raw loss is thin while its moving average is
thick. Heatmaps of single values (grayscale filters, activation maps, confusion
matrices) use 'cividis', a colormap whose lightness rises evenly from dark blue
to yellow, so equal steps in value look like equal steps in colour, it prints
sensibly in grayscale, and it was designed to look nearly the same to viewers
with red-green colour blindness. Numbers written on a heatmap are black or
white, whichever contrasts more with their cell (WCAG contrast ratio).

Images come in (N, H, W, C), the layout ``imshow`` wants, or in the library's
(N, C, H, W) with ``layout='NCHW'``. No function here calls ``plt.show()``
(the notebook does); a function given an ``ax`` draws on it and creates no
figure.
"""

import io
import math
import numbers

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

from cs231n_lib.validation import require_non_negative_int, require_positive_int

OKABE_ITO = [
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#009E73",  # bluish green
    "#F0E442",  # yellow
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#000000",  # black
]

_SKY_BLUE = OKABE_ITO[1]
_BLUE = OKABE_ITO[4]
_VERMILLION = OKABE_ITO[5]

_HEATMAP_CMAP = "cividis"
_LAYOUTS = ("NHWC", "NCHW")


# ---------------------------------------------------------------------------
# Image grids
# ---------------------------------------------------------------------------


def visualize_grid(Xs, ubound=255.0, padding=1, *, layout="NHWC"):
    """Tile a batch of images into one image, each rescaled to [0, ubound].

    Inputs:
    - Xs: (N, H, W, C) images; (N, C, H, W) with layout='NCHW'; or
      (N, H, W) grayscale images (layout is then ignored)
    - ubound: the value the brightest pixel of each image is mapped to
    - padding: width in pixels of the zero-valued gaps between images
    - layout: 'NHWC' (the default, what imshow wants) or 'NCHW'
    Returns grid: (G*H + (G-1)*padding, G*W + (G-1)*padding, C), or without
    the last axis for grayscale input, where G = ceil(sqrt(N)) images per side.
    Image i sits in row i // G, column i % G; unused cells stay 0. Integer
    input gives float64; float input keeps its dtype.

    Each image is rescaled on its own, over all its channels together:
    x' = ubound * (x - min x) / (max x - min x). A constant image (max == min)
    has no contrast to show and becomes all zeros.
    """
    images, gray = _as_nhwc("Xs", Xs, layout)
    ubound = _require_positive_number("ubound", ubound)
    padding = require_non_negative_int("padding", padding)
    N, H, W, C = images.shape

    scaled = _rescale_each(images, ubound)
    side = _grid_side(N)
    grid = np.zeros(
        (side * H + (side - 1) * padding, side * W + (side - 1) * padding, C),
        dtype=scaled.dtype,
    )
    for i in range(N):
        row, col = divmod(i, side)
        top = row * (H + padding)
        left = col * (W + padding)
        grid[top:top + H, left:left + W] = scaled[i]
    return grid[:, :, 0] if gray else grid


def show_filters(w, ax=None, title=None, *, scale="each"):
    """Show first-layer filters as one tiled image.

    Inputs:
    - w: (F, C, HH, WW) filter weights
    - ax: Axes to draw on; a new figure is made only when ax is None
    - title: optional Axes title
    - scale: 'each' (the default) rescales every filter on its own, so its
      smallest weight is dark and its largest bright, whatever their size;
      'shared' draws all filters on one colour scale, symmetric about 0,
      from -m to +m with m = max |w|, and adds a colour bar labelled with
      what the colours mean (not for RGB filters, C == 3)
    Returns the Axes (ticks removed).

    C == 3 is shown as RGB (the filter's colour preference is visible);
    C == 1 as a 'cividis' heatmap. For any other C the filter's channels are
    averaged, mean over c of w[f, c], and shown as a heatmap: a summary of
    what the filter responds to across all its input channels. Showing only
    the first channel would silently hide the rest of the filter.

    With scale='shared', a weight of 0 is the middle of the colour scale, a
    filter with small weights looks faint next to one with large weights,
    and the gaps between filters (and unused cells) are left blank (white)
    so that they cannot be read as weights.
    """
    w = _require_real_array("w", w, ndim=4)
    if scale not in ("each", "shared"):
        raise ValueError(f"scale must be 'each' or 'shared', got {scale!r}")
    C = w.shape[1]
    if scale == "shared":
        if C == 3:
            raise ValueError(
                "scale='shared' draws a heatmap with a colour bar, which RGB filters "
                f"(w of shape {w.shape}, C == 3) cannot have; use scale='each'"
            )
        return _show_filters_shared(w, ax, title)
    if C == 3:
        grid = visualize_grid(w, ubound=1.0, layout="NCHW")
    elif C == 1:
        grid = visualize_grid(w[:, 0], ubound=1.0)
    else:
        grid = visualize_grid(w.mean(axis=1), ubound=1.0)
    ax = _axes_or_new(ax, figsize=(4, 4))
    _show_grid(ax, grid, title)
    return ax


def _show_filters_shared(w, ax, title):
    """show_filters with scale='shared': one symmetric scale and a colour bar."""
    C = w.shape[1]
    maps = (w[:, 0] if C == 1 else w.mean(axis=1)).astype(np.float64)
    if not np.isfinite(maps).all():
        f = int(np.flatnonzero(~np.isfinite(maps).reshape(len(maps), -1).all(axis=1))[0])
        raise ValueError(
            f"filter {f} contains NaN or inf; training has diverged: lower the learning rate"
        )
    F, HH, WW = maps.shape
    side = _grid_side(F)
    padding = 1
    # NaN marks the gaps and unused cells; the colormap draws them as blank.
    grid = np.full((side * HH + (side - 1) * padding, side * WW + (side - 1) * padding), np.nan)
    for f in range(F):
        row, col = divmod(f, side)
        top, left = row * (HH + padding), col * (WW + padding)
        grid[top:top + HH, left:left + WW] = maps[f]
    limit = float(np.abs(maps).max())
    if limit == 0:
        limit = 1.0  # all weights 0: any symmetric scale shows them as the middle colour
    cmap = plt.get_cmap(_HEATMAP_CMAP).with_extremes(bad="white")

    ax = _axes_or_new(ax, figsize=(4.8, 4))
    image = ax.imshow(grid, cmap=cmap, vmin=-limit, vmax=limit, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if title is not None:
        ax.set_title(title)
    colorbar = ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    colorbar.set_label("weight value" if C == 1 else "weight value, mean over input channels")
    return ax


def show_activation_maps(activations, ax=None, title=None, max_maps=None):
    """Show one image's activation maps as a tiled 'cividis' heatmap.

    Inputs:
    - activations: (F, H, W) the maps of one image, e.g. out[i] of a conv layer
    - ax: Axes to draw on; a new figure is made only when ax is None
    - title: optional Axes title
    - max_maps: show only the first max_maps maps (default: all F)
    Returns the Axes (ticks removed).

    Each map is rescaled on its own, so a map that is constant (for example
    a filter that ReLU zeroed everywhere) shows as uniformly dark.
    """
    if isinstance(activations, np.ndarray) and activations.ndim == 4:
        raise ValueError(
            f"activations has shape {activations.shape}: that is a batch "
            "(N, F, H, W); pass the maps of one image, e.g. activations[0], "
            f"of shape {activations.shape[1:]}"
        )
    activations = _require_real_array("activations", activations, ndim=3)
    if max_maps is not None:
        max_maps = require_positive_int("max_maps", max_maps)
        activations = activations[:max_maps]
    grid = visualize_grid(activations, ubound=1.0)
    ax = _axes_or_new(ax, figsize=(4, 4))
    _show_grid(ax, grid, title)
    return ax


def _show_grid(ax, grid, title):
    if grid.ndim == 2:
        ax.imshow(grid, cmap=_HEATMAP_CMAP, vmin=0.0, vmax=1.0, interpolation="nearest")
    else:
        ax.imshow(grid, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if title is not None:
        ax.set_title(title)


# ---------------------------------------------------------------------------
# Training curves
# ---------------------------------------------------------------------------


def plot_training_history(history, axes=None, *, window=None):
    """Plot a Solver's loss per iteration and its accuracies per epoch.

    Inputs:
    - history: a Solver (or any object) with attributes loss_history
      (one float per iteration), train_acc_history and val_acc_history
      (one float per epoch), or a dict with those keys
    - axes: two Axes (loss, accuracy) to draw on; a new figure with two
      panels is made only when axes is None
    - window: iterations in the trailing moving average of the loss
      (default: about 1/20 of the run, between 1 and 100)
    Returns the Figure holding the axes.

    Left panel: the raw loss as a thin line, its moving average
    mean(loss[t - window + 1 : t + 1]) as a thick one. Right panel: train
    (solid line, circles) and validation (dashed line, squares) accuracy,
    with epoch 0 the first recorded value; its epoch ticks are whole numbers.
    """
    loss, train_acc, val_acc = _read_history(history)
    if len(train_acc) != len(val_acc):
        raise ValueError(
            f"train_acc_history has {len(train_acc)} values but "
            f"val_acc_history has {len(val_acc)}; both hold one value per epoch"
        )
    n = len(loss)
    if window is None:
        window = max(1, min(100, n // 20))
    else:
        window = require_positive_int("window", window)
        if window > n:
            raise ValueError(
                f"window={window} is longer than the {n} recorded iterations; "
                f"use window <= {n}"
            )

    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.5), layout="constrained")
    elif len(axes) != 2:
        raise ValueError(
            f"axes must hold 2 Axes (loss, accuracy), got {len(axes)}"
        )
    loss_ax, acc_ax = axes[0], axes[1]

    iterations = np.arange(n)
    loss_ax.plot(iterations, loss, color=_SKY_BLUE, linewidth=0.75, label="loss")
    smooth = np.convolve(loss, np.ones(window) / window, mode="valid")
    loss_ax.plot(
        iterations[window - 1:], smooth, color=_BLUE, linewidth=2.0,
        label=f"moving average ({window} iterations)",
    )
    loss_ax.set_xlabel("iteration")
    loss_ax.set_ylabel("loss")
    loss_ax.set_title("training loss")
    loss_ax.legend()

    epochs = np.arange(len(train_acc))
    acc_ax.plot(epochs, train_acc, color=_BLUE, linestyle="-", marker="o", label="train")
    acc_ax.plot(epochs, val_acc, color=_VERMILLION, linestyle="--", marker="s", label="val")
    acc_ax.set_xlabel("epoch")
    # Epochs are counted, not measured: no ticks at 2.5 or 7.5.
    acc_ax.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))
    acc_ax.set_ylabel("accuracy")
    acc_ax.set_title("accuracy")
    acc_ax.legend()
    return loss_ax.figure


def _read_history(history):
    keys = ("loss_history", "train_acc_history", "val_acc_history")
    if isinstance(history, dict):
        missing = [k for k in keys if k not in history]
        if missing:
            raise ValueError(
                f"history is missing {', '.join(repr(k) for k in missing)}; "
                "pass a Solver or a dict with keys " + ", ".join(repr(k) for k in keys)
            )
        values = [history[k] for k in keys]
    else:
        missing = [k for k in keys if not hasattr(history, k)]
        if missing:
            raise TypeError(
                f"history must be a Solver or a dict; a {type(history).__name__} "
                f"has no {', '.join(missing)}"
            )
        values = [getattr(history, k) for k in keys]
    arrays = []
    for key, value in zip(keys, values):
        a = np.asarray(value, dtype=np.float64)
        if a.ndim != 1:
            raise ValueError(f"{key} must be a flat list of numbers, got shape {a.shape}")
        if a.size == 0:
            raise ValueError(
                f"{key} is empty: training has not run yet; call solver.train() first"
            )
        arrays.append(a)
    return arrays


# ---------------------------------------------------------------------------
# Errors: confusion matrix and misclassified examples
# ---------------------------------------------------------------------------


def confusion_matrix(y_true, y_pred, num_classes=None):
    """Count how often each true class is predicted as each class.

    Inputs:
    - y_true: (N,) integer true labels, each >= 0
    - y_pred: (N,) integer predicted labels, each >= 0
    - num_classes: K; default 1 + the largest label seen in either array
    Returns cm: (K, K) int64, cm[i, j] = #{n : y_true[n] == i and y_pred[n] == j};
    rows are true classes, columns predicted ones, the diagonal is correct.
    """
    y_true, y_pred = _check_label_pair(y_true, y_pred)
    if num_classes is None:
        if y_true.size == 0:
            raise ValueError(
                "cannot infer the number of classes from 0 labels; pass num_classes"
            )
        K = int(max(y_true.max(), y_pred.max())) + 1
    else:
        K = require_positive_int("num_classes", num_classes)
        for name, y in (("y_true", y_true), ("y_pred", y_pred)):
            too_big = np.flatnonzero(y >= K)
            if too_big.size:
                i = int(too_big[0])
                raise ValueError(
                    f"{name}[{i}] = {int(y[i])} is outside 0..{K - 1} for "
                    f"num_classes={K}; use num_classes={int(y.max()) + 1} or fix the label"
                )
    # Each (true, predicted) pair gets its own cell index true*K + predicted.
    counts = np.bincount(y_true * K + y_pred, minlength=K * K)
    return counts.reshape(K, K).astype(np.int64)


def plot_confusion_matrix(cm, class_names=None, ax=None, normalize=False):
    """Draw a confusion matrix as a 'cividis' heatmap with the value in each cell.

    Inputs:
    - cm: (K, K) non-negative counts, rows = true class, columns = predicted
    - class_names: K names for the ticks (default: 0..K-1)
    - ax: Axes to draw on; a new figure is made only when ax is None
    - normalize: if True, show each row divided by its sum (the fraction of
      each true class given each prediction; a row with no examples stays 0)
    Returns the Axes, labelled 'predicted' (x) and 'true' (y).

    Cells show integer counts (or fractions with 2 decimals when normalized
    or when cm holds non-whole numbers) in black or white, whichever has the
    higher contrast ratio against the cell colour.
    """
    cm = _require_real_array("cm", cm, ndim=2)
    K = cm.shape[0]
    if cm.shape != (K, K) or K == 0:
        raise ValueError(f"cm must be square (K, K) with K >= 1, got shape {cm.shape}")
    if not np.isfinite(cm).all() or (cm < 0).any():
        r, c = np.argwhere(~np.isfinite(cm) | (cm < 0))[0]
        raise ValueError(
            f"cm[{r}, {c}] = {cm[r, c]}; a confusion matrix holds counts >= 0"
        )
    if class_names is None:
        class_names = [str(k) for k in range(K)]
    elif len(class_names) != K:
        raise ValueError(
            f"class_names has {len(class_names)} names but cm has {K} classes"
        )

    if normalize:
        totals = cm.sum(axis=1, keepdims=True).astype(np.float64)
        values = np.zeros(cm.shape, dtype=np.float64)
        np.divide(cm, totals, out=values, where=totals > 0)
        vmax = 1.0
        whole = False
    else:
        values = cm
        vmax = float(cm.max()) if cm.max() > 0 else 1.0
        whole = np.issubdtype(cm.dtype, np.integer) or bool(np.all(cm == np.round(cm)))

    ax = _axes_or_new(ax, figsize=(1.0 + 0.6 * K, 0.8 + 0.6 * K))
    im = ax.imshow(values, cmap=_HEATMAP_CMAP, vmin=0.0, vmax=vmax, interpolation="nearest")
    for r in range(K):
        for c in range(K):
            value = values[r, c]
            text = str(int(round(value))) if whole else f"{value:.2f}"
            ax.text(
                c, r, text, ha="center", va="center",
                color=_contrasting_text_colour(im.cmap(im.norm(value))),
            )
    ticks = np.arange(K)
    ax.set_xticks(ticks)
    ax.set_yticks(ticks)
    ax.set_xticklabels(class_names, rotation=45, ha="right", rotation_mode="anchor")
    ax.set_yticklabels(class_names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if normalize:
        ax.set_title("fraction of each true class")
    return ax


def plot_misclassified(X, y_true, y_pred, class_names=None, max_images=16, layout="NCHW"):
    """Show the first misclassified images, titled 'true → predicted'.

    Inputs:
    - X: (N, C, H, W) images with C = 1 or 3 (layout='NCHW', the default),
      (N, H, W, C) with layout='NHWC', or (N, H, W) grayscale
    - y_true: (N,) integer true labels
    - y_pred: (N,) integer predicted labels
    - class_names: names indexed by label (default: the label numbers)
    - max_images: show at most this many misclassified images, in order
    Returns a new Figure: for the M images shown, ceil(sqrt(M)) columns and
    as many rows as needed (ceil(M / columns)), titled 'M of W misclassified';
    when every prediction is right, one panel saying so.

    Each image is rescaled on its own to [0, 1]; RGB is shown as colour,
    grayscale with the 'gray' colormap (lightness only, so colour-blind-safe
    and what a grayscale photo looks like).
    """
    images, gray = _as_nhwc("X", X, layout)
    N, _, _, C = images.shape
    if C not in (1, 3):
        hint = ""
        if layout == "NCHW" and X.shape[3] in (1, 3):
            hint = "; the data look channels-last: pass layout='NHWC'"
        elif layout == "NHWC" and X.shape[1] in (1, 3):
            hint = "; the data look channels-first: pass layout='NCHW'"
        raise ValueError(
            f"X has {C} channels (shape {X.shape}, layout={layout!r}); "
            f"only 1 (grayscale) or 3 (RGB) can be shown{hint}"
        )
    y_true, y_pred = _check_label_pair(y_true, y_pred)
    if y_true.size != N:
        raise ValueError(f"X holds {N} images but there are {y_true.size} labels")
    max_images = require_positive_int("max_images", max_images)
    if class_names is not None:
        largest = int(max(y_true.max(), y_pred.max()))
        if largest >= len(class_names):
            raise ValueError(
                f"label {largest} has no name: class_names has only "
                f"{len(class_names)} entries (0..{len(class_names) - 1})"
            )

    wrong = np.flatnonzero(y_true != y_pred)
    if wrong.size == 0:
        fig, ax = plt.subplots(figsize=(5, 1.5), layout="constrained")
        ax.text(
            0.5, 0.5, f"No misclassified examples: all {N} predictions are correct.",
            ha="center", va="center", transform=ax.transAxes,
        )
        ax.set_axis_off()
        return fig

    def name(label):
        return str(label) if class_names is None else str(class_names[label])

    shown = wrong[:max_images]
    cols = _grid_side(shown.size)
    rows = -(-shown.size // cols)
    fig, axes = plt.subplots(
        rows, cols, figsize=(1.8 * cols, 0.4 + 1.9 * rows), squeeze=False, layout="constrained"
    )
    for k, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if k >= shown.size:
            continue
        i = shown[k]
        picture = visualize_grid(images[i:i + 1], ubound=1.0)
        if C == 1:
            ax.imshow(picture[:, :, 0], cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
        else:
            ax.imshow(picture, interpolation="nearest")
        ax.set_title(f"{name(int(y_true[i]))} → {name(int(y_pred[i]))}", fontsize=9)
    fig.suptitle(f"{shown.size} of {wrong.size} misclassified (true → predicted)")
    return fig


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def figure_png(fig):
    """The figure as PNG bytes; the figure is closed. For ipywidgets.Image widgets."""
    try:
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
        return buffer.getvalue()
    finally:
        plt.close(fig)


def _axes_or_new(ax, figsize):
    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def _as_labels(name, y):
    """Check y: (N,) integer class labels >= 0; lists and arrays are accepted."""
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of labels, got shape {y.shape}")
    if y.size == 0:
        return y.astype(np.int64)
    if y.dtype == np.bool_ or not np.issubdtype(y.dtype, np.integer):
        raise TypeError(
            f"{name} must hold integer class labels, got dtype {y.dtype}; "
            f"convert it with np.asarray({name}).astype(np.int64)"
        )
    negative = np.flatnonzero(y < 0)
    if negative.size:
        i = int(negative[0])
        raise ValueError(
            f"{name}[{i}] = {int(y[i])} is negative; class labels are 0, 1, 2, ..."
        )
    return y.astype(np.int64, copy=False)


def _check_label_pair(y_true, y_pred):
    y_true = _as_labels("y_true", y_true)
    y_pred = _as_labels("y_pred", y_pred)
    if y_true.size != y_pred.size:
        raise ValueError(
            f"y_true has {y_true.size} labels but y_pred has {y_pred.size}; "
            "pass one prediction per example"
        )
    return y_true, y_pred


def _relative_luminance(rgba):
    """WCAG 2 relative luminance of an sRGB colour with components in [0, 1]."""
    rgb = np.asarray(rgba[:3], dtype=np.float64)
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    return float(linear @ np.array([0.2126, 0.7152, 0.0722]))


def _contrasting_text_colour(rgba):
    """'black' or 'white', whichever has the higher WCAG contrast ratio on rgba.

    Contrast ratio = (L_lighter + 0.05) / (L_darker + 0.05); black has L = 0,
    white L = 1.
    """
    L = _relative_luminance(rgba)
    on_black = (L + 0.05) / 0.05
    on_white = 1.05 / (L + 0.05)
    return "black" if on_black >= on_white else "white"


def _grid_side(n):
    """ceil(sqrt(n)) in exact integer arithmetic."""
    side = math.isqrt(n)
    return side if side * side == n else side + 1


def _require_positive_number(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r}")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value}")
    return float(value)


def _require_real_array(name, a, ndim):
    """Check a numpy array of real numbers (int or float) with ndim dimensions."""
    if not isinstance(a, np.ndarray):
        raise TypeError(
            f"{name} must be a numpy array, got {type(a).__name__}; "
            f"wrap it with np.asarray({name})"
        )
    if a.dtype == np.bool_ or not (
        np.issubdtype(a.dtype, np.integer) or np.issubdtype(a.dtype, np.floating)
    ):
        raise TypeError(f"{name} must hold real numbers, got dtype {a.dtype}")
    dims = (ndim,) if isinstance(ndim, int) else ndim
    if a.ndim not in dims:
        wanted = " or ".join(str(d) for d in dims)
        raise ValueError(f"{name} must have {wanted} dimensions, got {a.ndim} (shape {a.shape})")
    return a


def _as_nhwc(name, X, layout):
    """Return (images as (N, H, W, C), True if the input was (N, H, W) grayscale)."""
    if layout not in _LAYOUTS:
        raise ValueError(f"layout must be 'NHWC' or 'NCHW', got {layout!r}")
    X = _require_real_array(name, X, ndim=(3, 4))
    if X.shape[0] == 0:
        raise ValueError(f"{name} holds no images (shape {X.shape})")
    if X.ndim == 3:
        return X[..., np.newaxis], True
    if layout == "NCHW":
        X = X.transpose(0, 2, 3, 1)
    return X, False


def _rescale_each(images, ubound):
    """Map each image of an (N, H, W, C) batch linearly onto [0, ubound]."""
    dtype = images.dtype if np.issubdtype(images.dtype, np.floating) else np.float64
    # Work in float64 so max - min cannot overflow a float16/float32 image.
    x = images.astype(np.float64)
    finite = np.isfinite(x).reshape(len(x), -1).all(axis=1)
    if not finite.all():
        i = int(np.flatnonzero(~finite)[0])
        raise ValueError(
            f"image {i} contains NaN or inf; if these are weights or activations, "
            "training has diverged: lower the learning rate"
        )
    lo = x.min(axis=(1, 2, 3), keepdims=True)
    hi = x.max(axis=(1, 2, 3), keepdims=True)
    span = hi - lo
    # A constant image (span 0) divides by 1 instead; x - lo is 0 there anyway.
    safe = np.where(span > 0, span, np.ones_like(span))
    return ((x - lo) / safe * ubound).astype(dtype, copy=False)
