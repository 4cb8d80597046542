"""HumanEval-X JavaScript on node.

HumanEval-X's JS tests call console.assert, which only prints "Assertion failed" and carries on, so a
wrong answer would pass. Our preamble replaces console.assert with one that throws: the first failed
assertion is an uncaught exception, node exits 1, and the done-marker after the tests is never printed.
"""
from __future__ import annotations

from humaneval.languages.base import Language, Toolchain, run_step
from humaneval.languages.launcher import DONE_MARKER

NODE = "/usr/bin/node"
PREAMBLE = ("console.assert = function assert(condition, ...data) { if (!condition) { throw new Error("
            "'Assertion failed' + (data.length ? ': ' + data.join(' ') : '')); } };\n")
NODE_FLAGS = ("--max-old-space-size=512", "--stack-size=4000")
NODE_ENV = {"NODE_PATH": "/usr/lib/node_modules"}  # npm -g packages: js-md5 (problem 162)


class JavaScript(Language):
    name = "js"
    data_file = "humaneval_js.jsonl.gz"
    toolchain = Toolchain((NODE,))

    def program(self, problem: dict, completion: str) -> str:
        return (PREAMBLE + problem["prompt"] + completion + "\n" + problem["test"] + "\n"
                + f"console.log({DONE_MARKER!r});\n")

    def files(self, problem: dict, completion: str) -> dict[str, str]:
        return {"main.js": self.program(problem, completion)}

    def steps(self, problem: dict, completion: str, timeout_s: float):
        return [run_step((NODE, *NODE_FLAGS, "main.js"), timeout_s, memory_bytes=4 << 30, env=NODE_ENV,
                         marker=DONE_MARKER)]


LANGUAGE = JavaScript()
