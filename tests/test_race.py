"""Tests for cs231n_lib.race: loss surfaces, trajectories and their plots.

Oracles: centred-difference gradients; values and stationary points worked
out by hand; plain SGD on the valley in closed form, w_k = (1 - lr * a)^k w_0;
the drawn artists themselves (lines, colours from OKABE_ITO, markers, line
styles, limits). Plots render on Agg and every test ends with no open figure.
"""

import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from figures import no_open_figures  # noqa: E402, F401  (autouse: applies to every test here)

from cs231n_lib import optim  # noqa: E402
from cs231n_lib.gradient_check import eval_numerical_gradient  # noqa: E402
from cs231n_lib.race import (  # noqa: E402
    VALLEY_CURVATURE,
    long_valley,
    path_style,
    plot_race,
    plot_races,
    race_widget,
    saddle,
    trajectory,
)
from cs231n_lib.vis import OKABE_ITO  # noqa: E402

SURFACES = [long_valley, saddle]

# The notebook's race settings: every rule converges on both surfaces.
RACE_CONFIGS = {
    "sgd": {"learning_rate": 0.45},
    "sgd_momentum": {"learning_rate": 0.04, "momentum": 0.9},
    "nesterov_momentum": {"learning_rate": 0.04, "momentum": 0.9},
    "adagrad": {"learning_rate": 1.0},
    "rmsprop": {"learning_rate": 0.2, "decay_rate": 0.9},
    "adam": {"learning_rate": 0.3, "beta1": 0.9, "beta2": 0.99},
    "adadelta": {"learning_rate": 1.0, "rho": 0.9, "epsilon": 1e-2},
}


# ---------------------------------------------------------------------------
# Surfaces
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("surface", SURFACES)
def test_gradient_matches_centred_differences(surface):
    rng = np.random.default_rng(5)
    for _ in range(20):
        w = rng.uniform(-3, 3, size=2)
        _, grad = surface(w)
        numerical = eval_numerical_gradient(lambda p: float(surface(p)[0]), w.copy(), h=1e-6)
        np.testing.assert_allclose(grad, numerical, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("surface", SURFACES)
def test_a_grid_of_points_gives_the_same_values_as_one_point_at_a_time(surface):
    grid = np.random.default_rng(0).uniform(-2, 2, size=(3, 4, 2))
    f, grad = surface(grid)
    assert f.shape == (3, 4) and grad.shape == (3, 4, 2)
    for index in np.ndindex(3, 4):
        f_one, grad_one = surface(grid[index])
        assert f_one.shape == () and grad_one.shape == (2,)
        np.testing.assert_allclose(f[index], f_one, rtol=1e-15)
        np.testing.assert_allclose(grad[index], grad_one, rtol=1e-15)


def test_long_valley_by_hand():
    assert VALLEY_CURVATURE == (0.1, 4.0)
    f, grad = long_valley(np.array([2.0, -1.0]))
    assert f == pytest.approx(0.05 * 4 + 2 * 1)  # 2.2
    np.testing.assert_allclose(grad, [0.2, -4.0])
    f0, grad0 = long_valley([0.0, 0.0])
    assert f0 == 0.0 and np.all(grad0 == 0.0)


def test_saddle_by_hand():
    f, grad = saddle([2.0, 2.0])
    assert f == pytest.approx(2 + 4 - 2)  # x^2/2 + y^4/4 - y^2/2
    np.testing.assert_allclose(grad, [2.0, 6.0])
    for point, value in [((0.0, 0.0), 0.0), ((0.0, 1.0), -0.25), ((0.0, -1.0), -0.25)]:
        f, grad = saddle(point)
        assert f == pytest.approx(value)
        np.testing.assert_allclose(grad, [0.0, 0.0], atol=1e-15)
    # The origin is a saddle: uphill along x, downhill along y.
    assert saddle([0.1, 0.0])[0] > 0 > saddle([0.0, 0.1])[0]


@pytest.mark.parametrize("surface", SURFACES)
@pytest.mark.parametrize("shape", [(), (3,), (2, 3)])
def test_points_without_two_coordinates_are_refused(surface, shape):
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 2\); got shape " + re.escape(str(shape))):
        surface(np.zeros(shape))


# ---------------------------------------------------------------------------
# trajectory
# ---------------------------------------------------------------------------


def test_sgd_on_the_valley_follows_the_closed_form():
    lr, steps = 0.3, 25
    start = np.array([-9.0, 1.5])
    path = trajectory("sgd", long_valley, start, steps, {"learning_rate": lr})
    factors = 1 - lr * np.array(VALLEY_CURVATURE)
    expected = start * factors ** np.arange(steps + 1)[:, None]
    np.testing.assert_allclose(path, expected, rtol=1e-12, atol=1e-15)


def test_trajectory_shape_start_and_zero_steps():
    path = trajectory(optim.sgd, saddle, (1.0, 2.0), 7)
    assert path.shape == (8, 2) and path.dtype == np.float64
    np.testing.assert_array_equal(path[0], [1.0, 2.0])
    np.testing.assert_array_equal(trajectory("adam", saddle, [1.0, 2.0], 0), [[1.0, 2.0]])


def test_trajectory_accepts_a_name_or_a_function_alike():
    by_name = trajectory("rmsprop", long_valley, (-9, 1.5), 10, {"learning_rate": 0.2})
    by_function = trajectory(optim.rmsprop, long_valley, (-9, 1.5), 10, {"learning_rate": 0.2})
    np.testing.assert_array_equal(by_name, by_function)


def test_trajectory_never_changes_the_callers_config():
    config = {"learning_rate": 0.3}
    first = trajectory("adam", long_valley, (-9, 1.5), 5, config)
    assert config == {"learning_rate": 0.3}
    np.testing.assert_array_equal(trajectory("adam", long_valley, (-9, 1.5), 5, config), first)


@pytest.mark.parametrize("name", RACE_CONFIGS)
def test_every_rule_goes_down_the_valley_with_the_race_settings(name):
    path = trajectory(name, long_valley, (-9, 1.5), 80, RACE_CONFIGS[name])
    f, _ = long_valley(path)
    assert np.all(np.isfinite(path))
    assert f[-1] < f[0] / 100, f"{name}: f went from {f[0]:.3g} to {f[-1]:.3g}"
    assert f[40] < f[0] / 10, f"{name}: after 40 steps f = {f[40]:.3g}"


@pytest.mark.parametrize("name", RACE_CONFIGS)
def test_every_rule_leaves_the_saddle_for_a_minimum(name):
    path = trajectory(name, saddle, (-2, 1e-3), 80, RACE_CONFIGS[name])
    f, _ = saddle(path)
    assert f[-1] < -0.2, f"{name}: ended at {path[-1]} with f = {f[-1]:.3g}"


def test_adaptive_rules_leave_the_saddle_before_sgd_and_momentum():
    def escape_step(name):
        path = trajectory(name, saddle, (-2, 1e-3), 80, RACE_CONFIGS[name])
        return int(np.flatnonzero(np.abs(path[:, 1]) > 0.5)[0])

    slow = min(escape_step(name) for name in ("sgd", "sgd_momentum", "nesterov_momentum"))
    fast = max(escape_step(name) for name in ("adagrad", "rmsprop", "adam"))
    assert fast < slow, f"adaptive rules escape by step {fast}, the others from step {slow}"


def test_a_diverging_rule_leaves_nan_rows_without_warnings():
    # lr 10: the y coordinate is multiplied by 1 - 40 = -39 each step and overflows.
    path = trajectory("sgd", long_valley, (-9, 1.5), 400, {"learning_rate": 10.0})
    finite = np.all(np.isfinite(path), axis=1)
    last = int(np.flatnonzero(finite)[-1])
    assert 0 < last < 400
    assert np.all(finite[: last + 1]) and np.all(np.isnan(path[last + 1:]))


def test_trajectory_refuses_bad_arguments():
    with pytest.raises(ValueError, match=r"start must be one point \(x, y\), got shape \(3,\)"):
        trajectory("sgd", saddle, (1.0, 2.0, 3.0), 5)
    with pytest.raises(ValueError, match="steps must be zero or positive, got -1"):
        trajectory("sgd", saddle, (1.0, 2.0), -1)
    with pytest.raises(TypeError, match="config must be a dict.*got list"):
        trajectory("sgd", saddle, (1.0, 2.0), 3, [("learning_rate", 0.1)])
    with pytest.raises(ValueError, match="did you mean 'adam'"):
        trajectory("adma", saddle, (1.0, 2.0), 3)


# ---------------------------------------------------------------------------
# Plots
# ---------------------------------------------------------------------------


def race_paths(surface=long_valley, steps=20, names=RACE_CONFIGS):
    return {name: trajectory(name, surface, (-9, 1.5), steps, RACE_CONFIGS[name]) for name in names}


def path_lines(ax):
    """The lines that draw a path: those with a legend label."""
    return [line for line in ax.get_lines() if not line.get_label().startswith("_")]


def test_plot_race_draws_contours_and_one_labelled_line_per_path():
    paths = race_paths()
    fig = plot_race(long_valley, paths)
    ax = fig.axes[0]
    assert ax.collections, "the contours of the surface are drawn"
    lines = path_lines(ax)
    assert [line.get_label() for line in lines] == list(paths)
    for line, path in zip(lines, paths.values()):
        np.testing.assert_array_equal(np.column_stack(line.get_data()), path)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == list(paths)
    assert ax.get_title() == "long valley"
    assert ax.get_xlabel() == "x" and ax.get_ylabel() == "y"


def test_paths_differ_by_colour_marker_and_line_style():
    lines = path_lines(plot_race(long_valley, race_paths()).axes[0])
    palette = [c.lower() for c in OKABE_ITO]
    colours = [matplotlib.colors.to_hex(line.get_color()) for line in lines]
    assert all(c in palette for c in colours)
    assert "#f0e442" not in colours, "yellow is too pale on white"
    for attribute in ("get_color", "get_marker"):
        values = [str(getattr(line, attribute)()) for line in lines]
        assert len(set(values)) == len(lines), f"{attribute}: {values}"
    # Line2D.get_linestyle() reports every custom dash pattern as "--", so compare the styles asked for.
    styles = [path_style(i) for i in range(len(lines))]
    assert len({str(style["linestyle"]) for style in styles}) == len(lines)
    for line, style in zip(lines, styles):
        assert matplotlib.colors.same_color(line.get_color(), style["color"])
        assert line.get_marker() == style["marker"]
    assert path_style(0) == path_style(7), "styles cycle after seven paths"


def test_the_view_holds_every_point_and_a_black_cross_marks_the_start():
    paths = race_paths()
    ax = plot_race(long_valley, paths).axes[0]
    points = np.concatenate(list(paths.values()))
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    assert x0 < points[:, 0].min() and points[:, 0].max() < x1
    assert y0 < points[:, 1].min() and points[:, 1].max() < y1
    starts = [line for line in ax.get_lines() if line.get_marker() == "x"]
    assert len(starts) == 1
    np.testing.assert_array_equal(np.column_stack(starts[0].get_data()), [[-9.0, 1.5]])


def test_step_draws_each_path_up_to_that_step_in_the_same_view():
    paths = race_paths()
    whole = plot_race(long_valley, paths).axes[0]
    ax = plot_race(long_valley, paths, step=5).axes[0]
    assert ax.get_title() == "long valley, step 5"
    assert (ax.get_xlim(), ax.get_ylim()) == (whole.get_xlim(), whole.get_ylim())
    for line, path in zip(path_lines(ax), paths.values()):
        np.testing.assert_array_equal(np.column_stack(line.get_data()), path[:6])
    current = [line for line in ax.get_lines() if line.get_label().startswith("_") and line.get_markersize() == 10]
    assert len(current) == len(paths)
    np.testing.assert_array_equal(
        np.array([np.ravel(line.get_data()) for line in current]),
        np.array([path[5] for path in paths.values()]),
    )


def test_plot_race_on_given_axes_with_limits_levels_and_title():
    fig, ax = plt.subplots()
    returned = plot_race(saddle, race_paths(saddle), ax=ax, xlim=(-3, 1), ylim=(-1.5, 1.5),
                         levels=[-0.2, 0.0, 0.5], title="my saddle")
    assert returned is fig
    assert ax.get_xlim() == (-3, 1) and ax.get_ylim() == (-1.5, 1.5)
    assert ax.get_title() == "my saddle"


def test_plot_race_refuses_bad_paths_and_steps():
    paths = race_paths(steps=10)
    with pytest.raises(ValueError, match="step = 11 is past the end of the paths, which have 10 steps"):
        plot_race(long_valley, paths, step=11)
    with pytest.raises(ValueError, match=r"paths\['bad'\] must have shape \(steps \+ 1, 2\), got \(4, 3\)"):
        plot_race(long_valley, {"bad": np.zeros((4, 3))})
    with pytest.raises(TypeError, match="non-empty dict"):
        plot_race(long_valley, {})


def test_plot_races_draws_one_panel_per_race():
    races = {"valley": (long_valley, race_paths()), "saddle": (saddle, race_paths(saddle))}
    fig = plot_races(races, step=3)
    assert len(fig.axes) == 2
    assert [ax.get_title() for ax in fig.axes] == ["valley, step 3", "saddle, step 3"]
    with pytest.raises(TypeError, match="non-empty dict"):
        plot_races({})
    with pytest.raises(TypeError, match=r"races\['valley'\] must be a pair \(surface, paths\)"):
        plot_races({"valley": race_paths()})
    with pytest.raises(TypeError, match="non-empty dict.*got list"):
        race_widget([long_valley])


def test_race_widget_slides_over_the_steps(capsys):
    ipywidgets = pytest.importorskip("ipywidgets")
    races = {"valley": (long_valley, race_paths(steps=12))}
    widget = race_widget(races)
    sliders = [child for child in widget.children if isinstance(child, ipywidgets.IntSlider)]
    assert len(sliders) == 1
    slider = sliders[0]
    assert (slider.min, slider.max, slider.value, slider.description) == (0, 12, 0, "step")
    (image,) = [child for child in widget.children if isinstance(child, ipywidgets.Image)]
    first = bytes(image.value)  # the widget holds a memoryview
    assert first.startswith(b"\x89PNG")
    slider.value = 4  # redraws through plot_races, then closes the figure
    assert bytes(image.value).startswith(b"\x89PNG") and bytes(image.value) != first
    assert plt.get_fignums() == []
