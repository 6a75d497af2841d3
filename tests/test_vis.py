"""Tests for cs231n_lib.vis.

Oracles:
- grid shapes, rescaled values and confusion counts worked out by hand;
- a second, loop-based confusion matrix for random labels;
- the drawn artists themselves: which Axes were used, axis labels, legend
  entries, line colours (must come from OKABE_ITO), colormap names, the text
  and text colour in each confusion-matrix cell.

Plots render on the Agg backend, every test starts and ends with no open
figure, and plt.show is replaced so that a library call to it fails the test.
"""

import math
import re
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")

import matplotlib.colors as mcolors  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from figures import no_open_figures  # noqa: E402, F401  (autouse: applies to every test here)

from cs231n_lib.vis import (  # noqa: E402
    OKABE_ITO,
    confusion_matrix,
    plot_confusion_matrix,
    plot_misclassified,
    plot_training_history,
    show_activation_maps,
    show_filters,
    visualize_grid,
)


def rng():
    return np.random.default_rng(231)


def numbers_in(message):
    return [int(k) for k in re.findall(r"-?\d+", message)]


# ---------------------------------------------------------------------------
# OKABE_ITO
# ---------------------------------------------------------------------------


def test_okabe_ito_is_the_eight_published_colours():
    assert OKABE_ITO == [
        "#E69F00", "#56B4E9", "#009E73", "#F0E442",
        "#0072B2", "#D55E00", "#CC79A7", "#000000",
    ]


def in_okabe_ito(colour):
    return mcolors.to_hex(colour).upper() in OKABE_ITO


# ---------------------------------------------------------------------------
# visualize_grid
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("N, side", [(1, 1), (4, 2), (5, 3), (9, 3)])
def test_grid_side_is_ceil_sqrt_n(N, side):
    assert side == math.ceil(math.sqrt(N))
    H, W, C, pad = 3, 2, 3, 1
    grid = visualize_grid(rng().standard_normal((N, H, W, C)), padding=pad)
    # side images and side - 1 gaps along each axis
    assert grid.shape == (side * H + (side - 1) * pad, side * W + (side - 1) * pad, C)


def test_each_image_rescaled_to_0_ubound_on_its_own():
    small = np.array([2.0, 4.0, 6.0]).reshape(1, 1, 3, 1)
    large = np.array([-300.0, 0.0, 300.0]).reshape(1, 1, 3, 1)
    grid = visualize_grid(np.concatenate([small, large]), ubound=10.0, padding=0)
    # (x - min) / (max - min) * 10: [2, 4, 6] -> [0, 5, 10]; [-300, 0, 300] likewise.
    # Two images make a 2 x 2 grid: they fill row 0, row 1 is empty.
    np.testing.assert_allclose(grid[:, :, 0], [[0, 5, 10, 0, 5, 10], [0] * 6])


def test_rescale_spans_all_channels_together():
    # Rescaling per channel would turn both pixels into 0 and 255 in every channel.
    img = np.array([[[0.0, 1.0, 2.0], [4.0, 4.0, 4.0]]])[np.newaxis]  # (1, 1, 2, 3)
    grid = visualize_grid(img, ubound=4.0)
    np.testing.assert_allclose(grid, [[[0, 1, 2], [4, 4, 4]]])


def test_constant_image_becomes_zeros_without_warnings():
    # filterwarnings = error turns a 0/0 RuntimeWarning into a failure.
    constant = np.full((1, 2, 2, 3), 7.0)
    varied = np.arange(12.0).reshape(1, 2, 2, 3)
    grid = visualize_grid(np.concatenate([constant, varied]), padding=0)
    assert np.all(grid[:, :2] == 0)
    assert grid[:, 2:].max() == 255.0


def test_padding_pixels_are_zero_and_images_sit_between_them():
    N, H, W, pad = 4, 2, 3, 2
    X = rng().uniform(1.0, 2.0, size=(N, H, W, 1))
    grid = visualize_grid(X, ubound=1.0, padding=pad)
    assert grid.shape == (2 * H + pad, 2 * W + pad, 1)
    assert np.all(grid[H:H + pad, :] == 0)  # horizontal gap
    assert np.all(grid[:, W:W + pad] == 0)  # vertical gap
    # image 3 is in row 1, column 1
    block = grid[H + pad:, W + pad:]
    expected = (X[3] - X[3].min()) / (X[3].max() - X[3].min())
    np.testing.assert_allclose(block, expected)


def test_unused_cells_are_zero():
    X = rng().standard_normal((5, 2, 2, 3))
    grid = visualize_grid(X, padding=0)  # 3 x 3 cells, the last 4 empty
    assert grid.shape == (6, 6, 3)
    assert np.all(grid[2:4, 4:6] == 0)  # cell 5: row 1, column 2
    assert np.all(grid[4:, :] == 0)  # cells 6, 7, 8


def test_nchw_equals_nhwc_after_transposing():
    X_nchw = rng().standard_normal((5, 3, 4, 6))
    from_nchw = visualize_grid(X_nchw, layout="NCHW")
    from_nhwc = visualize_grid(X_nchw.transpose(0, 2, 3, 1))
    np.testing.assert_array_equal(from_nchw, from_nhwc)


def test_grayscale_gives_2d_grid_equal_to_one_channel():
    X = rng().standard_normal((3, 4, 5))
    grid = visualize_grid(X, padding=1)
    assert grid.shape == (2 * 4 + 1, 2 * 5 + 1)
    np.testing.assert_array_equal(grid, visualize_grid(X[..., np.newaxis])[:, :, 0])


def test_grid_keeps_float32_and_turns_uint8_into_float64():
    X = rng().integers(0, 256, size=(2, 3, 3, 3)).astype(np.uint8)
    assert visualize_grid(X).dtype == np.float64
    assert visualize_grid(X.astype(np.float32)).dtype == np.float32


def test_grid_rejects_bad_layout():
    with pytest.raises(ValueError, match="'NHWC' or 'NCHW'.*'CHW'"):
        visualize_grid(np.zeros((1, 2, 2, 3)), layout="CHW")


def test_grid_rejects_a_single_image():
    with pytest.raises(ValueError, match=r"3 or 4 dimensions, got 2 \(shape \(4, 5\)\)"):
        visualize_grid(np.zeros((4, 5)))


def test_grid_names_the_image_with_nan():
    X = np.zeros((3, 2, 2, 1))
    X[2, 1, 0, 0] = np.nan
    with pytest.raises(ValueError, match="image 2 contains NaN"):
        visualize_grid(X)


def test_grid_rejects_zero_ubound():
    with pytest.raises(ValueError, match="ubound must be a finite number > 0, got 0"):
        visualize_grid(np.zeros((1, 2, 2, 3)), ubound=0)


def test_grid_rejects_empty_batch():
    with pytest.raises(ValueError, match=r"no images \(shape \(0, 2, 2, 3\)\)"):
        visualize_grid(np.zeros((0, 2, 2, 3)))


# ---------------------------------------------------------------------------
# confusion_matrix
# ---------------------------------------------------------------------------


def test_confusion_matrix_by_hand():
    y_true = [0, 0, 1, 2, 2, 2]
    y_pred = [0, 1, 1, 2, 0, 2]
    # pairs (t, p): (0,0) (0,1) (1,1) (2,2) (2,0) (2,2)
    expected = [[1, 1, 0],
                [0, 1, 0],
                [1, 0, 2]]
    cm = confusion_matrix(y_true, y_pred)
    assert cm.dtype.kind == "i"
    np.testing.assert_array_equal(cm, expected)


def test_confusion_matrix_num_classes_adds_empty_classes():
    cm = confusion_matrix(np.array([1, 1]), np.array([0, 1]), num_classes=4)
    np.testing.assert_array_equal(cm, [[0, 0, 0, 0], [1, 1, 0, 0], [0] * 4, [0] * 4])


def test_confusion_matrix_matches_a_loop():
    r = rng()
    y_true = r.integers(0, 7, size=500)
    y_pred = r.integers(0, 7, size=500)
    expected = np.zeros((7, 7), dtype=int)
    for t, p in zip(y_true, y_pred):
        expected[t, p] += 1
    np.testing.assert_array_equal(confusion_matrix(y_true, y_pred, num_classes=7), expected)


def test_confusion_matrix_length_mismatch_names_both_lengths():
    with pytest.raises(ValueError, match="y_true has 5 labels but y_pred has 4"):
        confusion_matrix([0, 1, 2, 0, 1], [0, 1, 2, 0])


def test_confusion_matrix_negative_label_names_index_and_value():
    with pytest.raises(ValueError, match=r"y_pred\[2\] = -1 is negative"):
        confusion_matrix([0, 1, 1], [0, 1, -1])


def test_confusion_matrix_refuses_float_labels():
    with pytest.raises(TypeError, match="y_true must hold integer class labels, got dtype float64"):
        confusion_matrix(np.array([0.0, 1.0]), np.array([0, 1]))


def test_confusion_matrix_label_beyond_num_classes():
    with pytest.raises(ValueError) as info:
        confusion_matrix([0, 1], [0, 3], num_classes=3)
    message = str(info.value)
    assert "y_pred[1] = 3 is outside 0..2 for num_classes=3" in message
    assert "num_classes=4" in message


def test_confusion_matrix_refuses_2d_labels():
    with pytest.raises(ValueError, match=r"y_true must be a 1-D array of labels, got shape \(2, 2\)"):
        confusion_matrix([[0, 1], [1, 0]], [0, 1, 1, 0])


def test_confusion_matrix_of_nothing_needs_num_classes():
    with pytest.raises(ValueError, match="from 0 labels; pass num_classes"):
        confusion_matrix([], [])
    np.testing.assert_array_equal(confusion_matrix([], [], num_classes=2), np.zeros((2, 2)))


# ---------------------------------------------------------------------------
# show_filters, show_activation_maps
# ---------------------------------------------------------------------------


def test_show_filters_rgb_makes_one_figure_without_ticks():
    w = rng().standard_normal((6, 3, 5, 5))
    ax = show_filters(w, title="conv1")
    assert plt.get_fignums() == [ax.figure.number]
    (im,) = ax.images
    assert im.get_array().shape == (3 * 5 + 2, 3 * 5 + 2, 3)  # 3 x 3 grid, padding 1
    assert list(ax.get_xticks()) == [] and list(ax.get_yticks()) == []
    assert ax.get_title() == "conv1"


def test_show_filters_draws_on_the_given_axes_without_new_figures():
    fig, (left, right) = plt.subplots(1, 2)
    ax = show_filters(rng().standard_normal((4, 3, 3, 3)), ax=right)
    assert ax is right
    assert len(right.images) == 1 and len(left.images) == 0
    assert plt.get_fignums() == [fig.number]


def test_show_filters_grayscale_uses_cividis():
    ax = show_filters(rng().standard_normal((4, 1, 3, 3)))
    assert ax.images[0].get_cmap().name == "cividis"
    assert ax.images[0].get_array().shape == (7, 7)


def test_show_filters_averages_channels_when_not_rgb():
    w = rng().standard_normal((4, 5, 3, 3))
    ax = show_filters(w)
    assert ax.images[0].get_cmap().name == "cividis"
    np.testing.assert_allclose(ax.images[0].get_array(), visualize_grid(w.mean(axis=1), ubound=1.0))


def test_show_filters_shared_scale_is_symmetric_with_a_labelled_colour_bar():
    w = np.array([[[[1.0, -2.0], [0.5, 0.0]]], [[[0.25, 0.0], [0.0, -0.5]]]])  # (2, 1, 2, 2)
    ax = show_filters(w, title="conv1", scale="shared")
    (im,) = ax.images
    # max |w| = 2, so the scale runs from -2 to 2 and 0 sits in its middle
    assert im.get_clim() == (-2.0, 2.0)
    assert im.get_cmap().name.startswith("cividis")
    # 2 filters -> a 2 x 2 grid of 2x2 cells with 1-pixel gaps; weights kept as they are
    grid = np.ma.filled(im.get_array(), np.nan)
    assert grid.shape == (5, 5)
    np.testing.assert_array_equal(grid[0:2, 0:2], w[0, 0])
    np.testing.assert_array_equal(grid[0:2, 3:5], w[1, 0])
    # gaps and the two unused cells are blank, not drawn as a weight of 0
    assert np.isnan(grid[2, :]).all() and np.isnan(grid[:, 2]).all()
    assert np.isnan(grid[3:, :]).all()
    colour_bars = [a for a in ax.figure.axes if a is not ax]
    assert len(colour_bars) == 1, f"expected 1 colour bar, found {len(colour_bars)}"
    assert colour_bars[0].get_ylabel() == "weight value"
    assert ax.get_title() == "conv1"


def test_show_filters_shared_averages_channels_and_says_so():
    w = rng().standard_normal((4, 5, 3, 3))
    ax = show_filters(w, scale="shared")
    limit = float(np.abs(w.mean(axis=1)).max())
    assert ax.images[0].get_clim() == pytest.approx((-limit, limit))
    (colour_bar,) = [a for a in ax.figure.axes if a is not ax]
    assert "mean over input channels" in colour_bar.get_ylabel()


def test_show_filters_shared_refuses_rgb_and_names_the_shape():
    with pytest.raises(ValueError, match=r"\(2, 3, 3, 3\).*scale='each'"):
        show_filters(np.zeros((2, 3, 3, 3)), scale="shared")


def test_show_filters_refuses_an_unknown_scale():
    with pytest.raises(ValueError, match="'each' or 'shared', got 'global'"):
        show_filters(np.zeros((2, 1, 3, 3)), scale="global")


def test_show_filters_default_scale_adds_no_colour_bar():
    ax = show_filters(rng().standard_normal((4, 1, 3, 3)))
    assert ax.figure.axes == [ax]


def test_show_activation_maps_max_maps_and_cividis():
    a = rng().standard_normal((10, 4, 4))
    ax = show_activation_maps(a, max_maps=4, title="conv1 maps")
    (im,) = ax.images
    assert im.get_cmap().name == "cividis"
    assert im.get_array().shape == (2 * 4 + 1, 2 * 4 + 1)  # 4 maps -> 2 x 2
    assert ax.get_title() == "conv1 maps"


def test_show_activation_maps_uses_given_axes():
    fig, ax = plt.subplots()
    assert show_activation_maps(np.zeros((3, 2, 2)), ax=ax) is ax
    assert plt.get_fignums() == [fig.number]


def test_show_activation_maps_refuses_a_batch_and_says_which_slice():
    with pytest.raises(ValueError, match=r"\(2, 8, 5, 5\).*activations\[0\]"):
        show_activation_maps(np.zeros((2, 8, 5, 5)))


# ---------------------------------------------------------------------------
# plot_training_history
# ---------------------------------------------------------------------------


def make_history():
    return {
        "loss_history": list(np.linspace(2.3, 0.5, 60)),
        "train_acc_history": [0.1, 0.4, 0.6, 0.7],
        "val_acc_history": [0.1, 0.35, 0.5, 0.55],
    }


def test_history_figure_has_labelled_panels_and_legend():
    fig = plot_training_history(make_history())
    assert isinstance(fig, matplotlib.figure.Figure)
    loss_ax, acc_ax = fig.axes
    assert (loss_ax.get_xlabel(), loss_ax.get_ylabel()) == ("iteration", "loss")
    assert (acc_ax.get_xlabel(), acc_ax.get_ylabel()) == ("epoch", "accuracy")
    labels = [t.get_text() for t in acc_ax.get_legend().get_texts()]
    assert labels == ["train", "val"]
    assert loss_ax.get_legend() is not None


def test_history_colours_come_from_okabe_ito():
    fig = plot_training_history(make_history())
    lines = [line for ax in fig.axes for line in ax.get_lines()]
    assert len(lines) == 4
    for line in lines:
        assert in_okabe_ito(line.get_color()), line.get_color()


def test_history_train_and_val_differ_beyond_colour():
    fig = plot_training_history(make_history())
    train, val = fig.axes[1].get_lines()
    assert train.get_marker() != val.get_marker()
    assert train.get_linestyle() != val.get_linestyle()
    assert mcolors.to_hex(train.get_color()) != mcolors.to_hex(val.get_color())
    np.testing.assert_array_equal(train.get_xdata(), [0, 1, 2, 3])


def test_history_raw_loss_is_thin_and_moving_average_is_right():
    h = make_history()
    h["loss_history"] = [4.0, 2.0, 6.0, 0.0, 2.0]
    fig = plot_training_history(h, window=2)
    raw, smooth = fig.axes[0].get_lines()
    assert raw.get_linewidth() < smooth.get_linewidth()
    # trailing means of 2: (4+2)/2, (2+6)/2, (6+0)/2, (0+2)/2 at iterations 1..4
    np.testing.assert_allclose(smooth.get_ydata(), [3.0, 4.0, 3.0, 1.0])
    np.testing.assert_array_equal(smooth.get_xdata(), [1, 2, 3, 4])


@pytest.mark.parametrize("epochs", [4, 21])
def test_history_epoch_ticks_are_whole_numbers(epochs):
    # Matplotlib's default locator puts ticks at 0.5 steps for 4 epochs (0..3)
    # and at 2.5 steps for 21 (0..20), the 50-image run of notebook 07.
    h = make_history()
    h["train_acc_history"] = list(np.linspace(0.1, 1.0, epochs))
    h["val_acc_history"] = list(np.linspace(0.1, 0.8, epochs))
    fig = plot_training_history(h)
    fig.canvas.draw()
    acc_ax = fig.axes[1]
    lo, hi = acc_ax.get_xlim()
    shown = [float(t) for t in acc_ax.get_xticks() if lo <= t <= hi]
    assert len(shown) >= 2, f"only {len(shown)} epoch ticks between {lo} and {hi}"
    fractional = [t for t in shown if t != round(t)]
    assert fractional == [], f"epoch ticks {fractional} of {shown} are not whole numbers"


def test_history_accepts_a_solver_like_object():
    solver = SimpleNamespace(**make_history())
    fig = plot_training_history(solver)
    np.testing.assert_allclose(fig.axes[0].get_lines()[0].get_ydata(), solver.loss_history)


def test_history_draws_on_given_axes():
    fig, axes = plt.subplots(2, 1)
    assert plot_training_history(make_history(), axes=axes) is fig
    assert plt.get_fignums() == [fig.number]
    assert len(axes[0].get_lines()) == 2 and len(axes[1].get_lines()) == 2


def test_history_empty_says_training_has_not_run():
    h = {"loss_history": [], "train_acc_history": [], "val_acc_history": []}
    with pytest.raises(ValueError, match="training has not run"):
        plot_training_history(h)
    assert plt.get_fignums() == []


def test_history_missing_key_is_named():
    h = make_history()
    del h["val_acc_history"]
    with pytest.raises(ValueError, match="missing 'val_acc_history'"):
        plot_training_history(h)


def test_history_mismatched_accuracy_lengths_are_named():
    h = make_history()
    h["val_acc_history"] = h["val_acc_history"][:3]
    with pytest.raises(ValueError, match="train_acc_history has 4 values but val_acc_history has 3"):
        plot_training_history(h)


# ---------------------------------------------------------------------------
# plot_confusion_matrix
# ---------------------------------------------------------------------------


CM = np.array([[5, 1, 0],
               [2, 7, 1],
               [0, 3, 9]])


def test_confusion_plot_uses_cividis_and_writes_each_count():
    ax = plot_confusion_matrix(CM)
    (im,) = ax.images
    assert im.get_cmap().name == "cividis"
    texts = [t.get_text() for t in ax.texts]
    assert texts == [str(v) for v in CM.ravel()]  # row by row
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("predicted", "true")


def test_confusion_text_contrasts_with_its_cell():
    ax = plot_confusion_matrix(CM)
    colours = dict(zip([t.get_text() for t in ax.texts], [t.get_color() for t in ax.texts]))
    assert colours["0"] == "white"  # the darkest cividis blue
    assert colours["9"] == "black"  # the brightest cividis yellow


def test_confusion_normalized_shows_row_fractions():
    ax = plot_confusion_matrix(np.array([[3, 1], [0, 0]]), normalize=True)
    # row 0: 3/4, 1/4; row 1 has no examples and stays 0
    assert [t.get_text() for t in ax.texts] == ["0.75", "0.25", "0.00", "0.00"]


def test_confusion_class_names_label_the_ticks_and_given_axes_are_used():
    fig, ax = plt.subplots()
    out = plot_confusion_matrix(CM, class_names=["cat", "dog", "ship"], ax=ax)
    assert out is ax and plt.get_fignums() == [fig.number]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["cat", "dog", "ship"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["cat", "dog", "ship"]


def test_confusion_plot_wrong_number_of_names():
    with pytest.raises(ValueError, match="class_names has 2 names but cm has 3 classes"):
        plot_confusion_matrix(CM, class_names=["cat", "dog"])


def test_confusion_plot_refuses_negative_counts():
    bad = CM.copy()
    bad[1, 2] = -4
    with pytest.raises(ValueError, match=r"cm\[1, 2\] = -4"):
        plot_confusion_matrix(bad)


# ---------------------------------------------------------------------------
# plot_misclassified
# ---------------------------------------------------------------------------


def image_axes(fig):
    return [ax for ax in fig.axes if ax.images]


def test_misclassified_titles_say_true_arrow_predicted():
    X = rng().standard_normal((6, 3, 4, 4))
    y_true = np.array([0, 1, 2, 0, 1, 2])
    y_pred = np.array([0, 2, 2, 1, 1, 0])  # wrong at 1, 3, 5
    fig = plot_misclassified(X, y_true, y_pred, class_names=["cat", "dog", "ship"])
    assert isinstance(fig, matplotlib.figure.Figure)
    titles = [ax.get_title() for ax in image_axes(fig)]
    assert titles == ["dog → ship", "cat → dog", "ship → cat"]
    assert image_axes(fig)[0].images[0].get_array().shape == (4, 4, 3)


def test_misclassified_respects_max_images():
    X = rng().standard_normal((10, 1, 3, 3))
    fig = plot_misclassified(X, np.zeros(10, dtype=int), np.ones(10, dtype=int), max_images=4)
    axes = image_axes(fig)
    assert len(axes) == 4
    assert axes[0].images[0].get_cmap().name == "gray"
    assert "4 of 10" in fig.get_suptitle()


def test_misclassified_nhwc_layout():
    X = rng().standard_normal((2, 4, 5, 3))
    fig = plot_misclassified(X, np.array([0, 1]), np.array([1, 1]), layout="NHWC")
    assert [ax.get_title() for ax in image_axes(fig)] == ["0 → 1"]


def test_misclassified_none_wrong_says_so():
    X = rng().standard_normal((3, 3, 2, 2))
    fig = plot_misclassified(X, np.array([0, 1, 2]), np.array([0, 1, 2]))
    assert isinstance(fig, matplotlib.figure.Figure)
    assert image_axes(fig) == []
    (text,) = fig.axes[0].texts
    assert "No misclassified" in text.get_text() and "all 3" in text.get_text()


def test_misclassified_suggests_layout_when_channels_look_last():
    X = np.zeros((2, 8, 8, 3))  # NHWC passed with the default layout='NCHW'
    with pytest.raises(ValueError, match="X has 8 channels.*layout='NHWC'"):
        plot_misclassified(X, np.array([0, 1]), np.array([1, 0]))


def test_misclassified_label_count_must_match_images():
    with pytest.raises(ValueError, match="X holds 3 images but there are 2 labels"):
        plot_misclassified(np.zeros((3, 1, 2, 2)), np.array([0, 1]), np.array([1, 0]))
