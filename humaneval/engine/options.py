"""The one `--sandbox` option every evaluator CLI shares, and the fail-closed exit.

    add_sandbox_argument(parser)           # --sandbox {namespaces,none}, default namespaces
    sys.exit(run_refusing(prog, dispatch, ...))  # SandboxUnavailable -> its message on stderr, exit 4
"""
from __future__ import annotations

import sys

from humaneval.engine.pool import MODES
from humaneval.engine.unavailable import EXIT_CODE, SandboxUnavailable

HELP = ("namespaces (default): every sample isolated (namespaces, read-only filesystem allowlist, seccomp); "
        f"refuses with exit code {EXIT_CODE} where that cannot be set up. none: rlimits and a process group "
        "only -- model code can read and change your files; recorded as sandbox=none in every row")


def add_sandbox_argument(parser) -> None:
    parser.add_argument("--sandbox", choices=MODES, default="namespaces", help=HELP)


def run_refusing(prog: str, function, *args, **kwargs) -> int:
    """function(*args, **kwargs) (a CLI's dispatch); a sandbox that cannot be set up exits EXIT_CODE."""
    try:
        return function(*args, **kwargs)
    except SandboxUnavailable as error:
        print(f"{prog}: {error}", file=sys.stderr)
        return EXIT_CODE


def check_sandbox(sandbox: str) -> None:
    """Raise SandboxUnavailable now if `sandbox` cannot be set up here: commands that generate for a long
    time before they evaluate (humaneval run, mtpb compare) refuse before the work, not after it."""
    from humaneval.engine import Engine

    if sandbox not in MODES:
        raise ValueError(f"unknown sandbox mode {sandbox!r}; choose from {', '.join(MODES)}")
    if sandbox == "none":
        return  # nothing to set up (the engine warns when it starts)
    engine = Engine(workers=1, preload=(), sandbox=sandbox)
    try:
        engine.start()
    finally:
        engine.close()
