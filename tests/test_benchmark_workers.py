"""Smoke tests of the benchmarks' worker processes: they run and report every case (not measurements)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import conv_alternatives, conv_products
from benchmarks.layer_cases import all_cases, conv_arrays
from benchmarks.layer_step import PATTERNS
from cs231n_lib.fast_layers import buffer_pool, conv_forward_fast

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("library", ["ours", "before"])
def test_our_worker_reports_a_positive_median_for_every_case_and_pattern(library):
    result = subprocess.run([sys.executable, "-m", "benchmarks.layer_step", library, "--calls", "1", "--warmup", "0"],
                            cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    seconds = json.loads(result.stdout)
    expected = {f"{kind} {name} {dtype} {pattern}" for kind, name, dtype in all_cases() for pattern in PATTERNS}
    assert set(seconds) == expected
    assert all(value > 0 for value in seconds.values())


@pytest.mark.parametrize("library", ["numpy", "before"])
def test_the_training_benchmark_runs_its_steps_in_a_process_of_their_own(library):
    result = subprocess.run([sys.executable, "-m", "benchmarks.training", "--worker", library, "--rounds", "1"],
                            cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    seconds = json.loads(result.stdout)
    assert set(seconds) == {"float32", "float64"}
    assert all(value > 0 for value in seconds.values())


@pytest.mark.parametrize("name", sorted(conv_alternatives.ALTERNATIVES))
def test_each_measured_alternative_computes_the_convolution(name):
    conv_alternatives.check(conv_alternatives.ALTERNATIVES[name])


def test_the_alternatives_check_fails_on_a_wrong_convolution():
    with pytest.raises(AssertionError):
        conv_alternatives.check(lambda x, w, b: conv_alternatives.winograd(x, w, b) + 1e-6)


@pytest.mark.parametrize("name", conv_products.CASES)
def test_the_products_benchmark_multiplies_matrices_shaped_like_the_librarys(name):
    x, w, b, _, stride, pad = conv_arrays(name, "float64")
    _, cache = conv_forward_fast(x, w, b, {"stride": stride, "pad": pad})
    kept_cols = [cols for cols in cache[-1] if cols is not None]
    buffer_pool.give_back(kept_cols)
    w_and_b, cols, dout_rows = conv_products.product_matrices(name, "float64")
    assert kept_cols, "cases A and B keep their im2col blocks for the backward pass"
    assert cols.shape == (kept_cols[0].shape[0], sum(block.shape[1] for block in kept_cols))
    assert w_and_b.shape == (w.shape[0], cols.shape[0])
    assert dout_rows.shape == (w.shape[0], cols.shape[1])
