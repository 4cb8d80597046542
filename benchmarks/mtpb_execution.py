"""Wall time for `mtpb evaluate` on 575 programs (the size of one MTPB pass: 115 problems x 5 cases).

The programs are the hand-written correct solutions from tests/mtpb_solutions.py (all must pass),
padded with trivial programs that run, print and fail. Run: python benchmarks/mtpb_execution.py
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from mtpb import data  # noqa: E402
from mtpb.evaluate import evaluate  # noqa: E402
from mtpb.program import build_program  # noqa: E402
from mtpb_solutions import SOLUTIONS  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--problems", default=os.environ.get("MTPB_PATH", REPO.parent / "shared" / "data" / "mtpb.jsonl"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--programs", type=int, default=575)
    args = parser.parse_args()
    problems = data.load(args.problems)
    rows, solved = [], 0
    for pid, solve in SOLUTIONS.items():
        p = problems[pid]
        for case in range(5):
            rows.append({"id": p.id, "input": p.inputs[case], "gold_output": p.outputs[case],
                         "completions": build_program(p.render(case), solve(p.inputs[case]))})
    solved = len(rows)
    filler = [p for p in problems.values() if p.id not in SOLUTIONS]
    for k in range(args.programs - len(rows)):
        p = filler[k % len(filler)]
        rows.append({"id": p.id, "input": p.inputs[k % 5], "gold_output": p.outputs[k % 5],
                     "completions": f"x = {k}\nx * 2"})
    with tempfile.TemporaryDirectory() as tmp:
        samples = pathlib.Path(tmp) / "samples.jsonl"
        samples.write_text("".join(json.dumps(r) + "\n" for r in rows))
        started = time.perf_counter()
        summary = evaluate(samples, args.problems, workers=args.workers, progress=True)
        elapsed = time.perf_counter() - started
    print(json.dumps({"programs": len(rows), "hand_written_correct": solved, "workers": args.workers,
                      "wall_s": round(elapsed, 1), "programs_per_s": round(len(rows) / elapsed, 1),
                      "verdicts": summary["verdicts"]}, indent=2))


if __name__ == "__main__":
    main()
