"""HumanEval-X problems whose canonical solution fails our (fixed) tests, with the reason.

Each was hidden by a broken upstream harness (console.assert that never throws); the dataset's test
is right and its canonical solution wrong, so we keep both as they are and list them here. The tests
(tests/test_languages.py) check that exactly these fail, so a new one cannot slip in unnoticed.
"""
from __future__ import annotations

CANONICAL_FAILURES: dict[str, dict[str, str]] = {
    "js": {
        "JavaScript/112": "canonical returns `(z, false)`, the comma operator, i.e. just false; the test "
                          "expects the pair ['bcd', false]",
        "JavaScript/155": "canonical returns [0, 0] for evenOddCount(0) (its while loop never runs); the test "
                          "expects [1, 0], as the Python original gives",
    },
}


def expected_canonical_failures(language: str) -> dict[str, str]:
    return CANONICAL_FAILURES.get(language, {})
