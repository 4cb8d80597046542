"""Per-turn diagnostics for multi-turn rows: the first turn whose program prefix raises.

Turn k's program is the history after turn k: PREFIX, then for turns 1..k "# {prompt}\\n" + completion
+ "\\n\\n" (mtpb.program.build_program), with its last statement rewritten into print as the reference
does for the whole program. A turn "fails" when that program does not run to completion in the engine
(an exception, a timeout or a crash). first_failing_turn is the smallest failing k (1-based), or None
when every prefix, the whole program included, runs to completion.

The search runs the prefixes in order and stops at the first failure, so a program that loops forever
costs one timeout, not one per later turn; the last prefix is the whole program, already run for the
verdict, so its result is reused.
"""
from __future__ import annotations

from dataclasses import dataclass

from mtpb.program import PREFIX, turn_header


def turn_prefixes(row: dict, prompts: list[str], where: str) -> list[str]:
    """Programs after turns 1..n (n = len(row['turns'])), checked to be prefixes of row['completions']."""
    turns = row.get("turns")
    if not isinstance(turns, list) or not turns:
        raise ValueError(f"{where}: --per-turn needs the field 'turns' (a non-empty list, as mtpb generate writes)")
    if row.get("mode", "multi") != "multi":
        raise ValueError(f"{where}: --per-turn needs multi-turn rows, this one has mode {row.get('mode')!r}")
    if len(turns) > len(prompts):
        raise ValueError(f"{where}: field 'turns' has {len(turns)} entries but the problem has {len(prompts)} prompts")
    programs, history = [], PREFIX
    for k, (prompt, turn) in enumerate(zip(prompts, turns), start=1):
        completion = turn.get("completion") if isinstance(turn, dict) else None
        if not isinstance(completion, str):
            raise ValueError(f"{where}: field 'turns[{k - 1}].completion' must be a string")
        history += turn_header(prompt) + completion + "\n\n"
        expected = history if k < len(turns) else history.rstrip("\n")  # the last "\n\n" may be cut
        if not row["completions"].startswith(expected):
            raise ValueError(f"{where}: field 'turns' does not rebuild 'completions' at turn {k}")
        programs.append(history)
    programs[-1] = row["completions"]  # the whole program, exactly as run for the verdict
    return programs


@dataclass
class FirstFailingSearch:
    """Which prefix of one row to run next, and the answer once known. Failures are failure_kind()
    labels (None = ran to completion)."""
    n_turns: int
    turn: int = 1  # the prefix whose result is awaited; n_turns means the whole program
    full_known: bool = False
    full_failure: str | None = None
    done: bool = False
    first_failing_turn: int | None = None
    error: str | None = None  # how that turn failed: exception type, "timeout", ...

    def start(self) -> int | None:
        """The first prefix to run as its own job, or None when only the whole program is needed."""
        self.turn = 1
        return 1 if self.n_turns > 1 else self._resolve()

    def on_prefix(self, turn: int, failure: str | None) -> int | None:
        """Record prefix `turn`'s result; returns the next prefix to run as its own job, if any."""
        if failure is not None:
            self.done, self.first_failing_turn, self.error = True, turn, failure
            return None
        self.turn = turn + 1
        return self.turn if self.turn < self.n_turns else self._resolve()

    def on_full(self, failure: str | None) -> None:
        self.full_known, self.full_failure = True, failure
        self._resolve()

    def _resolve(self) -> None:
        # the whole program decides only once every earlier prefix ran to completion
        if self.turn == self.n_turns and self.full_known and not self.done:
            self.done = True
            if self.full_failure is not None:
                self.first_failing_turn, self.error = self.n_turns, self.full_failure


def failure_kind(result) -> str | None:
    """Short label of how a run ended badly (exception type, 'timeout', the verdict), None if it passed."""
    if result.verdict == "passed":
        return None
    if result.verdict == "timeout":
        return "timeout"
    return result.error_type or result.verdict
