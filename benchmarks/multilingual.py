"""Per-sample cost of the HumanEval-X runners, per language, with and without their speed-ups.

    python benchmarks/multilingual.py [--languages js,cpp,java,go,rust] [--n 164] [--single-n 24] [--workers 2]

For each language: the canonical solutions of the first N problems through check_items on a fresh
engine (every compile and run inside the sandbox). Reported: wall seconds per sample and CPU seconds
per sample (this process's children: zygotes, samples, compilers; read after the engine closes). Side
by side, the same language without its speed-up on the first --single-n problems: C++ without the
precompiled header (the prelude parsed per sample), Java, Go, Rust and TypeScript one compiler call (Go: one link)
per sample, C compiling its C++ test harness in every job instead of linking the cached object. C has no C
canonical solutions: its samples are the C++ canonicals behind the C interface (c.reference_job).
The target in the issue: <= 0.3 s wall per sample for C++ and Java on 2 cores.
"""
from __future__ import annotations

import argparse
import json
import pathlib
import resource
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from humaneval.data import load_problems  # noqa: E402
from humaneval.languages import get_language  # noqa: E402
from humaneval.languages.base import Language  # noqa: E402
from humaneval.languages.check import check_items, language_verdict, open_engine  # noqa: E402
from humaneval.languages.c import C  # noqa: E402
from humaneval.languages.cpp import Cpp  # noqa: E402

DATA = pathlib.Path(__file__).resolve().parents[2] / "shared" / "data" / "humaneval-x"


class Unbatched:
    """A language with its batching turned off: one job (one compiler call) per sample."""

    def __init__(self, language: Language):
        self.language = language

    def jobs(self, items, engine, timeout_s):
        return Language.jobs(self.language, items, engine, timeout_s)


def no_pch_cpp() -> Cpp:
    cpp = Cpp()
    cpp.prepare()
    plain = pathlib.Path(cpp.prelude).parent / "plain"  # the same prelude text, no .gch beside it
    plain.mkdir(exist_ok=True)
    (plain / "prelude.h").write_text(pathlib.Path(cpp.prelude).read_text())
    cpp.prelude = plain / "prelude.h"
    return cpp


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def uncached_c() -> C:
    c = C()
    c.prepare()
    c.cached_harness = False
    return c


def c_verdicts(language: C, problems, engine) -> list[str]:
    """C has no C canonical solutions: the C++ canonical behind the C interface (translate_c), whose g++
    compile costs more than gcc on a C sample; harnesses are built (cached) before the clock starts."""
    jobs = [language.reference_job(tid, p, p["reference_solution"], 10.0) for tid, p in problems]
    return [language_verdict(result) for result in engine.run(jobs)]


class GccSamples:
    """C samples through gcc: the completion `return 0; }` (valid C for every return type; the test fails
    at its first check), i.e. a real sample's gcc compile, link with the cached harness, and run."""

    def __init__(self, language: C):
        self.language = language

    def jobs(self, items, engine, timeout_s):
        return self.language.jobs([(key, p, "    return 0;\n}\n") for key, p, _ in items], engine, timeout_s)


def measure(language, problems, workers: int) -> dict:
    items = [(tid, p, p.get("canonical_solution", "")) for tid, p in problems]
    if isinstance(language, C):
        with open_engine(workers) as engine:
            language.build_harnesses([p for _, p in problems], engine)
    cpu0, t0 = children_cpu(), time.perf_counter()
    with open_engine(workers) as engine:
        if isinstance(language, C):
            verdicts = c_verdicts(language, problems, engine)
            items = problems
        else:
            verdicts = [verdict for verdict, _ in check_items(language, items, engine, timeout_s=10.0)]
    wall, cpu = time.perf_counter() - t0, children_cpu() - cpu0
    return {"samples": len(items), "passed": verdicts.count("passed"), "wall_s": round(wall, 2),
            "wall_per_sample_s": round(wall / len(items), 3), "cpu_per_sample_s": round(cpu / len(items), 3)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--languages", default="python,js,cpp,java,go,rust,ts,c")
    parser.add_argument("--n", type=int, default=164)
    parser.add_argument("--single-n", type=int, default=24, help="problems for the unbatched side (0: skip)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", default=None, help="also write the numbers here")
    args = parser.parse_args(argv)
    with open("/proc/loadavg") as f:
        print(f"load average at start: {f.read().split()[:3]}")
    results = {}
    for name in args.languages.split(","):
        language = get_language(name)
        language.prepare()
        problem_file = language.problem_file(DATA)  # ts, c: derived at run time (cached)
        problems = list(load_problems(problem_file, required=("task_id", "prompt", "test")).items())
        row = {"fast": measure(language, problems[:args.n], args.workers)}
        if name == "c":
            row["gcc_samples"] = measure(GccSamples(language), problems[:args.n], args.workers)
        peer = {"cpp": no_pch_cpp, "java": lambda: Unbatched(language), "go": lambda: Unbatched(language),
                "rust": lambda: Unbatched(language), "ts": lambda: Unbatched(language), "c": uncached_c}.get(name)
        if peer and args.single_n:
            row["peer"] = measure(peer(), problems[:args.single_n], args.workers)
            row["speedup_cpu"] = round(row["peer"]["cpu_per_sample_s"] / row["fast"]["cpu_per_sample_s"], 2)
        results[name] = row
        print(name, json.dumps(row), flush=True)
    print("\n| language | samples | passed | wall s/sample | CPU s/sample | without speed-up: wall / CPU s/sample | CPU ratio |")
    print("|---|---|---|---|---|---|---|")
    for name, row in results.items():
        fast, peer = row["fast"], row.get("peer")
        slow = f"{peer['wall_per_sample_s']} / {peer['cpu_per_sample_s']}" if peer else "-"
        print(f"| {name} | {fast['samples']} | {fast['passed']} | {fast['wall_per_sample_s']} | "
              f"{fast['cpu_per_sample_s']} | {slow} | {row.get('speedup_cpu', '-')} |")
        if "gcc_samples" in row:
            gcc = row["gcc_samples"]
            print(f"| c (gcc samples, `return 0;`) | {gcc['samples']} | {gcc['passed']} | {gcc['wall_per_sample_s']} | "
                  f"{gcc['cpu_per_sample_s']} | - | - |")
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
