"""CS231n's ``cs231n.gradient_check``, re-exported from cs231n_lib.gradient_check.

``grad_check_sparse`` prints its lines only with ``verbose=True`` and returns
the relative errors (the course's always prints and returns nothing).

Not provided: ``eval_numerical_gradient_blobs`` and
``eval_numerical_gradient_net``. They work on "blob" objects (``.vals``,
``.diffs``) and a ``net.forward()`` from a layer framework the course does
not ship, and no notebook calls them.
"""

from cs231n_lib.gradient_check import (
    eval_numerical_gradient,
    eval_numerical_gradient_array,
    grad_check_sparse,
)

__all__ = [
    "eval_numerical_gradient",
    "eval_numerical_gradient_array",
    "grad_check_sparse",
]
