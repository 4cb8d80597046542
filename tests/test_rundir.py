"""The HumanEval run directory layout: labels, part files merged in global order, clear errors."""
import pytest

from humaneval import rundir
from humaneval.results import write_jsonl_atomic


def rows(n):
    return [{"task_id": f"HumanEval/{g // 3}", "completion": f"c{g}", "sample_index": g % 3} for g in range(n)]


def test_labels_and_whole_files(tmp_path):
    write_jsonl_atomic(rundir.samples_path(tmp_path, "t0.2"), rows(6))
    write_jsonl_atomic(rundir.samples_path(tmp_path, rundir.GREEDY), rows(2))
    # not samples files: evaluate's results, a resumable log, a report
    (tmp_path / "samples_t0.2.jsonl_results.jsonl").write_text("{}\n")
    (tmp_path / "samples_t0.8.jsonl.partial").write_text("{}\n")
    (tmp_path / "report.md").write_text("x")
    files = rundir.samples_files(tmp_path)
    assert list(files) == ["greedy", "t0.2"]
    assert [p.name for p in files["t0.2"]] == ["samples_t0.2.jsonl"]
    assert rundir.load_run_samples(tmp_path, "t0.2") == rows(6)
    assert rundir.temperature_label("0.2") == "t0.2"


@pytest.mark.parametrize("total,count", [(7, 2), (6, 3), (2, 3)])
def test_parts_merge_in_global_order(tmp_path, total, count):
    every = rows(total)
    for i in range(count):
        write_jsonl_atomic(rundir.samples_path(tmp_path, "t0.8", (i, count)), every[i::count])
    files = rundir.samples_files(tmp_path)
    assert [p.name for p in files["t0.8"]] == [f"samples_t0.8.part{i}-of-{count}.jsonl" for i in range(count)]
    assert rundir.load_run_samples(tmp_path, "t0.8") == every


def test_layout_errors(tmp_path):
    every = rows(5)
    write_jsonl_atomic(rundir.samples_path(tmp_path, "t1", (0, 2)), every[0::2])
    with pytest.raises(ValueError, match=r"missing part file\(s\) samples_t1.part1-of-2.jsonl"):
        rundir.samples_files(tmp_path)
    write_jsonl_atomic(rundir.samples_path(tmp_path, "t1", (1, 2)), every[1::2][:1])  # cut short
    with pytest.raises(ValueError, match="part 1 of 2 has 1 rows but part 0 has 3"):
        rundir.load_run_samples(tmp_path, "t1")
    write_jsonl_atomic(rundir.samples_path(tmp_path, "t1"), every)
    with pytest.raises(ValueError, match="both present"):
        rundir.samples_files(tmp_path)
    rundir.samples_path(tmp_path, "t1").unlink()
    with pytest.raises(KeyError, match="no samples file for 't9'"):
        rundir.load_run_samples(tmp_path, "t9")


def test_run_json_roundtrip_and_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a HumanEval run directory"):
        rundir.read_run(tmp_path)
    info = {"model": {"spec": "random:tiny", "sha256": "ab"}, "settings": {"temperatures": ["0.2"]}}
    path = rundir.write_run_json(tmp_path / "run", info)
    assert rundir.read_run(tmp_path / "run") == info
    path.write_text("[1]")
    with pytest.raises(ValueError, match="expected a JSON object"):
        rundir.read_run(tmp_path / "run")
