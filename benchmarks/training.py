"""Training throughput of ThreeLayerConvNet, beside the same model in PyTorch.

Run from the repository root:

    python -m benchmarks.training [--threads 2] [--rounds 15] [--quick]

One training step = forward, backward and a plain SGD update of every
parameter, on a batch of 50 images of (3, 32, 32) (CIFAR-10 sized), with the
model's defaults: 32 filters of 7x7, a hidden layer of 100, 10 classes.
Prints images per second in float32 and float64 and writes
benchmarks/results/training.json. PyTorch is optional; when installed it runs
the same architecture. Each library runs in processes of its own (one per
library per round, the order alternating; two libraries' thread pools in one
process slow each other): a process warms up with 2 steps, times --rounds
steps and reports their median; the table gives the median over --processes
rounds of those.
"""
import argparse
import importlib.util
import json

import numpy as np
from threadpoolctl import threadpool_limits

from benchmarks.timing import (
    alternating_medians,
    import_torch,
    machine_info,
    process_rounds,
    worker_output,
    write_results,
)

BATCH = 50
INPUT = (3, 32, 32)
LEARNING_RATE = 1e-3


def use_layers_before_issue_15():
    """Give ThreeLayerConvNet the sandwich of benchmarks/baseline_fast_layers.py (this process only).

    Returns the model's conv_param patch of that time: the opt-in Workspace it passed.
    """
    from benchmarks import baseline_fast_layers as before
    from cs231n_lib import models
    from cs231n_lib.layers import relu_backward, relu_forward

    def conv_relu_pool_forward(x, w, b, conv_param, pool_param):
        activations, conv_cache = before.conv_forward_fast(x, w, b, conv_param)
        pooled, pool_cache = before.max_pool_forward_fast(activations, pool_param)
        out, relu_cache = relu_forward(pooled)
        return out, (conv_cache, pool_cache, relu_cache)

    def conv_relu_pool_backward(dout, cache, compute_dx=True):
        conv_cache, pool_cache, relu_cache = cache
        dactivations = before.max_pool_backward_fast(relu_backward(dout, relu_cache), pool_cache)
        return before.conv_backward_fast(dactivations, conv_cache, compute_dx=compute_dx)

    models.conv_relu_pool_forward = conv_relu_pool_forward
    models.conv_relu_pool_backward = conv_relu_pool_backward
    return {"workspace": before.Workspace()}


def numpy_step(dtype, rng, conv_param_patch=None):
    from cs231n_lib.models import ThreeLayerConvNet
    from cs231n_lib.optim import sgd

    model = ThreeLayerConvNet(input_dim=INPUT, dtype=dtype, seed=0)
    model.conv_param.update(conv_param_patch or {})
    X = rng.standard_normal((BATCH, *INPUT)).astype(dtype)
    y = rng.integers(0, 10, BATCH)
    config = {"learning_rate": LEARNING_RATE}

    def step():
        _, grads = model.loss(X, y)
        for name, w in model.params.items():
            model.params[name], _ = sgd(w, grads[name], config)

    return step


def torch_step(torch, dtype, rng):
    nn = torch.nn
    C, H, W = INPUT
    model = nn.Sequential(
        nn.Conv2d(C, 32, 7, padding=3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * (H // 2) * (W // 2), 100), nn.ReLU(), nn.Linear(100, 10),
    ).to(dtype=getattr(torch, np.dtype(dtype).name))
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
    X = torch.from_numpy(rng.standard_normal((BATCH, *INPUT)).astype(dtype))
    y = torch.from_numpy(rng.integers(0, 10, BATCH))
    loss_fn = nn.CrossEntropyLoss()

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss_fn(model(X), y).backward()
        optimizer.step()

    return step


def worker(library, threads, calls):
    """Median seconds of one training step per dtype, for one library, in this process."""
    rng = np.random.default_rng(0)
    torch = import_torch(threads) if library == "torch" else None
    patch = use_layers_before_issue_15() if library == "before" else None
    seconds = {}
    with threadpool_limits(limits=threads, user_api="blas"):
        for dtype in (np.float32, np.float64):
            step = torch_step(torch, dtype, rng) if torch is not None else numpy_step(dtype, rng, patch)
            seconds[np.dtype(dtype).name] = alternating_medians({library: step}, calls)[library]
    return seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="threads for each library (default 2)")
    parser.add_argument("--rounds", type=int, default=15, help="timed steps per process (default 15)")
    parser.add_argument("--processes", type=int, default=5, help="process rounds per library (default 5)")
    parser.add_argument("--quick", action="store_true", help="1 process of 3 steps: a smoke test, not a measurement")
    parser.add_argument("--worker", choices=("numpy", "before", "torch"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.threads, args.rounds)))
        return None
    calls, processes = (3, 1) if args.quick else (args.rounds, args.processes)
    libraries = ["numpy", "before"] + (["torch"] if importlib.util.find_spec("torch") else [])
    seconds = process_rounds(libraries, processes, lambda library: worker_output(
        "benchmarks.training", "--worker", library, "--threads", args.threads, "--rounds", calls))
    rows = []
    for dtype, ours in seconds["numpy"].items():
        before = seconds["before"][dtype]
        row = {"dtype": dtype, "numpy_images_per_s": BATCH / ours, "numpy_step_ms": ours * 1e3,
               "before_images_per_s": BATCH / before, "before_step_ms": before * 1e3}
        if "torch" in seconds:
            theirs = seconds["torch"][dtype]
            row["torch_images_per_s"] = BATCH / theirs
            row["torch_step_ms"] = theirs * 1e3
            row["fraction_of_torch"] = theirs / ours
            row["before_fraction_of_torch"] = theirs / before
        rows.append(row)
    print(f"{'dtype':<9}{'before ms':>10}{'now ms':>9}{'images/s':>10}{'torch ms':>10}{'torch img/s':>13}"
          f"{'before, of torch':>18}{'now, of torch':>15}")
    for r in rows:
        torch_part = (
            f"{r['torch_step_ms']:>10.1f}{r['torch_images_per_s']:>13.0f}"
            f"{r['before_fraction_of_torch']:>18.0%}{r['fraction_of_torch']:>15.0%}"
            if "torch_step_ms" in r else f"{'-':>10}{'-':>13}{'-':>18}{'-':>15}"
        )
        print(f"{r['dtype']:<9}{r['before_step_ms']:>10.1f}{r['numpy_step_ms']:>9.1f}"
              f"{r['numpy_images_per_s']:>10.0f}{torch_part}")
    print(
        f"ThreeLayerConvNet training step (forward, backward, SGD), batch {BATCH}, input {INPUT}; "
        f"medians over {processes} process round(s) of {calls} steps; {args.threads} threads; "
        f"before = the fast layers before issue 15; 'of torch' = images/s as a fraction of torch's"
        + ("" if "torch" in seconds else "; torch not installed")
    )
    payload = {"machine": machine_info(args.threads), "rounds": calls, "processes": processes,
               "batch": BATCH, "input": INPUT, "rows": rows}
    if "torch" in seconds:
        import torch  # its version only: nothing is timed in this process

        payload["torch"] = torch.__version__
    if not args.quick:
        print(f"wrote {write_results('training', payload)}")
    return payload


if __name__ == "__main__":
    main()
