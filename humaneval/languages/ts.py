"""HumanEval-TypeScript (CodeM's addition): tsc, then node, each inside the sandbox.

Problems are derived from HumanEval-X JavaScript at run time (translate_ts.py; derived.py caches them
outside the repo). tsc is TypeScript 7's native compiler, called directly (not through its node
wrapper); any type error is a compile_error (MultiPL-E's rule). Flags: no --strict (TS 7 defaults to
strict; MultiPL-E's TypeScript, like most HumanEval-TS harnesses, type-checks non-strict), target
ES2022 with the DOM lib (for `console`); `require` and `process` are declared `any` (no @types/node).
Each program ends with `export {}`, so it is a module with its own scope: many samples go through one
tsc call (batch.py; ~0.9 CPU-s per call, most of it loading the standard library), each sample's .js
then runs alone in its own sandbox. The tests' console.assert calls are humanevalAssert, which throws.
"""
from __future__ import annotations

import glob
import pathlib

from humaneval.engine import Job
from humaneval.languages import derived, translate_ts
from humaneval.languages.base import Language, Toolchain, compile_step, run_step, sandbox_limits
from humaneval.languages.batch import BatchSpec, batched_jobs
from humaneval.languages.js import NODE, NODE_ENV, NODE_FLAGS
from humaneval.languages.launcher import DONE_MARKER, launcher_program

NATIVE_TSC = "/usr/lib/node_modules/typescript/node_modules/@typescript/typescript-*/lib/tsc"
TSC_FLAGS = ("--strict", "false", "--target", "es2022", "--module", "commonjs", "--pretty", "false",
             "--skipLibCheck", "--types", "", "--noEmitOnError", "false", "--singleThreaded")
PREAMBLE = """declare var require: any;
declare var process: any;
function humanevalAssert(condition: any, ...data: any[]): void {
  if (!condition) { throw new Error('Assertion failed' + (data.length ? ': ' + data.join(' ') : '')); }
}
"""


def native_tsc() -> str:
    found = sorted(glob.glob(NATIVE_TSC))
    return found[0] if found else "/usr/bin/tsc"


class TypeScript(Language):
    name = "ts"
    data_file = "humaneval_js.jsonl.gz"  # the source; the problems themselves are derived (problem_file)
    toolchain = Toolchain((NODE, "tsc"), "bash scripts/setup_toolchains.sh  # npm install -g typescript")
    compile_timeout_s = 20.0
    tsc = ""

    def prepare(self) -> None:
        super().prepare()
        self.tsc = self.tsc or native_tsc()

    def problem_file(self, root) -> pathlib.Path:
        return derived_ts_dir(pathlib.Path(root)) / "problems.jsonl"

    def program(self, problem: dict, completion: str) -> str:
        return (PREAMBLE + problem["prompt"] + completion + "\n" + problem["test"] + "\n"
                + f"console.log({DONE_MARKER!r});\nexport {{}};\n")

    def files(self, problem: dict, completion: str) -> dict[str, str]:
        return {"main.ts": self.program(problem, completion)}

    def compile_step(self, sources, timeout_s: float | None = None):
        # tsc prints its diagnostics on stdout; batch.py reads a failed compiler's stderr to attribute them
        argv = ("/bin/sh", "-c", 'exec "$0" "$@" 1>&2', self.tsc, *TSC_FLAGS, *sources)
        return compile_step(argv, timeout_s or self.compile_timeout_s,
                            memory_bytes=4 << 30)

    def run_step(self, timeout_s: float):
        return run_step((NODE, *NODE_FLAGS, "main.js"), timeout_s, memory_bytes=4 << 30, env=NODE_ENV,
                        marker=DONE_MARKER)

    def steps(self, problem: dict, completion: str, timeout_s: float):
        return [self.compile_step(("main.ts",)), self.run_step(timeout_s)]

    def jobs(self, items, engine, timeout_s: float):
        if len(items) == 1:
            return super().jobs(items, engine, timeout_s)
        return batched_jobs(self, items, engine, timeout_s)

    def batch_spec(self, group: dict):
        """group: {unit: (key, problem, completion)} -> (BatchSpec, files); unit pK is the file pK.ts."""
        files = {f"{unit}.ts": self.program(problem, completion) for unit, (_, problem, completion) in group.items()}
        step = self.compile_step((), timeout_s=self.compile_timeout_s + 0.5 * len(group))
        spec = BatchSpec(step, tuple(group), unit_args=("{unit}.ts",), split=r"(?m)^(?=p\d+\.ts\(\d+,\d+\): )",
                         unit_of_error=r"^(p\d+)\.ts\(", emit=("{unit}.js",))
        return spec, files

    def batch_run_job(self, key: str, unit: str, problem: dict, files: dict, timeout_s: float) -> Job:
        return Job(key, launcher_program([self.run_step(timeout_s)]), sandbox_limits(timeout_s + 2.0),
                   files=(("main.js", files[f"{unit}.js"]),))


def derived_ts_dir(root: pathlib.Path) -> pathlib.Path:
    return derived.derived_dir("ts", root, ("humaneval_js.jsonl.gz", "humaneval_python.jsonl.gz",
                                            "humaneval_cpp.jsonl.gz"), translate_ts.translate, (translate_ts,))


LANGUAGE = TypeScript()
