"""The one truncation / stop-sequence module.

- Codex HumanEval stops (REFERENCE.md "HumanEval protocol"): a completion is cut before the first of
  "\\nclass", "\\ndef", "\\n#", "\\nif", "\\nprint".
- `StopScanner`: incremental stop detection for the sampler. Each call looks only at newly decoded text
  (plus the last len(longest stop) - 1 characters, so a stop split across two chunks is still found).
- Brace languages: a completion ends at a closing brace in column 0 (`BRACE_STOPS`), kept in the
  completion (`restore_brace_stop`); `language_stops(name)` picks a language's default.
- `mtpb_truncate`: salesforce/CodeGen's MTPB reference truncation, reproduced with its known quirk.
"""
from __future__ import annotations

import re
from typing import Iterable, Sequence

CODEX_STOPS = ("\nclass", "\ndef", "\n#", "\nif", "\nprint")


# Brace languages (HumanEval-X js/cpp/java/go/rust, ...): the prompt leaves the function (Java: the class)
# open, and a closing brace alone on a line in column 0 ends it (as CodeGeeX's balance check does for
# HumanEval-X); "\n}" alone would also cut Rust's "\n};" after a closure (Rust/17's canonical).
TOP_LEVEL_BRACE = "\n}\n"
BRACE_STOPS = (TOP_LEVEL_BRACE,)


def language_stops(language: str) -> tuple[str, ...]:
    """Default stops for a HumanEval(-X) language name: Codex's for Python, a top-level `}` otherwise."""
    return CODEX_STOPS if language == "python" else BRACE_STOPS


def restore_brace_stop(text: str, stop_reason: str, stops: Sequence[str]) -> str:
    """A completion cut before its top-level "\n}\n" gets the brace back: it closes the function and belongs
    to the completion. Only with BRACE_STOPS, where a stop_sequence row can only have met that stop."""
    if stop_reason == "stop_sequence" and tuple(stops) == BRACE_STOPS:
        return text + TOP_LEVEL_BRACE
    return text


def check_stops(stops: Iterable[str] | None) -> tuple[str, ...]:
    """Validate stop strings: a tuple of non-empty str (an empty stop would cut every completion)."""
    if stops is None:
        return ()
    if isinstance(stops, str):
        raise ValueError(f"stops must be a list of strings, not the single string {stops!r}")
    stops = tuple(stops)
    for s in stops:
        if not isinstance(s, str) or not s:
            raise ValueError(f"every stop sequence must be a non-empty string, got {s!r}")
    return stops


def find_stop(text: str, stops: Sequence[str], start: int = 0) -> int:
    """Index of the earliest stop occurrence that begins at or after `start`, or -1."""
    best = -1
    for s in stops:
        i = text.find(s, start)
        if i != -1 and (best == -1 or i < best):
            best = i
    return best


def truncate_at_stops(text: str, stops: Iterable[str]) -> tuple[str, bool]:
    """(text before the earliest stop, whether a stop was found)."""
    i = find_stop(text, check_stops(stops))
    return (text, False) if i == -1 else (text[:i], True)


class StopScanner:
    """Incremental stop search over a growing text; state is just how far the text was searched.

    feed(text_so_far) searches only from the first index where a stop could still begin (the last
    len(longest stop) - 1 characters of the previous text are searched again), and returns the earliest stop index or -1. Equivalent to find_stop(text, stops)
    on the whole text, as long as the text only grows (tested against the full search).
    """

    def __init__(self, stops: Iterable[str]):
        self.stops = check_stops(stops)
        self._overlap = max((len(s) for s in self.stops), default=1) - 1
        self._searched = 0  # every stop starting before this index was already ruled out

    def feed(self, text: str) -> int:
        if not self.stops:
            return -1
        i = find_stop(text, self.stops, self._searched)
        if i == -1:  # a stop starting at >= len - overlap may still be incomplete: search it again
            self._searched = max(self._searched, len(text) - self._overlap)
        return i


# ---------------------------------------------------------------------------------------------
# MTPB (salesforce/CodeGen codegen1/benchmark/mtpb_sample.py `truncate`)

MTPB_TERMINALS = (r"^#", re.escape("<|endoftext|>"), r"^'''", r'^"""', "\n\n\n")
_MTPB_TERMINALS = tuple(re.compile(p, re.MULTILINE) for p in MTPB_TERMINALS)


def mtpb_truncate(completion: str) -> str:
    """The MTPB reference truncation, reproduced exactly.

    1. cut before the 2nd line starting with `print`;
    2. then before the 2nd line starting with `def`;
    3. then at the earliest of ^#, <|endoftext|>, ^''', ^\"\"\" and \\n\\n\\n.

    Known quirk (kept on purpose for parity): "^#" also matches at position 0, so a completion that
    *starts* with a comment line is cut to the empty string, even if real code follows it.
    """
    return _mtpb_cut(completion, comments="always")


def mtpb_truncate_fixed(completion: str) -> str:
    """The reference rules with the leading-comment bug fixed (multi-turn default, docs/mtpb.md):
    a `^#` line ends the completion only once some code came before it, so a completion may open
    with comment (and blank) lines, up to MAX_LEADING_COMMENT_LINES of them. Code = a line whose
    first non-blank character is not '#'."""
    return _mtpb_cut(completion, comments="after_code")


def mtpb_truncate_single(completion: str) -> str:
    """Single-turn rule: the reference rules without `^#` (one program naturally has a comment
    before each step), and at most MAX_LEADING_COMMENT_LINES comment lines before the first code."""
    return _mtpb_cut(completion, comments="never")


_FIRST_CODE_LINE = re.compile(r"^[ \t]*[^\s#]", re.MULTILINE)
_COMMENT_LINE = re.compile(r"^[ \t]*#", re.MULTILINE)
# A completion still made only of comments at its 4th comment line has not started the code it was asked
# for (a weak model can write comments until its budget runs out); it ends before that line.
MAX_LEADING_COMMENT_LINES = 3
MTPB_SETTLE_MARGIN = 32  # > 2 x the longest pattern (13 chars, "<|endoftext|>"); see mtpb_settled


def _mtpb_cut(completion: str, comments: str) -> str:
    prints = list(re.finditer(r"^print", completion, re.MULTILINE))
    if len(prints) > 1:
        completion = completion[: prints[1].start()]
    defs = list(re.finditer(r"^def", completion, re.MULTILINE))
    if len(defs) > 1:
        completion = completion[: defs[1].start()]
    cuts = [m.start() for m in (t.search(completion) for t in _MTPB_TERMINALS[1:]) if m]
    if comments != "always":
        cuts += _leading_comment_cut(completion)
    if comments != "never":
        code = _FIRST_CODE_LINE.search(completion) if comments == "after_code" else None
        start = 0 if comments == "always" else (code.end() if code else len(completion) + 1)
        hash_line = _MTPB_TERMINALS[0].search(completion, start) if start <= len(completion) else None
        if hash_line:
            cuts.append(hash_line.start())
    return completion[: min(cuts)] if cuts else completion


def _leading_comment_cut(completion: str) -> list[int]:
    """[start of the (MAX_LEADING_COMMENT_LINES + 1)-th comment line] if it comes before any code, else []."""
    code = _FIRST_CODE_LINE.search(completion)
    end = code.start() if code else len(completion)
    starts = [m.start() for m in _COMMENT_LINE.finditer(completion, 0, end)]
    return starts[MAX_LEADING_COMMENT_LINES:MAX_LEADING_COMMENT_LINES + 1]


def mtpb_settled(truncate, text: str) -> bool:
    """Whether truncate(text + anything) == truncate(text) is already certain, for the MTPB rules:
    more text can only add matches starting in the last 12 characters, and the kept part with the
    match that ended it lies MTPB_SETTLE_MARGIN characters before that (tests/test_mtpb_truncation.py
    checks this on every prefix of sampled texts). Used to stop generating early."""
    return len(text) - len(truncate(text)) >= MTPB_SETTLE_MARGIN
