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


def test_decode_cache_grows_while_decoding_and_matches_fresh_generation():
    """A generate() longer than its first decode cache (256 slots) grows it mid-turn (drive's
    slot_bucket); tokens and log-probs equal a fresh generation whose cache had every slot from the start."""
    from jaxformer import decoding

    cfg = preset("tiny").replace(n_positions=1024)
    graphdef, params = nnx.split(model.CodeGen(cfg, rngs=nnx.Rngs(1)))
    lm = (cfg, graphdef, params, tokenizer.load("codegen"))
    prompt = "def add(a, b):\n    return a + b\n"
    s = Session(*lm, batch=2, max_len=1024)
    s.append([prompt, prompt + "\n"])
    ids = [list(t) for t in s.token_ids]  # the rows' contexts, as the session tokenized them
    grown = decoding.TRACES["grow_slots"]
    outs = s.generate([300, 290], stop_token_ids=())
    assert decoding.TRACES["grow_slots"] > grown
    want = [sampling.generate(*lm, [i], max_new_tokens=n, stop_token_ids=())[0] for i, n in zip(ids, [300, 290])]
    for c, w in zip(outs, want):
        assert c.num_generated == w.num_generated == len(c.token_ids)
        assert c.token_ids == w.token_ids
        np.testing.assert_allclose(c.logprobs, w.logprobs, atol=1e-4)
    # the grown turn's keys and values were copied back: the next turn continues from them exactly
    s.append(["\n", "\n"])
    for r in range(2):
        logits = np.asarray(s.last_logits[r])
        ids_r = s.token_ids[r]
        fresh, _ = model.apply(graphdef, params, np.asarray([ids_r]), np.arange(len(ids_r))[None],
                               np.ones((1, len(ids_r)), bool))
        np.testing.assert_allclose(logits, np.asarray(fresh[0, -1]), atol=1e-4)


def test_last_turn_skips_the_copy_back_and_ends_the_session(lm):
    def turns(last):
        s = Session(*lm, batch=2, max_len=256, seed=5)
        s.append(["import os\n", "x = 1\n"])
        s.generate(20, sampling.SamplingParams(0.8, 0.95))
        s.append(["\n# next\n", "\n"])
        return s, s.generate(20, sampling.SamplingParams(0.8, 0.95), last=last)

    kept, want = turns(last=False)
    ended, got = turns(last=True)
    assert [(c.text, c.token_ids) for c in got] == [(c.text, c.token_ids) for c in want]
    assert ended.history == kept.history
    for call in (lambda: ended.append(["y", "z"]), lambda: ended.generate(4)):
        with pytest.raises(RuntimeError, match="ended"):
            call()
