"""`humaneval generate` / `run` on a tiny random-init CodeGen and three small problems: rows and run.json per the
run-directory contract, resume after SIGKILL byte-identical, subsets sample the same rows, bad input
fails before sampling, and `run` goes on to evaluate."""
import json
import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest

from humaneval import rundir
from humaneval.cli import main
from humaneval.generate import Settings, generate_run
from humaneval_tiny import assert_same_rows, tiny_model_dir, write_problems

ROOT = pathlib.Path(__file__).resolve().parents[1]
ARGS = ["--n", "4", "--temperature", "0.8", "--max-new-tokens", "16", "--batch-size", "2", "--no-progress"]
SETTINGS = Settings(n=4, temperatures=("0.8",), max_new_tokens=16, batch_size=2)
FIELDS = ["task_id", "completion", "sample_index", "temperature", "top_p", "mean_logprob", "sum_logprob",
          "num_tokens", "stop_reason"]


@pytest.fixture(scope="module")
def problems(tmp_path_factory):
    return write_problems(tmp_path_factory.mktemp("problems") / "problems.jsonl")


@pytest.fixture(scope="module")
def model():
    return tiny_model_dir()


@pytest.fixture(scope="module")
def reference(model, problems, tmp_path_factory):
    """An uninterrupted run (also warms the compile cache for the subprocess)."""
    run = tmp_path_factory.mktemp("reference")
    stats = generate_run(model, run, SETTINGS, problems_path=problems)
    assert stats["rows_generated_now"] == 12
    return run


def test_rows_and_run_json_follow_the_contract(reference, model, problems):
    rows = rundir.load_run_samples(reference, "t0.8")
    assert list(rundir.samples_files(reference)) == ["t0.8"]
    assert [(r["task_id"], r["sample_index"]) for r in rows] == [(f"T/{p}", s) for p in range(3) for s in range(4)]
    for r in rows:
        assert list(r) == FIELDS
        assert r["temperature"] == 0.8 and r["top_p"] == 0.95 and r["stop_reason"] in ("eos", "stop_sequence", "length")
        assert 0 <= r["num_tokens"] <= 16
        if r["num_tokens"]:
            assert r["mean_logprob"] == pytest.approx(r["sum_logprob"] / r["num_tokens"])
    assert len({r["completion"] for r in rows}) > 3  # t=0.8 over a random model: samples differ
    info = rundir.read_run(reference)
    assert info["model"]["spec"] == model and len(info["model"]["sha256"]) == 64
    assert info["model"]["fingerprint"]["sha256"] == info["model"]["sha256"]
    assert info["settings"]["temperatures"] == ["0.8"] and info["settings"]["n"] == 4
    assert info["settings"]["stops"] == ["\nclass", "\ndef", "\n#", "\nif", "\nprint"]
    assert info["problems"]["task_ids"] == ["T/0", "T/1", "T/2"] and info["problems"]["path"] == str(problems)
    assert info["stages"]["generate"] > 0 and info["machine"]["cpu_count"] and info["toolkit"]


def test_resume_after_sigkill_is_byte_identical(reference, model, problems, tmp_path):
    run = tmp_path / "killed"
    cmd = [sys.executable, "-m", "humaneval.cli", "generate", "--out", str(run), "--problems", str(problems),
           "--model", model] + ARGS
    proc = subprocess.Popen(cmd, cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    partial = run / "samples_t0.8.jsonl.partial"
    deadline = time.monotonic() + 600  # generous: the machine may be loaded
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            if partial.exists() and partial.read_text().count("\n") >= 2:  # header + at least one row
                break
            time.sleep(0.01)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode()[-2000:]
    assert not (run / "samples_t0.8.jsonl").exists()
    raw = partial.read_bytes()
    kept = raw[: raw.rfind(b"\n") + 1].count(b"\n") - 1  # complete rows after the header (a torn one is redone)
    assert 1 <= kept < 12
    stats = generate_run(model, run, SETTINGS, problems_path=problems)
    assert stats["rows_generated_now"] == 12 - kept  # only the missing rows
    assert not partial.exists()
    assert (run / "samples_t0.8.jsonl").read_bytes() == (reference / "samples_t0.8.jsonl").read_bytes()


def test_a_subset_samples_the_same_rows(reference, model, problems, tmp_path, capsys):
    code = main(["generate", "--out", str(tmp_path), "--problems", str(problems), "--task-ids", "T/2,T/0",
                 "--model", model] + ARGS)
    assert code == 0, capsys.readouterr().err
    full = [r for r in rundir.load_run_samples(reference, "t0.8") if r["task_id"] in ("T/0", "T/2")]
    assert_same_rows(rundir.load_run_samples(tmp_path, "t0.8"), full)  # other rows share each batch
    assert rundir.read_run(tmp_path)["settings"]["task_ids"] == ["T/2", "T/0"]


def run_cli(argv, capsys):
    code = main(argv)
    return code, capsys.readouterr().err


@pytest.mark.parametrize("extra,message", [
    (["--model", str(pathlib.Path("/nonexistent/model"))], "/nonexistent/model"),
    (["--temperature", "0.2,0.8"], "bad temperature '0.2,0.8'"),
    (["--temperature", "0.2", "hot"], "bad temperature 'hot'"),
    (["--temperature", "0.2", "0.20"], "temperature '0.20' repeats '0.2'"),
    (["--temperature", "0"], "use --greedy"),
    (["--task-ids", "T/0,T/9"], "unknown task id(s) T/9"),
    (["--n", "0"], "n must be a positive integer"),
    (["--coordinator", "127.0.0.1:1"], "go together"),
])
def test_bad_input_fails_before_sampling(model, problems, tmp_path, capsys, extra, message):
    out = tmp_path / "run"
    code, err = run_cli(["generate", "--out", str(out), "--problems", str(problems), "--model", model]
                        + ARGS + extra, capsys)
    assert code == 2 and message in err
    assert not out.exists() or not list(out.glob("samples_*"))


def test_limit_with_task_ids_is_refused(problems, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["generate", "--out", str(tmp_path), "--model", "m", "--limit", "2", "--task-ids", "T/0"] + ARGS)
    assert exit_info.value.code == 2 and "not allowed with argument" in capsys.readouterr().err


def test_a_run_directory_of_another_run_is_refused(reference, model, problems, tmp_path, capsys):
    base = ["generate", "--problems", str(problems), "--model", model] + ARGS
    code, err = run_cli(base + ["--out", str(reference), "--seed", "1"], capsys)  # other settings
    assert code == 2 and "holds another run" in err and "settings.seed: 0 there, 1 now" in err
    other = tmp_path / "other"
    other.mkdir()
    info = rundir.read_run(reference)
    info["model"]["sha256"] = "0" * 64  # the same settings, another model
    rundir.write_run_json(other, info)
    code, err = run_cli(base + ["--out", str(other)], capsys)
    assert code == 2 and "model sha256: " + "0" * 64 + " there" in err
    assert not list(other.glob("samples_*"))


def test_run_needs_n_at_least_the_largest_k(model, problems, tmp_path, capsys):
    code, err = run_cli(["run", "--out", str(tmp_path), "--problems", str(problems), "--model", model,
                         "--k", "1,10"] + ARGS, capsys)
    assert code == 2 and "--k 10 needs at least 10 samples per problem, but the run makes 4" in err and not list(tmp_path.iterdir())


def test_run_generates_then_evaluates(reference, model, problems, capsys):
    before = (reference / "samples_t0.8.jsonl").read_bytes()
    code, err = run_cli(["run", "--out", str(reference), "--problems", str(problems), "--model", model,
                         "--k", "1,4"] + ARGS, capsys)
    assert code == 0, err
    assert "generated 0 rows" in err  # already generated: resumed as done
    assert (reference / "samples_t0.8.jsonl").read_bytes() == before
    results = [json.loads(line) for line in (reference / "samples_t0.8.jsonl_results.jsonl").read_text().splitlines()]
    assert len(results) == 12 and all("passed" in r for r in results)
    summary = json.loads((reference / "summary.json").read_text())
    assert (reference / "report.md").is_file() and summary["model"]["sha256"] == rundir.read_run(reference)["model"]["sha256"]
    assert set(rundir.read_run(reference)["stages"]) >= {"generate", "evaluate"}
