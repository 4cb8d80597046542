"""The embedded model's corpus (checkpoints/corpus.py): what goes in, the split, and no benchmark text."""
import gzip
import json
import re

import pytest

from checkpoints import contamination, corpus
from humaneval import data


@pytest.fixture(scope="module")
def documents():
    docs, skipped = corpus.documents()
    return docs, skipped


def test_the_corpus_is_stdlib_numpy_pandas_sklearn_without_tests_or_site_packages(documents):
    docs, _ = documents
    assert {d.source for d in docs} == {"stdlib", "numpy", "pandas", "sklearn"}
    paths = [f"{d.source}:{d.path}" for d in docs]
    assert paths == sorted(paths, key=lambda p: (["stdlib", "numpy", "pandas", "sklearn"].index(p.split(":")[0]), p))
    assert all(d.path.endswith(".py") for d in docs)
    for d in docs:
        parts = d.path.split("/")
        assert not {"tests", "test", "site-packages", "dist-packages", "idle_test"} & set(parts[:-1]), d.path
    assert "stdlib:json/decoder.py" in paths and "pandas:core/frame.py" in paths


def test_benchmark_packages_and_shared_data_are_never_read():
    roots = [str(s.root) for s in corpus.sources()]
    assert not any("shared" in r.split("/") for r in roots)
    stdlib = corpus.sources()[0]
    assert not any(rel.startswith(("human_eval", "humaneval", "mtpb")) for rel in corpus.source_files(stdlib))


def test_the_split_is_the_seeded_hash_data_prepare_uses(documents):
    from jaxformer.data.prepare import in_validation

    docs, _ = documents
    splits = [corpus.split_of(d.text) for d in docs]
    assert splits == ["val" if in_validation(d.text, corpus.SEED, corpus.VAL_FRACTION) else "train" for d in docs]
    assert 0.005 < splits.count("val") / len(splits) < 0.05


def benchmark_needles(shared_data) -> dict[str, str]:
    """Every HumanEval / HumanEval-X (Python) prompt, solution and test, and every MTPB prompt (the
    literal text between its {placeholders})."""
    needles = {}
    for row in data.load_problems().values():
        for field in ("prompt", "canonical_solution", "test"):
            needles[f"HumanEval {row['task_id']} {field}"] = row[field]
    with gzip.open(shared_data / "humaneval-x" / "humaneval_python.jsonl.gz", "rt", encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            for field in ("prompt", "canonical_solution", "test", "declaration"):
                needles[f"HumanEval-X {row['task_id']} {field}"] = row[field]
    with open(shared_data / "mtpb.jsonl", encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            for turn, prompt in enumerate(row["prompts"]):
                for j, piece in enumerate(re.split(r"\{[^{}]*\}", prompt)):
                    needles[f"MTPB {row['id']} turn {turn} part {j}"] = piece
    return needles


def test_no_humaneval_humaneval_x_or_mtpb_text_is_in_the_corpus(documents, shared_data):
    docs, _ = documents
    needles = benchmark_needles(shared_data)
    hits, too_short = contamination.find_verbatim(needles, (d.text for d in docs))
    # HumanEval/13's solution is Euclid's algorithm (`while b: a, b = b, a % b; return a`), which numpy's
    # own _core/_internal.py:_gcd contains: library code, not a copy of the benchmark
    euclid = {"HumanEval HumanEval/13 canonical_solution", "HumanEval-X Python/13 canonical_solution"}
    assert set(hits) <= euclid, sorted(set(hits) - euclid)
    # what the exact search cannot check: short fragments (e.g. 'Print "result".'), a few one-liners
    assert len(too_short) < 0.4 * len(needles)
    assert not [n for n in too_short if n.endswith(("prompt", "test"))]


def test_the_search_finds_a_planted_needle():
    text = "x = 1\n" * 100 + "    return sorted(set(l1) & set(l2), key=abs)\n" + "y = 2\n"
    needles = {"planted": "return sorted(set(l1) & set(l2), key=abs)\n", "absent": "return sorted(set(l1) | set(l2))  #",
               "short": "x = 1"}
    hits, too_short = contamination.find_verbatim(needles, ["other document", text])
    assert hits == {"planted": len("other document") + 1 + 600 + 4}
    assert too_short == ["short"]
