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

from humaneval.languages import toolcache
from humaneval.languages.base import Language, Toolchain, compile_step, run_step

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
RUSTC_FLAGS = ("--edition", "2021", "--test", "-C", "opt-level=0", "-C", "debuginfo=0", "-A", "warnings")
MARKER = "test result: ok."


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

    def files(self, problem: dict, completion: str) -> dict[str, str]:
        return {"main.rs": "fn main() {}\n" + self.model_prompt(problem) + completion + "\n" + problem["test"] + "\n"}

    def steps(self, problem: dict, completion: str, timeout_s: float):
        externs = []
        for crate in CRATES:
            rlib = sorted(self.deps.glob(f"lib{crate}-*.rlib"))[-1]
            externs += ["--extern", f"{crate}={rlib}"]
        return [compile_step((RUSTC, *RUSTC_FLAGS, "-L", f"dependency={self.deps}", *externs, "-o", "main",
                              "main.rs"), self.compile_timeout_s, memory_bytes=3 << 30),
                run_step(("./main", "--test-threads=1"), timeout_s, marker=MARKER)]


LANGUAGE = Rust()
