"""MTPB truncation rules for generation (docs/mtpb.md "Generation"): the fixed multi-turn rule, the
single-turn rule, and the early-stop predicate mtpb_settled (truncation of any longer text is the same)."""
import random

import pytest

from jaxformer.truncation import (MTPB_SETTLE_MARGIN, mtpb_settled, mtpb_truncate, mtpb_truncate_fixed,
                                  mtpb_truncate_single)

RULES = (mtpb_truncate, mtpb_truncate_fixed, mtpb_truncate_single)


def test_fixed_rule_keeps_leading_comments_and_cuts_at_a_later_comment_line():
    text = "# compute the sum\n\n# of the list\ns = sum(a)\n# next step\nprint(s)"
    assert mtpb_truncate(text) == ""  # the reference bug
    assert mtpb_truncate_fixed(text) == "# compute the sum\n\n# of the list\ns = sum(a)\n"
    assert mtpb_truncate_fixed("    # indented first\nx = 1\n    # indented: not a terminal\ny = 2\n#end") == \
        "    # indented first\nx = 1\n    # indented: not a terminal\ny = 2\n"
    assert mtpb_truncate_fixed("# only comments\n# nothing else") == "# only comments\n# nothing else"
    assert mtpb_truncate_fixed("# a comment\n\n\nx = 1") == "# a comment"  # \n\n\n still ends it
    assert mtpb_truncate_fixed("x = 1  # inline\n#\n") == "x = 1  # inline\n"


def test_nested_defs_and_prints_inside_functions_are_not_cut():
    body = ("def outer(a):\n    def inner(b):\n        print(b)\n        return b\n    print(a)\n"
            "    return inner(a)\n")
    for rule in RULES:
        assert rule(body) == body
        assert rule(body + "def second():\n    pass\n") == body  # the 2nd top-level def ends it
        assert rule("print(1)\n" + body + "print(2)\n") == "print(1)\n" + body  # 2nd top-level print
    assert mtpb_truncate_fixed("# helper\n" + body + "# call it\nouter(1)") == "# helper\n" + body


def test_single_turn_rule_keeps_comments_between_steps():
    text = "x = 1\n# step 2\ny = x + 1\n# step 3\nprint(y)\n\n\njunk"
    assert mtpb_truncate_single(text) == "x = 1\n# step 2\ny = x + 1\n# step 3\nprint(y)"
    assert mtpb_truncate(text) == "x = 1\n"
    assert mtpb_truncate_single("x = 1\n'''doc'''") == "x = 1\n"
    assert mtpb_truncate_single("x = 1<|endoftext|>more") == "x = 1"


FRAGMENTS = ["\n", "\n\n", "#", "# c", "print(x)", "def f():", "    ", "x = 1", "'''", '"""', "<|endoftext|>",
             " ", "pri", "nt", "de", "f g", "\n\n\n", "y", "<|end", "oftext|>", "\t# t"]


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.__name__)
def test_settled_means_no_longer_text_changes_the_result(rule):
    rng = random.Random(0)
    fired = 0
    for _ in range(200):
        text = "".join(rng.choice(FRAGMENTS) for _ in range(rng.randint(1, 30)))
        for end in range(len(text) + 1):
            if mtpb_settled(rule, text[:end]):
                fired += 1
                assert rule(text[:end]) == rule(text), (text[:end], text)
    assert fired > 300  # the predicate must actually fire on these texts
    assert not mtpb_settled(rule, "x = 1\n" * 3)
    assert mtpb_settled(rule, "x = 1\n\n\n" + "y" * MTPB_SETTLE_MARGIN)
