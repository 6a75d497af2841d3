"""Two other ways to compute a 3x3, stride-1 convolution in numpy, timed against the library's im2col.

Run from the repository root:

    python -m benchmarks.conv_alternatives [--threads 2] [--calls 10]

Issue 15 asked for these to be measured before choosing; they lost, and this
script keeps the measurement repeatable. Forward pass only, on conv case B of
benchmarks.layer_cases (x (64, 32, 16, 16), w (64, 32, 3, 3), pad 1):

- shift-and-accumulate: no im2col matrix; one matrix multiply per filter
  offset (a, b), w[:, :, a, b] @ (the padded input shifted by (a, b)), each
  on the whole padded grid (N * Hp * Wp columns, the border wasted), summed;
- Winograd F(2x2, 3x3): each 4x4 input tile and 3x3 filter transformed, 16
  products per tile instead of 36 multiplications, transformed back.

Each is first checked against conv_forward_naive on two images in float64.
Prints milliseconds per forward pass (median) and the ratio to im2col, and
writes benchmarks/results/conv_alternatives.json.
"""

import argparse
import functools

import numpy as np
from threadpoolctl import threadpool_limits

from benchmarks.layer_cases import conv_arrays
from benchmarks.timing import alternating_medians, machine_info, write_results
from cs231n_lib.fast_layers import buffer_pool, conv_forward_fast
from cs231n_lib.layers import conv_forward_naive

# Winograd F(2x2, 3x3) filter transform (Lavin and Gray, 2016).
WINOGRAD_G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]])


def shift_and_accumulate(x, w, b):
    """3x3 stride-1 pad-1 convolution: x (N, C, H, W), w (F, C, 3, 3) -> (N, F, H, W)."""
    N, C, H, W = x.shape
    F = w.shape[0]
    Hp, Wp = H + 2, W + 2
    grid = N * Hp * Wp
    flat = np.zeros((C, grid + 2 * Wp + 2), dtype=x.dtype)  # padded input, channels first, and a tail
    flat[:, :grid].reshape(C, N, Hp, Wp)[:, :, 1:H + 1, 1:W + 1] = x.transpose(1, 0, 2, 3)
    total = np.zeros((F, grid), dtype=x.dtype)
    product = np.empty((F, grid), dtype=x.dtype)
    for a in range(3):
        for c in range(3):
            shift = a * Wp + c
            np.matmul(np.ascontiguousarray(w[:, :, a, c]), flat[:, shift:shift + grid], out=product)
            total += product
    valid = total.reshape(F, N, Hp, Wp)[:, :, :H, :W]
    return valid.transpose(1, 0, 2, 3) + b.reshape(1, -1, 1, 1)


def winograd(x, w, b):
    """3x3 stride-1 pad-1 convolution by Winograd F(2x2, 3x3); H and W even."""
    N, C, H, W = x.shape
    F = w.shape[0]
    th, tw = H // 2, W // 2
    u = np.einsum("ia,fcab,jb->ijfc", WINOGRAD_G, w, WINOGRAD_G).astype(x.dtype).reshape(16, F, C)
    padded = np.zeros((C, N, H + 2, W + 2), dtype=x.dtype)
    padded[:, :, 1:H + 1, 1:W + 1] = x.transpose(1, 0, 2, 3)
    # Input transform B^T d B, rows then columns, over every 4x4 tile at stride 2.
    r = [padded[:, :, i:i + 2 * th:2] for i in range(4)]
    rows = [r[0] - r[2], r[1] + r[2], r[2] - r[1], r[1] - r[3]]
    v = np.empty((4, 4, C, N, th, tw), dtype=x.dtype)
    for i in range(4):
        q = [rows[i][..., j:j + 2 * tw:2] for j in range(4)]
        np.subtract(q[0], q[2], out=v[i, 0])
        np.add(q[1], q[2], out=v[i, 1])
        np.subtract(q[2], q[1], out=v[i, 2])
        np.subtract(q[1], q[3], out=v[i, 3])
    m = np.matmul(u, v.reshape(16, C, -1)).reshape(4, 4, F, N, th, tw)
    # Output transform A^T m A, into the 2x2 outputs of each tile.
    top = [m[0, j] + m[1, j] + m[2, j] for j in range(4)]
    bottom = [m[1, j] - m[2, j] - m[3, j] for j in range(4)]
    out = np.empty((N, F, H, W), dtype=x.dtype)
    by_filter = out.transpose(1, 0, 2, 3)
    bias = b.reshape(-1, 1, 1, 1)
    for i, s in enumerate((top, bottom)):
        np.add(s[0] + s[1] + s[2], bias, out=by_filter[:, :, i::2, 0::2])
        np.add(s[1] - s[2] - s[3], bias, out=by_filter[:, :, i::2, 1::2])
    return out


def library_forward(x, w, b):
    out, cache = conv_forward_fast(x, w, b, {"stride": 1, "pad": 1})
    buffer_pool.give_back([cols for cols in cache[-1] if cols is not None])  # as its backward pass would
    return out


ALTERNATIVES = {"im2col (library)": library_forward, "shift-and-accumulate": shift_and_accumulate,
                "Winograd F(2x2,3x3)": winograd}


def check(alternative):
    """The alternative agrees with the naive layer on two images in float64 (AssertionError if not)."""
    x, w, b, _, _, _ = conv_arrays("B", "float64")
    expected, _ = conv_forward_naive(x[:2], w, b, {"stride": 1, "pad": 1})
    got = alternative(x[:2], w, b)
    assert np.max(np.abs(got - expected)) <= 1e-10 * np.max(np.abs(expected)), alternative.__name__


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--calls", type=int, default=10)
    args = parser.parse_args(argv)
    for alternative in ALTERNATIVES.values():
        check(alternative)
    results = {}
    with threadpool_limits(limits=args.threads):
        for dtype in ("float32", "float64"):
            x, w, b, _, _, _ = conv_arrays("B", dtype)
            steps = {name: functools.partial(f, x, w, b) for name, f in ALTERNATIVES.items()}
            results[dtype] = alternating_medians(steps, args.calls, 3)
    print(f"{'conv B forward':<24}{'float32':>10}{'ratio':>8}{'float64':>10}{'ratio':>8}")
    for name in ALTERNATIVES:
        line = f"{name:<24}"
        for dtype in ("float32", "float64"):
            seconds = results[dtype][name]
            line += f"{seconds * 1e3:>7.2f} ms{seconds / results[dtype]['im2col (library)']:>7.2f}x"
        print(line)
    print(f"medians of {args.calls} alternating calls; {args.threads} threads; ratio = time / im2col's")
    payload = {"machine": machine_info(args.threads), "calls": args.calls, "seconds": results}
    print(f"wrote {write_results('conv_alternatives', payload)}")
    return payload


if __name__ == "__main__":
    main()
