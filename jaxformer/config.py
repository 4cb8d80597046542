"""CodeGen model configuration: one frozen dataclass, named presets, HF `config.json` interop.

Presets follow REFERENCE.md "CodeGen architecture" (n_layer / n_embd / n_head / rotary_dim, all with
n_positions 2048 and the embedding padded to vocab 51200). "tiny" is a test/debug model that still
uses the full padded CodeGen vocabulary (51200 >= the tokenizer's 50295 tokens), so it runs
end to end with the real tokenizer: 2 layers, d=64, 4 heads of 16 with rotary on 8 dims,
about 6.7M parameters (almost all of them in wte and lm_head).
"""
from __future__ import annotations

import dataclasses
import typing

DTYPES = ("float32", "bfloat16")
HF_MODEL_TYPE = "codegen"
MP_NUM = 4  # the fused qkv_proj is packed for 4 model-parallel shards (see model.py)


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    vocab_size: int = 51200
    n_positions: int = 2048
    n_embd: int = 64
    n_layer: int = 2
    n_head: int = 4
    rotary_dim: int = 8
    n_inner: int | None = None  # MLP width; None means 4 * n_embd (HF convention)
    layer_norm_epsilon: float = 1e-5
    bos_token_id: int = 50256
    eos_token_id: int = 50256
    dtype: str = "float32"  # compute dtype of matmul inputs; accumulation is always float32
    param_dtype: str = "float32"
    scan_layers: bool = False  # lax.scan over the stacked layers (faster compile for deep models)
    remat: bool = False  # recompute each layer's activations in the backward pass

    def __post_init__(self):
        for name in ("vocab_size", "n_positions", "n_embd", "n_layer", "n_head", "rotary_dim"):
            _check_positive_int(name, getattr(self, name))
        if self.n_inner is not None:
            _check_positive_int("n_inner", self.n_inner)
        if self.n_embd % self.n_head:
            raise ValueError(f"n_embd={self.n_embd} must be divisible by n_head={self.n_head}")
        if self.n_head % MP_NUM:
            raise ValueError(f"n_head={self.n_head} must be a multiple of {MP_NUM} "
                             "(CodeGen packs qkv_proj for mp_num=4)")
        if self.rotary_dim > self.head_dim or self.rotary_dim % 2:
            raise ValueError(f"rotary_dim={self.rotary_dim} must be even and <= head_dim={self.head_dim}")
        if isinstance(self.layer_norm_epsilon, bool) or not isinstance(self.layer_norm_epsilon, (int, float)) \
                or not self.layer_norm_epsilon > 0:
            raise ValueError(f"layer_norm_epsilon must be a positive number, got {self.layer_norm_epsilon!r}")
        for name in ("bos_token_id", "eos_token_id"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < self.vocab_size:
                raise ValueError(f"{name}={value!r} must be an int in [0, vocab_size={self.vocab_size})")
        for name in ("dtype", "param_dtype"):
            if getattr(self, name) not in DTYPES:
                raise ValueError(f"{name}={getattr(self, name)!r} is not one of {', '.join(DTYPES)}")
        for name in ("scan_layers", "remat"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name}={getattr(self, name)!r} must be a bool")

    @property
    def head_dim(self) -> int:
        return self.n_embd // self.n_head

    @property
    def mlp_dim(self) -> int:
        return self.n_inner if self.n_inner is not None else 4 * self.n_embd

    def replace(self, **changes) -> "ModelConfig":
        """A validated copy with some fields changed (dataclasses.replace)."""
        return dataclasses.replace(self, **changes)


def _check_positive_int(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name} must be a positive int, got {value!r}")


# n_layer, n_embd, n_head, rotary_dim; each size ships as -nl, -multi and -mono with equal dimensions.
_CODEGEN_SIZES = {
    "350M": (20, 1024, 16, 32),
    "2B": (32, 2560, 32, 64),
    "6B": (33, 4096, 16, 64),
    "16B": (34, 6144, 24, 64),
}
_VARIANTS = ("nl", "multi", "mono")
PRESETS: dict[str, ModelConfig] = {
    f"codegen-{size}": ModelConfig(n_layer=l, n_embd=d, n_head=h, rotary_dim=r)
    for size, (l, d, h, r) in _CODEGEN_SIZES.items()
}
PRESETS["tiny"] = ModelConfig()


def preset(name: str) -> ModelConfig:
    """Config for "tiny", "codegen-350M" ... "codegen-16B"; a "-nl/-multi/-mono" suffix and a
    "Salesforce/" prefix are accepted since the variants share dimensions."""
    key = name.removeprefix("Salesforce/")
    for variant in _VARIANTS:
        if key.startswith("codegen-") and key.endswith(f"-{variant}"):
            key = key[: -len(variant) - 1]
    if key not in PRESETS:
        raise ValueError(f"unknown model preset {name!r}; valid: {', '.join(PRESETS)} "
                         f"(codegen-* also with a -{'/-'.join(_VARIANTS)} suffix)")
    return PRESETS[key]


def param_count(cfg: ModelConfig) -> int:
    """Number of parameters of model.CodeGen(cfg), from the dimensions alone."""
    d, f, v = cfg.n_embd, cfg.mlp_dim, cfg.vocab_size
    per_layer = (2 * d  # ln_1 scale and bias
                 + d * 3 * d  # qkv_proj, no bias
                 + d * d  # out_proj, no bias
                 + d * f + f  # fc_in
                 + f * d + d)  # fc_out
    return v * d + cfg.n_layer * per_layer + 2 * d + d * v + v  # wte, layers, ln_f, lm_head


# ---------------------------------------------------------------------------------------------
# HF config.json

_HF_REQUIRED = ("vocab_size", "n_positions", "n_embd", "n_layer", "n_head", "rotary_dim")
_HF_OPTIONAL = ("n_inner", "layer_norm_epsilon", "bos_token_id", "eos_token_id")


def from_hf_config(hf: dict, source: str = "config.json") -> ModelConfig:
    """ModelConfig from a transformers CodeGenConfig dict; `source` names the file in errors."""
    model_type = hf.get("model_type")
    if model_type != HF_MODEL_TYPE:
        raise ValueError(f"{source}: model_type {model_type!r} is not supported (expected {HF_MODEL_TYPE!r})")
    missing = [k for k in _HF_REQUIRED if hf.get(k) is None]
    if missing:
        raise ValueError(f"{source}: missing field(s) {', '.join(missing)}")
    activation = hf.get("activation_function", "gelu_new")
    if activation != "gelu_new":
        raise ValueError(f"{source}: activation_function {activation!r} is not supported (expected 'gelu_new')")
    if hf.get("tie_word_embeddings", False):
        raise ValueError(f"{source}: tie_word_embeddings=true is not supported (CodeGen's lm_head is untied)")
    fields = {k: hf[k] for k in _HF_REQUIRED}
    fields.update({k: hf[k] for k in _HF_OPTIONAL if hf.get(k) is not None})
    try:
        return ModelConfig(**fields)
    except ValueError as err:
        raise ValueError(f"{source}: {err}") from None


def to_hf_config(cfg: ModelConfig) -> dict:
    """A config.json dict that transformers loads as CodeGenForCausalLM."""
    return {
        "architectures": ["CodeGenForCausalLM"],
        "model_type": HF_MODEL_TYPE,
        "vocab_size": cfg.vocab_size,
        "n_positions": cfg.n_positions,
        "n_ctx": cfg.n_positions,
        "n_embd": cfg.n_embd,
        "n_layer": cfg.n_layer,
        "n_head": cfg.n_head,
        "rotary_dim": cfg.rotary_dim,
        "n_inner": cfg.n_inner,
        "activation_function": "gelu_new",
        "layer_norm_epsilon": cfg.layer_norm_epsilon,
        "resid_pdrop": 0.0,
        "embd_pdrop": 0.0,
        "attn_pdrop": 0.0,
        "initializer_range": 0.02,
        "bos_token_id": cfg.bos_token_id,
        "eos_token_id": cfg.eos_token_id,
        "tie_word_embeddings": False,
        "use_cache": True,
        "torch_dtype": cfg.param_dtype,
    }


# ---------------------------------------------------------------------------------------------
# key=value overrides (CLI flags, YAML-free experiments)

def parse_overrides(cfg: ModelConfig, items: typing.Iterable[str]) -> ModelConfig:
    """Apply ["n_layer=4", "dtype=bfloat16", "n_inner=none", "scan_layers=true"] to cfg."""
    fields = {f.name: f for f in dataclasses.fields(ModelConfig)}
    hints = typing.get_type_hints(ModelConfig)
    changes = {}
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep:
            raise ValueError(f"override {item!r} is not of the form key=value")
        if key not in fields:
            raise ValueError(f"override {item!r}: unknown config field {key!r}; valid: {', '.join(fields)}")
        changes[key] = _parse_value(key, hints[key], text.strip())
    return cfg.replace(**changes)


def _parse_value(key: str, hint, text: str):
    args = typing.get_args(hint)
    if type(None) in args and text.lower() in ("none", "null"):
        return None
    base = next((a for a in args if a is not type(None)), hint)
    try:
        if base is bool:
            if text.lower() not in ("true", "false", "1", "0"):
                raise ValueError
            return text.lower() in ("true", "1")
        return base(text)
    except ValueError:
        raise ValueError(f"override {key}={text!r}: expected {getattr(base, '__name__', base)}") from None
