"""Device side of sampling: next-token math (temperature, top-k, exact top-p without a full sort,
per-row keys) and the jitted prefill / chunked decode loop over a preallocated, donated KV cache.

The host driver (stop strings, bucketing, batching) is jaxformer/sampling.py.

Every row draws from its own key, fold_in(fold_in(PRNGKey(seed), row_id), step), and samples by inverse
CDF with one uniform per step over the tokens sorted by probability. The draw therefore depends only on
(seed, row_id, step, the row's logits), never on which other rows share the batch.

Top-p without sorting 51,200 logits every step (REFERENCE.md: the full sort dominated the naive sampler):
take lax.top_k with a small cap (TOP_P_CAP); if, for every row, the cap's probability mass already
reaches top_p, the nucleus lies inside the cap and the result is exact. Otherwise (flat distributions,
e.g. high temperature or an untrained model) the step falls back to the full sort under lax.cond, so the
answer is always the exact nucleus. benchmarks/sampling_throughput.py reports how often the fallback ran.

Log-probs returned with each token are under the model's own distribution (log_softmax of the raw
logits, temperature 1, no filtering): what Codex ranks samples by and what perplexity uses.
"""
from __future__ import annotations

import collections
import dataclasses
import functools

import jax
import jax.numpy as jnp

from jaxformer import model

TOP_P_CAP = 64  # candidates tried before falling back to a full sort


@dataclasses.dataclass(frozen=True)
class SamplingParams:
    """temperature 0 means greedy; top_p 1.0 and top_k 0 disable those filters."""
    temperature: float = 0.0
    top_p: float = 1.0
    top_k: int = 0

    def __post_init__(self):
        for name in ("temperature", "top_p"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or v != v:
                raise ValueError(f"{name} must be a number, got {v!r}")
        if self.temperature < 0:
            raise ValueError(f"temperature must be >= 0 (0 = greedy), got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")
        if isinstance(self.top_k, bool) or not isinstance(self.top_k, int) or self.top_k < 0:
            raise ValueError(f"top_k must be an int >= 0 (0 = off), got {self.top_k!r}")

    @property
    def greedy(self) -> bool:
        return self.temperature == 0


def row_keys(seed: int, row_ids) -> jax.Array:
    """One PRNG key per row: fold_in(PRNGKey(seed), row_id). uint32 [B, 2]."""
    base = jax.random.PRNGKey(seed)
    return jax.vmap(lambda r: jax.random.fold_in(base, r))(jnp.asarray(row_ids, jnp.uint32))


def step_uniforms(keys_Bx2: jax.Array, step) -> jax.Array:
    """The uniform each row uses at generation step `step` (float32 [B])."""
    return jax.vmap(lambda k: jax.random.uniform(jax.random.fold_in(k, step)))(keys_Bx2)


def _pick_sorted(vals_BxK, idx_BxK, lse_Bx1, u_B, top_p):
    """Inverse-CDF draw from the nucleus of candidates sorted by descending logit.

    A candidate is kept while the mass strictly before it is < top_p (the smallest prefix holding
    >= top_p, as in HF's TopPLogitsWarper); then token = first kept j with cumulative mass > u * kept mass.
    """
    p_BxK = jnp.exp(vals_BxK - lse_Bx1)
    cum_BxK = jnp.cumsum(p_BxK, axis=-1)
    keep_BxK = (cum_BxK - p_BxK) < top_p
    kept_cum_BxK = jnp.cumsum(jnp.where(keep_BxK, p_BxK, 0.0), axis=-1)
    target_B = u_B * kept_cum_BxK[:, -1]
    j_B = jnp.sum((kept_cum_BxK <= target_B[:, None]) & keep_BxK, axis=-1)
    j_B = jnp.minimum(j_B, jnp.sum(keep_BxK, axis=-1) - 1)  # u*mass rounding: stay inside the nucleus
    return jnp.take_along_axis(idx_BxK, j_B[:, None], axis=-1)[:, 0]


def sample_tokens(logits_BxV: jax.Array, u_B: jax.Array, params: SamplingParams,
                  cap: int = TOP_P_CAP) -> tuple[jax.Array, jax.Array, jax.Array]:
    """(tokens int32 [B], their log-probs under the raw model [B], whether the full sort ran (bool)).

    `params` is static (jit recompiles per SamplingParams); u_B are the rows' uniforms for this step.
    """
    logits_BxV = logits_BxV.astype(jnp.float32)
    V = logits_BxV.shape[-1]
    logprobs_BxV = jax.nn.log_softmax(logits_BxV, axis=-1)
    fell_back = jnp.zeros((), bool)
    if params.greedy:
        tok_B = jnp.argmax(logits_BxV, axis=-1).astype(jnp.int32)
    else:
        scaled_BxV = logits_BxV / params.temperature
        if params.top_k:  # HF order: temperature, top-k, then top-p renormalised within the top k
            vals, idx = jax.lax.top_k(scaled_BxV, min(params.top_k, V))
            lse = jax.nn.logsumexp(vals, axis=-1, keepdims=True)
            tok_B = _pick_sorted(vals, idx, lse, u_B, params.top_p)
        elif params.top_p >= 1.0:  # plain categorical: inverse CDF in vocabulary order, no sort needed
            probs_BxV = jax.nn.softmax(scaled_BxV, axis=-1)
            cum_BxV = jnp.cumsum(probs_BxV, axis=-1)
            tok_B = jnp.minimum(jnp.sum(cum_BxV <= (u_B * cum_BxV[:, -1])[:, None], axis=-1), V - 1)
        else:
            lse = jax.nn.logsumexp(scaled_BxV, axis=-1, keepdims=True)
            k = min(cap, V)
            vals, idx = jax.lax.top_k(scaled_BxV, k)
            covered = jnp.all(jnp.sum(jnp.exp(vals - lse), axis=-1) >= params.top_p)
            fell_back = ~covered if k < V else fell_back

            def full(_):
                v_all, i_all = jax.lax.top_k(scaled_BxV, V)
                return _pick_sorted(v_all, i_all, lse, u_B, params.top_p)

            tok_B = jax.lax.cond(covered, lambda _: _pick_sorted(vals, idx, lse, u_B, params.top_p), full, None)
        tok_B = tok_B.astype(jnp.int32)
    lp_B = jnp.take_along_axis(logprobs_BxV, tok_B[:, None], axis=-1)[:, 0]
    return tok_B, lp_B, fell_back


# ---------------------------------------------------------------------------------------------
# decode state and jitted loop

RUNNING, EOS, STOP_SEQUENCE, LENGTH, INACTIVE = 0, 1, 2, 3, 4  # per-row stop reason codes
REASONS = {EOS: "eos", STOP_SEQUENCE: "stop_sequence", LENGTH: "length"}
TRACES: collections.Counter = collections.Counter()  # how often each jitted function was traced (= compiled)


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class DecodeState:
    cache: model.KVCache
    token: jax.Array  # [B] int32 last sampled token, not yet written to the cache
    pos: jax.Array  # [B] int32 its position
    done: jax.Array  # [B] bool
    reason: jax.Array  # [B] int32 (RUNNING, EOS, ...)
    n_gen: jax.Array  # [B] int32 tokens generated so far
    out_tok: jax.Array  # [B, N] int32
    out_lp: jax.Array  # [B, N] float32 raw-model log-prob of each generated token
    keys: jax.Array  # [B, 2] uint32 per-row base keys
    step: jax.Array  # int32: generation step of the next token (all rows advance together)
    max_new: jax.Array  # int32
    stop_ids: jax.Array  # [NS] int32 token ids that end a row (EOS); -1 = unused
    fallbacks: jax.Array  # int32: top-p steps that needed the full sort


def start(logits_BxV, cache, pos_B, active_B, keys_Bx2, max_new, stop_ids, n_out: int,
          params: SamplingParams) -> DecodeState:
    """Sample step 0 from the logits after each row's context; inactive rows are done from the start."""
    tok_B, lp_B, fb = sample_tokens(logits_BxV, step_uniforms(keys_Bx2, 0), params)
    B = tok_B.shape[0]
    is_stop = jnp.isin(tok_B, stop_ids) & active_B
    at_len = max_new <= 1
    done = ~active_B | is_stop | at_len
    reason = jnp.where(~active_B, INACTIVE, jnp.where(is_stop, EOS, jnp.where(at_len, LENGTH, RUNNING)))
    zeros = jnp.zeros((B, n_out), jnp.int32)
    return DecodeState(
        cache=cache, token=tok_B, pos=pos_B, done=done, reason=reason.astype(jnp.int32),
        n_gen=active_B.astype(jnp.int32), out_tok=zeros.at[:, 0].set(tok_B),
        out_lp=jnp.zeros((B, n_out), jnp.float32).at[:, 0].set(lp_B), keys=keys_Bx2,
        step=jnp.ones((), jnp.int32), max_new=jnp.asarray(max_new, jnp.int32),
        stop_ids=stop_ids, fallbacks=fb.astype(jnp.int32))


def decode_step(graphdef, params, st: DecodeState, sp: SamplingParams) -> DecodeState:
    """Feed each running row's pending token, sample the next; done rows write a masked hole."""
    active = ~st.done
    logits, cache = model.apply(graphdef, params, st.token[:, None], st.pos[:, None], active[:, None], st.cache)
    tok, lp, fb = sample_tokens(logits[:, 0], step_uniforms(st.keys, st.step), sp)
    col = jnp.minimum(st.step, st.out_tok.shape[1] - 1)
    out_tok = jax.lax.dynamic_update_slice(st.out_tok, jnp.where(active, tok, 0)[:, None], (0, col))
    out_lp = jax.lax.dynamic_update_slice(st.out_lp, jnp.where(active, lp, 0.0)[:, None], (0, col))
    is_stop = jnp.isin(tok, st.stop_ids) & active
    step = st.step + 1
    at_len = active & ~is_stop & (step >= st.max_new)
    reason = jnp.where(is_stop, EOS, jnp.where(at_len, LENGTH, st.reason))
    return dataclasses.replace(
        st, cache=cache, token=jnp.where(active, tok, st.token), pos=st.pos + active,
        done=st.done | is_stop | at_len, reason=reason, n_gen=st.n_gen + active, out_tok=out_tok,
        out_lp=out_lp, step=step, fallbacks=st.fallbacks + fb)


@functools.partial(jax.jit, static_argnums=(0, 3, 4), donate_argnums=(2,))
def decode_chunk(graphdef, params, st: DecodeState, sp: SamplingParams, n_steps: int) -> DecodeState:
    """Up to n_steps decode steps; returns early once every row is done (the host then checks stops)."""
    TRACES["decode_chunk"] += 1

    def cond(carry):
        i, s = carry
        return (i < n_steps) & ~jnp.all(s.done)

    def body(carry):
        i, s = carry
        return i + 1, decode_step(graphdef, params, s, sp)

    return jax.lax.while_loop(cond, body, (jnp.zeros((), jnp.int32), st))[1]


@functools.partial(jax.jit, static_argnums=(0, 6, 7), donate_argnums=(2,))
def prefill_start(graphdef, params, cache, tokens_BxP, lengths_B, keys_Bx2, n_out: int, sp: SamplingParams,
                  max_new, stop_ids) -> DecodeState:
    """Left-padded batched prefill into an empty cache (slots [0, P)), then sample step 0.

    The prompt minus its last token goes in first with its logits unused (XLA drops that lm_head
    matmul, a [B, P, vocab] tensor); the last token alone then gives the next-token logits.
    Rows with length 0 are batch padding: inactive, done from the start.
    """
    TRACES["prefill_start"] += 1
    B, P = tokens_BxP.shape
    pad_B = P - lengths_B
    slot = jnp.arange(P)[None, :]
    mask = slot >= pad_B[:, None]
    positions = jnp.maximum(slot - pad_B[:, None], 0)
    if P > 1:
        _, cache = model.apply(graphdef, params, tokens_BxP[:, :-1], positions[:, :-1], mask[:, :-1], cache)
    logits, cache = model.apply(graphdef, params, tokens_BxP[:, -1:], positions[:, -1:], mask[:, -1:], cache)
    active = lengths_B > 0
    return start(logits[:, 0], cache, lengths_B, active, keys_Bx2, max_new, stop_ids, n_out, sp)


@functools.partial(jax.jit, donate_argnums=(0,))
def take_rows(st: DecodeState, rows):
    """Keep only `rows` (compaction: finished rows stop costing compute). k, v have batch on axis 1."""
    TRACES["take_rows"] += 1
    cache = st.cache
    cache = model.KVCache(k=cache.k[:, rows], v=cache.v[:, rows], kv_mask=cache.kv_mask[rows], index=cache.index)
    batch = {f.name: getattr(st, f.name)[rows] for f in dataclasses.fields(st)
             if f.name in ("token", "pos", "done", "reason", "n_gen", "out_tok", "out_lp", "keys")}
    return dataclasses.replace(st, cache=cache, **batch)


# ---------------------------------------------------------------------------------------------
# data-parallel sharding: the batch is split over a 1-D "data" mesh, parameters are replicated

def data_mesh(devices=None) -> jax.sharding.Mesh:
    import numpy as np

    devices = jax.devices() if devices is None else devices
    return jax.sharding.Mesh(np.asarray(devices), ("data",))


def shard_rows(tree, mesh: jax.sharding.Mesh | None):
    """Place a DecodeState / KVCache / batch array with its batch axis split over the mesh."""
    if mesh is None:
        return tree
    P = jax.sharding.PartitionSpec

    def place(path, x):
        name = getattr(path[-1], "name", None) if path else None
        if x.ndim == 0 or name == "stop_ids":
            spec = P()
        elif name in ("k", "v"):  # [L, B, S, H, Dh]
            spec = P(None, "data")
        else:
            spec = P("data")
        return jax.device_put(x, jax.sharding.NamedSharding(mesh, spec))

    return jax.tree_util.tree_map_with_path(place, tree)


def replicate(tree, mesh: jax.sharding.Mesh | None):
    if mesh is None:
        return tree
    return jax.device_put(tree, jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec()))
