"""`mtpb compare` end to end with a tiny random model on 3 problems, and its input checks."""
import json

import pytest

from mtpb.cli import main as mtpb_main
from mtpb.compare import MODES

PROBLEM_IDS = ("1", "3", "4")
MAX_GEN_LENGTH = 6  # per turn: keeps a random model's generations short


@pytest.fixture(scope="module")
def small_problems(shared_data, tmp_path_factory):
    """The real problems 1, 3 and 4 (5 and 3 turns) with a small generation budget."""
    lines = []
    for line in (shared_data / "mtpb.jsonl").read_text().splitlines():
        problem = json.loads(line)
        if str(problem["id"]) in PROBLEM_IDS:
            lines.append(json.dumps({**problem, "max_gen_length": MAX_GEN_LENGTH}))
    path = tmp_path_factory.mktemp("problems") / "mtpb.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def run(small_problems, tmp_path_factory):
    out = tmp_path_factory.mktemp("compare") / "run"
    argv = ["compare", "--model", "random:tiny", "--out", str(out), "--problems", str(small_problems),
            "--workers", "2", "--batch-size", "8", "--timeout", "5", "--no-progress"]
    assert mtpb_main(argv) == 0
    first = json.loads((out / "summary.json").read_text())
    assert mtpb_main(argv) == 0  # a rerun resumes: nothing generated or evaluated again
    return out, first, json.loads((out / "summary.json").read_text())


def test_compare_writes_report_summary_and_plots(run):
    out, summary, _ = run
    assert sorted(p.name for p in (out / "plots").iterdir()) == [
        "pass_rate.png", "per_turn.png", "perplexity.png", "ppl_vs_success.png"]
    for key in ("model", "settings", "machine", "stages", "generation", "evaluation", "pass_rate", "pass_rate_strict",
                "by_category", "difficulty", "perplexity", "ppl_vs_success", "per_turn", "max_achievable",
                "defect_rows", "context_rows", "paper", "per_problem", "sandboxes"):
        assert key in summary, key
    assert summary["model"]["spec"] == "random:tiny" and len(summary["model"]["sha256"]) == 64
    assert list(summary["stages"]) == ["load model", "generate multi", "generate single", "evaluate multi",
                                       "evaluate single", "analysis"]
    assert summary["settings"]["problem_ids"] == list(PROBLEM_IDS) and summary["problems"] == 3
    text = (out / "report.md").read_text()
    assert "random:tiny" in text and "paper, CodeGen-Mono" in text and "plots/pass_rate.png" in text
    assert f"{summary['perplexity']['multi']:.2f}" in text and f"{summary['perplexity']['single']:.2f}" in text


def test_summary_numbers_match_the_results_files(run):
    out, summary, _ = run
    results = {m: read_jsonl(out / f"samples_{m}.jsonl_results.jsonl") for m in MODES}
    for mode, rows in results.items():
        assert len(rows) == 15 and {r["mode"] for r in rows} == {mode} and summary["rows"][mode] == 15
        assert all(r["sandbox"] and r["turns"] for r in rows)
        for pid in PROBLEM_IDS:
            mine = [r for r in rows if str(r["id"]) == pid]
            assert summary["per_problem"][pid][mode]["pass_rate"] == pytest.approx(
                sum(r["passed"] for r in mine) / len(mine))
            logprob = [sum(t["prompt_logprob_sum"] for t in r["turns"]) for r in mine]
            tokens = [sum(t["prompt_num_tokens"] for t in r["turns"]) for r in mine]
            ppl = sum(2.718281828459045 ** (-lp / n) for lp, n in zip(logprob, tokens)) / len(mine)
            assert summary["per_problem"][pid][mode]["ppl"] == pytest.approx(ppl, rel=1e-6)
        assert summary["pass_rate"][mode] == pytest.approx(
            sum(summary["per_problem"][p][mode]["pass_rate"] for p in PROBLEM_IDS) / 3)
    multi = results["multi"]
    assert all("first_failing_turn" in r for r in multi) and not any("first_failing_turn" in r for r in results["single"])
    turns = summary["per_turn"]["first_failing_turn"]["turns"]
    assert sum(turns.values()) == 15 and turns.get("none", 0) == sum(r["first_failing_turn"] is None for r in multi)
    assert [len(r["turns"]) for r in results["single"]] == [1] * 15


def test_rerun_resumes_without_redoing_work(run):
    _, first, second = run
    assert all(second["generation"][m]["rows_generated_now"] == 0 for m in MODES)
    assert all(second["evaluation"][m]["evaluated_now"] == 0 for m in MODES)
    assert {k: v for k, v in second.items() if k not in ("stages", "generation", "evaluation", "machine")} == \
        {k: v for k, v in first.items() if k not in ("stages", "generation", "evaluation", "machine")}


@pytest.mark.parametrize("extra, message", [
    (["--problem-ids", "1,999"], "--problem-ids: unknown problem id(s) 999"),
    (["--n", "0"], "--n must be an integer >= 1, got 0"),
    (["--difficulty-from", "{bad"], "--difficulty-from"),
    (["--difficulty-from", json.dumps({"per_problem": {"1": {"multi": {"pass_rate": 0.5}}}})],
     "field 'per_problem' has no problem 3"),
])
def test_bad_input_fails_before_the_model_loads(tmp_path, small_problems, monkeypatch, capsys, extra, message):
    import jaxformer.sampling

    def no_load(*args, **kwargs):
        raise AssertionError("the model was loaded")

    monkeypatch.setattr(jaxformer.sampling, "load", no_load)
    if extra[0] == "--difficulty-from":
        (tmp_path / "other.json").write_text(extra[1])
        extra = ["--difficulty-from", str(tmp_path / "other.json")]
    out = tmp_path / "run"
    code = mtpb_main(["compare", "--model", "random:tiny", "--out", str(out), "--problems", str(small_problems),
                      *extra])
    assert code == 2 and message in capsys.readouterr().err
    assert not out.exists()


def test_difficulty_from_another_run_is_read_for_the_chosen_problems(tmp_path, small_problems):
    from mtpb.compare import CompareSettings, check_inputs

    other = tmp_path / "other.json"
    other.write_text(json.dumps({"per_problem": {p: {"multi": {"pass_rate": r}}
                                                 for p, r in {"1": 0.9, "3": 0.5, "4": 0.0, "7": 1.0}.items()}}))
    checked = check_inputs(CompareSettings("random:tiny", str(tmp_path / "run"), problems=str(small_problems),
                                           problem_ids=("3", "1"), difficulty_from=str(other)))
    assert list(checked["problems"]) == ["1", "3"]  # problems-file order
    assert checked["difficulty_rates"] == {"1": 0.9, "3": 0.5}


@pytest.mark.parametrize("field, value, message", [
    ("top_p", 0.0, "--top-p must be in (0, 1]"), ("temperature", -1.0, "--temperature must be >= 0"),
    ("workers", 0, "--workers must be >= 1"), ("n", True, "--n must be an integer >= 1"),
])
def test_settings_are_validated(field, value, message):
    from mtpb.compare import CompareSettings

    with pytest.raises(ValueError) as err:
        CompareSettings("random:tiny", "run", **{field: value})
    assert message in str(err.value)
