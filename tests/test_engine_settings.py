"""The whole hostile suite (tests/test_engine_hostile.py) in the three settings users actually run in.

CI runs as root, so these tests leave root themselves, each inside a protective wrapper (a user + PID
namespace of its own, `unshare --kill-child`), so that a broken sandbox cannot reach the machine:
  1. an ordinary user: setpriv to uid 65534 (no capabilities), then `unshare -U --map-user=1000` + PID ns;
  2. root in a single-uid user namespace (a rootless container): the same, with `unshare -U -r`;
  3. no namespaces at all: setting 1's wrapper, then a seccomp filter making unshare/setns/clone with
     CLONE_NEW* fail with EPERM and clone3 with ENOSYS (Docker's default profile for a process without
     CAP_SYS_ADMIN; humaneval.engine.seccomp). Every test must error out with SandboxUnavailable, and a
     sample that would write a marker file must not have run; sandbox "none" runs it and records "none".
In settings 1 and 2 every hostile check must hold; the caller's mode-600 $HOME file, a token in its
environment and its processes' /proc must appear in no result row and no log.

/root is mode 700 here and holds the interpreter, so uid 65534 could not even start it: the session
fixture builds a venv from a world-readable python3.X (/usr/bin) with the installed numpy and pytest and
this checkout's humaneval package (humaneval.engine.unprivileged.build_venv), under a world-readable
/var/tmp folder (not /tmp: the samples' scratch tmpfs covers /tmp). See humaneval/engine/README.md.
"""
import json
import os
import re
import secrets
import shutil
import subprocess
import tempfile

import pytest

from humaneval.engine.unprivileged import NOBODY, ORDINARY_USER, ROOTLESS_CONTAINER, build_venv

HERE = os.path.dirname(os.path.abspath(__file__))
SUITE = "tests/test_engine_hostile.py"
SUITE_TIMEOUT_S = 240


@pytest.fixture(scope="session")
def venv():
    """A world-readable venv with numpy, pytest and this checkout's humaneval package; built once."""
    base = tempfile.mkdtemp(prefix="humaneval-settings-", dir="/var/tmp")
    try:
        python = build_venv(base, ("pytest", "numpy"), files=[(os.path.join(HERE, "test_engine_hostile.py"), SUITE)])
        yield {"base": base, "python": python, "suite": os.path.join(base, SUITE)}
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def caller(venv, tmp_path_factory):
    """The unprivileged caller's $HOME (mode 700) with a mode-600 secret, an environment token, and a
    folder for the result rows, all owned by uid 65534."""
    home = tempfile.mkdtemp(prefix="humaneval-home-", dir="/var/tmp")
    secret_file = os.path.join(home, ".credentials")
    secret = f"secret-{secrets.token_hex(8)}"
    with open(secret_file, "w") as f:
        f.write(secret)
    rows = os.path.join(home, "rows.jsonl")
    os.chmod(secret_file, 0o600)
    for path in (home, secret_file):
        os.chown(path, NOBODY, NOBODY)
    os.chmod(home, 0o700)
    token = f"tok-{secrets.token_hex(8)}"
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": home, "PYTHONDONTWRITEBYTECODE": "1",
           "HUMANEVAL_TEST_SECRET_FILE": secret_file, "HUMANEVAL_TEST_SECRET_TOKEN": token,
           "HUMANEVAL_TEST_ROWS": rows, "CLOUD_API_TOKEN": token}
    yield {"home": home, "env": env, "secret": secret, "token": token, "rows": rows}
    shutil.rmtree(home, ignore_errors=True)


def run_suite(wrapper, venv, caller, extra=()) -> subprocess.CompletedProcess:
    command = wrapper + list(extra) + [venv["python"], "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rfE",
                                       venv["suite"]]
    return subprocess.run(command, cwd=caller["home"], env=caller["env"], capture_output=True, text=True,
                          timeout=SUITE_TIMEOUT_S)


def assert_no_leak(caller, out: subprocess.CompletedProcess) -> None:
    with open(caller["rows"]) as f:
        rows = f.read()
    assert len(rows.splitlines()) > 40, "the suite logged too few result rows"
    for text in (rows, out.stdout, out.stderr):
        assert caller["secret"] not in text and caller["token"] not in text


@pytest.mark.parametrize("wrapper, layers", [(ORDINARY_USER, "namespaces+userns"), (ROOTLESS_CONTAINER, "namespaces+userns")],
                         ids=["ordinary-user", "root-in-single-uid-userns"])
def test_hostile_suite_holds_without_privilege(venv, caller, wrapper, layers):
    out = run_suite(wrapper, venv, caller)
    summary = out.stdout.strip().splitlines()[-1] if out.stdout.strip() else out.stderr
    assert out.returncode == 0 and re.fullmatch(r"\d+ passed in .*", summary), out.stdout[-4000:] + out.stderr[-2000:]
    assert_no_leak(caller, out)
    sandboxes = {json.loads(line)["sandbox"] for line in open(caller["rows"])}
    assert sandboxes == {layers}, sandboxes  # no pids cgroup is writable by uid 65534 here


MARKER_SCRIPT = """
import json, sys
from humaneval.engine import Engine, Job, SandboxUnavailable
marker = sys.argv[1]
job = Job("marker", f"open({marker!r}, 'w').write('ran')")
try:
    with Engine(workers=1, preload=()) as engine:
        list(engine.run([job]))
    print(json.dumps({"refused": False}))
except SandboxUnavailable as error:
    print(json.dumps({"refused": True, "message": str(error), "marker_after_refusal": __import__("os").path.exists(marker)}))
with Engine(workers=1, preload=(), sandbox="none") as engine:
    (result,) = engine.run([job])
print(json.dumps({"verdict": result.verdict, "sandbox": result.sandbox}))
"""


def test_without_namespaces_the_default_refuses_and_none_runs(venv, caller):
    deny = [venv["python"], "-m", "humaneval.engine.seccomp"]
    out = run_suite(ORDINARY_USER, venv, caller, extra=deny)
    summary = out.stdout.strip().splitlines()[-1]
    assert out.returncode != 0 and re.fullmatch(r"(\d+) errors? in .*", summary), out.stdout[-3000:]
    assert int(summary.split()[0]) >= 40  # every test: none passed, none even started a sample
    assert out.stdout.count("SandboxUnavailable") >= int(summary.split()[0]), out.stdout[-3000:]
    assert not os.path.exists(caller["rows"]), "a hostile sample ran although the sandbox refused"
    marker = os.path.join(caller["home"], "marker")
    result = subprocess.run(ORDINARY_USER + deny + [venv["python"], "-c", MARKER_SCRIPT, marker], cwd=caller["home"],
                            env=caller["env"], capture_output=True, text=True, timeout=120)
    refusal, ran = [json.loads(line) for line in result.stdout.splitlines()]
    assert refusal["refused"] and not refusal["marker_after_refusal"], (refusal, result.stderr)
    for needle in ("NO sample was run", "Failing step: create the zygote's user namespace", "errno 1 (EPERM",
                   "kernel.unprivileged_userns_clone", "kernel.apparmor_restrict_unprivileged_userns",
                   "seccomp", "--sandbox none"):
        assert needle in refusal["message"], (needle, refusal["message"])
    assert ran == {"verdict": "passed", "sandbox": "none"} and open(marker).read() == "ran"
    assert "sandbox 'none'" in result.stderr and "NOT isolated" in result.stderr


def test_evaluator_clis_refuse_with_exit_4_and_run_with_sandbox_none(tmp_path, shared_data):
    """Setting 3 through the CLIs (as root: nothing untrusted runs, the marker program is ours), inside a
    PID namespace and under the seccomp filter: `humaneval evaluate` and `mtpb evaluate` exit 4 with the
    message and write nothing; `--sandbox none` runs, and rows and summary record "none"."""
    import sys

    from mtpb import data as mtpb_data

    marker = tmp_path / "marker"
    problems = tmp_path / "problems.jsonl"
    problems.write_text(json.dumps({"task_id": "t/0", "prompt": "def f():\n", "entry_point": "f",
                                    "test": f"def check(c):\n    open({str(marker)!r}, 'w').write('ran')\n"}) + "\n")
    samples = tmp_path / "samples.jsonl"
    samples.write_text(json.dumps({"task_id": "t/0", "completion": "    return 1\n"}) + "\n")
    problem = next(iter(mtpb_data.load(shared_data / "mtpb.jsonl").values()))
    mtpb_samples = tmp_path / "mtpb.jsonl"
    mtpb_samples.write_text(json.dumps({"id": problem.id, "input": problem.inputs[0], "gold_output": problem.outputs[0],
                                        "completions": f"open({str(marker)!r}, 'w').write('ran')\nprint(1)"}) + "\n")
    wrapper = ["unshare", "-p", "-f", "--mount-proc", "--kill-child", sys.executable, "-m", "humaneval.engine.seccomp"]
    humaneval = [sys.executable, "-m", "humaneval.cli", "evaluate", str(samples), "--problems", str(problems), "--k", "1",
                 "--no-progress"]
    mtpb = [sys.executable, "-m", "mtpb.cli", "evaluate", str(mtpb_samples), "--problems", str(shared_data / "mtpb.jsonl"),
            "--no-progress"]
    for command, results in ((humaneval, f"{samples}_results.jsonl"), (mtpb, f"{mtpb_samples}_results.jsonl")):
        refused = subprocess.run(wrapper + command, capture_output=True, text=True, timeout=120)
        assert refused.returncode == 4, refused.stderr[-2000:]
        for needle in ("NO sample was run", "Failing step: create the network and UTS namespaces", "errno 1 (EPERM",
                       "kernel.unprivileged_userns_clone", "seccomp", "--sandbox none"):
            assert needle in refused.stderr, (needle, refused.stderr)
        assert not marker.exists() and not os.path.exists(results), "a sample ran although the sandbox refused"
        ran = subprocess.run(wrapper + command + ["--sandbox", "none"], capture_output=True, text=True, timeout=120)
        assert ran.returncode == 0 and marker.read_text() == "ran", ran.stderr[-2000:]
        assert "NOT isolated" in ran.stderr
        rows = [json.loads(line) for line in open(results)]
        assert [r["sandbox"] for r in rows] == ["none"]
        assert "sandbox: none" in ran.stderr or "sandbox none" in ran.stdout, (ran.stdout, ran.stderr)
        marker.unlink()
