"""mtpb generate on a tiny random CodeGen (tests/mtpb_tiny_model.py) over 2 problems x 5 cases cut to
3 turns: the row format, resume, independence of batch size and early stop, every prompt-perplexity
definition against a direct forward pass, the context rule, and bad input before the model loads."""
import json
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import mtpb_tiny_model
from jaxformer import model, sampling
from jaxformer.session import Session
from mtpb import data
from mtpb.batch import run_batch
from mtpb.generate import generate
from mtpb.program import PREFIX, build_program, turn_header
from mtpb.rows import plan_rows

BATCH = 4
FLOATS = ("prompt_logprob_sum", "prompt_ppl")


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("tiny-mtpb-model")
    mtpb_tiny_model.make_model_dir(directory)
    return directory


@pytest.fixture(scope="module")
def loaded(model_dir):
    return sampling.load(str(model_dir))


@pytest.fixture(scope="module")
def problems(shared_data, tmp_path_factory):
    return mtpb_tiny_model.small_problems(shared_data, tmp_path_factory.mktemp("p") / "mtpb.jsonl")


def run(model_dir, loaded, problems, out, mode="multi", **kw):
    kw = {"temperature": 0.8, "batch_size": BATCH, **kw}
    return generate(str(model_dir), mode, out, problems_path=problems, loaded=loaded, **kw)


def read(path):
    return [json.loads(line) for line in open(path, encoding="utf-8")]


def assert_same_rows(a, b):
    """Equal rows; the log-prob floats may differ in the last bits (other batch shapes)."""
    assert len(a) == len(b)
    for x, y in zip(a, b):
        for tx, ty in zip(x["turns"], y["turns"]):
            for f in FLOATS:
                assert tx[f] == pytest.approx(ty[f], rel=1e-5)
        strip = lambda r: {**r, "turns": [{k: v for k, v in t.items() if k not in FLOATS} for t in r["turns"]]}
        assert strip(x) == strip(y)


@pytest.fixture(scope="module")
def multi_rows(model_dir, loaded, problems, tmp_path_factory):
    out = tmp_path_factory.mktemp("multi") / "samples.jsonl"
    stats = run(model_dir, loaded, problems, out)
    return out, stats


def test_multi_turn_rows_and_rerun(model_dir, loaded, problems, multi_rows):
    out, stats = multi_rows
    rows = read(out)
    assert stats["rows"] == stats["rows_generated_now"] == len(rows) == 10
    assert stats["tokens"] == sum(t["num_generated"] for r in rows for t in r["turns"]) > 0
    probs = data.load(problems)
    assert [(r["id"], r["test_case"], r["sample_index"]) for r in rows] == [(p, c, 0) for p in ("1", "2") for c in range(5)]
    for r in rows:
        problem = probs[r["id"]]
        assert r["input"] == problem.inputs[r["test_case"]] and r["gold_output"] == problem.outputs[r["test_case"]]
        assert r["mode"] == "multi" and r["status"] == "ok" and len(r["turns"]) == 3
        prompts = problem.render(r["test_case"])
        assert r["completions"] == build_program(prompts, [t["completion"] for t in r["turns"]])
        assert "".join(r["prompts_completions"]) == r["completions"]
        assert r["sampling"] == {"temperature": 0.8, "top_p": 0.95, "seed": 0, "reencode": False,
                                 "reference_truncation": False, "n": 1}
        assert r["model"]["spec"] == str(model_dir) and len(r["model"]["sha256"]) == 64
        for prompt, t in zip(prompts, r["turns"]):
            assert t["prompt"] == turn_header(prompt) and t["completion_raw"].startswith(t["completion"])
            assert t["prompt_ppl"] == pytest.approx(math.exp(-t["prompt_logprob_sum"] / t["prompt_num_tokens"]))
            assert 0 < t["num_generated"] <= 48
    before = out.read_bytes()
    again = run(model_dir, loaded, problems, out)
    assert again["rows_generated_now"] == 0 and out.read_bytes() == before


def test_early_stop_and_batch_size_keep_the_same_rows(model_dir, loaded, problems, tmp_path):
    kw = {"temperature": 0.0, "reference_truncation": True}
    run(model_dir, loaded, problems, tmp_path / "early.jsonl", **kw)
    run(model_dir, loaded, problems, tmp_path / "full.jsonl", early_stop=False, **kw)
    early, full = read(tmp_path / "early.jsonl"), read(tmp_path / "full.jsonl")
    assert [r["completions"] for r in early] == [r["completions"] for r in full]
    stops = [t["stop_reason"] for r in early for t in r["turns"]]
    assert "truncated" in stops  # the early stop fired ...
    assert "truncated" not in [t["stop_reason"] for r in full for t in r["turns"]]
    assert sum(t["num_generated"] for r in early for t in r["turns"]) < \
        sum(t["num_generated"] for r in full for t in r["turns"])  # ... and saved tokens
    for size in (3, 7):  # rows of other batches (other padding, other cache layout), greedy
        run(model_dir, loaded, problems, tmp_path / f"b{size}.jsonl", batch_size=size, **kw)
        assert_same_rows(read(tmp_path / f"b{size}.jsonl"), early)


def forward_logprobs(loaded, ids):
    """log p(token i | tokens < i) for i >= 1 by one cache-free forward pass (padded to one length)."""
    cfg, graphdef, params, _ = loaded
    T = cfg.n_positions
    padded = jnp.asarray([list(ids) + [0] * (T - len(ids))])
    logits, _ = jax.jit(model.apply, static_argnums=0)(graphdef, params, padded, jnp.arange(T)[None],
                                                       (jnp.arange(T) < len(ids))[None])
    lp = np.asarray(jax.nn.log_softmax(logits[0, :len(ids)], axis=-1))
    return [0.0] + [float(lp[i - 1, ids[i]]) for i in range(1, len(ids))]


def span_logprobs(loaded, ids, start, end):
    """(count, sum) of the forward-pass log-probs of the tokens that start in text[start:end]."""
    tok = loaded[3]
    lps = forward_logprobs(loaded, ids)
    inside = [lps[i] for i in range(len(ids)) if start <= len(tok.decode(ids[:i])) < end]
    return len(inside), sum(inside)


def test_prompt_perplexity_of_every_mode_equals_a_forward_pass(loaded, problems):
    cfg, graphdef, params, tok = loaded
    sp = sampling.SamplingParams(0.8, 0.95)
    for mode, reencode in (("multi", False), ("multi", True), ("single", False)):
        plans = plan_rows(data.load(problems), ["1"], 1, mode)[:BATCH]
        session = Session(*loaded, batch=BATCH, row_ids=[p.row_id for p in plans], reencode=reencode,
                          max_len=cfg.n_positions + plans[0].budget,
                          new_bucket=sampling.pow2_bucket(plans[0].budget, sampling.MIN_NEW_BUCKET))
        states = run_batch(session, plans, sp, reference_truncation=False)
        for r, state in enumerate(states):
            history, spans = PREFIX, []
            for t, turn in enumerate(state.turns):
                lead = "" if t == 0 else "\n\n"
                spans.append((len(history) + len(lead), len(history) + len(lead) + len(turn["prompt"])))
                history += lead + turn["prompt"]
                if reencode or mode == "single":  # the re-encoded history this turn generated from
                    count, total = span_logprobs(loaded, tok.encode(history), *spans[-1])
                    assert (count, total) == (turn["prompt_num_tokens"], pytest.approx(turn["prompt_logprob_sum"], abs=1e-3))
                history += turn["completion"]
            if not reencode and mode == "multi":  # the session's own tokens, prompts and samples alike
                assert tok.decode(session.token_ids[r]) == history
                for (start, end), turn in zip(spans, state.turns):
                    count, total = span_logprobs(loaded, session.token_ids[r], start, end)
                    assert (count, total) == (turn["prompt_num_tokens"], pytest.approx(turn["prompt_logprob_sum"], abs=1e-3))
            if mode == "single":
                assert spans == [(len(PREFIX), len(history) - len(state.turns[0]["completion"]))]


def test_context_overflow_stops_the_row(model_dir, loaded, shared_data, tmp_path):
    # greedy, budget 250 in a 256-token context: the first turn is capped and runs into the cap;
    # problem 2's long second prompt does not fit at all after a short first turn
    problems = mtpb_tiny_model.small_problems(shared_data, tmp_path / "p.jsonl", max_gen_length=250, ids=("1",))
    out = tmp_path / "ctx.jsonl"
    stats = run(model_dir, loaded, problems, out, temperature=0.0, problem_ids=["1"])
    rows = read(out)
    assert stats["context_rows"] == sum(r["status"] == "context" for r in rows) > 0
    for r in rows:
        if r["status"] == "context":
            last = r["turns"][-1]
            assert last["stop_reason"] == "context"
            assert last["prompt_num_tokens"] + last["num_generated"] + 1 <= loaded[0].n_positions + 1
            assert r["completions"] == build_program([t["prompt"][2:-1] for t in r["turns"]],
                                                     [t["completion"] for t in r["turns"]])
    obj = json.loads(problems.read_text().splitlines()[0])
    obj["prompts"][1] = "Then " + "and again " * 150 + "stop."
    problems.write_text(json.dumps({**obj, "max_gen_length": 8}) + "\n")
    run(model_dir, loaded, problems, tmp_path / "long.jsonl", temperature=0.0)
    for r in read(tmp_path / "long.jsonl"):
        assert r["status"] == "context" and len(r["turns"]) == 2
        assert r["turns"][1]["stop_reason"] == "context" and r["turns"][1]["prompt_num_tokens"] is None


def test_bad_input_fails_before_the_model_loads(problems, multi_rows, tmp_path):
    from mtpb.cli import main

    (tmp_path / "empty-model").mkdir()
    missing = str(tmp_path / "empty-model")  # loading it would fail: no config.json
    base = ["generate", "--model", missing, "--mode", "multi", "--problems", str(problems)]
    with pytest.raises(ValueError, match=r"unknown problem id\(s\) \['7'\]"):
        generate(missing, "multi", tmp_path / "a.jsonl", problems_path=problems, problem_ids=["1", "7"])
    with pytest.raises(ValueError, match="must be an integer >= 1"):
        generate(missing, "multi", tmp_path / "a.jsonl", problems_path=problems, n=0)
    broken = tmp_path / "broken.jsonl"
    broken.write_text(problems.read_text().replace('"inputs"', '"inputz"', 1))
    with pytest.raises(ValueError, match="line 1: problem 1: missing field 'inputs'"):
        generate(missing, "multi", tmp_path / "a.jsonl", problems_path=broken)
    with pytest.raises(ValueError, match="rows from model .* with sampling"):
        generate(missing, "multi", multi_rows[0], problems_path=problems, temperature=0.5)
    assert main(base + ["--out", str(multi_rows[0]), "--temperature", "0.5"]) == 2
    partial = tmp_path / "b.jsonl.partial"
    partial.write_text(json.dumps({"_header": {"model": {"spec": "other"}}}) + "\n")
    with pytest.raises(ValueError, match="unfinished run with other settings"):
        generate(missing, "multi", tmp_path / "b.jsonl", problems_path=problems)
    with pytest.raises(Exception, match="config not found|not a directory"):  # valid input: now the model
        generate(missing, "multi", tmp_path / "c.jsonl", problems_path=problems)
