"""Record formats: how one record becomes text segments, each flagged as trained on or not.

  text        {"text": ...}                       -> the whole text is trained on (pretraining)
  completion  {"prompt": ..., "completion": ...}  -> Codex-S style SFT: loss only on the completion
  instruct    {"instruction": ..., "response": ..., "input": optional}
              -> CodeM instruction tuning: the templated prompt is masked out, loss on the response

Every document is followed by EOS (added by the tokenizing step, trained on, so the model learns to stop).
Prompt and completion are tokenized separately, as at sampling time, where the prompt is encoded on its
own and the model continues from its last token.
"""
from __future__ import annotations

FORMATS = ("text", "completion", "instruct")

# CodeM's training prompt (REFERENCE.md). The paper prints it on one line; we use Alpaca's layout (a blank
# line between sections, a newline after each header) so the response starts on a fresh line.
INSTRUCT_PREAMBLE = ("Below is an instruction that describes a task, paired with an input that provides "
                     "further context. Write a response that appropriately completes the request.")


def instruct_prompt(instruction: str, input_text: str = "") -> str:
    """The CodeM prompt up to and including "### Response:\\n"; the response follows it directly."""
    parts = [INSTRUCT_PREAMBLE, f"### Instruction:\n{instruction}"]
    if input_text:  # Alpaca's optional input section; CodeM's own data has none
        parts.append(f"### Input:\n{input_text}")
    parts.append("### Response:\n")
    return "\n\n".join(parts)


def codem_inference_prompt(language: str, problem: str, signature: str) -> str:
    """CodeM's evaluation prompt: the model continues after the function signature."""
    return instruct_prompt(f"Complete the {language} code for this problem:\n{problem}") + signature


def _field(record: dict, name: str, where: str, optional: bool = False) -> str:
    value = record.get(name)
    if value is None and optional:
        return ""
    if not isinstance(value, str):
        problem = "missing" if name not in record else f"not a string ({type(value).__name__})"
        raise ValueError(f"{where}: field {name!r} {problem}")
    return value


def segments(record: dict, fmt: str, where: str, text_field: str = "text") -> list[tuple[str, bool]]:
    """[(text, trained_on)] for one record; `where` (file:line) names the record in errors."""
    if fmt == "text":
        return [(_field(record, text_field, where), True)]
    if fmt == "completion":
        return [(_field(record, "prompt", where), False), (_field(record, "completion", where), True)]
    if fmt == "instruct":
        prompt = instruct_prompt(_field(record, "instruction", where), _field(record, "input", where, optional=True))
        return [(prompt, False), (_field(record, "response", where), True)]
    raise ValueError(f"unknown record format {fmt!r}; expected one of {FORMATS}")
