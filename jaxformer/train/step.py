"""The loss and the jitted train step.

    loss_sums(graphdef, params, batch) -> (sum of masked token NLL, number of loss tokens)
    loss_fn(graphdef, params, batch)   -> mean NLL over loss tokens
    make_train_step(...)               -> jitted (state, batch) -> (state, metrics), state donated

The loss is token-weighted: every loss token in the global batch counts once, however rows and
micro-batches split them. Gradient accumulation sums per-micro-batch gradients of the *summed* loss in
fp32 and divides by the total token count once, so it equals one big batch (up to fp rounding order).
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import optax

from jaxformer import model

F32 = jnp.float32


def loss_sums(graphdef, params, batch):
    tokens_BxT = batch["tokens"]
    B, T = tokens_BxT.shape
    positions_BxT = jnp.broadcast_to(jnp.arange(T, dtype=jnp.int32), (B, T))  # packed rows: positions from 0
    # the head is fused with the loss: no [B, T, V] logits (V = 51200 dominates small models)
    nll_BxT, _, _ = model.apply_nll(graphdef, params, tokens_BxT, positions_BxT, jnp.ones((B, T), bool), batch["targets"])
    mask_BxT = batch["loss_mask"].astype(bool)
    # where, not multiply: a masked position contributes exactly zero loss and zero gradient
    return jnp.where(mask_BxT, nll_BxT, 0.0).sum(), mask_BxT.sum().astype(F32)


def loss_fn(graphdef, params, batch):
    total, count = loss_sums(graphdef, params, batch)
    return total / jnp.maximum(count, 1.0)


def grads_and_loss(graphdef, params, batch, grad_accum: int, batch_sharding=None):
    """(mean-loss grads in fp32, mean loss, token count) over `grad_accum` micro-batches of `batch`."""
    grad_sums = jax.value_and_grad(lambda p, b: loss_sums(graphdef, p, b), has_aux=True)

    def split(x):  # micro-batch i takes rows i, i+A, i+2A, ...: each device keeps its own rows
        x = x.reshape(x.shape[0] // grad_accum, grad_accum, *x.shape[1:]).swapaxes(0, 1)
        if batch_sharding is not None:
            x = jax.lax.with_sharding_constraint(x, batch_sharding)
        return x

    def micro(carry, mb):
        g_acc, loss_acc, count_acc = carry
        (loss, count), g = grad_sums(params, mb)
        g_acc = jax.tree.map(lambda a, b: a + b.astype(F32), g_acc, g)
        return (g_acc, loss_acc + loss, count_acc + count), None

    zeros = jax.tree.map(lambda p: jnp.zeros(p.shape, F32), params)
    if grad_accum == 1:
        (loss, count), g = grad_sums(params, batch)
        g_sum = jax.tree.map(lambda x: x.astype(F32), g)
    else:
        micro_batches = jax.tree.map(split, batch)
        (g_sum, loss, count), _ = jax.lax.scan(micro, (zeros, jnp.zeros((), F32), jnp.zeros((), F32)),
                                               micro_batches)
    denom = jnp.maximum(count, 1.0)
    return jax.tree.map(lambda g: g / denom, g_sum), loss / denom, count


def train_step(graphdef, tx: optax.GradientTransformation, grad_accum: int, state, batch,
               schedule=None, micro_sharding=None):
    grads, loss, count = grads_and_loss(graphdef, state["params"], batch, grad_accum, micro_sharding)
    grads = jax.tree.map(lambda g, p: g.astype(p.dtype), grads, state["params"])
    updates, opt = tx.update(grads, state["opt"], state["params"])
    params = optax.apply_updates(state["params"], updates)
    metrics = {"loss": loss, "grad_norm": optax.tree.norm(grads), "tokens": count}
    if schedule is not None:
        metrics["lr"] = schedule(state["step"])
    return {"params": params, "opt": opt, "step": state["step"] + 1}, metrics


def make_train_step(graphdef, tx, grad_accum: int, state_shardings, batch_sharding, micro_sharding=None,
                    schedule=None):
    """jit with explicit in/out shardings; the old state is donated (params + Adam moments updated in place)."""
    def step(state, batch):
        return train_step(graphdef, tx, grad_accum, state, batch, schedule, micro_sharding)

    replicated = jax.sharding.NamedSharding(batch_sharding.mesh, jax.sharding.PartitionSpec())
    return jax.jit(step, in_shardings=(state_shardings, batch_sharding),
                   out_shardings=(state_shardings, replicated), donate_argnums=0)


def make_eval_step(graphdef, params_shardings, batch_sharding):
    """jitted (params, batch) -> (sum NLL, token count), for token-weighted held-out loss."""
    replicated = jax.sharding.NamedSharding(batch_sharding.mesh, jax.sharding.PartitionSpec())
    return jax.jit(lambda p, b: loss_sums(graphdef, p, b), in_shardings=(params_shardings, batch_sharding),
                   out_shardings=(replicated, replicated))
