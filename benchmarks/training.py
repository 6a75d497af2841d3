"""Training throughput of ThreeLayerConvNet, beside the same model in PyTorch.

Run from the repository root:

    python -m benchmarks.training [--threads 2] [--rounds 15] [--quick]

One training step = forward, backward and a plain SGD update of every
parameter, on a batch of 50 images of (3, 32, 32) (CIFAR-10 sized), with the
model's defaults: 32 filters of 7x7, a hidden layer of 100, 10 classes.
Prints images per second in float32 and float64 and writes
benchmarks/results/training.json. PyTorch is optional; when installed it runs
the same architecture, timed in rounds alternating with ours.
"""


import numpy as np
from threadpoolctl import threadpool_limits

from benchmarks.timing import (
    alternating_medians,
    import_torch,
    machine_info,
    parse_arguments,
    write_results,
)
from cs231n_lib.models import ThreeLayerConvNet
from cs231n_lib.optim import sgd

BATCH = 50
INPUT = (3, 32, 32)
LEARNING_RATE = 1e-3


def numpy_step(dtype, rng):
    model = ThreeLayerConvNet(input_dim=INPUT, dtype=dtype, seed=0)
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


def main(argv=None):
    args, rounds = parse_arguments(__doc__.splitlines()[0], argv)
    rng = np.random.default_rng(0)
    torch = import_torch(args.threads)
    rows = []
    with threadpool_limits(limits=args.threads, user_api="blas"):
        for dtype in (np.float32, np.float64):
            contenders = {"numpy": numpy_step(dtype, rng)}
            if torch is not None:
                contenders["torch"] = torch_step(torch, dtype, rng)
            seconds = alternating_medians(contenders, rounds)
            row = {"dtype": np.dtype(dtype).name, "numpy_images_per_s": BATCH / seconds["numpy"],
                   "numpy_step_ms": seconds["numpy"] * 1e3}
            if torch is not None:
                row["torch_images_per_s"] = BATCH / seconds["torch"]
                row["torch_step_ms"] = seconds["torch"] * 1e3
                row["fraction_of_torch"] = seconds["torch"] / seconds["numpy"]
            rows.append(row)
    print(f"{'dtype':<9}{'step ms':>9}{'images/s':>10}{'torch ms':>10}{'torch img/s':>13}{'of torch':>10}")
    for r in rows:
        torch_part = (
            f"{r['torch_step_ms']:>10.1f}{r['torch_images_per_s']:>13.0f}{r['fraction_of_torch']:>10.0%}"
            if "torch_step_ms" in r else f"{'-':>10}{'-':>13}{'-':>10}"
        )
        print(f"{r['dtype']:<9}{r['numpy_step_ms']:>9.1f}{r['numpy_images_per_s']:>10.0f}{torch_part}")
    print(
        f"ThreeLayerConvNet training step (forward, backward, SGD), batch {BATCH}, input {INPUT}; "
        + (f"torch {torch.__version__}, {args.threads} threads" if torch else "torch not installed")
    )
    payload = {"machine": machine_info(args.threads), "torch": torch.__version__ if torch else None,
               "rounds": rounds, "batch": BATCH, "input": INPUT, "rows": rows}
    if not args.quick:
        print(f"wrote {write_results('training', payload)}")
    return payload


if __name__ == "__main__":
    main()
