"""Capacity plan: numbers follow from the stated conventions; the CLI validates its input."""
import pytest

from jaxformer.cli import main
from jaxformer.config import param_count, preset
from jaxformer.train import plan


def test_flops_convention_6n_plus_attention():
    cfg = preset("codegen-350M")
    n = param_count(cfg) - cfg.vocab_size * cfg.n_embd
    assert plan.flops_per_token(cfg, 2048) == 6 * n + 12 * 20 * 2048 * 1024


def test_memory_scales_with_the_mesh():
    cfg = preset("codegen-350M")
    one = plan.make_plan(cfg, {"data": 1, "fsdp": 1, "tensor": 1}, 8, 2048)
    assert one.param_bytes == 4 * param_count(cfg) and one.opt_bytes == 2 * one.param_bytes
    sharded = plan.make_plan(cfg, {"data": 1, "fsdp": 4, "tensor": 2}, 8, 2048)
    assert sharded.param_bytes < one.param_bytes / 7.5  # LayerNorm/bias vectors are only fsdp-split
    assert sharded.act_bytes < one.act_bytes / 4  # fewer rows per device, tensor-split attention
    assert one.act_bytes_remat < one.act_bytes / 5
    timed = plan.make_plan(cfg, {"data": 8, "fsdp": 1, "tensor": 1}, 8, 2048, peak_flops=1e12, mfu=0.5)
    assert timed.step_time_s == pytest.approx(timed.flops_per_step / (8 * 1e12 * 0.5))


def test_cli_prints_plan_and_rejects_bad_mesh(capsys):
    assert main(["plan", "--preset", "codegen-16B", "--mesh", "data=16,fsdp=16,tensor=1", "--batch", "512",
                 "--seq", "2048", "--peak-flops", "275e12", "--mfu", "0.5", "--hbm-gib", "32"]) == 0
    out = capsys.readouterr().out
    assert "16.032B params" in out and "optimizer (Adam mu+nu)" in out and "expected step time" in out
    assert main(["plan", "--preset", "codegen-16B", "--mesh", "data=3", "--batch", "512"]) == 2
    assert "batch=512" in capsys.readouterr().err
    assert main(["plan", "--preset", "codegen-16B", "--mesh", "model=2", "--batch", "512"]) == 2
