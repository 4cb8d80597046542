"""Reference mode (--reencode --reference-truncation, greedy) equals the reference mtpb_sample.py
protocol run with HF transformers on the same checkpoint, character for character: re-encode the whole
history every turn, generate with max_length = input_len + max_gen_length, batch_decode the new tokens
keeping special tokens, mtpb_truncate, append "\\n\\n"."""
import json

import torch

import mtpb_tiny_model
from jaxformer.truncation import mtpb_truncate
from mtpb import data
from mtpb.generate import generate
from mtpb.program import PREFIX


def reference_program(hf_model, tok, prompts, max_gen_length):
    history = PREFIX
    for prompt in prompts:
        history += f"# {prompt}\n"
        input_ids = tok([history], return_tensors="pt").input_ids
        with torch.no_grad():
            tokens = hf_model.generate(input_ids, attention_mask=torch.ones_like(input_ids), do_sample=False,
                                       max_length=input_ids.shape[1] + max_gen_length, pad_token_id=50256)
        completion = tok.batch_decode(tokens[:, input_ids.shape[1]:])[0]
        history += f"{mtpb_truncate(completion)}\n\n"
    return history


def test_reference_mode_equals_hf_reimplementation_of_mtpb_sample(shared_data, tmp_path):
    hf_model, tok = mtpb_tiny_model.make_model_dir(tmp_path / "model")
    problems = mtpb_tiny_model.small_problems(shared_data, tmp_path / "mtpb.jsonl", max_gen_length=48)
    out = tmp_path / "samples.jsonl"
    generate(str(tmp_path / "model"), "multi", out, temperature=0.0, reencode=True, reference_truncation=True,
             problems_path=problems, batch_size=4)
    rows = [json.loads(line) for line in open(out, encoding="utf-8")]
    probs = data.load(problems)
    for row in rows:
        want = reference_program(hf_model, tok, probs[row["id"]].render(row["test_case"]), 48)
        assert row["completions"] == want
    turns = [t for r in rows for t in r["turns"]]
    assert any(t["completion"] != t["completion_raw"] for t in turns)  # the truncation cut some turns
    assert len({t["completion"] for t in turns}) > 3
