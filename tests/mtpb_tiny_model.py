"""A tiny random HF CodeGen (2 layers, d=64, 256 positions) with the CodeGen tokenizer, saved with
save_pretrained, for the MTPB generation tests. Its lm_head bias favours a few code-like tokens
(newlines, '#', 'print', 'def', names, operators), so its samples have lines, comments and blank lines:
the truncation rules, their early stop and EOS all get exercised, unlike plain random weights."""
import json

import torch
import transformers

from jaxformer import tokenizer as tokenizer_lib

FAVOURED = ["\n", "\n\n", "#", " #", "print", "(", ")", "def", " f", "():", "    ", " x", " =", " 1", " +",
            "x", " return", "'''", " the"]
PROBLEM_IDS = ("1", "2")
N_POSITIONS = 256
WEIGHT = {"\n": 7.5, "\n\n": 5.0, "#": 6.0}


def make_model_dir(directory, seed: int = 4, eos_bias: float = 6.0):
    tok = tokenizer_lib.load("codegen")
    torch.manual_seed(seed)
    config = transformers.CodeGenConfig(vocab_size=51200, n_positions=N_POSITIONS, n_ctx=N_POSITIONS, n_embd=64,
                                        n_layer=2, n_head=4, rotary_dim=8, bos_token_id=50256, eos_token_id=50256)
    model = transformers.CodeGenForCausalLM(config).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("ln_1.weight") or name.endswith("ln_f.weight"):
                p.copy_(1 + 0.1 * torch.randn_like(p))
            else:
                p.copy_((0.1 if p.ndim == 2 else 0.05) * torch.randn_like(p))
        bias = model.lm_head.bias
        bias[len(tok):] = -1e4  # the embedding's padding rows are never sampled
        for text in FAVOURED:
            for i in tok.encode(text):
                bias[i] += WEIGHT.get(text, 7.0)
        bias[config.eos_token_id] += eos_bias
    model.save_pretrained(directory, safe_serialization=True)
    tok.save_pretrained(directory)
    return model, tok


def small_problems(shared_data, path, max_gen_length: int = 48, ids=PROBLEM_IDS, turns: int = 3):
    """The shared mtpb.jsonl problems `ids`, cut to `turns` prompts and a small max_gen_length."""
    out = []
    for line in (shared_data / "mtpb.jsonl").read_text(encoding="utf-8").splitlines():
        obj = json.loads(line)
        if str(obj["id"]) in ids:
            obj["prompts"], obj["max_gen_length"] = obj["prompts"][:turns], max_gen_length
            out.append(json.dumps(obj))
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return path
