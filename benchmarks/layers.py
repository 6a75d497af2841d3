"""Speed of the fast conv and pool layers, beside the naive loops and numpy's own GEMM rate.

Run from the repository root:

    python -m benchmarks.layers [--threads 2] [--rounds 15] [--quick]

Prints a table and writes benchmarks/results/layers.json. The comparison with
PyTorch is benchmarks.layer_processes, which times each library in processes
of its own (two libraries' thread pools in one process slow each other).
"""

import time

import numpy as np
from threadpoolctl import threadpool_limits

from benchmarks.layer_cases import CONV_SHAPES, POOL_SHAPES, conv_arrays, pool_arrays
from benchmarks.timing import (
    alternating_rounds,
    gemm_gflops,
    machine_info,
    parse_arguments,
    write_results,
)
from cs231n_lib.fast_layers import (
    conv_backward_fast,
    conv_forward_fast,
    max_pool_backward_fast,
    max_pool_forward_fast,
)
from cs231n_lib.layers import (
    conv_backward_naive,
    conv_forward_naive,
    max_pool_backward_naive,
    max_pool_forward_naive,
)

NAIVE_IMAGES = 2  # the naive loops run on this many images, then are scaled to the batch


def forward_backward_timer(forward, backward):
    """A function that runs forward() then backward(its result) and returns both durations."""

    def timed():
        start = time.perf_counter()
        state = forward()
        middle = time.perf_counter()
        backward(state)
        return middle - start, time.perf_counter() - middle

    return timed


def time_fwd_bwd(contenders, rounds):
    """contenders: {name: (forward(), backward(state))} -> {name: {forward, backward, total}} median seconds."""
    timers = {name: forward_backward_timer(*pair) for name, pair in contenders.items()}
    result = {}
    for name, splits in alternating_rounds(timers, rounds).items():
        splits = np.array(splits)
        result[name] = {
            "forward": float(np.median(splits[:, 0])),
            "backward": float(np.median(splits[:, 1])),
            "total": float(np.median(splits.sum(axis=1))),
        }
    return result


def conv_contenders(x, w, b, conv_param, dout):
    return {
        "fast": (
            lambda: conv_forward_fast(x, w, b, conv_param)[1],
            lambda cache: conv_backward_fast(dout, cache),
        )
    }


def pool_contenders(x, size, stride, dout):
    pool_param = {"pool_height": size, "pool_width": size, "stride": stride}
    return {
        "fast": (
            lambda: max_pool_forward_fast(x, pool_param)[1],
            lambda cache: max_pool_backward_fast(dout, cache),
        )
    }


def naive_seconds(forward, backward, rounds=1):
    """Seconds of one naive forward + backward on NAIVE_IMAGES images."""
    return time_fwd_bwd({"naive": (forward, backward)}, rounds)["naive"]


def bench_conv(name, dtype, rounds, gemm_rate):
    x_shape, w_shape, stride, pad = CONV_SHAPES[name]
    x, w, b, dout, _, _ = conv_arrays(name, dtype)
    conv_param = {"stride": stride, "pad": pad}
    N, F = x_shape[0], w_shape[0]
    _, C, HH, WW = w_shape
    H_out, W_out = dout.shape[2:]
    flops_forward = 2 * N * F * C * HH * WW * H_out * W_out
    times = time_fwd_bwd(conv_contenders(x, w, b, conv_param, dout), rounds)
    small = slice(0, NAIVE_IMAGES)
    naive = naive_seconds(
        lambda: conv_forward_naive(x[small], w, b, conv_param)[1],
        lambda cache: conv_backward_naive(dout[small], cache),
    )
    row = describe(f"conv {name}", dtype, times, naive["total"] * N / NAIVE_IMAGES)
    fast = times["fast"]
    row["gflops_forward"] = flops_forward / fast["forward"] / 1e9
    row["gflops_backward"] = 2 * flops_forward / fast["backward"] / 1e9
    row["gemm_fraction"] = (3 * flops_forward / fast["total"] / 1e9) / gemm_rate
    row["shape"] = f"x{x_shape} w{w_shape} stride {stride} pad {pad}"
    return row


def bench_pool(name, dtype, rounds):
    x, dout, size, stride = pool_arrays(name, dtype)
    x_shape = x.shape
    pool_param = {"pool_height": size, "pool_width": size, "stride": stride}
    times = time_fwd_bwd(pool_contenders(x, size, stride, dout), rounds)
    small = slice(0, NAIVE_IMAGES)
    naive = naive_seconds(
        lambda: max_pool_forward_naive(x[small], pool_param)[1],
        lambda cache: max_pool_backward_naive(dout[small], cache),
    )
    row = describe(f"max pool {size}x{size}/{stride}", dtype, times, naive["total"] * x_shape[0] / NAIVE_IMAGES)
    row["shape"] = f"x{x_shape} pool {size}x{size} stride {stride}"
    return row


def describe(label, dtype, times, naive_total):
    fast = times["fast"]
    row = {
        "layer": label,
        "dtype": np.dtype(dtype).name,
        "forward_ms": fast["forward"] * 1e3,
        "backward_ms": fast["backward"] * 1e3,
        "speedup_over_naive": naive_total / fast["total"],
    }
    return row


def format_table(rows):
    header = (
        f"{'layer':<18}{'dtype':<9}{'fwd ms':>8}{'bwd ms':>8}{'GF/s f':>8}{'GF/s b':>8}"
        f"{'of GEMM':>9}{'x naive':>9}"
    )
    lines = [header, "-" * len(header)]
    for r in rows:
        def num(key, fmt, r=r):
            return format(r[key], fmt) if key in r else "-"

        lines.append(
            f"{r['layer']:<18}{r['dtype']:<9}{r['forward_ms']:>8.2f}{r['backward_ms']:>8.2f}"
            f"{num('gflops_forward', '.1f'):>8}{num('gflops_backward', '.1f'):>8}"
            f"{num('gemm_fraction', '.0%'):>9}{r['speedup_over_naive']:>8.0f}x"
        )
    return "\n".join(lines)


def main(argv=None):
    args, rounds = parse_arguments(__doc__.splitlines()[0], argv)
    rows = []
    with threadpool_limits(limits=args.threads, user_api="blas"):
        gemm = {np.dtype(dt).name: gemm_gflops(dt) for dt in (np.float32, np.float64)}
        for dtype in (np.float32, np.float64):
            for name in CONV_SHAPES:
                rows.append(bench_conv(name, dtype, rounds, gemm[np.dtype(dtype).name]))
            for name in POOL_SHAPES:
                rows.append(bench_pool(name, dtype, rounds))
    print(format_table(rows))
    print(
        f"numpy GEMM rate (1024^3): float32 {gemm['float32']:.1f} GFLOP/s, float64 {gemm['float64']:.1f} GFLOP/s; "
        f"'of GEMM' = forward+backward GFLOP/s as a fraction of it; 'x naive' scaled from {NAIVE_IMAGES} images; "
        f"{args.threads} threads; PyTorch: python -m benchmarks.layer_processes"
    )
    payload = {
        "machine": machine_info(args.threads),
        "rounds": rounds,
        "gemm_gflops": gemm,
        "rows": rows,
    }
    if not args.quick:
        print(f"wrote {write_results('layers', payload)}")
    return payload


if __name__ == "__main__":
    main()
