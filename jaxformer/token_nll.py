"""lm_head + cross-entropy fused and chunked over the vocabulary: per-token NLL without [N, V] logits.

    nll_N = token_nll(hidden_NxD, kernel_DxV, bias_V, targets_N, dtype, vocab_chunk=512)

equals logsumexp(hidden @ kernel + bias) - (hidden @ kernel + bias)[target], in float32. Used by the
trainer's loss and by teacher-forced scoring (log-prob = -nll).

Why: with CodeGen's 51,200-token vocabulary the logits dominate small models. On XLA:CPU a [2048, 51200]
f32 logits array costs ~1.5 ns per element for every pass over memory (allocation, exp, reduce, the
softmax gradient), about 1 s per train step of the tiny preset, while the same work on a chunk that stays
in L2 runs ~5x faster. So the forward runs an online logsumexp over vocab chunks, and the custom backward
recomputes each chunk's logits (one extra [N, D] x [D, chunk] matmul) instead of storing them.
Matmuls use model.matmul's precision (inputs in `dtype`, f32 accumulation; the bf16 backward rounds the
logit cotangent to bf16, as model.matmul does). A token whose cotangent is 0 (a masked loss token) gets
exactly zero gradient.
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

F32 = jnp.float32
DEFAULT_VOCAB_CHUNK = 512


def chunk_size(vocab: int, requested: int) -> int:
    """The largest divisor of vocab that is <= requested (vocab itself if requested <= 0)."""
    if requested <= 0 or requested >= vocab:
        return vocab
    for c in range(requested, 0, -1):
        if vocab % c == 0:
            return c
    return vocab


def token_nll(hidden_NxD, kernel_DxV, bias_V, targets_N, dtype, vocab_chunk: int = DEFAULT_VOCAB_CHUNK):
    """Per-token -log softmax(hidden @ kernel + bias)[target], float32 [N]. targets must be in [0, V)."""
    chunk = chunk_size(kernel_DxV.shape[1], vocab_chunk)
    return _token_nll(hidden_NxD, kernel_DxV, bias_V, targets_N, jnp.dtype(dtype), chunk)


def _chunks(kernel_DxV, bias_V, chunk: int):
    """Kernel as [C, D, chunk] and bias as [C, chunk], the scan's per-chunk inputs."""
    D, V = kernel_DxV.shape
    return kernel_DxV.reshape(D, V // chunk, chunk).transpose(1, 0, 2), bias_V.reshape(V // chunk, chunk)


def _matmul(a, b, dtype):
    return jnp.matmul(a.astype(dtype), b.astype(dtype), preferred_element_type=F32)


def _forward(hidden_NxD, kernel_DxV, bias_V, targets_N, dtype, chunk):
    N = hidden_NxD.shape[0]
    h = hidden_NxD.astype(dtype)
    kernels, biases = _chunks(kernel_DxV, bias_V, chunk)

    def step(carry, xs):
        max_N, sum_N, target_N = carry
        c, k_DxC, b_C = xs
        logits_NxC = _matmul(h, k_DxC, dtype) + b_C.astype(F32)
        new_max = jnp.maximum(max_N, logits_NxC.max(-1))
        sum_N = sum_N * jnp.exp(max_N - new_max) + jnp.exp(logits_NxC - new_max[:, None]).sum(-1)
        local = targets_N - c * chunk
        inside = (local >= 0) & (local < chunk)
        picked = jnp.take_along_axis(logits_NxC, jnp.clip(local, 0, chunk - 1)[:, None], axis=-1)[:, 0]
        return (new_max, sum_N, jnp.where(inside, picked, target_N)), None

    init = (jnp.full((N,), -jnp.inf, F32), jnp.zeros((N,), F32), jnp.zeros((N,), F32))
    (max_N, sum_N, target_N), _ = jax.lax.scan(step, init, (jnp.arange(kernels.shape[0]), kernels, biases))
    lse_N = max_N + jnp.log(sum_N)
    return lse_N - target_N, lse_N


@functools.partial(jax.custom_vjp, nondiff_argnums=(4, 5))
def _token_nll(hidden_NxD, kernel_DxV, bias_V, targets_N, dtype, chunk):
    return _forward(hidden_NxD, kernel_DxV, bias_V, targets_N, dtype, chunk)[0]


def _token_nll_fwd(hidden_NxD, kernel_DxV, bias_V, targets_N, dtype, chunk):
    nll_N, lse_N = _forward(hidden_NxD, kernel_DxV, bias_V, targets_N, dtype, chunk)
    return nll_N, (hidden_NxD, kernel_DxV, bias_V, targets_N, lse_N)


def _token_nll_bwd(dtype, chunk, residuals, g_N):
    hidden_NxD, kernel_DxV, bias_V, targets_N, lse_N = residuals
    (N, D), V = hidden_NxD.shape, kernel_DxV.shape[1]
    h_NxD = hidden_NxD.astype(dtype)
    # The kernel chunks are also stacked transposed, once: XLA:CPU runs dlogits @ kernel_chunk.T ~5x
    # slower at these shapes than with a contiguous [chunk, D] operand. The kernel gradient
    # h.T @ dlogits is an f32 matmul: its bf16 form hit "Unsupported element type for DotThunk" in the
    # bf16 train step with a one-chunk vocabulary (tests/test_train_step.py covers it).
    h_DxN = hidden_NxD.astype(F32).T
    kernels, biases = _chunks(kernel_DxV, bias_V, chunk)
    kernels_T = kernels.astype(dtype).transpose(0, 2, 1)
    g_N = g_N.astype(F32)
    rows_N = jnp.arange(N)

    def step(dh_NxD, xs):
        c, k_DxC, kT_CxD, b_C = xs
        logits_NxC = _matmul(h_NxD, k_DxC, dtype) + b_C.astype(F32)
        # d nll / d logits = (softmax - onehot(target)) * g; the onehot part as a scatter of N values,
        # since an iota-compare fused into this elementwise pass made it ~3x slower here
        dlogits_NxC = jnp.exp(logits_NxC - lse_N[:, None]) * g_N[:, None]
        local_N = targets_N - c * chunk
        inside_N = (local_N >= 0) & (local_N < chunk)
        dlogits_NxC = dlogits_NxC.at[rows_N, jnp.clip(local_N, 0, chunk - 1)].add(jnp.where(inside_N, -g_N, 0.0))
        dlogits_low = dlogits_NxC.astype(dtype)
        dh_NxD = dh_NxD + jnp.matmul(dlogits_low, kT_CxD, preferred_element_type=F32)
        dk_DxC = jnp.matmul(h_DxN, dlogits_NxC, preferred_element_type=F32)
        return dh_NxD, (dk_DxC, dlogits_NxC.sum(0))

    dh_NxD, (dk_CxDxC, db_CxC) = jax.lax.scan(step, jnp.zeros((N, D), F32),
                                             (jnp.arange(kernels.shape[0]), kernels, kernels_T, biases))
    dk_DxV = dk_CxDxC.transpose(1, 0, 2).reshape(D, V)
    return (dh_NxD.astype(hidden_NxD.dtype), dk_DxV.astype(kernel_DxV.dtype), db_CxC.reshape(V).astype(bias_V.dtype),
            None)


_token_nll.defvjp(_token_nll_fwd, _token_nll_bwd)
