"""Pieces every check uses: calling student code, comparing, explaining."""

import numpy as np

from cs231n_lib.checks.failure import CheckFailed, record_pass

NOT_IMPLEMENTED = "is not implemented yet"

# Where an exercise is, as the messages say it (the ``where`` of call_student and require_answered).
LAYERS_FILE = "cs231n_lib/layers.py"
OPTIM_FILE = "cs231n_lib/optim.py"
CELL_ABOVE = "the cell above"


def call_student(function, *args, name=None, where=CELL_ABOVE, **kwargs):
    """function(*args, **kwargs), turning NotImplementedError into a message that says where to write code."""
    name = name or getattr(function, "__name__", "your function")
    try:
        return function(*args, **kwargs)
    except NotImplementedError:
        raise CheckFailed(
            f"{name} {NOT_IMPLEMENTED}: in {where}, replace the line raise NotImplementedError() "
            f"of {name} with your code, then run this check again."
        ) from None


# ---------------------------------------------------------------------------
# Comparing numbers: one helper per kind of closeness, one named tolerance per purpose
# ---------------------------------------------------------------------------

# Float64 results compared with exact values or literals that carry 12 significant digits.
EXACT_FLOAT64 = 1e-9
# The same results computed in float32.
EXACT_FLOAT32 = 1e-6
# Results that sum many products (convolution), float64 and float32.
SUMMED_FLOAT64 = 1e-7
SUMMED_FLOAT32 = 1e-5
# An analytic gradient against a centred-difference numerical gradient.
NUMERICAL_GRADIENT = 1e-7
# rel_error(numerical, analytic) for every parameter of a whole model.
MODEL_GRADIENT = 1e-6
# Values that are exact up to rounding (dropout's scaling, a gradient that reproduces a named mistake).
ROUNDING = 1e-6
# A result that reproduces a worked-out slip (one-sided difference, wrong step) to within rounding.
SLIP_MATCH = 1e-8
# The fraction of units dropout drops: for 200 000 units its standard deviation is below 0.0012.
DROPPED_FRACTION = 0.01
# A number that matches one quoted on a lecture slide (three significant digits).
SLIDE_MATCH = 1e-3


def max_relative_error(got, expected):
    """max |got - expected| / max(|expected|), a scale-relative error that tolerates zeros."""
    got = np.asarray(got, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    scale = max(float(np.max(np.abs(expected))) if expected.size else 0.0, 1e-12)
    return float(np.max(np.abs(got - expected))) / scale if expected.size else 0.0


def close(got, expected, tol):
    """Same shape, and max |got - expected| / max(|expected|) <= tol (scale-relative: zeros are fine).
    False for NaN."""
    got = np.asarray(got, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if got.shape != expected.shape:
        return False
    with np.errstate(all="ignore"):
        return bool(max_relative_error(got, expected) <= tol)


def close_elementwise(got, expected, tol):
    """Same shape, and every |got - expected| <= tol * |expected| (relative entry by entry, no absolute
    slack: an expected 0 needs an exact 0)."""
    got = np.asarray(got, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    return got.shape == expected.shape and bool(np.allclose(got, expected, rtol=tol, atol=0.0))


def fail(what, expected, got, hint):
    """Raise the standard check failure (CheckFailed): what was checked, expected, got, hint."""
    raise CheckFailed(f"{what}: expected {expected}, got {got}.\nHint: {hint}")


def require_array(value, what, hint):
    if not isinstance(value, np.ndarray):
        fail(what, "a numpy array", type(value).__name__, hint)
    return value


def require_shape(value, shape, what, hint):
    require_array(value, what, hint)
    if value.shape != tuple(shape):
        fail(f"{what} shape", tuple(shape), value.shape, hint)
    return value


def require_close(got, expected, what, hint, tol=SUMMED_FLOAT64):
    """Check shape, then values to a scale-relative tolerance."""
    require_shape(got, np.shape(expected), what, hint)
    error = max_relative_error(got, expected)
    if not error <= tol:  # also catches NaN
        fail(what, f"values within {tol:g} (relative)", f"a relative error of {error:.2e}", hint)
    return error


def passed(message):
    record_pass(message)
    print(f"OK: {message}")


def require_answered(value, name, where=CELL_ABOVE):
    """An answer cell sets its variable to None before its solution region: None means not done yet."""
    if value is None:
        raise CheckFailed(
            f"{name} {NOT_IMPLEMENTED}: it is still None. In {where}, replace the line "
            f"raise NotImplementedError() with code that sets {name}, run that cell, then run this "
            "check again."
        )
    return value


# ---------------------------------------------------------------------------
# Value answers stored as salted hashes (nbgrader's HASHED AUTOTEST)
# ---------------------------------------------------------------------------

ANSWER_SALT = "cs231n-course/checks/v1:"
SIGNIFICANT_DIGITS = 4


def _canonical(value, digits):
    """The text a value answer is hashed as: a whole number as an int ('55', also for 55.0),
    any other real number rounded to ``digits`` significant digits ('2.333'), a tuple or list
    as its items in brackets ('(64,28,28)'), a string as itself."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, (tuple, list)):
        return "(" + ",".join(_canonical(item, digits) for item in value) + ")"
    if isinstance(value, str):
        return "str:" + value
    if isinstance(value, bool):
        return f"bool:{value}"
    value = float(value)
    if value != value or value in (float("inf"), float("-inf")):
        return f"float:{value}"
    if value.is_integer():
        return str(int(value))
    text = f"{value:.{digits}g}"
    return str(int(float(text))) if "e" not in text and float(text).is_integer() else text


def answer_digest(value, digits=SIGNIFICANT_DIGITS, tag=""):
    """sha256 (first 16 hex digits) of the salt, ``tag`` and the canonical text of ``value``."""
    import hashlib

    text = ANSWER_SALT + tag + "|" + _canonical(value, digits)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def matches_digest(value, digest, digits=SIGNIFICANT_DIGITS, tag=""):
    """Does ``value``, rounded to ``digits`` significant digits, hash to ``digest``? False for non-numbers."""
    try:
        return answer_digest(value, digits, tag) == digest
    except (TypeError, ValueError):
        return False
