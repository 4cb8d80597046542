"""Exact resume: a training subprocess killed with SIGKILL mid-run, rerun with the same command, produces
a loss curve bit-identical to an uninterrupted run.

The uninterrupted reference runs in this process (loop.train on the same config the CLI would build), so
only the victim and its rerun are subprocesses; with the test run's persistent compilation cache
(conftest.py) they load the reference's compiled programs instead of compiling them again."""
import json
import os
import pathlib
import signal
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
STEPS = 16
CONFIG = ROOT / "configs" / "tiny-cpu.yaml"


def _overrides(out_dir):
    return [f"run.out_dir={out_dir}", f"run.steps={STEPS}", "run.log_every=1", "run.checkpoint_every=4",
            "run.eval_every=8", "data.seq_len=32", "run.progress=false", "run.peak_flops=1e9",
            "mesh.data=2", "mesh.fsdp=2", "mesh.tensor=2"]  # all three axes in play (8 devices from conftest)


def _command(out_dir):
    return [sys.executable, "-m", "jaxformer.cli", "train", "--config", str(CONFIG)] + _overrides(out_dir)


def _curve(out_dir):
    rows = [json.loads(line) for line in (out_dir / "metrics.jsonl").read_text().splitlines()]
    return [(r["step"], r.get("loss"), r.get("grad_norm"), r.get("lr"), r.get("eval_loss")) for r in rows]


def _last_step(out_dir):
    path = out_dir / "metrics.jsonl"
    if not path.exists():
        return 0
    return max((json.loads(line)["step"] for line in path.read_text().splitlines() if line.strip()), default=0)


def test_sigkill_mid_training_then_rerun_gives_identical_loss_curve(tmp_path):
    full, killed = tmp_path / "full", tmp_path / "killed"
    from jaxformer.train import config as config_lib, loop

    # the uninterrupted run: what `jaxformer train` does with the same arguments, minus the process
    summary = loop.train(config_lib.load(CONFIG, _overrides(full)))
    assert summary["step"] == STEPS and summary["resumed_from"] == 0
    assert len(_curve(full)) == STEPS + 2  # 16 train rows + 2 eval rows

    env = dict(os.environ, PYTHONPATH=str(ROOT))
    victim = subprocess.Popen(_command(killed), cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    while _last_step(killed) < 10 and victim.poll() is None and time.time() < deadline:
        time.sleep(0.01)
    assert victim.poll() is None, "training finished before it could be killed"
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    killed_at = _last_step(killed)
    assert 10 <= killed_at < STEPS

    rerun = subprocess.run(_command(killed), cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    summary = json.loads(rerun.stdout.strip().splitlines()[-1])
    assert 0 < summary["resumed_from"] <= killed_at and summary["resumed_from"] % 4 == 0
    assert _curve(killed) == _curve(full)  # exact float equality, every step
