"""Device side of sampling: next-token math (temperature, top-k, exact top-p without sorting the
vocabulary, per-row keys) and the jitted prefill / chunked decode loop over a preallocated, donated
KV cache. The host driver (stop strings, bucketing, batching) is jaxformer/sampling.py.

Every row draws from its own key, fold_in(fold_in(PRNGKey(seed), row_id), step): a row's tokens depend
only on (seed, row_id, its own logits), never on which other rows share the batch.

Exact top-p by rejection, O(vocab) per draw, no sort. On XLA:CPU a [16, 51200] sort costs ~1 s and even
lax.top_k(64) costs ~10x a softmax (measured, benchmarks/sampling_throughput.py), so instead:
draw i ~ p over the whole vocabulary (inverse CDF in vocabulary order, one uniform), and accept iff i is
in the nucleus, i.e. the mass of tokens strictly more likely than i is < top_p (a single pass).
Accepted draws are distributed exactly as p restricted to the nucleus and renormalised, which is what
HF's TopPLogitsWarper samples (tokens tied at the boundary are all kept here). Acceptance is >= top_p
per trial, so ~1/top_p trials; after MAX_TRIALS misses (probability (1 - top_p)^MAX_TRIALS) the row
takes the most likely token, which is always in the nucleus.

top-k (rarely used; HF order: temperature, top-k, then top-p renormalised within the top k) uses
lax.top_k and a small sorted cumsum. Log-probs returned with each token are under the model's own
distribution (log_softmax of the raw logits, temperature 1, no filtering): what Codex ranks samples by.
"""
from __future__ import annotations

import collections
import dataclasses
import functools

import jax
import jax.numpy as jnp

from jaxformer import model

MAX_TRIALS = 32
BLOCK = 128  # vocabulary block for the two-level inverse CDF (a cumsum over 51200 is slow on XLA:CPU)


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


def step_uniforms(keys_Bx2: jax.Array, step, trial=0) -> jax.Array:
    """The uniform in [0, 1) each row uses at generation `step`, rejection `trial` (float32 [B])."""
    return jax.vmap(lambda k: jax.random.uniform(jax.random.fold_in(jax.random.fold_in(k, step), trial)))(keys_Bx2)


def inverse_cdf(w_BxV: jax.Array, u_B: jax.Array) -> jax.Array:
    """First index whose cumulative weight (vocabulary order) exceeds u * total; only w > 0 is chosen.

    Two levels (block sums, then a cumsum inside the chosen block) instead of a full-width cumsum.
    """
    B, V = w_BxV.shape
    nb = -(-V // BLOCK)
    w = jnp.pad(w_BxV, ((0, 0), (0, nb * BLOCK - V))).reshape(B, nb, BLOCK)
    block_cum = jnp.cumsum(jnp.sum(w, axis=-1), axis=-1)  # [B, nb]
    target = u_B * block_cum[:, -1]
    last_block = jnp.max(jnp.where(block_cum < block_cum[:, -1:], jnp.arange(nb) + 1, 0), axis=-1)  # last nonzero
    j = jnp.minimum(jnp.sum(block_cum <= target[:, None], axis=-1), last_block)
    before = jnp.where(j > 0, jnp.take_along_axis(block_cum, jnp.maximum(j - 1, 0)[:, None], axis=-1)[:, 0], 0.0)
    inner = jnp.take_along_axis(w, j[:, None, None], axis=1)[:, 0]  # [B, BLOCK]
    inner_cum = jnp.cumsum(inner, axis=-1)
    last_inner = jnp.max(jnp.where(inner > 0, jnp.arange(BLOCK), 0), axis=-1)
    i = jnp.minimum(jnp.sum(inner_cum <= (target - before)[:, None], axis=-1), last_inner)
    return (j * BLOCK + i).astype(jnp.int32)


def in_nucleus(w_BxV: jax.Array, tok_B: jax.Array, top_p: float, total_B: jax.Array | None = None) -> jax.Array:
    """Whether each row's token is in its top-p nucleus: weight strictly above it < top_p * total.
    Weights need not be normalised; pass their row sums as total_B when already known."""
    w_tok = jnp.take_along_axis(w_BxV, tok_B[:, None], axis=-1)
    above = jnp.sum(jnp.where(w_BxV > w_tok, w_BxV, 0.0), axis=-1)
    total_B = jnp.sum(w_BxV, axis=-1) if total_B is None else total_B
    return above < top_p * total_B


def first_argmax(x_BxV: jax.Array) -> jax.Array:
    """jnp.argmax over the last axis (first index of the maximum) as two plain reductions: XLA:CPU's
    variadic (value, index) reduce behind argmax is ~5x slower at [20, 51200]."""
    V = x_BxV.shape[-1]
    top = jnp.max(x_BxV, axis=-1, keepdims=True)
    return jnp.min(jnp.where(x_BxV == top, jnp.arange(V, dtype=jnp.int32), V), axis=-1).astype(jnp.int32)


def top_p_sample(w_BxV: jax.Array, keys_Bx2: jax.Array, step, top_p: float) -> jax.Array:
    """Exact nucleus sampling by rejection (see module docstring); w: non-negative, unnormalised weights."""
    if top_p >= 1.0:
        return inverse_cdf(w_BxV, step_uniforms(keys_Bx2, step))
    B = w_BxV.shape[0]
    total_B = jnp.sum(w_BxV, axis=-1)

    def cond(c):
        trial, _, ok = c
        return (trial < MAX_TRIALS) & ~jnp.all(ok)

    def body(c):
        trial, tok, ok = c
        cand = inverse_cdf(w_BxV, step_uniforms(keys_Bx2, step, trial))
        take = ~ok & in_nucleus(w_BxV, cand, top_p, total_B)
        return trial + 1, jnp.where(take, cand, tok), ok | take

    init = (jnp.zeros((), jnp.int32), jnp.zeros((B,), jnp.int32), jnp.zeros((B,), bool))
    _, tok, ok = jax.lax.while_loop(cond, body, init)
    # rows that missed MAX_TRIALS times take the most likely token (rare: skip the pass when none did)
    return jax.lax.cond(jnp.all(ok), lambda: tok, lambda: jnp.where(ok, tok, first_argmax(w_BxV)))


def top_k_sample(scaled_BxV: jax.Array, keys_Bx2: jax.Array, step, top_k: int, top_p: float) -> jax.Array:
    vals, idx = jax.lax.top_k(scaled_BxV, min(top_k, scaled_BxV.shape[-1]))  # sorted, descending
    p = jax.nn.softmax(vals, axis=-1)
    keep = (jnp.cumsum(p, axis=-1) - p) < top_p
    j = inverse_cdf(jnp.where(keep, p, 0.0), step_uniforms(keys_Bx2, step))
    return jnp.take_along_axis(idx, j[:, None], axis=-1)[:, 0]


def sample_tokens(logits_BxV: jax.Array, keys_Bx2: jax.Array, step, params: "SamplingParams"):
    """(tokens int32 [B], their log-probs under the raw model float32 [B]). `params` is static."""
    logits_BxV = logits_BxV.astype(jnp.float32)
    max_Bx1 = jnp.max(logits_BxV, axis=-1, keepdims=True)
    if params.greedy:
        tok = first_argmax(logits_BxV)
    elif params.top_k:
        tok = top_k_sample(logits_BxV / params.temperature, keys_Bx2, step, params.top_k, params.top_p)
    else:  # unnormalised softmax weights (the largest is 1): the samplers only need ratios
        tok = top_p_sample(jnp.exp((logits_BxV - max_Bx1) / params.temperature), keys_Bx2, step, params.top_p)
    lse = max_Bx1[:, 0] + jnp.log(jnp.sum(jnp.exp(logits_BxV - max_Bx1), axis=-1))
    lp = jnp.take_along_axis(logits_BxV, tok[:, None], axis=-1)[:, 0] - lse
    return tok.astype(jnp.int32), lp


# ---------------------------------------------------------------------------------------------
# decode state and jitted loop

RUNNING, EOS, STOP_SEQUENCE, LENGTH, INACTIVE = 0, 1, 2, 3, 4  # per-row stop reason codes
REASONS = {EOS: "eos", STOP_SEQUENCE: "stop_sequence", LENGTH: "length"}
TRACES: collections.Counter = collections.Counter()  # how often each jitted function was traced (= compiled)


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class DecodeState:
    cache: model.KVCache  # per_layer() form
    token: jax.Array  # [B] int32 last sampled token, not yet written to the cache
    pos: jax.Array  # [B] int32 its position
    done: jax.Array  # [B] bool
    reason: jax.Array  # [B] int32 (RUNNING, EOS, ...)
    n_gen: jax.Array  # [B] int32 tokens generated so far
    out_tok: jax.Array  # [B, R] int32: token i in column i % R (a ring; the host reads it after every chunk)
    out_lp: jax.Array  # [B, R] float32 raw-model log-prob of each generated token, likewise
    keys: jax.Array  # [B, 2] uint32 per-row base keys
    step: jax.Array  # int32: generation step of the next token (all rows advance together)
    max_new: jax.Array  # int32
    stop_ids: jax.Array  # [NS] int32 token ids that end a row (EOS); may be empty


def start(logits_BxV, cache, pos_B, active_B, keys_Bx2, max_new, stop_ids, n_out: int,
          params: SamplingParams) -> DecodeState:
    """Sample step 0 from the logits after each row's context; inactive rows are done from the start.
    n_out: the ring of generated tokens, at least the decode chunk (see DecodeState.out_tok)."""
    return DecodeState(cache=model.per_layer(cache), **_first_step(logits_BxV, pos_B, active_B, keys_Bx2, max_new,
                                                                   stop_ids, n_out, params))


def _first_step(logits_BxV, pos_B, active_B, keys_Bx2, max_new, stop_ids, n_out: int, params: SamplingParams):
    """Every DecodeState field but the cache, after sampling step 0."""
    tok_B, lp_B = sample_tokens(logits_BxV, keys_Bx2, 0, params)
    B = tok_B.shape[0]
    is_stop = jnp.isin(tok_B, stop_ids) & active_B
    at_len = max_new <= 1
    done = ~active_B | is_stop | at_len
    reason = jnp.where(~active_B, INACTIVE, jnp.where(is_stop, EOS, jnp.where(at_len, LENGTH, RUNNING)))
    zeros = jnp.zeros((B, n_out), jnp.int32)
    return dict(
        token=tok_B, pos=pos_B, done=done, reason=reason.astype(jnp.int32),
        n_gen=active_B.astype(jnp.int32), out_tok=zeros.at[:, 0].set(tok_B),
        out_lp=jnp.zeros((B, n_out), jnp.float32).at[:, 0].set(lp_B), keys=keys_Bx2,
        step=jnp.ones((), jnp.int32), max_new=jnp.asarray(max_new, jnp.int32),
        stop_ids=stop_ids)


def decode_step(weights: model.LayerWeights, st: DecodeState, sp: SamplingParams) -> DecodeState:
    """Feed each running row's pending token, sample the next; done rows write a masked hole."""
    active = ~st.done
    logits, cache = model.apply_unstacked(weights, st.token[:, None], st.pos[:, None], active[:, None],
                                          st.cache)
    tok, lp = sample_tokens(logits[:, 0], st.keys, st.step, sp)
    col = st.step % st.out_tok.shape[1]
    out_tok = jax.lax.dynamic_update_slice(st.out_tok, jnp.where(active, tok, 0)[:, None], (0, col))
    out_lp = jax.lax.dynamic_update_slice(st.out_lp, jnp.where(active, lp, 0.0)[:, None], (0, col))
    is_stop = jnp.isin(tok, st.stop_ids) & active
    step = st.step + 1
    at_len = active & ~is_stop & (step >= st.max_new)
    reason = jnp.where(is_stop, EOS, jnp.where(at_len, LENGTH, st.reason))
    return dataclasses.replace(
        st, cache=cache, token=jnp.where(active, tok, st.token), pos=st.pos + active,
        done=st.done | is_stop | at_len, reason=reason, n_gen=st.n_gen + active, out_tok=out_tok,
        out_lp=out_lp, step=step)


# The decode loop reads every layer's weights each step. Indexing the stacked [L, ...] arrays inside a
# while loop makes XLA:CPU copy each layer's slice on every step (~1/3 of a 125M step), and casting f32
# weights to a bf16 compute dtype per chunk cost ~9 ms per 125M step; so the per-layer, cast weights
# are made once per batch (one extra copy of the weights in the compute dtype while sampling).
@functools.partial(jax.jit, static_argnums=0)
def decode_weights(graphdef, params) -> model.LayerWeights:
    TRACES["decode_weights"] += 1
    return model.unstack(graphdef, params)


@functools.partial(jax.jit, static_argnums=(2, 3), donate_argnums=(1,))
def decode_chunk(weights: model.LayerWeights, st: DecodeState, sp: SamplingParams, n_steps: int) -> DecodeState:
    """Up to n_steps decode steps; returns early once every row is done (the host then checks stops)."""
    TRACES["decode_chunk"] += 1

    def cond(carry):
        i, s = carry
        return (i < n_steps) & ~jnp.all(s.done)

    def body(carry):
        i, s = carry
        return i + 1, decode_step(weights, s, sp)

    return jax.lax.while_loop(cond, body, (jnp.zeros((), jnp.int32), st))[1]


@functools.partial(jax.jit, static_argnums=1)
def grow_slots(st: DecodeState, size: int) -> DecodeState:
    """The state with its (per_layer) cache padded to `size` slots, the new ones empty and masked out."""
    TRACES["grow_slots"] += 1
    c = st.cache
    extra = size - c.kv_mask.shape[1]
    pad = lambda a: jnp.pad(a, ((0, 0), (0, 0), (0, extra), (0, 0)))  # [B, H, S, Dh]
    cache = model.KVCache(k=tuple(map(pad, c.k)), v=tuple(map(pad, c.v)),
                          kv_mask=jnp.pad(c.kv_mask, ((0, 0), (0, extra))), index=c.index)
    return dataclasses.replace(st, cache=cache)


# no donation: the state holds the cache per_layer(), so the stacked buffers could not be reused
@functools.partial(jax.jit, static_argnums=(0, 6, 7))
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


@jax.jit
def mark_stopped(done_B, reason_B, stopped_B):
    """Rows the host stopped (a stop string, a length limit, early truncation) are done, reason
    STOP_SEQUENCE. A [B] mask, not a scatter at a list of rows: one compiled shape per batch size."""
    return done_B | stopped_B, jnp.where(stopped_B, STOP_SEQUENCE, reason_B)


@jax.jit  # no donation: the result is smaller, so the old buffers could not be reused
def take_rows(st: DecodeState, rows):
    """Keep only `rows` (compaction: finished rows stop costing compute); the cache is per_layer()."""
    TRACES["take_rows"] += 1
    cache = st.cache
    cache = model.KVCache(k=tuple(a[rows] for a in cache.k), v=tuple(a[rows] for a in cache.v),
                          kv_mask=cache.kv_mask[rows], index=cache.index)
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
        elif name in ("k", "v"):  # [L, B, H, S, Dh]
            spec = P(None, "data")
        else:
            spec = P("data")
        return jax.device_put(x, jax.sharding.NamedSharding(mesh, spec))

    return jax.tree_util.tree_map_with_path(place, tree)


def replicate(tree, mesh: jax.sharding.Mesh | None):
    if mesh is None:
        return tree
    return jax.device_put(tree, jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec()))


# sample step 0 from logits the caller already has (the multi-turn session keeps its rows' last logits)
_first_step_jit = jax.jit(_first_step, static_argnums=(6, 7))


def resume(logits_BxV, cache, pos_B, active_B, keys_Bx2, max_new, stop_ids, n_out: int,
           params: SamplingParams) -> DecodeState:
    """start() for a cache that already holds the rows' context (e.g. per_layer() already): the jitted
    part does not see the cache, so it compiles once per batch size, whatever the cache's length."""
    return DecodeState(cache=model.per_layer(cache), **_first_step_jit(logits_BxV, pos_B, active_B, keys_Bx2,
                                                                       max_new, stop_ids, n_out, params))
