"""Numerical gradients by centred differences, to check analytic backward passes.

    df/dx_i ~ (f(x + h e_i) - f(x - h e_i)) / (2h)

The error of this estimate is O(h^2) for smooth f; run checks in float64,
where h = 1e-5 leaves roughly 1e-10 of rounding error. In float32 the same h
is lost in rounding and the check cannot pass.

Each function perturbs ``x`` in place (so ``f`` can close over arrays that
share memory with it) and always puts the original value back, even when f
raises.
"""

import numpy as np

from cs231n_lib.randomness import random_source
from cs231n_lib.validation import require_float_array, require_shape


def rel_error(x, y):
    """Largest relative error max |x - y| / max(1e-8, |x| + |y|), elementwise."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"cannot compare arrays of shapes {x.shape} and {y.shape}")
    if x.size == 0:
        return 0.0
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))


def _centred_difference(f, x, index, h):
    """(f(x + h e_index), f(x - h e_index)), leaving x as it was."""
    original = x[index]
    try:
        x[index] = original + h
        f_plus = f(x)
        x[index] = original - h
        f_minus = f(x)
    finally:
        x[index] = original
    return f_plus, f_minus


def eval_numerical_gradient(f, x, verbose=False, h=1e-5):
    """Numerical gradient of a scalar function f at x.

    Inputs:
    - f: function of one array argument returning a number
    - x: float array of any shape; perturbed in place, then restored
    - verbose: print each entry's gradient as it is computed
    - h: step of the centred difference
    Returns grad, an array shaped like x.
    """
    require_float_array("x", x)
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        f_plus, f_minus = _centred_difference(f, x, index, h)
        grad[index] = (f_plus - f_minus) / (2 * h)
        if verbose:
            print(index, grad[index])
    return grad


def eval_numerical_gradient_array(f, x, df, h=1e-5):
    """Numerical gradient of sum(f(x) * df) at x, for an array-valued f.

    This is what a backward pass computes given upstream gradient df.

    Inputs:
    - f: function of one array argument returning an array shaped like df
    - x: float array of any shape; perturbed in place, then restored
    - df: upstream gradient, shaped like f(x)
    - h: step of the centred difference
    Returns grad, an array shaped like x.
    """
    require_float_array("x", x)
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        f_plus, f_minus = _centred_difference(f, x, index, h)
        f_plus = np.asarray(f_plus)
        require_shape("f(x)", f_plus, np.shape(df))
        grad[index] = np.sum((f_plus - np.asarray(f_minus)) * df) / (2 * h)
    return grad


def grad_check_sparse(f, x, analytic_grad, num_checks=10, h=1e-5, seed=None, verbose=False):
    """Compare analytic_grad with numerical gradients at a few random entries of x.

    Inputs:
    - f: scalar function of x
    - x: float array; perturbed in place, then restored
    - analytic_grad: array shaped like x, the gradient to check
    - num_checks: how many random entries to check
    - h: step of the centred difference
    - seed: seed for choosing the entries (None: numpy's global generator,
      see cs231n_lib.randomness)
    - verbose: print numerical, analytic and relative error for each entry
    Returns a float64 array of num_checks relative errors.
    """
    require_float_array("x", x)
    analytic_grad = np.asarray(analytic_grad)
    require_shape("analytic_grad", analytic_grad, x.shape)
    rng = random_source(seed)
    errors = np.empty(num_checks)
    for k in range(num_checks):
        index = tuple(int(rng.integers(size)) for size in x.shape)
        f_plus, f_minus = _centred_difference(f, x, index, h)
        numerical = (f_plus - f_minus) / (2 * h)
        analytic = analytic_grad[index]
        errors[k] = rel_error(numerical, analytic)
        if verbose:
            print(f"numerical: {numerical:f} analytic: {analytic:f}, relative error: {errors[k]:e}")
    return errors
