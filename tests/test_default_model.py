"""The embedded default model checkpoints/tiny-python: loads by name and by path, is the documented size,
samples deterministically and has learned Python (held-out-like code scores far below uniform)."""
import json

import jax
import numpy as np
import pytest

from checkpoints import registry
from jaxformer import config, sampling, scoring

NAME = "tiny-python"
MODEL_DIR = registry.EMBEDDED_DIR / NAME
# ordinary Python written for this test (not in the corpus): the kind of code MTPB programs are made of
HELD_OUT_LIKE = '''import os


def read_lines(path):
    """Return the stripped lines of a text file."""
    with open(path) as f:
        return [line.strip() for line in f]


class Counter:
    def __init__(self):
        self.counts = {}

    def add(self, key, value=1):
        if key not in self.counts:
            self.counts[key] = 0
        self.counts[key] += value
        return self.counts[key]
'''


@pytest.fixture(scope="module")
def loaded():
    return sampling.load(NAME)


def test_it_is_an_embedded_model_found_by_name_and_by_path(loaded):
    assert NAME in registry.embedded_models()
    assert registry.resolve(NAME) == MODEL_DIR
    assert registry.resolve(str(MODEL_DIR)) == MODEL_DIR
    size = sum(p.stat().st_size for p in MODEL_DIR.rglob("*") if p.is_file())
    assert size <= 15 * 1024 * 1024


def test_size_vocab_and_context_are_as_documented(loaded):
    cfg, _, params, tok = loaded
    summary = json.loads((MODEL_DIR / "training" / "summary.json").read_text())
    n_params = sum(int(np.prod(x.shape)) for x in jax.tree.leaves(params))
    assert n_params == config.param_count(cfg) == summary["params"]
    assert cfg.vocab_size == len(tok) == 4096 and cfg.n_positions == 2048
    assert (cfg.n_layer, cfg.n_embd, cfg.n_head) == (summary["n_layer"], summary["n_embd"], summary["n_head"])
    assert tok.decode(tok.encode("def f(x):\n        return x")) == "def f(x):\n        return x"


def test_greedy_sampling_is_deterministic(loaded):
    cfg, graphdef, params, tok = loaded
    runs = [sampling.generate(cfg, graphdef, params, tok, ["def add(a, b):\n"], max_new_tokens=16,
                              sampling=sampling.SamplingParams(temperature=0.0))[0] for _ in range(2)]
    assert runs[0].token_ids == runs[1].token_ids and runs[0].text == runs[1].text
    assert runs[0].num_generated >= 1


def test_held_out_like_code_scores_far_below_the_vocab_size(loaded):
    cfg, graphdef, params, tok = loaded
    [s] = scoring.score(cfg, graphdef, params, tok, [HELD_OUT_LIKE], prepend_eos=True)
    assert s.perplexity < 0.05 * cfg.vocab_size  # uniform guessing would be 4096
