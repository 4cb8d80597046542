"""HumanEval-X Go: Go's compiler and linker called directly (no `go test`), offline.

testify comes from Debian's golang-github-stretchr-testify-dev (/usr/share/gocode), compiled once
outside the sandbox into a warm package directory (toolcache); Go 1.19's standard library ships
precompiled in GOROOT/pkg. In the sandbox: `compile` (sample + tests + our runner, package main) and
`link -s -w`, no build cache, no module proxy. Imports: HumanEval-X puts an import block in the prompt;
unused imports are a Go compile error, so (like CodeGeeX's harness) the sample file imports exactly the
known packages its code refers to (`pkg.` after comments are stripped). Our runner calls testing.Main
with the test functions and a last one that prints the done-marker.
"""
from __future__ import annotations

import pathlib
import re

from humaneval.languages import toolcache
from humaneval.languages.base import Language, Toolchain, compile_step, run_step
from humaneval.languages.launcher import DONE_MARKER

GO = "/usr/bin/go"
GOCODE = pathlib.Path("/usr/share/gocode/src")
TESTIFY = "github.com/stretchr/testify/assert"
KNOWN_PACKAGES = ("bytes", "crypto/md5", "errors", "fmt", "math", "math/rand", "regexp", "sort", "strconv",
                  "strings", "time", "unicode")
GO_ENV = {"GOMAXPROCS": "2", "GOGC": "100"}
RUNNER = """package main

import (
    "fmt"
    "testing"
)

func TestZZZHumanevalXDone(t *testing.T) {{ fmt.Println("{marker}") }}

func main() {{
    testing.Main(func(pat, str string) (bool, error) {{ return true, nil }}, []testing.InternalTest{{
{tests}        {{"TestZZZHumanevalXDone", TestZZZHumanevalXDone}},
    }}, nil, nil)
}}
"""


def strip_comments(code: str) -> str:
    return re.sub(r"/\*.*?\*/", "", re.sub(r"//[^\n]*", "", code), flags=re.S)


def used_imports(code: str, candidates=KNOWN_PACKAGES) -> list[str]:
    code = strip_comments(code)
    return [p for p in dict.fromkeys(candidates)
            if re.search(r"(?<![\w.])" + re.escape(p.split("/")[-1]) + r"\.", code)]


def test_names(problem: dict) -> list[str]:
    return re.findall(r"^func (Test\w+)\(", problem["test"], flags=re.M)


def import_block(packages) -> str:
    lines = "".join(f'    "{p}"\n' for p in packages)
    return f"import (\n{lines})\n" if lines else ""


class Go(Language):
    name = "go"
    data_file = "humaneval_go.jsonl.gz"
    toolchain = Toolchain((GO,), "bash scripts/setup_toolchains.sh  # apt-get install golang-go "
                                 "golang-github-stretchr-testify-dev")
    tool_dir: str | None = None
    packages: pathlib.Path | None = None

    def prepare(self) -> None:
        super().prepare()
        if not (GOCODE / TESTIFY).is_dir():
            raise toolcache.ToolCacheError(f"go: {GOCODE / TESTIFY} missing; install it with: "
                                           f"apt-get install golang-github-stretchr-testify-dev")
        if self.packages is None:
            env = {"PATH": "/usr/bin:/bin", "GO111MODULE": "off", "GOFLAGS": "", "GOPROXY": "off", "HOME": "/"}
            self.tool_dir = toolcache.tool_version((GO, "env", "GOTOOLDIR"))
            recipe = toolcache.tool_version((GO, "version")) + "\n" + TESTIFY

            def build(tmp: pathlib.Path) -> None:
                import shutil
                shutil.copytree(GOCODE, tmp / "src", symlinks=False)
                build_env = dict(env, GOPATH=str(tmp), GOCACHE=str(tmp / "cache"))
                deps = toolcache.subprocess.run((GO, "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}",
                                                 TESTIFY), env=build_env, cwd=tmp, capture_output=True, text=True,
                                                check=True).stdout.split()
                toolcache.run_trusted((GO, "install", *deps), tmp, env=build_env)
                shutil.rmtree(tmp / "cache")
            self.packages = toolcache.cached_dir("go-testify", recipe, build) / "pkg" / "linux_amd64"

    def sample_code(self, problem: dict, completion: str) -> str:
        return problem["prompt"].replace(problem["import"], "") + completion

    def sample_source(self, problem: dict, completion: str, package: str = "main") -> str:
        code = self.sample_code(problem, completion)
        candidates = KNOWN_PACKAGES + tuple(re.findall(r'"([\w./]+)"', problem["import"]))
        return f"package {package}\n\n" + import_block(used_imports(code, candidates)) + code + "\n"

    def tests_source(self, problem: dict, package: str = "main") -> str:
        # HumanEval-X's tests lean on the imports of the (one-file) program, e.g. math in Go/2; here they
        # are a file of their own, importing what they use.
        candidates = tuple(re.findall(r'"([\w./]+)"', problem["test_setup"])) + KNOWN_PACKAGES
        packages = ["testing", TESTIFY] + [p for p in used_imports(problem["test"], candidates)
                                            if p not in ("testing", TESTIFY)]
        return f"package {package}\n\n" + import_block(packages) + problem["test"] + "\n"

    def files(self, problem: dict, completion: str) -> dict[str, str]:
        names = test_names(problem)
        tests = "".join(f'        {{"{n}", {n}}},\n' for n in names)
        return {"sample.go": self.sample_source(problem, completion),
                "tests.go": self.tests_source(problem),
                "runner.go": RUNNER.format(marker=DONE_MARKER, tests=tests)}

    def jobs(self, items, engine, timeout_s: float):
        if len(items) == 1:
            return super().jobs(items, engine, timeout_s)
        from humaneval.languages.go_batch import go_batched_jobs
        return go_batched_jobs(self, items, engine, timeout_s)

    def steps(self, problem: dict, completion: str, timeout_s: float):
        tools = pathlib.Path(self.tool_dir)
        return [
            compile_step((str(tools / "compile"), "-p", "main", "-I", str(self.packages), "-o", "main.a",
                          "sample.go", "tests.go", "runner.go"), self.compile_timeout_s, env=GO_ENV),
            compile_step((str(tools / "link"), "-s", "-w", "-L", str(self.packages), "-o", "main", "main.a"),
                         self.compile_timeout_s, env=GO_ENV),
            run_step(("./main",), timeout_s, env=GO_ENV, marker=DONE_MARKER),
        ]


LANGUAGE = Go()
