"""HumanEval-X Rust: rustc --test offline, with Debian's rand, regex and md5 crates.

HumanEval-X's declaration uses rand, regex and md5 in every problem. The crates come from Debian's
librust-*-dev packages (/usr/share/cargo/registry, a cargo directory source), compiled once outside the
sandbox by cargo --offline into a warm dependency directory (toolcache). In the sandbox each sample is
one rustc --test call linking them with --extern. regex is built without its default "perf" features
(Debian does not package aho-corasick/memchr for it): same results, slower matching. A passing run
prints libtest's "test result: ok." (the done-marker here) and exits 0.
"""
from __future__ import annotations

import pathlib
import re

from humaneval.engine import Job
from humaneval.languages import toolcache
from humaneval.languages.base import Language, Toolchain, compile_step, run_step, sandbox_limits
from humaneval.languages.batch import BatchSpec, batched_jobs
from humaneval.languages.launcher import launcher_program

RUSTC, CARGO = "/usr/bin/rustc", "/usr/bin/cargo"
REGISTRY = "/usr/share/cargo/registry"
CRATES = ("rand", "regex", "md5")
MANIFEST = """[package]
name = "humaneval_x_deps"
version = "0.1.0"
edition = "2021"

[dependencies]
rand = "0.8"
regex = { version = "1", default-features = false, features = ["std", "unicode"] }
md5 = "0.7"
"""
CARGO_CONFIG = f"""[source.crates-io]
replace-with = "debian"

[source.debian]
directory = "{REGISTRY}"

[net]
offline = true
"""
# strip=symbols: a 0.9 MB test binary instead of 21 MB (std's debug info), and a third less CPU in the linker.
RUSTC_FLAGS = ("--edition", "2021", "--test", "-C", "opt-level=0", "-C", "debuginfo=0", "-C", "strip=symbols",
               "-A", "warnings")
MARKER = "test result: ok. 1 passed"  # every HumanEval-X Rust test module holds exactly one #[test]


def test_source(problem: dict) -> str:
    """The test module, rand 0.7's two-argument gen_range(a, b) rewritten to rand 0.8's gen_range(a..b)
    (Debian ships 0.8; Rust/50's test did not compile). Rust/32's test stays commented out, as upstream
    (its canonical Newton iteration need not converge on the random polynomials): no test, no pass."""
    return re.sub(r"\.gen_range\(([^,()]+),\s*([^()]+)\)", r".gen_range(\1..\2)", problem["test"])


class Rust(Language):
    name = "rust"
    data_file = "humaneval_rust.jsonl.gz"
    toolchain = Toolchain((RUSTC, CARGO), "bash scripts/setup_toolchains.sh  # apt-get install rustc cargo "
                                          "librust-rand-dev librust-regex-dev librust-md5-dev")
    compile_timeout_s = 30.0
    deps: pathlib.Path | None = None

    def prepare(self) -> None:
        super().prepare()
        if self.deps is None:
            recipe = "\n".join([toolcache.tool_version((RUSTC, "--version")), MANIFEST, CARGO_CONFIG])

            def build(tmp: pathlib.Path) -> None:
                (tmp / "src").mkdir()
                (tmp / "src" / "lib.rs").write_text("")
                (tmp / "Cargo.toml").write_text(MANIFEST)
                (tmp / "cargo-home").mkdir()
                (tmp / "cargo-home" / "config.toml").write_text(CARGO_CONFIG)
                env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp), "CARGO_HOME": str(tmp / "cargo-home"),
                       "RUSTC": RUSTC}
                toolcache.run_trusted((CARGO, "build", "--offline", "-q"), tmp, env=env)
            self.deps = toolcache.cached_dir("rust-crates", recipe, build) / "target" / "debug" / "deps"

    def model_prompt(self, problem: dict) -> str:
        return problem["prompt"] + problem["declaration"]  # the doc comment, then the uses and signature

    def source(self, problem: dict, completion: str) -> str:
        return "fn main() {}\n" + self.model_prompt(problem) + completion + "\n" + test_source(problem) + "\n"

    def files(self, problem: dict, completion: str) -> dict[str, str]:
        return {"main.rs": self.source(problem, completion)}

    def compile_step(self, output: str, timeout_s: float):
        externs = []
        for crate in CRATES:
            rlib = sorted(self.deps.glob(f"lib{crate}-*.rlib"))[-1]
            externs += ["--extern", f"{crate}={rlib}"]
        return compile_step((RUSTC, *RUSTC_FLAGS, "-L", f"dependency={self.deps}", *externs, "-o", output,
                             "main.rs"), timeout_s, memory_bytes=3 << 30)

    def steps(self, problem: dict, completion: str, timeout_s: float):
        return [self.compile_step("main", self.compile_timeout_s),
                run_step(("./main", "--test-threads=1"), timeout_s, marker=MARKER)]

    def jobs(self, items, engine, timeout_s: float):
        if len(items) == 1:
            return super().jobs(items, engine, timeout_s)
        return batched_jobs(self, items, engine, timeout_s)

    def batch_spec(self, group: dict):
        """group: {unit: (key, problem, completion)} -> (BatchSpec, files); unit = a module of one crate.
        Modules keep the samples' names apart; `use super::*` in a test module sees its own sample."""
        files = {f"{unit}.rs": self.source(problem, completion) for unit, (key, problem, completion) in group.items()}
        step = self.compile_step("batch", self.compile_timeout_s + 1.0 * len(group))
        spec = BatchSpec(step, tuple(group), root_file="main.rs", root_head="fn main() {}\n",
                         root_line='#[path = "{unit}.rs"] mod {unit};\n', split=r"(?m)^(?=error|warning)",
                         unit_of_error=r"--> (p\d+)\.rs:", emit_once=("batch",))
        return spec, files

    def batch_run_job(self, key: str, unit: str, problem: dict, files: dict, timeout_s: float) -> Job:
        binary = toolcache.store_artifact(files["batch"])
        step = run_step((str(binary), f"{unit}::", "--test-threads=1"), timeout_s, marker=MARKER)
        return Job(key, launcher_program([step]), sandbox_limits(timeout_s + 2.0))


LANGUAGE = Rust()
