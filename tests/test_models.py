"""Tests for cs231n_lib.models: gradient checks in float64, initial loss, modes, errors."""

import math

import numpy as np
import pytest

from cs231n_lib.gradient_check import eval_numerical_gradient, rel_error
from cs231n_lib.models import (
    ConvNet,
    FullyConnectedNet,
    ThreeLayerConvNet,
    parse_layers,
)
from cs231n_lib.shapes import FC, Conv, Pool


def numerical_grads(model, X, y):
    """Numerical gradients of model.loss(X, y)[0] for every parameter.

    The model's generator is reset before each evaluation, so a dropout
    model sees the same masks in every call, the ones the analytic pass used.
    """
    state = model.rng.bit_generator.state

    def loss(_):
        model.rng.bit_generator.state = state
        return model.loss(X, y)[0]

    grads = {name: eval_numerical_gradient(loss, param) for name, param in model.params.items()}
    model.rng.bit_generator.state = state
    return grads


def assert_gradients_match(model, X, y, tol=1e-7):
    state = model.rng.bit_generator.state
    _, analytic = model.loss(X, y)
    model.rng.bit_generator.state = state
    numerical = numerical_grads(model, X, y)
    assert set(analytic) == set(model.params)
    for name in model.params:
        error = rel_error(analytic[name], numerical[name])
        assert error < tol, f"{name}: relative error {error:.2e}"


def set_biases(model, rng):
    """Non-zero biases keep ReLU inputs away from exactly 0 (a kink)."""
    for name, value in model.params.items():
        if name.startswith("b"):
            model.params[name] = rng.uniform(0.1, 0.3, value.shape)


# ---------------------------------------------------------------------------
# FullyConnectedNet
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("reg", [0.0, 0.7])
@pytest.mark.parametrize("dropout", [0.0, 0.25])
def test_fully_connected_gradients(reg, dropout):
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((3, 2, 2, 3)), np.array([0, 4, 2])
    model = FullyConnectedNet([10, 8], input_dim=12, num_classes=5, dropout=dropout, reg=reg,
                              weight_scale=0.5, dtype=np.float64, seed=3)
    set_biases(model, rng)
    assert_gradients_match(model, X, y)


def test_fully_connected_parameter_shapes():
    model = FullyConnectedNet([7, 6], input_dim=20, num_classes=4, seed=0)
    assert {k: v.shape for k, v in model.params.items()} == {
        "W1": (20, 7), "b1": (7,), "W2": (7, 6), "b2": (6,), "W3": (6, 4), "b3": (4,)
    }
    assert all(v.dtype == np.float32 for v in model.params.values())


def test_initial_loss_is_log_num_classes_at_small_weight_scale():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((50, 3, 8, 8)), rng.integers(0, 10, 50)
    for model in (
        FullyConnectedNet([50], input_dim=192, weight_scale=1e-4, seed=0),
        ThreeLayerConvNet((3, 8, 8), num_filters=4, filter_size=3, hidden_dim=20, weight_scale=1e-4, seed=0),
    ):
        loss, _ = model.loss(X, y)
        assert abs(loss - math.log(10)) < 1e-3, f"{type(model).__name__}: {loss} vs log(10)"


def test_regularization_adds_half_reg_times_squared_weights_only():
    rng = np.random.default_rng(2)
    X, y = rng.standard_normal((4, 6)), np.array([0, 1, 2, 0])
    plain = FullyConnectedNet([5], input_dim=6, num_classes=3, dtype=np.float64, seed=4)
    regular = FullyConnectedNet([5], input_dim=6, num_classes=3, reg=0.3, dtype=np.float64, seed=4)
    for model in (plain, regular):
        model.params["b1"] += 1.0  # biases must not be regularised
    expected = 0.5 * 0.3 * sum(np.sum(regular.params[w] ** 2) for w in ("W1", "W2"))
    assert regular.loss(X, y)[0] - plain.loss(X, y)[0] == pytest.approx(expected, rel=1e-12)


def test_test_mode_turns_dropout_off_and_leaves_the_generator_alone():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((5, 8))
    model = FullyConnectedNet([30], input_dim=8, num_classes=3, dropout=0.5, dtype=np.float64, seed=1)
    state = model.rng.bit_generator.state
    first, second = model.loss(X), model.loss(X)
    assert first.shape == (5, 3)
    np.testing.assert_array_equal(first, second)
    assert model.rng.bit_generator.state == state


def test_train_mode_draws_new_dropout_masks_each_call():
    rng = np.random.default_rng(4)
    X, y = rng.standard_normal((5, 8)), np.array([0, 1, 2, 0, 1])
    model = FullyConnectedNet([30], input_dim=8, num_classes=3, dropout=0.5, dtype=np.float64, seed=1)
    assert model.loss(X, y)[0] != model.loss(X, y)[0]


def test_same_seed_same_weights_and_global_generator_untouched():
    before = np.random.get_state()[1].copy()
    a = ConvNet(["conv4", "pool", "fc5"], input_dim=(1, 4, 4), seed=9)
    b = ConvNet(["conv4", "pool", "fc5"], input_dim=(1, 4, 4), seed=9)
    c = ConvNet(["conv4", "pool", "fc5"], input_dim=(1, 4, 4), seed=10)
    for name in a.params:
        np.testing.assert_array_equal(a.params[name], b.params[name])
    assert not np.array_equal(a.params["W1"], c.params["W1"])
    np.testing.assert_array_equal(np.random.get_state()[1], before)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"hidden_dims": [0]}, ValueError, r"hidden_dims\[0\] must be positive, got 0"),
        ({"hidden_dims": [5], "dropout": 1.0}, ValueError, "dropout = 1.0 must be below 1"),
        ({"hidden_dims": [5], "reg": -1}, ValueError, "reg must be >= 0, got -1"),
        ({"hidden_dims": [5], "weight_scale": 0}, ValueError, "weight_scale must be positive, got 0"),
        ({"hidden_dims": [5], "dtype": np.int32}, TypeError, "float type"),
    ],
)
def test_fully_connected_rejects_bad_settings(kwargs, error, match):
    with pytest.raises(error, match=match):
        FullyConnectedNet(**kwargs)


# ---------------------------------------------------------------------------
# ThreeLayerConvNet
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("reg", [0.0, 0.5])
def test_three_layer_convnet_gradients(reg):
    rng = np.random.default_rng(5)
    X, y = rng.standard_normal((2, 3, 6, 4)), np.array([1, 2])
    model = ThreeLayerConvNet((3, 6, 4), num_filters=3, filter_size=3, hidden_dim=7, num_classes=4,
                              weight_scale=0.3, reg=reg, dtype=np.float64, seed=6)
    set_biases(model, rng)
    assert_gradients_match(model, X, y)


def test_three_layer_convnet_shapes_keep_then_halve_the_size():
    model = ThreeLayerConvNet((1, 8, 8), num_filters=5, filter_size=3, hidden_dim=9, num_classes=10, seed=0)
    assert model.params["W1"].shape == (5, 1, 3, 3)
    assert model.params["W2"].shape == (5 * 4 * 4, 9)
    assert model.loss(np.zeros((2, 1, 8, 8), np.float32)).shape == (2, 10)


def test_three_layer_convnet_explains_even_filters_and_odd_images():
    with pytest.raises(ValueError, match="filter_size 4 is even.*3 or 5"):
        ThreeLayerConvNet((3, 8, 8), filter_size=4)
    with pytest.raises(ValueError, match=r"height: pool window 2 with stride 2 does not fit: \(7 - 2\) / 2 \+ 1"):
        ThreeLayerConvNet((3, 7, 8), filter_size=3)


# ---------------------------------------------------------------------------
# ConvNet: the general pattern
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "layers",
    [["conv3", "pool", "fc6"], ["conv2", "conv3x5", "pool", "conv2", "fc5", "fc4"], ["pool", "fc3"], []],
)
def test_convnet_gradients(layers):
    rng = np.random.default_rng(7)
    X, y = rng.standard_normal((2, 2, 4, 4)), np.array([0, 2])
    model = ConvNet(layers, input_dim=(2, 4, 4), num_classes=3, reg=0.2, dtype=np.float64, seed=8)
    set_biases(model, rng)
    assert_gradients_match(model, X, y)


def test_convnet_numbers_parameters_over_conv_and_fc_layers():
    model = ConvNet(["conv8", "pool", "conv16x5", "pool", "fc32"], input_dim=(3, 16, 16), num_classes=10, seed=0)
    shapes = {k: v.shape for k, v in model.params.items()}
    assert shapes == {
        "W1": (8, 3, 3, 3), "b1": (8,),
        "W2": (16, 8, 5, 5), "b2": (16,),
        "W3": (16 * 4 * 4, 32), "b3": (32,),
        "W4": (32, 10), "b4": (10,),
    }
    table = model.describe()
    assert "SCORES" in table and "4x4x16" in table
    assert f"{sum(v.size for v in model.params.values()):,}" in table


def test_parse_layers_builds_descriptors():
    assert parse_layers(["conv32", "conv16x5", "pool", "fc100"]) == [
        Conv(32, 3, pad=1, name="CONV1"), Conv(16, 5, pad=2, name="CONV2"), Pool(2, name="POOL3"), FC(100, name="FC4"),
    ]


@pytest.mark.parametrize(
    ("layers", "match"),
    [
        (["conv"], r"layers\[0\] = 'conv' is not a layer"),
        (["fc10", "conv3"], r"layers\[1\] = 'conv3' comes after a fully connected layer"),
        (["conv3x4"], "filter size 4 is even"),
        ([7], r"layers\[0\] = 7 is not a layer"),
    ],
)
def test_parse_layers_explains_mistakes(layers, match):
    with pytest.raises(ValueError, match=match):
        parse_layers(layers)


def test_float32_models_keep_float32_gradients():
    rng = np.random.default_rng(9)
    X, y = rng.standard_normal((2, 1, 4, 4)), np.array([0, 1])
    for model in (
        FullyConnectedNet([5], input_dim=16, num_classes=2, seed=0),
        ThreeLayerConvNet((1, 4, 4), num_filters=2, filter_size=3, hidden_dim=3, num_classes=2, seed=0),
        ConvNet(["conv2", "pool"], input_dim=(1, 4, 4), num_classes=2, seed=0),
    ):
        _, grads = model.loss(X, y)
        assert all(g.dtype == np.float32 for g in grads.values()), type(model).__name__
