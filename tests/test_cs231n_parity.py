"""What CS231n's assignment-2 notebooks do, done through the ``cs231n`` alias package.

Each test is one kind of cell those notebooks hold (written here from what the
cells do, not copied): the checks they make are the ones that broke before
issue 14 (TwoLayerNet, a seeded dropout model's gradient check, an integer
bias, weights reproduced by np.random.seed, batch normalization in a
FullyConnectedNet and in space). Expected values are computed independently in
each test.
"""

import numpy as np
import pytest

from cs231n.classifiers.fc_net import FullyConnectedNet, TwoLayerNet
from cs231n.gradient_check import eval_numerical_gradient
from cs231n.layers import conv_forward_naive, spatial_batchnorm_forward


def relative_error(x, y):
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))


def numerical_gradient_errors(model, X, y):
    loss, grads = model.loss(X, y)
    errors = {}
    for name in sorted(model.params):
        numerical = eval_numerical_gradient(lambda _: model.loss(X, y)[0], model.params[name], h=1e-5)
        errors[name] = relative_error(numerical, grads[name])
    return loss, errors


def test_two_layer_net_initialisation_and_scores_as_the_course_checks_them():
    N, D, H, C, std = 3, 5, 50, 7, 1e-3
    np.random.seed(231)
    model = TwoLayerNet(input_dim=D, hidden_dim=H, num_classes=C, weight_scale=std)
    assert abs(model.params["W1"].std() - std) < std / 10
    assert abs(model.params["W2"].std() - std) < std / 10
    assert np.all(model.params["b1"] == 0) and np.all(model.params["b2"] == 0)

    model.params["W1"] = np.linspace(-0.7, 0.3, num=D * H).reshape(D, H)
    model.params["b1"] = np.linspace(-0.1, 0.9, num=H)
    model.params["W2"] = np.linspace(-0.3, 0.4, num=H * C).reshape(H, C)
    model.params["b2"] = np.linspace(-0.9, 0.1, num=C)
    X = np.linspace(-5.5, 4.5, num=N * D).reshape(D, N).T
    hidden = np.maximum(0, X @ model.params["W1"] + model.params["b1"])
    expected = hidden @ model.params["W2"] + model.params["b2"]
    assert relative_error(model.loss(X), expected) < 1e-12


@pytest.mark.parametrize("reg", [0.0, 0.7])
def test_two_layer_net_gradient_check(reg):
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((3, 5)), rng.integers(0, 7, 3)
    np.random.seed(231)
    model = TwoLayerNet(input_dim=5, hidden_dim=50, num_classes=7, weight_scale=1e-1, reg=reg)
    _, errors = numerical_gradient_errors(model, X, y)
    assert max(errors.values()) < 1e-6, errors


@pytest.mark.parametrize("dropout", [0.25, 0.5])
def test_a_seeded_dropout_model_passes_the_gradient_check(dropout):
    N, D, H1, H2, C = 2, 15, 20, 30, 10
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((N, D)), rng.integers(0, C, N)
    model = FullyConnectedNet([H1, H2], input_dim=D, num_classes=C, weight_scale=5e-2,
                              dtype=np.float64, dropout=dropout, seed=123)
    first, errors = numerical_gradient_errors(model, X, y)
    assert model.loss(X, y)[0] == first
    assert max(errors.values()) < 1e-5, errors


def test_the_course_integer_bias():
    x_shape, w_shape = (2, 3, 4, 4), (3, 3, 4, 4)
    x = np.linspace(-0.1, 0.5, num=np.prod(x_shape)).reshape(x_shape)
    w = np.linspace(-0.2, 0.3, num=np.prod(w_shape)).reshape(w_shape)
    b = np.linspace(-0.1, 0.2, num=3)
    out, _ = conv_forward_naive(x, w, np.array([0, 128, 7]), {"stride": 2, "pad": 1})
    out_float, _ = conv_forward_naive(x, w, np.array([0.0, 128.0, 7.0]), {"stride": 2, "pad": 1})
    np.testing.assert_array_equal(out, out_float)
    assert conv_forward_naive(x, w, b, {"stride": 2, "pad": 1})[0].shape == (2, 3, 2, 2)


def test_np_random_seed_before_a_model_reproduces_it():
    np.random.seed(231)
    first = FullyConnectedNet([10, 10], input_dim=6, num_classes=3, weight_scale=5e-2)
    np.random.seed(231)
    second = FullyConnectedNet([10, 10], input_dim=6, num_classes=3, weight_scale=5e-2)
    for name in first.params:
        np.testing.assert_array_equal(first.params[name], second.params[name])


@pytest.mark.parametrize("reg", [0.0, 3.14])
def test_batchnorm_model_gradient_check(reg):
    N, D, H1, H2, C = 6, 15, 20, 30, 10
    rng = np.random.default_rng(2)
    X, y = rng.standard_normal((N, D)), rng.integers(0, C, N)
    np.random.seed(231)
    model = FullyConnectedNet([H1, H2], input_dim=D, num_classes=C, reg=reg, weight_scale=5e-2,
                              dtype=np.float64, use_batchnorm=True)
    _, errors = numerical_gradient_errors(model, X, y)
    # b1 and b2 feed batch normalization, which subtracts them again: their gradient is
    # rounding noise on both sides (the course's notebook shows the same large ratios).
    assert max(e for name, e in errors.items() if name not in ("b1", "b2")) < 1e-4, errors


def test_spatial_batchnorm_standardises_each_channel():
    N, C, H, W = 2, 3, 4, 5
    rng = np.random.default_rng(3)
    x = 4 * rng.standard_normal((N, C, H, W)) + 10
    gamma, beta = np.array([1.0, 2.0, 3.0]), np.array([0.0, -1.0, 4.0])
    out, _ = spatial_batchnorm_forward(x, gamma, beta, {"mode": "train"})
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), beta, atol=1e-12)
    np.testing.assert_allclose(out.std(axis=(0, 2, 3)), gamma, rtol=1e-5)
