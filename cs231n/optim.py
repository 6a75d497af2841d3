"""CS231n's ``cs231n.optim``: the update rules, re-exported from cs231n_lib.optim.

Same contract as the course's: ``next_w, config = rule(w, dw, config)``,
with the same ``config`` keys and defaults.
"""

from cs231n_lib.optim import adam, rmsprop, sgd, sgd_momentum

__all__ = ["adam", "rmsprop", "sgd", "sgd_momentum"]
