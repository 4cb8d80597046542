"""Batch compiling (Java, Rust): one compiler call for many samples, then each sample runs alone in its
own sandbox.

javac and rustc pay most of their cost once per call (JVM warm-up; std/crate metadata and linking). A
batch job (inside the sandbox, like every compile) gets up to BATCH_SIZE samples, each as its own unit
(Java: package pK; Rust: module pK of one test crate) so their names cannot clash, and compiles them
together. The compiler names the file of every error: those samples get compile_error with their own
messages and the rest are compiled again without them (an error in an early phase hides the other
files' later-phase errors, hence up to RETRIES retries). What the compiler cannot attribute, a crashed
or timed-out batch, or samples left after the retries, fall back to compiling alone. The compiler
never executes sample code (Java: -proc:none; Rust: no build scripts or proc-macros of the sample's),
so sharing its sandbox gives one sample nothing against another; Rust has no code before main.
The batch's products come back as JSON on the job's stdout: Java's class files become each run job's
files; Rust's test binary is written to the trusted artifact directory (toolcache.store_artifact), which
the sandbox reads, and each run job executes it filtered to its own module.
"""
from __future__ import annotations

import base64
import json
from dataclasses import asdict, dataclass

from humaneval.engine import Job
from humaneval.languages.base import sandbox_limits
from humaneval.languages.launcher import LIBRARY, job_timeout

BATCH_SIZE = 48
RETRIES = 3
BATCH_MAIN = r'''
import re
SPEC = json.loads(%r)
pending = list(SPEC["units"])
errors = {}
result = {"files": {}, "errors": errors, "fallback": [], "compiled": []}
for attempt in range(RETRIES + 1):
    if SPEC["root_file"]:
        with open(SPEC["root_file"], "w") as f:
            f.write(SPEC["root_head"] + "".join(SPEC["root_line"].format(unit=u) for u in pending))
    argv = SPEC["step"]["argv"] + [a.format(unit=u) for u in pending for a in SPEC["unit_args"]]
    try:
        run_step(attempt, dict(SPEC["step"], argv=argv))
        result["compiled"] = pending
        break
    except CompileError:
        text = open(".step%%d.err" %% attempt, encoding="utf-8", errors="replace").read()
        found = {}
        for chunk in re.split(SPEC["split"], text):
            match = re.search(SPEC["unit_of_error"], chunk)
            if match and match.group(1) in pending:
                found[match.group(1)] = found.get(match.group(1), "") + chunk
        errors.update((u, m[-TAIL:]) for u, m in found.items())
        if not found or attempt == RETRIES:
            result["fallback"] = [u for u in pending if u not in found]
            pending = []
            break
        pending = [u for u in pending if u not in found]
    except CompileTimeout:
        result["fallback"], pending = pending, []
        break
for path in [p.format(unit=u) for u in pending for p in SPEC["emit"]] + (SPEC["emit_once"] if pending else []):
    for root, _, names in (os.walk(path) if os.path.isdir(path) else [(os.path.dirname(path), None, [os.path.basename(path)])]):
        for name in names:
            with open(os.path.join(root, name), "rb") as f:
                result["files"][os.path.join(root, name)] = base64.b64encode(f.read()).decode()
sys.stdout.write("\n" + json.dumps(result) + "\n")
'''
# A compile error the batch attributed to this sample: reported through the sandbox like any other
# verdict, so every sample's result comes from one job of its own.
COMPILE_ERROR_PROGRAM = "class CompileError(Exception):\n    pass\nraise CompileError(%r)\n"


@dataclass(frozen=True)
class BatchSpec:
    """How one language batches (see the module docstring); {unit} is replaced by each unit's name."""
    step: object  # launcher.Step of the compiler, argv without the per-unit arguments
    units: tuple[str, ...]
    unit_args: tuple[str, ...] = ()  # appended per unit (Java: its two source files)
    root_file: str = ""  # rewritten before each attempt with root_head + root_line per unit (Rust: main.rs)
    root_head: str = ""
    root_line: str = ""
    split: str = r"(?m)^(?=error)"  # splits the compiler's stderr into one chunk per diagnostic
    unit_of_error: str = r"(p\d+)"  # group 1 of its first match in a chunk: the unit at fault
    emit: tuple[str, ...] = ()  # per compiled unit: files or dirs sent back
    emit_once: tuple[str, ...] = ()  # sent back once when anything compiled (Rust: the binary)


def batch_program(spec: BatchSpec) -> str:
    wire = {**asdict(spec), "step": asdict(spec.step)}
    return LIBRARY + f"RETRIES = {RETRIES}\n" + BATCH_MAIN % json.dumps(wire)


def batched_jobs(language, items, engine, timeout_s: float) -> dict[str, Job]:
    """{key: the job that checks it}. Batch compiles run now on `engine`; each sample then has a run job
    (language.batch_run_job), a job reporting its compile error, or (fallback) its single-sample job."""
    compile_jobs, members = [], {}
    for number in range(0, len(items), BATCH_SIZE):
        batch = items[number:number + BATCH_SIZE]
        group = {f"p{k}": item for k, item in enumerate(batch)}
        spec, files = language.batch_spec(group)
        timeout = job_timeout([spec.step]) * (RETRIES + 1)
        key = f"batch{number}"
        compile_jobs.append(Job(key, batch_program(spec), sandbox_limits(timeout, output_bytes=256 << 20),
                                files=tuple((name, text.encode()) for name, text in files.items())))
        members[key] = group
    jobs = {}
    for result in engine.run(compile_jobs):
        group = members[result.key]
        outcome = parse_batch(result)
        if outcome is None:  # the batch itself failed: every sample compiles alone
            outcome = {"errors": {}, "fallback": list(group), "compiled": [], "files": {}}
        for unit, message in outcome["errors"].items():
            key = group[unit][0]
            jobs[key] = Job(key, COMPILE_ERROR_PROGRAM % message, sandbox_limits(5.0))
        for unit in outcome["fallback"]:
            jobs[group[unit][0]] = language.job(*group[unit], timeout_s)
        files = {path: base64.b64decode(data) for path, data in outcome["files"].items()}
        for unit in outcome["compiled"]:
            key, problem, completion = group[unit]
            jobs[key] = language.batch_run_job(key, unit, problem, files, timeout_s)
    return jobs


def parse_batch(result) -> dict | None:
    if result.verdict != "passed":
        return None
    try:
        return json.loads(result.stdout.rstrip("\n").rsplit("\n", 1)[-1])
    except ValueError:
        return None
