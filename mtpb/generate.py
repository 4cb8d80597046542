"""`mtpb generate`: sample MTPB programs, multi-turn or single-turn (docs/mtpb.md "Generation").

    stats = generate("random:tiny", "multi", "samples.jsonl", n=1, temperature=0.2, problem_ids=[1, 2])

Rows (mtpb.rows) are batched across problems (mtpb.batch) and written through the resumable
humaneval.results.ResultLog; the batches are a fixed function of the row plan and the batch size, so
a resumed run recomputes exactly the batches it lost. Everything that can be checked without the model
(problems file, problem ids, n, sampling values, an existing output file) is checked before loading it.
"""
from __future__ import annotations

import pathlib
import time

from humaneval.data import read_jsonl
from humaneval.results import ResultLog, file_sha256
from mtpb import data
from mtpb.rows import RowPlan, make_row, plan_rows

DEFAULT_BATCH_SIZE = 64


def sampling_settings(n, temperature, top_p, seed, reencode, reference_truncation) -> dict:
    from jaxformer.decoding import SamplingParams

    SamplingParams(temperature, top_p)  # validates both
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed must be an integer, got {seed!r}")
    return {"temperature": temperature, "top_p": top_p, "seed": seed, "reencode": bool(reencode),
            "reference_truncation": bool(reference_truncation), "n": n}


def batches(plans: list[RowPlan], batch_size: int) -> list[list[RowPlan]]:
    """Rows with as many turns (then the same budget) share a batch, so few sit idle; file order inside."""
    order = sorted(plans, key=lambda p: (-len(p.turn_prompts), -p.budget, p.index))
    return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]


def check_existing(out_path: pathlib.Path, header: dict, plans: list[RowPlan]) -> bool:
    """True if out_path already holds exactly this run; an error if it holds anything else. The model
    hash is checked too when the header has one (after loading)."""
    if not out_path.exists():
        partial = out_path.with_name(out_path.name + ".partial")
        if partial.exists():
            rows = list(read_jsonl(partial))
            found = rows[0][1].get("_header") if rows else None
            if found is not None and _without_hash(found) != _without_hash(header):
                raise ValueError(f"{partial}: an unfinished run with other settings or model is here "
                                 f"(found {found}, expected {header}); delete it to start over")
        return False
    rows = list(read_jsonl(out_path))
    if len(rows) != len(plans):
        raise ValueError(f"{out_path}: holds {len(rows)} rows, this run makes {len(plans)}; "
                         f"choose another --out or delete it")
    for (line, row), plan in zip(rows, plans):
        where = f"{out_path} line {line}"
        got = (str(row.get("id")), row.get("test_case"), row.get("sample_index"), row.get("mode"))
        want = (plan.problem.id, plan.case, plan.sample_index, plan.mode)
        if got != want:
            raise ValueError(f"{where}: row (id, test_case, sample_index, mode) {got} is not this run's {want}")
        model = row.get("model") or {}
        if row.get("sampling") != header["sampling"] or model.get("spec") != header["model"]["spec"]:
            raise ValueError(f"{where}: rows from model {model.get('spec')!r} with sampling {row.get('sampling')}, "
                             f"not {header['model']['spec']!r} with {header['sampling']}; choose another --out")
        if header["model"].get("sha256") and model.get("sha256") != header["model"]["sha256"]:
            raise ValueError(f"{where}: rows from another model (sha256 {model.get('sha256')}, "
                             f"loaded model {header['model']['sha256']}); choose another --out")
    return True


def _without_hash(header: dict) -> dict:
    return {**header, "model": {k: v for k, v in header.get("model", {}).items() if k != "sha256"}}


def generate(model_spec: str, mode: str, out_path, *, n=1, temperature=0.2, top_p=0.95, seed=0,
             problems_path=None, problem_ids=None, batch_size=None, reencode=False, reference_truncation=False,
             progress=False, loaded=None, early_stop=True) -> dict:
    """Write every row of the run to out_path (resuming a killed run); returns stats."""
    t0 = time.perf_counter()
    out_path = pathlib.Path(out_path)
    problems_file = data.resolve_path(problems_path)
    problems = data.load(problems_file)
    raw_ids = {str(obj["id"]): obj["id"] for _, obj in read_jsonl(problems_file)}
    plans = plan_rows(problems, problem_ids, n, mode)
    settings = sampling_settings(n, temperature, top_p, seed, reencode, reference_truncation)
    batch_size = DEFAULT_BATCH_SIZE if batch_size is None else batch_size
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
    chosen = None if problem_ids is None else list(dict.fromkeys(p.problem.id for p in plans))
    header = {"model": {"spec": str(model_spec)}, "mode": mode, "sampling": settings,
              "problems_sha256": file_sha256(problems_file), "problem_ids": chosen}
    check_existing(out_path, header, plans)  # before the model is loaded

    from jaxformer import fingerprint, sampling

    cfg, graphdef, params, tokenizer = sampling.load(model_spec) if loaded is None else loaded
    if tokenizer is None:
        raise ValueError(f"{model_spec}: the model has no tokenizer; MTPB prompts are text")
    header["model"]["sha256"] = fingerprint.model_fingerprint(cfg, params, tokenizer)["sha256"]
    stats = {"rows": len(plans), "rows_generated_now": 0, "tokens": 0}
    if check_existing(out_path, header, plans):
        return _finish(stats, read_jsonl(out_path), t0)
    with ResultLog(out_path, header) as log:
        todo = [b for b in batches(plans, batch_size) if any(p.index not in log.done for p in b)]
        bar = _progress(progress, len(plans), len(plans) - sum(p.index not in log.done for b in todo for p in b))
        model_info = {"spec": str(model_spec), "sha256": header["model"]["sha256"]}
        # one session cache length for the whole run, in both modes: every batch reuses the same compiled
        # code. It holds a full context plus one turn's generated keys and values (put back after the turn).
        turn_room = min(max(p.problem.max_gen_length for p in plans), cfg.n_positions)
        for group in todo:
            rows = _run_group(cfg, graphdef, params, tokenizer, group, batch_size, settings, early_stop, turn_room)
            new = 0
            for plan, (turns, status) in zip(group, rows):
                stats["tokens"] += sum(t["num_generated"] for t in turns)
                if plan.index not in log.done:
                    log.append(plan.index, make_row(plan, raw_ids[plan.problem.id], turns, status, settings,
                                                    model_info))
                    new += 1
            stats["rows_generated_now"] += new
            if bar is not None:
                bar.update(new)
                bar.set_postfix(tok_s=f"{stats['tokens'] / (time.perf_counter() - t0):.0f}")
        if bar is not None:
            bar.close()
        final = log.finalize(len(plans))
    return _finish(stats, enumerate(final), t0)


def _run_group(cfg, graphdef, params, tokenizer, group, batch_size, settings, early_stop, turn_room):
    from jaxformer import sampling
    from jaxformer.session import Session
    from mtpb.batch import run_batch

    padded = list(group) + [None] * (batch_size - len(group))  # one batch shape for the whole run
    max_len = cfg.n_positions + sampling.pow2_bucket(turn_room, sampling.MIN_NEW_BUCKET)
    session = Session(cfg, graphdef, params, tokenizer, batch_size, seed=settings["seed"],
                      row_ids=[0 if p is None else p.row_id for p in padded], max_len=max_len,
                      reencode=settings["reencode"])
    sp = sampling.SamplingParams(settings["temperature"], settings["top_p"])
    states = run_batch(session, padded, sp, reference_truncation=settings["reference_truncation"],
                       early_stop=early_stop)
    return [(s.turns, s.status) for s in states[:len(group)]]


def _progress(enabled: bool, total: int, initial: int):
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, unit="row", desc="mtpb generate", dynamic_ncols=True)


def _finish(stats: dict, rows, t0: float) -> dict:
    rows = [row for _, row in rows]
    stats["context_rows"] = sum(row.get("status") == "context" for row in rows)
    stats["wall_s"] = time.perf_counter() - t0
    stats["tokens_per_s"] = stats["tokens"] / stats["wall_s"] if stats["wall_s"] > 0 else 0.0
    return stats

