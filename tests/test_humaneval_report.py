"""`humaneval report` / `humaneval evaluate RUN` on a synthetic run directory with known answers: pass@k
per temperature, best temperature per k, k > n, ranking picks, BLEU, failure categories, part files, a
problem subset, bad input."""
import json

import pytest

from humaneval import rundir, runinfo
from humaneval.passk import pass_at_k
from humaneval.results import file_sha256, write_jsonl_atomic

CHECK = "def check(candidate):\n    assert candidate(1) == {one}\n    assert candidate(5) == {five}\n"
PROBLEMS = [
    {"task_id": "Toy/0", "prompt": "def f(x):\n", "entry_point": "f", "canonical_solution": "    return x\n",
     "test": CHECK.format(one=1, five=5)},
    {"task_id": "Toy/1", "prompt": "def g(x):\n", "entry_point": "g", "canonical_solution": "    return x * 2\n",
     "test": CHECK.format(one=2, five=10)},
    {"task_id": "Toy/2", "prompt": "def h(x):\n", "entry_point": "h", "canonical_solution": "    return -x\n",
     "test": CHECK.format(one=-1, five=-5)},
    {"task_id": "Toy/3", "prompt": "def u(x):\n", "entry_point": "u", "canonical_solution": "    return x\n",
     "test": CHECK.format(one=1, five=5)},  # not in the run: the report covers the run's subset
]
WRONG, SYNTAX, NAME, LOOP = "    return 0\n", "    return (\n", "    return undefined\n", "    while True:\n        pass\n"
C = "correct"
# (completion, mean_logprob, sum_logprob) per sample, per problem
RUN = {
    "greedy": {"Toy/0": [C], "Toy/1": [WRONG], "Toy/2": [WRONG]},
    "t0.2": {"Toy/0": [C, C, WRONG, SYNTAX], "Toy/1": [WRONG, C, WRONG, WRONG], "Toy/2": [SYNTAX, WRONG, WRONG, WRONG]},
    "t0.8": {"Toy/0": [WRONG, WRONG, WRONG, C], "Toy/1": [C, C, C, C], "Toy/2": [NAME, LOOP, WRONG, WRONG]},
}


def scores(completion, index):
    # correct samples: best mean log-prob, worst sum log-prob (a long correct one vs short wrong ones)
    return (-0.1 - 0.01 * index, -50.0 - index) if completion == C else (-1.0 - 0.01 * index, -5.0 - index)


def make_run(tmp_path, parts_for=("t0.8",)):
    problems_file = tmp_path / "problems.jsonl"
    write_jsonl_atomic(problems_file, PROBLEMS)
    run = tmp_path / "run"
    run.mkdir()
    task_ids = ["Toy/0", "Toy/1", "Toy/2"]
    rundir.write_run_json(run, {
        "model": {"spec": "synthetic:model", "sha256": "f" * 64, "fingerprint": {"sha256": "f" * 64, "config": "c" * 64}},
        "settings": {"n": 4, "temperatures": ["0.2", "0.8"], "greedy": True, "seed": 0},
        "problems": {"path": str(problems_file), "sha256": file_sha256(problems_file), "task_ids": task_ids},
        "toolkit": "test", "machine": runinfo.machine_info(), "stages": {"generate": 12.5}})
    for label, by_task in RUN.items():
        rows = []
        for task_id in task_ids:
            problem = next(p for p in PROBLEMS if p["task_id"] == task_id)
            for i, completion in enumerate(by_task[task_id]):
                mean, total = scores(completion, i)
                text = problem["canonical_solution"] if completion == C else completion
                rows.append({"task_id": task_id, "completion": text, "sample_index": i, "mean_logprob": mean,
                             "sum_logprob": total, "num_tokens": 5, "stop_reason": "stop"})
        if label in parts_for:
            for part in range(2):
                write_jsonl_atomic(rundir.samples_path(run, label, (part, 2)), rows[part::2])
        else:
            write_jsonl_atomic(rundir.samples_path(run, label), rows)
    return run


def expected_pass(label, k):
    values = []
    for completions in RUN[label].values():
        n, c = len(completions), completions.count(C)
        values.append(pass_at_k(n, c, k) if k <= n else None)
    return None if None in values else sum(values) / len(values)


@pytest.fixture(scope="module")
def reported(tmp_path_factory):
    from humaneval.report import report_run

    run = make_run(tmp_path_factory.mktemp("report"))
    out = report_run(run, ks=[1, 2, 4], timeout=3.0, workers=2)  # LOOP costs one timeout: identical copies run once
    return run, out, json.loads((run / "summary.json").read_text())


def test_pass_at_k_per_temperature_with_ci_and_k_above_n(reported):
    run, out, summary = reported
    assert out == run / "report.md"
    for label in RUN:
        for k in (1, 2, 4):
            entry = summary["labels"][label]["pass_at_k"][str(k)]
            want = expected_pass(label, k)
            if want is None:  # greedy has n = 1
                assert entry["value"] is None and entry["note"] == "n/a (k > n)" and entry["n"] == 1
            else:
                assert entry["value"] == pytest.approx(want)
                assert entry["ci_low"] <= entry["value"] <= entry["ci_high"]
    assert summary["labels"]["t0.8"]["n"] == 4 and summary["labels"]["t0.8"]["problems"] == 3
    # best temperature per k: t0.8 for pass@1 (0.42) and pass@2 (0.5); pass@4 ties at 2/3 -> the lower temperature
    best = {k: v["label"] for k, v in summary["best_temperature"].items()}
    assert best == {"1": "t0.8", "2": "t0.8", "4": "t0.2"}
    text = out.read_text()
    assert "n/a (k > n)" in text and "a subset: 3 of 4" in text and "synthetic:model" in text
    assert "f" * 64 in text and "12.5 s" in text


def test_ranking_picks_the_right_sample(reported):
    _, _, summary = reported
    result = summary["labels"]["t0.2"]["ranking"]
    # mean log-prob picks the correct sample in Toy/0 and Toy/1; sum log-prob always picks a wrong one
    assert result["pass_rate"] == pytest.approx({"mean_logprob": 2 / 3, "sum_logprob": 0.0, "random": 0.25,
                                                 "oracle": 2 / 3})
    curve = result["curve"]
    assert curve["k"] == [1, 2, 3, 4]
    assert curve["random"] == pytest.approx([0.25] * 4)
    assert curve["oracle"] == pytest.approx([expected_pass("t0.2", k) for k in (1, 2, 3, 4)])
    assert curve["mean_logprob"][0] == pytest.approx(0.25) and curve["mean_logprob"][-1] == pytest.approx(2 / 3)
    assert "ranking" in summary["labels"]["greedy"] and "note" in summary["labels"]["greedy"]["ranking"]


def test_bleu_failures_plots_and_parts(reported):
    run, _, summary = reported
    bleu = summary["labels"]["t0.2"]["bleu"]
    assert bleu["overall"]["correct"]["count"] == 3 and bleu["overall"]["correct"]["mean"] == pytest.approx(100.0)
    assert bleu["overall"]["incorrect"]["count"] == 9 and bleu["overall"]["incorrect"]["mean"] < 100
    assert list(bleu["problems"])[:2] == ["Toy/0", "Toy/1"]  # the problems with both kinds come first
    failures = summary["labels"]["t0.8"]["per_problem"]
    assert failures["Toy/2"] == {"samples": 4, "passes": 0,
                                 "failures": {"assertion": 2, "exception: NameError": 1, "timeout": 1}}
    assert summary["labels"]["t0.2"]["failures"] == {"assertion": 7, "syntax error": 2}
    for name in summary["plots"]:
        assert (run / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(summary["plots"]) == ["plots/bleu_t0.8.png", "plots/pass_at_k_vs_temperature.png",
                                        "plots/ranking_t0.2.png", "plots/ranking_t0.8.png"]
    assert (run / "samples_t0.8.part1-of-2.jsonl_results.jsonl").exists()  # parts evaluated one by one
    assert summary["stages"]["generate"] == 12.5 and summary["stages"]["evaluate"] > 0
    assert rundir.read_run(run)["stages"]["evaluate"] == summary["stages"]["evaluate"]


def test_evaluate_reads_a_run_directory_and_runs_identical_samples_once(reported, capsys):
    from humaneval.cli import main

    run, _, summary = reported
    # greedy 3 + t0.2 7 + t0.8 parts 4 + 5 distinct programs (the program holds the problem's prompt and test)
    assert summary["evaluation"]["evaluated_now"] == 27 and summary["evaluation"]["unique_programs_now"] == 19
    (run / "samples_t0.2.jsonl_results.jsonl").unlink()
    assert main(["evaluate", str(run), "--k", "1", "--no-progress"]) == 0
    captured = capsys.readouterr()
    # only t0.2 runs again (the other results are reused): 12 samples, 7 distinct programs
    assert "unique programs: 7 executed for 12 samples" in captured.err
    assert captured.err.count("unique programs") == 1
    assert json.loads(captured.out) == {label: {"pass@1": pytest.approx(expected_pass(label, 1))} for label in RUN}


def test_bad_input_is_named_before_any_work(tmp_path):
    from humaneval.report import report_run

    run = make_run(tmp_path, parts_for=())
    with pytest.raises(ValueError, match=r"--k 10: larger than the number of samples per problem \(largest n = 4"):
        report_run(run, ks=[1, 10])
    assert not list(run.glob("*_results.jsonl*"))
    path = rundir.samples_path(run, "t0.2")
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:2] + ['{"task_id": "Toy/0", "completion": '] + lines[3:]) + "\n")
    with pytest.raises(ValueError, match=r"samples_t0.2.jsonl line 3: malformed JSON"):
        report_run(run)
    assert not list(run.glob("*_results.jsonl*")) and not (run / "report.md").exists()
    path.unlink()
    with pytest.raises(ValueError, match=r"asks for samples_t0.2.jsonl but it is not there"):
        report_run(run)
