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


def save_tiny_hf_model(directory):
    """test_hf_parity's random CodeGenForCausalLM (non-trivial weights everywhere, so greedy text wanders)
    at 1 layer over the CodeGen vocabulary, saved with save_pretrained plus the CodeGen tokenizer."""
    from test_hf_parity import random_hf_model

    from jaxformer import tokenizer

    model = random_hf_model(dict(vocab_size=50304, n_embd=32, n_head=4, n_layer=1, rotary_dim=4), seed=0)
    model.save_pretrained(directory, safe_serialization=True)
    tokenizer.load("codegen").save_pretrained(str(directory))


@functools.cache
def tiny_model_dir() -> str:
    """save_tiny_hf_model() into a temp dir, once per test process (building it costs the most)."""
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
