"""A model's identity for run files: sha256 over its config, its weights and its tokenizer.

Two runs share a fingerprint only if they sample from the same function of text, so resuming a run
(or mixing result files) with another model is caught. Runtime-only config fields (compute dtype,
scan/remat layout) change how a model is run, not what it is, and are left out; record them in the
run's settings instead.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json

import numpy as np

RUNTIME_FIELDS = ("dtype", "param_dtype", "scan_layers", "remat")


def config_identity(cfg) -> dict:
    fields = dataclasses.asdict(cfg)
    return {k: v for k, v in sorted(fields.items()) if k not in RUNTIME_FIELDS}


def weights_sha256(params) -> str:
    """Hash of every parameter (path, shape, dtype, bytes), in a fixed order, as float32."""
    import jax

    digest = hashlib.sha256()
    leaves = jax.tree_util.tree_leaves_with_path(params)
    for path, leaf in sorted(leaves, key=lambda kv: jax.tree_util.keystr(kv[0])):
        arr = np.asarray(jax.device_get(leaf), dtype=np.float32)
        digest.update(jax.tree_util.keystr(path).encode())
        digest.update(str(arr.shape).encode())
        digest.update(np.ascontiguousarray(arr).tobytes())
    return digest.hexdigest()


def tokenizer_sha256(tokenizer) -> str | None:
    if tokenizer is None:
        return None
    backend = getattr(tokenizer, "backend_tokenizer", tokenizer)
    return hashlib.sha256(backend.to_str().encode("utf-8")).hexdigest()


def model_fingerprint(cfg, params, tokenizer=None) -> dict:
    """{"sha256": combined hash, "config", "weights", "tokenizer": per-part hashes}."""
    config_sha = hashlib.sha256(json.dumps(config_identity(cfg), sort_keys=True).encode()).hexdigest()
    parts = {"config": config_sha, "weights": weights_sha256(params), "tokenizer": tokenizer_sha256(tokenizer)}
    combined = hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()
    return {"sha256": combined, **parts}
