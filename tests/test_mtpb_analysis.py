"""mtpb compare's analyses on synthetic evaluated rows with answers worked out by hand."""
import json
import math

import pytest

from mtpb import analysis, data, difficulty, paper, plots, report


@pytest.fixture(scope="module")
def problems(shared_data):
    return data.load(shared_data / "mtpb.jsonl")


def row(pid, passed, turns=(), strict=None, **extra):
    """An evaluated row: only the fields the analyses read. turns: (logprob_sum, num_tokens) pairs."""
    return {"id": pid, "passed": passed, "passed_strict": passed if strict is None else strict,
            "turns": [{"prompt_logprob_sum": lp, "prompt_num_tokens": n} for lp, n in turns], **extra}


def test_pass_rate_is_per_row_then_per_problem_then_over_problems():
    rows = [row("1", True), row("1", False), row("1", False), row("1", True), row("2", True)]
    rates = analysis.pass_rates(rows)
    assert rates == {"1": 0.5, "2": 1.0}
    assert analysis.mean(rates.values()) == 0.75  # not 3/5: every problem weighs the same


def test_row_perplexity_weighs_every_prompt_token_once():
    assert analysis.row_prompt_ppl(row("1", True, [(-2.0, 1), (-4.0, 3)])) == pytest.approx(math.exp(6 / 4))
    assert analysis.row_prompt_ppl(row("1", True, [(-3.0, 3)])) == pytest.approx(math.e)
    assert analysis.row_prompt_ppl(row("1", True, [])) is None  # no prompt tokens: undefined, not a crash
    assert analysis.row_prompt_ppl({"id": "1", "turns": [{"prompt_ppl": 3.0}]}) is None


@pytest.mark.parametrize("rate, expected", [(0.0, "hard"), (0.29, "hard"), (0.3, "medium"), (0.7, "medium"),
                                            (0.71, "easy"), (1.0, "easy")])
def test_difficulty_bins_are_fixed_cut_points(rate, expected):
    assert difficulty.difficulty_bin(rate) == expected


def test_difficulty_bin_rejects_a_rate_outside_0_1():
    with pytest.raises(ValueError, match="must be in \\[0, 1\\]"):
        difficulty.difficulty_bin(1.5)


@pytest.mark.parametrize("content, message", [
    ("{not json", "not valid JSON"),
    (json.dumps({"pass_rate": 0.1}), "no 'per_problem' object"),
    (json.dumps({"per_problem": {"1": {"multi": {"pass_rate": 0.5}}}}), "field 'per_problem' has no problem 2"),
    (json.dumps({"per_problem": {"1": {"multi": {"pass_rate": 0.5}}, "2": {"multi": {"pass_rate": "x"}}}}),
     "field 'per_problem.2.multi.pass_rate' must be a number in [0, 1], got 'x'"),
])
def test_difficulty_from_a_malformed_summary_is_named(tmp_path, content, message):
    path = tmp_path / "summary.json"
    path.write_text(content)
    with pytest.raises(ValueError, match=None) as err:
        difficulty.rates_from_summary(path, ["1", "2"])
    assert message in str(err.value) and str(path) in str(err.value)


def test_spearman_known_values_and_undefined_cases():
    assert analysis.spearman([1, 2, 3, 4], [0.9, 0.5, 0.4, 0.0])["rho"] == pytest.approx(-1.0)
    constant = analysis.spearman([1, 2, 3, 4], [0.0, 0.0, 0.0, 0.0])  # every problem failed
    assert constant == {"rho": None, "p": None, "n": 4}
    assert analysis.spearman([1, 2], [0.0, 1.0]) == {"rho": None, "p": None, "n": 2}


def test_quantile_bins_split_problems_by_perplexity():
    ppl = {str(i): float(i) for i in range(1, 9)}
    rates = {str(i): (1.0 if i <= 2 else 0.0) for i in range(1, 9)}
    bins = analysis.quantile_bins(ppl, rates)
    assert [(b["ppl_low"], b["ppl_high"], b["problems"], b["pass_rate"]) for b in bins] == [
        (1.0, 2.0, 2, 1.0), (3.0, 4.0, 2, 0.0), (5.0, 6.0, 2, 0.0), (7.0, 8.0, 2, 0.0)]
    assert len(analysis.quantile_bins({"1": 2.0, "2": None}, {"1": 1.0, "2": 0.0})) == 1
    assert analysis.quantile_bins({}, {}) == []


def test_first_failing_turn_distribution():
    rows = [row("1", False, first_failing_turn=2, first_failing_error="NameError"),
            row("1", False, first_failing_turn=10, first_failing_error="timeout"),
            row("1", True, first_failing_turn=None), row("2", False, first_failing_turn=2,
                                                         first_failing_error="NameError")]
    assert analysis.first_failing_turns(rows) == {
        "rows": 4, "turns": {"2": 2, "10": 1, "none": 1}, "errors": {"NameError": 2, "timeout": 1}}


def synthetic_results():
    # problem 1 (string, 5 turns): multi 4/5, single 1/5; 2 (math, 5 turns): 1/5 vs 0/5; 3 (math, 3): 2/5 vs 2/5
    multi, single = [], []
    for pid, (m, s) in {"1": (4, 1), "2": (1, 0), "3": (2, 2)}.items():
        for case in range(5):
            multi.append(row(pid, case < m, [(-1.0, 1), (-1.0, 1)], first_failing_turn=None if case < m else 1,
                             first_failing_error=None if case < m else "NameError", defects=[]))
            single.append(row(pid, case < s, [(-4.0, 2)], defects=[], status="context" if pid == "3" and case == 4
                              else "ok"))
    return {"multi": multi, "single": single}


def test_analyse_known_answers(problems):
    out = analysis.analyse(synthetic_results(), {p: problems[p] for p in ("1", "2", "3")})
    assert out["problems"] == 3 and out["rows"] == {"multi": 15, "single": 15}
    assert out["pass_rate"]["multi"] == pytest.approx((0.8 + 0.2 + 0.4) / 3)
    assert out["pass_rate"]["single"] == pytest.approx((0.2 + 0.0 + 0.4) / 3)
    diff = out["pass_rate"]["difference"]
    assert diff["mean"] == pytest.approx(0.8 / 3) and diff["n"] == 3 and diff["ci_low"] <= diff["mean"] <= diff["ci_high"]
    assert out["by_category"]["math"] == {"problems": 2, "multi": pytest.approx(0.3), "single": pytest.approx(0.2),
                                          "difference": pytest.approx(out["by_category"]["math"]["difference"])}
    assert out["by_category"]["math"]["difference"]["mean"] == pytest.approx(0.1)
    # default difficulty: this run's multi-turn rates -> 1 easy (0.8), 2 hard (0.2), 3 medium (0.4)
    assert {p: v["difficulty"] for p, v in out["per_problem"].items()} == {"1": "easy", "2": "hard", "3": "medium"}
    assert {b: v["problems"] for b, v in out["difficulty"]["bins"].items()} == {"easy": 1, "hard": 1, "medium": 1}
    assert out["perplexity"]["multi"] == pytest.approx(math.e) and out["perplexity"]["single"] == pytest.approx(math.e ** 2)
    assert out["perplexity"]["difference"]["mean"] == pytest.approx(math.e - math.e ** 2)
    # every problem has the same perplexity within a mode: Spearman is undefined, reported as None
    assert out["ppl_vs_success"]["multi"]["spearman"] == {"rho": None, "p": None, "n": 3}
    assert out["per_turn"]["first_failing_turn"]["turns"] == {"1": 8, "none": 7}
    assert out["per_turn"]["by_turn_count"]["5"]["multi"] == pytest.approx(0.5)
    assert out["per_turn"]["by_turn_count"]["3"] == {"problems": 1, "multi": 0.4, "single": 0.4,
                                                     "difference": out["per_turn"]["by_turn_count"]["3"]["difference"]}
    assert out["context_rows"] == {"multi": 0, "single": 1}
    json.dumps(out, allow_nan=False)  # standard JSON: undefined numbers are null


def test_difficulty_from_another_run_overrides_the_bins(problems):
    rates = {"1": 0.1, "2": 0.9, "3": 0.5}
    out = analysis.analyse(synthetic_results(), {p: problems[p] for p in ("1", "2", "3")}, rates, "other run")
    assert {p: v["difficulty"] for p, v in out["per_problem"].items()} == {"1": "hard", "2": "easy", "3": "medium"}
    assert out["difficulty"]["source"] == "other run"


def fake_run_fields():
    return {
        "model": {"spec": "random:tiny", "sha256": "ab" * 32},
        "settings": {"n": 1, "temperature": 0.2, "top_p": 0.95, "seed": 0, "judge": "faithful", "timeout_s": 20.0,
                     "workers": 2, "batch_size": None, "problems_file": "mtpb.jsonl", "problems_sha256": "cd" * 32},
        "machine": {"cpu": "test cpu", "cpu_count": 2, "python": "3.11"}, "sandboxes": ["namespaces"],
        "stages": {"generate multi": 1.5, "analysis": 0.25},
        "max_achievable": {"these_problems": {"faithful": 1.0, "strict": 1.0},
                           "benchmark": {m: {"test_cases": 558, "total": 575, "pass_rate": 0.97} for m in ("faithful", "strict")}},
        "paper": paper.as_dict(),
    }


def test_report_and_plots_show_the_summary_numbers(problems, tmp_path):
    summary = {**analysis.analyse(synthetic_results(), {p: problems[p] for p in ("1", "2", "3")}), **fake_run_fields()}
    text = report.render(summary)
    assert "| pass rate (faithful, reference) | 20.00% | 46.67% | +26.67 pts [" in text
    assert "| prompt perplexity | 7.39 | 2.72 | -4.67 [" in text
    assert "| 16.1B [S] | 38.74% | 47.34% |" in text and paper.LABEL in text
    assert "| 1 | 8 |" in text and "| none | 7 |" in text  # first failing turn distribution
    assert "multi 0, single 1." in text  # context rows
    assert "558/575" in text and "generate multi 1.5 s" in text
    assert "| multi | 3 | n/a | n/a |" in text  # constant perplexity: Spearman n/a
    written = plots.write_all(summary, tmp_path / "plots")
    assert sorted(p.name for p in written) == sorted(report.PLOTS)
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in written)
