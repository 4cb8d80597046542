"""The Python program each compiled-language job runs inside the engine's sandbox.

The engine runs Python programs; for C++, Java, Go, Rust and JavaScript the program is this launcher.
Job.files (the sample's sources) are already in the scratch cwd. The launcher runs each step (compile,
then run) as a child process with the step's own wall clock, CPU, address-space and file-size limits,
its stdout and stderr going to files in scratch (RLIMIT_FSIZE bounds them: an output flood dies with
SIGXFSZ). A failing step raises an exception whose class name the evaluator turns into a verdict
(ERROR_VERDICTS): CompileError -> compile_error, RunTimeout -> timeout, ... A run passes only if it exits
0 AND its stdout holds the language's done-marker, printed by our test harness code after the tests:
an early exit(0) from the model's code does not pass.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

DONE_MARKER = "__HUMANEVAL_X_DONE__"
ERROR_VERDICTS = {  # error_type raised by the launcher -> the evaluator's verdict
    "CompileError": "compile_error",
    "CompileTimeout": "compile_error",
    "RunTimeout": "timeout",
    "RunCrashed": "crashed",
    "OutputLimit": "failed",
    "TestFailure": "failed",
}


@dataclass(frozen=True)
class Step:
    argv: tuple[str, ...]
    kind: str  # "compile" | "run"
    timeout_s: float
    memory_bytes: int = 2 << 30  # RLIMIT_AS of the child
    output_bytes: int = 8 << 20  # RLIMIT_FSIZE: largest file it writes (its captured stdout/stderr too)
    env: dict = field(default_factory=dict)  # added to the sandbox's environment
    marker: str | None = None  # run steps: stdout must contain it
    emit_dir: str | None = None  # compile steps: every file below it printed as JSON {path: base64} on success


LIBRARY = r'''
import base64, json, os, resource, signal, subprocess, sys
TAIL = 4000

class CompileError(Exception): pass
class CompileTimeout(Exception): pass
class RunTimeout(Exception): pass
class RunCrashed(Exception): pass
class OutputLimit(Exception): pass
class TestFailure(Exception): pass

def tail(path):
    with open(path, "rb") as f:
        f.seek(max(0, os.path.getsize(path) - TAIL))
        return f.read().decode("utf-8", "replace")

def limiter(step):
    def apply():
        cpu = int(step["timeout_s"]) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        resource.setrlimit(resource.RLIMIT_AS, (step["memory_bytes"], step["memory_bytes"]))
        resource.setrlimit(resource.RLIMIT_FSIZE, (step["output_bytes"], step["output_bytes"]))
    return apply

def run_step(i, step):
    out_path, err_path = ".step%d.out" % i, ".step%d.err" % i
    env = dict(os.environ, **step["env"])
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        try:
            proc = subprocess.Popen(step["argv"], stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env,
                                    preexec_fn=limiter(step), start_new_session=True, close_fds=True)
        except OSError as e:
            raise (CompileError if step["kind"] == "compile" else RunCrashed)("cannot start %s: %s" % (step["argv"][0], e))
        try:
            code = proc.wait(timeout=step["timeout_s"])
            timed_out = False
        except subprocess.TimeoutExpired:
            timed_out = True
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # the whole group: daemons and children go too
        except OSError:
            pass
        code = proc.wait()
    stdout, stderr = tail(out_path), tail(err_path)
    sys.stdout.write(stdout[-TAIL:] if step["kind"] == "run" else "")
    sys.stderr.write(stderr[-TAIL:])
    compile_step = step["kind"] == "compile"
    cpu_limited = code == -signal.SIGXCPU or (code == -signal.SIGKILL and not timed_out)
    if timed_out or cpu_limited:
        raise (CompileTimeout if compile_step else RunTimeout)("%s exceeded %.1f s" % (step["argv"][0], step["timeout_s"]))
    if code == -signal.SIGXFSZ:
        raise OutputLimit("output past %d bytes" % step["output_bytes"])
    if compile_step and code != 0:
        raise CompileError((stderr + stdout)[-TAIL:] or "compiler exit code %d" % code)  # Go's compiler: stdout
    if code == -signal.SIGABRT:  # C/C++ assert() and std::terminate: a failed test, not a crash
        raise TestFailure("aborted: %s" % (stderr or stdout)[:600])
    if code < 0:
        raise RunCrashed("killed by signal %s" % signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else str(-code))
    if code != 0:
        raise TestFailure("exit code %d: %s" % (code, (stderr or stdout)[:600]))
    if step["marker"] is not None and step["marker"] not in tail(out_path):
        raise TestFailure("exited 0 before the tests finished (no done-marker)")
'''

MAIN = r'''
STEPS = json.loads(%r)
for i, step in enumerate(STEPS):
    run_step(i, step)
    if step["emit_dir"]:
        found = {}
        for root, _, names in os.walk(step["emit_dir"]):
            for name in names:
                path = os.path.join(root, name)
                with open(path, "rb") as f:
                    found[path] = base64.b64encode(f.read()).decode()
        print(json.dumps(found))
'''


def launcher_program(steps) -> str:
    return LIBRARY + MAIN % json.dumps([asdict(step) for step in steps])


def job_timeout(steps) -> float:
    """Engine wall clock for the whole job: every step's own limit plus start-up slack."""
    return sum(step.timeout_s for step in steps) + 2.0
