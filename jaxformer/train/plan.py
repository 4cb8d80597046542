"""Capacity planning: per-device memory, FLOPs per step and expected step time for a mesh layout.

FLOP convention (PaLM appendix B, *not* causal-halved, since the model computes the full T x T scores
and masks them):  train FLOPs/token = 6 * N_matmul + 12 * n_layer * seq * d_model, where N_matmul is
every parameter except the wte lookup table (lm_head is a real matmul and counts). Remat re-runs the
forward (hardware FLOPs 8N instead of 6N); MFU uses model FLOPs, so it is unchanged by remat.

Activation memory is an estimate of what the backward pass keeps per token and layer (residual and
LayerNorm in f32, matmul inputs also in the compute dtype, f32 attention scores + probs, no sequence
parallelism); XLA fusion usually keeps less. With remat only each layer's f32 input is kept, plus one
layer's activations while it is recomputed.
"""
from __future__ import annotations

import dataclasses
import math

from jaxformer.config import ModelConfig, param_count

GIB = 1024 ** 3


@dataclasses.dataclass(frozen=True)
class Plan:
    model_params: int
    devices: int
    mesh: dict
    tokens_per_step: int
    micro_batch_per_device: int  # sequences per device per micro-batch
    param_bytes: int  # per device
    grad_bytes: int  # per device (f32 accumulator)
    opt_bytes: int  # per device (Adam mu + nu, f32)
    act_bytes: int  # per device, no remat
    act_bytes_remat: int  # per device, per-layer remat
    gather_bytes: int  # fsdp: one layer's weights all-gathered in the compute dtype (transient)
    flops_per_token: float
    flops_per_step: float
    step_time_s: float | None  # at peak_flops x mfu per device
    peak_flops: float | None
    mfu: float | None

    def total_bytes(self, remat: bool) -> int:
        return (self.param_bytes + self.grad_bytes + self.opt_bytes + self.gather_bytes
                + (self.act_bytes_remat if remat else self.act_bytes))


def flops_per_token(cfg: ModelConfig, seq_len: int) -> float:
    n_matmul = param_count(cfg) - cfg.vocab_size * cfg.n_embd
    return 6.0 * n_matmul + 12.0 * cfg.n_layer * seq_len * cfg.n_embd


def activation_bytes_per_token(cfg: ModelConfig, seq_len: int, tensor: int) -> tuple[float, float]:
    """(bytes kept per token per layer, bytes for the f32 logits + log-probs per token)."""
    c = 2 if cfg.dtype == "bfloat16" else 4
    D, F, H, t = cfg.n_embd, cfg.mlp_dim, cfg.n_head, tensor
    layer = (4 * D  # residual input
             + (4 + c) * D  # LayerNorm output, f32 and compute-dtype copy
             + (4 * 3 * D + 4 * 2 * D + c * 3 * D) / t  # qkv out, rotated q/k, q/k/v casts
             + (8 + c) * H * seq_len / t  # f32 scores + probs, probs cast
             + (4 + c) * D / t  # attention output before out_proj
             + (8 + c) * F / t)  # fc_in out, gelu out, cast
    return layer, 8.0 * cfg.vocab_size / t


def _shard_elems(shape, spec, mesh: dict) -> int:
    n = 1
    for dim, entry in zip(shape, tuple(spec) + (None,) * (len(shape) - len(spec))):
        axes = () if entry is None else (entry,) if isinstance(entry, str) else entry
        n *= math.ceil(dim / math.prod(mesh[a] for a in axes))
    return n


def make_plan(cfg: ModelConfig, mesh: dict[str, int], global_batch: int, seq_len: int, grad_accum: int = 1,
              peak_flops: float | None = None, mfu: float | None = None, rules=None) -> Plan:
    """mesh: {"data": .., "fsdp": .., "tensor": ..}; errors name the offending argument."""
    import jax
    from jaxformer.train import mesh as mesh_lib, state as state_lib

    for axis in mesh_lib.MESH_AXES:
        if not isinstance(mesh.get(axis), int) or mesh[axis] < 1:
            raise ValueError(f"mesh.{axis} must be a positive int, got {mesh.get(axis)!r}")
    batch_ways = mesh["data"] * mesh["fsdp"]
    if global_batch % (batch_ways * grad_accum):
        raise ValueError(f"batch={global_batch} must be divisible by data x fsdp ({batch_ways}) x grad_accum ({grad_accum})")
    if seq_len > cfg.n_positions:
        raise ValueError(f"seq={seq_len} exceeds the model's n_positions={cfg.n_positions}")
    rules = rules or mesh_lib.ShardingRules()
    _, abstract, logical = state_lib.abstract_model(cfg)
    shapes = jax.tree.map(lambda a: a.shape, abstract)
    specs = mesh_lib.param_specs(logical, rules, mesh, shapes)
    is_spec = lambda x: isinstance(x, jax.sharding.PartitionSpec)  # noqa: E731
    elems = sum(jax.tree.leaves(jax.tree.map(lambda s, p: _shard_elems(s, p, mesh), shapes, specs,
                                             is_leaf=lambda x: isinstance(x, tuple) and not is_spec(x))))
    pbytes = 2 if cfg.param_dtype == "bfloat16" else 4
    micro = global_batch // batch_ways // grad_accum
    layer, logits = activation_bytes_per_token(cfg, seq_len, mesh["tensor"])
    tokens = micro * seq_len
    act = cfg.n_layer * layer * tokens + logits * tokens
    act_remat = cfg.n_layer * 4 * cfg.n_embd * tokens + layer * tokens + logits * tokens
    layer_params = (param_count(cfg) - 2 * cfg.vocab_size * cfg.n_embd - cfg.vocab_size - 2 * cfg.n_embd) / cfg.n_layer
    gather = layer_params / mesh["tensor"] * (2 if cfg.dtype == "bfloat16" else 4) if mesh["fsdp"] > 1 else 0
    fpt = flops_per_token(cfg, seq_len)
    flops = fpt * global_batch * seq_len
    devices = math.prod(mesh.values())
    step_time = flops / (devices * peak_flops * mfu) if peak_flops and mfu else None
    return Plan(model_params=param_count(cfg), devices=devices, mesh=dict(mesh), tokens_per_step=global_batch * seq_len,
                micro_batch_per_device=micro, param_bytes=elems * pbytes, grad_bytes=elems * 4, opt_bytes=elems * 8,
                act_bytes=int(act), act_bytes_remat=int(act_remat), gather_bytes=int(gather), flops_per_token=fpt, flops_per_step=flops,
                step_time_s=step_time, peak_flops=peak_flops, mfu=mfu)


def format_plan(p: Plan, name: str = "", hbm_bytes: float | None = None) -> str:
    g = lambda b: f"{b / GIB:8.2f} GiB"  # noqa: E731
    mesh = " x ".join(f"{k}={v}" for k, v in p.mesh.items())
    lines = [f"model {name} ({p.model_params / 1e9:.3f}B params) on {p.devices} devices, mesh {mesh}",
             f"tokens/step {p.tokens_per_step:,} (micro-batch {p.micro_batch_per_device} seq/device)",
             "per-device memory:",
             f"  params (f32)            {g(p.param_bytes)}",
             f"  grads (f32)             {g(p.grad_bytes)}",
             f"  optimizer (Adam mu+nu)  {g(p.opt_bytes)}",
             f"  fsdp layer gather       {g(p.gather_bytes)}",
             f"  activations, no remat   {g(p.act_bytes)}   -> total {g(p.total_bytes(False))}",
             f"  activations, remat      {g(p.act_bytes_remat)}   -> total {g(p.total_bytes(True))}"]
    if hbm_bytes:
        lines.append(f"  fits in {hbm_bytes / GIB:.0f} GiB HBM: no remat {p.total_bytes(False) <= hbm_bytes}, "
                     f"remat {p.total_bytes(True) <= hbm_bytes}")
    lines += [f"FLOPs/token {p.flops_per_token:.4g} (6*N_matmul + 12*L*T*D, not causal-halved)",
              f"FLOPs/step  {p.flops_per_step:.4g}"]
    if p.step_time_s is not None:
        lines.append(f"expected step time {p.step_time_s:.3f} s at {p.peak_flops / 1e12:.0f} TFLOP/s/device x "
                     f"MFU {p.mfu:.0%} ({p.tokens_per_step / p.step_time_s:,.0f} tokens/s)")
    return "\n".join(lines)
