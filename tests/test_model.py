"""CodeGen forward pass: padding, holes, KV cache, scan/remat equivalence, bf16, sharding metadata."""
import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from jaxformer import model
from jaxformer.config import param_count, preset

LOGICAL_AXES = {"layers", "vocab", "embed", "heads", "mlp", None}


def tiny(**changes):
    return preset("tiny").replace(vocab_size=256, bos_token_id=0, eos_token_id=0, **changes)


@functools.lru_cache(maxsize=None)
def jitted_apply():
    return jax.jit(model.apply, static_argnums=0)


def build(cfg, seed=0):
    return nnx.split(model.CodeGen(cfg, rngs=nnx.Rngs(seed)))


def run(graphdef, params, tokens, positions=None, mask=None, cache=None):
    tokens = jnp.asarray(tokens, jnp.int32)
    if positions is None:
        positions = jnp.broadcast_to(jnp.arange(tokens.shape[1], dtype=jnp.int32), tokens.shape)
    if mask is None:
        mask = jnp.ones(tokens.shape, bool)
    return jitted_apply()(graphdef, params, tokens, jnp.asarray(positions, jnp.int32), jnp.asarray(mask), cache)


@pytest.fixture(scope="module")
def tiny_model():
    cfg = tiny()
    graphdef, params = build(cfg)
    return cfg, graphdef, params


def test_param_count_and_metadata(tiny_model):
    cfg, _, params = tiny_model
    leaves = jax.tree.leaves(params)
    assert sum(x.size for x in leaves) == param_count(cfg)
    variables = jax.tree.leaves(params, is_leaf=lambda x: isinstance(x, nnx.Variable))
    assert len(variables) == 13
    for var in variables:
        axes = var.get_metadata()["out_sharding"]
        assert len(axes) == var[...].ndim and set(axes) <= LOGICAL_AXES, (axes, var[...].shape)


def test_same_seed_same_params_and_logits_shape(tiny_model):
    cfg, graphdef, params = tiny_model
    _, again = build(cfg, seed=0)
    _, other = build(cfg, seed=1)
    assert all(np.array_equal(a, b) for a, b in zip(jax.tree.leaves(params), jax.tree.leaves(again)))
    assert not np.array_equal(params["wte"][...], other["wte"][...])
    logits, cache = run(graphdef, params, [[1, 2, 3]])
    assert logits.shape == (1, 3, cfg.vocab_size) and logits.dtype == jnp.float32 and cache is None
    tokens = jnp.asarray([[1, 2, 3]], jnp.int32)
    from_pure_dict, _ = jitted_apply()(graphdef, nnx.to_pure_dict(params), tokens, tokens - 1, tokens > 0)
    np.testing.assert_allclose(from_pure_dict, logits, atol=1e-5)


def test_left_padding_matches_unpadded_rows(tiny_model):
    _, graphdef, params = tiny_model
    rng = np.random.default_rng(0)
    short, long = rng.integers(1, 256, 5), rng.integers(1, 256, 9)
    tokens = np.stack([np.concatenate([np.zeros(4, int), short]), long])
    positions = np.stack([np.concatenate([np.zeros(4, int), np.arange(5)]), np.arange(9)])
    mask = tokens * 0 == 0
    mask[0, :4] = False
    batched, _ = run(graphdef, params, tokens, positions, mask)
    alone_short, _ = run(graphdef, params, short[None])
    alone_long, _ = run(graphdef, params, long[None])
    np.testing.assert_allclose(batched[0, 4:], alone_short[0], atol=2e-5)
    np.testing.assert_allclose(batched[1], alone_long[0], atol=2e-5)
    assert np.isfinite(batched).all()  # padded queries see no valid key but must not produce NaN


def test_masked_hole_is_invisible(tiny_model):
    # a row that appended different-length text: the masked slot must not influence later tokens
    _, graphdef, params = tiny_model
    holed, _ = run(graphdef, params, [[5, 6, 99, 7, 8]], [[0, 1, 2, 2, 3]], [[True, True, False, True, True]])
    plain, _ = run(graphdef, params, [[5, 6, 7, 8]])
    np.testing.assert_allclose(holed[0, [0, 1, 3, 4]], plain[0], atol=2e-5)
    changed, _ = run(graphdef, params, [[5, 6, 99, 7, 8]], [[0, 1, 2, 3, 4]])
    assert np.abs(changed[0, 4] - plain[0, 3]).max() > 1e-3  # the hole token does matter when unmasked


def decode_incrementally(cfg, graphdef, params, tokens, positions, mask, prefill):
    """Prefill `prefill` tokens, then feed the rest one at a time; returns the logits for every slot."""
    B, T = tokens.shape
    cache = model.init_cache(cfg, B, T + 3)  # spare slots stay masked
    logits, cache = run(graphdef, params, tokens[:, :prefill], positions[:, :prefill], mask[:, :prefill], cache)
    out = [logits]
    for t in range(prefill, T):
        logits, cache = run(graphdef, params, tokens[:, t:t + 1], positions[:, t:t + 1], mask[:, t:t + 1], cache)
        out.append(logits)
    assert int(cache.index) == T
    np.testing.assert_array_equal(cache.kv_mask[:, :T], mask)
    assert not cache.kv_mask[:, T:].any()
    return jnp.concatenate(out, axis=1)


def test_cached_decoding_equals_full_forward(tiny_model):
    cfg, graphdef, params = tiny_model
    rng = np.random.default_rng(1)
    tokens = rng.integers(1, 256, (2, 12))
    positions = np.stack([np.concatenate([np.zeros(3, int), np.arange(9)]), np.arange(12)])
    mask = np.ones((2, 12), bool)
    mask[0, :3] = False
    full, _ = run(graphdef, params, tokens, positions, mask)
    incremental = decode_incrementally(cfg, graphdef, params, tokens, positions, mask, prefill=5)
    np.testing.assert_allclose(incremental[0, 3:], full[0, 3:], atol=2e-5)
    np.testing.assert_allclose(incremental[1], full[1], atol=2e-5)


def test_scan_layers_equals_unrolled(tiny_model):
    cfg, graphdef, params = tiny_model
    scan_graphdef, scan_params = build(cfg.replace(scan_layers=True))
    assert jax.tree.structure(scan_params) == jax.tree.structure(params)  # same checkpoint layout
    tokens = np.random.default_rng(2).integers(0, 256, (2, 8))
    unrolled, _ = run(graphdef, params, tokens)
    # the scanned pass with a cache (two chunks) covers both scan paths: layers and per-layer cache slices
    cache = model.init_cache(cfg, 2, 8)
    first, cache = run(scan_graphdef, params, tokens[:, :4], cache=cache)
    second, cache = run(scan_graphdef, params, tokens[:, 4:], np.broadcast_to(np.arange(4, 8), (2, 4)), cache=cache)
    np.testing.assert_allclose(jnp.concatenate([first, second], 1), unrolled, atol=2e-5)


def loss_and_grads(graphdef, params, tokens):
    def loss_fn(p):
        logits, _ = model.apply(graphdef, p, tokens[:, :-1], jnp.broadcast_to(jnp.arange(tokens.shape[1] - 1),
                                                                             tokens[:, :-1].shape),
                                jnp.ones(tokens[:, :-1].shape, bool))
        logp = jax.nn.log_softmax(logits)
        return -jnp.take_along_axis(logp, tokens[:, 1:, None], -1).mean()
    return jax.jit(jax.value_and_grad(loss_fn))(params)


def test_remat_gives_same_loss_and_grads(tiny_model):
    cfg, graphdef, params = tiny_model
    tokens = jnp.asarray(np.random.default_rng(3).integers(0, 256, (2, 9)), jnp.int32)
    loss, grads = loss_and_grads(graphdef, params, tokens)
    assert float(jnp.abs(grads["h"]["qkv_proj"][...]).max()) > 0
    for changes in ({"remat": True}, {"remat": True, "scan_layers": True}):
        remat_graphdef, _ = build(cfg.replace(**changes))
        remat_loss, remat_grads = loss_and_grads(remat_graphdef, params, tokens)
        np.testing.assert_allclose(remat_loss, loss, rtol=1e-6)
        for a, b in zip(jax.tree.leaves(remat_grads), jax.tree.leaves(grads)):
            np.testing.assert_allclose(a, b, atol=1e-6, err_msg=str(changes))


def test_bfloat16_compute_and_params_close_to_float32(tiny_model):
    cfg, graphdef, params = tiny_model
    tokens = np.random.default_rng(4).integers(0, 256, (2, 10))
    reference, _ = run(graphdef, params, tokens)
    scale = float(jnp.abs(reference).max())
    bf16_graphdef, bf16_params = build(cfg.replace(dtype="bfloat16", param_dtype="bfloat16"))
    assert {x.dtype for x in jax.tree.leaves(bf16_params)} == {jnp.dtype(jnp.bfloat16)}

    mixed, _ = run(bf16_graphdef, params, tokens)  # float32 params, bfloat16 matmul inputs
    assert mixed.dtype == jnp.float32
    assert 0 < float(jnp.abs(mixed - reference).max()) < 0.05 * scale

    cache = model.init_cache(cfg.replace(dtype="bfloat16"), 2, 12)
    assert cache.k.dtype == jnp.bfloat16
    params16 = jax.tree.map(lambda x: x.astype(jnp.bfloat16), params)
    logits16, cache = run(bf16_graphdef, params16, tokens, cache=cache)
    assert logits16.dtype == jnp.float32 and cache.k.dtype == jnp.bfloat16
    assert float(jnp.abs(logits16 - reference).max()) < 0.05 * scale
