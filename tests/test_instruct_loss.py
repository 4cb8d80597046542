"""checkpoints/instruct_loss.held_out_loss: the masked response loss of a prepared val split, equal to the
same mean computed from jaxformer.scoring's per-token log-probs of the packed rows."""
import json

import numpy as np
import pytest

from checkpoints.instruct_loss import held_out_loss
from jaxformer.data import prepare as prep


def test_held_out_loss_is_the_masked_mean_nll_of_the_val_rows(tmp_path):
    from jaxformer import sampling
    from jaxformer.scoring import score

    records = [{"instruction": f"Complete the Python code for this problem:\ndef f{i}(x):", "response":
                f"def f{i}(x):\n    return x + {i} * {i}\n"} for i in range(40)]
    src = tmp_path / "set.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in records))
    out = tmp_path / "p"
    prep.prepare(prep.PrepareConfig(sources=(str(src),), out=str(out), seq_len=64, fmt="instruct",
                                    tokenizer="checkpoints/tiny-python", val_fraction=0.5, seed=0))
    loaded = sampling.load("tiny-python")
    result = held_out_loss(loaded, out, batch_size=2)
    index = json.loads((out / "index.json").read_text())["splits"]["val"]["shards"][0]
    rows, masks = np.load(out / index["tokens"]), np.load(out / index["mask"])
    assert result["rows"] == len(rows) > 2
    scores = score(*loaded, [row.tolist() for row in rows])
    nll = -np.concatenate([np.array(s.logprobs) for s in scores])
    mask = np.concatenate([m[1:] for m in masks]).astype(bool)  # token t is predicted from t - 1
    assert result["tokens"] == mask.sum()
    assert result["loss"] == pytest.approx(nll[mask].mean(), rel=1e-3)
