"""HumanEval-TypeScript and HumanEval-C (CodeM's additions): coverage, known-good passes, known-bad fails,
hand-written C completions pass through gcc, compiled C programs stay contained, `humaneval evaluate
--language c` reads the derived problems."""
import collections
import json
import os
import pathlib

import pytest

from humaneval.data import load_problems
from humaneval.languages import get_language
from humaneval.languages.check import check_items, language_verdict, open_engine
from humaneval.languages.derived import excluded
from humaneval.languages.known import expected_canonical_failures
from humaneval.languages.mutants import wrong_completion

EMPTY = 8
C_EXCLUDED = {  # C++ task -> the start of its recorded reason
    "CPP/10": "the prompt defines a C++ helper", "CPP/32": "the prompt defines a C++ helper",
    "CPP/38": "the prompt defines a C++ helper", "CPP/50": "the prompt defines a C++ helper",
    "CPP/22": "type 'list_any'", "CPP/23": "the entry point strlen()", "CPP/87": "type 'vector<vector<int>>'",
    "CPP/115": "type 'vector<vector<int>>'", "CPP/129": "type 'vector<vector<int>>'",
    "CPP/95": "type 'map<string,string>'", "CPP/111": "type 'map<char,int>'", "CPP/137": "type 'boost::any'",
}
C_SOLUTIONS = {  # hand-written C completions: the real gcc path, one per kind of signature
    "C/0": "    for (int i = 0; i < numbers_size; i++)\n        for (int j = i + 1; j < numbers_size; j++)\n"
           "            if (fabs(numbers[i] - numbers[j]) < threshold) return true;\n    return false;\n}\n",
    "C/27": "    size_t n = strlen(str);\n    char *out = malloc(n + 1);\n    for (size_t i = 0; i <= n; i++)\n"
            "        out[i] = islower(str[i]) ? toupper(str[i]) : isupper(str[i]) ? tolower(str[i]) : str[i];\n"
            "    return out;\n}\n",
    "C/29": "    const char **out = malloc(sizeof(char *) * (strings_size + 1));\n    int n = 0;\n"
            "    for (int i = 0; i < strings_size; i++)\n"
            "        if (strncmp(strings[i], prefix, strlen(prefix)) == 0) out[n++] = strings[i];\n"
            "    *returned_size = n;\n    return (char **)out;\n}\n",
    "C/30": "    float *out = malloc(sizeof(float) * (l_size + 1));\n    int n = 0;\n"
            "    for (int i = 0; i < l_size; i++) if (l[i] > 0) out[n++] = l[i];\n"
            "    *returned_size = n;\n    return out;\n}\n",
}
ESCAPE = pathlib.Path("/var/tmp") / f"humaneval-c-escape-{os.getpid()}"
C_PAYLOADS = {
    "fork_bomb": "for (;;) fork();",
    "memory_bomb": "for (;;) { char *p = malloc(1 << 20); if (p) memset(p, 1, 1 << 20); }",
    "endless_loop": "volatile unsigned long n = 0; for (;;) n++;",
    "output_flood": "for (;;) puts(\"flood flood flood flood flood flood flood flood\");",
    "write_outside": f"FILE *f = fopen(\"{ESCAPE}\", \"w\"); if (f) {{ fputs(\"escaped\", f); fclose(f); }} exit(0);",
}
C_TEMPLATE = "return false;\n}}\n#include <unistd.h>\n__attribute__((constructor)) static void payload(void) {{ {payload} }}\n"


@pytest.fixture(scope="module")
def engine():
    with open_engine(workers=2) as engine:
        yield engine


@pytest.fixture(scope="module")
def derived(shared_data):
    """{"ts"|"c": (language, problems, excluded)}: translated once per module (cached outside the repo)."""
    found = {}
    for name in ("ts", "c"):
        language = get_language(name)
        language.prepare()
        path = language.problem_file(shared_data / "humaneval-x")
        found[name] = language, load_problems(path, required=("task_id", "prompt", "test")), excluded(path.parent)
    return found


def test_ts_signatures_are_typed(derived):
    _, problems, dropped = derived["ts"]
    assert len(problems) == 164 and dropped == {}
    last = {tid: p["prompt"].rstrip("\n").splitlines()[-1] for tid, p in problems.items()}
    assert last["TypeScript/0"] == "const hasCloseElements = (numbers: number[], threshold: number): boolean => {"
    assert last["TypeScript/12"] == "const longest = (strings: string[]): string | null => {"  # Optional[str]
    assert last["TypeScript/8"] == "const sumProduct = (numbers: number[], int?: any): [number, number] => {"
    assert last["TypeScript/111"] == "const histogram = (test: string): Record<string, number> => {"  # C++ map
    assert "console.assert(" not in problems["TypeScript/0"]["test"]


def test_ts_canonical_pass_and_broken_and_empty_fail(derived, engine):
    language, problems, _ = derived["ts"]
    items = [(f"canonical|{tid}", p, p["canonical_solution"]) for tid, p in problems.items()]
    items += [(f"broken|{tid}", p, wrong_completion("ts", p)) for tid, p in problems.items()]
    items += [(f"empty|{tid}", p, "") for tid, p in list(problems.items())[:EMPTY]]
    verdicts = {result.key: verdict for verdict, result in check_items(language, items, engine, timeout_s=10.0)}
    assert len(verdicts) == len(items)
    failed = {key.split("|")[1] for key, v in verdicts.items() if key.startswith("canonical|") and v != "passed"}
    assert failed == set(expected_canonical_failures("ts"))  # 162/164
    broken = collections.Counter(v for key, v in verdicts.items() if key.startswith("broken|"))
    assert broken["failed"] == len(problems), broken  # caught by the tests, not by tsc
    assert {v for key, v in verdicts.items() if key.startswith("empty|")} == {"compile_error"}


def test_c_reference_pass_and_broken_and_empty_fail(derived, engine):
    language, problems, dropped = derived["c"]
    assert len(problems) == 152 and set(dropped) == set(C_EXCLUDED)
    assert all(dropped[tid].startswith(reason) for tid, reason in C_EXCLUDED.items()), dropped
    items = [(f"canonical|{tid}", p, p["reference_solution"]) for tid, p in problems.items()]
    items += [(f"broken|{tid}", p, wrong_completion("c", p)) for tid, p in problems.items()]
    jobs = language.reference_jobs(items, engine, 10.0)
    verdicts = {r.key: (language_verdict(r), r.error_message) for r in engine.run(jobs.values())}
    items = [(f"empty|{tid}", p, "") for tid, p in list(problems.items())[:EMPTY]]
    items += [(f"solution|{tid}", problems[tid], text) for tid, text in C_SOLUTIONS.items()]
    verdicts.update((r.key, (v, r.error_message)) for v, r in check_items(language, items, engine, timeout_s=10.0))
    assert len(verdicts) == len(jobs) + len(items)
    by_kind = collections.defaultdict(collections.Counter)
    for key, (verdict, _) in verdicts.items():
        by_kind[key.split("|")[0]][verdict] += 1
    assert by_kind["canonical"] == {"passed": 152}, [(k, v) for k, v in verdicts.items() if v[0] != "passed"][:3]
    assert by_kind["broken"] == {"failed": 152}, by_kind["broken"]
    assert by_kind["empty"] == {"compile_error": EMPTY}
    assert by_kind["solution"] == {"passed": len(C_SOLUTIONS)}, [v for k, v in verdicts.items() if "solution" in k]


def test_c_hostile_programs_are_contained(derived, engine):
    language, problems, _ = derived["c"]
    problem = problems["C/0"]
    completions = {key: C_TEMPLATE.format(payload=payload) for key, payload in C_PAYLOADS.items()}
    completions["include_unreadable"] = '#include "/etc/shadow"\n' + C_SOLUTIONS["C/0"]
    completions["solution"] = C_SOLUTIONS["C/0"]
    results = {r.key: (v, r) for v, r in check_items(language, [(k, problem, c) for k, c in completions.items()],
                                                      engine, timeout_s=2.0)}
    verdicts = {key: verdict for key, (verdict, _) in results.items()}
    assert verdicts["solution"] == "passed"  # the engine is still healthy after the others
    assert verdicts["fork_bomb"] in ("crashed", "timeout", "failed"), results["fork_bomb"]
    assert verdicts["memory_bomb"] in ("crashed", "failed", "timeout"), results["memory_bomb"]
    assert verdicts["endless_loop"] == "timeout"
    assert verdicts["output_flood"] in ("failed", "timeout")
    assert len(results["output_flood"][1].stdout) <= 64 << 10
    assert verdicts["write_outside"] == "failed" and "done-marker" in results["write_outside"][1].error_message
    assert not ESCAPE.exists()
    assert verdicts["include_unreadable"] == "compile_error"
    assert "root:" not in results["include_unreadable"][1].error_message


def test_cli_evaluate_language_c_uses_the_derived_problems(tmp_path, shared_data, monkeypatch, capsys):
    from humaneval.cli import main
    monkeypatch.setenv("CODELM_SHARED_DATA", str(shared_data))
    rows = [{"task_id": "C/0", "completion": C_SOLUTIONS["C/0"]}, {"task_id": "C/0", "completion": "return true;\n}\n"},
            {"task_id": "C/0", "completion": "not C {"}]
    samples = tmp_path / "samples.jsonl"
    samples.write_text("".join(json.dumps(row) + "\n" for row in rows))
    code = main(["evaluate", str(samples), "--language", "c", "--k", "1", "--ignore-incomplete", "--workers", "2",
                 "--no-progress"])
    assert code == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == {"pass@1": pytest.approx(1 / 3)}
    out = [json.loads(line) for line in (tmp_path / "samples.jsonl_results.jsonl").read_text().splitlines()]
    assert [r["verdict"] for r in out] == ["passed", "failed", "compile_error"]
