"""CodeM instruction prompt and code extraction from chat-style responses."""
import pytest

from humaneval.data import load_problems
from humaneval.languages import get_language
from humaneval.languages.instruct import extract_completion, instruct_prompt

CPP_PROMPT = "#include<vector>\nusing namespace std;\nint add(int x, int y){\n"
JAVA_PROMPT = "import java.util.*;\n\nclass Solution {\n    public int add(int x, int y) {\n"
PY_PROMPT = 'def add(x: int, y: int) -> int:\n    """Add two numbers."""\n'
GO_PROMPT = "// Add two numbers\nfunc Add(x int, y int) int {\n"
JS_PROMPT = "/* Add two numbers */\nconst add = (x, y) => {\n"
RUST_PROMPT = "/* Add */\nuse rand::Rng;\nfn add(x:i32, y:i32) -> i32{\n"


@pytest.mark.parametrize("language,prompt,response,expected", [
    # a fenced block with a tag, repeating the whole declaration, then prose
    ("cpp", CPP_PROMPT, "Here is the code:\n```cpp\n#include<vector>\nusing namespace std;\nint add(int x, int y){\n"
     "    return x + y;\n}\n```\nThis returns the sum of x and y.", "    return x + y;\n}\n"),
    # no fence: the body, the closing brace, then an explanation and a main
    ("cpp", CPP_PROMPT, "    return x + y;\n}\n\nint main() { printf(\"%d\", add(1, 2)); }\nThe function adds.",
     "    return x + y;\n}\n"),
    # Java: the whole class repeated; the completion closes the method and the class
    ("java", JAVA_PROMPT, "```java\nimport java.util.*;\n\nclass Solution {\n    public int add(int x, int y) {\n"
     "        return x + y;\n    }\n}\n```\nExplanation: we add.", "        return x + y;\n    }\n}\n"),
    # Java: only the method repeated; the class brace is supplied
    ("java", JAVA_PROMPT, "```\npublic int add(int x, int y) {\n    return x + y;\n}\n```",
     "    return x + y;\n}\n}\n"),
    # Python: a fence tagged py, signature and docstring repeated, prose after
    ("python", PY_PROMPT, "```py\ndef add(x: int, y: int) -> int:\n    \"\"\"Add two numbers.\"\"\"\n    return x + y\n```\n"
     "This is O(1).", '    """Add two numbers."""\n    return x + y\n'),
    # Python: a bare body followed by example usage at top level
    ("python", PY_PROMPT, "    return x + y\n\nprint(add(1, 2))\n", "    return x + y\n\n"),
    # Go: untagged fence, signature repeated, a helper kept, then prose
    ("go", GO_PROMPT, "```\nfunc Add(x int, y int) int {\n    return plus(x, y)\n}\n\nfunc plus(a, b int) int {\n"
     "    return a + b\n}\n```\nDone.", "    return plus(x, y)\n}\n\nfunc plus(a, b int) int {\n    return a + b\n}\n"),
    # JavaScript: a braces-in-strings body, tagged javascript
    ("js", JS_PROMPT, "```javascript\nconst add = (x, y) => {\n  const s = '}';\n  return x + y;\n}\n```\n",
     "  const s = '}';\n  return x + y;\n}\n"),
    # Rust: no fence, a tail expression, then a main that must be dropped
    ("rust", RUST_PROMPT, "    x + y\n}\n\nfn main() {\n    println!(\"{}\", add(1, 2));\n}\n", "    x + y\n}\n"),
])
def test_extract_completion_from_chat_responses(language, prompt, response, expected):
    assert extract_completion(language, prompt, response) == expected


def test_instruct_prompt_is_codem_template_with_signature():
    text = instruct_prompt("cpp", CPP_PROMPT)
    assert text.startswith("Below is an instruction that describes a task, paired with an input that provides "
                           "further context. Write a response that appropriately completes the request.")
    assert "### Instruction:\nComplete the C++ code for this problem:\n" + CPP_PROMPT.rstrip() in text
    assert text.endswith("### Response:\nint add(int x, int y){\n")


@pytest.mark.parametrize("name", ["python", "js", "cpp", "java", "go", "rust"])
def test_fenced_declaration_plus_canonical_extracts_the_canonical(name, shared_data):
    """Every problem: a response fencing the whole prompt + canonical solution, with prose around it,
    extracts to the canonical body. Exceptions: a few problems whose prompt or canonical defines
    several functions in ways the cut cannot follow (e.g. Rust/10, Rust/137; CPP/94's canonical ends with
    test lines)."""
    language = get_language(name)
    problems = load_problems(shared_data / "humaneval-x" / language.data_file, required=("task_id", "prompt", "test"))
    squeeze = lambda text: "".join(text.split())  # noqa: E731
    matched = 0
    for problem in problems.values():
        prompt = language.model_prompt(problem)
        response = f"Sure! Here it is:\n```{name}\n{prompt}{problem['canonical_solution']}\n```\nIt works because...\n"
        got, canonical = squeeze(extract_completion(name, prompt, response)), squeeze(problem["canonical_solution"])
        matched += got.endswith(canonical)  # Python keeps the repeated docstring before it: harmless
    assert matched >= 161, matched  # measured: python, java, go 164; js, cpp 163; rust 161
