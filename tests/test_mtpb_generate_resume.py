"""mtpb generate killed with SIGKILL mid-run, then rerun: the final file equals an uninterrupted run's."""
import os
import signal
import subprocess
import sys
import time

import mtpb_tiny_model
from mtpb.generate import generate

SCRIPT = """
import sys
from mtpb.generate import generate
generate(sys.argv[1], "multi", sys.argv[2], problems_path=sys.argv[3], batch_size=2, temperature=0.8)
"""


def test_sigkill_then_rerun_gives_the_uninterrupted_file(shared_data, tmp_path):
    mtpb_tiny_model.make_model_dir(tmp_path / "model")
    problems = mtpb_tiny_model.small_problems(shared_data, tmp_path / "mtpb.jsonl", max_gen_length=8, turns=2)
    model = str(tmp_path / "model")
    whole, killed = tmp_path / "whole.jsonl", tmp_path / "killed.jsonl"
    generate(model, "multi", whole, problems_path=problems, batch_size=2, temperature=0.8)

    partial = killed.with_name(killed.name + ".partial")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, model, str(killed), str(problems)], env=env)
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and proc.poll() is None:
            if partial.exists() and partial.read_text().count("\n") >= 2:  # header + some rows
                break
            time.sleep(0.02)
        assert proc.poll() is None, "the run ended before it could be killed"
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
    rows_before = partial.read_text().count("\n") - 1
    assert 0 < rows_before < 10 and not killed.exists()
    stats = generate(model, "multi", killed, problems_path=problems, batch_size=2, temperature=0.8)
    assert stats["rows_generated_now"] == 10 - rows_before
    assert killed.read_bytes() == whole.read_bytes() and not partial.exists()
