"""The leading-comment cap of the fixed MTPB truncation rules (docs/mtpb.md, "Truncation rules")."""
import pytest

from jaxformer.truncation import (MAX_LEADING_COMMENT_LINES, mtpb_settled, mtpb_truncate, mtpb_truncate_fixed,
                                  mtpb_truncate_single)

RAMBLE = "# note\n" * 40


@pytest.mark.parametrize("rule", [mtpb_truncate_fixed, mtpb_truncate_single])
def test_comment_only_completion_ends_before_the_fourth_comment_line(rule):
    assert MAX_LEADING_COMMENT_LINES == 3
    assert rule(RAMBLE) == "# note\n" * 3
    # settled as soon as the 4th comment line and the margin are there, so generation stops early
    assert mtpb_settled(rule, "# note\n" * 9)
    assert not mtpb_settled(rule, "# note\n" * 3)


@pytest.mark.parametrize("rule", [mtpb_truncate_fixed, mtpb_truncate_single])
def test_up_to_three_leading_comments_and_blank_lines_are_kept_before_code(rule):
    text = "# load it\n\n  # really\n# now\nx = load()\n"
    assert rule(text) == text


def test_comments_after_code_follow_each_rule():
    text = "# a\nx = 1\n# b\n# c\n# d\n# e\ny = 2\n"
    assert mtpb_truncate_fixed(text) == "# a\nx = 1\n"  # ^# after code ends a turn
    assert mtpb_truncate_single(text) == text  # comments between steps are normal in one program
    assert mtpb_truncate(text) == ""  # the reference bug, kept for --reference-truncation


def test_the_cap_never_cuts_later_than_the_other_rules():
    text = "# a\n\n\n# b\n# c\n# d\n"
    assert mtpb_truncate_fixed(text) == "# a"  # "\n\n\n" comes first
