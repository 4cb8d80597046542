"""Run one batch of MTPB rows through a jaxformer.session.Session (both modes, docs/mtpb.md "Generation").

Every turn: append each running row's piece (teacher-forced; its log-probs give the prompt
perplexity), generate with that row's budget, truncate, and let the session roll the row back to the
kept text. Rows of different problems share the batch; a row whose turns are done, or whose history no
longer fits the context, sits out the remaining turns (inactive). Batch padding rows are always inactive.

Context rule: a turn's budget is the problem's, capped by the room left in the context. A row whose
prompt leaves no room, or whose completion runs into a budget the context capped (it would have
continued), stops there with stop_reason "context" and row status "context" (counted as failed).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from jaxformer import sampling, truncation
from jaxformer.session import Session
from mtpb.rows import RowPlan, turn_record

TRUNCATIONS = {  # (mode, reference_truncation) -> rule (jaxformer/truncation.py)
    ("multi", False): truncation.mtpb_truncate_fixed,
    ("multi", True): truncation.mtpb_truncate,
    ("single", False): truncation.mtpb_truncate_single,
    ("single", True): truncation.mtpb_truncate,
}


@dataclass
class RowState:
    plan: RowPlan | None  # None: batch padding
    turns: list[dict] = field(default_factory=list)
    status: str = "ok"
    done: bool = False


def prompt_logprobs(tokenizer, token_ids: list[int], lps: list[float], prompt_start: int) -> list[float]:
    """Log-probs of the tokens that start at or after character `prompt_start` of the row's text.
    `lps` scores the row's last len(lps) tokens (what Session.append returned), in either mode."""
    first = sampling.covering_prefix(tokenizer, token_ids, prompt_start)
    count = len(token_ids) - first
    if count > len(lps):
        raise RuntimeError(f"prompt tokens ({count}) not all scored by append ({len(lps)})")
    return lps[len(lps) - count:] if count else []


def run_batch(session: Session, plans: list[RowPlan | None], sampling_params, *, reference_truncation: bool,
              early_stop: bool = True) -> list[RowState]:
    """Generate every turn of every row in `plans` (session.batch entries; None = padding)."""
    tok, n_ctx = session.tokenizer, session.cfg.n_positions
    mode = next(p.mode for p in plans if p is not None)
    rule = TRUNCATIONS[mode, reference_truncation]
    stop_when = (lambda text: truncation.mtpb_settled(rule, text)) if early_stop else None
    states = [RowState(p, done=p is None) for p in plans]
    turns = max(len(p.turn_prompts) for p in plans if p is not None)
    for turn in range(turns):
        pieces, starts, budgets = [""] * len(states), [0] * len(states), [1] * len(states)
        for r, s in enumerate(states):
            if not s.done and turn >= len(s.plan.turn_prompts):
                s.done = True
                session.retire(r)
            if s.done:
                continue
            piece, offset = s.plan.piece(turn)
            room = n_ctx - _tokens_after(session, r, piece)
            if room < 1:  # the prompt itself does not fit: the row ends here
                s.turns.append(turn_record(s.plan.turn_prompts[turn], None, "", "", 0, "context"))
                s.status, s.done = "context", True
                session.retire(r)
                continue
            pieces[r], starts[r] = piece, len(session.history[r]) + offset
            budgets[r] = min(s.plan.budget, room)
        active = [bool(p) for p in pieces]
        if not any(active):
            break
        lps = session.append(pieces)
        prompt_lps = [prompt_logprobs(tok, session.token_ids[r], lps[r], starts[r]) if active[r] else None
                      for r in range(len(states))]
        raw: list[str] = []

        def cut(text: str) -> str:
            raw.append(text)
            return rule(text)

        outs = session.generate(budgets, sampling_params, truncate=cut, stop_when=stop_when, active=active,
                                last=turn == turns - 1)
        raw_texts = iter(raw)  # generate truncates the active rows in row order
        for r, (s, out) in enumerate(zip(states, outs)):
            if not active[r]:
                continue
            reason = out.stop_reason
            if reason == "length" and budgets[r] < s.plan.budget:  # the context cut it short
                reason, s.status, s.done = "context", "context", True
                session.retire(r)
            s.turns.append(turn_record(s.plan.turn_prompts[turn], prompt_lps[r], next(raw_texts), out.text,
                                       out.num_generated, reason))
    return states


def _tokens_after(session: Session, r: int, piece: str) -> int:
    """Tokens row r will hold once `piece` is appended (re-encoding mode: the whole history)."""
    if session.reencode:
        return len(session.tokenizer.encode(session.history[r] + piece))
    return len(session.token_ids[r]) + len(session.tokenizer.encode(piece))
