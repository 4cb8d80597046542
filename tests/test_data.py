import json

import numpy as np
import pytest

from jaxformer import cli, tokenizer
from jaxformer.data import formats, prepare as prep
from jaxformer.data.dataset import PreparedDataset, open_dataset
from jaxformer.data.mixture import Mixture, block_counts
from jaxformer.data.permutation import permute

FILES = {
    "a.py": "def add(a, b):\n    return a + b\n",
    "b.py": "class Stack:\n    def __init__(self):\n        self.items = []\n\n    def push(self, x):\n"
            "        self.items.append(x)\n",
    "sub/c.py": "import os\n\n\ndef main():\n\tprint(os.getcwd())\n",
    "sub/d.txt": "plain text, also a source\n" * 3,
    "skip.bin": "\x00\x01 not a source suffix",
}


@pytest.fixture(scope="module")
def tok():
    return tokenizer.load("codegen")


def write_corpus(root, files=FILES):
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def write_jsonl(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def run_prepare(src, out, **kw):
    cfg = prep.PrepareConfig(sources=(str(src),), out=str(out), **{"seq_len": 16, **kw})
    return prep.prepare(cfg)


def stream(path, split="train"):
    """Undo the packing: the first row, then each later row without its overlap token."""
    rows = [np.load(path / s["tokens"]) for s in json.loads((path / "index.json").read_text())["splits"][split]["shards"]]
    rows = np.concatenate(rows)
    return np.concatenate([rows[0], rows[1:, 1:].reshape(-1)]), rows


def test_packing_joins_documents_with_eos(tmp_path, tok):
    src = write_corpus(tmp_path / "src")
    index = run_prepare(src, tmp_path / "out", rows_per_shard=3)
    expected = []
    for name in sorted(n for n in FILES if not n.endswith(".bin")):  # resolve() sorts paths
        expected += tok.encode(FILES[name]) + [50256]
    got, rows = stream(tmp_path / "out")
    assert rows.dtype == np.uint16 and rows.shape[1] == 17
    assert np.array_equal(rows[:-1, -1], rows[1:, 0])  # rows overlap by one token
    train = index["splits"]["train"]
    assert train["documents"] == 4 and train["tokens"] == len(expected)
    assert len(got) == len(expected) - train["dropped_tokens"] == 16 * len(rows) + 1
    assert got.tolist() == expected[:len(got)]
    assert [s["rows"] for s in train["shards"]] == [3] * (len(rows) // 3) + ([len(rows) % 3] if len(rows) % 3 else [])
    assert not (tmp_path / "out.partial").exists()


def test_token_dtype():
    assert prep.token_dtype(50295) == np.uint16 and prep.token_dtype(65536) == np.uint16
    assert prep.token_dtype(65537) == np.uint32


def test_workers_give_identical_output_and_resume_after_interrupt(tmp_path, monkeypatch):
    src = write_corpus(tmp_path / "src")
    run_prepare(src, tmp_path / "one", unit_bytes=60, workers=1, val_fraction=0.3)
    run_prepare(src, tmp_path / "two", unit_bytes=60, workers=2, val_fraction=0.3)
    for split in ("train", "val"):
        assert np.array_equal(stream(tmp_path / "one", split)[1], stream(tmp_path / "two", split)[1])

    def interrupted(*args):
        raise KeyboardInterrupt
    monkeypatch.setattr(prep, "run_pack", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_prepare(src, tmp_path / "three", unit_bytes=60, val_fraction=0.3)
    assert not (tmp_path / "three").exists() and (tmp_path / "three.partial" / "pieces").is_dir()
    monkeypatch.undo()
    calls = []
    real_job = prep._tokenize_job
    monkeypatch.setattr(prep, "_tokenize_job", lambda job: calls.append(job) or real_job(job))
    run_prepare(src, tmp_path / "three", unit_bytes=60, val_fraction=0.3)
    assert calls == []  # every unit was already tokenized
    assert np.array_equal(stream(tmp_path / "three")[1], stream(tmp_path / "one")[1])
    assert not (tmp_path / "three.partial").exists()


def test_rerun_is_a_no_op_and_changed_settings_need_overwrite(tmp_path):
    src = write_corpus(tmp_path / "src")
    first = run_prepare(src, tmp_path / "out")
    mtime = (tmp_path / "out" / "index.json").stat().st_mtime_ns
    assert run_prepare(src, tmp_path / "out") == first
    assert (tmp_path / "out" / "index.json").stat().st_mtime_ns == mtime
    with pytest.raises(OSError, match="--overwrite"):
        run_prepare(src, tmp_path / "out", seq_len=8)
    cfg = prep.PrepareConfig(sources=(str(src),), out=str(tmp_path / "out"), seq_len=8)
    assert prep.prepare(cfg, overwrite=True)["seq_len"] == 8
    (src / "a.py").write_text(FILES["a.py"] + "# edited\n")  # a changed source is a different input
    with pytest.raises(OSError, match="other inputs or settings"):
        prep.prepare(cfg)


def test_validation_split_is_deterministic_and_disjoint(tmp_path, tok):
    docs = [{"text": f"def f{i}():\n    return {i}\n"} for i in range(60)]
    src = write_jsonl(tmp_path / "docs.jsonl", docs)
    index = run_prepare(src, tmp_path / "out", seq_len=4, val_fraction=0.25, seed=3)
    val = [d["text"] for d in docs if prep.in_validation(d["text"], 3, 0.25)]
    assert 5 <= len(val) <= 25 and index["splits"]["val"]["documents"] == len(val)
    expected_val = [t for text in val for t in tok.encode(text) + [50256]]
    got = stream(tmp_path / "out", "val")[0].tolist()
    assert got == expected_val[:len(got)]
    again = run_prepare(src, tmp_path / "again", seq_len=4, val_fraction=0.25, seed=3)
    assert again["splits"]["val"]["documents"] == len(val)
    other = run_prepare(src, tmp_path / "other", seq_len=4, val_fraction=0.25, seed=4)
    assert [d["text"] for d in docs if prep.in_validation(d["text"], 4, 0.25)] != val
    assert other["splits"]["val"]["documents"] + other["splits"]["train"]["documents"] == 60


def test_completion_and_instruct_masks(tmp_path, tok):
    records = [{"prompt": "def sq(x):\n", "completion": "    return x * x\n"},
               {"prompt": "# add\ndef add(a, b):\n", "completion": "    return a + b\n"}]
    src = write_jsonl(tmp_path / "sft.jsonl", records)
    run_prepare(src, tmp_path / "out", seq_len=8, fmt="completion")
    tokens, masks = [], []
    for r in records:
        p, c = tok.encode(r["prompt"]), tok.encode(r["completion"])
        tokens += p + c + [50256]
        masks += [0] * len(p) + [1] * (len(c) + 1)
    ds = PreparedDataset(tmp_path / "out", shuffle=False)
    assert ds.masks[0].dtype == np.uint8
    b = ds.batch(0, len(ds))
    # loss_mask[r, t] belongs to targets[r, t] = stream[8r + t + 1]
    assert b["targets"].reshape(-1).tolist() == tokens[1:len(ds) * 8 + 1]
    assert b["loss_mask"].reshape(-1).tolist() == masks[1:len(ds) * 8 + 1]

    inst = [{"instruction": "Write a function that returns 1.", "response": "def one():\n    return 1\n"}]
    src = write_jsonl(tmp_path / "inst.jsonl", inst)
    run_prepare(src, tmp_path / "inst", seq_len=8, fmt="instruct")
    prompt = formats.instruct_prompt(inst[0]["instruction"])
    assert prompt.startswith("Below is an instruction") and prompt.endswith("### Response:\n")
    n_prompt, n_resp = len(tok.encode(prompt)), len(tok.encode(inst[0]["response"]))
    ds = PreparedDataset(tmp_path / "inst", shuffle=False)
    mask_stream = np.concatenate([ds.masks[0][0], ds.masks[0][1:, 1:].reshape(-1)]).tolist()
    full = [0] * n_prompt + [1] * (n_resp + 1)
    assert mask_stream == full[:len(mask_stream)] and sum(mask_stream) > 0


def test_big_jsonl_is_split_into_byte_ranges_without_changing_the_output(tmp_path):
    from jaxformer.data import sources
    docs = [{"text": f"line {i}: " + "x" * (i % 13)} for i in range(50)]
    src = write_jsonl(tmp_path / "big.jsonl", docs)
    size = src.stat().st_size
    for cuts in ([0, 1, size], [0, 37, 38, 200, 555, size], list(range(0, size, 7)) + [size]):
        parts = [r["text"] for a, b in zip(cuts, cuts[1:]) for _, r in sources.iter_records(src, a, b)]
        assert parts == [d["text"] for d in docs]
    assert len(prep.work_units([src], 100)) == -(-size // 100)
    whole = run_prepare(src, tmp_path / "whole", seq_len=8)
    split = run_prepare(src, tmp_path / "split", seq_len=8, unit_bytes=100, workers=2)
    assert split["splits"]["train"]["documents"] == 50
    assert np.array_equal(stream(tmp_path / "split")[1], stream(tmp_path / "whole")[1])
    lines = src.read_text().splitlines(keepends=True)
    src.write_text("".join(lines[:40]) + "{broken\n" + "".join(lines[40:]))
    with pytest.raises(ValueError, match=r"big\.jsonl:41: malformed JSON"):
        run_prepare(src, tmp_path / "bad", seq_len=8, unit_bytes=100)


def test_malformed_jsonl_and_missing_field_name_the_line(tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "ok"}\n{"text": "fine"}\n{"text": oops}\n')
    with pytest.raises(ValueError, match=r"bad\.jsonl:3: malformed JSON"):
        run_prepare(bad, tmp_path / "out")
    write_jsonl(bad, [{"prompt": "p", "completion": "c"}, {"prompt": "p"}])
    with pytest.raises(ValueError, match=r"bad\.jsonl:2: field 'completion' missing"):
        run_prepare(bad, tmp_path / "out", fmt="completion")
    assert not (tmp_path / "out").exists()
    assert cli.main(["data", "prepare", "--source", str(tmp_path / "nope*.jsonl"), "--seq-len", "8",
                     "--out", str(tmp_path / "o")]) == 2
    assert "nope*.jsonl: no files matched" in capsys.readouterr().err


def test_undecodable_file_stops_or_is_skipped(tmp_path):
    src = write_corpus(tmp_path / "src")
    (src / "latin1.py").write_bytes("s = 'caf\xe9'\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"latin1\.py: not UTF-8 .*--skip-undecodable"):
        run_prepare(src, tmp_path / "out")
    index = run_prepare(src, tmp_path / "out", skip_undecodable=True)
    assert index["skipped_files"] == [str((src / "latin1.py").resolve())]
    assert index["splits"]["train"]["documents"] == 4


def test_parquet_without_datasets_says_what_to_install(tmp_path, monkeypatch):
    from jaxformer.data import sources
    monkeypatch.setitem(__import__("sys").modules, "datasets", None)
    (tmp_path / "x.parquet").write_bytes(b"PAR1")
    with pytest.raises(ValueError, match=r"x\.parquet: .*pip install datasets"):
        list(sources.iter_records(tmp_path / "x.parquet"))


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    root = tmp_path_factory.mktemp("prepared")
    docs = [{"text": f"value_{i} = {i} * {i}\n"} for i in range(200)]
    run_prepare(write_jsonl(root / "a.jsonl", docs), root / "a", seq_len=8, rows_per_shard=7)
    docs = [{"text": f"# comment number {i}\n"} for i in range(100)]
    run_prepare(write_jsonl(root / "b.jsonl", docs), root / "b", seq_len=8, rows_per_shard=7)
    return root


def test_permutation_is_a_bijection():
    for n in (1, 2, 7, 64, 1000, 4099):
        assert sorted(permute(np.arange(n), n, seed=5).tolist()) == list(range(n))
    assert permute(np.arange(100), 100, 1).tolist() != permute(np.arange(100), 100, 2).tolist()


def test_shuffled_order_is_deterministic_and_resumable(prepared):
    ds = PreparedDataset(prepared / "a", seed=7)
    n = len(ds)
    assert n > 40 and len(ds.tokens) > 1  # several shards
    epoch0 = ds.row_ids(np.arange(n))
    assert sorted(epoch0.tolist()) == list(range(n)) and epoch0.tolist() != list(range(n))
    epoch1 = ds.row_ids(np.arange(n, 2 * n))
    assert sorted(epoch1.tolist()) == list(range(n)) and epoch1.tolist() != epoch0.tolist()
    run = [ds.batch(step, 6) for step in range(12)]
    fresh = PreparedDataset(prepared / "a", seed=7)  # "resumed" process: only the step is known
    for step in (0, 5, 11):
        for key in ("tokens", "targets", "loss_mask"):
            assert np.array_equal(fresh.batch(step, 6)[key], run[step][key])
    assert not np.array_equal(PreparedDataset(prepared / "a", seed=8).batch(0, 6)["tokens"], run[0]["tokens"])
    b = run[3]
    assert b["tokens"].dtype == np.int32 and b["tokens"].shape == (6, 8)
    assert np.array_equal(b["tokens"][:, 1:], b["targets"][:, :-1])
    assert np.all(b["loss_mask"] == 1.0)


def test_process_slices_partition_the_global_batch(prepared):
    ds = PreparedDataset(prepared / "a", seed=1)
    whole = ds.batch(4, 8)
    parts = [ds.batch(4, 8, process_index=p, process_count=4) for p in range(4)]
    assert all(p["tokens"].shape == (2, 8) for p in parts)
    assert np.array_equal(np.concatenate([p["tokens"] for p in parts]), whole["tokens"])
    with pytest.raises(ValueError, match="not divisible"):
        ds.batch(0, 6, process_index=0, process_count=4)


def test_mixture_respects_weights_and_is_addressable(prepared):
    mix = Mixture.from_spec(f"{prepared / 'a'}=0.75,{prepared / 'b'}=0.25", seed=3, block=64)
    component, _ = mix.locate(np.arange(640))
    assert np.bincount(component).tolist() == [480, 160]  # exact per block of 64
    assert np.bincount(component[:32]).min() > 0  # interleaved, not one dataset after the other
    b = mix.batch(9, 16)
    again = Mixture.from_spec(f"{prepared / 'a'}=0.75,{prepared / 'b'}=0.25", seed=3, block=64).batch(9, 16)
    assert np.array_equal(b["tokens"], again["tokens"])
    halves = [mix.batch(9, 16, p, 2)["tokens"] for p in range(2)]
    assert np.array_equal(np.concatenate(halves), b["tokens"])
    # each dataset's picks walk through its own shuffled order without gaps
    comp, local = mix.locate(np.arange(128))
    assert sorted(local[comp == 1].tolist()) == list(range(32))
    assert block_counts([1, 1e-9], 64).tolist() == [63, 1]
    with pytest.raises(ValueError, match="not a number"):
        Mixture.from_spec(f"{prepared / 'a'}=lots")
    run_prepare(prepared / "b.jsonl", prepared / "gpt2", seq_len=8, tokenizer="gpt2")
    with pytest.raises(ValueError, match="same tokenizer"):
        Mixture.from_spec(f"{prepared / 'a'}=1,{prepared / 'gpt2'}=1")
    assert isinstance(open_dataset(f"{prepared / 'a'}=1,{prepared / 'b'}=1", seq_len=8), Mixture)
    assert isinstance(open_dataset(str(prepared / "a"), seq_len=8), PreparedDataset)
    with pytest.raises(ValueError, match="prepared with seq_len 8, but seq_len 16"):
        open_dataset(str(prepared / "a"), seq_len=16)
    with pytest.raises(OSError, match="not a prepared dataset"):
        open_dataset(str(prepared))


def test_cli_prepare_then_inspect(tmp_path, capsys):
    src = write_corpus(tmp_path / "src")
    out = tmp_path / "out"
    assert cli.main(["data", "prepare", "--source", str(src), "--seq-len", "8", "--out", str(out),
                     "--workers", "1"]) == 0
    summary = json.loads(capsys.readouterr().out.splitlines()[0])
    assert summary["train"]["documents"] == 4 and summary["val"]["rows"] == 0
    assert cli.main(["data", "inspect", str(out), "--step", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert json.loads(lines[0])["rows"] == summary["train"]["rows"]
    assert lines[1].startswith("--- step 1, example 0: 8/8 targets")
    assert cli.main(["data", "inspect", str(tmp_path / "src")]) == 2
    assert "not a prepared dataset" in capsys.readouterr().err


def test_exclude_patterns_leave_files_out_and_a_pattern_that_matches_nothing_is_an_error(tmp_path, tok):
    from jaxformer.data import sources

    src = write_corpus(tmp_path / "src")
    names = lambda files: sorted(p.relative_to(src.resolve()).as_posix() for p in files)  # noqa: E731
    assert names(sources.resolve([src])) == ["a.py", "b.py", "sub/c.py", "sub/d.txt"]
    assert names(sources.resolve([src], exclude=["*/sub/*"])) == ["a.py", "b.py"]
    with pytest.raises(ValueError, match="'\\*/site-packages/\\*' matched none"):
        sources.resolve([src], exclude=["*/site-packages/*"])
    with pytest.raises(OSError, match="every source file was excluded"):
        sources.resolve([src], exclude=["*"])
    index = run_prepare(src, tmp_path / "out", exclude=("*/sub/*",))
    assert index["splits"]["train"]["documents"] == 2
