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
    tokens = random_tokens(0)
    logits, cache = run(graphdef, params, tokens)
    assert logits.shape == (*SHAPE, cfg.vocab_size) and logits.dtype == jnp.float32 and cache is None
    tokens = jnp.asarray(tokens, jnp.int32)
    positions = jnp.broadcast_to(jnp.arange(SHAPE[1], dtype=jnp.int32), SHAPE)
    from_pure_dict, _ = jitted_apply()(graphdef, nnx.to_pure_dict(params), tokens, positions, tokens >= 0)
    np.testing.assert_allclose(from_pure_dict, logits, atol=1e-5)


# Tests share one [B, T] shape (and so one compiled forward): XLA compiles dominate their run time.
SHAPE = (2, 12)


def random_tokens(seed):
    return np.random.default_rng(seed).integers(1, 256, SHAPE)


def test_left_padding_matches_unpadded_rows(tiny_model):
    _, graphdef, params = tiny_model
    tokens = random_tokens(1)
    short = tokens[0, :5]
    # row 0: `short` left-padded by 7; row 1: `short` unpadded, followed by tokens that causality hides from it
    padded = np.stack([np.concatenate([np.zeros(7, int), short]), tokens[1]])
    padded[1, :5] = short
    positions = np.stack([np.concatenate([np.zeros(7, int), np.arange(5)]), np.arange(12)])
    mask = np.ones(SHAPE, bool)
    mask[0, :7] = False
    logits, _ = run(graphdef, params, padded, positions, mask)
    np.testing.assert_allclose(logits[0, 7:], logits[1, :5], atol=2e-5)
    assert np.isfinite(logits).all()  # padded queries see no valid key but must not produce NaN
    unmasked, _ = run(graphdef, params, padded, positions)
    assert np.abs(unmasked[0, 7:] - logits[1, :5]).max() > 1e-3  # the mask is what makes them equal


def test_masked_hole_is_invisible(tiny_model):
    # a row that appended different-length text: the masked slot must not influence later tokens
    _, graphdef, params = tiny_model
    tokens = random_tokens(2)
    tokens[0, :2], tokens[0, 3:] = tokens[1, :2], tokens[1, 2:11]  # row 0 = row 1 with a hole at slot 2
    positions = np.stack([np.concatenate([[0, 1, 2], np.arange(2, 11)]), np.arange(12)])
    mask = np.ones(SHAPE, bool)
    mask[0, 2] = False
    logits, _ = run(graphdef, params, tokens, positions, mask)
    np.testing.assert_allclose(logits[0, [0, 1, *range(3, 12)]], logits[1, :11], atol=2e-5)
    unmasked, _ = run(graphdef, params, tokens, positions)
    assert np.abs(unmasked[0, 3:] - logits[1, 2:11]).max() > 1e-3  # the hole token does matter when unmasked


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
    assert cache.k.shape == cache.v.shape == (cfg.n_layer, B, cfg.n_head, T + 3, cfg.head_dim)  # [L, B, H, S, Dh]
    assert cache.k[:, :, :, :T].any() and not cache.k[:, :, :, T:].any()  # only the written slots changed
    return jnp.concatenate(out, axis=1)


def test_cached_decoding_equals_full_forward(tiny_model):
    cfg, graphdef, params = tiny_model
    tokens = random_tokens(3)
    positions = np.stack([np.concatenate([np.zeros(3, int), np.arange(9)]), np.arange(12)])
    mask = np.ones(SHAPE, bool)
    mask[0, :3] = False
    full, _ = run(graphdef, params, tokens, positions, mask)
    incremental = decode_incrementally(cfg, graphdef, params, tokens, positions, mask, prefill=5)
    np.testing.assert_allclose(incremental[0, 3:], full[0, 3:], atol=2e-5)
    np.testing.assert_allclose(incremental[1], full[1], atol=2e-5)


def test_scan_layers_equals_unrolled(tiny_model):
    cfg, graphdef, params = tiny_model
    scan_graphdef, scan_params = build(cfg.replace(scan_layers=True))
    assert jax.tree.structure(scan_params) == jax.tree.structure(params)  # same checkpoint layout
    tokens = random_tokens(4)
    unrolled, _ = run(graphdef, params, tokens)
    # the scanned pass with a cache (two chunks) covers both scan paths: layers and per-layer cache slices
    cache = model.init_cache(cfg, 2, 12)
    first, cache = run(scan_graphdef, params, tokens[:, :6], cache=cache)
    second, cache = run(scan_graphdef, params, tokens[:, 6:], np.broadcast_to(np.arange(6, 12), (2, 6)), cache=cache)
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
    tokens = jnp.asarray(random_tokens(6), jnp.int32)
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
    tokens = random_tokens(5)
    reference, _ = run(graphdef, params, tokens)
    scale = float(jnp.abs(reference).max())
    bf16_graphdef, bf16_params = build(cfg.replace(dtype="bfloat16", param_dtype="bfloat16"))
    assert {x.dtype for x in jax.tree.leaves(bf16_params)} == {jnp.dtype(jnp.bfloat16)}

    mixed, _ = run(bf16_graphdef, params, tokens)  # float32 params, bfloat16 matmul inputs
    assert mixed.dtype == jnp.float32
    assert 0 < float(jnp.abs(mixed - reference).max()) < 0.05 * scale

    cache = model.init_cache(cfg.replace(dtype="bfloat16"), 2, 12)
    assert cache.k.dtype == jnp.uint16  # bf16 bit patterns (model.cache_storage_dtype)
    params16 = jax.tree.map(lambda x: x.astype(jnp.bfloat16), params)
    logits16, cache = run(bf16_graphdef, params16, tokens, cache=cache)
    assert int(cache.index) == SHAPE[1]
    assert logits16.dtype == jnp.float32 and cache.k.dtype == jnp.uint16
    assert float(jnp.abs(logits16 - reference).max()) < 0.05 * scale
    # the stored bits are the bf16 keys: re-running without a cache gives the same logits
    no_cache, _ = run(bf16_graphdef, params16, tokens)
    np.testing.assert_allclose(logits16, no_cache, atol=1e-5 * scale)


@pytest.mark.parametrize("b_shape", [(16, 24), (3, 16, 24)])  # a weight, and batched (attention) operands
def test_bfloat16_matmul_gradients_are_close_to_float32(b_shape):
    a = jax.random.normal(jax.random.key(0), (3, 5, 16))
    b = jax.random.normal(jax.random.key(1), b_shape)
    weights = jax.random.normal(jax.random.key(2), (3, 5, 24))

    def loss(a, b, dtype):
        return jnp.sum(jnp.tanh(model.matmul(a, b, dtype)) * weights)

    grad_fn = jax.jit(jax.grad(loss, argnums=(0, 1)), static_argnums=2)
    exact = grad_fn(a, b, "float32")
    low = grad_fn(a, b, "bfloat16")
    for g_exact, g_low, x in zip(exact, low, (a, b)):
        assert g_low.shape == x.shape and g_low.dtype == jnp.float32
        error = float(jnp.abs(g_low - g_exact).max() / jnp.abs(g_exact).max())
        assert 0 < error < 2e-2, error  # bf16 rounding, not a wrong formula (that would be O(1))
    low_params = grad_fn(a, b.astype(jnp.bfloat16), "bfloat16")
    assert low_params[1].dtype == jnp.bfloat16  # gradients come back in each input's own dtype
