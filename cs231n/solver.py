"""CS231n's ``cs231n.solver``, re-exported from cs231n_lib.solver."""

from cs231n_lib.solver import Solver

__all__ = ["Solver"]
