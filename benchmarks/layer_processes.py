"""The fast layers against PyTorch, each library timed in processes of its own.

Run from the repository root:

    python -m benchmarks.layer_processes [--threads 2] [--rounds 5] [--quick]

Each round starts one process per library (benchmarks.layer_step), in an
order that alternates from round to round, so the machine's drift falls on
both alike; each process times every case after its own warm-up calls and
reports medians. The table gives the median over rounds of those medians and
the ratio ours / torch, for the fast layers as they are now and as they were
before issue 15 (benchmarks/baseline_fast_layers.py), for the two call patterns of benchmarks.layer_step:
"dropped" (the step inside a function, cache dropped, as in training) and
"held" (the previous call's results kept alive). Without PyTorch installed,
only our times are printed. Writes benchmarks/results/layer_processes.json.
"""

import argparse
import importlib.util

from benchmarks.layer_cases import all_cases
from benchmarks.layer_step import PATTERNS
from benchmarks.timing import machine_info, process_rounds, worker_output, write_results


def format_table(times):
    """One table per call pattern: before issue 15, now, torch, and the ratios to torch."""
    has_torch = "torch" in times
    tables = []
    for pattern in PATTERNS:
        header = f"{pattern:<10}{'case':<16}{'dtype':<9}{'before':>10}{'now':>10}"
        if has_torch:
            header += f"{'torch':>10}{'before/torch':>14}{'now/torch':>11}"
        lines = [header, "-" * len(header)]
        for kind, name, dtype in all_cases():
            label = f"conv {name}" if kind == "conv" else "max pool 2x2/2"
            key = f"{kind} {name} {dtype} {pattern}"
            before, now = times["before"][key], times["ours"][key]
            line = f"{'':<10}{label:<16}{dtype:<9}{before * 1e3:>7.2f} ms{now * 1e3:>7.2f} ms"
            if has_torch:
                theirs = times["torch"][key]
                line += f"{theirs * 1e3:>7.2f} ms{before / theirs:>13.2f}x{now / theirs:>10.2f}x"
            lines.append(line)
        tables.append("\n".join(lines))
    return "\n\n".join(tables)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="threads for each library (default 2)")
    parser.add_argument("--rounds", type=int, default=5, help="process rounds per library (default 5)")
    parser.add_argument("--calls", type=int, default=10, help="timed calls per case in a process (default 10)")
    parser.add_argument("--quick", action="store_true", help="1 round of 2 calls: a smoke test, not a measurement")
    args = parser.parse_args(argv)
    rounds, calls, warmup = (1, 2, 1) if args.quick else (args.rounds, args.calls, 3)
    libraries = ["ours", "before"] + (["torch"] if importlib.util.find_spec("torch") else [])
    times = process_rounds(libraries, rounds, lambda library: worker_output(
        "benchmarks.layer_step", library, "--threads", args.threads, "--calls", calls, "--warmup", warmup))
    print(format_table(times))
    print(f"medians over {rounds} process round(s) per library, {calls} timed calls after {warmup} warm-up(s) "
          f"in each; {args.threads} threads; before = the fast layers before issue 15, now = today's; "
          f"ratio = time / torch's (below 1: faster than torch)"
          + ("" if "torch" in times else "; torch not installed"))
    payload = {"machine": machine_info(args.threads), "rounds": rounds, "calls": calls, "seconds": times}
    if "torch" in times:
        import torch  # only for its version: nothing is timed in this process

        payload["torch"] = torch.__version__
    if not args.quick:
        print(f"wrote {write_results('layer_processes', payload)}")
    return payload


if __name__ == "__main__":
    main()
