"""Brace-language stops: a completion ends at a closing brace in column 0, and keeps it."""
import pytest

from humaneval.data import load_problems
from humaneval.languages import LANGUAGES, get_language
from jaxformer.truncation import (BRACE_STOPS, CODEX_STOPS, language_stops, restore_brace_stop,
                                  truncate_at_stops)


def test_language_stops():
    assert language_stops("python") == CODEX_STOPS
    assert all(language_stops(name) == BRACE_STOPS for name in LANGUAGES if name != "python")


def test_restore_only_after_the_brace_stop():
    assert restore_brace_stop("  return 1;", "stop_sequence", BRACE_STOPS) == "  return 1;\n}\n"
    assert restore_brace_stop("  return 1;", "eos", BRACE_STOPS) == "  return 1;"
    assert restore_brace_stop("  return 1;", "length", BRACE_STOPS) == "  return 1;"
    # with other stops the matched stop is unknown: nothing is added
    assert restore_brace_stop("  return 1;", "stop_sequence", ("\n}\n", "\nint main")) == "  return 1;"


RUST_INDENTED_CLOSE = ["Rust/10", "Rust/22", "Rust/32", "Rust/34", "Rust/35", "Rust/61", "Rust/62"]


@pytest.mark.parametrize("name", [n for n in LANGUAGES if n != "python"])
def test_canonical_solutions_survive_the_brace_stop(name, shared_data):
    """Cut at the stop and restored, a canonical solution is unchanged up to its first top-level brace
    (a few canonicals define helper functions after it: those are cut, as a model's would be). Seven Rust
    canonicals close their function with an indented brace, so they never meet the stop (a model's
    answer like them ends at EOS or the token limit instead)."""
    problems = load_problems(shared_data / "humaneval-x" / get_language(name).data_file,
                             required=("task_id", "prompt", "test"))
    whole, unstopped = 0, []
    for problem in problems.values():
        canonical = problem["canonical_solution"] + "\n"  # Java's end without one; a model writes it or EOS
        text, stopped = truncate_at_stops(canonical, BRACE_STOPS)
        if not stopped:
            unstopped.append(problem["task_id"])
            continue
        restored = restore_brace_stop(text, "stop_sequence", BRACE_STOPS)
        assert canonical.startswith(restored)
        whole += restored.rstrip() == canonical.rstrip()
    assert unstopped == (RUST_INDENTED_CLOSE if name == "rust" else [])
    assert whole >= 150, whole
