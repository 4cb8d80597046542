"""`mtpb compare`: one model, both modes, one report (library behind the CLI).

Loads the model once, generates RUN/samples_multi.jsonl then RUN/samples_single.jsonl (mtpb.generate),
evaluates both (multi-turn with --per-turn), analyses them (mtpb.analysis) and writes RUN/summary.json
(every number in the report), RUN/report.md and RUN/plots/*.png. Every input is checked before the
model loads. A rerun resumes: generation and evaluation continue where they stopped, an evaluation whose
inputs are unchanged since the last summary.json is reused, and the analysis is redone (it is cheap).
"""
from __future__ import annotations

import json
import pathlib
from dataclasses import asdict, dataclass

from humaneval.engine.options import check_sandbox
from humaneval.results import file_sha256, write_text_atomic
from humaneval.runinfo import StageTimer, machine_info, toolkit_version
from mtpb import data, difficulty, paper
from mtpb.analysis import MODES, analyse, finite_or_none

JUDGE = "faithful"  # the reference checker behind the headline; strict is reported beside it


class HarnessErrors(RuntimeError):
    """Some programs could not be run by the sandbox; nothing was scored for that mode (rerun retries)."""


@dataclass(frozen=True)
class CompareSettings:
    model: str
    out: str
    n: int = 1
    temperature: float = 0.2
    top_p: float = 0.95
    seed: int = 0
    problems: str | None = None
    problem_ids: tuple[str, ...] | None = None
    difficulty_from: str | None = None
    batch_size: int | None = None
    workers: int | None = None
    timeout_s: float = 20.0
    datasets_dir: str | None = None
    progress: bool = False
    sandbox: str = "namespaces"  # humaneval.engine: "namespaces" (fails closed) or "none"

    def __post_init__(self):
        if isinstance(self.n, bool) or not isinstance(self.n, int) or self.n < 1:
            raise ValueError(f"--n must be an integer >= 1, got {self.n!r}")
        if not self.temperature >= 0:
            raise ValueError(f"--temperature must be >= 0 (0 is greedy), got {self.temperature!r}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"--top-p must be in (0, 1], got {self.top_p!r}")
        for name in ("batch_size", "workers"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"--{name.replace('_', '-')} must be >= 1, got {value}")
        if not self.timeout_s > 0:
            raise ValueError(f"--timeout must be positive, got {self.timeout_s}")


def check_inputs(settings: CompareSettings) -> dict:
    """Everything that can be wrong with the inputs, checked before the model loads."""
    problems_file = data.resolve_path(settings.problems)
    problems = data.load(problems_file)
    if settings.problem_ids is not None:
        unknown = [pid for pid in settings.problem_ids if pid not in problems]
        if unknown:
            raise ValueError(f"--problem-ids: unknown problem id(s) {', '.join(unknown)} "
                             f"(not in {problems_file}, which has {len(problems)} problems)")
        duplicated = sorted({pid for pid in settings.problem_ids if settings.problem_ids.count(pid) > 1})
        if duplicated:
            raise ValueError(f"--problem-ids: problem id(s) listed twice: {', '.join(duplicated)}")
    wanted = set(settings.problem_ids or problems)
    selected = {pid: p for pid, p in problems.items() if pid in wanted}  # problems-file order
    rates = (difficulty.rates_from_summary(settings.difficulty_from, selected)
             if settings.difficulty_from else None)
    if settings.datasets_dir is not None and not pathlib.Path(settings.datasets_dir).is_dir():
        raise ValueError(f"--datasets-dir: not a directory: {settings.datasets_dir}")
    out = pathlib.Path(settings.out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out}: exists and is not a directory")
    return {"problems_file": problems_file, "problems": selected, "difficulty_rates": rates}


def _previous_evaluations(run: pathlib.Path) -> dict:
    try:
        return json.loads((run / "summary.json").read_text(encoding="utf-8")).get("evaluation", {})
    except (OSError, ValueError, AttributeError):
        return {}  # no usable previous summary: evaluate again (resumably)


def _evaluate_or_reuse(samples: pathlib.Path, mode: str, settings: CompareSettings, problems_file,
                       problems: dict, previous: dict) -> dict:
    """The evaluation summary of one mode; reused when its inputs and results file are unchanged."""
    from mtpb import evaluate as ev

    available = ev.load_dataset_files(problems.values(), settings.datasets_dir)
    fingerprint = ev.evaluation_fingerprint(samples, problems_file, settings.timeout_s, JUDGE, available,
                                            per_turn=mode == "multi", sandbox=settings.sandbox)
    results = ev.results_path(samples)
    old = previous.get(mode, {})
    if (old.get("fingerprint") == fingerprint and results.is_file()
            and old.get("results_sha256") == file_sha256(results)):
        return {**old, "evaluated_now": 0}
    summary = ev.evaluate(samples, problems_file, timeout_s=settings.timeout_s, workers=settings.workers,
                          mode=JUDGE, datasets_dir=settings.datasets_dir, per_turn=mode == "multi",
                          progress=settings.progress, desc=f"evaluate {mode}", sandbox=settings.sandbox)
    if summary.get("harness_errors"):
        errors = summary["harness_errors"]
        raise HarnessErrors(f"{samples}: {len(errors)} of {summary['rows']} programs hit a harness error and "
                            f"were not scored (first: line {errors[0]['line']}: {errors[0]['error']}); "
                            f"rerun the same command to retry them")
    keep = ("fingerprint", "verdicts", "sandboxes", "context_rows", "defect_rows", "pass_rate_by_mode",
            "max_pass_rate_by_mode", "benchmark_max_achievable", "rows", "evaluated_now", "wall_s")
    return {**{k: summary[k] for k in keep}, "results": str(results), "results_sha256": file_sha256(results)}


def _read_results(path) -> list[dict]:
    from humaneval.data import read_jsonl

    return [row for _, row in read_jsonl(path)]


def compare(settings: CompareSettings) -> dict:
    """Run (or resume) the whole comparison; returns the summary written to RUN/summary.json."""
    checked = check_inputs(settings)
    problems_file, problems = checked["problems_file"], checked["problems"]
    check_sandbox(settings.sandbox)  # refuse before generating, not after
    run = pathlib.Path(settings.out)
    run.mkdir(parents=True, exist_ok=True)
    timer = StageTimer()
    with timer.stage("load model"):
        from jaxformer.fingerprint import model_fingerprint
        from jaxformer.sampling import load
        from mtpb.generate import generate

        loaded = load(settings.model)
        fingerprint = model_fingerprint(loaded[0], loaded[2], loaded[3])
    generation = {}
    for mode in MODES:
        with timer.stage(f"generate {mode}"):
            generation[mode] = generate(
                settings.model, mode, run / f"samples_{mode}.jsonl", n=settings.n,
                temperature=settings.temperature, top_p=settings.top_p, seed=settings.seed,
                problems_path=problems_file, problem_ids=list(problems), batch_size=settings.batch_size,
                progress=settings.progress, loaded=loaded)
    previous = _previous_evaluations(run)
    evaluation = {}
    for mode in MODES:
        with timer.stage(f"evaluate {mode}"):
            evaluation[mode] = _evaluate_or_reuse(run / f"samples_{mode}.jsonl", mode, settings,
                                                  problems_file, problems, previous)
    with timer.stage("analysis"):
        from mtpb import plots, report

        results = {m: _read_results(evaluation[m]["results"]) for m in MODES}
        source = (f"--difficulty-from {settings.difficulty_from} (its multi-turn rates)"
                  if settings.difficulty_from else "this run's multi-turn rates")
        summary = analyse(results, problems, checked["difficulty_rates"], source)
        summary.update({
            "model": {"spec": settings.model, "sha256": fingerprint["sha256"], "fingerprint": fingerprint},
            "settings": {**{k: v for k, v in asdict(settings).items() if k not in ("out", "progress")},
                         "problem_ids": list(problems), "problems_file": str(problems_file),
                         "problems_sha256": file_sha256(problems_file), "judge": JUDGE},
            "machine": machine_info(with_jax=True), "toolkit": toolkit_version(),
            "generation": generation, "evaluation": evaluation,
            "sandboxes": sorted({s for m in MODES for s in evaluation[m]["sandboxes"]}),
            "max_achievable": {"these_problems": evaluation["multi"]["max_pass_rate_by_mode"],
                               "benchmark": evaluation["multi"]["benchmark_max_achievable"]},
            "paper": paper.as_dict(),
        })
        plots.write_all(summary, run / "plots")
    summary["stages"] = timer.as_dict()
    summary = finite_or_none(summary)
    write_text_atomic(run / "summary.json", json.dumps(summary, indent=2) + "\n")
    write_text_atomic(run / "report.md", report.render(summary))
    return summary


def _problem_ids(text: str | None) -> tuple[str, ...] | None:
    from mtpb.commands.generate import parse_ids  # "1,5,9" -> ["1", "5", "9"], the same rule as generate

    ids = parse_ids(text)
    return None if ids is None else tuple(ids)


def settings_from_args(args) -> CompareSettings:
    return CompareSettings(
        model=args.model, out=args.out, n=args.n, temperature=args.temperature, top_p=args.top_p,
        seed=args.seed, problems=args.problems, problem_ids=_problem_ids(args.problem_ids),
        difficulty_from=args.difficulty_from, batch_size=args.batch_size, workers=args.workers,
        timeout_s=args.timeout, datasets_dir=args.datasets_dir, progress=not args.no_progress, sandbox=args.sandbox)

