"""Commands that generate before they evaluate (`mtpb compare`, `humaneval run`) take --sandbox too, and
refuse with exit 4 before any sampling where isolation cannot be set up (setting 3 of
tests/test_engine_settings.py: a PID namespace and the seccomp filter that refuses new namespaces)."""
import os
import subprocess
import sys

WRAPPER = ["unshare", "-p", "-f", "--mount-proc", "--kill-child", sys.executable, "-m", "humaneval.engine.seccomp"]


def test_long_commands_refuse_before_sampling(tmp_path, shared_data):
    commands = {
        "mtpb": [sys.executable, "-m", "mtpb.cli", "compare", "--model", "random:tiny", "--out", str(tmp_path / "mtpb"),
                 "--problems", str(shared_data / "mtpb.jsonl"), "--problem-ids", "1", "--no-progress"],
        "humaneval": [sys.executable, "-m", "humaneval.cli", "run", "--model", "random:tiny", "--out",
                      str(tmp_path / "he"), "--n", "1", "--temperature", "0.2", "--limit", "1", "--k", "1",
                      "--no-progress"],
    }
    for name, command in commands.items():
        refused = subprocess.run(WRAPPER + command, capture_output=True, text=True, timeout=300)
        assert refused.returncode == 4, (name, refused.stderr[-2000:])
        assert "NO sample was run" in refused.stderr and "--sandbox none" in refused.stderr, refused.stderr
        out = tmp_path / name
        written = sorted(p.name for p in out.rglob("*")) if out.exists() else []
        assert not any("samples" in f for f in written), (name, written)  # nothing was generated


def test_sandbox_choice_reaches_the_long_commands_parsers():
    from humaneval.cli import COMMANDS as HE
    from jaxformer.cli import build_parser
    from mtpb.cli import COMMANDS as MT

    for prog, commands, argv in (("mtpb", MT, ["compare", "--model", "m", "--out", "o", "--sandbox", "none"]),
                                 ("humaneval", HE, ["run", "--model", "m", "--out", "o", "--sandbox", "none"]),
                                 ("humaneval", HE, ["report", "RUN", "--sandbox", "none"])):
        args = build_parser(prog, "", commands).parse_args(argv)
        assert args.sandbox == "none"
        assert build_parser(prog, "", commands).parse_args(argv[:-2]).sandbox == "namespaces"
