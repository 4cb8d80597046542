"""RUN/report.md of `mtpb compare`, rendered from summary.json alone (every number shown is in it)."""
from __future__ import annotations

from humaneval.markdown import percent, table
from humaneval.runinfo import describe_machine

PLOTS = ("pass_rate.png", "perplexity.png", "ppl_vs_success.png", "per_turn.png")


def _num(x, digits: int = 2) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def _diff(d: dict, scale: float = 100.0, unit: str = " pts") -> str:
    if d is None or d.get("mean") is None:
        return "n/a"
    ci = "" if d.get("ci_low") is None else f" [{scale * d['ci_low']:+.2f}, {scale * d['ci_high']:+.2f}]"
    return f"{scale * d['mean']:+.2f}{unit}{ci}"


def _groups(groups: dict, what: str) -> str:
    rows = [(label, g["problems"], percent(g["multi"]), percent(g["single"]), _diff(g["difference"]))
            for label, g in groups.items()]
    return table([what, "problems", "multi", "single", "multi - single (95% CI)"], rows)


def _header(s: dict) -> list[str]:
    st, model = s["settings"], s["model"]
    return [
        "# MTPB: multi-turn vs single-turn", "",
        f"- **Model:** `{model['spec']}` (sha256 `{model['sha256'][:16]}`)",
        f"- **Settings:** n={st['n']} sample(s) per test case, temperature {st['temperature']}, top-p "
        f"{st['top_p']}, seed {st['seed']}, {s['problems']} problems x 5 test cases, judge "
        f"`{st['judge']}` (strict also shown), timeout {st['timeout_s']} s, {st['workers'] or 'default'} "
        f"sandbox worker(s), batch size {st['batch_size'] or 'default'}",
        f"- **Problems file:** `{st['problems_file']}` (sha256 `{st['problems_sha256'][:16]}`)",
        f"- **Machine:** {describe_machine(s['machine'])}; sandbox "
        + ", ".join(f"`{k}`" for k in s["sandboxes"]),
        "- **Wall time (this invocation; a resumed stage counts only the work done now):** "
        + ", ".join(f"{k} {v:.1f} s" for k, v in s["stages"].items()), ""]


def _headline(s: dict) -> list[str]:
    pr, ps, ppl = s["pass_rate"], s["pass_rate_strict"], s["perplexity"]
    rows = [("pass rate (faithful, reference)", percent(pr["single"]), percent(pr["multi"]), _diff(pr["difference"])),
            ("pass rate (strict)", percent(ps["single"]), percent(ps["multi"]), _diff(ps["difference"])),
            ("prompt perplexity", _num(ppl["single"]), _num(ppl["multi"]), _diff(ppl["difference"], 1.0, ""))]
    out = ["## Headline", "", table(["", "single-turn", "multi-turn", "multi - single (95% CI)"], rows),
           "Pass rate: per (sample, test case), averaged per problem, then over problems. The CI is a "
           "seeded bootstrap over problems (paired). Perplexity: per row exp(-sum prompt log-prob / sum "
           "prompt tokens) over its turns, averaged per problem, then over problems.", ""]
    paper = s["paper"]
    rows = [(f"{r['model']} [{r['tag']}]", f"{r['single']:.2f}%", f"{r['multi']:.2f}%") for r in paper["pass_rate_percent"]]
    out += [f"### Beside the paper ({paper['label']})", "",
            table(["model", "single-turn pass rate", "multi-turn pass rate"], rows),
            table(["model", "single-turn prompt ppl", "multi-turn prompt ppl"],
                  [(f"{r['model']} [{r['tag']}]", _num(r["single"]), _num(r["multi"])) for r in paper["prompt_ppl"]]),
            "[S] quoted by a secondary source, [R] not confirmed (../shared/REFERENCE.md). The paper's "
            "findings: " + "; ".join(paper["findings"]) + ".", ""]
    return out


def _ppl_section(s: dict) -> list[str]:
    out = ["## Perplexity against success", "", "![ppl vs success](plots/ppl_vs_success.png)", ""]
    rows = []
    for mode, v in s["ppl_vs_success"].items():
        sp = v["spearman"]
        rows.append((mode, sp["n"], _num(sp["rho"], 3), _num(sp["p"], 4)))
    out += [table(["mode", "problems", "Spearman rho (ppl, pass rate)", "p-value"], rows)]
    for mode, v in s["ppl_vs_success"].items():
        rows = [(f"{i + 1}", f"{_num(b['ppl_low'])} - {_num(b['ppl_high'])}", b["problems"], percent(b["pass_rate"]))
                for i, b in enumerate(v["quantile_bins"])]
        out += [f"**{mode}-turn**, problems in perplexity quantile bins:", "",
                table(["bin", "prompt ppl", "problems", "pass rate"], rows)]
    return out + ["n/a: undefined (fewer than 3 problems, or a constant input such as every problem failing).", ""]


def _per_turn(s: dict) -> list[str]:
    ff = s["per_turn"]["first_failing_turn"]
    out = ["## Per-turn diagnostics (multi-turn)", "", "![per turn](plots/per_turn.png)", "",
           "First failing turn: the first turn whose program (the history up to that turn, last statement "
           "printed) does not run to completion; `none`: every turn ran.", "",
           table(["first failing turn", "rows"], list(ff["turns"].items()))]
    if ff["errors"]:
        out += [table(["how that turn failed", "rows"], list(ff["errors"].items())[:10])]
    out += ["Pass rate by the problem's number of turns:", "", _groups(s["per_turn"]["by_turn_count"], "turns")]
    return out


def _defects(s: dict) -> list[str]:
    ma = s["max_achievable"]
    rows = [(judge, percent(ma["these_problems"][judge]), f"{ma['benchmark'][judge]['test_cases']}/"
             f"{ma['benchmark'][judge]['total']}", percent(ma["benchmark"][judge]["pass_rate"]))
            for judge in ("faithful", "strict")]
    flags = sorted({f for m in s["defect_rows"].values() for f in m})
    out = ["## Dataset defects", "",
           table(["judge", "max pass rate, these problems", "reachable test cases, benchmark",
                  "max pass rate, benchmark"], rows)]
    if flags:
        out += [table(["flag", "multi rows", "single rows"],
                      [(f, s["defect_rows"]["multi"].get(f, 0), s["defect_rows"]["single"].get(f, 0)) for f in flags])]
    out += [f"Rows whose history outgrew the model's context (status `context`, counted as failed): "
            f"multi {s['context_rows']['multi']}, single {s['context_rows']['single']}.", ""]
    return out


def render(s: dict) -> str:
    d = s["difficulty"]
    lines = _header(s) + _headline(s) + [
        "## Pass rate", "", "![pass rate](plots/pass_rate.png)", "", "### By category", "",
        _groups(s["by_category"], "category"), "### By difficulty", "",
        f"Bins of the per-problem pass rate from {d['source']}: "
        + "; ".join(f"{k}: {v}" for k, v in d["scheme"].items()) + ".", "",
        _groups(d["bins"], "difficulty"),
        "## Prompt perplexity", "", "![perplexity](plots/perplexity.png)", ""]
    lines += _ppl_section(s) + _per_turn(s) + _defects(s)
    return "\n".join(lines) + "\n"
