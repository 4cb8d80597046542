"""Greedy `humaneval generate` equals transformers' CodeGenForCausalLM.generate (greedy) on the same
random-init weights, cut at the first stop string."""
import pathlib

import torch
import transformers

from humaneval import rundir
from humaneval.generate import Settings, generate_run
from humaneval_tiny import PROBLEMS, tiny_model_dir, write_problems
from jaxformer import tokenizer
from jaxformer.truncation import CODEX_STOPS, truncate_at_stops

NEW = 24


def hf_greedy(model_dir, tok) -> dict[str, tuple[str, bool, list[int]]]:
    """task_id -> (text of the new tokens up to EOS, whether EOS came, the new token ids)."""
    hf_model = transformers.CodeGenForCausalLM.from_pretrained(model_dir).eval()
    out = {}
    for problem in PROBLEMS:
        ids = tok.encode(problem["prompt"])
        with torch.no_grad():
            seq = hf_model.generate(torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                                    do_sample=False, max_new_tokens=NEW, pad_token_id=hf_model.config.eos_token_id)
        new = seq[0, len(ids):].tolist()
        eos_id = hf_model.config.eos_token_id
        eos = eos_id in new
        new = new[: new.index(eos_id)] if eos else new
        out[problem["task_id"]] = (tok.decode(new, skip_special_tokens=False), eos, new)
    return out


def stop_across_the_chunk_boundary(tok, text: str, ids: list[int]) -> str:
    """Four tokens' text that begins in the sampler's first decode chunk and ends in the second (the
    prefill makes token 0, chunk 1 tokens 1-16), first found there: random weights seldom write Codex's
    stops, and this one must be found across the chunk boundary."""
    for start in (15, 14, 16):
        piece = tok.decode(ids[start:start + 4])
        if piece.strip() and "\ufffd" not in piece and text.find(piece) == len(tok.decode(ids[:start])):
            return piece
    raise AssertionError(f"no clean stop string across tokens 16|17 of {text!r}")


def test_greedy_equals_hf_generate_cut_at_the_first_stop(tmp_path):
    model_dir = tiny_model_dir()
    tok = tokenizer.load(model_dir)
    reference = hf_greedy(model_dir, tok)
    text0, _, ids0 = reference["T/0"]
    assert len(ids0) == NEW and not any(s in text0 for s in CODEX_STOPS)  # T/0 is the chunk-boundary case
    stops = CODEX_STOPS + (stop_across_the_chunk_boundary(tok, text0, ids0),)
    settings = Settings(greedy=True, temperatures=(), max_new_tokens=NEW, stops=stops, batch_size=4)
    generate_run(model_dir, tmp_path, settings, problems_path=write_problems(tmp_path / "problems.jsonl"))
    rows = rundir.load_run_samples(tmp_path, rundir.GREEDY)
    assert [r["task_id"] for r in rows] == ["T/0", "T/1", "T/2"] and list(rundir.samples_files(tmp_path)) == ["greedy"]
    reasons = []
    for row in rows:
        text, eos, _ = reference[row["task_id"]]
        expected, cut = truncate_at_stops(text, stops)
        assert row["completion"] == expected, row["task_id"]
        assert row["stop_reason"] == ("stop_sequence" if cut else "eos" if eos else "length")
        assert row["temperature"] == 0.0 and row["sample_index"] == 0
        reasons.append(row["stop_reason"])
    assert reasons[0] == "stop_sequence"  # the chunk-boundary stop really cut problem 0
    assert pathlib.Path(tmp_path / "samples_greedy.jsonl").is_file()
