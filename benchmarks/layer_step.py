"""One process, one library: times a forward + backward step of every layer case.

    python -m benchmarks.layer_step {ours,before,torch} [--threads 2] [--calls 10] [--warmup 3]

"before" is the fast layers as they were before issue 15
(benchmarks/baseline_fast_layers.py), timed like ours for a side-by-side table.

Prints one JSON object: {"<kind> <name> <dtype> <pattern>": median seconds}.
The orchestrator (benchmarks.layer_processes) starts one of these per library
and round, so the two libraries never share a process or its thread pools.

Two call patterns:
- "dropped": the step is a function; its cache and gradients are dropped when
  it returns, as in a training step (each call allocates its buffers afresh);
- "held": the previous call's cache and gradients stay alive until the next
  call has finished (what a notebook cell that keeps its results does).
"""

import argparse
import importlib
import json
import sys

from benchmarks.layer_cases import all_cases, conv_arrays, pool_arrays
from benchmarks.timing import alternating_medians

PATTERNS = ("dropped", "held")


def ours_step(kind, name, dtype, pattern, module="cs231n_lib.fast_layers"):
    layers = importlib.import_module(module)
    conv_forward_fast, conv_backward_fast = layers.conv_forward_fast, layers.conv_backward_fast
    max_pool_forward_fast, max_pool_backward_fast = layers.max_pool_forward_fast, layers.max_pool_backward_fast

    if kind == "conv":
        x, w, b, dout, stride, pad = conv_arrays(name, dtype)
        conv_param = {"stride": stride, "pad": pad}

        def run():
            out, cache = conv_forward_fast(x, w, b, conv_param)
            return out, cache, conv_backward_fast(dout, cache)
    else:
        x, dout, size, stride = pool_arrays(name, dtype)
        pool_param = {"pool_height": size, "pool_width": size, "stride": stride}

        def run():
            out, cache = max_pool_forward_fast(x, pool_param)
            return out, cache, max_pool_backward_fast(dout, cache)
    return _with_pattern(run, pattern)


def before_step(kind, name, dtype, pattern):
    return ours_step(kind, name, dtype, pattern, module="benchmarks.baseline_fast_layers")


def torch_step(kind, name, dtype, pattern):
    import torch

    functional = torch.nn.functional
    if kind == "conv":
        x, w, b, dout, stride, pad = conv_arrays(name, dtype)
        leaves = [torch.from_numpy(a).requires_grad_() for a in (x, w, b)]
        tdout = torch.from_numpy(dout)

        def forward():
            return functional.conv2d(*leaves, stride=stride, padding=pad)
    else:
        x, dout, size, stride = pool_arrays(name, dtype)
        leaves = [torch.from_numpy(x).requires_grad_()]
        tdout = torch.from_numpy(dout)

        def forward():
            return functional.max_pool2d(leaves[0], size, stride)

    def run():
        for leaf in leaves:
            leaf.grad = None  # a fresh gradient every step, as after optimizer.zero_grad()
        out = forward()
        out.backward(tdout)
        return out, [leaf.grad for leaf in leaves]

    return _with_pattern(run, pattern)


def _with_pattern(run, pattern):
    if pattern == "dropped":
        def step():
            run()
        return step
    kept = [None]

    def step():
        result = run()
        kept[0] = result  # the previous result was alive while this one was computed
    return step


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("library", choices=("ours", "before", "torch"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--calls", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args(argv)
    make_step = {"ours": ours_step, "before": before_step, "torch": torch_step}[args.library]
    if args.library == "torch":
        import torch

        torch.set_num_threads(args.threads)
    from threadpoolctl import threadpool_limits

    results = {}
    with threadpool_limits(limits=args.threads):
        for kind, name, dtype in all_cases():
            for pattern in PATTERNS:
                step = make_step(kind, name, dtype, pattern)
                results[f"{kind} {name} {dtype} {pattern}"] = alternating_medians({"step": step}, args.calls, args.warmup)["step"]
    json.dump(results, sys.stdout)
    print()
    return results


if __name__ == "__main__":
    main()
