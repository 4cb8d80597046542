"""Small CodeM-style instruction sets built from code this machine already has, disjoint from HumanEval-X.

    python -m checkpoints.instruct_sets --language python --out DIR [--max-records 3000]

Each record is {"instruction", "response", "source", "path"} for `jaxformer data prepare --format instruct`,
shaped like CodeM's inference prompt (humaneval.languages.instruct): the instruction is "Complete the
{Language} code for this problem:" + a HumanEval-X-style prompt (the doc comment and the signature), the
response is the signature followed by the body, ending where the function ends.

Sources (top-level functions with a doc comment, 3-30 body lines, UTF-8 files, no tests):
  python  CPython's standard library (docstring inside the function, as HumanEval's prompts have it);
  js      the global npm packages' .js files (/usr/lib/node_modules: npm, ...) and Debian's
          /usr/share/javascript (jquery, underscore), a comment (/* */ or // lines) right before
          `function name(...) {` at any depth (dedented), written as HumanEval-X's `const name = (...) => {`;
  go      Go's own sources (/usr/lib/go/src, *_test.go and testdata left out), `// Name ...` comment
          lines before `func Name(...) ... {` (methods left out).
Contamination: a function named like a HumanEval entry point is left out, and the written set is
searched (checkpoints.contamination.find_verbatim, exact) for every HumanEval-X prompt, declaration and
canonical solution of every language; records holding a hit are dropped and the count is in manifest.json.
Output: DIR/train.jsonl and DIR/manifest.json (sources, counts, contamination result), written atomically.
"""
from __future__ import annotations

import argparse
import ast
import glob
import gzip
import hashlib
import json
import os
import pathlib
import re
import sysconfig

from humaneval.languages.instruct import LANGUAGE_NAMES
from humaneval.results import write_text_atomic

SOURCES = {"python": (sysconfig.get_paths()["stdlib"], "**/*.py"),
           "js": ("/usr/lib/node_modules", "**/*.js"),  # + /usr/share/javascript (JS_EXTRA_ROOTS)
           "go": ("/usr/lib/go/src", "**/*.go")}
SKIP = re.compile(r"(^|/)(tests?|testdata|test_\w+\.py|\w+_test\.go|site-packages|idlelib|encodings|__tests__)(/|$)")
MIN_BODY, MAX_BODY = 3, 30
HUMANEVAL_X = pathlib.Path(__file__).resolve().parents[2] / "shared" / "data" / "humaneval-x"


def python_functions(text: str):
    """(prompt, signature, body) of module-level functions with a docstring."""
    lines = text.splitlines(keepends=True)
    for node in ast.parse(text).body:
        if not isinstance(node, ast.FunctionDef) or ast.get_docstring(node) is None or node.decorator_list:
            continue
        doc, first = node.body[0], node.body[1] if len(node.body) > 1 else None
        if first is None or node.lineno != node.body[0].lineno - 1:  # one-line signatures only
            continue
        signature = lines[node.lineno - 1]
        docstring = "".join(lines[doc.lineno - 1:doc.end_lineno])
        body = "".join(lines[first.lineno - 1:node.end_lineno])
        yield node.name, signature + docstring, signature.rstrip("\n"), body


JS_FUNCTION = re.compile(r"^( *)(/\*(?:(?!\*/).)*\*/|(?://[^\n]*\n\1)*//[^\n]*)\n\1(?:export )?(?:async )?"
                         r"function (\w+)\(([^()\n]*)\) ?\{\n(.*?)^\1\}$", re.S | re.M)
GO_FUNCTION = re.compile(r"((?:^//[^\n]*\n)+)^func ([A-Za-z]\w*)(\([^\n]*) \{\n(.*?)^\}$", re.S | re.M)


def js_functions(text: str):
    """Functions at any depth (TypeScript's bundle nests them in namespaces), dedented to column 0."""
    for m in JS_FUNCTION.finditer(text):
        indent, comment, name, args, body = m.groups()
        comment, body = _dedent(comment, len(indent)), _dedent(body, len(indent))
        signature = f"const {name} = ({args}) => {{"
        yield name, f"{comment}\n{signature}\n", signature, body + "}"


def _dedent(text: str, n: int) -> str:
    return re.sub(r"(?m)^" + " " * n, "", text) if n else text


def go_functions(text: str):
    for m in GO_FUNCTION.finditer(text):
        comment, name, rest, body = m.groups()
        if not comment.startswith(f"// {name} "):  # the doc comment of this function, not a file header
            continue
        signature = f"func {name}{rest} {{"
        yield name, f"{comment}{signature}\n", signature, body + "}"


EXTRACTORS = {"python": python_functions, "js": js_functions, "go": go_functions}


def humaneval_x_texts(data_dir: pathlib.Path) -> dict[str, str]:
    """{"<task_id> <field>": text} for every prompt, declaration and canonical solution of every language."""
    needles = {}
    for path in sorted(data_dir.glob("humaneval_*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as f:
            for line in f:
                problem = json.loads(line)
                for field in ("prompt", "declaration", "canonical_solution"):
                    if problem.get(field, "").strip():
                        needles[f"{problem['task_id']} {field}"] = problem[field]
    if not needles:
        raise FileNotFoundError(f"{data_dir}: no HumanEval-X files to check contamination against")
    return needles


def entry_points(data_dir: pathlib.Path) -> set[str]:
    """HumanEval's entry-point names, lower-cased without underscores (Go/JS spell them in camel case)."""
    with gzip.open(data_dir / "humaneval_python.jsonl.gz", "rt", encoding="utf-8") as f:
        names = {re.findall(r"def (\w+)\(", json.loads(line)["prompt"])[-1] for line in f}
    return {n.replace("_", "").lower() for n in names}


JS_EXTRA_ROOTS = ("/usr/share/javascript",)  # Debian's jquery, underscore, sphinx


def source_files(language: str):
    root, pattern = SOURCES[language]
    for top in (root,) + (JS_EXTRA_ROOTS if language == "js" else ()):
        for path in sorted(glob.glob(os.path.join(top, pattern), recursive=True)):
            yield path, os.path.relpath(path, os.path.dirname(top))


def collect(language: str, max_records: int, banned: set[str]) -> list[dict]:
    records, seen = [], set()
    for path, rel in source_files(language):
        if SKIP.search(rel) or not os.path.isfile(path):
            continue
        try:
            text = pathlib.Path(path).read_text(encoding="utf-8")
            functions = list(EXTRACTORS[language](text))
        except (UnicodeDecodeError, SyntaxError, ValueError):
            continue  # not UTF-8 / not parseable by this Python: not a training example
        for name, prompt, signature, body in functions:
            n_body = body.count("\n") + 1
            key = hashlib.sha256((prompt + body).encode()).hexdigest()
            if not MIN_BODY <= n_body <= MAX_BODY or name.replace("_", "").lower() in banned or key in seen:
                continue
            seen.add(key)
            instruction = f"Complete the {LANGUAGE_NAMES[language]} code for this problem:\n{prompt.rstrip()}"
            records.append({"instruction": instruction, "response": signature + "\n" + body.rstrip("\n") + "\n",
                            "source": language, "path": rel})
    # an even spread over the sources: every k-th record, deterministic
    step = max(1, len(records) // max_records)
    return records[::step][:max_records]


def drop_contaminated(records: list[dict], needles: dict[str, str]) -> tuple[list[dict], dict[str, str]]:
    """(records without a verbatim HumanEval-X text, {needle: path of the record that held it})."""
    from checkpoints.contamination import find_verbatim

    texts = [r["instruction"] + "\n" + r["response"] for r in records]
    hits, _ = find_verbatim(needles, texts)
    starts, offset = [], 0
    for t in texts:  # byte offset of each record in the NUL-joined corpus
        starts.append(offset)
        offset += len(t.encode("utf-8", "surrogatepass")) + 1
    import bisect
    bad = {name: bisect.bisect_right(starts, pos) - 1 for name, pos in hits.items()}
    return [r for i, r in enumerate(records) if i not in set(bad.values())], \
        {name: records[i]["path"] for name, i in bad.items()}


def build(language: str, out: pathlib.Path, max_records: int, data_dir: pathlib.Path = HUMANEVAL_X) -> dict:
    needles = humaneval_x_texts(data_dir)
    records = collect(language, max_records, entry_points(data_dir))
    kept, hits = drop_contaminated(records, needles)
    if drop_contaminated(kept, needles)[1]:
        raise RuntimeError("contaminated records survived the filter")
    out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out / "train.jsonl", "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in kept))
    manifest = {"language": language, "source_root": SOURCES[language][0], "records": len(kept),
                "files": len({r["path"] for r in kept}), "response_chars": sum(len(r["response"]) for r in kept),
                "contamination": {"needles": len(needles), "hits_dropped": hits,
                                  "method": "checkpoints.contamination.find_verbatim (exact, >= 32 bytes)"},
                "filters": {"body_lines": [MIN_BODY, MAX_BODY], "entry_point_names_excluded": True}}
    write_text_atomic(out / "manifest.json", json.dumps(manifest, indent=2) + "\n")
    return manifest


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--language", required=True, choices=sorted(SOURCES))
    parser.add_argument("--out", required=True, type=pathlib.Path)
    parser.add_argument("--max-records", type=int, default=3000)
    parser.add_argument("--humaneval-x", type=pathlib.Path,
                        default=pathlib.Path(os.environ["CODELM_SHARED_DATA"]) / "humaneval-x"
                        if os.environ.get("CODELM_SHARED_DATA") else HUMANEVAL_X)
    args = parser.parse_args(argv)
    manifest = build(args.language, args.out, args.max_records, args.humaneval_x)
    print(json.dumps({k: manifest[k] for k in ("language", "records", "files")}
                     | {"contaminated_dropped": len(manifest["contamination"]["hits_dropped"])}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
