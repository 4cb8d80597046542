"""HumanEval-X Java: javac + java (JDK 17) inside the sandbox.

HumanEval-X's own harness never ran Java (its run line is commented out). Here the test's Main.main is
called by a small runner class that prints the done-marker afterwards; a failed check throws
AssertionError, the JVM exits 1. JVM flags keep it inside the sandbox's limits: a bounded heap, code
cache and class space (the default reservations exceed the address-space cap), the serial GC and C1
only (few threads, fast start), no hsperfdata files.
Batching (batch.py): many samples, each in its own package pK, go through one javac; the classes come
back to the evaluator and each sample then runs in its own sandbox with its own classes.
"""
from __future__ import annotations

from humaneval.engine import Job
from humaneval.languages.base import Language, Toolchain, compile_step, run_step, sandbox_limits
from humaneval.languages.batch import BatchSpec, batched_jobs
from humaneval.languages.launcher import DONE_MARKER, launcher_program

JAVAC, JAVA = "/usr/bin/javac", "/usr/bin/java"
JVM_FLAGS = ("-Xmx512m", "-Xss16m", "-XX:ReservedCodeCacheSize=48m", "-XX:CompressedClassSpaceSize=64m",
             "-XX:MaxMetaspaceSize=192m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-XX:-UsePerfData",
             "-Xshare:auto")
JAVAC_FLAGS = (*(f"-J{flag}" for flag in JVM_FLAGS), "-proc:none", "-nowarn", "-encoding", "UTF-8",
               "-Xmaxerrs", "100000")
RUNNER = "HumanevalXRunner"


def runner_source(package: str | None) -> str:
    head = f"package {package};\n" if package else ""
    return (head + f"public class {RUNNER} {{\n  public static void main(String[] args) throws Exception {{\n"
            f"    Main.main(args);\n    System.out.println(\"{DONE_MARKER}\");\n  }}\n}}\n")


class Java(Language):
    name = "java"
    data_file = "humaneval_java.jsonl.gz"
    toolchain = Toolchain((JAVAC, JAVA), "bash scripts/setup_toolchains.sh  # apt-get install openjdk-17-jdk-headless")
    compile_timeout_s = 30.0

    def program(self, problem: dict, completion: str, package: str | None = None) -> str:
        head = f"package {package};\n" if package else ""
        return head + problem["prompt"] + completion + "\n" + problem["test"] + "\n"

    def files(self, problem: dict, completion: str) -> dict[str, str]:
        return {"Main.java": self.program(problem, completion), f"{RUNNER}.java": runner_source(None)}

    def compile_step(self, sources, timeout_s: float | None = None, **kwargs):
        return compile_step((JAVAC, *JAVAC_FLAGS, "-d", "classes", *sources), timeout_s or self.compile_timeout_s,
                            memory_bytes=3 << 30, **kwargs)

    def run_step(self, main_class: str, timeout_s: float):
        return run_step((JAVA, *JVM_FLAGS, "-cp", "classes", main_class), timeout_s, memory_bytes=3 << 30,
                        marker=DONE_MARKER)

    def steps(self, problem: dict, completion: str, timeout_s: float):
        return [self.compile_step(("Main.java", f"{RUNNER}.java")), self.run_step(RUNNER, timeout_s)]

    def jobs(self, items, engine, timeout_s: float):
        if len(items) == 1:
            return super().jobs(items, engine, timeout_s)
        return batched_jobs(self, items, engine, timeout_s)

    def batch_spec(self, group: dict):
        """group: {unit: (key, problem, completion)} -> (BatchSpec, files); unit = the Java package."""
        files = {}
        for unit, (key, problem, completion) in group.items():
            files[f"{unit}/Main.java"] = self.program(problem, completion, unit)
            files[f"{unit}/{RUNNER}.java"] = runner_source(unit)
        step = self.compile_step((), timeout_s=self.compile_timeout_s + 2.0 * len(group))
        spec = BatchSpec(step, tuple(group), unit_args=("{unit}/Main.java", "{unit}/" + RUNNER + ".java"),
                         split=r"(?m)^(?=p\d+/\w+\.java:\d+: )", unit_of_error=r"^(p\d+)/",
                         emit=("classes/{unit}",))
        return spec, files

    def batch_run_job(self, key: str, unit: str, problem: dict, files: dict, timeout_s: float) -> Job:
        mine = tuple(sorted((path, data) for path, data in files.items() if path.startswith(f"classes/{unit}/")))
        return Job(key, launcher_program([self.run_step(f"{unit}.{RUNNER}", timeout_s)]),
                   sandbox_limits(timeout_s + 2.0), files=mine)


LANGUAGE = Java()
