"""Multi-turn sampling session (MTPB): B rows, each a growing program, sharing one KV cache.

    s = Session(cfg, graphdef, params, tokenizer, batch=20, seed=0)
    lps = s.append(["# Import libraries.\n\nimport numpy as np\n\n# step 1\n", ...])  # log-probs per row
    outs = s.generate(128, SamplingParams(0.2, 0.95), truncate=mtpb_truncate)        # continues each row

append() teacher-forces each row's new text (rows may differ in length: the shorter ones leave masked
holes in the cache) and returns the log-probs of the appended tokens (per-turn prompt perplexity).
generate() samples a completion per row. Decoding runs on a packed copy of the active rows' cache,
sized to the longest of them plus one chunk and grown as rows run on, and drops rows as they finish
(a decode step reads every slot of every row it holds). The keys and values of each row's kept tokens, but the last, are copied back into the
session's cache; that last token and any characters the kept text ends inside a token with are
"pending", teacher-forced together with the next append. When the cache fills up, valid slots are
packed to the front (keys are stored after rotary, so moving slots does not change attention); with
initial_len the cache starts small and doubles only when packing is not enough.

Tokenization vs the reference: the reference (mtpb_sample.py) re-encodes the whole history string each
turn, so BPE may merge across a turn boundary (e.g. a completion ending in ")" followed by "\n\n#" can
tokenize as ")\n\n" + "#"), while the incremental session encodes each appended piece on its own and
keeps sampled tokens as sampled. Same text, possibly different token sequence, hence slightly different
log-probs and samples. reencode=True reproduces the reference exactly: every turn re-encodes the full
history and recomputes its cache from scratch (O(history) per turn instead of O(new text)).
"""
from __future__ import annotations

import dataclasses
import functools
from typing import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from jaxformer import decoding, model, sampling

MAX_APPEND = 256  # tokens per teacher-forcing call (bounds the [B, T, D] activations)
DECODE_SLOT_BUCKET = 256  # smallest decode cache (slots): few sizes = few compiled decode loops
DECODE_MIN_BATCH = 8  # smallest decode batch, likewise (a step costs about the same below it)


@functools.partial(jax.jit, static_argnums=(0, 7), donate_argnums=(2,))
def _append(graphdef, params, cache, tokens_BxT, positions_BxT, mask_BxT, last_logits_BxV, window: int):
    """Teacher-force a left-padded block; log-prob of each real token, and the rows' new last logits.
    Attention reads only the cache's first `window` slots (>= index + T): the rest is empty."""
    decoding.TRACES["session_append"] += 1
    targets_BxT = jnp.pad(tokens_BxT[:, 1:], ((0, 0), (0, 1)))  # slot t predicts the token at t + 1
    T = tokens_BxT.shape[1]
    head = model.KVCache(k=cache.k[:, :, :, :window], v=cache.v[:, :, :, :window],
                         kv_mask=cache.kv_mask[:, :window], index=cache.index)
    # the head is fused with the log-probs (model.apply_nll): no [B, T, vocab] logits
    nll_BxT, logits_BxV, head = model.apply_nll(graphdef, params, tokens_BxT, positions_BxT, mask_BxT,
                                                targets_BxT, head)
    new = lambda a: jax.lax.dynamic_slice_in_dim(a, cache.index, T, axis=3)
    at = (0, 0, 0, cache.index, 0)
    cache = model.KVCache(k=jax.lax.dynamic_update_slice(cache.k, new(head.k), at),
                          v=jax.lax.dynamic_update_slice(cache.v, new(head.v), at),
                          kv_mask=jax.lax.dynamic_update_slice(
                              cache.kv_mask, jax.lax.dynamic_slice_in_dim(head.kv_mask, cache.index, T, axis=1),
                              (0, cache.index)),
                          index=head.index)
    from_block = -jnp.pad(nll_BxT[:, :-1], ((0, 0), (1, 0)))
    # a row's first token in this block is predicted by the logits the row ended on before it
    from_last = jnp.take_along_axis(jax.nn.log_softmax(last_logits_BxV, axis=-1), tokens_BxT, axis=-1)
    first = mask_BxT & ~jnp.pad(mask_BxT[:, :-1], ((0, 0), (1, 0)))  # first real token of the block
    lp = jnp.where(first, from_last, from_block)
    has = jnp.any(mask_BxT, axis=1)
    return jnp.where(mask_BxT, lp, 0.0), jnp.where(has[:, None], logits_BxV, last_logits_BxV), cache


@functools.partial(jax.jit, donate_argnums=(0,))
def pack(cache: model.KVCache) -> model.KVCache:
    """Move every row's valid slots to the front, in order; index = the longest row."""
    decoding.TRACES["session_pack"] += 1
    S = cache.kv_mask.shape[1]
    slot = jnp.arange(S)
    order = jnp.argsort(jnp.where(cache.kv_mask, slot, S + slot), axis=1)  # [B, S]
    take = lambda a: jnp.take_along_axis(a, order[None, :, None, :, None], axis=3)  # k, v: [L, B, H, S, Dh]
    mask = jnp.take_along_axis(cache.kv_mask, order, axis=1)
    return model.KVCache(k=take(cache.k), v=take(cache.v), kv_mask=mask,
                         index=jnp.max(jnp.sum(cache.kv_mask, axis=1)).astype(jnp.int32))


def grow(cache: model.KVCache, size: int) -> model.KVCache:
    """The same cache with `size` slots: new slots, empty and masked out, go after the old ones."""
    extra = size - cache.kv_mask.shape[1]
    slots = ((0, 0), (0, 0), (0, 0), (0, extra), (0, 0))  # k, v: [L, B, H, S, Dh]
    return model.KVCache(k=jnp.pad(cache.k, slots), v=jnp.pad(cache.v, slots),
                         kv_mask=jnp.pad(cache.kv_mask, ((0, 0), (0, extra))), index=cache.index)


class Session:
    def __init__(self, cfg, graphdef, params, tokenizer, batch: int, *, seed: int = 0,
                 row_ids: Sequence[int] | None = None, max_len: int | None = None, reencode: bool = False,
                 chunk_steps: int = 16, new_bucket: int = sampling.MIN_NEW_BUCKET, initial_len: int | None = None):
        if batch < 1:
            raise ValueError(f"batch must be >= 1, got {batch}")
        self.cfg, self.graphdef, self.params, self.tokenizer = cfg, graphdef, params, tokenizer
        self.batch, self.reencode, self.chunk_steps = batch, reencode, chunk_steps
        self.new_bucket = new_bucket  # smallest buffer for the generated keys and values a turn copies back
        self.max_len = cfg.n_positions if max_len is None else max_len
        # Every decode step reads every cache slot, so with initial_len the cache starts that small and
        # doubles (up to max_len) only when packing cannot make room: short histories stay cheap.
        self.capacity = self.max_len if initial_len is None else max(1, min(self.max_len, initial_len))
        row_ids = list(range(batch)) if row_ids is None else list(row_ids)
        if len(row_ids) != batch:
            raise ValueError(f"row_ids has {len(row_ids)} entries for batch={batch}")
        self.keys = decoding.row_keys(seed, row_ids)
        self.history = [""] * batch  # the text each row's cache represents
        self.token_ids: list[list[int]] = [[] for _ in range(batch)]  # tokens in the cache, in order
        self.turn = 0
        self.decode_weights = None
        self.ended = False  # generate(last=True) ran: the cache no longer matches the history
        self._reset_cache()

    def _reset_cache(self):
        self.cache = model.init_cache(self.cfg, self.batch, self.capacity)
        self._last_logits = jnp.zeros((self.batch, self.cfg.vocab_size), jnp.float32)
        self.token_ids = [[] for _ in range(self.batch)]
        self.pending: list[list[int]] = [[] for _ in range(self.batch)]  # tail of token_ids not yet in the cache
        self.stale = False  # reencode mode: history changed since the cache was built

    # -- teacher forcing ------------------------------------------------------------------------
    def append(self, texts: Sequence[str]) -> list[list[float]]:
        """Append one text per row; returns each row's log-probs of its new tokens (the very first token
        of a row has no prediction and is not included)."""
        self._check_open()
        if len(texts) != self.batch:
            raise ValueError(f"append got {len(texts)} texts for {self.batch} rows")
        if self.reencode:
            old = [self.tokenizer.encode(h) if h else [] for h in self.history]
            self.history = [h + t for h, t in zip(self.history, texts)]
            lps = self._rebuild()  # lps[r][i] scores token i + 1
            # the new tokens: those after the prefix both encodings share
            return [lps[r][max(_common_prefix(old[r], self.token_ids[r]) - 1, 0):] for r in range(self.batch)]
        self.history = [h + t for h, t in zip(self.history, texts)]
        return self.append_ids([self.tokenizer.encode(t) if t else [] for t in texts])

    def _rebuild(self) -> list[list[float]]:
        self._reset_cache()
        return self.append_ids([self.tokenizer.encode(h) if h else [] for h in self.history])

    def append_ids(self, rows: Sequence[Sequence[int]]) -> list[list[float]]:
        """Teacher-force token ids (one list per row, may be empty); returns their log-probs."""
        self._check_open()
        rows = [list(map(int, r)) for r in rows]
        for r, ids in enumerate(rows):
            if len(self.token_ids[r]) + len(ids) > self.cfg.n_positions:
                raise ValueError(f"row {r}: {len(self.token_ids[r]) + len(ids)} tokens exceed the "
                                 f"{self.cfg.n_positions}-token context")
        # a row's pending tokens (see generate) go in first, in the same pass
        skip = [len(p) for p in self.pending]
        full = [p + ids for p, ids in zip(self.pending, rows)]
        cached = [len(t) - len(p) for t, p in zip(self.token_ids, self.pending)]
        self.pending = [[] for _ in range(self.batch)]
        for r, ids in enumerate(rows):
            self.token_ids[r] += ids
        out = [[] for _ in rows]
        for lo in range(0, max(len(f) for f in full), MAX_APPEND):
            piece = [f[lo:lo + MAX_APPEND] for f in full]
            lps = self._append_block(piece, cached)
            for r, ids in enumerate(piece):
                out[r] += lps[r][1:] if not cached[r] and ids else lps[r]  # a row's first token has no lp
                cached[r] += len(ids)
        return [o[k:] for o, k in zip(out, skip)]

    @property
    def last_logits(self) -> jax.Array:
        """[batch, vocab] logits after each row's last token (teacher-forces pending tokens first)."""
        self._flush()
        return self._last_logits

    def _flush(self):
        if any(self.pending):
            self.append_ids([[] for _ in range(self.batch)])

    def _append_block(self, rows: list[list[int]], cached: list[int]) -> list[list[float]]:
        T = sampling.pow2_bucket(max(len(r) for r in rows), 16)
        self._ensure_room(T)
        index = int(self.cache.index)
        if index - max(cached) > max(index // 2, DECODE_SLOT_BUCKET):
            self.cache = pack(self.cache)  # mostly holes: attention would read them all
            index = int(self.cache.index)
        window = min(self.capacity, sampling.pow2_bucket(index + T, DECODE_SLOT_BUCKET))
        pos0 = np.asarray(cached, np.int32)
        tokens = np.full((self.batch, T), self.cfg.eos_token_id, np.int32)
        mask = np.zeros((self.batch, T), bool)
        positions = np.zeros((self.batch, T), np.int32)
        for r, ids in enumerate(rows):
            tokens[r, T - len(ids):] = ids
            mask[r, T - len(ids):] = True
            positions[r, T - len(ids):] = pos0[r] + np.arange(len(ids))
        lp, self._last_logits, self.cache = _append(self.graphdef, self.params, self.cache, jnp.asarray(tokens),
                                                    jnp.asarray(positions), jnp.asarray(mask), self._last_logits,
                                                    window)
        lp = np.asarray(lp)
        return [lp[r, T - len(ids):].tolist() for r, ids in enumerate(rows)]

    def _ensure_room(self, n: int):
        if int(self.cache.index) + n <= self.capacity:
            return
        self.cache = pack(self.cache)
        need = int(self.cache.index) + n
        if need <= self.capacity:
            return
        if need > self.max_len:
            raise ValueError(f"session cache full: {int(self.cache.index)} slots used, {n} more needed, "
                             f"max_len={self.max_len}")
        while self.capacity < need:
            self.capacity = min(2 * self.capacity, self.max_len)
        self.cache = grow(self.cache, self.capacity)

    def _check_open(self):
        if self.ended:
            raise RuntimeError("this session ended with generate(last=True); start a new one to continue")

    def retire(self, row: int) -> None:
        """Row `row` takes no further part: forget its history and free its cache slots (it must be
        passed as inactive to generate() from now on; re-encoding mode stops re-encoding it)."""
        self.history[row], self.token_ids[row], self.pending[row] = "", [], []
        self.cache = dataclasses.replace(self.cache, kv_mask=self.cache.kv_mask.at[row].set(False))

    # -- generation -----------------------------------------------------------------------------
    def generate(self, max_new_tokens: int | Sequence[int], sampling_params=sampling.SamplingParams(), *,
                 stops: Sequence[str] = (), truncate: Callable[[str], str] | None = None,
                 stop_token_ids: Sequence[int] | None = None, stop_when: Callable[[str], bool] | None = None,
                 active: Sequence[bool] | None = None, last: bool = False) -> list[sampling.Completion]:
        """Continue every row; each row's history (and cache) then ends at its kept completion text:
        cut at the first stop string, then by `truncate` (e.g. truncation.mtpb_truncate).

        max_new_tokens may be one budget per row. stop_when(text) is checked between decode chunks;
        True ends that row early (stop_reason "truncated"; pass a predicate that only fires once
        `truncate` can no longer change, e.g. truncation.mtpb_settled). Rows with active=False do
        not generate this turn (empty completion, stop_reason "inactive", history unchanged).
        last=True: the session's final turn; the generated keys and values are not kept (no copy back),
        so the session takes no further append or generate."""
        self._check_open()
        if self.reencode and self.stale:
            self._rebuild()
        self._flush()
        budgets = ([max_new_tokens] * self.batch if isinstance(max_new_tokens, int) else list(max_new_tokens))
        active = [True] * self.batch if active is None else [bool(a) for a in active]
        if len(budgets) != self.batch or len(active) != self.batch:
            raise ValueError(f"generate needs one budget and active flag per row ({self.batch} rows)")
        rows = [r for r in range(self.batch) if active[r]]
        if not rows:
            raise ValueError("generate() needs at least one active row")
        if any(not self.token_ids[r] for r in rows):
            raise ValueError("every row needs some context before generate(); append() text first")
        for r in rows:
            if budgets[r] < 1 or len(self.token_ids[r]) + budgets[r] > self.cfg.n_positions:
                raise ValueError(f"row {r}: max_new_tokens={budgets[r]} after {len(self.token_ids[r])} tokens "
                                 f"overflows the {self.cfg.n_positions}-token context (or is < 1)")
        longest_budget = max(budgets[r] for r in rows)
        N = sampling.pow2_bucket(longest_budget, self.new_bucket)
        stop_ids = tuple(sorted({self.cfg.eos_token_id} if stop_token_ids is None else set(stop_token_ids)))
        keys = jax.vmap(lambda k: jax.random.fold_in(k, self.turn))(self.keys)
        self.turn += 1
        # Decode only the active rows, on a packed copy of their cache sized to the longest of them: a
        # decode step reads every slot of every row it holds, so idle rows and holes would cost as much
        # as work; drive() then drops rows as they finish, and on_finish copies each row's generated
        # keys and values out first (into one [L, batch, H, N, Dh] buffer put back afterwards).
        B = sampling.pow2_bucket(len(rows), min(DECODE_MIN_BATCH, self.batch))
        take = jnp.asarray(rows + [rows[0]] * (B - len(rows)), jnp.int32)
        start = max(len(self.token_ids[r]) for r in rows)  # generated token t sits in slot start + t
        # the decode cache starts with room for one chunk; drive() grows it if rows run on
        first = start + min(longest_budget, self.chunk_steps)
        cache = decode_cache(self.cache, take, min(sampling.pow2_bucket(first, DECODE_SLOT_BUCKET), self.max_len))
        pos = jnp.asarray([len(self.token_ids[r]) for r in rows] + [0] * (B - len(rows)), jnp.int32)
        st = decoding.resume(self._last_logits[take], cache, pos, jnp.arange(B) < len(rows), keys[take],
                             jnp.int32(longest_budget), jnp.asarray(stop_ids, jnp.int32), self.chunk_steps,
                             sampling_params)
        host = {r: sampling.HostRow(stops, stop_ids, None if budgets[r] == longest_budget else budgets[r], stop_when)
                for r in rows}
        if self.decode_weights is None:  # made on the first turn, reused by every later one
            self.decode_weights = decoding.decode_weights(self.graphdef, self.params)
        keep = not (self.reencode or last)
        generated = [empty_generated(self.cfg, self.batch, N)] if keep else None

        def on_finish(st, device_rows, host_rows):
            n = sampling.pow2_bucket(len(device_rows), 1)
            dev = device_rows + [0] * (n - len(device_rows))
            dst = [rows[h] for h in host_rows] + [self.batch] * (n - len(host_rows))  # out of range: dropped
            generated[0] = collect_generated(*generated[0], st.cache, jnp.asarray(dev, jnp.int32),
                                             jnp.asarray(dst, jnp.int32), jnp.int32(start))

        sampling.drive(self.graphdef, self.params, st, [host[r] for r in rows], self.tokenizer, sampling_params,
                       self.chunk_steps, compact=True, weights=self.decode_weights,
                       on_finish=on_finish if keep else None, min_batch=DECODE_MIN_BATCH,
                       slot_bucket=DECODE_SLOT_BUCKET, max_slots=self.max_len)
        outs = []
        for r in range(self.batch):
            if r not in host:
                outs.append(sampling.Completion("", (), (), "inactive", 0))
                continue
            c = host[r].completion(self.tokenizer)
            outs.append(_retruncate(self.tokenizer, c, truncate(c.text)) if truncate is not None else c)
        self.history = [h + c.text for h, c in zip(self.history, outs)]
        if self.reencode:
            self.stale = True
        else:
            self._keep_generated(host, outs, None if last else generated[0], N)
        self.ended = last
        return outs

    def _keep_generated(self, host, outs, generated, N: int):
        """Put each row's kept generated tokens into the cache: the keys and values decoding computed for
        all but the last kept token; that token and any characters the kept text ends inside a token
        with become pending, teacher-forced with the next append (or on demand: last_logits).
        generated None (the last turn): only token_ids are updated."""
        keep = np.zeros(self.batch, np.int32)
        for r, row in host.items():
            toks = row.toks[:len(row.toks) - (1 if row.toks and row.toks[-1] in row.stop_ids else 0)]
            n = _whole_tokens_within(self.tokenizer, toks, outs[r].text)
            rest = outs[r].text[len(self.tokenizer.decode(toks[:n], skip_special_tokens=False)):] if n else outs[r].text
            keep[r] = max(n - 1, 0)
            self.pending[r] = toks[keep[r]:n] + (self.tokenizer.encode(rest) if rest else [])
            self.token_ids[r] += toks[:keep[r]] + self.pending[r]
        if generated is not None:
            self._ensure_room(N)
            self.cache = put_generated(self.cache, *generated, jnp.asarray(keep))


def empty_generated(cfg, batch: int, n: int):
    shape = (cfg.n_layer, batch, cfg.n_head, n, cfg.head_dim)
    store = model.cache_storage_dtype(cfg.dtype)
    return jnp.zeros(shape, store), jnp.zeros(shape, store)


@functools.partial(jax.jit, donate_argnums=(0, 1))
def collect_generated(gen_k, gen_v, cache: model.KVCache, device_rows, session_rows, start):
    """Copy the decode cache's generated slots [start, start + N) of device_rows into rows session_rows
    of gen_k/gen_v ([L, batch, H, N, Dh]); session_rows out of range are padding (dropped)."""
    decoding.TRACES["session_collect"] += 1
    slots = start + jnp.arange(gen_k.shape[3])  # the decode cache may end before start + N: zeros there
    take = lambda layers: jnp.stack([jnp.take(a[device_rows], slots, axis=2, mode="fill", fill_value=0)
                                     for a in layers])
    return (gen_k.at[:, session_rows].set(take(cache.k), mode="drop"),
            gen_v.at[:, session_rows].set(take(cache.v), mode="drop"))


@functools.partial(jax.jit, donate_argnums=(0,))
def put_generated(cache: model.KVCache, gen_k, gen_v, keep) -> model.KVCache:
    """Write gen_k/gen_v at the cache's index; row r's first keep[r] of those slots become valid."""
    decoding.TRACES["session_put"] += 1
    at = (0, 0, 0, cache.index, 0)
    slot = jnp.arange(cache.kv_mask.shape[1])[None, :] - cache.index
    valid = (slot >= 0) & (slot < keep[:, None])
    return model.KVCache(k=jax.lax.dynamic_update_slice(cache.k, gen_k, at),
                         v=jax.lax.dynamic_update_slice(cache.v, gen_v, at),
                         kv_mask=cache.kv_mask | valid, index=cache.index + jnp.max(keep))


@functools.partial(jax.jit, static_argnums=2)
def decode_cache(cache: model.KVCache, rows, size: int) -> model.KVCache:
    """The given rows of the cache, each row's valid slots packed to the front, `size` slots long
    (size > the longest row: decoding grows it as needed); index = the longest row. In per_layer() form,
    what the decode loop carries."""
    decoding.TRACES["session_decode_cache"] += 1
    S = cache.kv_mask.shape[1]
    k, v, mask = cache.k[:, rows], cache.v[:, rows], cache.kv_mask[rows]
    if size > S:
        slots = ((0, 0), (0, 0), (0, 0), (0, size - S), (0, 0))
        k, v, mask = jnp.pad(k, slots), jnp.pad(v, slots), jnp.pad(mask, ((0, 0), (0, size - S)))
        S = size
    slot = jnp.arange(S)
    order = jnp.argsort(jnp.where(mask, slot, S + slot), axis=1)[:, :size]  # valid slots first, in order
    gather = lambda a: jnp.take_along_axis(a, order[None, :, None, :, None], axis=3)
    return model.per_layer(model.KVCache(k=gather(k), v=gather(v), kv_mask=jnp.take_along_axis(mask, order, axis=1),
                                         index=jnp.max(jnp.sum(mask, axis=1)).astype(jnp.int32)))


def _whole_tokens_within(tokenizer, toks, text: str) -> int:
    """Most leading tokens whose decoded text is a prefix of `text` (binary search)."""
    lo, hi = 0, len(toks)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if text.startswith(tokenizer.decode(toks[:mid], skip_special_tokens=False)):
            lo = mid
        else:
            hi = mid - 1
    return lo


def _retruncate(tokenizer, c: sampling.Completion, kept: str) -> sampling.Completion:
    if not c.text.startswith(kept):
        raise ValueError(f"truncate() must return a prefix of the completion, got {kept[:40]!r}...")
    n = sampling.covering_prefix(tokenizer, list(c.token_ids), len(kept))
    return dataclasses.replace(c, text=kept, token_ids=c.token_ids[:n], logprobs=c.logprobs[:n])


def _common_prefix(a: list[int], b: list[int]) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n
