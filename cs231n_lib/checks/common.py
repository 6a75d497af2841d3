"""Pieces every check uses: calling student code, comparing, explaining."""

import numpy as np

NOT_IMPLEMENTED = "is not implemented yet"


def call_student(function, *args, name=None, where="the cell above", **kwargs):
    """function(*args, **kwargs), turning NotImplementedError into a message that says where to write code."""
    name = name or getattr(function, "__name__", "your function")
    try:
        return function(*args, **kwargs)
    except NotImplementedError:
        raise AssertionError(
            f"{name} {NOT_IMPLEMENTED}: write it between ### BEGIN SOLUTION and "
            f"### END SOLUTION in {where}, then run this check again."
        ) from None


def max_relative_error(got, expected):
    """max |got - expected| / max(|expected|), a scale-relative error that tolerates zeros."""
    got = np.asarray(got, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    scale = max(float(np.max(np.abs(expected))) if expected.size else 0.0, 1e-12)
    return float(np.max(np.abs(got - expected))) / scale if expected.size else 0.0


def fail(what, expected, got, hint):
    """Raise the standard check failure: what was checked, expected, got, hint."""
    raise AssertionError(f"{what}: expected {expected}, got {got}.\nHint: {hint}")


def require_array(value, what, hint):
    if not isinstance(value, np.ndarray):
        fail(what, "a numpy array", type(value).__name__, hint)
    return value


def require_shape(value, shape, what, hint):
    require_array(value, what, hint)
    if value.shape != tuple(shape):
        fail(f"{what} shape", tuple(shape), value.shape, hint)
    return value


def require_close(got, expected, what, hint, tol=1e-7):
    """Check shape, then values to a scale-relative tolerance."""
    require_shape(got, np.shape(expected), what, hint)
    error = max_relative_error(got, expected)
    if not error <= tol:  # also catches NaN
        fail(what, f"values within {tol:g} (relative)", f"a relative error of {error:.2e}", hint)
    return error


def passed(message):
    print(f"OK: {message}")


def require_answered(value, name, where="the cell above"):
    """An answer cell sets its variable to None before its solution region: None means not done yet."""
    if value is None:
        raise AssertionError(
            f"{name} {NOT_IMPLEMENTED}: fill it in between ### BEGIN SOLUTION and "
            f"### END SOLUTION in {where}, run that cell, then run this check again."
        )
    return value
