"""Per-sample overhead of humaneval.engine for a trivial program, sandbox on vs off.

    python benchmarks/engine_overhead.py [--n 300] [--preload numpy]

"in-zygote" is ExecResult.wall_s: fork of the sandboxed child to its reaping, i.e. everything the
zygote does per sample (namespaces, mounts, rlimits, driver, report) around a program that does nothing.
"round trip" adds the evaluator<->zygote JSON hop (one worker, one job at a time).
"throughput" runs the same jobs on one worker per core.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from humaneval.engine import Engine, Job, Limits  # noqa: E402

PROGRAM = "def add(a, b):\n    return a + b\n\nassert add(2, 3) == 5\n"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(mode: str, n: int, preload: tuple[str, ...]) -> dict:
    jobs = [Job(str(i), PROGRAM, Limits(timeout_s=5)) for i in range(n)]
    with Engine(workers=1, preload=preload, sandbox=mode) as engine:
        list(engine.run(jobs[:20]))  # warm up
        inside, round_trip = [], []
        for job in jobs:
            t0 = time.perf_counter()
            (result,) = engine.run([job])
            round_trip.append(time.perf_counter() - t0)
            inside.append(result.wall_s)
            assert result.verdict == "passed", result
        sandbox = engine.sandbox
    with Engine(workers=None, preload=preload, sandbox=mode) as engine:
        t0 = time.perf_counter()
        results = list(engine.run(jobs))
        rate = len(results) / (time.perf_counter() - t0)
    return {"sandbox": sandbox, "inside": inside, "round_trip": round_trip, "rate": rate, "workers": engine.n_workers}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--preload", default="numpy", help="comma-separated modules for the zygotes")
    args = parser.parse_args()
    preload = tuple(m for m in args.preload.split(",") if m)
    print(f"trivial program, n={args.n}, preload={preload}, load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'mode':<26}{'in-zygote med':>15}{'p99':>9}{'round trip med':>16}{'p99':>9}{'throughput':>16}")
    for mode in ("namespaces", "rlimits"):
        m = measure(mode, args.n, preload)
        ms = lambda v: f"{v * 1e3:.2f} ms"
        print(f"{m['sandbox']:<26}{ms(statistics.median(m['inside'])):>15}{ms(percentile(m['inside'], 0.99)):>9}"
              f"{ms(statistics.median(m['round_trip'])):>16}{ms(percentile(m['round_trip'], 0.99)):>9}"
              f"{m['rate']:>9.0f}/s ({m['workers']}w)")


if __name__ == "__main__":
    main()
