"""The sampler: batched prefill, then a jitted decode loop run K steps per call (jaxformer/decoding.py).

    completions = generate(cfg, graphdef, params, tokenizer, prompts, max_new_tokens=128,
                           sampling=SamplingParams(temperature=0.2, top_p=0.95), seed=0,
                           stops=CODEX_STOPS)

- Ragged prompts are left-padded. Shapes are bucketed (batch, prompt length and new-token buffer to
  powers of two), so a whole benchmark compiles a handful of programs; `decoding.TRACES` counts them.
- EOS / stop token ids end a row inside the loop. String stops are checked on the host between chunks,
  decoding only each row's new tokens. When at most half the rows still run, the batch is compacted to
  the next smaller bucket, so finished rows stop costing compute.
- Row r draws from fold_in(PRNGKey(seed), row_ids[r]): a row's sample does not depend on its batch.
- `mesh` (decoding.data_mesh()) splits the batch over devices; results equal the single-device run.
"""
from __future__ import annotations

import dataclasses
import warnings
from typing import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from jaxformer import decoding, model
from jaxformer.decoding import SamplingParams  # noqa: F401  (public: part of this module's API)
from jaxformer.truncation import StopScanner, check_stops

MIN_PROMPT_BUCKET = 16
MIN_NEW_BUCKET = 16


@dataclasses.dataclass(frozen=True)
class Completion:
    """One sampled row. token_ids/logprobs cover `text` (a stop token such as EOS, and tokens past a
    stop string, are excluded); num_generated counts every token the model produced."""
    text: str
    token_ids: tuple[int, ...]
    logprobs: tuple[float, ...]
    stop_reason: str  # "eos" | "stop_sequence" | "length" | "truncated" (HostRow.stop_when) | "inactive"
    num_generated: int

    @property
    def sum_logprob(self) -> float:
        return float(sum(self.logprobs))

    @property
    def mean_logprob(self) -> float:
        return self.sum_logprob / len(self.logprobs) if self.logprobs else float("nan")


def pow2_bucket(n: int, lo: int, multiple: int = 1) -> int:
    """Smallest lo * 2^k >= n, rounded up to a multiple of `multiple` (device count)."""
    b = lo
    while b < n:
        b *= 2
    return -(-b // multiple) * multiple


def encode_prompts(tokenizer, prompts, cfg, max_new_tokens: int, truncate: str = "error") -> list[list[int]]:
    """Token ids per prompt, validated against the context: empty prompts and prompt + max_new_tokens
    beyond cfg.n_positions are errors; truncate="left" instead keeps the prompt's end, with a warning."""
    if truncate not in ("error", "left"):
        raise ValueError(f"truncate must be 'error' or 'left', got {truncate!r}")
    if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, int) or max_new_tokens < 1:
        raise ValueError(f"max_new_tokens must be a positive int, got {max_new_tokens!r}")
    if max_new_tokens >= cfg.n_positions:
        raise ValueError(f"max_new_tokens={max_new_tokens} leaves no room for a prompt in the "
                         f"{cfg.n_positions}-token context")
    room = cfg.n_positions - max_new_tokens
    out = []
    for i, p in enumerate(prompts):
        if isinstance(p, str):
            if tokenizer is None:
                raise ValueError("text prompts need a tokenizer (this model was loaded without one)")
            ids = list(tokenizer.encode(p))
        else:
            ids = [int(t) for t in p]
        if not ids:
            raise ValueError(f"prompt {i} is empty")
        if any(not 0 <= t < cfg.vocab_size for t in ids):
            raise ValueError(f"prompt {i} has token ids outside [0, {cfg.vocab_size})")
        if len(ids) > room:
            if truncate == "error":
                raise ValueError(f"prompt {i} has {len(ids)} tokens; with max_new_tokens={max_new_tokens} "
                                 f"it overflows the {cfg.n_positions}-token context (allow truncate='left')")
            warnings.warn(f"prompt {i}: dropped its first {len(ids) - room} tokens to fit the context")
            ids = ids[-room:]
        out.append(ids)
    return out


class HostRow:
    """Host-side record of one row: tokens so far, text decoded so far, stop scan state."""

    def __init__(self, stops, stop_ids, limit: int | None = None, stop_when=None):
        self.limit = limit  # this row's own token budget (rows of one batch may differ), or None
        self.stop_when = stop_when  # host predicate on the text so far: True ends the row ("truncated")
        self.toks: list[int] = []
        self.lps: list[float] = []
        self.text = ""
        self.decoded = 0  # tokens already turned into text
        self.scanner = StopScanner(stops)
        self.stop_ids = stop_ids
        self.reason: str | None = None
        self.cut = -1  # index of the stop string in text

    def add(self, toks, lps, tokenizer, final: bool) -> bool:
        """Append new tokens; decode only those; return True if a stop string appeared."""
        if self.limit is not None and len(self.toks) + len(toks) >= self.limit:
            toks, lps, final = toks[:self.limit - len(self.toks)], lps[:self.limit - len(self.toks)], True
        self.toks += toks
        self.lps += lps
        if tokenizer is None:
            return False
        end = len(self.toks) - (1 if self.toks and self.toks[-1] in self.stop_ids else 0)
        piece = tokenizer.decode(self.toks[self.decoded:end], skip_special_tokens=False)
        # a token can end inside a UTF-8 character: wait for the rest unless the row is over
        if piece and (final or not piece.endswith("\ufffd")):
            self.text += piece
            self.decoded = end
        self.cut = self.scanner.feed(self.text)
        return self.cut >= 0

    def completion(self, tokenizer) -> Completion:
        toks, lps = self.toks, self.lps
        keep = len(toks) - (1 if toks and toks[-1] in self.stop_ids else 0)
        text = self.text
        if self.reason == "stop_sequence":
            text = text[: self.cut]
            keep = covering_prefix(tokenizer, toks[:keep], len(text))
        return Completion(text=text, token_ids=tuple(toks[:keep]), logprobs=tuple(lps[:keep]),
                          stop_reason=self.reason, num_generated=len(toks))


def covering_prefix(tokenizer, toks: Sequence[int], n_chars: int) -> int:
    """Fewest leading tokens whose text has >= n_chars characters (binary search over decodes)."""
    lo, hi = 0, len(toks)
    while lo < hi:
        mid = (lo + hi) // 2
        if len(tokenizer.decode(toks[:mid], skip_special_tokens=False)) >= n_chars:
            hi = mid
        else:
            lo = mid + 1
    return lo


def generate(cfg, graphdef, params, tokenizer, prompts: Sequence, *, max_new_tokens: int,
             sampling: SamplingParams = SamplingParams(), seed: int = 0, row_ids: Sequence[int] | None = None,
             stops: Sequence[str] = (), stop_token_ids: Sequence[int] | None = None, batch_size: int = 16,
             chunk_steps: int = 16, mesh=None, truncate: str = "error") -> list[Completion]:
    """Sample one completion per prompt (text or token ids); results in input order.

    row_ids (default 0..n-1) seed each row's key, e.g. pass sample indices when a prompt repeats.
    """
    stops = check_stops(stops)
    if stops and tokenizer is None:
        raise ValueError("stop strings need a tokenizer to decode completions")
    if batch_size < 1 or chunk_steps < 1:
        raise ValueError(f"batch_size and chunk_steps must be >= 1, got {batch_size}, {chunk_steps}")
    ids = encode_prompts(tokenizer, prompts, cfg, max_new_tokens, truncate)
    row_ids = list(range(len(ids))) if row_ids is None else [int(r) for r in row_ids]
    if len(row_ids) != len(ids):
        raise ValueError(f"row_ids has {len(row_ids)} entries for {len(ids)} prompts")
    stop_ids = tuple(sorted({cfg.eos_token_id} if stop_token_ids is None else set(stop_token_ids)))
    params = decoding.replicate(params, mesh)
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))  # similar lengths share a batch
    results: list[Completion | None] = [None] * len(ids)
    weights = decoding.decode_weights(graphdef, params)  # once for every batch of this call
    for start in range(0, len(order), batch_size):
        group = order[start:start + batch_size]
        rows = _run_batch(cfg, graphdef, params, tokenizer, [ids[i] for i in group], [row_ids[i] for i in group],
                          max_new_tokens, sampling, seed, stops, stop_ids, chunk_steps, mesh, weights)
        for i, row in zip(group, rows):
            results[i] = row.completion(tokenizer)
    return results


def _run_batch(cfg, graphdef, params, tokenizer, ids, row_ids, max_new, sp, seed, stops, stop_ids, chunk, mesh,
               weights):
    ndev = 1 if mesh is None else mesh.size
    B = pow2_bucket(len(ids), 1, ndev)
    P = pow2_bucket(max(len(t) for t in ids), MIN_PROMPT_BUCKET)
    N = pow2_bucket(max_new, MIN_NEW_BUCKET)
    tokens = np.full((B, P), cfg.eos_token_id, np.int32)
    lengths = np.zeros(B, np.int32)
    for r, t in enumerate(ids):
        tokens[r, P - len(t):] = t
        lengths[r] = len(t)
    keys = decoding.row_keys(seed, row_ids + [0] * (B - len(ids)))
    cache = decoding.shard_rows(model.init_cache(cfg, B, P + N), mesh)
    st = decoding.prefill_start(graphdef, params, cache, *decoding.shard_rows(
        (jnp.asarray(tokens), jnp.asarray(lengths), keys), mesh), chunk, sp, jnp.int32(max_new),
        jnp.asarray(stop_ids, jnp.int32))
    host = [HostRow(stops, stop_ids) for _ in ids]
    return drive(graphdef, params, st, host, tokenizer, sp, chunk, mesh, compact=True, weights=weights)[1]


def drive(graphdef, params, st, host: list, tokenizer, sp, chunk: int, mesh=None, compact: bool = True,
          weights=None, on_finish=None, min_batch: int = 1, slot_bucket: int | None = None,
          max_slots: int | None = None):
    """Run decode chunks until every row in `host` is finished; returns (state, host rows).

    Device rows beyond len(host) are batch padding. With compact=True, whenever the running rows fit
    a smaller batch bucket (at least min_batch: fewer compiled shapes) the state is cut down to
    them (the returned state's rows are then permuted). on_finish(st, device_rows, host_rows), if given,
    sees every host row exactly once, in the last state that holds it: before compaction drops it, or
    at the end (the multi-turn session copies the rows' generated keys and values out there).
    With slot_bucket, the cache may start short of index + max_new slots: before a chunk that could
    write past its end it is grown to the next pow2_bucket(., slot_bucket), at most max_slots (most rows
    stop early, and a decode step reads every slot).
    """
    ndev = 1 if mesh is None else mesh.size
    B = st.token.shape[0]
    if weights is None:  # per-layer, compute dtype: once per call, not per step (callers may keep them)
        weights = decoding.decode_weights(graphdef, params)
    slots = np.arange(B)  # device row -> index into host (>= len(host): batch padding)
    last_slot = int(st.cache.index) + int(st.max_new) if slot_bucket else None  # never written at or after
    while True:
        st = _check(st, slots, host, tokenizer)
        running = [s for s, r in enumerate(slots) if r < len(host) and host[r].reason is None]
        if not running:
            if on_finish is not None:
                real = [s for s in range(B) if slots[s] < len(host)]
                on_finish(st, real, [int(slots[s]) for s in real])
            return st, host
        smaller = pow2_bucket(len(running), min(min_batch, B), ndev)
        if compact and smaller < B:  # finished rows stop costing compute
            taken = set(running)
            fill = [s for s in range(B) if s not in taken][: smaller - len(running)]
            keep = np.asarray(running + fill, np.int32)
            if on_finish is not None:
                gone = [s for s in range(B) if s not in set(keep.tolist()) and slots[s] < len(host)]
                if gone:
                    on_finish(st, gone, [int(slots[s]) for s in gone])
            st = decoding.take_rows(st, jnp.asarray(keep))
            slots, B = slots[keep], smaller
        if slot_bucket is not None:
            need = min(int(st.cache.index) + chunk, last_slot)
            if need > st.cache.kv_mask.shape[1]:
                size = pow2_bucket(need, slot_bucket)
                st = decoding.grow_slots(st, size if max_slots is None else max(min(size, max_slots), need))
        st = decoding.shard_rows(st, mesh)
        st = decoding.decode_chunk(weights, st, sp, chunk)


def _check(st, slots, host, tokenizer):
    """Pull new tokens, decode them, look for stop strings; rows stopped here are marked done."""
    out_tok, out_lp, n_gen, done, reason = jax.device_get(
        (st.out_tok, st.out_lp, st.n_gen, st.done, st.reason))
    ring = out_tok.shape[1]
    stopped = []
    for s, r in enumerate(slots):
        if r >= len(host) or host[r].reason is not None:
            continue
        row = host[r]
        n0, n1 = len(row.toks), int(n_gen[s])
        if n1 - n0 > ring:
            raise RuntimeError(f"{n1 - n0} new tokens overran the {ring}-token output ring (chunk too long)")
        cols = np.arange(n0, n1) % ring
        if row.add(out_tok[s, cols].tolist(), out_lp[s, cols].tolist(), tokenizer, final=bool(done[s])):
            row.reason = "stop_sequence"
            stopped.append(s)
        elif row.limit is not None and len(row.toks) >= row.limit:
            row.reason = "length"
            stopped.append(s)
        elif done[s]:
            if int(reason[s]) not in decoding.REASONS:
                raise RuntimeError(f"row finished with unknown stop reason code {int(reason[s])}")
            row.reason = decoding.REASONS[int(reason[s])]
        elif row.stop_when is not None and row.stop_when(row.text):
            row.reason = "truncated"  # the caller's truncation can no longer change: stop early
            stopped.append(s)
    if stopped and not all(done[stopped]):
        mask = np.zeros(len(done), bool)
        mask[stopped] = True
        done_B, reason_B = decoding.mark_stopped(st.done, st.reason, mask)
        st = dataclasses.replace(st, done=done_B, reason=reason_B)
    return st


def load(spec: str, **config_changes):
    """(cfg, graphdef, params, tokenizer) for a model directory (HF format, via jaxformer.hf), a registry
    name (an embedded model such as "tiny-python", or "codegen-350M-mono": see checkpoints.registry), or
    "random:<preset>", a randomly initialised preset (seed 0) with the codegen tokenizer."""
    if spec.startswith("random:"):
        from flax import nnx

        from jaxformer import config, tokenizer

        cfg = config.preset(spec.removeprefix("random:")).replace(**config_changes)
        graphdef, params = nnx.split(model.CodeGen(cfg, rngs=nnx.Rngs(0)))
        return cfg, graphdef, params, tokenizer.load("codegen")
    from checkpoints import registry
    from jaxformer import hf

    loaded = hf.load_model(registry.resolve(spec), **config_changes)
    entry = registry.registry_entry(spec)
    if entry is not None:
        registry.check_architecture(entry, loaded[0])
    return loaded
