"""HumanEval sample generation into a run directory (layout: humaneval/rundir.py, docs/humaneval.md).

    settings = Settings(n=20, temperatures=("0.2", "0.8"), max_new_tokens=256)
    stats = generate_run("random:tiny", "RUN", settings, progress=True)

- Prompts are fed exactly as the problem file gives them (no stripping; it changes scores).
- Settings.language / instruct: HumanEval-X languages and CodeM instruction prompts (humaneval/generate_language.py).
- Rows of one samples file are in global order: problem (problem-file order), then sample_index;
  global row g = problem position * n + sample_index. With P processes, process i generates the
  rows g = i mod P into its own part file.
- A row's randomness is fold_in(PRNGKey(seed), row_key(task_id, sample_index)), whatever batch it lands in.
- Each file is written through a humaneval.results.ResultLog (header = model sha256, settings,
  problems sha256), so a killed run resumes with only the missing rows. Batches are a fixed partition
  of the rows (sorted by prompt length), so a resumed file is byte-identical to an uninterrupted one.
"""
from __future__ import annotations

import dataclasses
import hashlib
import pathlib
import re
import time

from humaneval import rundir
from humaneval import generate_language
from humaneval.results import ResultLog, file_sha256
from jaxformer.truncation import check_stops, language_stops

DEFAULT_TEMPERATURES = ("0.2", "0.6", "0.8")
# Default batch: as wide as MAX_AUTO_BATCH rows whose KV cache fits KV_BUDGET_BYTES. On CPU a small model's
# decode step costs about the same for 16 or 128 rows (per-step overhead dominates), each batch pays one
# long tail of rows that never stop, and finished rows are compacted away: wide batches pay.
MAX_AUTO_BATCH = 128
KV_BUDGET_BYTES = 2 << 30
_TEMPERATURE = re.compile(r"^(\d+(\.\d*)?|\.\d+)$")


def check_temperatures(temperatures) -> tuple[str, ...]:
    """Temperatures as the user wrote them (strings: they name the files); positive, distinct numbers."""
    if isinstance(temperatures, str):
        raise ValueError(f"temperatures must be a list, not the single string {temperatures!r}")
    temperatures = tuple(str(t) for t in temperatures)
    seen: dict[float, str] = {}
    for t in temperatures:
        if not _TEMPERATURE.match(t):
            raise ValueError(f"bad temperature {t!r} in {list(temperatures)}: write plain decimals like 0.2")
        value = float(t)
        if value == 0:
            raise ValueError(f"temperature {t!r}: 0 is greedy decoding, use --greedy (one sample per problem)")
        if value in seen:
            raise ValueError(f"temperature {t!r} repeats {seen[value]!r} in {list(temperatures)}")
        seen[value] = t
    return temperatures


def _positive_int(name: str, value, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


@dataclasses.dataclass(frozen=True)
class Settings:
    """Everything that decides the samples (batch_size only decides speed: rows do not depend on it)."""
    n: int = 200
    temperatures: tuple[str, ...] = DEFAULT_TEMPERATURES
    top_p: float = 0.95
    greedy: bool = False
    max_new_tokens: int = 512
    stops: tuple[str, ...] | None = None  # None: the language's (Codex's for python); EOS always ends a row too
    seed: int = 0
    batch_size: int | None = None  # None: default_batch_size(model)
    dtype: str | None = None
    limit: int | None = None
    task_ids: tuple[str, ...] | None = None
    language: str = "python"  # a humaneval.languages name
    instruct: bool = False  # CodeM's instruction prompt; the completion is extracted from the response

    def __post_init__(self):
        from humaneval.languages import get_language

        get_language(self.language)  # unknown language: the error lists the known ones
        object.__setattr__(self, "temperatures", check_temperatures(self.temperatures))
        object.__setattr__(self, "stops", check_stops(language_stops(self.language) if self.stops is None
                                                      else self.stops))
        if not self.temperatures and not self.greedy:
            raise ValueError("nothing to generate: give at least one temperature or --greedy")
        _positive_int("n", self.n)
        _positive_int("max_new_tokens", self.max_new_tokens)
        _positive_int("batch_size", self.batch_size, allow_none=True)
        _positive_int("limit", self.limit, allow_none=True)
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed must be an integer >= 0, got {self.seed!r}")
        if not isinstance(self.top_p, (int, float)) or not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p!r}")
        if self.dtype not in (None, "float32", "bfloat16"):
            raise ValueError(f"dtype must be float32 or bfloat16, got {self.dtype!r}")
        if self.limit is not None and self.task_ids is not None:
            raise ValueError("--limit and --task-ids exclude each other: give one")
        if self.task_ids is not None:
            object.__setattr__(self, "task_ids", tuple(self.task_ids))
            if not self.task_ids:
                raise ValueError("--task-ids is empty")
            repeated = sorted({t for t in self.task_ids if self.task_ids.count(t) > 1})
            if repeated:
                raise ValueError(f"--task-ids repeats {', '.join(repeated)}")

    def as_json(self) -> dict:
        d = dataclasses.asdict(self)
        d["temperatures"], d["stops"] = list(self.temperatures), list(self.stops)
        d["task_ids"] = None if self.task_ids is None else list(self.task_ids)
        return d

    def identity(self) -> dict:
        """The settings that decide the rows: what a resumed run must share (language and instruct only
        when not the defaults, so Python runs written before they existed still resume)."""
        return {k: v for k, v in self.as_json().items()
                if k != "batch_size" and not (k in OPTIONAL_IDENTITY and v == OPTIONAL_IDENTITY[k])}


OPTIONAL_IDENTITY = {"language": "python", "instruct": False}


@dataclasses.dataclass(frozen=True)
class Pass:
    """One samples file: its label, temperature and samples per problem."""
    label: str
    temperature: float
    n: int


def passes(settings: Settings) -> list[Pass]:
    out = [Pass(rundir.GREEDY, 0.0, 1)] if settings.greedy else []
    return out + [Pass(rundir.temperature_label(t), float(t), settings.n) for t in settings.temperatures]


def select_problems(problems: dict[str, dict], settings: Settings) -> list[dict]:
    """The problems to sample, in problem-file order: all, the first --limit, or --task-ids."""
    if settings.task_ids is not None:
        unknown = [t for t in settings.task_ids if t not in problems]
        if unknown:
            raise ValueError(f"unknown task id(s) {', '.join(unknown)} (the problem file has "
                             f"{len(problems)} problems, e.g. {next(iter(problems))})")
        wanted = set(settings.task_ids)
        return [p for t, p in problems.items() if t in wanted]
    selected = list(problems.values())
    return selected if settings.limit is None else selected[: settings.limit]


def row_key(task_id: str, sample_index: int) -> int:
    """A row's PRNG id (31 bits) from what the row is, not where it is: stable across --limit, n, P."""
    digest = hashlib.sha256(f"{task_id}\0{sample_index}".encode()).digest()
    return int.from_bytes(digest[:4], "little") & 0x7FFFFFFF


def part_rows(n_problems: int, n: int, process: tuple[int, int]) -> list[tuple[int, int]]:
    """(problem position, sample_index) of this process's rows, in its part's order."""
    index, count = process
    return [(g // n, g % n) for g in range(index, n_problems * n, count)]


def default_batch_size(cfg, longest_prompt: int, max_new_tokens: int) -> int:
    """The widest power of two <= MAX_AUTO_BATCH whose KV cache (f32 worst case, bucketed lengths) fits."""
    from jaxformer.sampling import MIN_NEW_BUCKET, MIN_PROMPT_BUCKET, pow2_bucket

    length = pow2_bucket(longest_prompt, MIN_PROMPT_BUCKET) + pow2_bucket(max_new_tokens, MIN_NEW_BUCKET)
    per_row = 2 * cfg.n_layer * cfg.n_embd * length * 4
    batch = MAX_AUTO_BATCH
    while batch > 1 and batch * per_row > KV_BUDGET_BYTES:
        batch //= 2
    return batch


def fixed_batches(rows: list[tuple[int, int]], prompt_lengths: list[int], batch_size: int) -> list[list[int]]:
    """Positions into rows, cut into batches of similar prompt length; the same for every rerun."""
    order = sorted(range(len(rows)), key=lambda j: (prompt_lengths[rows[j][0]], j))
    return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]


def sample_row(task_id: str, sample_index: int, p: Pass, top_p: float, completion, fields: dict | None = None) -> dict:
    """One samples-file row; `fields` ({"completion", "response"}) replace the raw text when given."""
    return {"task_id": task_id, **(fields or {"completion": completion.text}), "sample_index": sample_index,
            "temperature": p.temperature, "top_p": 1.0 if p.label == rundir.GREEDY else top_p,
            "mean_logprob": completion.mean_logprob if completion.logprobs else None,
            "sum_logprob": completion.sum_logprob, "num_tokens": len(completion.token_ids),
            "stop_reason": completion.stop_reason}


def encode_problem_prompts(problems: list[dict], tokenizer, cfg, max_new_tokens: int,
                           prompts: list[str] | None = None) -> list[list[int]]:
    """Token ids of each prompt (default: the problem's) exactly as given; an error names the task that does not fit."""
    from jaxformer.sampling import encode_prompts

    out = []
    for i, problem in enumerate(problems):
        try:
            [ids] = encode_prompts(tokenizer, [problem["prompt"] if prompts is None else prompts[i]], cfg,
                                   max_new_tokens)
        except ValueError as err:
            raise ValueError(f"{problem['task_id']}: {err}") from None
        out.append(ids)
    return out


def run_header(model_sha: str, settings: Settings, problems_sha: str, label: str, process) -> dict:
    return {"model": model_sha, "settings": settings.identity(), "problems": problems_sha, "label": label,
            "part": list(process)}


def check_existing_run(run_dir, settings: Settings, problems_info: dict, model_sha: str | None = None) -> dict | None:
    """The run.json already in RUN (None if new); an error if it describes another run."""
    run_dir = pathlib.Path(run_dir)
    if not (run_dir / rundir.RUN_JSON).exists():
        if run_dir.is_dir() and rundir.samples_files(run_dir):
            raise ValueError(f"{run_dir}: holds samples files but no {rundir.RUN_JSON}; use another --out")
        return None
    old = rundir.read_run(run_dir)
    theirs = {**OPTIONAL_IDENTITY, **{k: v for k, v in old.get("settings", {}).items() if k != "batch_size"}}
    ours = {**OPTIONAL_IDENTITY, **settings.identity()}
    mismatches = [f"settings.{k}: {theirs.get(k)!r} there, {v!r} now" for k, v in ours.items() if theirs.get(k) != v]
    if old.get("problems", {}).get("sha256") != problems_info["sha256"]:
        mismatches.append(f"problems: file sha256 {old.get('problems', {}).get('sha256')} there, "
                          f"{problems_info['sha256']} now")
    if model_sha is not None and old.get("model", {}).get("sha256") != model_sha:
        mismatches.append(f"model sha256: {old.get('model', {}).get('sha256')} there, {model_sha} now")
    if mismatches:
        raise ValueError(f"{run_dir} holds another run (" + "; ".join(mismatches) + "); use another --out or "
                         f"delete it")
    return old


def generate_run(model_spec: str, run_dir, settings: Settings, *, problems_path=None, progress: bool = False,
                 loaded=None, process: tuple[int, int] | None = None) -> dict:
    """Generate every missing row of every samples file in run_dir; returns stats of this call.

    process = (index, count) of this process among jax.distributed processes (default: jax's own).
    `loaded` optionally passes an already loaded (cfg, graphdef, params, tokenizer).
    """
    from humaneval import runinfo

    start = time.perf_counter()
    run_dir = pathlib.Path(run_dir)
    problems_file, all_problems = generate_language.load_language_problems(settings.language, problems_path)
    problems = select_problems(all_problems, settings)
    prompts = [generate_language.model_prompt(settings.language, p, settings.instruct) for p in problems]
    problems_info = {"path": str(problems_file), "sha256": file_sha256(problems_file),
                     "task_ids": [p["task_id"] for p in problems]}
    old = check_existing_run(run_dir, settings, problems_info)  # cheap checks before the model loads

    import jax

    from jaxformer import decoding, sampling
    from jaxformer.fingerprint import model_fingerprint

    process = (jax.process_index(), jax.process_count()) if process is None else tuple(process)
    if loaded is None:
        loaded = sampling.load(model_spec, **({"dtype": settings.dtype} if settings.dtype else {}))
    cfg, graphdef, params, tokenizer = loaded
    if tokenizer is None:
        raise ValueError(f"{model_spec}: the model has no tokenizer files, cannot encode prompts")
    fingerprint = model_fingerprint(cfg, params, tokenizer)
    check_existing_run(run_dir, settings, problems_info, fingerprint["sha256"])
    prompt_ids = encode_problem_prompts(problems, tokenizer, cfg, settings.max_new_tokens, prompts)
    if settings.batch_size is None:
        settings = dataclasses.replace(settings, batch_size=default_batch_size(
            cfg, max(len(ids) for ids in prompt_ids), settings.max_new_tokens))

    info = {"model": {"spec": model_spec, "sha256": fingerprint["sha256"], "fingerprint": fingerprint,
                      "eos_token_id": cfg.eos_token_id},  # EOS ends a sample besides settings.stops
            "settings": settings.as_json(), "problems": problems_info, "toolkit": runinfo.toolkit_version(),
            "machine": runinfo.machine_info(with_jax=True), "processes": process[1],
            "stages": dict((old or {}).get("stages", {}))}
    run_dir.mkdir(parents=True, exist_ok=True)
    if process[0] == 0:
        rundir.write_run_json(run_dir, info)

    traced = sum(decoding.TRACES.values())
    stats = sample_passes(cfg, graphdef, params, tokenizer, problems, prompt_ids, settings, run_dir,
                          run_header_base=(fingerprint["sha256"], problems_info["sha256"]), process=process,
                          progress=progress)
    if process[1] > 1:  # every part is written before the run counts as generated
        from jax.experimental import multihost_utils

        multihost_utils.sync_global_devices("humaneval generate: all parts written")
    stats["wall_s"] = time.perf_counter() - start
    stats["compiles"] = sum(decoding.TRACES.values()) - traced  # jitted programs traced for this run
    stats["batch_size"] = settings.batch_size
    stats["tokens_per_s"] = stats["tokens"] / stats["sampling_s"] if stats["sampling_s"] else 0.0
    if process[0] == 0:
        info["stages"]["generate"] = round(info["stages"].get("generate", 0.0) + stats["wall_s"], 3)
        rundir.write_run_json(run_dir, info)
    return stats


def sample_passes(cfg, graphdef, params, tokenizer, problems, prompt_ids, settings: Settings, run_dir, *,
                  run_header_base, process, progress) -> dict:
    """Sample every pass (samples file) in turn, resuming each from its ResultLog."""
    from tqdm.auto import tqdm

    from jaxformer.decoding import SamplingParams
    from jaxformer.sampling import generate

    lengths = [len(ids) for ids in prompt_ids]
    model_sha, problems_sha = run_header_base
    work = []
    for p in passes(settings):
        out = rundir.samples_path(run_dir, p.label, process)
        if out.exists() and not out.with_name(out.name + ".partial").exists():
            continue  # finished earlier
        log = ResultLog(out, run_header(model_sha, settings, problems_sha, p.label, process))
        log.open()
        work.append((p, log, part_rows(len(problems), p.n, process)))
    todo = sum(len(rows) - len(log.done) for _, log, rows in work)
    stats = {"rows_generated_now": 0, "tokens": 0, "sampling_s": 0.0, "files": []}
    bar = tqdm(total=todo, unit="sample", desc="humaneval generate", disable=not progress)
    try:
        for p, log, rows in work:
            sp = SamplingParams(temperature=p.temperature, top_p=1.0 if p.temperature == 0 else settings.top_p)
            for batch in fixed_batches(rows, lengths, settings.batch_size):
                missing = [j for j in batch if j not in log.done]
                if not missing:
                    continue
                t0 = time.perf_counter()
                done = generate(cfg, graphdef, params, tokenizer, [prompt_ids[rows[j][0]] for j in batch],
                                max_new_tokens=settings.max_new_tokens, sampling=sp, seed=settings.seed,
                                row_ids=[row_key(problems[rows[j][0]]["task_id"], rows[j][1]) for j in batch],
                                stops=settings.stops, batch_size=settings.batch_size)
                stats["sampling_s"] += time.perf_counter() - t0
                for j, completion in zip(batch, done):
                    if j in log.done:  # a batch cut short by a kill is rerun whole, its old rows kept
                        continue
                    position, sample_index = rows[j]
                    log.append(j, sample_row(problems[position]["task_id"], sample_index, p, settings.top_p,
                                             completion, finish(settings, problems[position], completion)))
                    stats["tokens"] += completion.num_generated
                stats["rows_generated_now"] += len(missing)
                bar.update(len(missing))
                bar.set_postfix_str(f"{stats['tokens'] / max(stats['sampling_s'], 1e-9):.0f} tok/s")
            log.finalize(len(rows))
            stats["files"].append(str(log.out_path))
    finally:
        bar.close()
        for _, log, _ in work:
            log.close()
    stats["tokens_per_s"] = stats["tokens"] / stats["sampling_s"] if stats["sampling_s"] else 0.0
    return stats


def finish(settings: Settings, problem: dict, completion) -> dict | None:
    """The row's completion fields: the raw text for Python without --instruct (rows as before), else
    generate_language.completion_fields."""
    if settings.language == "python" and not settings.instruct:
        return None
    return generate_language.completion_fields(settings.language, settings.instruct, settings.stops, problem,
                                               completion.text, completion.stop_reason)


def largest_k_ok(ks, settings: Settings) -> None:
    """Some samples file must have n >= the largest pass@k requested (for `humaneval run`)."""
    most = settings.n if settings.temperatures else 1
    if ks and max(ks) > most:
        raise ValueError(f"--k {max(ks)} needs at least {max(ks)} samples per problem, but the run makes {most} "
                         f"(--n {settings.n}{'' if settings.temperatures else ', --greedy only'})")
