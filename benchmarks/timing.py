"""Timing helpers shared by the benchmarks.

Machines here are noisy, so each benchmark compares implementations side by
side in one run: the contenders are timed in alternating rounds, and the
median of each one's rounds is reported.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def parse_arguments(description, argv):
    """The options every benchmark takes: (args, rounds to time)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--threads", type=int, default=2, help="threads for numpy's BLAS and torch (default 2)")
    parser.add_argument("--rounds", type=int, default=15, help="timed rounds after 2 warm-ups (default 15)")
    parser.add_argument("--quick", action="store_true", help="3 rounds: a smoke test, not a measurement")
    args = parser.parse_args(argv)
    return args, 3 if args.quick else args.rounds


def import_torch(threads):
    """torch set to ``threads`` threads, or None when it is not installed (it is optional)."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    return torch


# OpenBLAS and OpenMP worker threads keep spinning for a while after a call
# (OpenBLAS up to ~0.1 s) and would steal the cores from whatever runs next.
PAUSE_SECONDS = 0.15


def alternating_rounds(contenders, rounds, warmup=2, pause=PAUSE_SECONDS):
    """Run measuring functions in alternating rounds: {name: [what each timed call returned]}.

    contenders: {name: function() -> measurement}; each function times itself.
    Each round gives every function its turn, in order, so drift in the
    machine's speed affects all of them alike. With several contenders a turn
    is: wait ``pause`` seconds (the previous one's spinning threads go to
    sleep), one untimed call (this one's threads wake up), then the call whose
    measurement is kept, so each is measured warm, as in a training loop.
    """
    several = len(contenders) > 1
    for _ in range(warmup):
        for fn in contenders.values():
            fn()
    results = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, fn in contenders.items():
            if several:
                time.sleep(pause)
                fn()
            results[name].append(fn())
    return results


def wall_time(fn):
    """fn wrapped to return the seconds it took."""

    def timed():
        start = time.perf_counter()
        fn()
        return time.perf_counter() - start

    return timed


def alternating_medians(contenders, rounds, warmup=2):
    """Median seconds per call of each zero-argument function, timed in alternating rounds."""
    results = alternating_rounds({name: wall_time(fn) for name, fn in contenders.items()}, rounds, warmup)
    return {name: float(np.median(times)) for name, times in results.items()}


def worker_output(module, *arguments):
    """Run ``python -m module arguments...`` in a new process and return the JSON it prints."""
    command = [sys.executable, "-m", module, *map(str, arguments)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stderr}")
    return json.loads(result.stdout)


def process_rounds(libraries, rounds, run):
    """{library: {key: median over rounds}} of ``run(library)``, one new process per library per round.

    ``run(library)`` returns {key: seconds} measured in a process of that
    library's own; the order of the libraries alternates from round to round,
    so the machine's drift falls on all of them alike.
    """
    per_round = {library: [] for library in libraries}
    for r in range(rounds):
        for library in (libraries if r % 2 == 0 else libraries[::-1]):
            per_round[library].append(run(library))
    return {library: {key: float(np.median([one[key] for one in runs])) for key in runs[0]}
            for library, runs in per_round.items()}


def gemm_gflops(dtype, n=1024, rounds=7):
    """This machine's numpy matrix-multiply rate in GFLOP/s for an n x n x n product."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n)).astype(dtype)
    b = rng.standard_normal((n, n)).astype(dtype)
    seconds = alternating_medians({"gemm": lambda: a @ b}, rounds)["gemm"]
    return 2 * n**3 / seconds / 1e9


def machine_info(threads):
    from threadpoolctl import threadpool_info

    blas = [
        f"{lib.get('internal_api')} {lib.get('version')} ({lib.get('architecture')}, {lib.get('num_threads')} threads)"
        for lib in threadpool_info()
        if lib.get("user_api") == "blas"
    ]
    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": blas,
        "cpus": os.cpu_count(),
        "threads": threads,
        "processor": platform.processor() or platform.machine(),
    }


def write_results(name, payload):
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(payload, indent=2) + "\n")
    tmp.replace(path)
    return path
