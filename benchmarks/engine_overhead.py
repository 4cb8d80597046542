"""Per-sample overhead of humaneval.engine for a trivial program, sandbox on vs off.

    python benchmarks/engine_overhead.py [--n 300] [--preload numpy]

"in-zygote" is ExecResult.wall_s: fork of the sandboxed child to its reaping, i.e. everything the
zygote does per sample (namespaces, mounts, rlimits, driver, report) around a program that does nothing.
"round trip" adds the evaluator<->zygote JSON hop (one worker, one job at a time).
"cpu/sample" is the CPU the zygote and its children spent per sample (utime+stime+cutime+cstime from
/proc/<zygote>/stat): unlike latencies it barely moves when other processes compete for the cores.
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


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")  # utime stime cutime cstime


def measure(mode: str, n: int, preload: tuple[str, ...]) -> dict:
    jobs = [Job(str(i), PROGRAM, Limits(timeout_s=5)) for i in range(n)]
    with Engine(workers=1, preload=preload, sandbox=mode) as engine:
        list(engine.run(jobs[:20]))  # warm up
        cpu0 = cpu_seconds(engine.workers[0].proc.pid)
        inside, round_trip = [], []
        for job in jobs:
            t0 = time.perf_counter()
            (result,) = engine.run([job])
            round_trip.append(time.perf_counter() - t0)
            inside.append(result.wall_s)
            assert result.verdict == "passed", result
        cpu = (cpu_seconds(engine.workers[0].proc.pid) - cpu0) / n
        sandbox = engine.sandbox
    with Engine(workers=None, preload=preload, sandbox=mode) as engine:
        t0 = time.perf_counter()
        results = list(engine.run(jobs))
        rate = len(results) / (time.perf_counter() - t0)
    return {"sandbox": sandbox, "inside": inside, "round_trip": round_trip, "rate": rate, "workers": engine.n_workers,
            "cpu": cpu}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--preload", default="numpy", help="comma-separated modules for the zygotes")
    args = parser.parse_args()
    preload = tuple(m for m in args.preload.split(",") if m)
    print(f"trivial program, n={args.n}, preload={preload}, load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'mode':<24}{'in-zygote med':>14}{'p99':>10}{'min':>9}{'round trip med':>16}{'p99':>10}"
          f"{'cpu/sample':>12}{'throughput':>16}")
    for mode in ("namespaces", "rlimits"):
        m = measure(mode, args.n, preload)
        ms = lambda v: f"{v * 1e3:.2f} ms"
        print(f"{m['sandbox']:<24}{ms(statistics.median(m['inside'])):>14}{ms(percentile(m['inside'], 0.99)):>10}"
              f"{ms(min(m['inside'])):>9}{ms(statistics.median(m['round_trip'])):>16}"
              f"{ms(percentile(m['round_trip'], 0.99)):>10}{ms(m['cpu']):>12}{m['rate']:>9.0f}/s ({m['workers']}w)")


if __name__ == "__main__":
    main()
