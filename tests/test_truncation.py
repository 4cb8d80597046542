"""Stop sequences, incremental stop detection and the MTPB reference truncation (pure Python)."""
import random

import pytest

from jaxformer.truncation import CODEX_STOPS, StopScanner, find_stop, mtpb_truncate, truncate_at_stops


def test_codex_stops_are_the_papers():
    assert CODEX_STOPS == ("\nclass", "\ndef", "\n#", "\nif", "\nprint")


def test_truncate_at_earliest_stop():
    text = "    return x\nprint(f(1))\ndef g():\n    pass\n"
    assert truncate_at_stops(text, CODEX_STOPS) == ("    return x", True)
    assert truncate_at_stops("    return x\n", CODEX_STOPS) == ("    return x\n", False)
    # a stop listed later but occurring earlier wins
    assert truncate_at_stops("a\n#c\nclass B", ["\nclass", "\n#"]) == ("a", True)
    # an indented "if" is not a top-level stop
    assert truncate_at_stops("    x = 1\n    if x:\n", CODEX_STOPS) == ("    x = 1\n    if x:\n", False)


@pytest.mark.parametrize("bad", [[""], "\ndef", [None], [3]])
def test_bad_stops_are_rejected(bad):
    with pytest.raises(ValueError):
        truncate_at_stops("x", bad)


def test_scanner_matches_full_search_on_random_growth():
    rng = random.Random(0)
    stops = ["\nif", "ab", "\n\n\n", "xyzzy"]
    for _ in range(300):
        text = "".join(rng.choice("ab\nifxyz ") for _ in range(rng.randrange(0, 60)))
        scanner, shown, found = StopScanner(stops), 0, -1
        while shown < len(text):  # reveal the text in random-sized chunks, as decoding does
            shown = min(len(text), shown + rng.randrange(1, 6))
            found = scanner.feed(text[:shown])
            if found != -1:
                break
        assert found == find_stop(text[:shown], stops)
        if found == -1:
            assert find_stop(text, stops) == -1


def test_scanner_finds_a_stop_split_across_chunks():
    scanner = StopScanner(["\ndef"])
    assert scanner.feed("x = 1\nd") == -1
    assert scanner.feed("x = 1\nde") == -1
    assert scanner.feed("x = 1\ndef g") == 5


def test_scanner_without_stops_never_fires():
    assert StopScanner([]).feed("\ndef\nclass") == -1


def test_mtpb_second_print_and_second_def():
    assert mtpb_truncate("print(1)\nx = 2\nprint(x)\nprint(3)") == "print(1)\nx = 2\n"
    assert mtpb_truncate("def f():\n    return 1\ndef g():\n    pass") == "def f():\n    return 1\n"
    # an indented print is not at line start
    assert mtpb_truncate("for i in x:\n    print(i)\nprint(2)") == "for i in x:\n    print(i)\nprint(2)"


def test_mtpb_terminals():
    assert mtpb_truncate("x = 1\n# next step\ny = 2") == "x = 1\n"
    assert mtpb_truncate("x = 1<|endoftext|>junk") == "x = 1"
    assert mtpb_truncate("x = 1\n'''doc'''") == "x = 1\n"
    assert mtpb_truncate('x = 1\n"""doc"""') == "x = 1\n"
    assert mtpb_truncate("x = 1\n\n\ny = 2") == "x = 1"
    assert mtpb_truncate("x = 1  # inline comment\ny = 2") == "x = 1  # inline comment\ny = 2"


def test_mtpb_known_quirk_leading_comment_empties_the_completion():
    # reference behaviour kept for parity: "^#" matches at position 0
    assert mtpb_truncate("# compute the sum\ns = sum(a)\n") == ""
