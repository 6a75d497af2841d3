"""An optimizer race: update rules side by side on small 2-D loss surfaces.

A real network has millions of parameters, but the troubles an update rule
meets are already there in two dimensions, where the whole path can be drawn:

- long_valley: a valley far steeper across than along. Plain SGD bounces
  between the walls and crawls along the floor; momentum and the per-coordinate
  rules (Adagrad, RMSProp, Adam) fix this in different ways.
- saddle: a point where the gradient vanishes although it is not a minimum.
  Started close to it, a rule that steps in proportion to the gradient lingers
  there for a long time.

Every surface takes points ``w`` of shape (..., 2), (x, y) in the last axis,
and returns ``(f, grad)``: f of shape (...) and grad of shape (..., 2), so the
same function gives one point's gradient for ``trajectory`` and a whole grid of
values for the contour plot.

    paths = {name: trajectory(name, long_valley, start=(-9, 1.5), steps=60)
             for name in ("sgd", "sgd_momentum", "adam")}
    plot_race(long_valley, paths)
    plot_races({"long valley": (long_valley, paths)}, step=10)
    race_widget({"long valley": (long_valley, paths)})   # a slider over the steps

Colours come from the Okabe-Ito palette (``cs231n_lib.vis.OKABE_ITO``) and
every rule also has its own line style and marker, so no path is told apart
by colour alone. No function here calls ``plt.show()``.
"""

import matplotlib.pyplot as plt
import numpy as np

from cs231n_lib.optim import get_update_rule
from cs231n_lib.validation import require_non_negative_int
from cs231n_lib.vis import OKABE_ITO, figure_png

# The valley's curvatures along x and y: 40 times steeper across than along.
VALLEY_CURVATURE = (0.1, 4.0)

# Seven styles for up to seven paths; an eighth path starts the cycle again.
# Yellow is left out of the palette: it is too pale on a white background.
_COLOURS = [c for c in OKABE_ITO if c.upper() != "#F0E442"]
_MARKERS = ["o", "s", "^", "D", "v", "P", "h"]
_LINESTYLES = ["-", "--", "-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1, 1, 1)), (0, (1, 1))]
_GRID_POINTS = 200


def _points(w):
    w = np.asarray(w, dtype=np.float64)
    if w.ndim == 0 or w.shape[-1] != 2:
        raise ValueError(f"w must hold points (x, y) in its last axis, shape (..., 2); got shape {w.shape}")
    return w


def long_valley(w):
    """A long, narrow valley: f(x, y) = 0.05 x^2 + 2 y^2.

        grad f = (0.1 x, 4 y)

    The curvature across the valley (4) is 40 times the curvature along it
    (0.1). A step size small enough not to bounce off the steep walls, below
    2 / 4 = 0.5 for SGD, makes slow progress along the floor, where each step
    shrinks x only by the factor 1 - 0.1 * learning_rate. Minimum f = 0 at (0, 0).

    Inputs:
    - w: (..., 2) points (x, y)
    Returns (f, grad): f of shape (...), grad of shape (..., 2).
    """
    w = _points(w)
    curvature = np.asarray(VALLEY_CURVATURE)
    f = 0.5 * np.sum(curvature * w * w, axis=-1)
    return f, curvature * w


def saddle(w):
    """A saddle point at the origin between two minima: f(x, y) = x^2 / 2 + y^4 / 4 - y^2 / 2.

        grad f = (x, y^3 - y)

    At (0, 0) the gradient is zero: the surface curves up along x and down
    along y. Minima f = -1/4 at (0, 1) and (0, -1). Near the origin the slope
    along y is about -y, tiny when y is small, so a rule whose steps are
    proportional to the gradient needs many steps to roll off the saddle.

    Inputs:
    - w: (..., 2) points (x, y)
    Returns (f, grad): f of shape (...), grad of shape (..., 2).
    """
    w = _points(w)
    x, y = w[..., 0], w[..., 1]
    f = 0.5 * x * x + 0.25 * y**4 - 0.5 * y * y
    return f, np.stack([x, y**3 - y], axis=-1)


def trajectory(rule, surface, start, steps, config=None):
    """The points an update rule visits on a 2-D surface.

        w_0 = start,   w_k, config = rule(w_{k-1}, grad f(w_{k-1}), config)

    Inputs:
    - rule: an update rule function or its name in cs231n_lib.optim ("adam", ...)
    - surface: a function w -> (f, grad), such as long_valley or saddle
    - start: the point (x, y) to start from
    - steps: how many updates to take, >= 0
    - config: the rule's hyperparameters, e.g. {"learning_rate": 0.1}; it is
      copied, so the caller's dict is never filled with state
    Returns path: (steps + 1, 2) float64, path[0] = start. If the rule
    diverges (a point that is not finite), the rows from there on are NaN,
    which matplotlib leaves out of a line.
    """
    rule = get_update_rule(rule)
    steps = require_non_negative_int("steps", steps)
    w = np.array(start, dtype=np.float64)
    if w.shape != (2,):
        raise ValueError(f"start must be one point (x, y), got shape {w.shape}")
    if config is not None and not isinstance(config, dict):
        raise TypeError(f"config must be a dict of hyperparameters or None, got {type(config).__name__}")
    config = dict(config or {})
    path = np.full((steps + 1, 2), np.nan)
    path[0] = w
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(1, steps + 1):
            _, grad = surface(w)
            w, config = rule(w, grad, config)
            if not np.all(np.isfinite(w)):
                break
            path[k] = w
    return path


def path_style(index):
    """Colour, marker and line style of the index-th path (0-based), as plot keywords."""
    return {
        "color": _COLOURS[index % len(_COLOURS)],
        "marker": _MARKERS[index % len(_MARKERS)],
        "linestyle": _LINESTYLES[index % len(_LINESTYLES)],
    }


def _limits(paths, margin=0.1):
    """(xlim, ylim) around every finite point of every path, with a margin."""
    points = np.concatenate([np.asarray(p, dtype=np.float64).reshape(-1, 2) for p in paths.values()])
    points = points[np.all(np.isfinite(points), axis=1)]
    low, high = points.min(axis=0), points.max(axis=0)
    pad = margin * np.maximum(high - low, 1e-3)
    low, high = low - pad, high + pad
    return (float(low[0]), float(high[0])), (float(low[1]), float(high[1]))


def _check_paths(paths):
    if not isinstance(paths, dict) or not paths:
        raise TypeError("paths must be a non-empty dict {label: (steps + 1, 2) array}, "
                        f"got {type(paths).__name__}{'' if paths else ' (empty)'}")
    lengths = set()
    for label, path in paths.items():
        shape = np.shape(path)
        if len(shape) != 2 or shape[1] != 2 or shape[0] < 1:
            raise ValueError(f"paths[{label!r}] must have shape (steps + 1, 2), got {shape}")
        lengths.add(shape[0])
    return max(lengths) - 1


def _check_races(races):
    if not isinstance(races, dict) or not races:
        raise TypeError("races must be a non-empty dict {title: (surface, paths)}, "
                        f"got {type(races).__name__}{'' if races else ' (empty)'}")
    for title, race in races.items():
        if not (isinstance(race, tuple) and len(race) == 2 and callable(race[0])):
            raise TypeError(f"races[{title!r}] must be a pair (surface, paths), such as (long_valley, paths)")
    return races


def plot_race(surface, paths, step=None, ax=None, xlim=None, ylim=None, levels=15, title=None):
    """Draw the contours of a surface and the paths of several update rules on it.

    Inputs:
    - surface: a function w -> (f, grad), such as long_valley
    - paths: dict {label: (steps + 1, 2) array}, e.g. from trajectory
    - step: draw each path only up to this step (0 = the start), with a large
      marker where it is now; None draws whole paths
    - ax: the Axes to draw on (a new figure when None)
    - xlim, ylim: the region shown; by default, every point of every whole
      path with a margin, so the view stays put as step changes
    - levels: the number of contour lines (spaced evenly in rank, so the
      flat bottom gets lines as well as the steep walls), or a list of values
    - title: the panel's title (default: the surface's name)
    Returns the Figure holding ax.

    Contours are thin grey lines; a black cross marks the start. Each path
    is a line with its own colour, style and marker (a marker every few
    steps, so early steps stay readable) and a labelled legend entry.
    """
    max_step = _check_paths(paths)
    if step is not None:
        step = require_non_negative_int("step", step)
        if step > max_step:
            raise ValueError(f"step = {step} is past the end of the paths, which have {max_step} steps")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4), layout="constrained")
    auto_xlim, auto_ylim = _limits(paths)
    xlim = auto_xlim if xlim is None else xlim
    ylim = auto_ylim if ylim is None else ylim

    xs = np.linspace(xlim[0], xlim[1], _GRID_POINTS)
    ys = np.linspace(ylim[0], ylim[1], _GRID_POINTS)
    grid = np.stack(np.meshgrid(xs, ys), axis=-1)
    values, _ = surface(grid)
    if np.isscalar(levels) or np.ndim(levels) == 0:
        levels = np.unique(np.quantile(values, np.linspace(0.0, 1.0, int(levels) + 2)[1:-1]))
    ax.contour(xs, ys, values, levels=levels, colors="0.7", linewidths=0.8, negative_linestyles="solid")

    starts = []
    for index, (label, path) in enumerate(paths.items()):
        path = np.asarray(path, dtype=np.float64)
        shown = path if step is None else path[: step + 1]
        style = path_style(index)
        every = max(1, (len(path) - 1) // 12)
        ax.plot(shown[:, 0], shown[:, 1], linewidth=1.6, markersize=4, markevery=every,
                label=label, **style)
        finite = shown[np.all(np.isfinite(shown), axis=1)]
        if step is not None and len(finite):
            ax.plot(finite[-1, 0], finite[-1, 1], linestyle="none", marker=style["marker"],
                    color=style["color"], markersize=10, markeredgecolor="black")
        starts.append(tuple(path[0]))
    for start in dict.fromkeys(starts):
        ax.plot(*start, linestyle="none", marker="x", color="black", markersize=9, markeredgewidth=2)

    ax.set_xlim(xlim)
    ax.set_ylim(ylim)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    name = title if title is not None else getattr(surface, "__name__", "surface").replace("_", " ")
    ax.set_title(name if step is None else f"{name}, step {step}")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
    return ax.figure


def plot_races(races, step=None, figsize=None):
    """Several races, one panel each, stacked top to bottom.

    Inputs:
    - races: dict {title: (surface, paths)}, one entry per panel
    - step: as in plot_race, the same step in every panel (None: whole paths)
    - figsize: (width, height) in inches (default: 8 wide, 3.5 per panel)
    Returns the Figure.
    """
    _check_races(races)
    figsize = figsize or (8, 3.5 * len(races))
    fig, axes = plt.subplots(len(races), 1, figsize=figsize, layout="constrained", squeeze=False)
    for ax, (title, (surface, paths)) in zip(axes[:, 0], races.items()):
        plot_race(surface, paths, step=step, ax=ax, title=title)
    return fig


def race_widget(races, figsize=None):
    """A step slider over plot_races: drag it to watch the rules move.

    Inputs:
    - races: dict {title: (surface, paths)}, as for plot_races
    - figsize: as for plot_races
    Returns an ipywidgets VBox of one IntSlider, ``step`` (0 to the number of
    steps, starting at 0), and an Image showing plot_races(races, step=...) as a
    PNG, redrawn when the slider moves. An Image rather than ``interactive``'s
    Output area: executing a cell that displays into an Output widget sometimes
    loses the cell's execute reply under headless runners (nbclient, used by
    nbval and nbgrader), which then wait out their whole timeout.
    """
    import ipywidgets

    steps = max(_check_paths(paths) for _, paths in _check_races(races).values())
    slider = ipywidgets.IntSlider(value=0, min=0, max=steps, step=1, description="step",
                                  continuous_update=False)
    image = ipywidgets.Image(value=race_png(races, 0, figsize), format="png")
    slider.observe(lambda change: setattr(image, "value", race_png(races, change["new"], figsize)), names="value")
    return ipywidgets.VBox([slider, image])


def race_png(races, step, figsize=None):
    """plot_races(races, step=step) as PNG bytes (the figure is closed)."""
    return figure_png(plot_races(races, step=step, figsize=figsize))
