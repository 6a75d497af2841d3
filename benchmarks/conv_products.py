"""How much of the fast convolution's step is matrix products: the floor im2col cannot go under.

Run from the repository root:

    python -m benchmarks.conv_products [--threads 2] [--calls 10]

For conv cases A and B of benchmarks.layer_cases, in float32 and float64,
times in one process, alternating:

- the library's forward + backward step (cache dropped, as in training);
- the three matrix products of that step alone, on ready matrices of the
  same shapes, into ready outputs, one product over the whole batch each: w @ cols (forward),
  cols @ dout.T (dw and db) and w.T @ dout (the columns col2im scatters).

Whatever the step takes beyond the products is memory passes: padding,
im2col, reordering and col2im. A layout or algorithm that keeps im2col can
only shrink that remainder; compare the products with PyTorch's whole step
in benchmarks.layer_processes. Writes benchmarks/results/conv_products.json.
"""

import argparse

import numpy as np
from threadpoolctl import threadpool_limits

from benchmarks.layer_cases import conv_arrays
from benchmarks.layer_step import ours_step
from benchmarks.timing import alternating_medians, machine_info, write_results

CASES = ("A", "B")


def product_matrices(name, dtype, seed=0):
    """(w_and_b, cols, dout_rows): the shapes of case ``name``'s products, random values.

    w_and_b: (F, C*HH*WW + 1), cols: (C*HH*WW + 1, N*H'*W'), dout_rows: (F, N*H'*W').
    """
    x, w, _, dout, _, _ = conv_arrays(name, dtype)
    F, C, HH, WW = w.shape
    positions = dout.shape[0] * dout.shape[2] * dout.shape[3]
    rng = np.random.default_rng(seed)
    w_and_b = rng.standard_normal((F, C * HH * WW + 1)).astype(dtype)
    cols = rng.standard_normal((C * HH * WW + 1, positions)).astype(dtype)
    dout_rows = np.ascontiguousarray(dout.transpose(1, 0, 2, 3).reshape(F, positions))
    return w_and_b, cols, dout_rows


def products_step(name, dtype):
    """A function that runs the forward, dw and dcols products of case ``name`` once."""
    w_and_b, cols, dout_rows = product_matrices(name, dtype)
    w_rows_t = w_and_b[:, :-1].T
    # Written into the same arrays every call, as the library's pooled buffers are: no page faults timed.
    outputs = [np.empty((a.shape[0], b.shape[1]), dtype) for a, b in
               ((w_and_b, cols), (cols, dout_rows.T), (w_rows_t, dout_rows))]

    def run():
        np.matmul(w_and_b, cols, out=outputs[0])
        np.matmul(cols, dout_rows.T, out=outputs[1])
        np.matmul(w_rows_t, dout_rows, out=outputs[2])

    return run


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--calls", type=int, default=10)
    args = parser.parse_args(argv)
    results = {}
    with threadpool_limits(limits=args.threads):
        for name in CASES:
            for dtype in ("float32", "float64"):
                steps = {"step": ours_step("conv", name, dtype, "dropped"), "products": products_step(name, dtype)}
                results[f"{name} {dtype}"] = alternating_medians(steps, args.calls, 3)
    print(f"{'conv case':<14}{'step':>10}{'products':>12}{'share':>8}{'rest':>10}")
    for key, seconds in results.items():
        step, products = seconds["step"], seconds["products"]
        print(f"{key:<14}{step * 1e3:>7.2f} ms{products * 1e3:>9.2f} ms{products / step:>8.0%}"
              f"{(step - products) * 1e3:>7.2f} ms")
    print(f"medians of {args.calls} alternating calls; {args.threads} threads; products = the step's three "
          "matrix products alone, one over the whole batch each; rest = step - products (memory passes)")
    payload = {"machine": machine_info(args.threads), "calls": args.calls, "seconds": results}
    print(f"wrote {write_results('conv_products', payload)}")
    return payload


if __name__ == "__main__":
    main()
