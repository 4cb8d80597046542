"""HumanEval-C (CodeM's addition): the sample compiled by gcc as C11, linked with the C++ test harness.

Problems are derived from HumanEval-X C++ at run time (translate_c.py; derived.py caches them outside
the repo). Three steps, each inside the sandbox with its own limits: `gcc -std=c11` compiles the sample
(prompt + completion) to main.o; g++ compiles the harness (the original C++ test, calling the sample
through an adapter) with the C++ prelude's precompiled header and links main.o; ./main runs the test and
prints the done-marker after it. A C compile error (or a link error: a missing or misnamed function) is
compile_error. reference_job puts the C++ canonical solution behind the same C interface instead of a C
sample: that is how the harness of every problem is validated (there are no C canonical solutions).
"""
from __future__ import annotations

import base64
import functools
import hashlib
import json
import os
import pathlib
import tempfile

from humaneval.engine import Job
from humaneval.languages import cpp, derived, toolcache, translate_c
from humaneval.languages.base import Language, Toolchain, compile_step, run_step, sandbox_limits
from humaneval.languages.launcher import DONE_MARKER, job_timeout, launcher_program

GCC = "/usr/bin/gcc"
C_FLAGS = ("-std=c11", "-O0", "-w")
BATCH_SIZE = 48  # references per g++ call (reference_jobs)


class C(Language):
    name = "c"
    data_file = "humaneval_cpp.jsonl.gz"  # the source; the problems themselves are derived (problem_file)
    toolchain = Toolchain((GCC, cpp.GXX), "bash scripts/setup_toolchains.sh  # apt-get install gcc g++")
    compile_timeout_s = 20.0
    cached_harness = True  # False: every job compiles its harness (benchmarks/multilingual.py's peer)

    def prepare(self) -> None:
        super().prepare()
        cpp.LANGUAGE.prepare()  # the harness uses the C++ prelude's precompiled header

    def problem_file(self, root) -> pathlib.Path:
        return derived_c_dir(pathlib.Path(root)) / "problems.jsonl"

    def files(self, problem: dict, completion: str) -> dict[str, str]:
        return {"main.c": problem["prompt"] + completion + "\n", "harness.cpp": problem["test"]}

    def harness_argv(self) -> tuple[str, ...]:
        return (cpp.GXX, *cpp.FLAGS, "-include", str(cpp.LANGUAGE.prelude))

    def harness_object(self, problem: dict) -> pathlib.Path:
        """Where the problem's compiled harness is cached: named after its text and the compiler command."""
        recipe = "\n".join([gxx_version(), *self.harness_argv(), problem["test"]])
        return toolcache.cache_root() / "c-harness" / (hashlib.sha256(recipe.encode()).hexdigest()[:32] + ".o")

    def build_harnesses(self, problems, engine) -> None:
        """Compile the harness of each problem not cached yet, in the sandbox (one job each), and cache the
        objects: a sample's job then only compiles its C file and links (~0.2 CPU-s a sample, BENCHMARKS.md)."""
        todo = {str(self.harness_object(p)): p for p in problems if not self.harness_object(p).is_file()}
        step = compile_step((*self.harness_argv(), "-c", "harness.cpp", "-o", "out/harness.o"),
                            self.compile_timeout_s, emit_dir="out")
        jobs = [Job(path, "import os\nos.makedirs('out')\n" + launcher_program([step]),
                    sandbox_limits(job_timeout([step]), output_bytes=64 << 20),
                    files=(("harness.cpp", problem["test"].encode()),)) for path, problem in todo.items()]
        for result in engine.run(jobs):
            if result.verdict == "passed":  # else the sample jobs compile the harness themselves
                found = json.loads(result.stdout.strip().splitlines()[-1])
                write_atomic(pathlib.Path(result.key), base64.b64decode(found["out/harness.o"]))

    def jobs(self, items, engine, timeout_s: float):
        self.build_harnesses({problem["task_id"]: problem for _, problem, _ in items}.values(), engine)
        return super().jobs(items, engine, timeout_s)

    def harness_steps(self, problem: dict, timeout_s: float, sample: str, objects=("main.o",)):
        libs = ("-lcrypto",) if "openssl" in sample else ()  # C/162 (md5)
        cached = self.harness_object(problem)
        harness = (str(cached),) if self.cached_harness and cached.is_file() else ("harness.cpp",)
        argv = (*self.harness_argv(), *harness, *objects, "-o", "main", *libs)
        return [compile_step(argv, self.compile_timeout_s), run_step(("./main",), timeout_s, marker=DONE_MARKER)]

    def steps(self, problem: dict, completion: str, timeout_s: float):
        sample = compile_step((GCC, *C_FLAGS, "-c", "main.c", "-o", "main.o"), self.compile_timeout_s)
        return [sample, *self.harness_steps(problem, timeout_s, problem["prompt"] + completion)]

    def reference_job(self, key: str, problem: dict, cpp_completion: str, timeout_s: float) -> Job:
        """The C++ completion (the canonical solution, or a broken variant of it) behind the C signature."""
        source = reference_source(problem, cpp_completion)
        steps = [self.reference_compile("ref.cpp", "main.o"), *self.harness_steps(problem, timeout_s, source)]
        files = (("ref.cpp", source.encode()), ("harness.cpp", problem["test"].encode()))
        return Job(key, launcher_program(steps), sandbox_limits(job_timeout(steps)), files=files)

    def reference_compile(self, source: str, output: str, extra_s: float = 0.0, **kwargs):
        return compile_step((*self.harness_argv(), "-c", source, "-o", output), self.compile_timeout_s + extra_s,
                            **kwargs)

    def reference_jobs(self, items, engine, timeout_s: float) -> dict[str, Job]:
        """{key: job} for (key, problem, C++ completion) items, as reference_job but up to BATCH_SIZE references
        compiled in one g++ call (one translation unit, each reference in its own namespace pK; the extern "C"
        wrappers of a batch have distinct names). The object is stored as a trusted artifact and each
        reference then links and runs in its own job; a batch that does not compile falls back to one job each."""
        self.build_harnesses({p["task_id"]: p for _, p, _ in items}.values(), engine)
        batches: list[dict] = []
        for item in items:
            name = translate_c.parse_signature(item[1]["reference"])[1]
            batch = next((b for b in batches if len(b) < BATCH_SIZE and name not in b), None)
            if batch is None:
                batches.append(batch := {})
            batch[name] = item
        compile_jobs, sources = [], {}
        for number, batch in enumerate(batches):
            source = "".join(f"namespace p{k} {{\n" + reference_source(p, completion) + "}\n"
                             for k, (_, p, completion) in enumerate(batch.values()))
            step = self.reference_compile("ref.cpp", "out/ref.o", 1.0 * len(batch), emit_dir="out")
            sources[str(number)] = source
            compile_jobs.append(Job(str(number), "import os\nos.makedirs('out')\n" + launcher_program([step]),
                                    sandbox_limits(job_timeout([step]), output_bytes=256 << 20),
                                    files=(("ref.cpp", source.encode()),)))
        jobs = {}
        for result in engine.run(compile_jobs):
            batch = batches[int(result.key)]
            if result.verdict != "passed":
                jobs.update((key, self.reference_job(key, p, c, timeout_s)) for key, p, c in batch.values())
                continue
            found = json.loads(result.stdout.strip().splitlines()[-1])
            obj = str(toolcache.store_artifact(base64.b64decode(found["out/ref.o"]), 0o644))
            for key, problem, _ in batch.values():
                steps = self.harness_steps(problem, timeout_s, sources[result.key], objects=(obj,))
                jobs[key] = Job(key, launcher_program(steps), sandbox_limits(job_timeout(steps)),
                                files=(("harness.cpp", problem["test"].encode()),))
        return jobs


@functools.lru_cache(maxsize=None)
def gxx_version() -> str:  # once per process: harness_object is called for every job
    return toolcache.tool_version((cpp.GXX, "--version"))


def reference_source(problem: dict, cpp_completion: str) -> str:
    return ("namespace humaneval_ref {\n" + problem["reference"] + cpp_completion + "\n}\n"
            + problem["reference_wrapper"])


def write_atomic(path: pathlib.Path, data: bytes) -> None:
    path.parent.mkdir(exist_ok=True)
    os.chmod(path.parent, 0o755)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".harness-")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(tmp, 0o644)
    os.rename(tmp, path)


def derived_c_dir(root: pathlib.Path) -> pathlib.Path:
    return derived.derived_dir("c", root, ("humaneval_cpp.jsonl.gz",), translate_c.translate, (translate_c,))


LANGUAGE = C()
