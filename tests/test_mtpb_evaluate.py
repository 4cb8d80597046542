"""`mtpb evaluate` end to end: hand-written programs pass, broken ones fail, hostile ones are contained,
bad input is named, a SIGKILLed run resumes with nothing lost or duplicated."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from mtpb import data
from mtpb.cli import main as mtpb_main
from mtpb.evaluate import evaluate, results_path
from mtpb.program import build_program
from mtpb_solutions import BROKEN_LAST_TURN, DEFECT_SOLUTIONS, SOLUTIONS

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def problems_file(shared_data):
    return shared_data / "mtpb.jsonl"


@pytest.fixture(scope="module")
def problems(problems_file):
    return data.load(problems_file)


def sample_row(problem, case, completions, **extra):
    prompts = problem.render(case)
    return {"id": problem.id, "input": problem.inputs[case], "gold_output": problem.outputs[case],
            "completions": build_program(prompts, completions),
            "prompts_completions": [f"# {p}\n" for p in prompts], **extra}


def program_row(problem, case, program, **extra):
    return {"id": problem.id, "input": problem.inputs[case], "gold_output": problem.outputs[case],
            "completions": program, **extra}


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def solution_run(tmp_path_factory, problems, problems_file):
    rows = []
    for kind, table in (("good", SOLUTIONS), ("defect", DEFECT_SOLUTIONS), ("broken", SOLUTIONS)):
        for pid, solve in table.items():
            for case in range(5):
                completions = solve(problems[pid].inputs[case])
                if kind == "broken":
                    completions = completions[:-1] + [BROKEN_LAST_TURN]
                rows.append(sample_row(problems[pid], case, completions, kind=kind))
    samples = write_jsonl(tmp_path_factory.mktemp("solutions") / "samples.jsonl", rows)
    summary = evaluate(samples, problems_file, timeout_s=20, workers=2)
    return rows, read_jsonl(results_path(samples)), summary


def test_hand_written_solutions_pass_under_both_modes(solution_run):
    rows, results, _ = solution_run
    assert len(results) == len(rows) and [r["completions"] for r in results] == [r["completions"] for r in rows]
    good = [r for r in results if r["kind"] == "good"]
    assert len(good) == 5 * len(SOLUTIONS) >= 50
    failing = [(r["id"], r["test_case"], r["verdict"], r["observed"], r["error"]) for r in good
               if not (r["passed_faithful"] and r["passed_strict"])]
    assert failing == []
    assert all(r["passed"] is r["passed_faithful"] and r["defects"] == [] for r in good)
    assert {r["prompts_completions"][0] for r in good if r["id"] == "6"} >= {"# Import the pandas library.\n"}
    # problem 10 lists the same input twice: both rows match the first such test case
    assert [r["test_case"] for r in good if r["id"] == "10"] == [0, 1, 2, 3, 1]


def test_broken_last_turn_fails_under_both_modes(solution_run):
    _, results, _ = solution_run
    broken = [r for r in results if r["kind"] == "broken"]
    assert broken and not any(r["passed_faithful"] or r["passed_strict"] for r in broken)
    assert all(r["verdict"] == "passed" and r["observed"] == "'<broken>'" for r in broken)


def test_dict_and_none_golds_are_flagged_and_fail_only_faithful(solution_run):
    _, results, _ = solution_run
    defect = {(r["id"], r["test_case"]): r for r in results if r["kind"] == "defect"}
    assert all(r["passed_strict"] for r in defect.values())
    flagged = {k: r["defects"] for k, r in defect.items() if r["defects"]}
    assert flagged == {("41", 1): ["gold_none"], ("41", 4): ["gold_none"],
                       **{("89", c): ["gold_dict"] for c in range(5)}}
    assert [k for k, r in defect.items() if not r["passed_faithful"]] == sorted(flagged)


def test_summary_numbers(solution_run, problems):
    _, _, summary = solution_run
    n_good, n_problems = len(SOLUTIONS), len(SOLUTIONS) + len(DEFECT_SOLUTIONS)
    # per problem: good rows pass, broken rows fail -> 0.5; 41 -> 3/5 faithful; 89 -> 0 faithful
    expect_faithful = (0.5 * n_good + 0.6 + 0.0) / n_problems
    expect_strict = (0.5 * n_good + 1.0 + 1.0) / n_problems
    assert summary["problems"] == n_problems and summary["rows"] == 5 * (2 * n_good + 2)
    assert summary["pass_rate"] == pytest.approx(expect_faithful)
    assert summary["pass_rate_by_mode"] == pytest.approx({"faithful": expect_faithful, "strict": expect_strict})
    assert summary["max_pass_rate_by_mode"]["strict"] == pytest.approx(1.0)
    assert summary["max_pass_rate_by_mode"]["faithful"] == pytest.approx((n_good + 0.6) / n_problems)
    assert summary["defect_rows"] == {"gold_dict": 5, "gold_none": 2}
    science = [pid for pid in SOLUTIONS if problems[pid].category == "data science"]
    assert summary["by_category"]["data science"] == {"problems": len(science), "faithful": 0.5, "strict": 0.5}
    assert summary["by_category"]["array"]["problems"] == 2  # 41 and 89 are arrays; none of SOLUTIONS is
    assert summary["by_category"]["array"]["faithful"] == pytest.approx(0.3)
    assert summary["benchmark_max_achievable"]["faithful"]["test_cases"] == 558


def test_cli_hostile_programs_are_contained(tmp_path, problems, problems_file, capsys):
    p3 = problems["3"]
    programs = {
        "sys_exit_first": "import sys\nsys.exit(0)\nprint(7980)",
        "print_then_raise": "print(7980)\nraise RuntimeError('after the answer')",
        "print_then_exit": "print(7980)\nimport os\nos._exit(0)",
        "infinite_loop": "print(7980)\nwhile True:\n    pass",
        "fork_bomb": "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass",
        "good_after_all_that": "print(7980)",
    }
    rows = [program_row(p3, 0, program, name=name) for name, program in programs.items()]
    samples = write_jsonl(tmp_path / "hostile.jsonl", rows)
    started = time.monotonic()
    code = mtpb_main(["evaluate", str(samples), "--problems", str(problems_file), "--timeout", "3",
                      "--workers", "2", "--json", str(tmp_path / "summary.json")])
    assert code == 0 and time.monotonic() - started < 60
    out = {r["name"]: r for r in read_jsonl(results_path(samples))}
    assert out["sys_exit_first"]["verdict"] == "failed" and not out["sys_exit_first"]["passed_faithful"]
    assert out["print_then_raise"]["verdict"] == "failed" and not out["print_then_raise"]["passed_strict"]
    assert "RuntimeError: after the answer" in out["print_then_raise"]["error"]
    assert not out["print_then_exit"]["passed_faithful"]  # os._exit: no report, no observed value
    assert out["infinite_loop"]["verdict"] == "timeout" and not out["infinite_loop"]["passed_faithful"]
    assert out["fork_bomb"]["verdict"] in ("timeout", "failed", "crashed")
    assert not out["fork_bomb"]["passed_faithful"]
    assert out["good_after_all_that"]["passed_faithful"] and out["good_after_all_that"]["passed_strict"]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["rows"] == 6 and summary["pass_rate_by_mode"]["strict"] == pytest.approx(1 / 6)
    assert "pass rate" in capsys.readouterr().out


def test_printed_then_raised_passes_faithful_only(tmp_path, problems, problems_file):
    # reference eval_problem ignored do_exec's failure flag: a program that printed the answer and then
    # raised still passed. faithful keeps that; strict requires the program to finish.
    program = "print(7980)\nraise RuntimeError('after the answer')"
    samples = write_jsonl(tmp_path / "samples.jsonl", [program_row(problems["3"], 0, program)])
    evaluate(samples, problems_file, timeout_s=10, workers=1)
    row = read_jsonl(results_path(samples))[0]
    assert row["observed"] == "7980" and row["passed_faithful"] and not row["passed_strict"]


@pytest.mark.parametrize("make_line, message", [
    (lambda row: "{broken json", "line 2: malformed JSON"),
    (lambda row: json.dumps({**row, "id": "999"}), "line 2: field 'id': unknown problem id '999'"),
    (lambda row: json.dumps({**row, "input": {"a1": 9, "a2": 9}}), "line 2: field 'input' matches no test case"),
    (lambda row: json.dumps({k: v for k, v in row.items() if k != "completions"}),
     "line 2: missing field 'completions'"),
    (lambda row: json.dumps({**row, "gold_output": 1}), "line 2: field 'gold_output' 1 differs from problem 3"),
    (lambda row: json.dumps({**row, "completions": ["x"]}), "line 2: field 'completions' must be a string"),
])
def test_bad_input_names_the_line_and_writes_nothing(tmp_path, problems, problems_file, capsys, make_line, message):
    row = program_row(problems["3"], 0, "print(7980)")
    samples = tmp_path / "samples.jsonl"
    samples.write_text(json.dumps(row) + "\n" + make_line(row) + "\n")
    code = mtpb_main(["evaluate", str(samples), "--problems", str(problems_file)])
    assert code == 2 and message in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["samples.jsonl"]


def test_strict_mode_and_missing_gold_output(tmp_path, problems, problems_file):
    rows = [program_row(problems["10"], 4, "print(170)"), program_row(problems["10"], 0, "print('255')")]
    del rows[0]["gold_output"]  # taken from the problem (both duplicate cases have gold 170)
    samples = write_jsonl(tmp_path / "samples.jsonl", rows)
    summary = evaluate(samples, problems_file, timeout_s=10, workers=1, mode="strict")
    assert summary["pass_rate"] == 0.5 and summary["pass_rate_by_mode"] == {"faithful": 1.0, "strict": 0.5}
    results = read_jsonl(results_path(samples))
    assert [r["test_case"] for r in results] == [1, 0]
    assert [(r["passed"], r["passed_faithful"], r["passed_strict"]) for r in results] == [
        (True, True, True), (False, True, False)]  # '255' for the gold 255: only the reference coerces


def test_leftover_run_with_other_settings_is_refused(tmp_path, problems, problems_file):
    samples = write_jsonl(tmp_path / "samples.jsonl", [program_row(problems["3"], 0, "print(7980)")])
    partial = tmp_path / "samples.jsonl_results.jsonl.partial"
    partial.write_text(json.dumps({"_header": {"mode": "strict"}}) + "\n")
    with pytest.raises(ValueError, match="an unfinished run with different inputs or settings"):
        evaluate(samples, problems_file)
    assert partial.read_text() == json.dumps({"_header": {"mode": "strict"}}) + "\n"


def test_datasets_dir_supplies_the_missing_csv(tmp_path, problems, problems_file):
    p38 = problems["38"]
    program = ("import pandas as pd\ndf = pd.read_csv('./datasets/mlbootcamp5_train.csv', sep=';')\n"
               "my_counts = df.groupby('gender')['alco'].value_counts()\nprint(max(my_counts.values))")
    samples = write_jsonl(tmp_path / "samples.jsonl", [program_row(p38, 0, program)])
    evaluate(samples, problems_file, timeout_s=20, workers=1)
    row = read_jsonl(results_path(samples))[0]
    assert row["defects"] == ["missing_dataset:datasets/mlbootcamp5_train.csv"]
    assert row["verdict"] == "failed" and "FileNotFoundError" in row["error"]
    datasets = tmp_path / "datasets_in"
    datasets.mkdir()
    (datasets / "mlbootcamp5_train.csv").write_text("id;gender;alco\n1;1;0\n2;1;0\n3;2;1\n4;1;0\n")
    results_path(samples).unlink()
    summary = evaluate(samples, problems_file, timeout_s=20, workers=1, datasets_dir=datasets)
    row = read_jsonl(results_path(samples))[0]
    assert row["defects"] == [] and row["verdict"] == "passed" and row["observed"] == "np.int64(3)"
    assert summary["benchmark_max_achievable"]["faithful"]["test_cases"] == 563  # 38 now reachable


def test_sigkilled_run_resumes_without_loss_or_duplicates(tmp_path, problems, problems_file):
    p3 = problems["3"]
    rows = [program_row(p3, i % 5, f"import time\ntime.sleep(0.4)\nprint({p3.outputs[i % 5]})", n=i)
            for i in range(12)]
    samples = write_jsonl(tmp_path / "samples.jsonl", rows)
    partial = results_path(samples).with_name(results_path(samples).name + ".partial")
    env = {**os.environ, "PYTHONPATH": REPO + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen([sys.executable, "-m", "mtpb.cli", "evaluate", str(samples), "--problems",
                             str(problems_file), "--workers", "1"], env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not partial.exists() or partial.read_text().count("\n") < 4):
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the run and its sandboxes, mid-flight
    proc.wait()
    assert not results_path(samples).exists()
    before = {r["_index"]: r for r in map(json.loads, partial.read_text().splitlines()[1:]) if "_index" in r}
    assert 3 <= len(before) < len(rows)
    summary = evaluate(samples, problems_file, workers=2)
    assert summary["evaluated_now"] == len(rows) - len(before)
    final = read_jsonl(results_path(samples))
    assert [r["n"] for r in final] == list(range(len(rows))) and all(r["passed"] for r in final)
    for index, row in before.items():  # kept as written
        assert final[index] == {k: v for k, v in row.items() if k != "_index"}
    assert not partial.exists()


def turns_row(problem, case, completions, **extra):
    """A multi-turn row as mtpb generate writes it (only the fields mtpb evaluate reads)."""
    prompts = problem.render(case)
    turns = [{"prompt": p, "completion": c} for p, c in zip(prompts, completions)]
    return sample_row(problem, case, completions, mode="multi", turns=turns, **extra)


def test_per_turn_finds_the_first_turn_whose_program_raises(tmp_path, problems, problems_file):
    p1, p3 = problems["1"], problems["3"]
    good = SOLUTIONS["1"](p1.inputs[0])
    rows = [
        turns_row(p1, 0, good, name="good"),
        turns_row(p1, 0, good[:2] + ["chars = set(undefined_name)"] + good[3:], name="turn3"),
        turns_row(p1, 0, good[:4] + ["print(chars.nope)"], name="last"),
        turns_row(p1, 0, [good[0], "while True:\n    pass"] + good[2:], name="loops"),
        # a def whose body arrives in the next turn: turn 1's program does not parse, the whole one does
        turns_row(p3, 0, ["def minutes_to_seconds(minutes):", "    return minutes * 60\n"
                          "def hours_to_seconds(hours):\n    return hours * 3600",
                          "print(hours_to_seconds(2) + minutes_to_seconds(13))"], name="split_def"),
        turns_row(p3, 0, ["x = 1", "y = 2", "print(7980)"], name="passes", status="context"),
    ]
    samples = write_jsonl(tmp_path / "samples.jsonl", rows)
    summary = evaluate(samples, problems_file, timeout_s=2, workers=2, per_turn=True)
    out = {r["name"]: r for r in read_jsonl(results_path(samples))}
    got = {name: (r["first_failing_turn"], r["first_failing_error"], r["passed"]) for name, r in out.items()}
    assert got == {"good": (None, None, True), "turn3": (3, "NameError", False), "last": (5, "AttributeError", False),
                   "loops": (2, "timeout", False), "split_def": (1, "IndentationError", True),
                   "passes": (None, None, False)}  # status "context" always fails
    assert out["passes"]["verdict"] == "passed" and "outgrew the model's context" in out["passes"]["error"]
    assert all(r["turns"] == rows[i]["turns"] and r["mode"] == "multi" for i, r in enumerate(out.values()))
    assert all(r["sandbox"] for r in out.values()) and sum(summary["sandboxes"].values()) == len(rows)
    assert summary["context_rows"] == 1 and summary["per_turn"] is True
    assert summary["first_failing_turn"]["turns"] == {"1": 1, "2": 1, "3": 1, "5": 1, "none": 2}


@pytest.mark.parametrize("change, message", [
    (lambda row: row.pop("turns"), "line 1: --per-turn needs the field 'turns'"),
    (lambda row: row.update(mode="single"), "line 1: --per-turn needs multi-turn rows, this one has mode 'single'"),
    (lambda row: row["turns"][1].update(completion="y = 3"), "line 1: field 'turns' does not rebuild 'completions' at turn 2"),
])
def test_per_turn_bad_rows_are_named(tmp_path, problems, problems_file, capsys, change, message):
    row = turns_row(problems["3"], 0, ["x = 1", "y = 2", "print(7980)"])
    change(row)
    samples = write_jsonl(tmp_path / "samples.jsonl", [row])
    code = mtpb_main(["evaluate", str(samples), "--problems", str(problems_file), "--per-turn"])
    assert code == 2 and message in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["samples.jsonl"]


def test_sigkilled_per_turn_run_resumes_to_the_same_file(tmp_path, problems, problems_file):
    p3 = problems["3"]
    rows = [turns_row(p3, i % 5, ["import time\ntime.sleep(0.15)", f"x = {i}",
                                  f"print({p3.outputs[i % 5]})" if i % 3 else "print(x.y)"], n=i)
            for i in range(9)]
    samples = write_jsonl(tmp_path / "samples.jsonl", rows)
    clean = write_jsonl(tmp_path / "clean.jsonl", rows)
    partial = results_path(samples).with_name(results_path(samples).name + ".partial")
    env = {**os.environ, "PYTHONPATH": REPO + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen([sys.executable, "-m", "mtpb.cli", "evaluate", str(samples), "--problems",
                             str(problems_file), "--workers", "1", "--per-turn"], env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not partial.exists() or partial.read_text().count("\n") < 3):
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not results_path(samples).exists() and partial.exists()
    evaluate(samples, problems_file, workers=2, per_turn=True)
    evaluate(clean, problems_file, workers=2, per_turn=True)

    assert results_path(samples).read_bytes() == results_path(clean).read_bytes()  # rows hold no timings
    resumed = read_jsonl(results_path(samples))
    assert [r["n"] for r in resumed] == list(range(len(rows)))
    assert [r["first_failing_turn"] for r in resumed] == [None if i % 3 else 3 for i in range(len(rows))]
