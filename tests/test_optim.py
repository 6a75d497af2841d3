"""Tests for cs231n_lib.optim: the update rules and get_update_rule.

Oracles: a few steps worked out by hand; a second, scalar implementation of
each formula (plain Python floats and math.sqrt, one element at a time);
the lecture's look-ahead form of Nesterov momentum; behaviour on a
quadratic bowl; properties checked by hypothesis; and an optional
cross-check against torch.optim.
"""

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from cs231n_lib import optim
from cs231n_lib.optim import (
    UPDATE_RULES,
    adadelta,
    adagrad,
    adam,
    get_update_rule,
    nesterov_momentum,
    rmsprop,
    sgd,
    sgd_momentum,
)

SWEEP = settings(max_examples=100, deadline=None, database=None)

ALL_RULES = [
    "sgd",
    "sgd_momentum",
    "nesterov_momentum",
    "adagrad",
    "rmsprop",
    "adam",
    "adadelta",
]

# The documented defaults, written out again here rather than read from the library.
DEFAULTS = {
    "sgd": {"learning_rate": 1e-2},
    "sgd_momentum": {"learning_rate": 1e-2, "momentum": 0.9},
    "nesterov_momentum": {"learning_rate": 1e-2, "momentum": 0.9},
    "adagrad": {"learning_rate": 1e-2, "epsilon": 1e-8},
    "rmsprop": {"learning_rate": 1e-2, "decay_rate": 0.99, "epsilon": 1e-8},
    "adam": {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8},
    "adadelta": {"learning_rate": 1.0, "rho": 0.95, "epsilon": 1e-6},
}

# Non-default values, to show each hyperparameter is actually read.
CUSTOM = {
    "sgd": {"learning_rate": 0.1},
    "sgd_momentum": {"learning_rate": 0.05, "momentum": 0.7},
    "nesterov_momentum": {"learning_rate": 0.05, "momentum": 0.7},
    "adagrad": {"learning_rate": 0.3, "epsilon": 1e-3},
    "rmsprop": {"learning_rate": 0.02, "decay_rate": 0.8, "epsilon": 1e-4},
    "adam": {"learning_rate": 0.05, "beta1": 0.5, "beta2": 0.75, "epsilon": 1e-3},
    "adadelta": {"learning_rate": 0.5, "rho": 0.6, "epsilon": 1e-2},
}

STATE_KEYS = {
    "sgd": [],
    "sgd_momentum": ["velocity"],
    "nesterov_momentum": ["velocity"],
    "adagrad": ["cache"],
    "rmsprop": ["cache"],
    "adam": ["m", "v"],
    "adadelta": ["accum_grad", "accum_update"],
}

RULES_WITH_STATE = [(name, key) for name in ALL_RULES for key in STATE_KEYS[name]]


# ---------------------------------------------------------------------------
# A second implementation: one element at a time, plain floats, from the formulas
# ---------------------------------------------------------------------------


def ref_sgd(w0, dws, learning_rate):
    w = list(w0)
    trajectory = []
    for dw in dws:
        w = [w[i] - learning_rate * dw[i] for i in range(len(w))]
        trajectory.append(w)
    return trajectory


def ref_sgd_momentum(w0, dws, learning_rate, momentum):
    w = list(w0)
    v = [0.0] * len(w)
    trajectory = []
    for dw in dws:
        new_w = []
        for i in range(len(w)):
            v[i] = momentum * v[i] - learning_rate * dw[i]
            new_w.append(w[i] + v[i])
        w = new_w
        trajectory.append(w)
    return trajectory


def ref_nesterov_momentum(w0, dws, learning_rate, momentum):
    w = list(w0)
    v = [0.0] * len(w)
    trajectory = []
    for dw in dws:
        new_w = []
        for i in range(len(w)):
            v_prev = v[i]
            v[i] = momentum * v[i] - learning_rate * dw[i]
            new_w.append(w[i] - momentum * v_prev + (1 + momentum) * v[i])
        w = new_w
        trajectory.append(w)
    return trajectory


def ref_adagrad(w0, dws, learning_rate, epsilon):
    w = list(w0)
    cache = [0.0] * len(w)
    trajectory = []
    for dw in dws:
        new_w = []
        for i in range(len(w)):
            cache[i] += dw[i] * dw[i]
            new_w.append(w[i] - learning_rate * dw[i] / (math.sqrt(cache[i]) + epsilon))
        w = new_w
        trajectory.append(w)
    return trajectory


def ref_rmsprop(w0, dws, learning_rate, decay_rate, epsilon):
    w = list(w0)
    cache = [0.0] * len(w)
    trajectory = []
    for dw in dws:
        new_w = []
        for i in range(len(w)):
            cache[i] = decay_rate * cache[i] + (1 - decay_rate) * dw[i] * dw[i]
            new_w.append(w[i] - learning_rate * dw[i] / (math.sqrt(cache[i]) + epsilon))
        w = new_w
        trajectory.append(w)
    return trajectory


def ref_adam(w0, dws, learning_rate, beta1, beta2, epsilon):
    w = list(w0)
    m = [0.0] * len(w)
    v = [0.0] * len(w)
    trajectory = []
    for t, dw in enumerate(dws, start=1):
        new_w = []
        for i in range(len(w)):
            m[i] = beta1 * m[i] + (1 - beta1) * dw[i]
            v[i] = beta2 * v[i] + (1 - beta2) * dw[i] * dw[i]
            m_hat = m[i] / (1 - beta1**t)
            v_hat = v[i] / (1 - beta2**t)
            new_w.append(w[i] - learning_rate * m_hat / (math.sqrt(v_hat) + epsilon))
        w = new_w
        trajectory.append(w)
    return trajectory


def ref_adadelta(w0, dws, learning_rate, rho, epsilon):
    w = list(w0)
    eg2 = [0.0] * len(w)
    edx2 = [0.0] * len(w)
    trajectory = []
    for dw in dws:
        new_w = []
        for i in range(len(w)):
            eg2[i] = rho * eg2[i] + (1 - rho) * dw[i] * dw[i]
            dx = -math.sqrt(edx2[i] + epsilon) / math.sqrt(eg2[i] + epsilon) * dw[i]
            edx2[i] = rho * edx2[i] + (1 - rho) * dx * dx
            new_w.append(w[i] + learning_rate * dx)
        w = new_w
        trajectory.append(w)
    return trajectory


REFERENCES = {
    "sgd": ref_sgd,
    "sgd_momentum": ref_sgd_momentum,
    "nesterov_momentum": ref_nesterov_momentum,
    "adagrad": ref_adagrad,
    "rmsprop": ref_rmsprop,
    "adam": ref_adam,
    "adadelta": ref_adadelta,
}

# A tiny vector and a hand-chosen gradient for each of three steps: signs that
# flip, a large and a small coordinate, and one coordinate whose gradient is 0.
W0 = [1.0, -2.0, 0.5, 0.0]
DWS = [
    [0.1, -0.3, 2.0, 0.0],
    [-0.2, -0.1, 1.5, 0.5],
    [0.4, 0.2, -1.0, 0.0],
]


# ---------------------------------------------------------------------------
# Values: by hand and against the scalar reference
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "rule, config, w0, dws, expected",
    [
        # w = 1 - 0.1 * 0.5 = 0.95; w = -2 - 0.1 * (-1) = -1.9
        (sgd, {"learning_rate": 0.1}, [1.0, -2.0], [[0.5, -1.0]], [[0.95, -1.9]]),
        # v = -0.1, w = 0.9; then v = 0.5 * (-0.1) - 0.1 = -0.15, w = 0.75
        (sgd_momentum, {"learning_rate": 0.1, "momentum": 0.5}, [1.0], [[1.0], [1.0]], [[0.9], [0.75]]),
        # v = -0.1, w = 1 - 0 + 1.5 * (-0.1) = 0.85;
        # then v = -0.15, w = 0.85 + 0.5 * 0.1 + 1.5 * (-0.15) = 0.675
        (nesterov_momentum, {"learning_rate": 0.1, "momentum": 0.5}, [1.0], [[1.0], [1.0]], [[0.85], [0.675]]),
        # cache = 4, w = 1 - 0.1 * 2 / 2 = 0.9 (epsilon ~ 0)
        (adagrad, {"learning_rate": 0.1, "epsilon": 1e-12}, [1.0], [[2.0]], [[0.9]]),
        # cache = 0.5 * 4 = 2, w = 1 - 0.1 * 2 / sqrt(2) = 1 - 0.1 * sqrt(2)
        (rmsprop, {"learning_rate": 0.1, "decay_rate": 0.5, "epsilon": 1e-12}, [1.0], [[2.0]], [[1 - 0.1 * 2**0.5]]),
        # E[g^2] = 0.5 * 4 = 2, dx = -sqrt(0 + 0.02) / sqrt(2.02) * 2, w = 1 + dx
        (adadelta, {"rho": 0.5, "epsilon": 0.02}, [1.0], [[2.0]], [[1 - 2 * (0.02 / 2.02) ** 0.5]]),
    ],
    ids=["sgd", "sgd_momentum", "nesterov_momentum", "adagrad", "rmsprop", "adadelta"],
)
def test_steps_worked_out_by_hand(rule, config, w0, dws, expected):
    w, config = np.array(w0), dict(config)
    for step, (dw, want) in enumerate(zip(dws, expected), start=1):
        w, config = rule(w, np.array(dw), config)
        np.testing.assert_allclose(w, want, rtol=1e-10, err_msg=f"step {step}")


@pytest.mark.parametrize("hyper_source", ["defaults", "custom"])
@pytest.mark.parametrize("name", ALL_RULES)
def test_three_steps_match_the_scalar_reference(name, hyper_source):
    if hyper_source == "defaults":
        hyper, config = DEFAULTS[name], None  # the library must fill in the defaults
    else:
        hyper, config = CUSTOM[name], dict(CUSTOM[name])
    expected = REFERENCES[name](W0, DWS, **hyper)
    w = np.array(W0)
    for step, dw in enumerate(DWS, start=1):
        w, config = UPDATE_RULES[name](w, np.array(dw), config)
        np.testing.assert_allclose(
            w, expected[step - 1], rtol=1e-12, atol=1e-15, err_msg=f"{name}, step {step}"
        )


def test_adam_first_step_moves_every_coordinate_by_about_the_learning_rate():
    # With t = 1 the bias correction gives m_hat = dw and v_hat = dw**2, so the
    # step is lr * dw / (|dw| + eps) ~ lr * sign(dw), whatever the size of dw.
    # Without the correction it would be lr * 0.1 / sqrt(0.001) ~ 3.16 lr.
    w = np.array([1.0, -2.0, 0.5, 3.0])
    dw = np.array([0.1, -5.0, 1e-3, 20.0])
    next_w, config = adam(w, dw)
    lr = config["learning_rate"]
    assert lr == 1e-3
    np.testing.assert_allclose(w - next_w, lr * np.sign(dw), rtol=1e-4)
    assert config["t"] == 1


def test_adam_counts_steps_in_t():
    config = None
    w = np.array(W0)
    for step, dw in enumerate(DWS, start=1):
        w, config = adam(w, np.array(dw), config)
        assert config["t"] == step


def test_adam_resumes_from_a_given_t():
    # At t = 1000 the corrections are ~1, so m and v are used almost as they are.
    m, v = np.array([0.2]), np.array([0.04])
    config = {"m": m, "v": v, "t": 999, "epsilon": 1e-12}
    next_w, config = adam(np.array([0.0]), np.array([0.2]), config)
    assert config["t"] == 1000
    m_hat = 0.2 / (1 - 0.9**1000)
    v_hat = 0.04 / (1 - 0.999**1000)
    np.testing.assert_allclose(next_w, [-1e-3 * m_hat / math.sqrt(v_hat)], rtol=1e-10)


def test_nesterov_visits_the_same_points_as_the_lecture_look_ahead_form():
    # Lecture form on f(x) = 0.5 * sum(a * x**2): gradient at x + mu * v.
    # The library's w should be that look-ahead point, x + mu * v, at every step.
    a = np.array([1.0, 10.0, 0.5])
    lr, mu = 0.02, 0.8
    x = np.array([1.0, -1.0, 2.0])
    v = np.zeros_like(x)
    w, config = x.copy(), {"learning_rate": lr, "momentum": mu}
    for step in range(1, 21):
        v = mu * v - lr * a * (x + mu * v)
        x = x + v
        w, config = nesterov_momentum(w, a * w, config)
        np.testing.assert_allclose(w, x + mu * v, rtol=1e-12, atol=1e-14, err_msg=f"step {step}")


def test_momentum_velocity_settles_at_lr_dw_over_one_minus_momentum():
    w, config = np.zeros(2), {"learning_rate": 0.01, "momentum": 0.9}
    dw = np.array([1.0, -3.0])
    for _ in range(400):
        w, config = sgd_momentum(w, dw, config)
    np.testing.assert_allclose(config["velocity"], -0.01 * dw / (1 - 0.9), rtol=1e-10)


# ---------------------------------------------------------------------------
# Behaviour on the quadratic bowl f(w) = 0.5 * w^T A w, A = diag(1, 10)
# ---------------------------------------------------------------------------

BOWL_A = np.array([1.0, 10.0])
BOWL_START = np.array([1.0, 1.0])


def bowl(w):
    return 0.5 * float(np.sum(BOWL_A * w * w))


def run_on_bowl(name, config, steps):
    w = BOWL_START.copy()
    for _ in range(steps):
        w, config = UPDATE_RULES[name](w, BOWL_A * w, config)
    return bowl(w)


# Chosen per rule: each converges comfortably; adadelta runs with its defaults.
BOWL_CONFIGS = {
    "sgd": {"learning_rate": 0.1},
    "sgd_momentum": {"learning_rate": 0.01, "momentum": 0.9},
    "nesterov_momentum": {"learning_rate": 0.01, "momentum": 0.9},
    "adagrad": {"learning_rate": 0.1},
    "rmsprop": {"learning_rate": 0.01},
    "adam": {"learning_rate": 0.05},
    "adadelta": {},
}


@pytest.mark.parametrize("name", ALL_RULES)
def test_every_rule_reduces_the_bowl_100x_in_500_steps(name):
    f0 = bowl(BOWL_START)
    assert f0 == 5.5
    f = run_on_bowl(name, dict(BOWL_CONFIGS[name]), steps=500)
    assert f <= f0 / 100, f"{name}: f went from {f0} to {f:.3g}, less than a 100x drop"


@pytest.mark.parametrize("name", ["sgd_momentum", "nesterov_momentum"])
def test_momentum_beats_sgd_at_the_same_learning_rate_after_50_steps(name):
    # sgd at lr 0.01 crawls along the flat axis: 0.99**50 ~ 0.6 of the way left.
    f_sgd = run_on_bowl("sgd", {"learning_rate": 0.01}, steps=50)
    f_mom = run_on_bowl(name, {"learning_rate": 0.01, "momentum": 0.9}, steps=50)
    assert f_mom < f_sgd / 2, f"{name} f = {f_mom:.3g}, sgd f = {f_sgd:.3g}"


# ---------------------------------------------------------------------------
# The contract: config, state, dtype, no in-place changes
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL_RULES)
def test_config_none_gives_a_new_dict_with_the_defaults(name):
    next_w, config = UPDATE_RULES[name](np.ones(3), np.ones(3))
    assert isinstance(config, dict)
    for key, value in DEFAULTS[name].items():
        assert config[key] == value, f"{name}: default {key}"


@pytest.mark.parametrize("name", ALL_RULES)
def test_missing_hyperparameters_are_filled_and_given_ones_kept(name):
    given_key = "learning_rate"
    config = {given_key: 0.123, "unrelated": "kept too"}
    _, returned = UPDATE_RULES[name](np.ones(3), np.ones(3), config)
    assert returned is config
    assert config[given_key] == 0.123
    assert config["unrelated"] == "kept too"
    for key, value in DEFAULTS[name].items():
        if key != given_key:
            assert config[key] == value, f"{name}: default {key}"


def test_a_given_learning_rate_is_the_one_used():
    next_w, _ = sgd(np.array([1.0]), np.array([1.0]), {"learning_rate": 0.25})
    np.testing.assert_allclose(next_w, [0.75])


@pytest.mark.parametrize("name, key", RULES_WITH_STATE)
def test_state_is_created_with_the_shape_and_dtype_of_w(name, key):
    for dtype in (np.float64, np.float32):
        w = np.ones((2, 3), dtype=dtype)
        _, config = UPDATE_RULES[name](w, np.full((2, 3), 0.5, dtype=dtype))
        assert config[key].shape == (2, 3)
        assert config[key].dtype == dtype, f"{name}: {key} is {config[key].dtype}"


@pytest.mark.parametrize("name", ALL_RULES)
def test_float32_stays_float32_and_agrees_with_float64(name):
    results = {}
    for dtype in (np.float32, np.float64):
        w, config = np.array(W0, dtype=dtype), dict(CUSTOM[name])
        for dw in DWS:
            w, config = UPDATE_RULES[name](w, np.array(dw, dtype=dtype), config)
            assert w.dtype == dtype
            for key in STATE_KEYS[name]:
                assert config[key].dtype == dtype, f"{name}: {key}"
        results[dtype] = w
    np.testing.assert_allclose(results[np.float32], results[np.float64], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ALL_RULES)
def test_a_float64_gradient_does_not_upcast_a_float32_w(name):
    w = np.ones(3, dtype=np.float32)
    next_w, config = UPDATE_RULES[name](w, np.full(3, 0.5))  # dw is float64
    assert next_w.dtype == np.float32
    for key in STATE_KEYS[name]:
        assert config[key].dtype == np.float32


@pytest.mark.parametrize("name", ALL_RULES)
def test_w_and_dw_are_not_modified_in_place(name):
    w = np.array(W0)
    w_before = w.copy()
    config = None
    for dw_list in DWS:
        dw = np.array(dw_list)
        dw_before = dw.copy()
        next_w, config = UPDATE_RULES[name](w, dw, config)
        assert next_w is not w
        assert not np.shares_memory(next_w, w)
        np.testing.assert_array_equal(w, w_before)
        np.testing.assert_array_equal(dw, dw_before)


@pytest.mark.parametrize("name", [name for name in ALL_RULES if STATE_KEYS[name]])
def test_state_arrays_are_replaced_not_changed_in_place(name):
    w, config = UPDATE_RULES[name](np.array(W0), np.array(DWS[0]))
    snapshot = {key: config[key] for key in STATE_KEYS[name]}
    values = {key: array.copy() for key, array in snapshot.items()}
    UPDATE_RULES[name](w, np.array(DWS[1]), config)
    for key in STATE_KEYS[name]:
        assert config[key] is not snapshot[key], f"{name}: {key} was not replaced"
        np.testing.assert_array_equal(snapshot[key], values[key], err_msg=f"{name}: {key} changed in place")


@pytest.mark.parametrize("name", ALL_RULES)
def test_works_on_any_shape_including_scalars_and_4d(name):
    for shape in [(), (5,), (2, 3, 4, 4)]:
        w, config = np.ones(shape), None
        for _ in range(2):
            w, config = UPDATE_RULES[name](w, np.full(shape, 0.5), config)
        assert w.shape == shape
        assert np.all(w < 1.0), f"{name} did not move downhill for shape {shape}"


# ---------------------------------------------------------------------------
# Errors that name the numbers
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL_RULES)
def test_dw_of_another_shape_names_both_shapes(name):
    with pytest.raises(ValueError, match=r"dw.*\(3, 2\).*\(2, 3\)"):
        UPDATE_RULES[name](np.ones((2, 3)), np.ones((3, 2)))


@pytest.mark.parametrize("name", ALL_RULES)
def test_non_numeric_arrays_are_refused(name):
    rule = UPDATE_RULES[name]
    with pytest.raises(TypeError, match=r"w must hold floats, got dtype complex128"):
        rule(np.ones(3, dtype=np.complex128), np.ones(3))
    with pytest.raises(TypeError, match=r"dw must be a numpy array, got list"):
        rule(np.ones(3), [1.0, 1.0, 1.0])


@pytest.mark.parametrize("name", ALL_RULES)
def test_config_that_is_not_a_dict_is_refused(name):
    with pytest.raises(TypeError, match=r"config must be a dict.*got list"):
        UPDATE_RULES[name](np.ones(3), np.ones(3), [("learning_rate", 0.1)])


BAD_HYPERPARAMETERS = [
    ("sgd", "learning_rate", 0.0),
    ("sgd", "learning_rate", -1e-3),
    ("sgd", "learning_rate", math.inf),
    ("sgd", "learning_rate", math.nan),
    ("sgd_momentum", "learning_rate", -0.5),
    ("sgd_momentum", "momentum", 1.0),
    ("sgd_momentum", "momentum", -0.1),
    ("nesterov_momentum", "momentum", 1.5),
    ("adagrad", "epsilon", 0.0),
    ("adagrad", "learning_rate", -2.0),
    ("rmsprop", "decay_rate", 1.0),
    ("rmsprop", "decay_rate", -0.25),
    ("rmsprop", "epsilon", -1e-8),
    ("adam", "learning_rate", 0.0),
    ("adam", "beta1", 1.0),
    ("adam", "beta2", 1.25),
    ("adam", "beta2", -0.5),
    ("adam", "epsilon", -1e-8),
    ("adadelta", "rho", 1.0),
    ("adadelta", "epsilon", 0.0),
    ("adadelta", "learning_rate", -1.0),
]


@pytest.mark.parametrize("name, key, value", BAD_HYPERPARAMETERS)
def test_hyperparameter_out_of_range_names_the_key_and_the_value(name, key, value):
    pattern = re.escape(f"config[{key!r}]") + ".*" + re.escape(str(value))
    with pytest.raises(ValueError, match=pattern):
        UPDATE_RULES[name](np.ones(3), np.ones(3), {key: value})


@pytest.mark.parametrize("value", ["0.1", None, True])
def test_hyperparameter_that_is_not_a_number_is_refused(value):
    with pytest.raises(TypeError, match=re.escape(f"config['momentum'] must be a number, got {value!r}")):
        sgd_momentum(np.ones(3), np.ones(3), {"momentum": value})


def test_numpy_scalar_hyperparameters_are_accepted_and_keep_float32():
    w = np.ones(3, dtype=np.float32)
    next_w, _ = adam(w, w, {"learning_rate": np.float64(0.1), "beta1": np.float32(0.5)})
    assert next_w.dtype == np.float32


@pytest.mark.parametrize("name", [name for name in ALL_RULES if STATE_KEYS[name]])
def test_a_config_reused_for_another_parameter_is_refused(name):
    # The usual mistake: one config shared by a weight matrix and its bias.
    rule = UPDATE_RULES[name]
    _, config = rule(np.ones((4, 3)), np.ones((4, 3)))
    first_key = STATE_KEYS[name][0]
    pattern = re.escape(f"config[{first_key!r}] has shape (4, 3) but w has shape (3,)")
    with pytest.raises(ValueError, match=pattern + ".*own config dict"):
        rule(np.ones(3), np.ones(3), config)


@pytest.mark.parametrize("name, key", RULES_WITH_STATE)
def test_each_state_array_of_another_shape_is_named(name, key):
    config = {key: np.zeros((4, 3))}
    pattern = re.escape(f"config[{key!r}] has shape (4, 3) but w has shape (3,)") + ".*another shape"
    with pytest.raises(ValueError, match=pattern):
        UPDATE_RULES[name](np.ones(3), np.ones(3), config)


@pytest.mark.parametrize("name, key", RULES_WITH_STATE)
def test_state_that_is_not_a_numeric_array_is_refused(name, key):
    with pytest.raises(TypeError, match=re.escape(f"config[{key!r}] must hold floats")):
        UPDATE_RULES[name](np.ones(3), np.ones(3), {key: np.zeros(3, dtype=np.complex128)})


@pytest.mark.parametrize("name", ALL_RULES)
def test_integer_w_and_dw_are_promoted_to_float64(name):
    rule = UPDATE_RULES[name]
    w_int, dw_int = np.array([1, -2, 3]), np.array([4, 0, -1])
    next_int, _ = rule(w_int, dw_int, {"learning_rate": 0.5})
    next_float, _ = rule(w_int.astype(np.float64), dw_int.astype(np.float64), {"learning_rate": 0.5})
    assert next_int.dtype == np.float64
    np.testing.assert_array_equal(next_int, next_float)


def test_adam_t_must_be_a_whole_number_at_least_zero():
    with pytest.raises(ValueError, match=re.escape("config['t'] must be zero or positive, got -1")):
        adam(np.ones(3), np.ones(3), {"t": -1})
    with pytest.raises(TypeError, match=re.escape("config['t'] must be a whole number, got 1.5")):
        adam(np.ones(3), np.ones(3), {"t": 1.5})


# ---------------------------------------------------------------------------
# get_update_rule
# ---------------------------------------------------------------------------


def test_update_rules_lists_exactly_the_seven_rules():
    assert sorted(UPDATE_RULES) == sorted(ALL_RULES)
    for name, rule in UPDATE_RULES.items():
        assert rule is getattr(optim, name)


@pytest.mark.parametrize("name", ALL_RULES)
def test_get_update_rule_by_name(name):
    assert get_update_rule(name) is getattr(optim, name)


def test_get_update_rule_returns_a_function_as_it_is():
    def my_rule(w, dw, config=None):
        return w - dw, config or {}

    assert get_update_rule(my_rule) is my_rule
    assert get_update_rule(adam) is adam


@pytest.mark.parametrize(
    "typo, suggestion",
    [("adma", "adam"), ("sgd_momentun", "sgd_momentum"), ("RMSProp", "rmsprop"), ("nesterov", "nesterov_momentum")],
)
def test_get_update_rule_with_a_typo_suggests_the_closest_name(typo, suggestion):
    with pytest.raises(ValueError, match=re.escape(f"{typo!r}; did you mean {suggestion!r}?")) as info:
        get_update_rule(typo)
    for name in ALL_RULES:
        assert name in str(info.value)


def test_get_update_rule_with_an_unrelated_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match=r"unknown update rule 'lbfgs'\. The valid names are adadelta, adagrad") as info:
        get_update_rule("lbfgs")
    assert "did you mean" not in str(info.value)


@pytest.mark.parametrize("thing", [3, None, ["adam"]])
def test_get_update_rule_refuses_what_is_neither_a_name_nor_callable(thing):
    with pytest.raises(TypeError, match=re.escape(f"got {thing!r} of type {type(thing).__name__}")):
        get_update_rule(thing)


# ---------------------------------------------------------------------------
# Properties over random arrays and hyperparameters
# ---------------------------------------------------------------------------

# Magnitudes up to 1e100: dw**2 then stays far from float64 overflow (~1.8e308).
finite = st.floats(-1e100, 1e100, allow_nan=False, allow_infinity=False)
fraction = st.floats(0.0, 1.0, exclude_max=True)
positive_lr = st.floats(1e-6, 10.0)
positive_eps = st.floats(1e-12, 1.0)


@st.composite
def w_and_three_dws(draw):
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4))
    w = draw(hnp.arrays(np.float64, shape, elements=finite))
    dws = [draw(hnp.arrays(np.float64, shape, elements=finite)) for _ in range(3)]
    return w, dws


@SWEEP
@given(arrays=w_and_three_dws(), lr=positive_lr)
def test_momentum_zero_is_exactly_sgd(arrays, lr):
    w, dws = arrays
    w_sgd, w_mom = w, w
    config_sgd, config_mom = {"learning_rate": lr}, {"learning_rate": lr, "momentum": 0.0}
    for dw in dws:
        w_sgd, config_sgd = sgd(w_sgd, dw, config_sgd)
        w_mom, config_mom = sgd_momentum(w_mom, dw, config_mom)
        np.testing.assert_array_equal(w_mom, w_sgd)


@SWEEP
@given(
    name=st.sampled_from(["adagrad", "rmsprop", "adam", "adadelta"]),
    arrays=w_and_three_dws(),
    lr=positive_lr,
    fraction_1=fraction,
    fraction_2=fraction,
    eps=positive_eps,
)
def test_adaptive_rules_stay_finite_for_finite_inputs(name, arrays, lr, fraction_1, fraction_2, eps):
    w, dws = arrays
    config = {
        "adagrad": {"learning_rate": lr, "epsilon": eps},
        "rmsprop": {"learning_rate": lr, "decay_rate": fraction_1, "epsilon": eps},
        "adam": {"learning_rate": lr, "beta1": fraction_1, "beta2": fraction_2, "epsilon": eps},
        "adadelta": {"learning_rate": lr, "rho": fraction_1, "epsilon": eps},
    }[name]
    for step, dw in enumerate(dws, start=1):
        w, config = UPDATE_RULES[name](w, dw, config)
        assert np.all(np.isfinite(w)), f"{name} step {step}: {w}"
        for key in STATE_KEYS[name]:
            assert np.all(np.isfinite(config[key])), f"{name} step {step}: {key}"


# ---------------------------------------------------------------------------
# Optional cross-check against torch.optim
# ---------------------------------------------------------------------------


def torch_optimizer(torch, name, param, hyper):
    lr = hyper["learning_rate"]
    if name == "sgd":
        return torch.optim.SGD([param], lr=lr)
    if name == "sgd_momentum":
        # torch keeps buf = mu * buf + dw and steps by -lr * buf: our v is -lr * buf.
        return torch.optim.SGD([param], lr=lr, momentum=hyper["momentum"])
    if name == "nesterov_momentum":
        return torch.optim.SGD([param], lr=lr, momentum=hyper["momentum"], nesterov=True)
    if name == "adagrad":
        return torch.optim.Adagrad([param], lr=lr, eps=hyper["epsilon"])
    if name == "rmsprop":
        return torch.optim.RMSprop([param], lr=lr, alpha=hyper["decay_rate"], eps=hyper["epsilon"])
    if name == "adam":
        return torch.optim.Adam([param], lr=lr, betas=(hyper["beta1"], hyper["beta2"]), eps=hyper["epsilon"])
    assert name == "adadelta"
    return torch.optim.Adadelta([param], lr=lr, rho=hyper["rho"], eps=hyper["epsilon"])


@pytest.mark.parametrize("name", ALL_RULES)
def test_matches_torch_optim(name):
    torch = pytest.importorskip("torch")
    hyper = CUSTOM[name]
    param = torch.nn.Parameter(torch.tensor(W0, dtype=torch.float64))
    opt = torch_optimizer(torch, name, param, hyper)
    w, config = np.array(W0), dict(hyper)
    for step, dw in enumerate(DWS, start=1):
        param.grad = torch.tensor(dw, dtype=torch.float64)
        opt.step()
        w, config = UPDATE_RULES[name](w, np.array(dw), config)
        np.testing.assert_allclose(
            w, param.detach().numpy(), rtol=1e-10, atol=1e-12, err_msg=f"{name}, step {step}"
        )
