"""Held-out response loss of models on instruction sets: did a fine-tune learn its language?

    python -m checkpoints.instruct_loss --models tiny-python,py=DIR/hf --data python=DIR/prepared,... --out FILE.json

For every (model, set): the mean NLL per trained token (the response tokens, masked as in training) over
the whole "val" split of the set's prepared directory (`jaxformer data prepare --format instruct
--val-fraction`), with the trainer's own loss (jaxformer.train.step.loss_sums). Writes FILE.json atomically.
"""
from __future__ import annotations

import argparse
import json


def held_out_loss(loaded, prepared_dir: str, batch_size: int = 4) -> dict:
    """(a last short batch compiles once more; the sets' val splits are 9-32 rows)"""
    import jax
    import jax.numpy as jnp

    from jaxformer.data.dataset import PreparedDataset, assemble
    from jaxformer.train.step import loss_sums

    _, graphdef, params, _ = loaded
    data = PreparedDataset(prepared_dir, split="val", shuffle=False)
    sums = jax.jit(lambda p, b: loss_sums(graphdef, p, b))
    total = count = 0.0
    for start in range(0, len(data), batch_size):
        batch = assemble(*data.examples(list(range(start, min(start + batch_size, len(data))))))
        t, c = sums(params, {k: jnp.asarray(v) for k, v in batch.items()})
        total, count = total + float(t), count + float(c)
    return {"loss": total / count, "tokens": int(count), "rows": len(data)}


def main(argv=None) -> int:
    from humaneval.matrix import model_label, model_spec
    from humaneval.results import write_text_atomic
    from jaxformer import sampling

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", required=True, help="comma-separated specs, each optionally label=spec")
    parser.add_argument("--data", required=True, help="comma-separated name=prepared_dir")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    sets = dict(part.split("=", 1) for part in args.data.split(","))
    result = {}
    for model in args.models.split(","):
        loaded = sampling.load(model_spec(model))
        result[model_label(model)] = {name: held_out_loss(loaded, path) for name, path in sets.items()}
    write_text_atomic(args.out, json.dumps(result, indent=2) + "\n")
    print(json.dumps({m: {s: round(v["loss"], 4) for s, v in r.items()} for m, r in result.items()}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
