"""Go batching: each sample compiled alone (Go's compile is ~0.05 s), all of a batch linked once.

Linking a testify test binary is most of a Go sample's cost (~0.2 CPU-s). A batch job compiles each
sample, with its tests, as its own package pK (an error is its own compile_error, exactly as alone),
then one main package imports every package that compiled and runs the tests of the one named by its
first argument; one link makes the batch's binary. Each sample then runs that binary, from the trusted
artifact directory, in its own sandbox. Only code that runs before main could let one sample touch
another's run, so a sample with package-level initialisation (a `func init` or a package-level `var`
with an initializer) is never batched: it is checked alone.
"""
from __future__ import annotations

import base64
import json
import pathlib
import re
from dataclasses import asdict

from humaneval.engine import Job
from humaneval.languages import toolcache
from humaneval.languages.base import compile_step, run_step, sandbox_limits
from humaneval.languages.batch import BATCH_SIZE, COMPILE_ERROR_PROGRAM, parse_batch
from humaneval.languages.go import GO_ENV, strip_comments, test_names
from humaneval.languages.launcher import DONE_MARKER, LIBRARY, job_timeout, launcher_program

GO_BATCH_MAIN = r'''
SPEC = json.loads(%r)
result = {"files": {}, "errors": {}, "fallback": [], "compiled": []}
for i, unit in enumerate(SPEC["units"]):
    step = dict(SPEC["compile"], argv=SPEC["compile"]["argv"] + ["-p", unit, "-o", unit + ".a", unit + "/sample.go", unit + "/tests.go"])
    try:
        run_step(i, step)
        result["compiled"].append(unit)
    except CompileError as error:
        result["errors"][unit] = str(error)
    except CompileTimeout:
        result["fallback"].append(unit)
if result["compiled"]:
    imports = "".join('    %%s "%%s"\n' %% (u, u) for u in result["compiled"])
    table = "".join('    "%%s": {%%s{"TestZZZHumanevalXDone", done}},\n' %% (u, "".join('{"%%s", %%s.%%s}, ' %% (t, u, t) for t in SPEC["tests"][u])) for u in result["compiled"])
    with open("main.go", "w") as f:
        f.write(SPEC["main_head"] + imports + ")\n\nvar tests = map[string][]testing.InternalTest{\n" + table + "}\n" + SPEC["main_tail"])
    try:
        run_step(len(SPEC["units"]), dict(SPEC["compile"], argv=SPEC["compile"]["argv"] + ["-p", "main", "-I", ".", "-o", "main.a", "main.go"]))
        run_step(len(SPEC["units"]) + 1, SPEC["link"])
        with open("batch", "rb") as f:
            result["files"]["batch"] = base64.b64encode(f.read()).decode()
    except (CompileError, CompileTimeout):
        result["fallback"] += result["compiled"]
        result["compiled"] = []
sys.stdout.write("\n" + json.dumps(result) + "\n")
'''
MAIN_HEAD = """package main

import (
    "fmt"
    "os"
    "testing"
"""
MAIN_TAIL = f"""
func done(t *testing.T) {{ fmt.Println("{DONE_MARKER}") }}

func main() {{
    unit := os.Args[1]
    os.Args = append(os.Args[:1], os.Args[2:]...)
    testing.Main(func(pat, str string) (bool, error) {{ return true, nil }}, tests[unit], nil, nil)
}}
"""


def has_package_init(code: str) -> bool:
    """A `func init` or a package-level `var ... =` (code that runs before main) at brace depth 0."""
    code = re.sub(r'"(\\.|[^"\\\n])*"|`[^`]*`|\'(\\.|[^\'\\\n])*\'', '""', strip_comments(code))
    depth = 0
    for line in code.splitlines():
        if depth == 0 and re.match(r"\s*(func\s+init\s*\(|var\b[^\n]*=|var\s*\()", line):
            return True
        depth += line.count("{") + line.count("(") - line.count("}") - line.count(")")
    return False


def go_batched_jobs(language, items, engine, timeout_s: float) -> dict[str, Job]:
    jobs, batchable = {}, []
    for key, problem, completion in items:
        if has_package_init(language.sample_code(problem, completion)):
            jobs[key] = language.job(key, problem, completion, timeout_s)
        else:
            batchable.append((key, problem, completion))
    tools = pathlib.Path(language.tool_dir)
    compile_jobs, members = [], {}
    for number in range(0, len(batchable), BATCH_SIZE):
        group = {f"p{k}": item for k, item in enumerate(batchable[number:number + BATCH_SIZE])}
        files = []
        for unit, (key, problem, completion) in group.items():
            files.append((f"{unit}/sample.go", language.sample_source(problem, completion, unit).encode()))
            files.append((f"{unit}/tests.go", language.tests_source(problem, unit).encode()))
        compile = compile_step((str(tools / "compile"), "-I", str(language.packages)), language.compile_timeout_s,
                               env=GO_ENV)
        link = compile_step((str(tools / "link"), "-s", "-w", "-L", ".", "-L", str(language.packages), "-o", "batch",
                             "main.a"), language.compile_timeout_s, env=GO_ENV)
        spec = {"units": list(group), "compile": asdict(compile), "link": asdict(link), "main_head": MAIN_HEAD,
                "main_tail": MAIN_TAIL, "tests": {unit: test_names(item[1]) for unit, item in group.items()}}
        timeout = job_timeout([compile] * (len(group) + 1) + [link])
        key = f"batch{number}"
        compile_jobs.append(Job(key, LIBRARY + GO_BATCH_MAIN % json.dumps(spec),
                                sandbox_limits(timeout, output_bytes=256 << 20), files=tuple(files)))
        members[key] = group
    for result in engine.run(compile_jobs):
        group = members[result.key]
        outcome = parse_batch(result) or {"errors": {}, "fallback": list(group), "compiled": [], "files": {}}
        for unit, message in outcome["errors"].items():
            key = group[unit][0]
            jobs[key] = Job(key, COMPILE_ERROR_PROGRAM % message, sandbox_limits(5.0))
        for unit in outcome["fallback"]:
            jobs[group[unit][0]] = language.job(*group[unit], timeout_s)
        if outcome["compiled"]:
            binary = toolcache.store_artifact(base64.b64decode(outcome["files"]["batch"]))
            for unit in outcome["compiled"]:
                key = group[unit][0]
                step = run_step((str(binary), unit), timeout_s, env=GO_ENV, marker=DONE_MARKER)
                jobs[key] = Job(key, launcher_program([step]), sandbox_limits(timeout_s + 2.0))
    return jobs
