"""Shared by the `humaneval generate` tests: three small problems (every prompt in one 16-token bucket, so
a run compiles once) and a random-init HF CodeGen saved with save_pretrained plus the CodeGen tokenizer."""
import atexit
import functools
import json
import shutil
import tempfile

import pytest

PROBLEMS = [
    {"task_id": "T/0", "prompt": 'def add(a, b):\n    """a + b"""\n', "entry_point": "add",
     "canonical_solution": "    return a + b\n", "test": "def check(candidate):\n    assert candidate(1, 2) == 3\n"},
    {"task_id": "T/1", "prompt": 'def neg(x):\n    """-x"""\n', "entry_point": "neg",
     "canonical_solution": "    return -x\n", "test": "def check(candidate):\n    assert candidate(2) == -2\n"},
    {"task_id": "T/2", "prompt": "def one():\n", "entry_point": "one", "canonical_solution": "    return 1\n",
     "test": "def check(candidate):\n    assert candidate() == 1\n"},
]
LOGPROB_FIELDS = ("mean_logprob", "sum_logprob")


def write_problems(path):
    path.write_text("".join(json.dumps(p) + "\n" for p in PROBLEMS))
    return path


def save_tiny_hf_model(directory, seed: int = 0):
    """A 1-layer CodeGenForCausalLM over the CodeGen vocabulary, weights large enough that greedy
    decoding wanders (random text, not one repeated token). Returns the torch model."""
    import torch
    import transformers

    from jaxformer import tokenizer

    torch.manual_seed(seed)
    config = transformers.CodeGenConfig(vocab_size=50304, n_positions=128, n_ctx=128, n_embd=32, n_head=4,
                                        n_layer=1, rotary_dim=4, bos_token_id=50256, eos_token_id=50256)
    model = transformers.CodeGenForCausalLM(config).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("ln_1.weight") or name.endswith("ln_f.weight"):
                p.copy_(1 + 0.1 * torch.randn_like(p))
            else:
                p.copy_((0.3 if p.ndim == 2 else 0.1) * torch.randn_like(p))
    model.save_pretrained(directory, safe_serialization=True)
    tokenizer.load("codegen").save_pretrained(str(directory))
    return model


@functools.cache
def tiny_model_dir() -> str:
    """save_tiny_hf_model(seed 0) into a temp dir, once per test process (building it costs the most)."""
    directory = tempfile.mkdtemp(prefix="humaneval-tiny-")
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    save_tiny_hf_model(directory)
    return directory


def assert_same_rows(got, expected):
    """Same rows: text, tokens and reasons exactly; log-probs to float32 rounding (a matmul's last bits
    may depend on the batch shape it ran in)."""
    assert len(got) == len(expected)
    for a, b in zip(got, expected):
        assert {k: v for k, v in a.items() if k not in LOGPROB_FIELDS} == \
               {k: v for k, v in b.items() if k not in LOGPROB_FIELDS}
        for k in LOGPROB_FIELDS:
            assert a[k] == pytest.approx(b[k], rel=1e-5, abs=1e-5)
