"""checkpoints/instruct_sets.py: functions with doc comments become CodeM-shaped instruction records, and a
record holding a HumanEval-X text is dropped by the contamination check."""
import gzip
import json

from checkpoints.instruct_sets import drop_contaminated, go_functions, humaneval_x_texts, js_functions, python_functions

PY = 'import os\n\ndef area(w, h):\n    """Area of a w x h rectangle."""\n    a = w * h\n    b = a\n    return b\n\n' \
     'def nodoc(x):\n    return x\n'
JS = "/**\n * Sum of a list.\n */\nfunction total(xs) {\n  let s = 0;\n  for (const x of xs) s += x;\n  return s;\n}\n"
GO = "// Clamp limits x to [lo, hi].\nfunc Clamp(x, lo, hi int) int {\n\tif x < lo {\n\t\treturn lo\n\t}\n\treturn x\n}\n"


def test_extractors_give_prompt_signature_and_body():
    [(name, prompt, signature, body)] = python_functions(PY)
    assert name == "area" and prompt == 'def area(w, h):\n    """Area of a w x h rectangle."""\n'
    assert signature == "def area(w, h):" and body == "    a = w * h\n    b = a\n    return b\n"
    [(name, prompt, signature, body)] = js_functions(JS)
    assert signature == "const total = (xs) => {" and prompt.endswith("*/\nconst total = (xs) => {\n")
    assert body.endswith("  return s;\n}")
    [(name, prompt, signature, body)] = go_functions(GO)
    assert name == "Clamp" and prompt.startswith("// Clamp limits") and body.endswith("return x\n}")


def test_contaminated_record_is_dropped(tmp_path, shared_data):
    needles = humaneval_x_texts(shared_data / "humaneval-x")
    with gzip.open(shared_data / "humaneval-x" / "humaneval_go.jsonl.gz", "rt") as f:
        go3 = [json.loads(line) for line in f][3]
    records = [{"instruction": "Complete the Go code", "response": "func A() {}\n", "path": "a.go"},
               {"instruction": "x", "response": go3["canonical_solution"], "path": "leak.go"},
               {"instruction": "y", "response": "func B() int {\n\treturn 2\n}\n", "path": "b.go"}]
    kept, hits = drop_contaminated(records, needles)
    assert [r["path"] for r in kept] == ["a.go", "b.go"]
    assert hits == {"Go/3 canonical_solution": "leak.go"}
