"""Tests for cs231n_lib.checks.optim, the check cells of notebook 05.

Each check must (a) pass on the library's own implementation, (b) name each
common mistake when fed a deliberately mistaken implementation written here,
and (c) say "is not implemented yet" for a function that raises
NotImplementedError (a student's copy before the exercise is done).
"""

import numpy as np
import pytest

from cs231n_lib import optim
from cs231n_lib.checks import optim as checks
from cs231n_lib.checks.common import NOT_IMPLEMENTED
from cs231n_lib.data import load_digits


def expect_failure(check, function, *needles):
    """Run check(function); it must fail with every needle in its message."""
    with pytest.raises(AssertionError) as info:
        check(function)
    message = str(info.value)
    for needle in needles:
        assert needle in message, f"{needle!r} not in:\n{message}"
    return message


def not_implemented(*args, **kwargs):
    raise NotImplementedError()


# ---------------------------------------------------------------------------
# The hand-written SGD loop
# ---------------------------------------------------------------------------


def loop_correct(model, X, y, num_iters=100, batch_size=50, learning_rate=0.1, seed=0):
    rng = np.random.default_rng(seed)
    loss_history = []
    for _ in range(num_iters):
        batch = rng.choice(len(X), size=batch_size, replace=False)
        loss, grads = model.loss(X[batch], y[batch])
        for name in model.params:
            model.params[name] = model.params[name] - learning_rate * grads[name]
        loss_history.append(loss)
    return loss_history


def loop_in_place_update(model, X, y, num_iters=100, batch_size=50, learning_rate=0.1, seed=0):
    # Also correct: -= on the arrays in model.params, batches with replacement.
    rng = np.random.default_rng(seed)
    loss_history = []
    for _ in range(num_iters):
        batch = rng.integers(0, len(X), size=batch_size)
        loss, grads = model.loss(X[batch], y[batch])
        for name, w in model.params.items():
            w -= learning_rate * grads[name]
        loss_history.append(float(loss))
    return np.array(loss_history)


def loop_forgets_update(model, X, y, num_iters=100, batch_size=50, learning_rate=0.1, seed=0):
    rng = np.random.default_rng(seed)
    loss_history = []
    for _ in range(num_iters):
        batch = rng.choice(len(X), size=batch_size, replace=False)
        loss, grads = model.loss(X[batch], y[batch])
        for name, w in model.params.items():
            w = w - learning_rate * grads[name]  # a new local array; model.params keeps the old one
        loss_history.append(loss)
    return loss_history


def loop_updates_weights_only(model, X, y, num_iters=100, batch_size=50, learning_rate=0.1, seed=0):
    rng = np.random.default_rng(seed)
    loss_history = []
    for _ in range(num_iters):
        batch = rng.choice(len(X), size=batch_size, replace=False)
        loss, grads = model.loss(X[batch], y[batch])
        for name in ("W1", "W2"):
            model.params[name] = model.params[name] - learning_rate * grads[name]
        loss_history.append(loss)
    return loss_history


def loop_gradient_ascent(model, X, y, num_iters=100, batch_size=50, learning_rate=0.1, seed=0):
    rng = np.random.default_rng(seed)
    loss_history = []
    for _ in range(num_iters):
        batch = rng.choice(len(X), size=batch_size, replace=False)
        loss, grads = model.loss(X[batch], y[batch])
        for name in model.params:
            model.params[name] = model.params[name] + learning_rate * grads[name]
        loss_history.append(loss)
    return loss_history


def loop_unseeded(model, X, y, num_iters=100, batch_size=50, learning_rate=0.1, seed=0):
    rng = np.random.default_rng()  # ignores seed
    loss_history = []
    for _ in range(num_iters):
        batch = rng.choice(len(X), size=batch_size, replace=False)
        loss, grads = model.loss(X[batch], y[batch])
        for name in model.params:
            model.params[name] = model.params[name] - learning_rate * grads[name]
        loss_history.append(loss)
    return loss_history


def loop_no_sampling(model, X, y, num_iters=100, batch_size=50, learning_rate=0.1, seed=0):
    loss_history = []
    for _ in range(num_iters):
        loss, grads = model.loss(X[:batch_size], y[:batch_size])  # the same 50 images every time
        for name in model.params:
            model.params[name] = model.params[name] - learning_rate * grads[name]
        loss_history.append(loss)
    return loss_history


def loop_no_history(model, X, y, num_iters=100, batch_size=50, learning_rate=0.1, seed=0):
    rng = np.random.default_rng(seed)
    loss_history = []
    for _ in range(num_iters):
        batch = rng.choice(len(X), size=batch_size, replace=False)
        loss, grads = model.loss(X[batch], y[batch])
        for name in model.params:
            model.params[name] = model.params[name] - learning_rate * grads[name]
    return loss_history


@pytest.fixture(scope="module")
def digits():
    return load_digits(dtype=np.float64)


def test_sgd_loop_passes_a_correct_loop(digits, capsys):
    checks.check_sgd_loop(loop_correct, digits)
    assert capsys.readouterr().out.startswith("OK: ")


def test_sgd_loop_accepts_in_place_updates_and_sampling_with_replacement(digits):
    checks.check_sgd_loop(loop_in_place_update, digits)


def test_sgd_loop_loads_digits_itself():
    checks.check_sgd_loop(loop_correct)


@pytest.mark.parametrize(
    "loop, needle",
    [
        (loop_forgets_update, "forgot the update"),
        (loop_updates_weights_only, "b1, b2 did not change"),
        (loop_gradient_ascent, "gradient ascent"),
        (loop_unseeded, "not reproducible"),
        (loop_no_sampling, "no sampling"),
        (loop_no_history, "one loss per iteration"),
    ],
    ids=["forgets-update", "weights-only", "gradient-ascent", "unseeded", "no-sampling", "no-history"],
)
def test_sgd_loop_names_each_mistake(digits, loop, needle):
    expect_failure(lambda f: checks.check_sgd_loop(f, digits), loop, needle, "Hint:")


def test_sgd_loop_not_implemented(digits):
    def loop(model, X, y, num_iters=100, batch_size=50, learning_rate=0.1, seed=0):
        for _ in range(num_iters):
            raise NotImplementedError()

    expect_failure(lambda f: checks.check_sgd_loop(f, digits), loop, NOT_IMPLEMENTED, "train_by_hand")


# ---------------------------------------------------------------------------
# Mistaken update rules. State is kept as the library does: config[key],
# created as zeros on the first call.
# ---------------------------------------------------------------------------


def _config(config, **defaults):
    config = {} if config is None else config
    for key, value in defaults.items():
        config.setdefault(key, value)
    return config


def _zeros(config, key, w):
    return config.get(key, np.zeros_like(w))


# sgd_momentum ---------------------------------------------------------------


def momentum_wrong_sign(w, dw, config=None):
    c = _config(config, learning_rate=1e-2, momentum=0.9)
    v = c["momentum"] * _zeros(c, "velocity", w) + c["learning_rate"] * dw
    c["velocity"] = v
    return w + v, c


def momentum_velocity_not_stored(w, dw, config=None):
    c = _config(config, learning_rate=1e-2, momentum=0.9)
    v = c["momentum"] * _zeros(c, "velocity", w) - c["learning_rate"] * dw
    return w + v, c


def momentum_state_left_at_zero(w, dw, config=None):
    # As in the library, the state exists (zeros) before the exercise code runs; it is never updated.
    c = _config(config, learning_rate=1e-2, momentum=0.9)
    v = c.setdefault("velocity", np.zeros_like(w))
    v = c["momentum"] * v - c["learning_rate"] * dw
    return w + v, c


def momentum_old_velocity(w, dw, config=None):
    c = _config(config, learning_rate=1e-2, momentum=0.9)
    v = _zeros(c, "velocity", w)
    next_w = w + v  # steps with the velocity from before this gradient
    c["velocity"] = c["momentum"] * v - c["learning_rate"] * dw
    return next_w, c


def momentum_in_place(w, dw, config=None):
    c = _config(config, learning_rate=1e-2, momentum=0.9)
    v = c["momentum"] * _zeros(c, "velocity", w) - c["learning_rate"] * dw
    c["velocity"] = v
    w += v  # changes the caller's array
    return w, c


def momentum_float64_state(w, dw, config=None):
    # Right values, but the velocity is stored in dw's dtype, not w's.
    c = _config(config, learning_rate=1e-2, momentum=0.9)
    v = c["momentum"] * _zeros(c, "velocity", w) - c["learning_rate"] * dw
    c["velocity"] = v
    return (w + v).astype(w.dtype), c


def momentum_returns_only_w(w, dw, config=None):
    c = _config(config, learning_rate=1e-2, momentum=0.9)
    v = c["momentum"] * _zeros(c, "velocity", w) - c["learning_rate"] * dw
    c["velocity"] = v
    return w + v


# nesterov_momentum ----------------------------------------------------------


def nesterov_plain_momentum(w, dw, config=None):
    c = _config(config, learning_rate=1e-2, momentum=0.9)
    v = c["momentum"] * _zeros(c, "velocity", w) - c["learning_rate"] * dw
    c["velocity"] = v
    return w + v, c


def nesterov_wrong_sign(w, dw, config=None):
    c = _config(config, learning_rate=1e-2, momentum=0.9)
    mu = c["momentum"]
    v_prev = _zeros(c, "velocity", w)
    v = mu * v_prev + c["learning_rate"] * dw
    c["velocity"] = v
    return w - mu * v_prev + (1 + mu) * v, c


def nesterov_plus_v_prev(w, dw, config=None):
    c = _config(config, learning_rate=1e-2, momentum=0.9)
    mu = c["momentum"]
    v_prev = _zeros(c, "velocity", w)
    v = mu * v_prev - c["learning_rate"] * dw
    c["velocity"] = v
    return w + mu * v_prev + (1 + mu) * v, c


def nesterov_velocity_not_stored(w, dw, config=None):
    c = _config(config, learning_rate=1e-2, momentum=0.9)
    mu = c["momentum"]
    v_prev = _zeros(c, "velocity", w)
    v = mu * v_prev - c["learning_rate"] * dw
    return w - mu * v_prev + (1 + mu) * v, c


# adagrad ----------------------------------------------------------------------


def _adagrad(w, dw, config, *, accumulate=True, root=np.sqrt, eps_inside=False, eps=True,
             store=True, sign=-1.0):
    c = _config(config, learning_rate=1e-2, epsilon=1e-8)
    cache = _zeros(c, "cache", w) + dw**2 if accumulate else dw**2
    if eps_inside:
        denominator = root(cache + c["epsilon"])
    else:
        denominator = root(cache) + (c["epsilon"] if eps else 0.0)
    if store:
        c["cache"] = cache
    return w + sign * c["learning_rate"] * dw / denominator, c


def adagrad_no_sqrt(w, dw, config=None):
    return _adagrad(w, dw, config, root=lambda a: a)


def adagrad_eps_inside_sqrt(w, dw, config=None):
    return _adagrad(w, dw, config, eps_inside=True)


def adagrad_no_eps(w, dw, config=None):
    return _adagrad(w, dw, config, eps=False)


def adagrad_cache_replaced(w, dw, config=None):
    return _adagrad(w, dw, config, accumulate=False)


def adagrad_cache_not_stored(w, dw, config=None):
    return _adagrad(w, dw, config, store=False)


def adagrad_wrong_sign(w, dw, config=None):
    return _adagrad(w, dw, config, sign=1.0)


# rmsprop ----------------------------------------------------------------------


def _rmsprop(w, dw, config, *, swap_decay=False, root=np.sqrt, eps_inside=False, eps=True, store=True):
    c = _config(config, learning_rate=1e-2, decay_rate=0.99, epsilon=1e-8)
    d = c["decay_rate"]
    keep, new = (1 - d, d) if swap_decay else (d, 1 - d)
    cache = keep * _zeros(c, "cache", w) + new * dw**2
    if eps_inside:
        denominator = root(cache + c["epsilon"])
    else:
        denominator = root(cache) + (c["epsilon"] if eps else 0.0)
    if store:
        c["cache"] = cache
    return w - c["learning_rate"] * dw / denominator, c


def rmsprop_no_sqrt(w, dw, config=None):
    return _rmsprop(w, dw, config, root=lambda a: a)


def rmsprop_eps_inside_sqrt(w, dw, config=None):
    return _rmsprop(w, dw, config, eps_inside=True)


def rmsprop_no_eps(w, dw, config=None):
    return _rmsprop(w, dw, config, eps=False)


def rmsprop_decay_swapped(w, dw, config=None):
    return _rmsprop(w, dw, config, swap_decay=True)


def rmsprop_cache_not_stored(w, dw, config=None):
    return _rmsprop(w, dw, config, store=False)


# adam -------------------------------------------------------------------------


def _adam(w, dw, config, *, correct_m=True, correct_v=True, t_after=False, eps=True,
          store_t=True, store_moments=True):
    c = _config(config, learning_rate=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8)
    c.setdefault("t", 0)
    b1, b2 = c["beta1"], c["beta2"]
    t = c["t"] if t_after else c["t"] + 1
    m = b1 * _zeros(c, "m", w) + (1 - b1) * dw
    v = b2 * _zeros(c, "v", w) + (1 - b2) * dw**2
    m_hat = m / (1 - b1**t) if correct_m else m
    v_hat = v / (1 - b2**t) if correct_v else v
    next_w = w - c["learning_rate"] * m_hat / (np.sqrt(v_hat) + (c["epsilon"] if eps else 0.0))
    if store_moments:
        c["m"], c["v"] = m, v
    if store_t:
        c["t"] = t + 1 if t_after else t
    return next_w, c


def adam_no_bias_correction(w, dw, config=None):
    return _adam(w, dw, config, correct_m=False, correct_v=False)


def adam_only_m_corrected(w, dw, config=None):
    return _adam(w, dw, config, correct_v=False)


def adam_only_v_corrected(w, dw, config=None):
    return _adam(w, dw, config, correct_m=False)


def adam_t_incremented_after(w, dw, config=None):
    return _adam(w, dw, config, t_after=True)


def adam_no_eps(w, dw, config=None):
    return _adam(w, dw, config, eps=False)


def adam_t_not_stored(w, dw, config=None):
    return _adam(w, dw, config, store_t=False)


def adam_moments_not_stored(w, dw, config=None):
    return _adam(w, dw, config, store_moments=False)


# adadelta ---------------------------------------------------------------------


def _adadelta(w, dw, config, *, eps_numerator=True, grad_first=True, store=True, sign=-1.0):
    c = _config(config, learning_rate=1.0, rho=0.95, epsilon=1e-6)
    rho, eps = c["rho"], c["epsilon"]
    eg2_old = _zeros(c, "accum_grad", w)
    edx2 = _zeros(c, "accum_update", w)
    eg2 = rho * eg2_old + (1 - rho) * dw**2
    numerator = np.sqrt(edx2 + eps) if eps_numerator else np.sqrt(edx2)
    dx = sign * numerator / np.sqrt((eg2 if grad_first else eg2_old) + eps) * dw
    edx2 = rho * edx2 + (1 - rho) * dx**2
    if store:
        c["accum_grad"], c["accum_update"] = eg2, edx2
    return w + c["learning_rate"] * dx, c


def adadelta_no_eps_in_numerator(w, dw, config=None):
    return _adadelta(w, dw, config, eps_numerator=False)


def adadelta_old_accum_grad(w, dw, config=None):
    return _adadelta(w, dw, config, grad_first=False)


def adadelta_not_stored(w, dw, config=None):
    return _adadelta(w, dw, config, store=False)


def adadelta_wrong_sign(w, dw, config=None):
    return _adadelta(w, dw, config, sign=1.0)


# ---------------------------------------------------------------------------
# The rule checks
# ---------------------------------------------------------------------------

RULE_CHECKS = {
    "sgd_momentum": checks.check_sgd_momentum,
    "nesterov_momentum": checks.check_nesterov_momentum,
    "adagrad": checks.check_adagrad,
    "rmsprop": checks.check_rmsprop,
    "adam": checks.check_adam,
    "adadelta": checks.check_adadelta,
}


@pytest.mark.parametrize("name", RULE_CHECKS)
def test_rule_check_passes_the_library(name, capsys):
    RULE_CHECKS[name](getattr(optim, name))
    assert capsys.readouterr().out.startswith("OK: ")


@pytest.mark.parametrize("name", RULE_CHECKS)
def test_rule_check_not_implemented(name):
    expect_failure(RULE_CHECKS[name], not_implemented, NOT_IMPLEMENTED, "cs231n_lib/optim.py")


@pytest.mark.parametrize("name", RULE_CHECKS)
def test_rule_check_literals_agree_with_the_library(name):
    # The expected values are literals in the checks module; the library is a second source.
    case = checks.CASES[name]
    w, config = np.array(checks.W0), dict(case["config"])
    for step, dw in enumerate(checks.DWS):
        w, config = getattr(optim, name)(w, np.array(dw), config)
        np.testing.assert_allclose(w, case["w"][step], rtol=1e-10, atol=1e-12)
        for key, values in case["state"].items():
            np.testing.assert_allclose(config[key], values[step], rtol=1e-10, atol=1e-12)


MISTAKES = [
    # (check name, mistaken rule, a phrase of its diagnosis)
    ("sgd_momentum", momentum_wrong_sign, "wrong sign"),
    ("sgd_momentum", momentum_velocity_not_stored, "not stored back in config"),
    ("sgd_momentum", momentum_state_left_at_zero, "not stored back in config"),
    ("sgd_momentum", momentum_old_velocity, "did not move"),
    ("sgd_momentum", momentum_in_place, "changed in place"),
    ("sgd_momentum", momentum_returns_only_w, "(next_w, config)"),
    ("nesterov_momentum", nesterov_plain_momentum, "plain momentum"),
    ("nesterov_momentum", nesterov_wrong_sign, "wrong sign"),
    ("nesterov_momentum", nesterov_plus_v_prev, "+ momentum * v_prev"),
    ("nesterov_momentum", nesterov_velocity_not_stored, "not stored back in config"),
    ("adagrad", adagrad_no_sqrt, "square root is missing"),
    ("adagrad", adagrad_eps_inside_sqrt, "epsilon inside the square root"),
    ("adagrad", adagrad_no_eps, "epsilon is missing"),
    ("adagrad", adagrad_cache_replaced, "replaced instead of accumulated"),
    ("adagrad", adagrad_cache_not_stored, "not stored back in config"),
    ("adagrad", adagrad_wrong_sign, "wrong sign"),
    ("rmsprop", rmsprop_no_sqrt, "square root is missing"),
    ("rmsprop", rmsprop_eps_inside_sqrt, "epsilon inside the square root"),
    ("rmsprop", rmsprop_no_eps, "epsilon is missing"),
    ("rmsprop", rmsprop_decay_swapped, "decay_rate and 1 - decay_rate swapped"),
    ("rmsprop", rmsprop_cache_not_stored, "not stored back in config"),
    ("adam", adam_no_bias_correction, "without bias correction"),
    ("adam", adam_only_m_corrected, "only m is bias-corrected"),
    ("adam", adam_only_v_corrected, "only v is bias-corrected"),
    ("adam", adam_t_incremented_after, "t is incremented after the bias correction"),
    ("adam", adam_no_eps, "epsilon is missing"),
    ("adam", adam_t_not_stored, "config['t']"),
    ("adam", adam_moments_not_stored, "not stored back in config"),
    ("adadelta", adadelta_no_eps_in_numerator, "did not move"),
    ("adadelta", adadelta_old_accum_grad, "before E[g^2] was updated"),
    ("adadelta", adadelta_not_stored, "not stored back in config"),
    ("adadelta", adadelta_wrong_sign, "wrong sign"),
]


@pytest.mark.parametrize("name, rule, needle", MISTAKES, ids=[m[1].__name__ for m in MISTAKES])
def test_rule_check_names_each_mistake(name, rule, needle):
    expect_failure(RULE_CHECKS[name], rule, needle, "Hint:")


def test_adam_without_bias_correction_reports_the_ratio():
    message = expect_failure(checks.check_adam, adam_no_bias_correction, "3.16")
    assert "learning rate" in message


def test_state_not_stored_names_the_key_and_the_step():
    message = expect_failure(checks.check_sgd_momentum, momentum_velocity_not_stored, "config['velocity']")
    assert "step 1" in message


def test_a_wrong_value_with_no_known_cause_shows_expected_and_got():
    def off_by_a_bit(w, dw, config=None):
        next_w, config = optim.sgd_momentum(w, dw, config)
        return next_w + 1e-3, config

    message = expect_failure(checks.check_sgd_momentum, off_by_a_bit, "expected", "got", "step 1")
    assert "Hint:" in message


# ---------------------------------------------------------------------------
# dtype (the hidden part of the rule check cells)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", RULE_CHECKS)
def test_keeps_dtype_passes_the_library(name, capsys):
    checks.check_keeps_dtype(getattr(optim, name))
    assert capsys.readouterr().out.startswith("OK: ")


def test_keeps_dtype_names_a_state_stored_in_the_gradients_dtype():
    expect_failure(checks.check_keeps_dtype, momentum_float64_state, "config['velocity']", "float64", "_like")


def test_keeps_dtype_not_implemented():
    expect_failure(checks.check_keeps_dtype, not_implemented, NOT_IMPLEMENTED)


# ---------------------------------------------------------------------------
# The literals of the rule checks, recomputed: a reference step of each rule
# written here, and the named mistakes as variants of it. Each mistake's row at
# step k is the mistaken rule fed the right w and state of step k - 1.
# ---------------------------------------------------------------------------


def _reference_step(name, w, dw, state, config, mistake=None):
    """(next_w, new_state) of rule `name`, or of one named mistake of it."""
    mk = mistake
    s = dict(state)
    if name in ("sgd_momentum", "nesterov_momentum"):
        lr, mu = config["learning_rate"], config["momentum"]
        v_prev = s["velocity"]
        if mk == "momentum_forgotten":
            v = v_prev - lr * dw
        elif mk == "one_minus_mu":
            v = mu * v_prev - (1 - mu) * lr * dw
        elif mk == "lr_ignored":
            v = mu * v_prev - dw
        else:
            v = mu * v_prev - lr * dw
        if name == "sgd_momentum" or mk == "plain_momentum":
            next_w = w + v
        elif mk == "plus_v_prev":
            next_w = w + mu * v_prev + (1 + mu) * v
        else:
            next_w = w - mu * v_prev + (1 + mu) * v
        s["velocity"] = v
        return next_w, s
    if name in ("adagrad", "rmsprop"):
        lr, eps = config["learning_rate"], config["epsilon"]
        cache = s["cache"]
        g2 = dw if mk == "no_square" else dw**2
        if name == "adagrad":
            new = g2 if mk == "cache_replaced" else cache + g2
        else:
            d = config["decay_rate"]
            if mk == "decay_swapped":
                new = (1 - d) * cache + d * g2
            elif mk == "one_minus_decay_missing":
                new = d * cache + g2
            elif mk == "no_decay":
                new = cache + g2
            else:
                new = d * cache + (1 - d) * g2
        used = cache if mk == "old_cache" else new
        if mk == "no_sqrt":
            denominator = used + eps
        elif mk == "eps_inside_sqrt":
            denominator = np.sqrt(used + eps)
        else:
            denominator = np.sqrt(used) + eps
        step = 1.0 if mk == "lr_ignored" else lr
        s["cache"] = new
        return w - step * dw / denominator, s
    if name == "adam":
        lr, b1, b2, eps = (config[k] for k in ("learning_rate", "beta1", "beta2", "epsilon"))
        t = 1 if mk == "t_reset" else s["t"] + 1
        m = b1 * s["m"] + (dw if mk == "one_minus_beta1_missing" else (1 - b1) * dw)
        v = b2 * s["v"] + (1 - b2) * (dw if mk == "no_square" else dw**2)
        m_hat = m if mk in ("no_bias_correction", "only_v_corrected") else m / (1 - b1**t)
        v_hat = v if mk in ("no_bias_correction", "only_m_corrected") else v / (1 - b2**t)
        denominator = np.sqrt(v_hat + eps) if mk == "eps_inside_sqrt" else np.sqrt(v_hat) + eps
        step = 1.0 if mk == "lr_ignored" else lr
        s.update(m=m, v=v, t=t)
        return w - step * m_hat / denominator, s
    if name == "adadelta":
        lr, rho, eps = config["learning_rate"], config["rho"], config["epsilon"]
        eg2_old, edx2 = s["accum_grad"], s["accum_update"]
        eg2 = rho * eg2_old + (dw**2 if mk == "one_minus_rho_missing" else (1 - rho) * dw**2)
        numerator = (edx2 + eps) if mk == "no_sqrt_numerator" else np.sqrt(edx2 + eps)
        used = eg2_old if mk == "old_accum_grad" else eg2
        denominator = (np.sqrt(used) + eps) if mk == "eps_outside_sqrt" else np.sqrt(used + eps)
        dx = -numerator / denominator * dw
        new_edx2 = rho * edx2 + (1 - rho) * (dx if mk == "dx_not_squared" else dx**2)
        s.update(accum_grad=eg2, accum_update=new_edx2)
        return w + (1.0 if mk == "lr_ignored" else lr) * dx, s
    raise KeyError(name)


def _reference_rows(name, mistake=None):
    """w and state after each step; with a mistake, each step starts from the right w and state."""
    case = checks.CASES[name]
    w = np.array(checks.W0)
    state = {key: np.zeros(4) for key in case["state"]}
    if name == "adam":
        state["t"] = 0
    ws, states = [], []
    with np.errstate(all="ignore"):
        for dw in checks.DWS:
            right_w, right_state = _reference_step(name, w, np.array(dw), state, case["config"])
            got_w, got_state = _reference_step(name, w, np.array(dw), state, case["config"], mistake)
            ws.append(got_w)
            states.append(got_state)
            w, state = right_w, right_state
    return ws, states


def _assert_rows(got, literal):
    got, literal = np.array(got, dtype=float), np.array(literal, dtype=float)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(literal))
    np.testing.assert_allclose(got[~np.isnan(got)], literal[~np.isnan(literal)], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", RULE_CHECKS)
def test_rule_literals_agree_with_the_reference_written_here(name):
    case = checks.CASES[name]
    ws, states = _reference_rows(name)
    _assert_rows(ws, case["w"])
    for key, rows in case["state"].items():
        _assert_rows([s[key] for s in states], rows)


MISTAKE_LITERALS = [(name, mistake) for name, case in checks.CASES.items() for mistake in case["mistakes"]]
STATE_MISTAKE_LITERALS = [
    (name, key, mistake)
    for name, case in checks.CASES.items()
    for key, mistakes in case.get("state_mistakes", {}).items()
    for mistake in mistakes
]


@pytest.mark.parametrize("name, mistake", MISTAKE_LITERALS, ids=[f"{n}-{m}" for n, m in MISTAKE_LITERALS])
def test_mistake_literals_are_what_the_mistake_gives(name, mistake):
    ws, _ = _reference_rows(name, mistake)
    _assert_rows(ws, checks.CASES[name]["mistakes"][mistake])
    assert mistake in checks.MISTAKE_HINTS


@pytest.mark.parametrize("name, key, mistake", STATE_MISTAKE_LITERALS,
                         ids=[f"{n}-{k}-{m}" for n, k, m in STATE_MISTAKE_LITERALS])
def test_state_mistake_literals_are_what_the_mistake_gives(name, key, mistake):
    _, states = _reference_rows(name, mistake)
    _assert_rows([s[key] for s in states], checks.CASES[name]["state_mistakes"][key][mistake])
    assert mistake in checks.MISTAKE_HINTS


def _literal_text(name, mistakes=(), state_mistakes=()):
    """The CASES entry's rows as Python text (how the literals were written)."""
    def rows(arrays):
        return [[float(f"{x:.12g}") for x in np.asarray(a, dtype=float)] for a in arrays]
    ws, states = _reference_rows(name)
    out = {"w": rows(ws), "state": {k: rows([s[k] for s in states]) for k in checks.CASES[name]["state"]}}
    out["mistakes"] = {m: rows(_reference_rows(name, m)[0]) for m in mistakes}
    out["state_mistakes"] = {}
    for key, m in state_mistakes:
        out["state_mistakes"].setdefault(key, {})[m] = rows([s[key] for s in _reference_rows(name, m)[1]])
    return out


# ---------------------------------------------------------------------------
# In place, dtype and the loop's batches, in the public checks
# ---------------------------------------------------------------------------


def momentum_state_in_place(w, dw, config=None):
    c = _config(config, learning_rate=1e-2, momentum=0.9)
    v = c.setdefault("velocity", np.zeros_like(w))
    v *= c["momentum"]
    v -= c["learning_rate"] * dw
    return w + v, c


def test_rule_check_names_a_state_array_changed_in_place():
    message = expect_failure(checks.check_sgd_momentum, momentum_state_in_place,
                             "config['velocity']", "changed in place", "step 1")
    assert "Hint:" in message


def test_rule_check_itself_checks_the_dtype():
    expect_failure(checks.check_sgd_momentum, momentum_float64_state, "config['velocity']", "float64", "_like")


def test_adam_epsilon_inside_the_root_shows_different_expected_and_got():
    def adam_eps_inside(w, dw, config=None):
        c = _config(config, learning_rate=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8)
        t = c.get("t", 0) + 1
        m = c["beta1"] * _zeros(c, "m", w) + (1 - c["beta1"]) * dw
        v = c["beta2"] * _zeros(c, "v", w) + (1 - c["beta2"]) * dw**2
        m_hat, v_hat = m / (1 - c["beta1"]**t), v / (1 - c["beta2"]**t)
        c.update(m=m, v=v, t=t)
        return w - c["learning_rate"] * m_hat / np.sqrt(v_hat + c["epsilon"]), c

    message = expect_failure(checks.check_adam, adam_eps_inside, "epsilon inside the square root")
    expected, got = message.split("expected ")[1].split(".\nHint")[0].split(", got ")
    assert expected != got


def _loop(sample=None, step=None):
    def loop(model, X, y, num_iters=100, batch_size=50, learning_rate=0.1, seed=0):
        rng = np.random.default_rng(seed)
        loss_history = []
        for _ in range(num_iters):
            batch = sample(rng, X, batch_size, seed) if sample else rng.choice(len(X), size=batch_size, replace=False)
            loss, grads = model.loss(X[batch], y[batch])
            for name in model.params:
                model.params[name] = model.params[name] - (step or (lambda g, lr, n: lr * g))(
                    grads[name], learning_rate, batch_size)
            loss_history.append(loss)
        return loss_history
    return loop


@pytest.mark.parametrize(
    "loop, needle",
    [
        (_loop(sample=lambda rng, X, n, seed: np.random.default_rng(seed).choice(len(X), size=n, replace=False)),
         "the same batch every time"),
        (_loop(sample=lambda rng, X, n, seed: rng.choice(n, size=n, replace=False)), "first 50 images"),
        (_loop(step=lambda g, lr, n: g), "learning rate is not used"),
        (_loop(step=lambda g, lr, n: lr * g / n), "divided by batch_size again"),
    ],
    ids=["generator-in-loop", "first-rows-only", "learning-rate-ignored", "divided-by-batch-size"],
)
def test_sgd_loop_names_the_batch_and_step_mistakes(digits, loop, needle):
    expect_failure(lambda f: checks.check_sgd_loop(f, digits), loop, needle, "Hint:")
