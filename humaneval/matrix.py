"""CodeM's cross-language experiment: every model on every language, greedy pass@1 (docs/humaneval-x.md).

    settings = MatrixSettings(models=("tiny-python", "runs/py/hf"), languages=("python", "js"), base="tiny-python")
    cells = run_matrix(settings, "OUT", progress=True)

OUT/matrix.json     the settings (a rerun with other settings is refused)
OUT/runs/<model>/<language>/   a `humaneval generate` run directory per cell (its own resume: rows, results)
OUT/cells.jsonl     one row per finished cell (humaneval.results.ResultLog: a killed matrix resumes at the
                    first unfinished cell; a finished cell is never redone)
The report (matrix_report.py): pass@1 matrix + delta against the base, df.corr() of it and of its
transpose, heatmaps, report.md and summary.json.
"""
from __future__ import annotations

import dataclasses
import json
import pathlib
import time

from humaneval.data import read_jsonl
from humaneval.results import ResultLog, write_text_atomic

MATRIX_JSON = "matrix.json"
CELLS = "cells.jsonl"
FORMAT_VERSION = 1


@dataclasses.dataclass(frozen=True)
class MatrixSettings:
    models: tuple[str, ...]  # specs for jaxformer.sampling.load; "label=spec" names a model
    languages: tuple[str, ...]
    base: str | None = None  # a model label; default: the first model
    instruct: bool = False
    max_new_tokens: int = 256
    limit: int | None = None  # only the first K problems of each language
    timeout: float = 5.0
    seed: int = 0

    def __post_init__(self):
        from humaneval.languages import get_language

        object.__setattr__(self, "models", tuple(self.models))
        object.__setattr__(self, "languages", tuple(self.languages))
        if not self.models or not self.languages:
            raise ValueError("give at least one model (--models) and one language (--languages)")
        for language in self.languages:
            get_language(language)  # unknown: the error lists the known ones
        for what, items in (("model", self.labels), ("language", self.languages)):
            repeated = sorted({x for x in items if items.count(x) > 1})
            if repeated:
                raise ValueError(f"--{what}s repeats {', '.join(repeated)} (name models with label=spec)")
        if self.base is None:
            object.__setattr__(self, "base", self.labels[0])
        elif self.base not in self.labels:
            raise ValueError(f"--base {self.base!r} is not one of the models' labels {list(self.labels)}")
        if self.limit is not None and (isinstance(self.limit, bool) or self.limit < 1):
            raise ValueError(f"--limit must be a positive integer, got {self.limit!r}")
        if not self.timeout > 0:
            raise ValueError(f"--timeout must be positive, got {self.timeout}")

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(model_label(m) for m in self.models)

    def spec(self, label: str) -> str:
        return dict(zip(self.labels, (model_spec(m) for m in self.models)))[label]

    def generate_settings(self, language: str):
        from humaneval.generate import Settings

        return Settings(greedy=True, temperatures=(), max_new_tokens=self.max_new_tokens, limit=self.limit,
                        seed=self.seed, language=language, instruct=self.instruct)

    def as_json(self) -> dict:
        return {**dataclasses.asdict(self), "models": list(self.models), "languages": list(self.languages),
                "format": FORMAT_VERSION}


def model_label(model: str) -> str:
    """"label=spec" -> label; a path -> its last component ("runs/py/hf" -> "py" for an hf export dir)."""
    if "=" in model:
        return model.split("=", 1)[0]
    parts = [p for p in pathlib.PurePath(model).parts if p not in ("/", ".")]
    if len(parts) > 1 and parts[-1] == "hf":
        return parts[-2]
    return parts[-1] if parts else model


def model_spec(model: str) -> str:
    return model.split("=", 1)[1] if "=" in model else model


def cell_dir(out, label: str, language: str) -> pathlib.Path:
    return pathlib.Path(out) / "runs" / label / language


def check_matrix_dir(out, settings: MatrixSettings) -> None:
    """Write OUT/matrix.json, or check that the one there describes this matrix."""
    path = pathlib.Path(out) / MATRIX_JSON
    if path.exists():
        theirs = json.loads(path.read_text())
        if theirs != settings.as_json():
            diffs = [f"{k}: {theirs.get(k)!r} there, {v!r} now" for k, v in settings.as_json().items()
                     if theirs.get(k) != v]
            raise ValueError(f"{out} holds another matrix ({'; '.join(diffs)}); use another --out or delete it")
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, json.dumps(settings.as_json(), indent=2) + "\n")


def evaluate_cell(run_dir, language: str, timeout: float, workers, sandbox: str, progress: bool) -> dict:
    """pass@1 and verdict counts of a cell's greedy samples (the Python or the HumanEval-X evaluator)."""
    from humaneval.evaluate import evaluate_run
    from humaneval.language_runs import evaluate_language_run
    from humaneval.passk import pass_at_k_table

    evaluate = evaluate_run if language == "python" else evaluate_language_run
    [greedy] = evaluate(run_dir, timeout=timeout, workers=workers, ks=(1,), progress=progress,
                        sandbox=sandbox).values()
    if not greedy.complete:
        errors = sum(len(e.harness_errors) for e in greedy.evaluations)
        raise RuntimeError(f"{run_dir}: {errors} harness errors, nothing scored; rerun to retry them")
    counts = greedy.counts
    verdicts: dict[str, int] = {}
    for e in greedy.evaluations:
        for verdict, n in e.verdicts.items():
            verdicts[verdict] = verdicts.get(verdict, 0) + n
    return {"pass@1": pass_at_k_table(counts, (1,))["pass@1"], "problems": len(counts),
            "passed": sum(c for _, c in counts.values()), "verdicts": dict(sorted(verdicts.items()))}


def run_matrix(settings: MatrixSettings, out, *, workers: int | None = None, sandbox: str = "namespaces",
               progress: bool = False) -> list[dict]:
    """Every (model, language) cell, in model-then-language order; finished cells come from OUT/cells.jsonl."""
    from humaneval.generate import generate_run
    from humaneval.generate_language import problem_file
    from humaneval.languages import get_language

    for language in settings.languages:  # a missing toolchain or problem file, before any model loads
        get_language(language).prepare()
        problem_file(language)
    check_matrix_dir(out, settings)
    final = pathlib.Path(out) / CELLS
    cells = [(label, language) for label in settings.labels for language in settings.languages]
    if final.exists():
        return [row for _, row in read_jsonl(final)]
    log = ResultLog(final, {"matrix": settings.as_json()})
    log.open()
    try:
        for label in settings.labels:
            todo = [i for i, (m, _) in enumerate(cells) if m == label and i not in log.done]
            if not todo:
                continue
            loaded, fingerprint = load_model(settings.spec(label))
            for i in todo:
                language = cells[i][1]
                run_dir = cell_dir(out, label, language)
                t0 = time.perf_counter()
                generate_run(settings.spec(label), run_dir, settings.generate_settings(language), loaded=loaded,
                             progress=progress)
                t1 = time.perf_counter()
                scores = evaluate_cell(run_dir, language, settings.timeout, workers, sandbox, progress)
                log.append(i, {"model": label, "language": language, **scores, "model_sha256": fingerprint["sha256"],
                               "fingerprint": fingerprint, "generate_s": round(t1 - t0, 3),
                               "evaluate_s": round(time.perf_counter() - t1, 3)})
        return log.finalize(len(cells))
    finally:
        log.close()


def load_model(spec: str):
    from jaxformer import sampling
    from jaxformer.fingerprint import model_fingerprint

    loaded = sampling.load(spec)
    cfg, _, params, tokenizer = loaded
    return loaded, model_fingerprint(cfg, params, tokenizer)
