"""Sampler: exact top-p/top-k math, greedy equals a cache-free reference, stops, seeds, sharding, errors."""
import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from jaxformer import decoding, model, sampling, scoring, tokenizer
from jaxformer.config import preset
from jaxformer.decoding import SamplingParams

HOT = SamplingParams(temperature=1.0, top_p=0.9)


@pytest.fixture(scope="module")
def lm():
    cfg = preset("tiny").replace(n_positions=256)
    graphdef, params = nnx.split(model.CodeGen(cfg, rngs=nnx.Rngs(0)))
    return cfg, graphdef, params, tokenizer.load("codegen")


def gen(lm, prompts, **kw):
    kw.setdefault("max_new_tokens", 12)
    return sampling.generate(*lm, prompts, **kw)


# ---- sampling math (no model) -----------------------------------------------------------------

def nucleus(p, top_p):
    order = np.argsort(-p, kind="stable")
    excl = np.cumsum(p[order]) - p[order]
    return set(order[excl < top_p].tolist())


def test_in_nucleus_matches_sorting():
    logits = jax.random.normal(jax.random.PRNGKey(1), (4, 500)) * 3
    p = jax.nn.softmax(logits, axis=-1)
    for top_p in (0.1, 0.5, 0.9):
        for b in range(4):
            want = nucleus(np.asarray(p[b], np.float64), top_p)
            got = decoding.in_nucleus(jnp.broadcast_to(p[b], (500, 500)), jnp.arange(500), top_p)
            assert set(np.flatnonzero(np.asarray(got)).tolist()) == want


def test_top_p_draws_follow_the_renormalised_nucleus():
    V, N, top_p = 300, 6000, 0.7
    logits = jax.random.normal(jax.random.PRNGKey(2), (V,)) * 2
    p = np.asarray(jax.nn.softmax(logits), np.float64)
    want = np.zeros(V)
    keep = sorted(nucleus(p, top_p))
    want[keep] = p[keep] / p[keep].sum()
    draw = jax.jit(lambda P, k: decoding.top_p_sample(P, k, 3, top_p))
    toks = np.asarray(draw(jnp.broadcast_to(jnp.asarray(p, jnp.float32), (N, V)), decoding.row_keys(0, range(N))))
    freq = np.bincount(toks, minlength=V) / N
    assert freq[want == 0].sum() == 0  # never outside the nucleus
    assert 0.5 * np.abs(freq - want).sum() < 0.05  # ~0.02 expected at N=6000


def test_inverse_cdf_matches_searchsorted_and_skips_zero_weights():
    w = np.zeros((64, 700), np.float32)
    rng = np.random.default_rng(0)
    w[:, rng.choice(700, 40, replace=False)] = rng.random((64, 40)).astype(np.float32)
    u = rng.random(64).astype(np.float32)
    got = np.asarray(decoding.inverse_cdf(jnp.asarray(w), jnp.asarray(u)))
    for b in range(64):
        c = np.cumsum(w[b].astype(np.float64))
        assert w[b, got[b]] > 0
        assert got[b] == np.searchsorted(c, u[b] * c[-1], side="right")


def test_top_k_stays_in_top_k():
    logits = jax.random.normal(jax.random.PRNGKey(3), (256, 100))
    toks = np.asarray(decoding.top_k_sample(logits, decoding.row_keys(0, range(256)), 0, 5, 1.0))
    top5 = np.argsort(-np.asarray(logits), axis=-1)[:, :5]
    assert all(t in row for t, row in zip(toks, top5))
    assert len(set(toks.tolist())) > 5  # rows really sample


@pytest.mark.parametrize("kw", [dict(temperature=-1), dict(top_p=0), dict(top_p=1.5), dict(top_k=-1),
                                dict(temperature=float("nan"))])
def test_bad_sampling_params(kw):
    with pytest.raises(ValueError):
        SamplingParams(**kw)


# ---- generation ----------------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def _apply():
    return jax.jit(model.apply, static_argnums=0)


def reference_greedy(lm, ids, n):
    """Cache-free greedy decoding: a full forward over the growing sequence at every step."""
    cfg, graphdef, params, _ = lm
    ids = list(ids)
    out, lps = [], []
    T = 64  # right-padded to one length: one compile; causal attention ignores the padding after ids
    for _ in range(n):
        L = len(ids)
        padded = jnp.asarray([ids + [0] * (T - L)])
        logits, _ = _apply()(graphdef, params, padded, jnp.arange(T)[None], (jnp.arange(T) < L)[None])
        lp = jax.nn.log_softmax(logits[0, L - 1])
        t = int(jnp.argmax(logits[0, L - 1]))
        out.append(t)
        lps.append(float(lp[t]))
        ids.append(t)
    return out, lps


def test_greedy_ragged_batch_equals_cache_free_reference(lm):
    tok = lm[3]
    prompts = ["def add(a, b):\n    return", "x", "import numpy as np\n\nclass Foo:\n    pass\n"]
    outs = gen(lm, prompts, max_new_tokens=8)
    for p, c in zip(prompts, outs):
        want, want_lp = reference_greedy(lm, tok.encode(p), 8)
        assert list(c.token_ids) == want and c.stop_reason == "length" and c.num_generated == 8
        np.testing.assert_allclose(c.logprobs, want_lp, atol=1e-4)
        assert c.text == tok.decode(want)
        assert c.sum_logprob == pytest.approx(sum(want_lp), abs=1e-3)


def test_logprobs_equal_teacher_forced_scores(lm):
    tok = lm[3]
    [c] = gen(lm, ["def f(x):"], sampling=HOT, seed=3)
    ids = tok.encode("def f(x):") + list(c.token_ids)
    [s] = scoring.score(lm[0], lm[1], lm[2], tok, [ids])
    np.testing.assert_allclose(s.logprobs[-len(c.token_ids):], c.logprobs, atol=1e-4)
    assert s.perplexity == pytest.approx(np.exp(-np.mean(s.logprobs)))


def test_seeded_rows_do_not_depend_on_the_batch(lm):
    prompts = ["def f(x):", "for i in range(10):", "import os"]
    together = gen(lm, prompts, sampling=HOT, seed=7)
    alone = gen(lm, prompts[1:2], sampling=HOT, seed=7, row_ids=[1])
    assert together[1].token_ids == alone[0].token_ids
    assert [c.token_ids for c in gen(lm, prompts, sampling=HOT, seed=7)] == [c.token_ids for c in together]
    assert gen(lm, prompts, sampling=HOT, seed=8)[0].token_ids != together[0].token_ids


def test_string_stop_cuts_text_and_frees_the_row(lm):
    tok = lm[3]
    [free] = gen(lm, ["def f(x):"], max_new_tokens=16)
    stop = tok.decode(free.token_ids[5:7])  # text the model will produce again, greedily
    [c] = gen(lm, ["def f(x):"], max_new_tokens=16, stops=[stop], chunk_steps=4)
    assert c.stop_reason == "stop_sequence"
    assert c.text == free.text[:free.text.index(stop)]
    assert c.num_generated < 16  # stopped at a chunk boundary, not at max_new_tokens
    assert tok.decode(c.token_ids).startswith(c.text) and len(c.token_ids) <= 7


def test_stop_token_id_ends_the_row_inside_the_loop(lm):
    [free] = gen(lm, ["def f(x):"], max_new_tokens=16)
    eos = free.token_ids[4]
    [c] = gen(lm, ["def f(x):"], max_new_tokens=16, stop_token_ids=[eos])
    first = free.token_ids.index(eos)
    assert c.stop_reason == "eos" and c.num_generated == first + 1
    assert c.token_ids == free.token_ids[:first]  # the stop token itself is not part of the completion


def test_sharded_over_8_devices_equals_one_device(lm):
    assert jax.device_count() == 8
    prompts = ["def f(x):", "x = 1", "import os", "class A:", "# hi", "y", "while True:", "print("]
    one = gen(lm, prompts, sampling=HOT, seed=1, batch_size=8)
    eight = gen(lm, prompts, sampling=HOT, seed=1, batch_size=8, mesh=decoding.data_mesh())
    assert [c.token_ids for c in one] == [c.token_ids for c in eight]
    for a, b in zip(one, eight):
        np.testing.assert_allclose(a.logprobs, b.logprobs, atol=1e-5)


def test_prompt_lengths_in_one_bucket_compile_once(lm):
    gen(lm, ["a b c"], max_new_tokens=12)  # warm up this bucket
    before = dict(decoding.TRACES)
    gen(lm, ["a b c d e f g", "x = [1, 2, 3]"], max_new_tokens=12)  # batch bucket 2: new
    mid = dict(decoding.TRACES)
    gen(lm, ["q", "def g(): return 1"], max_new_tokens=12)  # same buckets: no new compile
    assert dict(decoding.TRACES) == mid and mid != before


def test_bad_inputs_raise_clear_errors(lm):
    with pytest.raises(ValueError, match="prompt 1 is empty"):
        gen(lm, ["x", ""])
    with pytest.raises(ValueError, match="overflows the 256-token context"):
        gen(lm, ["x " * 300])
    with pytest.raises(ValueError, match="max_new_tokens"):
        gen(lm, ["x"], max_new_tokens=256)
    with pytest.raises(ValueError, match="max_new_tokens"):
        gen(lm, ["x"], max_new_tokens=0)
    with pytest.warns(UserWarning, match="dropped its first"):
        [c] = gen(lm, ["x " * 300], max_new_tokens=4, truncate="left")
    assert c.num_generated == 4


def test_sample_and_score_clis(tmp_path, capsys):
    from jaxformer.cli import main

    args = ["sample", "--model", "random:tiny", "--prompt", "def f():", "--max-new-tokens", "5"]
    assert main(args) == 0
    text = capsys.readouterr().out
    cfg, graphdef, params, tok = sampling.load("random:tiny")
    [want] = sampling.generate(cfg, graphdef, params, tok, ["def f():"], max_new_tokens=5)
    assert text == want.text  # only the completion, nothing else on stdout
    src = tmp_path / "prog.py"
    src.write_text("def f(x):\n    return x\n")
    assert main(["score", "--model", "random:tiny", "--text-file", str(src)]) == 0
    import json

    out = json.loads(capsys.readouterr().out)
    assert out["num_tokens"] == len(tok.encode(src.read_text())) == out["num_scored"] + 1
    assert out["perplexity"] == pytest.approx(np.exp(-np.mean(out["logprobs"])))
    assert main(["sample", "--model", "random:tiny", "--prompt", "", "--max-new-tokens", "5"]) == 2
    assert "prompt 0 is empty" in capsys.readouterr().err


def test_finished_rows_are_compacted_away_without_changing_results(lm):
    prompts = ["def f(x):", "x = 1", "import os", "class A:"]
    free = gen(lm, prompts, max_new_tokens=16)
    stops = {free[0].token_ids[2], free[1].token_ids[2]}  # rows 0 and 1 end by step 3: 4 rows -> 2
    before = decoding.TRACES["take_rows"]
    outs = gen(lm, prompts, max_new_tokens=16, stop_token_ids=sorted(stops), chunk_steps=4)
    assert decoding.TRACES["take_rows"] > before  # the batch shrank once rows finished
    for f, c in zip(free, outs):
        cut = next((i for i, t in enumerate(f.token_ids) if t in stops), len(f.token_ids))
        assert c.token_ids == f.token_ids[:cut]
        assert c.stop_reason == ("eos" if cut < 16 else "length")
