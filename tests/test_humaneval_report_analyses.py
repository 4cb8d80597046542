"""The report's analyses on synthetic verdicts with known answers: pass@k CIs and the best temperature
(humaneval.pass_rates), picking by log-probability (humaneval.ranking), failure categories, BLEU."""
import numpy as np
import pytest

from humaneval import bleu, failures, pass_rates, ranking
from humaneval.passk import pass_at_k


def test_ci_covers_the_true_pass_at_1_of_a_large_synthetic_benchmark():
    # 400 problems with known solve rates p (mean exactly 0.35); n = 20 samples each drawn from them
    rng = np.random.default_rng(0)
    p = rng.beta(0.7, 1.3, size=400)
    p = p * (0.35 / p.mean())
    counts = {f"P/{i}": (20, int(rng.binomial(20, p_i))) for i, p_i in enumerate(np.clip(p, 0, 1))}
    entry = pass_rates.pass_at_k_entry(counts, 1, seed=0)
    true = float(np.clip(p, 0, 1).mean())
    assert entry["ci_low"] < true < entry["ci_high"] and entry["ci_high"] - entry["ci_low"] < 0.08
    assert entry["value"] == pytest.approx(np.mean([c / 20 for _, c in counts.values()]))
    assert pass_rates.pass_at_k_entry(counts, 1, seed=0) == entry  # seeded


def test_best_temperature_is_chosen_per_k():
    counts = {"t0.2": {"A": (10, 7), "B": (10, 0)},  # pass@1 0.35, pass@10 0.5
              "t0.8": {"A": (10, 3), "B": (10, 3)},  # pass@1 0.30, pass@10 1.0
              "greedy": {"A": (1, 1), "B": (1, 0)}}  # pass@1 0.5, no pass@10
    table = pass_rates.pass_at_k_by_label(counts, [1, 10])
    assert table["greedy"]["10"] == {"value": None, "ci_low": None, "ci_high": None, "problems": 2,
                                     "note": "n/a (k > n)", "n": 1}
    best = pass_rates.best_temperature(table, [1, 10])
    assert (best["1"]["label"], best["1"]["temperature"]) == ("greedy", 0.0)
    assert best["1"]["value"] == pytest.approx(0.5)
    assert best["10"]["label"] == "t0.8" and best["10"]["value"] == pytest.approx(1.0)
    table = pass_rates.pass_at_k_by_label({"greedy": counts["greedy"]}, [10])
    assert pass_rates.best_temperature(table, [10])["10"]["label"] is None


def test_k_above_every_n_is_an_error():
    pass_rates.check_ks([1, 10], {"greedy": 1, "t0.8": 10})
    with pytest.raises(ValueError, match=r"--k 100: .*largest n = 10, in t0.8"):
        pass_rates.check_ks([1, 100], {"greedy": 1, "t0.8": 10})
    with pytest.raises(ValueError, match="'t1.x' is neither"):
        pass_rates.temperature("t1.x")


def test_ranking_picks_the_right_sample():
    rows = {"A": [{"passed": False, "mean_logprob": -0.5, "sum_logprob": -1.0},
                  {"passed": True, "mean_logprob": -0.1, "sum_logprob": -9.0},  # best mean, worst sum
                  {"passed": False, "mean_logprob": -0.9, "sum_logprob": -2.0}],
            "B": [{"passed": True, "mean_logprob": -0.3, "sum_logprob": -0.5},
                  {"passed": True, "mean_logprob": -0.3, "sum_logprob": -3.0},
                  {"passed": False, "mean_logprob": -0.2, "sum_logprob": -4.0}]}
    result = ranking.ranking(rows)
    assert result["pass_rate"] == pytest.approx({"mean_logprob": 0.5, "sum_logprob": 0.5, "random": 0.5,
                                                 "oracle": 1.0})
    # best-of-k by mean log-prob, exactly: A's correct sample wins whenever drawn (1/3, 2/3, 1);
    # in B the wrong one wins whenever drawn (2/3 wrong for k=1 ... never right for k=3)
    assert result["curve"]["mean_logprob"] == pytest.approx([(1 / 3 + 2 / 3) / 2, (2 / 3 + 1 / 3) / 2, 0.5])
    assert result["curve"]["oracle"] == pytest.approx([(pass_at_k(3, 1, k) + pass_at_k(3, 2, k)) / 2 for k in (1, 2, 3)])
    # simulated check of the exact best-of-k weights
    rng = np.random.default_rng(0)
    passed, score = np.array([0, 1, 0, 1, 0, 0]), np.array([0.5, 0.4, 0.9, 0.1, 0.2, 0.3])
    draws = [passed[s][np.argmax(score[s])] for s in (rng.choice(6, 3, replace=False) for _ in range(4000))]
    assert ranking.ranked_pass(passed, score, [3])[0] == pytest.approx(np.mean(draws), abs=0.03)
    with pytest.raises(ValueError, match="A: a sample has no 'sum_logprob'"):
        ranking.ranking({"A": [{"passed": True, "mean_logprob": -1.0}]})


def test_failure_categories():
    rows = [{"task_id": "A", "verdict": "passed"}, {"task_id": "A", "verdict": "failed", "error_type": "SyntaxError"},
            {"task_id": "A", "verdict": "failed", "error_type": "IndentationError"},
            {"task_id": "B", "verdict": "failed", "error_type": "AssertionError"},
            {"task_id": "B", "verdict": "failed", "error_type": "TypeError"},
            {"task_id": "B", "verdict": "timeout", "error_type": "WallTimeout"},
            {"task_id": "B", "verdict": "out_of_memory", "error_type": "MemoryError"},
            {"task_id": "B", "verdict": "crashed", "error_type": "SIGSEGV"}]
    table = failures.per_problem(rows)
    assert table["A"] == {"samples": 3, "passes": 1, "failures": {"syntax error": 2}}
    assert table["B"]["failures"] == {"assertion": 1, "crashed (SIGSEGV)": 1, "exception: TypeError": 1,
                                      "out of memory": 1, "timeout": 1}
    assert failures.totals(table)["syntax error"] == 2


def test_bleu_scores_identical_code_100_and_splits_by_correctness():
    problems = {"A": {"canonical_solution": "    return sorted(set(xs))\n"}}
    rows = [{"task_id": "A", "completion": "    return sorted(set(xs))\n", "passed": True, "verdict": "passed"},
            {"task_id": "A", "completion": "    return xs\n", "passed": False, "verdict": "failed"},
            {"task_id": "A", "completion": "    return xs\n", "passed": False, "verdict": "harness_error"}]
    result = bleu.bleu_analysis(rows, problems)
    assert result["overall"]["correct"] == {"count": 1, "mean": pytest.approx(100.0), "scores": [pytest.approx(100.0)]}
    assert result["overall"]["incorrect"]["count"] == 1 and result["overall"]["incorrect"]["mean"] < 50
    with pytest.raises(ValueError, match="B has no canonical_solution"):
        bleu.sentence_bleu([{"task_id": "B", "completion": "x"}], {"B": {}})


def test_bleu_equals_sacrebleu_sentence_bleu():
    import sacrebleu

    problems = {"A": {"canonical_solution": "    return [x for x in xs if x > 0]\n"},
                "B": {"canonical_solution": "    return sum(xs) / len(xs)\n"}}
    rows = [{"task_id": t, "completion": c} for t in problems
            for c in ("    return xs\n", "    return [x for x in xs]\n", "    return sum(xs)\n")]
    want = [sacrebleu.sentence_bleu(r["completion"], [problems[r["task_id"]]["canonical_solution"]]).score for r in rows]
    assert bleu.sentence_bleu(rows, problems) == pytest.approx(want)
