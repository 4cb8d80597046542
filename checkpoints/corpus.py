"""The embedded model's training corpus, built from what the installed environment already has.

    python -m checkpoints.corpus --out data/tiny-python/corpus

Sources (all `*.py` files, UTF-8 only):
  - CPython's standard library (`sysconfig` "stdlib"), without site-packages / dist-packages;
  - the installed numpy, pandas and scikit-learn packages (MTPB programs import these).
Left out, everywhere: test directories (the corpus is already ~10x more tokens than the model trains on,
and tests hold deliberately odd code: bad syntax, non-UTF-8 files, huge data literals), and generated
tables with no code in them (stdlib `encodings/` charmaps, `pydoc_data/`, `idlelib/`). Nothing from
HumanEval, HumanEval-X or MTPB is read; tests/test_corpus.py scans the texts for them.

Output (written to `<out>.partial/`, then renamed, so `<out>` is complete or absent):
  train.jsonl, val.jsonl   one {"text", "source", "path"} record per file, in (source, path) order;
  manifest.json            sources with versions and roots, every file's sha256, bytes and split, and the
                           files skipped as not UTF-8 (listed, never dropped silently).
The split is `jaxformer.data.prepare.in_validation(text, SEED, VAL_FRACTION)`: the same seeded hash that
`jaxformer data prepare --val-fraction --seed` uses, so preparing train.jsonl + val.jsonl with the same
settings reproduces it exactly.
"""
from __future__ import annotations

import argparse
import dataclasses
import fnmatch
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import pathlib
import platform
import shutil
import sys
import sysconfig

SEED = 0
VAL_FRACTION = 0.02
PACKAGES = (("numpy", "numpy"), ("pandas", "pandas"), ("sklearn", "scikit-learn"))  # (import name, dist)
# fnmatch patterns on the path relative to the source root
EXCLUDE_ALL = ("*/tests/*", "tests/*", "*/test/*", "test/*", "*/testing/_private/*", "*/idle_test/*")
EXCLUDE_STDLIB = ("site-packages/*", "dist-packages/*", "encodings/*", "pydoc_data/*", "idlelib/*",
                  "lib2to3/tests/*", "config-*/*")


@dataclasses.dataclass(frozen=True)
class Source:
    name: str            # "stdlib" | import name
    root: pathlib.Path
    version: str
    exclude: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class Document:
    source: str
    path: str            # relative to the source root, "/"-separated
    text: str


def sources() -> list[Source]:
    """The corpus sources of this environment, in corpus order."""
    found = [Source("stdlib", pathlib.Path(sysconfig.get_paths()["stdlib"]), platform.python_version(),
                    EXCLUDE_ALL + EXCLUDE_STDLIB)]
    for module, dist in PACKAGES:
        spec = importlib.util.find_spec(module)
        if spec is None or not spec.submodule_search_locations:
            raise OSError(f"package {dist} is not installed; the corpus needs it (pip install {dist})")
        root = pathlib.Path(list(spec.submodule_search_locations)[0])
        found.append(Source(module, root, importlib.metadata.version(dist), EXCLUDE_ALL))
    return found


def source_files(source: Source) -> list[str]:
    """Relative paths of the source's `.py` files, sorted, exclusions applied."""
    out = []
    for root, dirs, files in os.walk(source.root):
        here = pathlib.Path(root).relative_to(source.root).as_posix()
        prefix = "" if here == "." else here + "/"
        # prune excluded directories (site-packages is most of the stdlib tree)
        dirs[:] = [d for d in dirs if not d.startswith((".", "__pycache__"))
                   and not any(fnmatch.fnmatchcase(f"{prefix}{d}/", pattern) for pattern in source.exclude)]
        for name in files:
            if not name.endswith(".py"):
                continue
            rel = prefix + name
            if not any(fnmatch.fnmatchcase(rel, pattern) for pattern in source.exclude):
                out.append(rel)
    return sorted(out)


def documents(srcs: list[Source] | None = None) -> tuple[list[Document], list[str]]:
    """(documents in corpus order, "source:path" of files skipped as not UTF-8)."""
    docs, skipped = [], []
    for source in srcs if srcs is not None else sources():
        for rel in source_files(source):
            try:
                text = (source.root / rel).read_text(encoding="utf-8")
            except UnicodeDecodeError:
                skipped.append(f"{source.name}:{rel}")
                continue
            if text.strip():
                docs.append(Document(source.name, rel, text))
    return docs, skipped


def split_of(text: str) -> str:
    from jaxformer.data.prepare import in_validation

    return "val" if in_validation(text, SEED, VAL_FRACTION) else "train"


def build(out: str | os.PathLike, overwrite: bool = False) -> dict:
    """Write the corpus to `out`; returns the manifest."""
    out = pathlib.Path(out)
    if out.exists() and not overwrite:
        raise FileExistsError(f"{out} exists; pass --overwrite to rebuild it")
    srcs = sources()
    docs, skipped = documents(srcs)
    partial = out.with_name(out.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    files, counts = [], {"train": [0, 0], "val": [0, 0]}
    handles = {s: open(partial / f"{s}.jsonl", "w", encoding="utf-8") for s in counts}
    try:
        for doc in docs:
            split = split_of(doc.text)
            handles[split].write(json.dumps({"text": doc.text, "source": doc.source, "path": doc.path}) + "\n")
            data = doc.text.encode("utf-8")
            counts[split][0] += 1
            counts[split][1] += len(data)
            files.append({"source": doc.source, "path": doc.path, "bytes": len(data), "split": split,
                          "sha256": hashlib.sha256(data).hexdigest()})
    finally:
        for h in handles.values():
            h.close()
    manifest = {
        "seed": SEED, "val_fraction": VAL_FRACTION, "python": sys.version.split()[0],
        "sources": [{"name": s.name, "version": s.version, "root": str(s.root), "exclude": list(s.exclude)}
                    for s in srcs],
        "splits": {s: {"documents": n, "bytes": b} for s, (n, b) in counts.items()},
        "skipped_not_utf8": skipped,
        "files": files,
    }
    (partial / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    if out.exists():
        shutil.rmtree(out)
    partial.rename(out)
    return manifest


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m checkpoints.corpus", description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, help="output directory (train.jsonl, val.jsonl, manifest.json)")
    parser.add_argument("--overwrite", action="store_true")
    args = parser.parse_args(argv)
    try:
        manifest = build(args.out, overwrite=args.overwrite)
    except (OSError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    for split, info in manifest["splits"].items():
        print(f"{split}: {info['documents']} files, {info['bytes'] / 1e6:.1f} MB")
    print(f"skipped (not UTF-8): {len(manifest['skipped_not_utf8'])}; sources: "
          + ", ".join(f"{s['name']} {s['version']}" for s in manifest["sources"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
