"""Published MTPB numbers (CodeGen paper, CodeGen-Mono), shown beside ours in `mtpb compare` reports.

From ../shared/REFERENCE.md. Tags: [S] quoted by a secondary source, [R] not confirmed. Percentages
for pass rates; prompt perplexity as the paper reports it.
"""
from __future__ import annotations

LABEL = "paper, CodeGen-Mono"

# (model size, single-turn, multi-turn, tag)
PASS_RATE = (
    ("350M", 5.75, 16.98, "S"),
    ("2.7B", 25.43, 38.72, "R"),
    ("6.1B", 28.48, 43.52, "R"),
    ("16.1B", 38.74, 47.34, "S"),
)
PROMPT_PPL = (
    ("2.7B", 11.86, 8.90, "R"),
    ("6.1B", 10.81, 8.18, "R"),
    ("16.1B", 10.25, 8.05, "S"),
)
FINDINGS = ("multi-turn gains are mostly on medium and hard problems",
            "lower prompt perplexity goes with higher success")


def as_dict() -> dict:
    """The numbers in summary.json form."""
    def rows(table):
        return [{"model": m, "single": s, "multi": t, "tag": tag} for m, s, t, tag in table]

    return {"label": LABEL, "pass_rate_percent": rows(PASS_RATE), "prompt_ppl": rows(PROMPT_PPL),
            "findings": list(FINDINGS)}
