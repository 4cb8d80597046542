"""What `mtpb generate` produces: the plan of rows (problem x test case x sample) and the JSONL row of
each, in the format of docs/mtpb.md ("Generation") and /work/coord/contracts.md.

A row's turn pieces are the exact texts appended to its history: multi-turn, PREFIX + "# {prompt 1}\\n",
then "\\n\\n# {prompt t}\\n" (the "\\n\\n" closes the previous turn); single-turn, one piece holding PREFIX
and every "# {prompt}\\n" line. Each piece's prompt text is the part after PREFIX / "\\n\\n".
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

from mtpb import data
from mtpb.program import PREFIX, build_program, turn_header

MODES = ("multi", "single")
TURN_SEPARATOR = "\n\n"


@dataclass(frozen=True)
class RowPlan:
    index: int  # position in the output file
    problem: data.Problem
    case: int
    sample_index: int
    prompts: tuple[str, ...]  # this case's filled prompts, one per turn of the problem
    mode: str

    @property
    def row_id(self) -> int:
        """uint32 key of this row's randomness: depends on (problem, case, sample) only, not the batch."""
        key = f"{self.problem.id}\0{self.case}\0{self.sample_index}".encode()
        return int.from_bytes(hashlib.sha256(key).digest()[:4], "little")

    @property
    def turn_prompts(self) -> tuple[str, ...]:
        """Prompt text of each generation turn (single-turn: all prompt lines as one)."""
        headers = tuple(turn_header(p) for p in self.prompts)
        return headers if self.mode == "multi" else ("".join(headers),)

    def piece(self, turn: int) -> tuple[str, int]:
        """(text appended before generating turn `turn`, offset of its prompt text in it)."""
        lead = PREFIX if turn == 0 else TURN_SEPARATOR
        return lead + self.turn_prompts[turn], len(lead)

    @property
    def budget(self) -> int:
        """New tokens per generation: the problem's max_gen_length per turn (single-turn: their sum)."""
        return self.problem.max_gen_length * (1 if self.mode == "multi" else len(self.prompts))


def plan_rows(problems: dict[str, data.Problem], problem_ids, n: int, mode: str) -> list[RowPlan]:
    """Rows in output order: problems in file order, then test case, then sample index."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n (samples per test case) must be an integer >= 1, got {n!r}")
    chosen = list(problems)
    if problem_ids is not None:
        wanted = [str(p) for p in problem_ids]
        unknown = [p for p in wanted if p not in problems]
        if unknown:
            raise ValueError(f"unknown problem id(s) {unknown}; the problems file has ids "
                             f"{list(problems)[0]}..{list(problems)[-1]}")
        chosen = [p for p in problems if p in set(wanted)]
    plans = []
    for pid in chosen:
        problem = problems[pid]
        for case in range(len(problem.inputs)):
            prompts = tuple(problem.render(case))
            for k in range(n):
                plans.append(RowPlan(len(plans), problem, case, k, prompts, mode))
    return plans


def turn_record(prompt: str, prompt_lps: list[float] | None, completion_raw: str, completion: str,
                num_generated: int, stop_reason: str) -> dict:
    total = None if prompt_lps is None else float(sum(prompt_lps))
    ppl = math.exp(-total / len(prompt_lps)) if prompt_lps else None
    return {"prompt": prompt, "prompt_num_tokens": None if prompt_lps is None else len(prompt_lps),
            "prompt_logprob_sum": total, "prompt_ppl": ppl, "completion_raw": completion_raw,
            "completion": completion, "num_generated": num_generated, "stop_reason": stop_reason}


def make_row(plan: RowPlan, raw_id, turns: list[dict], status: str, sampling: dict, model: dict) -> dict:
    """The JSONL row: the reference fields (mtpb_sample.py; raw_id = the id as the problems file
    spells it), then ours."""
    completions = [t["completion"] for t in turns]
    if plan.mode == "multi":
        program = build_program(plan.prompts[:len(turns)], completions)
        pieces = [PREFIX]
        for prompt, completion in zip(plan.prompts, completions):
            pieces += [turn_header(prompt), completion + TURN_SEPARATOR]
    else:
        program = PREFIX + "".join(t["prompt"] + t["completion"] + TURN_SEPARATOR for t in turns)
        pieces = [PREFIX] + [x for t in turns for x in (t["prompt"], t["completion"] + TURN_SEPARATOR)]
    return {"id": raw_id, "input": plan.problem.inputs[plan.case],
            "gold_output": plan.problem.outputs[plan.case], "completions": program,
            "prompts_completions": pieces, "test_case": plan.case, "mode": plan.mode,
            "sample_index": plan.sample_index, "sampling": sampling, "model": model, "status": status,
            "turns": turns}
