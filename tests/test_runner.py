"""humaneval.runner: each distinct program runs once, follow-up jobs, the harness-error policy, the
fingerprint, resume; and jaxformer.fileio (the one JSONL reader and atomic writer)."""
import dataclasses
import json

import pytest

from flaky_engine import FlakyEngine
from humaneval import runner
from humaneval.engine import Job, Limits
from jaxformer import fileio

LIMITS = Limits(timeout_s=5.0)
SETTINGS = runner.RunSettings(workers=2, preload=())


def row_of(index, job, result):
    return {"index": index, "verdict": result.verdict, "ran": result.key}


def test_identical_programs_run_once_and_every_copy_gets_the_verdict(tmp_path, monkeypatch):
    programs = ["pass", "raise ValueError", "pass", "pass", "raise ValueError", "x = 1"]
    engine = FlakyEngine()
    monkeypatch.setattr(runner, "Engine", engine)
    outcome = runner.Runner(tmp_path / "out.jsonl", {"h": 1}, len(programs),
                            lambda i: [Job(str(i), programs[i], LIMITS)], row_of, SETTINGS).run()
    assert outcome.complete and outcome.programs == 6 and outcome.unique_programs == 3
    assert sorted(engine.executed) == ["0", "1", "5"]
    rows = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [r["index"] for r in rows] == list(range(6))  # input order, one row per input
    assert [r["verdict"] for r in rows] == ["passed", "failed", "passed", "passed", "failed", "passed"]
    assert [r["ran"] for r in rows] == ["0", "1", "0", "0", "1", "5"]
    # different limits make a different program
    assert runner._identity(Job("a", "pass", LIMITS)) != runner._identity(Job("b", "pass", Limits(timeout_s=1.0)))


def test_follow_up_jobs_and_rows_that_wait_for_them(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "Engine", FlakyEngine())
    seen: dict[int, list[str]] = {}

    def make_row(index, job, result):  # each row needs its program, then "print(index)" as a follow-up
        seen.setdefault(index, []).append(job.key)
        if len(seen[index]) == 1:
            run.submit(index, Job(f"{index}@2", "print(1)" if index < 2 else "pass", LIMITS))
            return None
        return {"keys": seen[index], "verdict": result.verdict}

    run = runner.Runner(tmp_path / "out.jsonl", {"h": 1}, 3, lambda i: [Job(str(i), f"x = {i}", LIMITS)],
                        make_row, SETTINGS)
    outcome = run.run()
    assert outcome.complete and outcome.programs == 6 and outcome.unique_programs == 5  # "0@2" == "1@2"
    assert [outcome.rows[i]["keys"] for i in range(3)] == [["0", "0@2"], ["1", "1@2"], ["2", "2@2"]]


def test_harness_errors_are_retried_or_excluded(tmp_path, monkeypatch):
    out = tmp_path / "out.jsonl"
    jobs_for = lambda i: [Job(str(i), f"y = {i}", LIMITS)]  # noqa: E731
    monkeypatch.setattr(runner, "Engine", FlakyEngine({"1"}))
    outcome = runner.Runner(out, {"h": 1}, 3, jobs_for, row_of, SETTINGS).run()
    assert not outcome.complete and not out.exists()
    assert outcome.harness_errors == [runner.HarnessError(1, "HarnessError", "sandbox setup failed")]
    assert str(outcome.harness_errors[0]) == "harness error: HarnessError: sandbox setup failed"
    assert outcome.rows[1]["verdict"] == "harness_error"  # built, but not logged

    engine = FlakyEngine({"1"})
    monkeypatch.setattr(runner, "Engine", engine)
    excluding = dataclasses.replace(SETTINGS, exclude_harness_errors=True)
    outcome = runner.Runner(out, {"h": 1}, 3, jobs_for, row_of, excluding).run()
    assert engine.executed == ["1"] and outcome.resumed == 2  # only the missing row is retried
    assert outcome.complete and [json.loads(line)["verdict"] for line in out.read_text().splitlines()] == \
           ["passed", "harness_error", "passed"]


def test_fingerprint_holds_limits_and_sandbox():
    header = runner.fingerprint("e/1", Limits(timeout_s=2.0), "rlimits", samples_sha256="abc")
    assert header["limits"]["timeout_s"] == 2.0 and header["sandbox"] == "rlimits"
    assert header["samples_sha256"] == "abc" and header["evaluator"] == "e/1"
    assert header != runner.fingerprint("e/1", Limits(timeout_s=3.0), "rlimits", samples_sha256="abc")


def test_atomic_writer_keeps_the_old_file_on_error(tmp_path):
    path = tmp_path / "a.txt"
    fileio.write_text_atomic(path, "old\n")
    with pytest.raises(RuntimeError):
        with fileio.atomic_path(path) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed")
    assert path.read_text() == "old\n" and sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]
    fileio.write_jsonl_atomic(path, [{"a": "é"}, {"b": 2}])
    assert list(fileio.read_jsonl(path)) == [(1, {"a": "é"}), (2, {"b": 2})]


def test_jsonl_reader_names_the_line(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text('{"a": 1}\n\n[1]\n')
    with pytest.raises(ValueError, match=r"x.jsonl line 3: expected a JSON object, got list"):
        list(fileio.read_jsonl(path))
    assert fileio.parse_json_object(b"  \n", "w") is None
