"""Train config: YAML presets load, overrides coerce, bad configs fail before compiling and name the key."""
import pathlib

import jax
import pytest

from jaxformer.train import config as config_lib, loop, mesh as mesh_lib, optimizer

ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("path", sorted((ROOT / "configs").glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_config_loads_and_round_trips(path):
    cfg = config_lib.load(path)
    again = config_lib.from_dict(__import__("yaml").safe_load(cfg.to_yaml()))
    assert again == cfg


def test_overrides_are_typed():
    cfg = config_lib.load(None, ["optim.lr=3e-4", "run.steps=7", "model.dtype=bfloat16", "run.init_from=null",
                                 "mesh.tensor=2", "optim.decay_embeddings=true", "model.preset=codegen-350M"])
    assert cfg.optim.lr == 3e-4 and cfg.run.steps == 7 and cfg.model.dtype == "bfloat16"
    assert cfg.optim.decay_embeddings is True and cfg.model.n_layer == 20


@pytest.mark.parametrize("override, key", [
    ("optim.lrr=1", "optim.lrr"), ("model.nlayer=2", "model.nlayer"), ("foo.bar=1", "'foo'"),
    ("run.steps=1.5", "run.steps"), ("optim.lr=fast", "optim.lr"), ("mesh.fsdp=0", "mesh.fsdp"),
    ("data.kind=prepared", "data.path"), ("run.grad_accum=3", "run.grad_accum"), ("run.steps", "run.steps"),
    ("data.seq_len=4096", "data.seq_len"), ("distributed.num_processes=2", "distributed.coordinator_address"),
])
def test_bad_values_name_the_key(override, key):
    with pytest.raises(ValueError) as err:
        config_lib.load(None, [override])
    assert key in str(err.value)


def test_unknown_yaml_key_names_file_and_key(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("run:\n  steps: 3\n  stpes: 4\n")
    with pytest.raises(ValueError, match=r"bad.yaml: unknown key run.stpes"):
        config_lib.load(path)


@pytest.mark.parametrize("overrides, key", [
    (["mesh.fsdp=3"], "mesh.fsdp=3"),
    (["mesh.data=2", "mesh.fsdp=2"], "mesh.data=2"),
    (["run.global_batch=4", "mesh.data=8"], "run.global_batch=4"),
    (["run.global_batch=16", "run.grad_accum=4", "mesh.data=8"], "run.grad_accum"),
])
def test_mesh_and_batch_errors_come_before_any_compile(monkeypatch, tmp_path, overrides, key):
    def no_compile(*a, **k):
        raise AssertionError("jax.jit was reached before the config error")
    monkeypatch.setattr(jax, "jit", no_compile)
    cfg = config_lib.load(ROOT / "configs" / "tiny-cpu.yaml", [f"run.out_dir={tmp_path}"] + overrides)
    with pytest.raises(ValueError) as err:
        loop.train(cfg, devices=jax.devices())
    assert key in str(err.value)


def test_sharding_rules_reject_collisions_and_print():
    rules = mesh_lib.ShardingRules(embed=("tensor",))  # qkv_proj is (embed, heads): both on "tensor"
    with pytest.raises(ValueError, match=r"h.qkv_proj.*'embed' and 'heads'.*'tensor'"):
        mesh_lib.param_specs({"h": {"qkv_proj": jax.sharding.PartitionSpec("layers", "embed", "heads")}},
                             rules, {"data": 1, "fsdp": 1, "tensor": 2})
    with pytest.raises(ValueError, match="not a mesh axis"):
        mesh_lib.ShardingRules(mlp=("model",))
    text = str(mesh_lib.ShardingRules())
    assert "embed   -> fsdp" in text and "batch   -> data, fsdp" in text and "layers  -> replicated" in text


def test_weight_decay_mask_skips_biases_norms_and_embeddings():
    params = {"wte": 0, "ln_f_scale": 0, "lm_head_kernel": 0, "lm_head_bias": 0,
              "h": {"ln_1_bias": 0, "qkv_proj": 0, "fc_in_bias": 0, "fc_out_kernel": 0}}
    mask = optimizer.decay_mask(config_lib.OptimConfig(), params)
    assert mask == {"wte": False, "ln_f_scale": False, "lm_head_kernel": True, "lm_head_bias": False,
                    "h": {"ln_1_bias": False, "qkv_proj": True, "fc_in_bias": False, "fc_out_kernel": True}}
    assert optimizer.decay_mask(config_lib.OptimConfig(decay_embeddings=True), params)["wte"] is True


def test_schedule_is_linear_warmup_then_cosine_to_floor():
    sched = optimizer.schedule(config_lib.OptimConfig(lr=1.0, warmup_steps=10, end_lr_ratio=0.1), total_steps=110)
    assert float(sched(0)) == 0.0 and abs(float(sched(5)) - 0.5) < 1e-6 and abs(float(sched(10)) - 1.0) < 1e-6
    assert abs(float(sched(60)) - 0.55) < 1e-6 and abs(float(sched(110)) - 0.1) < 1e-6


def test_prepared_data_trains_and_evaluates_on_the_val_split(tmp_path):
    from jaxformer.data.prepare import PrepareConfig, prepare

    src = tmp_path / "src"
    src.mkdir()
    for i in range(12):
        (src / f"m{i}.py").write_text(f"def f{i}(x):\n    return x * {i} + {i * i}\n" * 20)
    prepare(PrepareConfig(sources=(str(src),), out=str(tmp_path / "data"), seq_len=32, val_fraction=0.3))
    base = [f"run.out_dir={tmp_path / 'run'}", "data.kind=prepared", f"data.path={tmp_path / 'data'}",
            "data.seq_len=32", "run.steps=2", "run.eval_every=2", "run.eval_batches=1", "run.progress=false",
            "mesh.data=1", "run.peak_flops=1e9"]
    with pytest.raises(ValueError, match="model.vocab_size 256"):  # codegen tokens do not fit: caught before compiling
        loop.train(config_lib.load(ROOT / "configs" / "tiny-cpu.yaml", base), devices=jax.devices()[:1])
    cfg = config_lib.load(None, base)  # the default "tiny" preset has the full 51200 vocabulary
    summary = loop.train(cfg, devices=jax.devices()[:1])
    assert summary["step"] == 2 and summary["eval_tokens"] == 8 * 32 and 8 < summary["eval_loss"] < 12
