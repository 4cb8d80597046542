"""Convert CodeGen models between Hugging Face format and this toolkit.

Our on-disk model format *is* HF format (config.json + model.safetensors), so the two directions are:

  jaxformer convert --from-hf DIR --out OUT
      Read any HF CodeGen directory (model.safetensors or pytorch_model.bin, sharded or not, fp16/bf16/fp32),
      check every tensor's name and shape against config.json, and write it back canonically: one
      model.safetensors in --dtype (default float32), a normalized config.json, and the tokenizer files
      if DIR has them. Loading OUT needs no torch.

  jaxformer convert --to-hf SRC --out OUT
      Export a model this toolkit wrote for use with transformers (CodeGenForCausalLM.from_pretrained(OUT)).
      SRC is read by `load_for_export`, today an HF-format directory; that function is the single place
      where other source formats (e.g. a trainer checkpoint directory) plug in.

--tokenizer NAME_OR_DIR attaches a tokenizer (e.g. "codegen") when the source has none.
"""
from __future__ import annotations

import pathlib

HELP = "convert CodeGen models between HF format and this toolkit (validating every tensor)"


def add_arguments(parser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--from-hf", metavar="DIR", help="HF CodeGen model directory to import")
    source.add_argument("--to-hf", metavar="SRC", help="toolkit model directory to export for transformers")
    parser.add_argument("--out", metavar="DIR", required=True, help="output directory (HF format)")
    parser.add_argument("--dtype", choices=("float32", "bfloat16"), default="float32",
                        help="dtype of the written weights (default: float32)")
    parser.add_argument("--tokenizer", metavar="NAME_OR_DIR",
                        help="tokenizer to save alongside, if the source has none (e.g. 'codegen')")
    parser.add_argument("--overwrite", action="store_true", help="replace a model already in --out")


def load_for_export(src: pathlib.Path):
    """(cfg, params, tokenizer or None) of the model in src, for --to-hf.

    Extension point: a trainer checkpoint directory (orbax) should be recognised and restored here,
    returning its ModelConfig and params (nnx.State or pure dict); everything after this is shared."""
    from jaxformer import hf

    if (src / hf.CONFIG_FILE).is_file():
        cfg, _, params, tokenizer = hf.load_model(src)
        return cfg, params, tokenizer
    raise OSError(f"{src}: not a model directory (no {hf.CONFIG_FILE}); --to-hf reads HF-format directories")


def convert(src: str, out: str, dtype: str = "float32", tokenizer: str | None = None, overwrite: bool = False,
            from_hf: bool = True) -> pathlib.Path:
    """Library form of the command; returns the output directory."""
    from jaxformer import hf

    src_dir, out_dir = pathlib.Path(src), pathlib.Path(out)
    if not src_dir.is_dir():
        raise OSError(f"{src_dir}: source model directory not found")
    if (out_dir / hf.CONFIG_FILE).exists() and not overwrite:
        raise OSError(f"{out_dir}: already holds a model ({hf.CONFIG_FILE}); pass --overwrite to replace it")
    if from_hf:
        cfg, _, params, tok = hf.load_model(src_dir, param_dtype=dtype)
    else:
        cfg, params, tok = load_for_export(src_dir)
        cfg = cfg.replace(param_dtype=dtype)
    if tokenizer is not None:
        from jaxformer import tokenizer as tokenizer_lib
        tok = tokenizer_lib.load(tokenizer)
    return hf.save_hf(cfg, _cast(params, dtype), out_dir, tokenizer=tok)


def _cast(params, dtype: str):
    import jax
    import jax.numpy as jnp

    return jax.tree.map(lambda x: jnp.asarray(x, jnp.dtype(dtype)), params)


def run(args) -> int:
    from jaxformer.config import param_count

    src = args.from_hf if args.from_hf is not None else args.to_hf
    out = convert(src, args.out, dtype=args.dtype, tokenizer=args.tokenizer, overwrite=args.overwrite,
                  from_hf=args.from_hf is not None)
    from jaxformer import hf

    cfg = hf.read_config(out)
    print(f"wrote {out} ({cfg.n_layer} layers, d={cfg.n_embd}, {param_count(cfg) / 1e6:.1f}M params, {args.dtype})")
    return 0
