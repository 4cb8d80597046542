"""Multi-turn session: append == full forward, greedy continuation == fresh generation, truncation
rollback leaves a cache that ends exactly at the kept text, packing, and the re-encoding mode."""
import functools

import jax
import jax.numpy as jnp
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


@functools.lru_cache(maxsize=None)
def _apply():
    return jax.jit(model.apply, static_argnums=0)


def full_forward(lm, ids):
    """Logits of a cache-free forward over ids: [len(ids), V]. Right-padded to one length (one compile);
    causal attention ignores the padding after ids."""
    L, T = len(ids), 128
    padded = jnp.asarray([list(ids) + [0] * (T - L)])
    logits, _ = _apply()(lm[1], lm[2], padded, jnp.arange(T)[None], (jnp.arange(T) < L)[None])
    return np.asarray(logits[0, :L])


def assert_cache_ends_at_history(lm, s):
    """Every row: its tokens decode to its history, and its last logits equal a fresh full forward."""
    tok = lm[3]
    for r in range(s.batch):
        assert tok.decode(s.token_ids[r]) == s.history[r]
        np.testing.assert_allclose(np.asarray(s.last_logits[r]), full_forward(lm, s.token_ids[r])[-1], atol=1e-4)


def test_append_equals_full_forward_with_ragged_rows(lm):
    tok = lm[3]
    s = Session(*lm, batch=2, max_len=128)
    first = ["import numpy as np\n\n", "x = 1\n"]
    second = ["# add two numbers\ndef add(a, b):\n", "y"]
    s.append(first)
    lps = s.append(second)
    for r in range(2):
        ids = tok.encode(first[r]) + tok.encode(second[r])
        logits = full_forward(lm, ids)
        np.testing.assert_allclose(np.asarray(s.last_logits[r]), logits[-1], atol=1e-4)
        lp = jax.nn.log_softmax(logits, axis=-1)
        n1 = len(tok.encode(first[r]))
        want = [float(lp[t - 1, ids[t]]) for t in range(n1, len(ids))]
        np.testing.assert_allclose(lps[r], want, atol=1e-4)


def test_greedy_continuation_equals_fresh_generation(lm):
    tok = lm[3]
    turns = ["def f(x):\n", "    return x + 1\n\n", "print(f(2))"]
    s = Session(*lm, batch=1, max_len=128)
    for t in turns:
        s.append([t])
    [c] = s.generate(10)
    ids = [i for t in turns for i in tok.encode(t)]  # the session's tokens, as one prompt
    [want] = sampling.generate(*lm, [ids], max_new_tokens=10)
    assert c.token_ids == want.token_ids and c.text == want.text
    np.testing.assert_allclose(c.logprobs, want.logprobs, atol=1e-4)
    assert_cache_ends_at_history(lm, s)


def test_rollback_after_stop_string_and_truncate_fn(lm):
    tok = lm[3]
    probe = Session(*lm, batch=2, max_len=128)
    probe.append(["def f(x):\n", "import os\n"])
    free = probe.generate(12)
    stop = tok.decode(free[0].token_ids[6:8])  # row 0 will hit it; row 1 most likely not
    s = Session(*lm, batch=2, max_len=128)
    s.append(["def f(x):\n", "import os\n"])
    outs = s.generate(12, stops=[stop], truncate=lambda text: text[:len(text) - 1])  # also drop a char
    assert outs[0].stop_reason == "stop_sequence"
    assert outs[0].text == free[0].text[:free[0].text.index(stop) - 1]
    assert s.history[0] == "def f(x):\n" + outs[0].text
    assert_cache_ends_at_history(lm, s)
    s.append(["\n# next\n", "\n"])  # a later turn continues from exactly the kept text
    assert_cache_ends_at_history(lm, s)


def test_packing_when_the_cache_fills(lm):
    s = Session(*lm, batch=2, max_len=64)
    s.append(["a = 1\n", "b = [1, 2, 3, 4, 5, 6]\n"])
    for _ in range(3):  # each generate needs 16 free slots; holes from finished rows get packed away
        s.generate(8, stops=["\n"])
        s.append(["x", "y"])
    assert_cache_ends_at_history(lm, s)
    with pytest.raises(ValueError, match="cache full"):
        s.append(["z " * 60, "w"])


def test_reencode_mode_matches_reference_tokenization(lm):
    tok = lm[3]
    s = Session(*lm, batch=1, max_len=128, reencode=True)
    s.append(["x = (1"])
    [c] = s.generate(6)
    lps = s.append([")\n"])
    assert s.token_ids[0] == tok.encode(s.history[0])  # the whole history, encoded as one string
    assert s.history[0] == "x = (1" + c.text + ")\n"
    assert_cache_ends_at_history(lm, s)
    assert len(lps[0]) >= 1


def test_session_errors(lm):
    s = Session(*lm, batch=2, max_len=64)
    with pytest.raises(ValueError, match="needs some context"):
        s.generate(4)
    with pytest.raises(ValueError, match="2 rows"):
        s.append(["only one"])
    s.append(["x", "y"])
    with pytest.raises(ValueError, match="overflows"):
        s.generate(300)
