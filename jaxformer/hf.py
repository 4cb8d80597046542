"""Load and save CodeGen models in Hugging Face format (config.json + model.safetensors).

HF format is also our on-disk model format, so every model directory the toolkit reads or writes is
one that `transformers.CodeGenForCausalLM.from_pretrained` can open too.

    cfg, graphdef, params, tokenizer = load_model("ckpt/")       # tokenizer is None without tokenizer files
    save_hf(cfg, params, "out/", tokenizer=tokenizer)

Reading safetensors needs only numpy; pytorch_model.bin needs torch. Sharded checkpoints
(`*.index.json` + shards) are read too. See model.py for the name and layout mapping.
"""
from __future__ import annotations

import json
import os
import pathlib

import numpy as np

from jaxformer import fileio
from jaxformer.config import ModelConfig, from_hf_config, to_hf_config

CONFIG_FILE = "config.json"
SAFETENSORS_FILE = "model.safetensors"
TORCH_FILE = "pytorch_model.bin"
TOKENIZER_FILES = ("tokenizer.json", "vocab.json")

# our param name -> (HF tensor name, transposed?). torch Linear weights are [out, in]; our kernels [in, out].
GLOBAL_TENSORS = {
    "wte": ("transformer.wte.weight", False),
    "ln_f_scale": ("transformer.ln_f.weight", False),
    "ln_f_bias": ("transformer.ln_f.bias", False),
    "lm_head_kernel": ("lm_head.weight", True),
    "lm_head_bias": ("lm_head.bias", False),
}
LAYER_TENSORS = {  # under transformer.h.{N}.
    "ln_1_scale": ("ln_1.weight", False),
    "ln_1_bias": ("ln_1.bias", False),
    "qkv_proj": ("attn.qkv_proj.weight", True),
    "out_proj": ("attn.out_proj.weight", True),
    "fc_in_kernel": ("mlp.fc_in.weight", True),
    "fc_in_bias": ("mlp.fc_in.bias", False),
    "fc_out_kernel": ("mlp.fc_out.weight", True),
    "fc_out_bias": ("mlp.fc_out.bias", False),
}
# non-persistent buffers some (older) HF exports contain; they hold no learned state
IGNORED_BUFFERS = ("attn.causal_mask", "attn.masked_bias", "attn.bias", "attn.embed_positions")


# ---------------------------------------------------------------------------------------------
# loading

def load_model(path: str | os.PathLike, **config_changes):
    """(cfg, graphdef, params, tokenizer or None) from an HF-format directory.

    config_changes override runtime fields, e.g. dtype="bfloat16", param_dtype=..., scan_layers=True.
    """
    path = pathlib.Path(path)
    cfg = read_config(path).replace(**config_changes)
    tensors = read_tensors(path)
    graphdef, params = params_from_hf(cfg, tensors, source=str(path))
    return cfg, graphdef, params, load_tokenizer(path)


def read_config(path: pathlib.Path) -> ModelConfig:
    config_file = path / CONFIG_FILE
    if not config_file.is_file():
        raise OSError(f"{config_file}: model config not found")
    try:
        hf = json.loads(config_file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{config_file}: not valid JSON ({err})") from err
    if not isinstance(hf, dict):
        raise ValueError(f"{config_file}: expected a JSON object")
    return from_hf_config(hf, source=str(config_file))


def read_tensors(path: pathlib.Path) -> dict[str, np.ndarray]:
    """All tensors of model.safetensors, pytorch_model.bin, or their sharded `.index.json` forms."""
    for weights, reader in ((SAFETENSORS_FILE, _read_safetensors), (TORCH_FILE, _read_torch)):
        if (path / weights).is_file():
            return reader(path / weights)
        index_file = path / f"{weights}.index.json"
        if index_file.is_file():
            tensors = {}
            for shard in sorted(set(_weight_map(index_file).values())):
                tensors.update(reader(path / shard))
            return tensors
    raise OSError(f"{path}: no model weights found; expected {SAFETENSORS_FILE} or {TORCH_FILE} "
                  "(or a sharded *.index.json)")


def _weight_map(index_file: pathlib.Path) -> dict[str, str]:
    try:
        weight_map = json.loads(index_file.read_text(encoding="utf-8"))["weight_map"]
    except (json.JSONDecodeError, KeyError, TypeError) as err:
        raise ValueError(f"{index_file}: expected JSON with a 'weight_map' object ({err!r})") from err
    return weight_map


def _read_safetensors(file: pathlib.Path) -> dict[str, np.ndarray]:
    from safetensors.numpy import load_file

    if not file.is_file():
        raise OSError(f"{file}: weights file not found")
    try:
        return load_file(str(file))
    except Exception as err:  # safetensors raises its own Rust-side error types
        raise ValueError(f"{file}: cannot be read as safetensors ({err})") from err


def _read_torch(file: pathlib.Path) -> dict[str, np.ndarray]:
    if not file.is_file():
        raise OSError(f"{file}: weights file not found")
    try:
        import torch
    except ImportError as err:
        raise OSError(f"{file}: reading pytorch_model.bin needs torch; convert it to safetensors") from err
    state = torch.load(file, map_location="cpu", weights_only=True)
    # numpy has no bfloat16 interop through torch; float32 holds fp16/bf16 exactly
    return {name: t.float().numpy() if t.is_floating_point() else t.numpy() for name, t in state.items()}


def params_from_hf(cfg: ModelConfig, tensors: dict[str, np.ndarray], source: str = "checkpoint"):
    """(graphdef, params) of model.CodeGen(cfg) holding the HF tensors, checked name by name and shape by shape."""
    import jax.numpy as jnp
    from flax import nnx

    from jaxformer import model

    _reject_unexpected(tensors, cfg, source)
    abstract = nnx.eval_shape(lambda: model.CodeGen(cfg, rngs=nnx.Rngs(0)))
    graphdef, params = nnx.split(abstract)
    expected = nnx.to_pure_dict(params)
    dtype = jnp.dtype(cfg.param_dtype)

    def take(hf_name: str, transposed: bool, shape: tuple[int, ...]) -> np.ndarray:
        if hf_name not in tensors:
            raise ValueError(f"{source}: missing tensor {hf_name} (expected shape {_torch_shape(shape, transposed)})")
        value = np.asarray(tensors[hf_name])
        if value.shape != _torch_shape(shape, transposed):
            raise ValueError(f"{source}: tensor {hf_name} has shape {tuple(value.shape)}, "
                             f"expected {_torch_shape(shape, transposed)}")
        return value.T if transposed else value

    loaded = {}
    for name, (hf_name, transposed) in GLOBAL_TENSORS.items():
        loaded[name] = jnp.asarray(take(hf_name, transposed, expected[name].shape), dtype)
    loaded["h"] = {}
    for name, (suffix, transposed) in LAYER_TENSORS.items():
        layer_shape = expected["h"][name].shape[1:]
        loaded["h"][name] = jnp.asarray(np.stack([take(f"transformer.h.{i}.{suffix}", transposed, layer_shape)
                                                  for i in range(cfg.n_layer)]), dtype)
    nnx.replace_by_pure_dict(params, loaded)
    return graphdef, params


def _torch_shape(shape: tuple[int, ...], transposed: bool) -> tuple[int, ...]:
    return tuple(reversed(shape)) if transposed else tuple(shape)


def _reject_unexpected(tensors, cfg: ModelConfig, source: str) -> None:
    known = {hf for hf, _ in GLOBAL_TENSORS.values()}
    known |= {f"transformer.h.{i}.{suffix}" for i in range(cfg.n_layer) for suffix, _ in LAYER_TENSORS.values()}
    unexpected = sorted(n for n in tensors if n not in known and not n.endswith(IGNORED_BUFFERS))
    if unexpected:
        shown = ", ".join(unexpected[:5]) + (" ..." if len(unexpected) > 5 else "")
        raise ValueError(f"{source}: unexpected tensor(s) {shown} for a {cfg.n_layer}-layer CodeGen "
                         "(wrong config.json or not a CodeGen checkpoint?)")


def load_tokenizer(path: pathlib.Path):
    """The directory's tokenizer via jaxformer.tokenizer.load, or None when it holds no tokenizer files."""
    if not any((path / name).is_file() for name in TOKENIZER_FILES):
        return None
    from jaxformer import tokenizer

    return tokenizer.load(path)


# ---------------------------------------------------------------------------------------------
# saving

def hf_tensors(cfg: ModelConfig, params) -> dict[str, np.ndarray]:
    """HF-named, torch-layout numpy tensors from params (an nnx.State or its pure dict)."""
    from flax import nnx

    pure = params if isinstance(params, dict) else nnx.to_pure_dict(params)
    tensors = {}

    def put(hf_name: str, value, transposed: bool):
        value = np.asarray(value)
        tensors[hf_name] = np.ascontiguousarray(value.T if transposed else value)

    for name, (hf_name, transposed) in GLOBAL_TENSORS.items():
        put(hf_name, pure[name], transposed)
    for name, (suffix, transposed) in LAYER_TENSORS.items():
        stacked = np.asarray(pure["h"][name])
        if stacked.shape[0] != cfg.n_layer:
            raise ValueError(f"param h.{name} has {stacked.shape[0]} layers, config says n_layer={cfg.n_layer}")
        for i in range(cfg.n_layer):
            put(f"transformer.h.{i}.{suffix}", stacked[i], transposed)
    return tensors


def save_hf(cfg: ModelConfig, params, out_dir: str | os.PathLike, tokenizer=None) -> pathlib.Path:
    """Write config.json + model.safetensors (+ tokenizer files) that transformers can load."""
    from safetensors.numpy import save_file

    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tensors = hf_tensors(cfg, params)
    # weights first, config last: a directory with a config.json always has its complete weights
    with fileio.atomic_path(out / SAFETENSORS_FILE) as tmp:
        save_file(tensors, str(tmp), metadata={"format": "pt"})  # transformers requires format=pt
    fileio.write_text_atomic(out / CONFIG_FILE, json.dumps(to_hf_config(cfg), indent=2) + "\n")
    if tokenizer is not None:
        tokenizer.save_pretrained(str(out))
    return out
