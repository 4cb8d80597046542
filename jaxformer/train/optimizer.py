"""AdamW with linear warmup + cosine decay and global-norm clipping (REFERENCE "Training").

Weight decay applies to matmul weights only by default: biases, LayerNorm parameters and the token
embedding are excluded (GPT-style practice; decaying embeddings shrinks rare tokens' vectors).
"""
from __future__ import annotations

import jax
import optax

from jaxformer.train.config import OptimConfig


def schedule(cfg: OptimConfig, total_steps: int) -> optax.Schedule:
    decay_steps = cfg.decay_steps or total_steps
    warmup = min(cfg.warmup_steps, decay_steps)
    return optax.warmup_cosine_decay_schedule(
        init_value=0.0, peak_value=cfg.lr, warmup_steps=warmup,
        decay_steps=max(decay_steps, warmup + 1), end_value=cfg.lr * cfg.end_lr_ratio)


def param_kind(name: str) -> str:
    """'embedding' | 'norm' | 'bias' | 'weight' from a model.py parameter name."""
    if name == "wte":
        return "embedding"
    if name.startswith("ln_"):
        return "norm"
    if name.endswith("_bias"):
        return "bias"
    return "weight"


def decay_mask(cfg: OptimConfig, params):
    """Tree of bools: True where weight decay applies."""
    allowed = {"weight": True, "embedding": cfg.decay_embeddings, "norm": cfg.decay_norms, "bias": cfg.decay_biases}
    return jax.tree_util.tree_map_with_path(lambda path, _: allowed[param_kind(str(path[-1].key))], params)


def make(cfg: OptimConfig, params, total_steps: int) -> optax.GradientTransformation:
    """Clip -> AdamW(schedule); `params` (or their shapes) only fixes the decay mask's structure."""
    parts = [optax.clip_by_global_norm(cfg.clip_norm)] if cfg.clip_norm > 0 else []
    parts.append(optax.adamw(schedule(cfg, total_steps), b1=cfg.b1, b2=cfg.b2, eps=cfg.eps,
                             weight_decay=cfg.weight_decay, mask=decay_mask(cfg, params)))
    return optax.chain(*parts)
