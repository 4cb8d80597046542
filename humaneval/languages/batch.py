"""Java batching: one javac for many samples, then each sample runs alone in its own sandbox.

javac costs ~1.3 CPU-s to start and warm up, ~0.08 s per extra file. A batch job (inside the sandbox,
like every compile) gets up to BATCH_SIZE samples, each under its own package pK (so their Solution and
Main classes do not clash), and compiles them together. javac names the file of every error; those
samples get compile_error with their own messages and the rest are compiled again without them (a
syntax error in one file hides the other files' type errors, hence the retries). What javac cannot
attribute, a crashed or timed-out batch, or a sample left after the retries, falls back to compiling
alone. The class files come back as JSON on the batch job's stdout; each passing sample's classes are
then the files of its own run job. The compiler never executes sample code, so sharing its sandbox
shares nothing a sample could use against another.
"""
from __future__ import annotations

import base64
import json

from humaneval.engine import ExecResult, Job
from humaneval.languages.base import sandbox_limits
from humaneval.languages.check import language_verdict
from humaneval.languages.launcher import LIBRARY, job_timeout

BATCH_SIZE = 48
RETRIES = 3
BATCH_MAIN = r'''
import re
STEP = json.loads(%r)
pending = json.loads(%r)
errors = {}
result = {"classes": {}, "errors": errors, "fallback": []}
for attempt in range(RETRIES + 1):
    step = dict(STEP, argv=STEP["argv"] + [p + "/" + name for p in pending for name in SOURCES])
    try:
        run_step(attempt, step)
        break
    except CompileError:
        text = open(".step%%d.err" %% attempt, encoding="utf-8", errors="replace").read()
        found = {}
        for chunk in re.split(r"(?m)^(?=p\d+/\w+\.java:\d+: )", text):
            match = re.match(r"(p\d+)/", chunk)
            if match and match.group(1) in pending:
                found[match.group(1)] = found.get(match.group(1), "") + chunk
        if not found or attempt == RETRIES:
            result["fallback"] = [p for p in pending if p not in found] if found else pending
            errors.update(found)
            pending = []
            break
        errors.update((p, m[-TAIL:]) for p, m in found.items())
        pending = [p for p in pending if p not in found]
    except CompileTimeout:
        result["fallback"], pending = pending, []
        break
for p in pending:
    for root, _, names in os.walk("classes/" + p):
        for name in names:
            with open(os.path.join(root, name), "rb") as f:
                result["classes"][os.path.join(root, name)] = base64.b64encode(f.read()).decode()
sys.stdout.write("\n" + json.dumps(result) + "\n")
'''


def batch_program(step, packages, sources) -> str:
    head = f"RETRIES = {RETRIES}\nSOURCES = {list(sources)!r}\n"
    from dataclasses import asdict
    return LIBRARY + head + BATCH_MAIN % (json.dumps(asdict(step)), json.dumps(packages))


def java_batch_jobs(language, items, engine, timeout_s: float):
    """check.check_items for Java: batch compiles, then one run job per compiled sample."""
    from humaneval.languages.java import RUNNER, runner_source
    batches = [items[i:i + BATCH_SIZE] for i in range(0, len(items), BATCH_SIZE)]
    compile_jobs, members = [], {}
    for number, batch in enumerate(batches):
        files, packages = [], []
        for k, (key, problem, completion) in enumerate(batch):
            package = f"p{k}"
            packages.append(package)
            files.append((f"{package}/Main.java", language.program(problem, completion, package).encode()))
            files.append((f"{package}/{RUNNER}.java", runner_source(package).encode()))
        step = language.compile_step((), timeout_s=language.compile_timeout_s + 2.0 * len(batch))
        program = batch_program(step, packages, ("Main.java", f"{RUNNER}.java"))
        compile_jobs.append(Job(f"batch{number}", program, sandbox_limits(job_timeout([step]) * (RETRIES + 1),
                                                                       output_bytes=64 << 20), files=tuple(files)))
        members[f"batch{number}"] = {f"p{k}": item for k, item in enumerate(batch)}
    later = []  # run jobs and single-sample fallbacks
    for result in engine.run(compile_jobs):
        group = members[result.key]
        outcome = parse_batch(result)
        if outcome is None:  # the batch itself failed: every sample compiles alone
            later += [language.job(key, problem, completion, timeout_s) for key, problem, completion in group.values()]
            continue
        for package, message in outcome["errors"].items():
            error = ExecResult(group[package][0], "failed", "CompileError", message, sandbox=result.sandbox)
            yield language_verdict(error), error
        later += [language.job(*group[package], timeout_s) for package in outcome["fallback"]]
        classes: dict[str, list] = {}
        for path, data in outcome["classes"].items():
            classes.setdefault(path.split("/")[1], []).append((path, base64.b64decode(data)))
        for package, files in classes.items():
            later.append(Job(group[package][0], _run_program(language, package, timeout_s),
                             sandbox_limits(timeout_s + 2.0), files=tuple(files)))
    for result in engine.run(later):
        yield language_verdict(result), result


def _run_program(language, package: str, timeout_s: float) -> str:
    from humaneval.languages.java import RUNNER
    from humaneval.languages.launcher import launcher_program
    return launcher_program([language.run_step(f"{package}.{RUNNER}", timeout_s)])


def parse_batch(result: ExecResult) -> dict | None:
    if result.verdict != "passed":
        return None
    try:
        return json.loads(result.stdout.rstrip("\n").rsplit("\n", 1)[-1])
    except ValueError:
        return None
