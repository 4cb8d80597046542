"""Per-sample overhead of humaneval.engine for a trivial program: root, unprivileged and `none`, side by side.

    python benchmarks/engine_overhead.py [--n 300] [--rounds 3] [--preload numpy]

Run as root. "root" is the real-root path; "unprivileged" is the same engine started as an ordinary user
(uid 65534, no capabilities, inside `setpriv` + `unshare -U --map-user=1000 -p` with a world-readable venv,
humaneval.engine.unprivileged), i.e. the user-namespace path; "none" is rlimits + process group only.
The modes alternate in rounds (n/rounds jobs each per round) so load swings on the shared cores hit all alike.
"in-zygote" is ExecResult.wall_s: fork of the sandboxed child to its reaping, i.e. everything the zygote
does per sample (namespaces, mounts, rlimits, driver, report) around a program that does nothing.
"round trip" adds the evaluator<->zygote JSON hop (one worker, one job at a time).
"cpu/sample" is the CPU the zygote and its children spent per sample (utime+stime+cutime+cstime from
/proc/<zygote>/stat; in the unprivileged mode the zygote is a child of the process the pool started).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from humaneval.engine import Engine, Job, Limits  # noqa: E402

PROGRAM = "def add(a, b):\n    return a + b\n\nassert add(2, 3) == 5\n"
MODES = ("root", "unprivileged", "none")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def tree_cpu_seconds(pid: int) -> float:
    """CPU of pid and its reaped children, plus that of its live children (the user-ns zygote's pid 1)."""
    def cpu(p: int) -> float:
        with open(f"/proc/{p}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")  # utime stime cutime cstime
    children = open(f"/proc/{pid}/task/{pid}/children").read().split()
    return cpu(pid) + sum(cpu(int(c)) for c in children)


def measure(sandbox: str, n: int, preload: tuple[str, ...]) -> dict:
    """One engine, n jobs one at a time (in this process, whatever its privileges)."""
    jobs = [Job(str(i), PROGRAM, Limits(timeout_s=5)) for i in range(n)]
    with Engine(workers=1, preload=preload, sandbox=sandbox) as engine:
        list(engine.run(jobs[:20]))  # warm up
        pid = engine.workers[0].proc.pid
        cpu0 = tree_cpu_seconds(pid)
        inside, round_trip = [], []
        for job in jobs:
            t0 = time.perf_counter()
            (result,) = engine.run([job])
            round_trip.append(time.perf_counter() - t0)
            inside.append(result.wall_s)
            assert result.verdict == "passed", result
        cpu = (tree_cpu_seconds(pid) - cpu0) / n
        layers = engine.sandbox
    return {"sandbox": layers, "inside": inside, "round_trip": round_trip, "cpu": [cpu] * n}


def measure_unprivileged(venv: dict, n: int, preload: tuple[str, ...]) -> dict:
    from humaneval.engine.unprivileged import ORDINARY_USER

    command = ORDINARY_USER + [venv["python"], venv["script"], "--child", "--n", str(n), "--preload", ",".join(preload)]
    out = subprocess.run(command, cwd=venv["base"], capture_output=True, text=True, timeout=600,
                         env={"PATH": "/usr/bin:/bin", "HOME": venv["base"], "PYTHONDONTWRITEBYTECODE": "1"})
    if out.returncode != 0:
        raise SystemExit(f"unprivileged run failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--preload", default="numpy", help="comma-separated modules for the zygotes")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)  # the unprivileged side
    args = parser.parse_args()
    preload = tuple(m for m in args.preload.split(",") if m)
    if args.child:
        print(json.dumps(measure("namespaces", args.n, preload)))
        return
    if os.geteuid() != 0:
        raise SystemExit("run as root: the root path and (via setpriv) the unprivileged one are compared")
    from humaneval.engine.unprivileged import build_venv

    base = tempfile.mkdtemp(prefix="humaneval-bench-", dir="/var/tmp")
    try:
        python = build_venv(base, ("numpy",), files=[(os.path.abspath(__file__), "engine_overhead.py")])
        venv = {"base": base, "python": python, "script": os.path.join(base, "engine_overhead.py")}
        per_round = max(1, args.n // args.rounds)
        runs = {mode: {"inside": [], "round_trip": [], "cpu": []} for mode in MODES}
        for _ in range(args.rounds):
            for mode in MODES:
                m = (measure_unprivileged(venv, per_round, preload) if mode == "unprivileged"
                     else measure("namespaces" if mode == "root" else "none", per_round, preload))
                runs[mode]["sandbox"] = m["sandbox"]
                for key in ("inside", "round_trip", "cpu"):
                    runs[mode][key] += m[key]
    finally:
        shutil.rmtree(base, ignore_errors=True)
    print(f"trivial program, n={per_round * args.rounds} per mode in {args.rounds} alternating rounds, preload={preload}, "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'mode':<14}{'layers':<32}{'in-zygote med':>14}{'p99':>10}{'min':>9}{'round trip med':>16}{'p99':>10}"
          f"{'cpu/sample':>12}")
    ms = lambda v: f"{v * 1e3:.2f} ms"
    for mode in MODES:
        m = runs[mode]
        print(f"{mode:<14}{m['sandbox']:<32}{ms(statistics.median(m['inside'])):>14}{ms(percentile(m['inside'], 0.99)):>10}"
              f"{ms(min(m['inside'])):>9}{ms(statistics.median(m['round_trip'])):>16}"
              f"{ms(percentile(m['round_trip'], 0.99)):>10}{ms(statistics.mean(m['cpu'])):>12}")
    gap = statistics.median(runs["unprivileged"]["inside"]) - statistics.median(runs["root"]["inside"])
    print(f"unprivileged - root, in-zygote median: {gap * 1e3:+.2f} ms (target: within 1.5 ms)")


if __name__ == "__main__":
    main()
