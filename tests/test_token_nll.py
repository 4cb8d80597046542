"""The fused, vocab-chunked lm_head + cross-entropy equals the plain logits -> log_softmax computation."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxformer.token_nll import chunk_size, token_nll

F32 = jnp.float32


def _problem(N=48, D=16, V=300, seed=0):
    k = jax.random.split(jax.random.key(seed), 4)
    return (jax.random.normal(k[0], (N, D), F32), jax.random.normal(k[1], (D, V), F32) * 0.3,
            jax.random.normal(k[2], (V,), F32) * 0.5, jax.random.randint(k[3], (N,), 0, V))


def _reference_nll(h, W, b, targets):
    logprobs = jax.nn.log_softmax(jnp.matmul(h, W, precision="highest") + b, axis=-1)
    return -jnp.take_along_axis(logprobs, targets[:, None], axis=-1)[:, 0]


def test_chunk_size_divides_the_vocabulary():
    assert chunk_size(51200, 512) == 512
    assert chunk_size(300, 128) == 100
    assert chunk_size(97, 64) == 1  # a prime vocabulary still works, one column at a time
    assert chunk_size(300, 0) == 300 and chunk_size(300, 4096) == 300


@pytest.mark.parametrize("chunk", [1, 64, 128, 300])
def test_forward_equals_log_softmax(chunk):
    h, W, b, t = _problem()
    np.testing.assert_allclose(token_nll(h, W, b, t, F32, chunk), _reference_nll(h, W, b, t), rtol=1e-5, atol=1e-5)


def test_gradients_equal_the_reference_and_zero_weight_tokens_get_exactly_zero():
    h, W, b, t = _problem()
    weights = jnp.where(jnp.arange(h.shape[0]) % 3 == 0, 0.0, 1.0 + jnp.arange(h.shape[0]) / 10)

    def fused(h, W, b):
        return (token_nll(h, W, b, t, F32, 64) * weights).sum()

    def reference(h, W, b):
        return (_reference_nll(h, W, b, t) * weights).sum()

    got = jax.grad(fused, argnums=(0, 1, 2))(h, W, b)
    want = jax.grad(reference, argnums=(0, 1, 2))(h, W, b)
    for name, g, w in zip(("hidden", "kernel", "bias"), got, want):
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-5, err_msg=name)
    dh = np.asarray(got[0])
    assert np.all(dh[::3] == 0.0) and np.all(np.abs(dh[1::3]).sum(-1) > 0)


def test_bf16_matmuls_stay_close_to_f32():
    h, W, b, t = _problem(seed=1)
    f32 = np.asarray(token_nll(h, W, b, t, F32, 100))
    bf16 = np.asarray(token_nll(h, W, b, t, jnp.bfloat16, 100))
    assert not np.array_equal(f32, bf16)
    np.testing.assert_allclose(bf16, f32, rtol=2e-2, atol=2e-2)
    g32 = jax.grad(lambda W: token_nll(h, W, b, t, F32, 100).sum())(W)
    g16 = jax.grad(lambda W: token_nll(h, W, b, t, jnp.bfloat16, 100).sum())(W)
    np.testing.assert_allclose(g16, g32, rtol=0.05, atol=0.02)

