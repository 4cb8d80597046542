import json
import sysconfig

import pytest

from jaxformer import cli, tokenizer


@pytest.fixture(scope="module")
def codegen():
    return tokenizer.load("codegen")


def test_codegen_ids_match_reference(codegen):
    # ids from Salesforce's CodeGen tokenizer (GPT-2 BPE + whitespace tokens); 50284 is the 4-space token
    assert codegen.encode('def hello_world():\n    print("hi")') == [
        4299, 23748, 62, 6894, 33529, 198, 50284, 4798, 7203, 5303, 4943]


def test_codegen_vocabulary_layout(codegen):
    assert len(codegen) == tokenizer.CODEGEN_VOCAB == 50295
    assert codegen.eos_token_id == codegen.pad_token_id == 50256
    assert codegen.padding_side == "left"
    for n in range(2, 32):  # 31 spaces -> 50257 ... 2 spaces -> 50286
        assert codegen.encode(" " * n) == [50257 + 31 - n]
        assert codegen.decode([50257 + 31 - n]) == " " * n
    for n in range(2, 10):  # 9 tabs -> 50287 ... 2 tabs -> 50294
        assert codegen.encode("\t" * n) == [50287 + 9 - n]
    assert codegen.encode(" " * 40) == [50257, 50257 + 31 - 9]  # longest run first
    assert codegen.encode("<|endoftext|>") == [50256]


def test_is_a_fast_tokenizer_that_pads_left(codegen):
    from transformers import PreTrainedTokenizerFast

    assert isinstance(codegen, PreTrainedTokenizerFast)
    batch = codegen(["def f(a, b):", "x"], padding=True)
    n = len(codegen.encode("def f(a, b):"))
    assert n > 2 and codegen.encode("x") == [87]
    assert batch["input_ids"][1] == [50256] * (n - 1) + [87]
    assert batch["attention_mask"][1] == [0] * (n - 1) + [1]


def test_gpt2_has_no_whitespace_tokens():
    gpt2 = tokenizer.load("gpt2")
    assert len(gpt2) == 50257
    assert 50284 not in gpt2.encode("\n    print")


@pytest.mark.parametrize("text", [
    "def f(x):\n\tif x:\n\t\t\treturn 1\n    \t  mixed = '  two  spaces  '\n",
    "s = 'héllo wörld ✓ 日本語 🐍'\n" + " " * 45 + "x\n\n\n",
    "  leading and trailing  \t",
])
def test_round_trip(codegen, text):
    assert codegen.decode(codegen.encode(text)) == text


def test_save_pretrained_then_load_dir_gives_same_ids(codegen, tmp_path):
    codegen.save_pretrained(tmp_path)
    reloaded = tokenizer.load(tmp_path)
    code = open(sysconfig.get_paths()["stdlib"] + "/textwrap.py", encoding="utf-8").read()
    assert reloaded.encode(code) == codegen.encode(code)
    assert len(reloaded) == 50295 and reloaded.pad_token_id == 50256 and reloaded.padding_side == "left"


def test_load_vocab_and_merges_directory(codegen, tmp_path):
    encoder, bpe = tokenizer.gpt2_files()
    (tmp_path / "vocab.json").write_bytes(encoder.read_bytes())
    (tmp_path / "merges.txt").write_bytes(bpe.read_bytes())
    added = {w: 50257 + i for i, w in enumerate(tokenizer.WHITESPACE_TOKENS)} | {"<|endoftext|>": 50256}
    (tmp_path / "added_tokens.json").write_text(json.dumps(added))
    text = "class A:\n    def f(self):\n\t\treturn  1\n"
    assert tokenizer.load(tmp_path).encode(text) == codegen.encode(text)
    gap = tmp_path / "gap"
    gap.mkdir()
    (gap / "vocab.json").write_bytes(encoder.read_bytes())
    (gap / "merges.txt").write_bytes(bpe.read_bytes())
    (gap / "added_tokens.json").write_text(json.dumps(added | {"<extra>": 60000}))
    with pytest.raises(ValueError, match="added_tokens.json: token '<extra>' has id 60000.* next free id is 50295"):
        tokenizer.load(gap)


def test_bad_inputs_name_the_path(tmp_path):
    with pytest.raises(OSError, match="no-such-tokenizer"):
        tokenizer.load("no-such-tokenizer")
    with pytest.raises(OSError, match=f"{tmp_path}.*tokenizer.json"):
        tokenizer.load(tmp_path)
    (tmp_path / "tokenizer.json").write_text("{not json")
    with pytest.raises(ValueError, match="tokenizer.json"):
        tokenizer.load(tmp_path)


def test_load_is_cached():
    assert tokenizer.load("codegen") is tokenizer.load("codegen")


def test_train_cli_on_stdlib_files(tmp_path, capsys):
    stdlib = sysconfig.get_paths()["stdlib"]
    corpus = [f"{stdlib}/{name}.py" for name in ("textwrap", "shlex", "fnmatch", "bisect")]
    out = tmp_path / "tok"
    assert cli.main(["tokenizer", "train", "--corpus", *corpus, "--vocab-size", "600", "--out", str(out)]) == 0
    tok = tokenizer.load(out)
    assert len(tok) == 600
    assert tok.convert_tokens_to_ids("<|endoftext|>") == 0 == tok.eos_token_id == tok.pad_token_id
    assert tok.encode("        ") == [600 - 38 + 31 - 8]  # 8 spaces: whitespace tokens are the last 38 ids
    code = open(corpus[0], encoding="utf-8").read()
    ids = tok.encode(code)
    assert tok.decode(ids) == code
    assert len(ids) < len(code.encode()) / 2  # the merges learned something
    # deterministic: a second training gives the same vocabulary
    assert cli.main(["tokenizer", "train", "--corpus", *corpus, "--vocab-size", "600",
                     "--out", str(tmp_path / "tok2")]) == 0
    assert tokenizer.load(tmp_path / "tok2").get_vocab() == tok.get_vocab()


def test_train_rejects_tiny_vocab(tmp_path, capsys):
    (tmp_path / "a.py").write_text("x = 1\n")
    assert cli.main(["tokenizer", "train", "--corpus", str(tmp_path / "a.py"), "--vocab-size", "100",
                     "--out", str(tmp_path / "t")]) == 2
    assert "vocab_size 100 too small" in capsys.readouterr().err
