"""Multi-host `humaneval generate`: two local processes on jax.distributed (127.0.0.1) write part files
that merge into the rows one process writes (this pytest process, while they run)."""
import os
import pathlib
import socket
import subprocess
import sys

from humaneval import rundir
from humaneval.generate import Settings, generate_run
from humaneval_tiny import assert_same_rows, tiny_model_dir, write_problems

ROOT = pathlib.Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_processes_give_the_rows_of_one(tmp_path):
    model, problems = tiny_model_dir(), write_problems(tmp_path / "problems.jsonl")
    multi, single = tmp_path / "multi", tmp_path / "single"
    port = free_port()
    cmd = [sys.executable, "-m", "humaneval.cli", "generate", "--model", model, "--out", str(multi), "--problems",
           str(problems), "--n", "4", "--temperature", "0.8", "--max-new-tokens", "16", "--batch-size", "2",
           "--no-progress", "--coordinator", f"127.0.0.1:{port}", "--num-processes", "2"]
    workers = [subprocess.Popen(cmd + ["--process-id", str(i)], cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)),
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for i in range(2)]
    try:
        generate_run(model, single, Settings(n=4, temperatures=("0.8",), max_new_tokens=16, batch_size=2),
                     problems_path=problems)
    finally:
        errors = [proc.communicate(timeout=400)[1] for proc in workers]
    assert [proc.returncode for proc in workers] == [0, 0], "\n".join(e[-2000:] for e in errors)
    parts = rundir.samples_files(multi)["t0.8"]
    assert [p.name for p in parts] == ["samples_t0.8.part0-of-2.jsonl", "samples_t0.8.part1-of-2.jsonl"]
    assert_same_rows(rundir.load_run_samples(multi, "t0.8"), rundir.load_run_samples(single, "t0.8"))
    info = rundir.read_run(multi)
    assert info["processes"] == 2 and info["stages"]["generate"] > 0
    assert info["model"]["sha256"] == rundir.read_run(single)["model"]["sha256"]
