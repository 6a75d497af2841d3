"""Tests for cs231n_lib.models: gradient checks in float64, initial loss, modes, errors."""

import math
import re

import numpy as np
import pytest

from cs231n_lib.gradient_check import eval_numerical_gradient, rel_error
from cs231n_lib.layers import dropout_forward
from cs231n_lib.models import (
    ConvNet,
    FullyConnectedNet,
    ThreeLayerConvNet,
    TwoLayerNet,
    parse_layers,
)
from cs231n_lib.shapes import FC, Conv, Pool


def numerical_grads(model, X, y):
    """Numerical gradients of model.loss(X, y)[0] for every parameter.

    A seeded model draws the same dropout masks at every call, so each
    evaluation sees the masks the analytic pass used.
    """
    def loss(_):
        return model.loss(X, y)[0]

    return {name: eval_numerical_gradient(loss, param) for name, param in model.params.items()}


def assert_gradients_match(model, X, y, tol=1e-7, zero=()):
    """Analytic and numerical gradients agree; the parameters in ``zero`` have none at all.

    (A bias just before batch normalization: the normalization subtracts it
    again, so both gradients are rounding noise and their ratio means nothing.)
    """
    _, analytic = model.loss(X, y)
    numerical = numerical_grads(model, X, y)
    assert set(analytic) == set(model.params)
    for name in model.params:
        if name in zero:
            assert np.abs(analytic[name]).max() < 1e-12, f"{name}: {analytic[name]}"
            assert np.abs(numerical[name]).max() < 1e-8, f"{name}: {numerical[name]}"
            continue
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


def test_test_mode_turns_dropout_off():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((5, 8))
    shared = np.random.default_rng(1)
    model = FullyConnectedNet([30], input_dim=8, num_classes=3, dropout=0.5, dtype=np.float64, rng=shared)
    state = shared.bit_generator.state
    first, second = model.loss(X), model.loss(X)
    assert first.shape == (5, 3)
    np.testing.assert_array_equal(first, second)
    assert shared.bit_generator.state == state  # test mode draws no mask


def test_a_seeded_dropout_model_gives_the_same_loss_at_every_call():
    rng = np.random.default_rng(4)
    X, y = rng.standard_normal((5, 8)), np.array([0, 1, 2, 0, 1])
    model = FullyConnectedNet([30, 20], input_dim=8, num_classes=3, dropout=0.5, dtype=np.float64, seed=1)
    first, grads = model.loss(X, y)
    second, grads_again = model.loss(X, y)
    assert first == second
    for name in grads:
        np.testing.assert_array_equal(grads[name], grads_again[name])
    no_dropout = FullyConnectedNet([30, 20], input_dim=8, num_classes=3, dtype=np.float64, seed=1)
    assert first != no_dropout.loss(X, y)[0]  # the masks did drop units


def test_a_seeded_model_gives_each_dropout_layer_its_own_masks():
    X = np.ones((1, 40))
    model = FullyConnectedNet([40, 40], input_dim=40, num_classes=2, dropout=0.5, dtype=np.float64, seed=2)
    first = dropout_forward(np.ones((1, 40)), model._dropout_param(0.5, "train", 1))[0]
    second = dropout_forward(np.ones((1, 40)), model._dropout_param(0.5, "train", 2))[0]
    assert not np.array_equal(first, second)
    assert model.loss(X).shape == (1, 2)


def test_a_model_with_a_generator_draws_new_dropout_masks_each_call():
    rng = np.random.default_rng(4)
    X, y = rng.standard_normal((5, 8)), np.array([0, 1, 2, 0, 1])
    model = FullyConnectedNet([30], input_dim=8, num_classes=3, dropout=0.5, dtype=np.float64,
                              rng=np.random.default_rng(1))
    assert model.loss(X, y)[0] != model.loss(X, y)[0]
    again = FullyConnectedNet([30], input_dim=8, num_classes=3, dropout=0.5, dtype=np.float64,
                              rng=np.random.default_rng(1))
    repeated = FullyConnectedNet([30], input_dim=8, num_classes=3, dropout=0.5, dtype=np.float64,
                                 rng=np.random.default_rng(1))
    assert [again.loss(X, y)[0] for _ in range(3)] == [repeated.loss(X, y)[0] for _ in range(3)]


def test_a_seed_and_a_generator_start_from_the_same_weights():
    seeded = FullyConnectedNet([6], input_dim=4, num_classes=3, seed=5)
    generated = FullyConnectedNet([6], input_dim=4, num_classes=3, rng=np.random.default_rng(5))
    for name in seeded.params:
        np.testing.assert_array_equal(seeded.params[name], generated.params[name])


MODEL_BUILDERS = {
    "FullyConnectedNet": lambda **kw: FullyConnectedNet([7, 5], input_dim=6, num_classes=3, **kw),
    "TwoLayerNet": lambda **kw: TwoLayerNet(input_dim=6, hidden_dim=7, num_classes=3, **kw),
    "ThreeLayerConvNet": lambda **kw: ThreeLayerConvNet((1, 4, 4), num_filters=2, filter_size=3, hidden_dim=5, **kw),
    "ConvNet": lambda **kw: ConvNet(["conv2", "pool", "fc5"], input_dim=(1, 4, 4), num_classes=3, **kw),
}


@pytest.mark.parametrize("name", sorted(MODEL_BUILDERS))
def test_without_seed_or_rng_weights_come_from_the_global_generator(name):
    build = MODEL_BUILDERS[name]
    np.random.seed(231)
    first = build()
    np.random.seed(231)
    again = build()
    other = build()  # the global generator moved on
    for key in first.params:
        np.testing.assert_array_equal(first.params[key], again.params[key])
    assert any(not np.array_equal(first.params[k], other.params[k]) for k in first.params if k.startswith("W"))


def test_weights_are_the_global_draws_in_parameter_order():
    # What CS231n's notebooks expect after np.random.seed: W1 = scale * randn(D, H), then W2.
    np.random.seed(231)
    model = TwoLayerNet(input_dim=6, hidden_dim=4, num_classes=3, weight_scale=1e-2)
    np.random.seed(231)
    W1 = 1e-2 * np.random.randn(6, 4)
    W2 = 1e-2 * np.random.randn(4, 3)
    np.testing.assert_array_equal(model.params["W1"], W1)
    np.testing.assert_array_equal(model.params["W2"], W2)


def test_the_library_never_reseeds_the_global_generator(monkeypatch):
    def refuse(*_):
        raise AssertionError("np.random.seed was called by the library")

    X, y = np.ones((2, 6)), np.array([0, 1])
    monkeypatch.setattr(np.random, "seed", refuse)
    for build in MODEL_BUILDERS.values():
        for kwargs in ({}, {"seed": 1}, {"rng": np.random.default_rng(1)}):
            model = build(**kwargs)
            if isinstance(model, (ThreeLayerConvNet, ConvNet)):
                model.loss(np.ones((2, 1, 4, 4)), y)
            else:
                model.loss(X, y)
    dropping = FullyConnectedNet([7], input_dim=6, num_classes=3, dropout=0.5)
    dropping.loss(X, y)


def test_a_seed_and_a_generator_together_are_refused():
    with pytest.raises(ValueError, match="both seed and rng"):
        FullyConnectedNet([5], input_dim=4, seed=0, rng=np.random.default_rng(0))


@pytest.mark.parametrize(("seed", "error", "shown"), [(1.5, TypeError, "1.5"), (-2, ValueError, "-2"), ("0", TypeError, "'0'")])
def test_a_bad_model_seed_is_named(seed, error, shown):
    with pytest.raises(error, match=r"seed must be .*" + re.escape(shown)):
        FullyConnectedNet([5], input_dim=4, seed=seed)


# ---------------------------------------------------------------------------
# TwoLayerNet
# ---------------------------------------------------------------------------


def test_two_layer_net_has_the_course_parameters_in_float64():
    model = TwoLayerNet(input_dim=15, hidden_dim=50, num_classes=10, weight_scale=1e-1, seed=0)
    assert {k: v.shape for k, v in model.params.items()} == {"W1": (15, 50), "b1": (50,), "W2": (50, 10), "b2": (10,)}
    assert all(v.dtype == np.float64 for v in model.params.values())
    assert abs(model.params["W1"].std() - 1e-1) < 1e-2  # drawn with the given standard deviation
    assert not model.params["b1"].any() and not model.params["b2"].any()


def test_two_layer_net_scores_by_hand():
    # One sample, two inputs, two hidden units, two classes; weights set by hand.
    model = TwoLayerNet(input_dim=2, hidden_dim=2, num_classes=2, seed=0)
    model.params.update(W1=np.array([[1.0, -1.0], [2.0, 0.5]]), b1=np.array([0.5, 0.0]),
                        W2=np.array([[1.0, 0.0], [0.0, 2.0]]), b2=np.array([0.0, 1.0]))
    X = np.array([[1.0, 1.0]])
    # hidden = relu([1 + 2 + 0.5, -1 + 0.5 + 0]) = [3.5, 0]; scores = [3.5, 0 + 1]
    np.testing.assert_allclose(model.loss(X), [[3.5, 1.0]])
    loss, _ = model.loss(X, np.array([1]))
    assert loss == pytest.approx(-math.log(math.exp(1.0) / (math.exp(3.5) + math.exp(1.0))))


@pytest.mark.parametrize("reg", [0.0, 0.7])
def test_two_layer_net_gradients(reg):
    rng = np.random.default_rng(11)
    X, y = rng.standard_normal((3, 5)), np.array([0, 1, 2])
    model = TwoLayerNet(input_dim=5, hidden_dim=6, num_classes=3, weight_scale=0.5, reg=reg, seed=2)
    set_biases(model, rng)
    assert_gradients_match(model, X, y)


def test_two_layer_net_is_a_fully_connected_net():
    # The same loss as the general model, not a second implementation.
    assert issubclass(TwoLayerNet, FullyConnectedNet)
    assert TwoLayerNet.loss is FullyConnectedNet.loss


# ---------------------------------------------------------------------------
# Batch normalization in FullyConnectedNet
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("reg", [0.0, 3.14])
@pytest.mark.parametrize("dropout", [0.0, 0.3])
def test_batchnorm_net_gradients(reg, dropout):
    rng = np.random.default_rng(12)
    # Ten samples: with fewer, small weights make the normalised scores very curved in W1
    # and the centred difference's own error passes 1e-6 on its smallest entries.
    X, y = rng.standard_normal((10, 6)), rng.integers(0, 3, 10)
    model = FullyConnectedNet([7, 5], input_dim=6, num_classes=3, use_batchnorm=True, dropout=dropout,
                              reg=reg, weight_scale=5e-2, dtype=np.float64, seed=3)
    for name, value in model.params.items():  # move gamma and beta away from their 1 and 0
        if name.startswith(("gamma", "beta")):
            model.params[name] = value + rng.uniform(-0.3, 0.3, value.shape)
    assert_gradients_match(model, X, y, tol=1e-6, zero=("b1", "b2"))


def test_batchnorm_net_parameters_and_running_averages():
    model = FullyConnectedNet([7, 5], input_dim=6, num_classes=3, normalization="batchnorm", seed=0)
    assert {k: v.shape for k, v in model.params.items() if k.startswith(("gamma", "beta"))} == {
        "gamma1": (7,), "beta1": (7,), "gamma2": (5,), "beta2": (5,)
    }
    np.testing.assert_array_equal(model.params["gamma1"], np.ones(7, dtype=np.float32))
    assert len(model.bn_params) == 2
    rng = np.random.default_rng(13)
    X, y = rng.standard_normal((20, 6)).astype(np.float32), rng.integers(0, 3, 20)
    model.loss(X, y)
    running = model.bn_params[0]["running_mean"].copy()
    assert running.shape == (7,) and running.any()
    scores = model.loss(X)  # test mode uses, and leaves, the running averages
    np.testing.assert_array_equal(model.bn_params[0]["running_mean"], running)
    assert model.bn_params[0]["mode"] == "test"
    # Test mode normalises each sample alone: a batch of one gives that sample's row.
    np.testing.assert_allclose(model.loss(X[:1]), scores[:1], rtol=1e-5)


def test_batchnorm_gamma_and_beta_are_not_regularised():
    rng = np.random.default_rng(14)
    X, y = rng.standard_normal((4, 6)), np.array([0, 1, 2, 1])
    plain = FullyConnectedNet([5], input_dim=6, num_classes=3, use_batchnorm=True, dtype=np.float64, seed=4)
    regular = FullyConnectedNet([5], input_dim=6, num_classes=3, use_batchnorm=True, reg=0.3, dtype=np.float64, seed=4)
    for model in (plain, regular):
        model.params["gamma1"] = model.params["gamma1"] * 3.0
    expected = 0.5 * 0.3 * sum(np.sum(regular.params[w] ** 2) for w in ("W1", "W2"))
    assert regular.loss(X, y)[0] - plain.loss(X, y)[0] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(("kwargs", "error", "shown"), [
    ({"normalization": "layernorm"}, ValueError, "normalization='layernorm' is not available"),
    ({"use_batchnorm": "yes"}, TypeError, "use_batchnorm must be True or False, got 'yes'"),
])
def test_bad_normalization_is_named(kwargs, error, shown):
    with pytest.raises(error, match=re.escape(shown)):
        FullyConnectedNet([5], input_dim=4, **kwargs)


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
