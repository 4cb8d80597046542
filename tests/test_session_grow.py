"""Session(initial_len=...): the cache starts small and doubles when packing cannot make room; samples,
log-probs and histories equal a session whose cache has max_len slots from the start."""
import numpy as np
import pytest
from flax import nnx

from jaxformer import model, sampling, tokenizer
from jaxformer.config import preset
from jaxformer.session import Session


@pytest.fixture(scope="module")
def lm():
    cfg = preset("tiny").replace(n_positions=256)
    graphdef, params = nnx.split(model.CodeGen(cfg, rngs=nnx.Rngs(0)))
    return cfg, graphdef, params, tokenizer.load("codegen")


def run_turns(lm, **kw):
    s = Session(*lm, batch=3, max_len=512, seed=3, **kw)
    pieces = [["import os\n", "x = [1, 2, 3]\n", "# hello\n"], ["\n# next\n", "def f(a):\n", "\n"],
              ["\n# last\n", "    return a\n", "y = 2\n"]]
    out = []
    for piece in pieces:
        lps = s.append(piece)
        outs = s.generate([24, 40, 12], sampling.SamplingParams(0.8, 0.95), truncate=lambda t: t[:len(t) * 2 // 3])
        out.append((lps, [(c.text, c.token_ids, c.logprobs) for c in outs]))
    return s, out


def test_growing_cache_gives_the_same_turns_as_a_full_one(lm):
    full, want = run_turns(lm)
    small, got = run_turns(lm, initial_len=32)
    assert full.capacity == 512 and 32 < small.capacity < 512  # it grew, and not to the maximum
    assert small.cache.kv_mask.shape[1] == small.capacity
    assert small.history == full.history and small.token_ids == full.token_ids
    for (lps_w, outs_w), (lps_g, outs_g) in zip(want, got):
        for a, b in zip(lps_w, lps_g):
            np.testing.assert_allclose(a, b, atol=1e-4)
        for (tw, iw, lw), (tg, ig, lg) in zip(outs_w, outs_g):
            assert (tw, iw) == (tg, ig)
            np.testing.assert_allclose(lw, lg, atol=1e-4)


def test_growth_stops_at_max_len(lm):
    s = Session(*lm, batch=1, max_len=64, initial_len=16)
    s.append(["a = 1\n" * 5])  # 20 tokens: one 32-slot block
    assert s.capacity == 32
    s.append(["b = 2\n" * 4])  # 16 more: the cache doubles to 64 = max_len
    assert s.capacity == 64
    with pytest.raises(ValueError, match="cache full"):
        s.append(["c = 3\n" * 8])
    assert s.capacity == 64
