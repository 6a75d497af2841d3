"""Update rules: how a gradient becomes a step.

Every rule follows one contract:

    next_w, config = rule(w, dw, config=None)

Inputs:
- w: float array of any shape, the current parameter values
- dw: float array shaped like w, the gradient of the loss with respect to w
- config: dict holding the rule's hyperparameters and its running state, or
  None for a new dict. Missing hyperparameters are filled in with
  ``config.setdefault``, so a value you set yourself is kept. State arrays
  (velocity, cache, m, v, ...) are created on the first call as zeros with
  w's shape and dtype.
Returns (next_w, config): next_w is a new array with w's shape and dtype (w
and dw are never modified in place); config is the same dict, with its state
arrays replaced by new ones (never changed in place, so ``dict(config)`` is a
snapshot you can keep).

One config holds the state of one parameter. A model with parameters W1, b1
and W2 needs three config dicts; reusing one config for two parameters of
different shapes raises a ValueError.

The rules, with the intuition behind each:
- sgd: step straight downhill, by learning_rate times the gradient.
- sgd_momentum: a ball rolling downhill; the velocity remembers past
  gradients, so steady directions speed up and zig-zags cancel out.
- nesterov_momentum: momentum that first coasts along its velocity and then
  corrects with the gradient at the point it is about to reach.
- adagrad: each coordinate's step shrinks with the total squared gradient it
  has seen, so steep directions slow down and flat ones keep moving.
- rmsprop: adagrad with a leaky memory, so steps stop shrinking forever.
- adam: momentum (first moment) and rmsprop (second moment) together, with a
  bias correction because both moments start at zero.
- adadelta: rmsprop whose step size is set by a running average of past
  steps, so the step carries the units of w and needs no learning rate.

``get_update_rule("adam")`` turns a name into its function; the Solver uses it.
"""

import difflib
import math
import numbers

import numpy as np

from cs231n_lib.validation import (
    as_float_array,
    require_non_negative_int,
    require_shape,
)

# ---------------------------------------------------------------------------
# Checks shared by every rule
# ---------------------------------------------------------------------------


def _start(w, dw, config):
    """Validate w and dw (integers promoted to float64); return (w, dw, config), config new for None."""
    w = as_float_array("w", w)
    dw = as_float_array("dw", dw)
    require_shape("dw, the gradient of w,", dw, w.shape)
    if config is None:
        return w, dw, {}
    if not isinstance(config, dict):
        raise TypeError(
            "config must be a dict of hyperparameters such as "
            f"{{'learning_rate': 1e-2}}, or None, got {type(config).__name__}"
        )
    return w, dw, config


def _hyperparameter(config, key, default, low, high=None):
    """Fill config[key] with its default and check low < value (or low <= value < high).

    With ``high=None`` the value must be a finite number > low; otherwise it
    must lie in the half-open interval [low, high). Returns it as a Python
    float, so a float32 array times it stays float32.
    """
    value = config.setdefault(key, default)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"config[{key!r}] must be a number, got {value!r} of type "
            f"{type(value).__name__}; the default is {default}"
        )
    value = float(value)
    if high is None:
        if not (value > low and math.isfinite(value)):
            raise ValueError(
                f"config[{key!r}] must be a finite number > {low}, got {value}; "
                f"the default is {default}"
            )
    elif not (low <= value < high):
        raise ValueError(
            f"config[{key!r}] must be in [{low}, {high}), got {value}; "
            f"the default is {default}"
        )
    return value


def _state(config, key, w):
    """Return the state array config[key], created as zeros like w on first use.

    The array is returned in w's dtype. A state array of another shape means
    the config was filled by a different parameter, which is refused.
    """
    if key not in config:
        config[key] = np.zeros(w.shape, dtype=w.dtype)
    state = as_float_array(f"config[{key!r}]", config[key])
    if state.shape != w.shape:
        raise ValueError(
            f"config[{key!r}] has shape {state.shape} but w has shape {w.shape}: "
            "this config holds the state of a parameter with another shape. "
            "Give every parameter its own config dict, e.g. "
            "{name: {} for name in params}"
        )
    return state.astype(w.dtype, copy=False)


def _like(a, w):
    """a as an array in w's dtype.

    Mixing a float32 w with a float64 dw must not upcast w, and arithmetic on
    a 0-d w gives a numpy scalar, which must go back to being an array.
    """
    return np.asarray(a, dtype=w.dtype)


# ---------------------------------------------------------------------------
# The update rules
# ---------------------------------------------------------------------------


def sgd(w, dw, config=None):
    """Vanilla stochastic gradient descent.

        w <- w - learning_rate * dw

    Inputs:
    - w: float array of any shape
    - dw: float array shaped like w
    - config: dict or None, with
      - learning_rate: step size, > 0 (default 1e-2)
    Returns (next_w, config): next_w is a new array shaped like w, in w's dtype.
    """
    w, dw, config = _start(w, dw, config)
    lr = _hyperparameter(config, "learning_rate", 1e-2, low=0)
    next_w = w - lr * dw
    return _like(next_w, w), config


def sgd_momentum(w, dw, config=None):
    """Stochastic gradient descent with momentum.

        v <- momentum * v - learning_rate * dw
        w <- w + v

    The velocity v is a decaying sum of past steps: with a constant gradient
    it settles at -learning_rate * dw / (1 - momentum), ten times a plain sgd
    step for momentum 0.9. Components of dw that flip sign from step to step
    cancel in v instead.

    Inputs:
    - w: float array of any shape
    - dw: float array shaped like w
    - config: dict or None, with
      - learning_rate: step size, > 0 (default 1e-2)
      - momentum: how much velocity survives a step, in [0, 1) (default 0.9);
        0 gives plain sgd
      - velocity: state, shaped like w (created as zeros)
    Returns (next_w, config): next_w is a new array shaped like w, in w's dtype.
    """
    w, dw, config = _start(w, dw, config)
    lr = _hyperparameter(config, "learning_rate", 1e-2, low=0)
    mu = _hyperparameter(config, "momentum", 0.9, low=0, high=1)
    v = _state(config, "velocity", w)

    # Exercise: compute next_w and store the new velocity in config["velocity"],
    # as _like(..., w) so it keeps w's dtype.
    ### BEGIN SOLUTION
    v = mu * v - lr * dw
    next_w = w + v
    config["velocity"] = _like(v, w)
    ### END SOLUTION
    return _like(next_w, w), config


def nesterov_momentum(w, dw, config=None):
    """Stochastic gradient descent with Nesterov momentum.

        v_prev <- v
        v      <- momentum * v - learning_rate * dw
        w      <- w - momentum * v_prev + (1 + momentum) * v

    The lecture writes Nesterov momentum with a look-ahead: take the gradient
    at x + momentum * v, the point the velocity is about to carry you to,

        v <- momentum * v - learning_rate * grad f(x + momentum * v)
        x <- x + v

    That needs the gradient somewhere other than at the parameters we store.
    The change of variables w = x + momentum * v makes the stored w that
    look-ahead point, so dw = grad f(w) is the ordinary gradient; substituting
    x = w - momentum * v into the second line gives the update above. Both
    forms visit the same points: w_t = x_t + momentum * v_t at every step
    (equal at the start, where v = 0).

    Inputs:
    - w: float array of any shape (the look-ahead point)
    - dw: float array shaped like w, the gradient at w
    - config: dict or None, with
      - learning_rate: step size, > 0 (default 1e-2)
      - momentum: in [0, 1) (default 0.9)
      - velocity: state, shaped like w (created as zeros)
    Returns (next_w, config): next_w is a new array shaped like w, in w's dtype.
    """
    w, dw, config = _start(w, dw, config)
    lr = _hyperparameter(config, "learning_rate", 1e-2, low=0)
    mu = _hyperparameter(config, "momentum", 0.9, low=0, high=1)
    v = _state(config, "velocity", w)

    # Exercise: compute next_w and store the new velocity in config["velocity"],
    # as _like(..., w) so it keeps w's dtype.
    ### BEGIN SOLUTION
    v_prev = v
    v = mu * v - lr * dw
    next_w = w - mu * v_prev + (1 + mu) * v
    config["velocity"] = _like(v, w)
    ### END SOLUTION
    return _like(next_w, w), config


def adagrad(w, dw, config=None):
    """Adagrad: a step per coordinate scaled by its whole history of gradients.

        cache <- cache + dw**2
        w     <- w - learning_rate * dw / (sqrt(cache) + epsilon)

    The cache only grows, so steps shrink over time, and fastest along
    coordinates with large gradients. The first step moves every coordinate
    with a nonzero gradient by about learning_rate.

    Inputs:
    - w: float array of any shape
    - dw: float array shaped like w
    - config: dict or None, with
      - learning_rate: step size, > 0 (default 1e-2)
      - epsilon: keeps the division finite, > 0 (default 1e-8)
      - cache: state, the sum of squared gradients, shaped like w (created as zeros)
    Returns (next_w, config): next_w is a new array shaped like w, in w's dtype.
    """
    w, dw, config = _start(w, dw, config)
    lr = _hyperparameter(config, "learning_rate", 1e-2, low=0)
    eps = _hyperparameter(config, "epsilon", 1e-8, low=0)
    cache = _state(config, "cache", w)

    # Exercise: compute next_w and store the new cache in config["cache"],
    # as _like(..., w) so it keeps w's dtype.
    ### BEGIN SOLUTION
    cache = cache + dw**2
    next_w = w - lr * dw / (np.sqrt(cache) + eps)
    config["cache"] = _like(cache, w)
    ### END SOLUTION
    return _like(next_w, w), config


def rmsprop(w, dw, config=None):
    """RMSProp: adagrad with a leaky (exponentially decaying) cache.

        cache <- decay_rate * cache + (1 - decay_rate) * dw**2
        w     <- w - learning_rate * dw / (sqrt(cache) + epsilon)

    sqrt(cache) is a running root-mean-square of recent gradients, so each
    coordinate steps by roughly learning_rate * dw / rms(dw), and old
    gradients are forgotten instead of shrinking the step forever.

    Inputs:
    - w: float array of any shape
    - dw: float array shaped like w
    - config: dict or None, with
      - learning_rate: step size, > 0 (default 1e-2)
      - decay_rate: how much of the cache survives a step, in [0, 1) (default 0.99)
      - epsilon: keeps the division finite, > 0 (default 1e-8)
      - cache: state, shaped like w (created as zeros)
    Returns (next_w, config): next_w is a new array shaped like w, in w's dtype.
    """
    w, dw, config = _start(w, dw, config)
    lr = _hyperparameter(config, "learning_rate", 1e-2, low=0)
    decay = _hyperparameter(config, "decay_rate", 0.99, low=0, high=1)
    eps = _hyperparameter(config, "epsilon", 1e-8, low=0)
    cache = _state(config, "cache", w)

    # Exercise: compute next_w and store the new cache in config["cache"],
    # as _like(..., w) so it keeps w's dtype.
    ### BEGIN SOLUTION
    cache = decay * cache + (1 - decay) * dw**2
    next_w = w - lr * dw / (np.sqrt(cache) + eps)
    config["cache"] = _like(cache, w)
    ### END SOLUTION
    return _like(next_w, w), config


def adam(w, dw, config=None):
    """Adam: momentum on the gradient, rmsprop on its square, both bias-corrected.

        t     <- t + 1
        m     <- beta1 * m + (1 - beta1) * dw
        v     <- beta2 * v + (1 - beta2) * dw**2
        m_hat  = m / (1 - beta1**t)
        v_hat  = v / (1 - beta2**t)
        w     <- w - learning_rate * m_hat / (sqrt(v_hat) + epsilon)

    m and v start at zero, so early on they are too small by the factors
    1 - beta1**t and 1 - beta2**t; dividing by those factors removes the bias.
    t is incremented first, so the first step uses t = 1, where m_hat = dw
    and v_hat = dw**2: every coordinate moves by about learning_rate.

    Inputs:
    - w: float array of any shape
    - dw: float array shaped like w
    - config: dict or None, with
      - learning_rate: step size, > 0 (default 1e-3)
      - beta1: decay of the first moment m, in [0, 1) (default 0.9)
      - beta2: decay of the second moment v, in [0, 1) (default 0.999)
      - epsilon: keeps the division finite, > 0 (default 1e-8)
      - m, v: state, shaped like w (created as zeros)
      - t: state, the number of steps taken so far (starts at 0)
    Returns (next_w, config): next_w is a new array shaped like w, in w's dtype.
    """
    w, dw, config = _start(w, dw, config)
    lr = _hyperparameter(config, "learning_rate", 1e-3, low=0)
    beta1 = _hyperparameter(config, "beta1", 0.9, low=0, high=1)
    beta2 = _hyperparameter(config, "beta2", 0.999, low=0, high=1)
    eps = _hyperparameter(config, "epsilon", 1e-8, low=0)
    m = _state(config, "m", w)
    v = _state(config, "v", w)
    t = require_non_negative_int("config['t']", config.setdefault("t", 0))

    # Exercise: compute next_w and store m, v (as _like(..., w), in w's dtype)
    # and t back in config.
    ### BEGIN SOLUTION
    t = t + 1
    m = beta1 * m + (1 - beta1) * dw
    v = beta2 * v + (1 - beta2) * dw**2
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    next_w = w - lr * m_hat / (np.sqrt(v_hat) + eps)
    config["m"] = _like(m, w)
    config["v"] = _like(v, w)
    config["t"] = t
    ### END SOLUTION
    return _like(next_w, w), config


def adadelta(w, dw, config=None):
    """Adadelta (Zeiler, 2012): steps sized by a running average of past steps.

        E[g^2]  <- rho * E[g^2] + (1 - rho) * dw**2
        dx       = -sqrt(E[dx^2] + epsilon) / sqrt(E[g^2] + epsilon) * dw
        E[dx^2] <- rho * E[dx^2] + (1 - rho) * dx**2
        w       <- w + learning_rate * dx

    The denominator is rmsprop's; the numerator replaces its learning rate
    with the root-mean-square of recent steps, so dx has the units of w.
    At the start E[dx^2] = 0 and steps are about sqrt(epsilon) in size;
    they grow as the steps taken grow. learning_rate is a plain multiplier
    on the step, 1.0 as in the paper.

    Inputs:
    - w: float array of any shape
    - dw: float array shaped like w
    - config: dict or None, with
      - learning_rate: multiplier on the step, > 0 (default 1.0)
      - rho: how much of each running average survives a step, in [0, 1) (default 0.95)
      - epsilon: > 0 (default 1e-6); also sets the size of the first steps
      - accum_grad: state E[g^2], shaped like w (created as zeros)
      - accum_update: state E[dx^2], shaped like w (created as zeros)
    Returns (next_w, config): next_w is a new array shaped like w, in w's dtype.
    """
    w, dw, config = _start(w, dw, config)
    lr = _hyperparameter(config, "learning_rate", 1.0, low=0)
    rho = _hyperparameter(config, "rho", 0.95, low=0, high=1)
    eps = _hyperparameter(config, "epsilon", 1e-6, low=0)
    accum_grad = _state(config, "accum_grad", w)
    accum_update = _state(config, "accum_update", w)

    # Exercise: compute next_w and store both running averages back in config,
    # as _like(..., w) so they keep w's dtype.
    ### BEGIN SOLUTION
    accum_grad = rho * accum_grad + (1 - rho) * dw**2
    dx = -np.sqrt(accum_update + eps) / np.sqrt(accum_grad + eps) * dw
    accum_update = rho * accum_update + (1 - rho) * dx**2
    next_w = w + lr * dx
    config["accum_grad"] = _like(accum_grad, w)
    config["accum_update"] = _like(accum_update, w)
    ### END SOLUTION
    return _like(next_w, w), config


# ---------------------------------------------------------------------------
# Looking a rule up by name
# ---------------------------------------------------------------------------


UPDATE_RULES = {
    "sgd": sgd,
    "sgd_momentum": sgd_momentum,
    "nesterov_momentum": nesterov_momentum,
    "adagrad": adagrad,
    "rmsprop": rmsprop,
    "adam": adam,
    "adadelta": adadelta,
}


def get_update_rule(name_or_function):
    """Return the update rule for a name in UPDATE_RULES, or a function as it is.

    Inputs:
    - name_or_function: a str such as "adam", or a callable with the
      signature rule(w, dw, config=None) -> (next_w, config)
    Returns the update rule function.
    Raises ValueError for an unknown name (listing the valid ones and the
    closest match) and TypeError for anything that is neither a str nor
    callable.
    """
    if isinstance(name_or_function, str):
        rule = UPDATE_RULES.get(name_or_function)
        if rule is not None:
            return rule
        names = sorted(UPDATE_RULES)
        close = difflib.get_close_matches(name_or_function.lower(), names, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else "."
        raise ValueError(
            f"unknown update rule {name_or_function!r}{hint} "
            f"The valid names are {', '.join(names)}; "
            "or pass your own function rule(w, dw, config=None) -> (next_w, config)"
        )
    if callable(name_or_function):
        return name_or_function
    raise TypeError(
        "update rule must be a name such as 'adam' or a function "
        f"rule(w, dw, config=None) -> (next_w, config), got {name_or_function!r} "
        f"of type {type(name_or_function).__name__}"
    )
