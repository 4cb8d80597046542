"""`humaneval matrix`: two tiny models x two languages x three problems, greedy pass@1 cells, report files
with the numbers they show, resume at cell level, bad input refused before any model loads."""
import json

import numpy as np
import pandas as pd
import pytest

from humaneval.cli import main
from humaneval.matrix import CELLS, MatrixSettings, model_label, run_matrix
from humaneval.matrix_report import FILES, frames
from humaneval.results import ResultLog

MODELS = ("random:tiny", "tiny-python")
ARGS = ["--models", ",".join(MODELS), "--languages", "python,js", "--limit", "3", "--max-new-tokens", "8",
        "--workers", "2", "--no-progress"]


@pytest.fixture(scope="module")
def matrix_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("matrix")
    assert main(["matrix", "--out", str(out), "--base", "tiny-python", "--instruct"] + ARGS) == 0
    return out


def test_cells_and_report(matrix_out):
    assert all((matrix_out / name).is_file() for name in FILES)
    cells = [json.loads(line) for line in (matrix_out / CELLS).read_text().splitlines()]
    assert [(c["model"], c["language"]) for c in cells] == [("random:tiny", "python"), ("random:tiny", "js"),
                                                            ("tiny-python", "python"), ("tiny-python", "js")]
    for c in cells:
        assert c["problems"] == 3 and sum(c["verdicts"].values()) == 3 and c["pass@1"] == c["passed"] / 3
        samples = [json.loads(line) for line in
                   (matrix_out / "runs" / c["model"] / c["language"] / "samples_greedy.jsonl").read_text().splitlines()]
        assert len(samples) == 3 and all("response" in s for s in samples)  # --instruct rows
    summary = json.loads((matrix_out / "summary.json").read_text())
    assert summary["pass_at_1"] == {m: {c["language"]: c["pass@1"] for c in cells if c["model"] == m}
                                    for m in ("random:tiny", "tiny-python")}
    assert summary["settings"]["base"] == "tiny-python" and summary["settings"]["instruct"] is True
    assert {m["sha256"] for m in summary["models"].values()} == {c["model_sha256"] for c in cells}
    assert len(summary["models"]) == 2 and summary["machine"]["cpu_count"] and summary["stages"]
    report = (matrix_out / "report.md").read_text()
    assert "## Delta against the base model `tiny-python`" in report and "df.T.corr()" in report
    csv = pd.read_csv(matrix_out / "pass_at_1.csv", index_col=0)
    assert list(csv.columns) == ["python", "js"] and list(csv.index) == ["random:tiny", "tiny-python"]


def test_rerun_reuses_finished_cells_and_resumes_a_killed_matrix(matrix_out):
    final = matrix_out / CELLS
    whole = final.read_bytes()
    settings = MatrixSettings(models=MODELS, languages=("python", "js"), base="tiny-python", instruct=True,
                              max_new_tokens=8, limit=3)
    assert [json.dumps(r) for r in run_matrix(settings, matrix_out, workers=2)] == \
           [line for line in whole.decode().splitlines()]
    # killed after the first cell: its partial log holds the header and cell 0
    log = ResultLog(final, {"matrix": settings.as_json()})
    log.open()
    log.append(0, json.loads(whole.decode().splitlines()[0]))
    log.close()
    final.unlink()
    rows = run_matrix(settings, matrix_out, workers=2)
    assert [(r["model"], r["language"], r["pass@1"]) for r in rows] == \
           [(r["model"], r["language"], r["pass@1"]) for r in map(json.loads, whole.decode().splitlines())]
    assert rows[1]["generate_s"] < 60  # the cell's run directory was complete: nothing sampled again


def test_frames_delta_and_both_correlations():
    cells = [{"model": m, "language": lang, "pass@1": v} for m, row in
             {"a": [0.1, 0.2, 0.4], "b": [0.3, 0.1, 0.5], "c": [0.2, 0.2, 0.1]}.items()
             for lang, v in zip(("python", "js", "go"), row)]
    df, delta, corr_languages, corr_models = frames(cells, ("a", "b", "c"), ("python", "js", "go"), "b")
    values = np.array([[0.1, 0.2, 0.4], [0.3, 0.1, 0.5], [0.2, 0.2, 0.1]])
    assert np.allclose(delta.to_numpy(), values - values[1])
    assert np.allclose(corr_languages.to_numpy(), np.corrcoef(values.T))  # df.corr(): columns = languages
    assert np.allclose(corr_models.to_numpy(), np.corrcoef(values))  # df.T.corr(): models
    assert list(corr_models.index) == ["a", "b", "c"]


def test_bad_input_is_refused_before_models_load(matrix_out, tmp_path, capsys):
    bad = [(["--models", "random:tiny", "--languages", "python,cobol"], "unknown language 'cobol'"),
           (["--models", "random:tiny", "--languages", "js", "--base", "other"], "--base 'other' is not one of"),
           (["--models", "tiny-python,checkpoints/tiny-python", "--languages", "js"], "--models repeats tiny-python"),
           (["--models", "random:tiny", "--languages", ""], "give at least one model")]
    for args, message in bad:
        assert main(["matrix", "--out", str(tmp_path / "x")] + args) == 2
        assert message in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
    assert main(["matrix", "--out", str(matrix_out), "--base", "tiny-python"] + ARGS) == 2  # not --instruct
    assert "holds another matrix (instruct: True there, False now)" in capsys.readouterr().err
    assert model_label("runs/codem/go/hf") == "go" and model_label("py=runs/x") == "py"
