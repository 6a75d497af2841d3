"""Where the library's random numbers come from: one rule for every function and model.

Anything random (initial weights, dropout masks, mini-batches, the entries a
sparse gradient check picks) takes ``seed=None`` and, where it makes sense,
``rng=None``:

- ``seed=`` a whole number >= 0: a private ``np.random.default_rng(seed)``.
  The same seed gives the same numbers, whatever else the program draws.
- ``rng=`` a ``np.random.Generator``: the numbers are drawn from it, so it
  advances; two calls differ, and the whole run repeats from the generator's
  seed.
- neither: numpy's global generator, as ``np.random.randn`` uses, so
  ``np.random.seed(231)`` before a call reproduces it (CS231n's notebooks
  rely on this). The library never calls ``np.random.seed`` itself.

Models apply the rule to their initial weights and their dropout masks. A
model's ``seed`` fixes both: every ``loss(X, y)`` call draws the same masks
(each dropout layer's from its own seed derived from the model's), so the
loss is a fixed function of the parameters and a dropout model can be
gradient-checked, as CS231n's ``dropout_param['seed']`` does. To train with
fresh masks at every step and still repeat the run, give ``rng`` instead.
"""

import numbers

import numpy as np


class GlobalGenerator:
    """numpy's global generator behind the few ``np.random.Generator`` methods the library uses.

    Each call reads the global state when it is made, so an ``np.random.seed``
    between calls takes effect, as it would for ``np.random.randn``.
    """

    def random(self, size=None):
        return np.random.random_sample(size)

    def standard_normal(self, size=None):
        return np.random.standard_normal(size)

    def integers(self, low, high=None, size=None):
        return np.random.randint(low, high, size)

    def choice(self, a, size=None, replace=True):
        return np.random.choice(a, size, replace)

    def permutation(self, x):
        return np.random.permutation(x)

    def __repr__(self):
        return "GlobalGenerator() (numpy's global generator: np.random.seed sets it)"


GLOBAL_GENERATOR = GlobalGenerator()


def require_seed(name, seed):
    """``seed`` as an int if it is None or a whole number >= 0, else a TypeError or ValueError."""
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"{name} must be a whole number such as 0, or None, got {seed!r} of type {type(seed).__name__}")
    if seed < 0:
        raise ValueError(f"{name} must be zero or positive, got {seed}")
    return int(seed)


def random_source(seed=None, rng=None, seed_name="seed", rng_name="rng"):
    """The generator the rule above picks: default_rng(seed), rng itself, or GLOBAL_GENERATOR.

    ``seed_name`` and ``rng_name`` are how the caller's user spells the two
    (e.g. "dropout_param['seed']"), for the error messages.
    """
    seed = require_seed(seed_name, seed)
    if seed is not None and rng is not None:
        raise ValueError(f"both {seed_name} and {rng_name} were given; give one of them (or neither, for numpy's global generator)")
    if rng is not None:
        if not isinstance(rng, np.random.Generator):
            raise TypeError(
                f"{rng_name} must be a numpy Generator such as np.random.default_rng(0), "
                f"got {type(rng).__name__}"
            )
        return rng
    if seed is not None:
        return np.random.default_rng(seed)
    return GLOBAL_GENERATOR


def derived_seed(seed, *path):
    """A seed for one part of a seeded whole (e.g. dropout layer 2 of a model seeded 7).

    Different paths give independent streams (np.random.SeedSequence mixes
    them), so two layers never share a mask pattern.
    """
    return int(np.random.SeedSequence((seed, *path)).generate_state(1)[0])
