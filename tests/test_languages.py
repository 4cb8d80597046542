"""HumanEval-X runners: canonical solutions pass, broken and empty completions fail, in every language.

Every toolchain must be installed (scripts/setup_toolchains.sh, run by .ci/run): a missing one fails
its test with the install command, never skips.
"""
import collections

import pytest

from humaneval.data import load_problems
from humaneval.languages import get_language
from humaneval.languages.check import check_items, open_engine
from humaneval.languages.known import expected_canonical_failures, flaky_canonical
from humaneval.languages.mutants import wrong_completion

LANGUAGES = ("python", "js", "cpp", "java", "go", "rust")
EMPTY_PER_LANGUAGE = 8  # empty completions checked per language (cheap compile errors)


@pytest.fixture(scope="module")
def engine():
    with open_engine(workers=2) as engine:
        yield engine


def _problems(shared_data, language):
    return load_problems(shared_data / "humaneval-x" / language.data_file, required=("task_id", "prompt", "test"))


@pytest.mark.parametrize("name", LANGUAGES)
def test_canonical_pass_and_broken_and_empty_fail(name, shared_data, engine):
    language = get_language(name)
    language.prepare()  # a missing toolchain raises ToolchainMissing naming the install command
    problems = _problems(shared_data, language)
    items = [(f"canonical|{tid}", p, p["canonical_solution"]) for tid, p in problems.items()]
    items += [(f"broken|{tid}", p, wrong_completion(name, p)) for tid, p in problems.items()]
    items += [(f"empty|{tid}", p, "") for tid, p in list(problems.items())[:EMPTY_PER_LANGUAGE]]
    verdicts = {}
    for verdict, result in check_items(language, items, engine, timeout_s=10.0):
        verdicts[result.key] = (verdict, result.error_type, (result.error_message or "")[:300])
    assert len(verdicts) == len(items)
    canonical_failed = {key.split("|", 1)[1]: v for key, v in verdicts.items()
                        if key.startswith("canonical|") and v[0] != "passed"
                        and key.split("|", 1)[1] not in flaky_canonical(name)}
    assert set(canonical_failed) == set(expected_canonical_failures(name)), canonical_failed
    broken_passed = [key for key, v in verdicts.items() if key.startswith("broken|") and v[0] == "passed"]
    assert broken_passed == []
    broken = collections.Counter(v[0] for key, v in verdicts.items() if key.startswith("broken|"))
    assert broken["failed"] >= 150, broken  # caught by the tests themselves, not by the compiler
    empty_passed = [key for key, v in verdicts.items() if key.startswith("empty|") and v[0] == "passed"]
    assert empty_passed == []


def test_missing_toolchain_names_its_install_command():
    from humaneval.languages.base import Toolchain, ToolchainMissing
    with pytest.raises(ToolchainMissing, match=r"cpp: toolchain not installed \(/nonexistent/g\+\+ not found\); "
                                               r"install it with: bash scripts/setup_toolchains.sh"):
        Toolchain(("/nonexistent/g++",)).check("cpp")
