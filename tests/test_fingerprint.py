"""Model fingerprint: the same model hashes the same; weights, config and tokenizer each change it;
runtime-only fields (compute dtype, scan layout) do not."""
import jax
import numpy as np
from flax import nnx

from jaxformer import model, tokenizer
from jaxformer.config import ModelConfig
from jaxformer.fingerprint import model_fingerprint

CFG = ModelConfig(vocab_size=96, n_positions=32, n_embd=32, n_head=4, n_layer=1, rotary_dim=4,
                  bos_token_id=0, eos_token_id=0)


def build(cfg=CFG, seed=0):
    _, params = nnx.split(model.CodeGen(cfg, rngs=nnx.Rngs(seed)))
    return params


def test_same_model_same_fingerprint_and_each_part_changes_it():
    params = build()
    tok = tokenizer.load("gpt2")
    base = model_fingerprint(CFG, params, tok)
    assert base == model_fingerprint(CFG, build(), tok)
    assert len(base["sha256"]) == 64 and base["tokenizer"] is not None

    nudged = jax.tree.map(lambda x: x, params)
    leaves, treedef = jax.tree_util.tree_flatten(nudged)
    leaves[0] = np.asarray(leaves[0]).copy()
    leaves[0].flat[0] += 1e-3
    other_weights = model_fingerprint(CFG, jax.tree_util.tree_unflatten(treedef, leaves), tok)
    assert other_weights["weights"] != base["weights"] and other_weights["sha256"] != base["sha256"]
    assert other_weights["config"] == base["config"]

    other_seed = model_fingerprint(CFG, build(seed=1), tok)
    assert other_seed["sha256"] != base["sha256"]

    wider = CFG.replace(n_positions=64)  # same weights shapes, another model (context)
    assert model_fingerprint(wider, params, tok)["config"] != base["config"]

    other_tok = model_fingerprint(CFG, params, tokenizer.load("codegen"))
    assert other_tok["tokenizer"] != base["tokenizer"] and other_tok["weights"] == base["weights"]
    assert model_fingerprint(CFG, params, None)["tokenizer"] is None


def test_runtime_fields_are_not_part_of_the_identity():
    params = build()
    base = model_fingerprint(CFG, params)
    assert model_fingerprint(CFG.replace(dtype="bfloat16", scan_layers=not CFG.scan_layers), params) == base
