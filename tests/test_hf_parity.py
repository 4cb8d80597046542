"""Parity with transformers' CodeGenForCausalLM (torch, eager attention) on random tiny configs.

HF model -> save_pretrained -> load_model: logits (plain and left-padded) and 32-token greedy decoding must
match; save_hf -> from_pretrained must reproduce the same torch state dict. Bad checkpoints get named errors.
"""
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
import transformers
from safetensors.numpy import load_file, save_file

from jaxformer import hf, model
from jaxformer.config import to_hf_config

HF_CONFIGS = {
    # partial rotary (8 of head_dim 16), default n_inner
    "rot8-h4-l2": dict(vocab_size=320, n_embd=64, n_head=4, n_layer=2, rotary_dim=8),
    # rotary over the whole head (12 of 12), 8 heads, 3 layers, explicit n_inner
    "rot12-h8-l3": dict(vocab_size=288, n_embd=96, n_head=8, n_layer=3, rotary_dim=12, n_inner=200),
}
LOGIT_TOLERANCE = 1e-4
# format/error-path tests do not depend on the dimensions: run them on one config only
one_config = pytest.mark.parametrize("converted", ["rot8-h4-l2"], indirect=True)
apply_jit = jax.jit(model.apply, static_argnums=0)


def random_hf_model(dims: dict, seed: int):
    """A CodeGenForCausalLM whose weights (incl. biases and LayerNorms) are all non-trivial, so that any
    mix-up of names, transposes or the q/v/k packing shows in the logits."""
    torch.manual_seed(seed)
    config = transformers.CodeGenConfig(n_positions=128, n_ctx=128, bos_token_id=0, eos_token_id=0, **dims)
    hf_model = transformers.CodeGenForCausalLM(config).eval()
    with torch.no_grad():
        for name, p in hf_model.named_parameters():
            if name.endswith("ln_1.weight") or name.endswith("ln_f.weight"):
                p.copy_(1 + 0.1 * torch.randn_like(p))
            else:
                p.copy_((0.3 if p.ndim == 2 else 0.1) * torch.randn_like(p))
    return hf_model


@pytest.fixture(scope="module", params=sorted(HF_CONFIGS))
def converted(request, tmp_path_factory):
    hf_model = random_hf_model(HF_CONFIGS[request.param], seed=len(request.param))
    directory = tmp_path_factory.mktemp(request.param)
    hf_model.save_pretrained(directory, safe_serialization=True)
    cfg, graphdef, params, tokenizer = hf.load_model(directory)
    assert tokenizer is None  # no tokenizer files were saved
    return hf_model, cfg, graphdef, params


def hf_logits(hf_model, tokens, mask, positions):
    with torch.no_grad():
        out = hf_model(input_ids=torch.as_tensor(tokens), attention_mask=torch.as_tensor(mask, dtype=torch.long),
                       position_ids=torch.as_tensor(positions), use_cache=False)
    return out.logits.float().numpy()


def test_logits_match_hf(converted):
    hf_model, cfg, graphdef, params = converted
    rng = np.random.default_rng(0)
    tokens = rng.integers(1, cfg.vocab_size, (2, 20))
    # row 0 is left-padded by 6: rotary positions restart at 0 on its first real token
    mask = np.ones((2, 20), bool)
    mask[0, :6] = False
    positions = np.stack([np.maximum(np.arange(20) - 6, 0), np.arange(20)])
    ours, _ = apply_jit(graphdef, params, jnp.asarray(tokens, jnp.int32), jnp.asarray(positions, jnp.int32),
                        jnp.asarray(mask))
    theirs = hf_logits(hf_model, tokens, mask, positions)
    diff = float(np.abs(np.asarray(ours) - theirs)[mask].max())
    print(f"\n{cfg.n_layer}L d{cfg.n_embd} h{cfg.n_head} rot{cfg.rotary_dim}: max|logit diff| vs HF = {diff:.2e} "
          f"(logit scale {np.abs(theirs).max():.1f})")
    assert diff <= LOGIT_TOLERANCE
    unpadded = hf_logits(hf_model, tokens[:1, 6:], mask[:1, 6:], positions[:1, 6:])
    np.testing.assert_allclose(np.asarray(ours)[0, 6:], unpadded[0], atol=LOGIT_TOLERANCE)


def greedy_decode(cfg, graphdef, params, prompt, steps):
    """Greedy decoding through the KV cache, one token per call (one compiled shape; prefill of several
    tokens at once is covered by test_model.py)."""
    B, T = prompt.shape
    cache = model.init_cache(cfg, B, T + steps)
    tokens = [jnp.asarray(prompt[:, t:t + 1], jnp.int32) for t in range(T)]
    for position in range(T + steps - 1):
        logits, cache = apply_jit(graphdef, params, tokens[position], jnp.full((B, 1), position, jnp.int32),
                                  jnp.ones((B, 1), bool), cache)
        if position >= T - 1:
            tokens.append(jnp.argmax(logits[:, -1], axis=-1).astype(jnp.int32)[:, None])
    return np.asarray(jnp.concatenate(tokens[T:], axis=1))


def test_greedy_generation_matches_hf(converted):
    hf_model, cfg, graphdef, params = converted
    prompt = np.random.default_rng(1).integers(1, cfg.vocab_size, (1, 7))
    ours = greedy_decode(cfg, graphdef, params, prompt, steps=32)
    with torch.no_grad():
        theirs = hf_model.generate(torch.as_tensor(prompt), attention_mask=torch.ones(prompt.shape, dtype=torch.long),
                                   do_sample=False, max_new_tokens=32, min_new_tokens=32, eos_token_id=None,
                                   pad_token_id=0)[:, 7:].numpy()
    assert theirs.shape == (1, 32)
    np.testing.assert_array_equal(ours, theirs)
    assert len(set(ours[0].tolist())) > 1  # the test must not pass on a constant output


def test_save_hf_reloads_in_transformers(converted, tmp_path):
    hf_model, cfg, _, params = converted
    hf.save_hf(cfg, params, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json", "model.safetensors"]
    reloaded = transformers.CodeGenForCausalLM.from_pretrained(tmp_path).eval()
    original, exported = hf_model.state_dict(), reloaded.state_dict()
    assert set(exported) == set(original)
    for name, tensor in original.items():
        assert torch.equal(exported[name], tensor), name
    tokens = torch.arange(1, 11)[None]
    with torch.no_grad():
        assert torch.equal(reloaded(tokens).logits, hf_model(tokens).logits)


@one_config
def test_pytorch_bin_loads_like_safetensors(converted, tmp_path):
    hf_model, cfg, _, params = converted
    (tmp_path / "config.json").write_text(json.dumps(hf_model.config.to_dict()))
    torch.save(hf_model.state_dict(), tmp_path / "pytorch_model.bin")
    _, _, from_bin, _ = hf.load_model(tmp_path)
    for a, b in zip(jax.tree.leaves(from_bin), jax.tree.leaves(params)):
        np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------------------------------------
# bad input: errors name the file / tensor / field


@pytest.fixture
def checkpoint(converted, tmp_path):
    """A writable copy of a converted model directory: (dir, cfg, params)."""
    _, cfg, _, params = converted
    hf.save_hf(cfg, params, tmp_path)
    return tmp_path, cfg, params


@one_config
def test_missing_files_are_named(checkpoint):
    directory, _, _ = checkpoint
    (directory / "model.safetensors").unlink()
    with pytest.raises(OSError, match="no model weights found; expected model.safetensors"):
        hf.load_model(directory)
    (directory / "config.json").unlink()
    with pytest.raises(OSError, match="config.json: model config not found"):
        hf.load_model(directory)


@one_config
def test_missing_and_mismatched_tensors_are_named(checkpoint):
    directory, cfg, _ = checkpoint
    weights = directory / "model.safetensors"
    tensors = load_file(str(weights))
    name = "transformer.h.1.attn.qkv_proj.weight"
    wrong = dict(tensors, **{name: np.zeros((3 * cfg.n_embd, cfg.n_embd + 1), np.float32)})
    save_file(wrong, str(weights), metadata={"format": "pt"})
    with pytest.raises(ValueError, match=rf"tensor {name} has shape \({3 * cfg.n_embd}, {cfg.n_embd + 1}\), "
                                         rf"expected \({3 * cfg.n_embd}, {cfg.n_embd}\)"):
        hf.load_model(directory)
    save_file({k: v for k, v in tensors.items() if k != "lm_head.bias"}, str(weights), metadata={"format": "pt"})
    with pytest.raises(ValueError, match=rf"missing tensor lm_head.bias \(expected shape \({cfg.vocab_size},\)\)"):
        hf.load_model(directory)
    extra = dict(tensors, **{f"transformer.h.{cfg.n_layer}.ln_1.weight": tensors["transformer.h.0.ln_1.weight"]})
    save_file(extra, str(weights), metadata={"format": "pt"})
    with pytest.raises(ValueError, match=f"unexpected tensor.*transformer.h.{cfg.n_layer}.ln_1.weight"):
        hf.load_model(directory)
    # HF's non-persistent attention buffers are ignored
    buffers = dict(tensors, **{"transformer.h.0.attn.masked_bias": np.zeros((), np.float32)})
    save_file(buffers, str(weights), metadata={"format": "pt"})
    hf.load_model(directory)


@one_config
def test_bad_config_is_named(checkpoint):
    directory, cfg, _ = checkpoint
    config_file = directory / "config.json"
    config_file.write_text(json.dumps({**to_hf_config(cfg), "model_type": "gptj"}))
    with pytest.raises(ValueError, match="config.json: model_type 'gptj' is not supported"):
        hf.load_model(directory)
    config_file.write_text("{not json")
    with pytest.raises(ValueError, match="config.json: not valid JSON"):
        hf.load_model(directory)


@one_config
def test_tokenizer_is_saved_and_loaded(checkpoint, tmp_path):
    from jaxformer import tokenizer

    directory, cfg, params = checkpoint
    tok = tokenizer.load("codegen")
    out = hf.save_hf(cfg, params, tmp_path / "with_tokenizer", tokenizer=tok)
    _, _, _, loaded = hf.load_model(out)
    text = "def f(x):\n        return x\t\t+ 1\n"
    assert loaded is not None and loaded(text)["input_ids"] == tok(text)["input_ids"]


@one_config
def test_load_model_applies_runtime_overrides(checkpoint):
    directory, _, params = checkpoint
    cfg, _, params16, _ = hf.load_model(directory, param_dtype="bfloat16", scan_layers=True)
    assert cfg.scan_layers and {x.dtype for x in jax.tree.leaves(params16)} == {jnp.dtype(jnp.bfloat16)}
    np.testing.assert_allclose(np.asarray(params16["wte"][...], np.float32), params["wte"][...], rtol=1e-2)


# ---------------------------------------------------------------------------------------------
# jaxformer convert


@one_config
def test_convert_from_hf_bin_writes_canonical_safetensors(converted, tmp_path, capsys):
    from jaxformer.cli import main

    hf_model, cfg, _, params = converted
    src = tmp_path / "src"
    src.mkdir()
    (src / "config.json").write_text(json.dumps(hf_model.config.to_dict()))
    torch.save({k: v.half() for k, v in hf_model.state_dict().items()}, src / "pytorch_model.bin")  # fp16 release
    assert main(["convert", "--from-hf", str(src), "--out", str(tmp_path / "out")]) == 0
    assert "wrote" in capsys.readouterr().out
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["config.json", "model.safetensors"]
    cfg_out, _, params_out, _ = hf.load_model(tmp_path / "out")
    assert cfg_out == cfg
    for a, b in zip(jax.tree.leaves(params_out), jax.tree.leaves(params)):
        assert a.dtype == jnp.float32
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-3)  # fp16 rounding of the source only

    # a second run refuses to overwrite; the CLI reports it as a user error naming the directory
    assert main(["convert", "--from-hf", str(src), "--out", str(tmp_path / "out")]) == 2
    assert "already holds a model" in capsys.readouterr().err
    assert main(["convert", "--from-hf", str(tmp_path / "nope"), "--out", str(tmp_path / "x")]) == 2
    assert "nope: source model directory not found" in capsys.readouterr().err


@one_config
def test_convert_to_hf_bfloat16_with_tokenizer(checkpoint, tmp_path):
    from jaxformer.commands.convert import convert

    directory, cfg, params = checkpoint
    out = convert(str(directory), str(tmp_path / "export"), dtype="bfloat16", tokenizer="codegen", from_hf=False)
    assert (out / "tokenizer.json").is_file()
    reloaded = transformers.CodeGenForCausalLM.from_pretrained(out)
    assert reloaded.lm_head.weight.dtype == torch.bfloat16
    expected = np.asarray(params["lm_head_kernel"][...]).T
    np.testing.assert_allclose(reloaded.lm_head.weight.detach().float().numpy(), expected, rtol=1e-2, atol=1e-2)
    (tmp_path / "empty").mkdir()
    with pytest.raises(OSError, match="empty: not a model directory"):
        convert(str(tmp_path / "empty"), str(tmp_path / "again"), from_hf=False)
