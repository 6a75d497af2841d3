"""Checks on the arrays and numbers a user passes to the library.

Every public function validates at its boundary with these helpers, so a
mistake is reported as a ``TypeError`` or ``ValueError`` that names the
offending value and, where it can, the fix.
"""

import numbers

import numpy as np


def require_positive_int(name, value):
    """Return ``value`` as an int if it is a whole number >= 1, else raise."""
    return _require_int(name, value, minimum=1)


def require_non_negative_int(name, value):
    """Return ``value`` as an int if it is a whole number >= 0, else raise."""
    return _require_int(name, value, minimum=0)


def _require_int(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"{name} must be a whole number, got {value!r} of type "
            f"{type(value).__name__}"
        )
    if value < minimum:
        kind = "positive" if minimum == 1 else "zero or positive"
        raise ValueError(f"{name} must be {kind}, got {value}")
    return int(value)


def require_float_dtype(dtype):
    """Return ``np.dtype(dtype)`` if it is a floating-point type, else raise TypeError."""
    dtype = np.dtype(dtype)
    if not np.issubdtype(dtype, np.floating):
        raise TypeError(f"dtype must be a float type such as np.float32, got {dtype}")
    return dtype


def as_float_array(name, a, ndim=None):
    """``a`` as a floating-point numpy array (of ``ndim`` dimensions), for a float computation.

    Float arrays are returned as they are, so a layer keeps the caller's
    float dtype. Integer and boolean arrays are promoted to a float64 copy,
    as numpy arithmetic would promote them (``np.array([0, 128])`` is a fine
    bias). Anything else (a list, complex numbers, strings) is refused.
    """
    if isinstance(a, np.ndarray) and (a.dtype.kind in "biu"):
        a = a.astype(np.float64)
    return require_float_array(name, a, ndim)


def require_float_array(name, a, ndim=None):
    """Check that ``a`` is a floating-point numpy array (of ``ndim`` dimensions).

    For what must already be floats, such as an array a gradient check
    perturbs in place (an integer array would round each step away); a
    computation that only reads its input uses ``as_float_array``.
    """
    if not isinstance(a, np.ndarray):
        raise TypeError(
            f"{name} must be a numpy array, got {type(a).__name__}; "
            f"wrap it with np.asarray({name}, dtype=np.float64)"
        )
    if not np.issubdtype(a.dtype, np.floating):
        raise TypeError(
            f"{name} must hold floats, got dtype {a.dtype}; "
            f"convert it with {name}.astype(np.float64)"
        )
    if ndim is not None and a.ndim != ndim:
        raise ValueError(
            f"{name} must have {ndim} dimensions, got {a.ndim} "
            f"(shape {a.shape})"
        )
    return a


def require_shape(name, a, expected):
    """Check that array ``a`` has exactly the shape ``expected``."""
    if a.shape != tuple(expected):
        raise ValueError(
            f"{name} has shape {a.shape}, expected {tuple(expected)}"
        )
    return a


def require_dout(dout, expected_shape):
    """An upstream gradient as a float array (integers promoted), shaped like the layer's output."""
    dout = as_float_array("dout", dout)
    return require_shape("dout", dout, expected_shape)


def require_labels(y, num_samples, num_classes):
    """Check class labels y: (N,) integers in [0, num_classes)."""
    if not isinstance(y, np.ndarray) or not np.issubdtype(y.dtype, np.integer):
        got = y.dtype if isinstance(y, np.ndarray) else type(y).__name__
        raise TypeError(
            f"y must be a numpy array of integer class labels, got {got}; "
            "convert it with np.asarray(y, dtype=np.int64)"
        )
    if y.shape != (num_samples,):
        raise ValueError(
            f"y has shape {y.shape}, expected ({num_samples},): "
            "one label per row of scores"
        )
    bad = (y < 0) | (y >= num_classes)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"label y[{i}] = {int(y[i])} is outside 0..{num_classes - 1} "
            f"for {num_classes} classes"
        )
    return y


def require_keys(name, mapping, keys, example):
    """Check that the dict ``mapping`` has every key in ``keys``."""
    if not isinstance(mapping, dict):
        raise TypeError(
            f"{name} must be a dict such as {example}, "
            f"got {type(mapping).__name__}"
        )
    missing = [k for k in keys if k not in mapping]
    if missing:
        raise ValueError(
            f"{name} is missing {', '.join(repr(k) for k in missing)}; "
            f"pass a dict such as {example}"
        )
    return mapping
