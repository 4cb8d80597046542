"""Checkpoints: exact in-process resume, corrupt-checkpoint fallback, restore onto another mesh, staged init."""
import json

import jax
import numpy as np
import pytest

from jaxformer.train import checkpoint, config as config_lib, loop, state as state_lib

TINY = ["model.vocab_size=256", "model.bos_token_id=0", "model.eos_token_id=0", "data.seq_len=32",
        "run.global_batch=8", "optim.warmup_steps=2", "optim.lr=1e-2", "run.log_every=1", "run.progress=false",
        "run.checkpoint_every=2", "run.keep_checkpoints=5", "run.peak_flops=1e9"]


def _cfg(out_dir, *overrides):
    return config_lib.load(None, TINY + [f"run.out_dir={out_dir}"] + list(overrides))


def _losses(out_dir):
    rows = [json.loads(line) for line in (out_dir / "metrics.jsonl").read_text().splitlines()]
    return {r["step"]: (r["loss"], r["grad_norm"]) for r in rows if "loss" in r}


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    out = tmp_path_factory.mktemp("full")
    loop.train(_cfg(out, "run.steps=6", "mesh.data=2"), devices=jax.devices()[:2])
    return out


def test_corrupt_latest_checkpoint_is_skipped_and_resume_is_exact(tmp_path, uninterrupted):
    loop.train(_cfg(tmp_path, "run.steps=4", "mesh.data=2"), devices=jax.devices()[:2])
    assert sorted(int(p.name) for p in (tmp_path / "checkpoints").iterdir() if p.name.isdigit()) == [2, 4]
    for f in (tmp_path / "checkpoints" / "4" / "params").rglob("*"):  # lose the newest step's arrays
        if f.is_file() and f.name != "_CHECKPOINT_METADATA":
            f.write_bytes(b"")
    with pytest.warns(UserWarning, match="step 4 .* incomplete or corrupt"):
        summary = loop.train(_cfg(tmp_path, "run.steps=6", "mesh.data=2"), devices=jax.devices()[:2])
    assert summary["resumed_from"] == 2
    assert (tmp_path / "corrupt_checkpoints" / "4").is_dir()
    assert _losses(tmp_path) == _losses(uninterrupted)  # bit-identical loss and grad-norm curve


def test_restore_onto_a_different_mesh(uninterrupted):
    ref = None
    for mesh, n in (("mesh.data=1", 1), ("mesh.fsdp=2 mesh.tensor=4", 8), ("mesh.data=1 mesh.tensor=4", 4)):
        cfg = _cfg(uninterrupted, "run.steps=6", *mesh.split())
        setup = state_lib.build(cfg, devices=jax.devices()[:n])
        mngr = checkpoint.manager(uninterrupted / "checkpoints", read_only=True)
        state, meta = checkpoint.restore_latest(mngr, setup.abstract_state)
        assert meta["step"] == 6 and meta["data"]["next_step"] == 6 and meta["config"]["run"]["steps"] == 6
        qkv = state["params"]["h"]["qkv_proj"]
        assert qkv.sharding == setup.state_shardings["params"]["h"]["qkv_proj"]
        values = jax.device_get(state)
        if ref is None:
            ref = values
        else:
            jax.tree.map(np.testing.assert_array_equal, values, ref)


def test_checkpoint_of_another_model_is_an_error_not_a_fallback(uninterrupted):
    cfg = _cfg(uninterrupted, "run.steps=8", "mesh.data=1", "model.n_embd=128")
    with pytest.raises(ValueError, match="model.n_embd differs"):
        loop.train(cfg, devices=jax.devices()[:1])


def test_staged_training_starts_from_previous_params_with_fresh_optimizer(tmp_path, uninterrupted):
    # stage 2 with new data (another seed, longer rows); lr 0 at step 0 (warmup) keeps params unchanged
    cfg = _cfg(tmp_path, "run.steps=1", "mesh.data=1", f"run.init_from={uninterrupted}", "run.seed=7",
               "data.seq_len=64", "optim.warmup_steps=10", "run.export_hf=true")
    summary = loop.train(cfg, devices=jax.devices()[:1])
    assert summary["resumed_from"] == 0 and summary["lr"] == 0.0
    setup = state_lib.build(cfg, devices=jax.devices()[:1])
    new, meta = checkpoint.restore_latest(checkpoint.manager(tmp_path / "checkpoints", read_only=True),
                                          setup.abstract_state)
    old, _ = checkpoint.restore_latest(checkpoint.manager(uninterrupted / "checkpoints", read_only=True),
                                       setup.abstract_state)
    assert meta["step"] == 1 and meta["config"]["data"]["seq_len"] == 64
    jax.tree.map(np.testing.assert_array_equal, jax.device_get(new["params"]), jax.device_get(old["params"]))
    assert int(jax.device_get(new["opt"][1][0].count)) == 1  # the optimizer restarted
    from flax import nnx
    from jaxformer import hf

    hf_cfg, _, exported, _ = hf.load_model(tmp_path / "hf")  # export_hf wrote a loadable HF directory
    assert hf_cfg == cfg.model
    jax.tree.map(np.testing.assert_array_equal, nnx.to_pure_dict(exported), jax.device_get(new["params"]))
