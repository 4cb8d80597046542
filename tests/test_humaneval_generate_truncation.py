"""HumanEval stop edge cases, on the code path the sampler uses (truncation + the sampler's host rows)."""
import pytest

from jaxformer import sampling, tokenizer
from jaxformer.truncation import CODEX_STOPS, truncate_at_stops


@pytest.mark.parametrize("completion,expected", [
    # a stop's text inside a string literal on the first line is an escape, not a newline: no cut
    ('    return "x\\nif y\\ndef"\n', '    return "x\\nif y\\ndef"\n'),
    # a real newline inside a (triple-quoted) literal on the first line still cuts: stops are textual
    ('    s = """a\nif b"""\n', '    s = """a'),
    # an indented `if` is the body going on; `if` at column 0 ends the function
    ("    if x:\n        return 1\n    if y:\n        return 2\n", "    if x:\n        return 1\n    if y:\n        return 2\n"),
    ("    return 1\nif __name__ == '__main__':\n    f()\n", "    return 1"),
    # a completion that starts with a newline keeps it; one starting with a stop is empty
    ("\n    return sorted(x)\n", "\n    return sorted(x)\n"),
    ("\ndef helper():\n    pass\n", ""),
    ("\n\n    return 0\n#comment\n", "\n\n    return 0"),
])
def test_codex_stop_edge_cases(completion, expected):
    assert truncate_at_stops(completion, CODEX_STOPS)[0] == expected


def test_stop_split_across_two_decode_chunks_is_cut_in_the_sampler():
    tok = tokenizer.load("codegen")
    text = "    return a + b\n\n\ndef other():\n    pass\n"
    ids = tok.encode(text)
    split = [tok.decode([i]) for i in ids].index("def")
    # chunk 1 ends with the newline token, chunk 2 starts with "def": the stop spans the chunk boundary
    first, second = ids[:split], ids[split:]
    assert "\ndef" not in tok.decode(first) and tok.decode(first).endswith("\n")
    row = sampling.HostRow(CODEX_STOPS, stop_ids=(tok.eos_token_id,))
    assert not row.add(first, [-1.0] * len(first), tok, final=False)
    assert row.add(second, [-2.0] * len(second), tok, final=False)
    row.reason = "stop_sequence"
    done = row.completion(tok)
    assert done.text == "    return a + b\n\n"
    # the kept tokens cover exactly the kept text, and log-probs follow them
    assert tok.decode(list(done.token_ids)).startswith(done.text)
    assert len(done.logprobs) == len(done.token_ids) <= len(ids)
