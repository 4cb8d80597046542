"""CodeM's cross-language matrix: every model on every language, greedy pass@1 (docs/humaneval-x.md).

  humaneval matrix --models tiny-python,py=runs/py/hf,go=runs/go/hf --languages python,js,go --out OUT \\
      --base tiny-python --instruct --max-new-tokens 128 --limit 40

A model is a spec as for `humaneval generate --model` (directory, registry name, random:<preset>), named by
its last path component (a trailing /hf: the one before), or explicitly as label=spec. Each cell is a
`humaneval generate` run directory OUT/runs/<model>/<language>/ evaluated in that language; finished
cells are kept in OUT/cells.jsonl, so rerunning the same command continues where it stopped. Writes
pass_at_1.csv, delta.csv (against --base, default the first model), corr_languages.csv (df.corr()),
corr_models.csv (df.T.corr()), heatmaps (PNG), report.md and summary.json into OUT.
"""
from __future__ import annotations

HELP = "pass@1 of every model on every HumanEval-X language, deltas and correlations (CodeM), resumable"


def add_arguments(parser) -> None:
    from humaneval.engine.options import add_sandbox_argument
    from humaneval.languages import LANGUAGES

    parser.add_argument("--models", required=True, help="comma-separated model specs, each optionally label=spec")
    parser.add_argument("--languages", default=",".join(LANGUAGES),
                        help=f"comma-separated languages (default all: {','.join(LANGUAGES)})")
    parser.add_argument("--out", required=True, help="output directory OUT")
    parser.add_argument("--base", default=None, help="label of the base model for the deltas (default: the first)")
    parser.add_argument("--instruct", action="store_true",
                        help="CodeM instruction prompt; completions extracted from the responses")
    parser.add_argument("--max-new-tokens", type=int, default=256)
    parser.add_argument("--limit", type=int, default=None, help="only the first K problems of each language")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds per sample (default 5.0)")
    parser.add_argument("--workers", type=int, default=None, help="parallel sandboxes (default: CPU count)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    add_sandbox_argument(parser)


def _split(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def settings_from_args(args):
    from humaneval.matrix import MatrixSettings

    return MatrixSettings(models=_split(args.models), languages=_split(args.languages), base=args.base,
                          instruct=args.instruct, max_new_tokens=args.max_new_tokens, limit=args.limit,
                          timeout=args.timeout, seed=args.seed)


def run(args) -> int:
    import json
    import pathlib
    import sys

    from humaneval import runinfo
    from humaneval.engine.options import check_sandbox
    from humaneval.matrix import run_matrix
    from humaneval.matrix_report import write_report

    settings = settings_from_args(args)  # every check before a model loads
    check_sandbox(args.sandbox)
    timer = runinfo.StageTimer()
    with timer.stage("cells"):
        cells = run_matrix(settings, args.out, workers=args.workers, sandbox=args.sandbox,
                           progress=not args.no_progress)
    info = {"machine": runinfo.machine_info(with_jax=True), "toolkit": runinfo.toolkit_version(),
            "stages": {"cells_this_call": timer.as_dict()["cells"],
                       "generate_all_cells": round(sum(c["generate_s"] for c in cells), 3),
                       "evaluate_all_cells": round(sum(c["evaluate_s"] for c in cells), 3)}}
    with timer.stage("report"):
        summary = write_report(args.out, settings, cells, info)
    print((pathlib.Path(args.out) / "report.md").read_text().split("## Delta")[0].strip(), file=sys.stderr)
    print(f"report: {args.out}/report.md, summary: {args.out}/summary.json", file=sys.stderr)
    print(json.dumps(summary["pass_at_1"]))
    return 0
