"""Smoke tests of the benchmarks' worker processes: they run and report every case (not measurements)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import conv_alternatives
from benchmarks.layer_cases import all_cases
from benchmarks.layer_step import PATTERNS

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
