"""Multi-host: two local processes (4 CPU devices each, gloo collectives, jax.distributed on 127.0.0.1)
train a few steps and match a single process with 8 devices (this pytest process, while they run)."""
import json
import os
import pathlib
import socket
import subprocess
import sys

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
COMMON = ["--config", str(ROOT / "configs" / "tiny-cpu.yaml"), "run.steps=3", "run.log_every=1",
          "data.seq_len=32", "run.progress=false", "run.peak_flops=1e9", "run.eval_every=0",
          "mesh.data=2", "mesh.fsdp=2", "mesh.tensor=2", "model.dtype=float32"]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _losses(out_dir):
    rows = [json.loads(line) for line in (out_dir / "metrics.jsonl").read_text().splitlines()]
    return [(r["loss"], r["grad_norm"]) for r in rows]


def test_two_processes_match_one_process(tmp_path):
    train = [sys.executable, "-m", "jaxformer.cli", "train"]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    # devices come from local_device_count; no shared compilation cache (nothing to share between them)
    multi_env = {k: v for k, v in env.items() if k not in ("XLA_FLAGS", "JAX_COMPILATION_CACHE_DIR")}
    multi_env["XLA_FLAGS"] = " ".join(f for f in env.get("XLA_FLAGS", "").split()
                                      if not f.startswith("--xla_force_host_platform_device_count"))
    port = _free_port()
    workers = [subprocess.Popen(train + COMMON + [
        f"run.out_dir={tmp_path / 'multi'}", f"distributed.coordinator_address=127.0.0.1:{port}",
        "distributed.num_processes=2", f"distributed.process_id={i}", "distributed.local_device_count=4",
        "run.export_hf=true"],
        cwd=ROOT, env=multi_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(2)]
    from jaxformer.train import config as config_lib, loop

    # the single-process reference runs here, with conftest's 8 devices, while the two workers train
    try:
        single = loop.train(config_lib.load(COMMON[1], COMMON[2:] + [f"run.out_dir={tmp_path / 'single'}"]))
    except BaseException:
        for proc in workers:
            proc.kill()
        raise
    summaries = [single]
    for proc in workers:
        out, err = proc.communicate(timeout=400)
        assert proc.returncode == 0, err[-3000:]
        summaries.append(json.loads(out.strip().splitlines()[-1]))
    assert [s["step"] for s in summaries] == [3, 3, 3]
    single_losses, multi_losses = _losses(tmp_path / "single"), _losses(tmp_path / "multi")
    assert len(multi_losses) == 3 and multi_losses[0] != multi_losses[2]
    np.testing.assert_allclose(multi_losses, single_losses, rtol=1e-5)
    assert (tmp_path / "multi" / "checkpoints" / "3").is_dir()  # both processes wrote their shards
    from jaxformer import hf

    cfg, _, params, _ = hf.load_model(tmp_path / "multi" / "hf")  # gathered across processes, then exported
    assert cfg.n_layer == 2 and params["h"]["qkv_proj"][...].shape == (2, 64, 192)
