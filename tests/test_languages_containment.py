"""Compiled samples stay contained: fork and memory bombs, endless loops, output floods, writes outside the
scratch dir, reading unreadable files at compile time, early exit(0) (which must not pass)."""
import os
import pathlib

import pytest

from humaneval.data import load_problems
from humaneval.languages import get_language
from humaneval.languages.check import check_items, open_engine

ESCAPE = pathlib.Path("/var/tmp") / f"humaneval-x-escape-{os.getpid()}"
# Each C++ completion closes the prompt's function and runs its payload from a static initializer
# (before main).
CPP_PAYLOADS = {
    "fork_bomb": "while (true) fork();",
    "memory_bomb": "std::vector<char*> v; while (true) { char* p = (char*)malloc(1 << 20); memset(p, 1, 1 << 20); "
                   "v.push_back(p); }",
    "endless_loop": "volatile unsigned long n = 0; while (true) n++;",
    "output_flood": "while (true) puts(\"flood flood flood flood flood flood flood flood\");",
    "write_outside": f"FILE* f = fopen(\"{ESCAPE}\", \"w\"); if (f) {{ fputs(\"escaped\", f); fclose(f); }} "
                     f"FILE* g = fopen(\"/var/tmp\", \"r\"); exit(0);",
}
CPP_TEMPLATE = "return false;\n}}\n#include <unistd.h>\nstatic int payload = []() {{ {payload} return 0; }}();\n"


@pytest.fixture(scope="module")
def engine():
    with open_engine(workers=2) as engine:
        yield engine


def _first(shared_data, name):
    language = get_language(name)
    language.prepare()
    problems = load_problems(shared_data / "humaneval-x" / language.data_file, required=("task_id", "prompt", "test"))
    return language, next(iter(problems.values()))


def _check(language, problem, completions, engine, timeout_s=2.0):
    items = [(key, problem, completion) for key, completion in completions.items()]
    return {result.key: (verdict, result) for verdict, result in check_items(language, items, engine, timeout_s)}


def test_cpp_hostile_programs_are_contained(shared_data, engine):
    language, problem = _first(shared_data, "cpp")
    completions = {key: CPP_TEMPLATE.format(payload=payload) for key, payload in CPP_PAYLOADS.items()}
    completions["include_unreadable"] = '#include "/etc/shadow"\n' + problem["canonical_solution"]
    completions["canonical"] = problem["canonical_solution"]
    results = _check(language, problem, completions, engine)
    verdicts = {key: verdict for key, (verdict, _) in results.items()}
    assert verdicts["canonical"] == "passed"  # the engine is still healthy after the others
    assert verdicts["fork_bomb"] in ("crashed", "timeout", "failed"), results["fork_bomb"]
    assert verdicts["memory_bomb"] in ("crashed", "failed", "timeout"), results["memory_bomb"]  # 2 GiB cap
    assert verdicts["endless_loop"] == "timeout"
    assert verdicts["output_flood"] in ("failed", "timeout")
    assert len(results["output_flood"][1].stdout) <= 64 << 10  # the launcher forwards only a tail
    assert verdicts["write_outside"] == "failed"  # exit(0) before the tests: no done-marker
    assert "done-marker" in results["write_outside"][1].error_message
    assert not ESCAPE.exists()
    assert verdicts["include_unreadable"] == "compile_error"
    # the sandbox's filesystem allowlist hides /etc/shadow entirely; without it, it would be unreadable
    message = results["include_unreadable"][1].error_message
    assert "/etc/shadow" in message and ("No such file" in message or "Permission denied" in message), message
    assert "root:" not in message


@pytest.mark.parametrize("name,completion", [
    ("js", "  process.exit(0);\n"),
    ("java", "        System.exit(0);\n        return false;\n    }\n}\n"),
    ("go", "    os_exit := func() { for {} }\n    os_exit()\n    return false\n}\n"),
    ("rust", "    std::process::exit(0);\n}\n"),
])
def test_early_exit_or_endless_loop_never_passes(name, completion, shared_data, engine):
    language, problem = _first(shared_data, name)
    results = _check(language, problem, {"hostile": completion, "canonical": problem["canonical_solution"]}, engine)
    assert results["canonical"][0] == "passed"
    assert results["hostile"][0] in (("timeout",) if name == "go" else ("failed",)), results["hostile"]
