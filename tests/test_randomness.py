"""Tests for cs231n_lib.randomness: the one rule for seed, rng and numpy's global generator."""

import re

import numpy as np
import pytest

from cs231n_lib.randomness import (
    GLOBAL_GENERATOR,
    derived_seed,
    random_source,
    require_seed,
)


def test_a_seed_gives_a_private_generator():
    a, b = random_source(3), random_source(3)
    assert isinstance(a, np.random.Generator)
    np.testing.assert_array_equal(a.standard_normal(5), b.standard_normal(5))
    np.testing.assert_array_equal(random_source(3).standard_normal(5), np.random.default_rng(3).standard_normal(5))


def test_a_generator_is_used_as_it_is():
    rng = np.random.default_rng(0)
    assert random_source(rng=rng) is rng


def test_neither_gives_numpys_global_generator_at_call_time():
    source = random_source()
    assert source is GLOBAL_GENERATOR
    np.random.seed(231)
    drawn = (source.standard_normal((2, 3)), source.random(4), source.integers(0, 10, size=3),
             source.choice(10, size=3, replace=False), source.permutation(5))
    np.random.seed(231)
    expected = (np.random.randn(2, 3), np.random.random_sample(4), np.random.randint(0, 10, 3),
                np.random.choice(10, 3, False), np.random.permutation(5))
    for got, want in zip(drawn, expected):
        np.testing.assert_array_equal(got, want)


def test_both_are_refused_with_the_callers_names():
    with pytest.raises(ValueError, match=re.escape("both dropout_param['seed'] and dropout_param['rng'] were given")):
        random_source(1, np.random.default_rng(1), seed_name="dropout_param['seed']", rng_name="dropout_param['rng']")


@pytest.mark.parametrize(("seed", "error", "shown"), [(1.5, TypeError, "1.5"), (True, TypeError, "True"), (-4, ValueError, "-4")])
def test_bad_seeds_are_named(seed, error, shown):
    with pytest.raises(error, match=re.escape(shown)):
        require_seed("seed", seed)


def test_a_legacy_random_state_is_not_a_generator():
    with pytest.raises(TypeError, match="got RandomState"):
        random_source(rng=np.random.RandomState(0))


def test_derived_seeds_differ_by_path_and_repeat():
    assert derived_seed(7, 1) == derived_seed(7, 1)
    assert len({derived_seed(7, 1), derived_seed(7, 2), derived_seed(8, 1)}) == 3
    assert isinstance(derived_seed(7, 1), int) and derived_seed(7, 1) >= 0
