"""Teacher-forced scoring: per-token log-probs and perplexity of texts or token lists, batched.

Token t (t >= 1) is scored by the logits at t - 1, so a sequence of n tokens has n - 1 scored tokens
(nothing predicts the first one; pass prepend_eos=True to score it after "<|endoftext|>", as a document
start). Perplexity = exp(-mean log-prob). Batches are left-padded and their length bucketed.
"""
from __future__ import annotations

import dataclasses
import functools
import math
from typing import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from jaxformer import model

MIN_BUCKET = 16


@dataclasses.dataclass(frozen=True)
class Score:
    token_ids: tuple[int, ...]
    logprobs: tuple[float, ...]  # one per token after the first

    @property
    def num_tokens(self) -> int:
        return len(self.token_ids)

    @property
    def perplexity(self) -> float:
        return math.exp(-sum(self.logprobs) / len(self.logprobs)) if self.logprobs else float("nan")

    def to_dict(self) -> dict:
        return {"num_tokens": self.num_tokens, "num_scored": len(self.logprobs), "token_ids": list(self.token_ids),
                "logprobs": list(self.logprobs), "perplexity": self.perplexity}


@functools.partial(jax.jit, static_argnums=(0,))
def token_logprobs(graphdef, params, tokens_BxT, lengths_B):
    """Left-padded tokens -> log p(token t | tokens < t) at every slot (slot 0 and padding: 0)."""
    B, T = tokens_BxT.shape
    pad = (T - lengths_B)[:, None]
    slot = jnp.arange(T)[None, :]
    mask = slot >= pad
    targets_BxT = jnp.pad(tokens_BxT[:, 1:], ((0, 0), (0, 1)))  # slot t predicts token t + 1
    nll_BxT, _, _ = model.apply_nll(graphdef, params, tokens_BxT, jnp.maximum(slot - pad, 0), mask, targets_BxT)
    picked = -nll_BxT[:, :-1]
    valid = mask[:, 1:] & (slot[:, 1:] > pad)  # the first real token has no prediction
    return jnp.pad(jnp.where(valid, picked, 0.0), ((0, 0), (1, 0)))


def score(cfg, graphdef, params, tokenizer, texts: Sequence, *, batch_size: int = 8,
          prepend_eos: bool = False) -> list[Score]:
    """Score each text (str, needs the tokenizer) or token-id list; results in input order."""
    seqs = []
    for i, t in enumerate(texts):
        if isinstance(t, str):
            if tokenizer is None:
                raise ValueError("text inputs need a tokenizer (this model was loaded without one)")
            ids = list(tokenizer.encode(t))
        else:
            ids = [int(x) for x in t]
        if prepend_eos:
            ids = [cfg.eos_token_id] + ids
        if len(ids) < 2:
            raise ValueError(f"text {i} has {len(ids)} token(s); scoring needs at least 2 "
                             "(or prepend_eos=True for a single token)")
        if len(ids) > cfg.n_positions:
            raise ValueError(f"text {i} has {len(ids)} tokens, more than the {cfg.n_positions}-token context")
        if any(not 0 <= x < cfg.vocab_size for x in ids):
            raise ValueError(f"text {i} has token ids outside [0, {cfg.vocab_size})")
        seqs.append(ids)
    out: list[Score | None] = [None] * len(seqs)
    order = sorted(range(len(seqs)), key=lambda i: len(seqs[i]))
    for start in range(0, len(order), batch_size):
        group = order[start:start + batch_size]
        T = MIN_BUCKET
        while T < max(len(seqs[i]) for i in group):
            T *= 2
        B = 1
        while B < len(group):
            B *= 2
        tokens = np.full((B, T), cfg.eos_token_id, np.int32)
        lengths = np.zeros(B, np.int32)
        for r, i in enumerate(group):
            tokens[r, T - len(seqs[i]):] = seqs[i]
            lengths[r] = len(seqs[i])
        lp = np.asarray(token_logprobs(graphdef, params, jnp.asarray(tokens), jnp.asarray(lengths)))
        for r, i in enumerate(group):
            n = len(seqs[i])
            ids = seqs[i][1:] if prepend_eos else seqs[i]
            scored = lp[r, T - n + 1:].tolist()
            out[i] = Score(token_ids=tuple(ids), logprobs=tuple(scored))
    return out
