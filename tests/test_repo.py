"""Repository wiring: the README's test command is what CI runs, and every CLI command exists."""
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _quickstart_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```(?:bash|sh)?\n(.*?)\n```", section, flags=re.S)


def test_quickstart_has_exactly_two_commands_and_ci_runs_the_second():
    commands = _quickstart_commands()
    assert len(commands) == 2, commands
    ci_script = (ROOT / ".ci" / "run").read_text()
    assert commands[1].strip() in ci_script


def test_every_cli_command_is_registered():
    from jaxformer.cli import JAXFORMER_COMMANDS, build_parser
    from humaneval.cli import COMMANDS as HE
    from mtpb.cli import COMMANDS as MT

    for prog, commands in (("jaxformer", JAXFORMER_COMMANDS), ("humaneval", HE), ("mtpb", MT)):
        parser = build_parser(prog, "", commands)
        sub = next(a for a in parser._actions if a.dest == "command")
        assert set(sub.choices) == set(commands), f"{prog}: missing {set(commands) - set(sub.choices)}"


def test_help_runs_without_importing_jax():
    code = ("import sys; from jaxformer.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "assert 'jax' not in sys.modules and 'torch' not in sys.modules, 'help imported a heavy library'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, capture_output=True)
