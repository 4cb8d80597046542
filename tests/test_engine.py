"""humaneval.engine: contract, verdicts, captured values, determinism, pool behaviour."""
import fnmatch
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np
import pandas as pd
import pytest

from humaneval.engine import Engine, ExecResult, Job, Limits, SandboxUnavailable
from humaneval.engine import pool, rootfs, values
from test_engine_hostile import pids_cgroup_writable

FAST = Limits(timeout_s=2.0, memory_bytes=512 << 20)


@pytest.fixture(scope="module")
def engine():
    with Engine(workers=2, preload=("numpy", "pandas"), limits=FAST) as e:  # fails closed: namespaces or an error
        yield e


def run_one(engine, program, **kwargs) -> ExecResult:
    (result,) = engine.run([Job("k", program, **kwargs)])
    return result


# --- Limits / Job validation -------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, needle", [
    (dict(timeout_s=0), "timeout_s"), (dict(timeout_s=float("inf")), "timeout_s"), (dict(cpu_s=-1), "cpu_s"),
    (dict(memory_bytes=0), "memory_bytes"), (dict(max_procs=1.5), "max_procs"), (dict(max_open_files=3), "max_open_files"),
    (dict(read_only_paths=("data",)), "not an absolute path"), (dict(read_only_paths="/data"), "tuple"),
    (dict(read_only_paths=("/",)), "whole filesystem"), (dict(read_only_paths=("/tmp/x",)), "under /tmp"),
])
def test_limits_reject_bad_values(kwargs, needle):
    with pytest.raises(ValueError, match=needle):
        Limits(**kwargs)


@pytest.mark.parametrize("name", ["/etc/passwd", "../x", "a/../../x", "", "a//b", "./x"])
def test_job_rejects_file_names_outside_scratch(name):
    with pytest.raises(ValueError, match="relative path inside the scratch dir"):
        Job("k", "pass", files=((name, b"x"),))


def test_job_rejects_unknown_capture_and_engine_rejects_non_jobs(engine):
    with pytest.raises(ValueError, match="capture"):
        Job("k", "pass", capture="stdout")
    with pytest.raises(TypeError, match="Job objects"):
        list(engine.run(["print(1)"]))


# --- verdicts ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("program, verdict, error_type", [
    ("assert sum(range(5)) == 10", "passed", None),
    ("assert 1 == 2, 'one is not two'", "failed", "AssertionError"),
    ("def f(:\n  pass", "failed", "SyntaxError"),
    ("raise KeyError('k')", "failed", "KeyError"),
    ("import sys; sys.exit(0)", "failed", "SystemExit"),
    ("raise SystemExit", "failed", "SystemExit"),
    ("import os; os._exit(0)", "failed", "EarlyExit"),
    ("import os; os._exit(3)", "failed", "EarlyExit"),
    ("def f(n): return f(n + 1)\nf(0)", "failed", "RecursionError"),
    ("import ctypes; ctypes.string_at(0)", "crashed", "SIGSEGV"),
    ("import os, signal; os.kill(os.getpid(), signal.SIGTERM)", "crashed", "SIGTERM"),
    ("x = bytearray(8 << 30)", "out_of_memory", "MemoryError"),
    ("import numpy as np; a = np.ones((1 << 16, 1 << 16))", "out_of_memory", "MemoryError"),
    ("while True: pass", "timeout", "WallTimeout"),
])
def test_verdicts(engine, program, verdict, error_type):
    result = run_one(engine, program, limits=Limits(timeout_s=1.0, memory_bytes=512 << 20))
    assert (result.verdict, result.error_type) == (verdict, error_type), result
    assert result.sandbox == engine.sandbox


def test_failure_message_and_traceback(engine):
    result = run_one(engine, "def check():\n    assert 1 == 2, 'one is not two'\ncheck()")
    assert result.error_message == "one is not two"
    assert 'File "<program>", line 2, in check' in result.stderr
    assert "driver.py" not in result.stderr  # the harness frame is hidden


def test_cpu_limit_is_separate_from_wall_clock(engine):
    result = run_one(engine, "while True: pass", limits=Limits(timeout_s=30, cpu_s=1))  # 1 CPU-s: slow when loaded
    assert (result.verdict, result.error_type) == ("timeout", "CPUTimeLimit"), result
    assert result.signal == signal.SIGXCPU and result.cpu_s > 0.5 and result.wall_s < 29  # before the wall clock


def test_sleeping_is_bounded_by_wall_clock_not_cpu(engine):
    t0 = time.monotonic()
    result = run_one(engine, "import time; time.sleep(30)", limits=Limits(timeout_s=0.5))
    assert result.verdict == "timeout" and result.cpu_s < 0.5
    assert 0.5 <= result.wall_s < 1.0 and time.monotonic() - t0 < 1.5


def test_record_fields(engine):
    result = run_one(engine, "import sys; print('out'); print('err', file=sys.stderr); x = bytearray(50 << 20)")
    assert result.verdict == "passed"
    assert (result.stdout, result.stderr, result.stdout_bytes, result.stderr_bytes) == ("out\n", "err\n", 4, 4)
    assert result.exit_code == 0 and result.signal is None
    assert result.peak_rss_bytes > 50 << 20
    assert 0 < result.wall_s < 2 and result.cpu_s >= 0
    row = json.loads(json.dumps(result.to_dict()))
    assert ExecResult.from_dict(row) == result


def test_output_is_capped_counted_and_never_crashes_on_binary(engine):
    program = "import sys\nsys.stdout.buffer.write(b'\\xff\\xfe' * (3 << 19))\nsys.stderr.write('\\u00e9' * 10)"
    result = run_one(engine, program, limits=Limits(max_output_bytes=1000))
    assert result.verdict == "passed"
    assert result.stdout_bytes == 3 << 20 and result.stdout == "\ufffd" * 1000
    assert result.stderr == "\u00e9" * 10 and result.stderr_bytes == 20


def test_files_are_placed_in_the_writable_scratch_cwd(engine):
    program = ("import os\nassert open('data/in.csv').read() == 'a,b\\n1,2\\n'\n"
               "open('out.txt', 'w').write('x' * 1000)\nassert os.path.getsize('out.txt') == 1000\n"
               "assert os.getcwd() == os.environ['TMPDIR']")
    result = run_one(engine, program, files=(("data/in.csv", b"a,b\n1,2\n"),))
    assert result.verdict == "passed", result


def test_scratch_is_fresh_for_every_sample(engine):
    results = list(engine.run([Job(str(i), "import os\nassert os.listdir('.') == []\nopen('left', 'w').write('x')")
                               for i in range(4)]))
    assert [r.verdict for r in results] == ["passed"] * 4


def test_file_size_cap(engine):
    program = "open('big', 'wb').write(b'x' * (2 << 20))"
    result = run_one(engine, program, limits=Limits(max_file_bytes=1 << 20))
    assert result.verdict == "failed" and result.error_type == "OSError", result


def test_common_imports_work_inside_the_sandbox(engine):
    program = ("import heapq, fractions, decimal, itertools, re, json, statistics, collections, math, string\n"
               "import functools, typing, random, hashlib, numpy, pandas\n"
               "import xml.dom.minidom, sqlite3, zipfile  # not preloaded: imported from the exposed prefix\n"
               "assert statistics.mean([1, 2]) == 1.5 and hashlib.sha256(b'').hexdigest()[:4] == 'e3b0'")
    result = run_one(engine, program)
    assert result.verdict == "passed", result.stderr


def test_environment_is_scrubbed_and_identity_unprivileged(engine):
    assert engine.sandbox.startswith("namespaces")
    program = ("import os\nassert set(os.environ) == {'PATH', 'HOME', 'TMPDIR', 'LANG', 'PYTHONHASHSEED'}, os.environ\n"
               "assert os.getuid() == 65534 and os.getgid() == 65534\n"
               "assert os.getpid() == 2 and os.getsid(0) == 2\n"
               "assert open('/proc/self/status').read().count('0000000000000000') >= 3  # no capabilities\n"
               "print((sorted(os.listdir('/')), sorted(os.listdir('/etc')), open('/proc/self/environ').read()))")
    result = run_one(engine, program, capture="last_print")
    assert result.verdict == "passed", result.stderr
    top, etc, environ = values.decode_value(result.observed)
    # Only the allowlist (rootfs.py): system dirs, /etc entries, /dev, /proc, scratch, and the first
    # component of each interpreter prefix / the toolkit's package -- never the rest of the host.
    prefixes = {p.split("/")[1] for p in rootfs.python_paths() + [os.path.dirname(rootfs.__file__)]}
    assert set(top) <= {"usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "etc", "dev", "proc", "tmp"} | prefixes
    allowed_etc = {pattern.split("/")[0] for pattern in rootfs.ETC}
    assert "passwd" in etc and all(any(fnmatch.fnmatch(e, p) for p in allowed_etc) for e in etc), etc
    # The forked sample's memory holds its zygote's start-up environment: only the allowlisted names.
    names = {entry.split("=", 1)[0] for entry in environ.split("\0") if entry}
    assert names <= set(pool.ZYGOTE_ENV) | {"PYTHONHASHSEED", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                                           "MKL_NUM_THREADS"}, names


def test_callers_environment_never_reaches_samples(monkeypatch):
    """A token in the evaluator's environment: not in the sample's os.environ, nor in /proc/self/environ
    (a forked sample's memory holds its zygote's initial environment block)."""
    token = f"tok{time.time_ns()}"
    monkeypatch.setenv("HUMANEVAL_TEST_SECRET_TOKEN", token)
    with Engine(workers=1, preload=()) as e:
        (result,) = e.run([Job("k", "import os\nprint(open('/proc/self/environ').read(), dict(os.environ))")])
    assert result.verdict == "passed" and token not in result.stdout and "PATH=" in result.stdout


# --- captured values ---------------------------------------------------------------------------------

@pytest.mark.parametrize("expr, expected", [
    ("3", 3), ("-7 ** 40", -7 ** 40), ("2 ** 5000", 2 ** 5000), ("1.5", 1.5), ("float('inf')", math.inf),
    ("'héllo\\n'", "héllo\n"), ("True", True), ("None", None), ("[1, (2, 'a'), {3}]", [1, (2, "a"), {3}]),
    ("{'a': 1, 2: [None]}", {"a": 1, 2: [None]}), ("b'\\x00\\xff'", b"\x00\xff"), ("3+4j", 3 + 4j),
    ("frozenset({1})", frozenset({1})), ("__import__('fractions').Fraction(1, 3)", __import__("fractions").Fraction(1, 3)),
])
def test_last_print_plain_values(engine, expr, expected):
    result = run_one(engine, f"print('first')\nprint({expr}, 'ignored')", capture="last_print")
    assert result.verdict == "passed"
    assert values.decode_value(result.observed) == expected
    assert "ignored" in result.stdout  # print still writes


def test_last_print_nan_numpy_pandas(engine):
    program = ("import numpy as np, pandas as pd\n"
               "print(float('nan'))\nprint(np.arange(6, dtype=np.int32).reshape(2, 3))\n"
               "print(np.float32(0.5))\n"
               "print(pd.DataFrame({'a': [1, 2], 'b': ['x', None]}, index=['r', 's']))\n")
    jobs = [Job(str(n), "\n".join(program.splitlines()[:n + 1]), capture="last_print") for n in range(1, 5)]
    got = {r.key: values.decode_value(r.observed) for r in engine.run(jobs)}
    assert math.isnan(got["1"])
    assert got["2"].dtype == np.int32 and got["2"].tolist() == [[0, 1, 2], [3, 4, 5]]
    assert type(got["3"]) is np.float32 and got["3"] == 0.5
    pd.testing.assert_frame_equal(got["4"], pd.DataFrame({"a": [1, 2], "b": ["x", None]}, index=["r", "s"]))


def test_last_print_survives_a_later_exception_and_its_traceback(engine):
    result = run_one(engine, "print(7980)\nraise RuntimeError('after the answer')", capture="last_print")
    assert (result.verdict, result.error_type) == ("failed", "RuntimeError")
    assert values.decode_value(result.observed) == 7980
    assert "RuntimeError: after the answer" in result.stderr


def test_last_print_absent_and_not_captured_by_default(engine):
    assert run_one(engine, "x = 1", capture="last_print").observed is None
    assert run_one(engine, "print(5)").observed is None


def test_values_roundtrip_without_engine():
    series = pd.Series([1.5, np.nan], index=pd.Index(["a", "b"], name="i"), name="s")
    decoded = values.decode_value(json.loads(json.dumps(values.encode_value(series))))
    pd.testing.assert_series_equal(decoded, series)
    arr = np.array(["2020-01-01", "NaT"], dtype="datetime64[D]")
    assert np.array_equal(values.decode_value(values.encode_value(arr)), arr, equal_nan=True)
    obj = np.array([1, "a", None], dtype=object)
    assert values.decode_value(values.encode_value(obj)).tolist() == [1, "a", None]


def test_values_bounded_and_opaque_for_unknown_or_hostile_objects():
    cyclic = [1]
    cyclic.append(cyclic)
    assert isinstance(values.decode_value(values.encode_value(cyclic))[1], values.Opaque)
    huge = values.encode_value("x" * (values.MAX_CHARS + 1))
    assert huge["t"] == "truncated" and len(json.dumps(huge)) < 2000

    class Evil:
        def __repr__(self):
            raise RuntimeError("no")
    decoded = values.decode_value(values.encode_value(Evil()))
    assert isinstance(decoded, values.Opaque) and decoded != "Evil" and "repr failed" in decoded.text
    with pytest.raises(ValueError, match="unknown tag"):
        values.decode_value({"t": "pickle", "v": "..."})


# --- determinism, ordering, pool ---------------------------------------------------------------------

MIXED = [
    "assert True", "assert False", "import random; assert random.random() < 0.5",
    "import numpy as np; assert np.random.rand() < 0.5", "print(sorted({'b', 'a'}).pop())\nassert list({'x', 'y', 'z'})[0] == 'x'",
    "while True: pass", "x = bytearray(1 << 40)", "import ctypes; ctypes.string_at(0)", "import os; os._exit(0)",
    "raise ValueError('v')",
]


def verdicts_with(workers: int) -> dict:
    jobs = [Job(str(i), p, Limits(timeout_s=0.5, memory_bytes=256 << 20)) for i, p in enumerate(MIXED)]
    with Engine(workers=workers, preload=("numpy",)) as e:
        return {r.key: (r.verdict, r.error_type) for r in e.run(jobs)}


def test_verdicts_are_identical_across_worker_counts_and_runs():
    first = verdicts_with(1)
    assert first == verdicts_with(2) == verdicts_with(8) == verdicts_with(2)
    assert first["5"] == ("timeout", "WallTimeout") and first["0"] == ("passed", None)


def test_results_come_back_in_completion_order(engine):
    jobs = [Job("slow", "import time; time.sleep(0.6)"), Job("fast", "pass")]
    assert [r.key for r in engine.run(jobs)] == ["fast", "slow"]


def test_dead_zygote_is_replaced_and_its_job_reported_as_harness_error(engine):
    victim = engine.workers[0]
    token = str(time.time_ns())
    doomed = f"import subprocess, time\nsubprocess.Popen(['sleep', '1000.{token}'], start_new_session=True)\ntime.sleep(5)"
    threading.Timer(0.5, os.kill, (victim.proc.pid, signal.SIGKILL)).start()
    results = {r.key: r for r in engine.run([Job("doomed", doomed), Job("other", "pass")])}
    assert results["doomed"].verdict == "harness_error" and results["doomed"].error_type == "ZygoteLost"
    assert results["other"].verdict == "passed"
    assert victim not in engine.workers and all(w.proc.poll() is None for w in engine.workers)
    deadline = time.monotonic() + 3  # the namespace's init sees its lifeline close and takes the sample along
    while processes_with(token) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert processes_with(token) == []
    assert run_one(engine, "pass").verdict == "passed"


def test_jobs_queued_behind_a_lost_job_run_elsewhere(engine):
    # Each zygote holds a second job queued behind its running one; that job never started, so it is
    # dispatched again (only the running job is reported as ZygoteLost).
    victim = engine.workers[0]
    threading.Timer(0.5, os.kill, (victim.proc.pid, signal.SIGKILL)).start()
    jobs = [Job("doomed", "import time; time.sleep(5)"), Job("other", "import time; time.sleep(1)")]
    results = {r.key: r for r in engine.run(jobs + [Job(f"q{i}", "pass") for i in range(4)])}
    assert results["doomed"].error_type == "ZygoteLost"
    assert {k: r.verdict for k, r in results.items() if k != "doomed"} == dict.fromkeys(["other", "q0", "q1", "q2", "q3"], "passed")
    assert victim not in engine.workers


def processes_with(token: str) -> list[int]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                found += [int(pid)] if token.encode() in f.read() else []
        except OSError:
            pass
    return found


def test_abandoned_run_does_not_leak_results_into_the_next(engine):
    it = engine.run([Job("a", "import time; time.sleep(0.3)"), Job("b", "import time; time.sleep(0.3)"), Job("c", "pass")])
    next(it)
    it.close()
    assert [r.key for r in engine.run([Job("fresh", "pass")])] == ["fresh"]


def test_default_refuses_and_none_is_loud_and_recorded(monkeypatch, tmp_path):
    monkeypatch.setenv("HUMANEVAL_ENGINE_DISABLE_NAMESPACES", "1")
    monkeypatch.setattr("humaneval.engine.pool._warned", False)
    marker = tmp_path / "ran"
    engine = Engine(workers=1, preload=())
    with pytest.raises(SandboxUnavailable) as refused:
        list(engine.run([Job("m", f"open({str(marker)!r}, 'w').write('x')")]))
    assert not marker.exists()  # refused before any sample ran
    text = str(refused.value)
    for needle in ("NO sample was run", "Failing step: namespaces disabled by HUMANEVAL_ENGINE_DISABLE_NAMESPACES",
                   "errno 1 (EPERM", "kernel.unprivileged_userns_clone", "kernel.apparmor_restrict_unprivileged_userns",
                   "seccomp", "--sandbox none"):
        assert needle in text, (needle, text)
    with pytest.warns(RuntimeWarning, match="NOT isolated"):
        with Engine(workers=1, preload=(), sandbox="none") as e:
            results = list(e.run([Job("ok", "assert 1"), Job("bad", "assert 0"), Job("t", "while 1: pass", Limits(timeout_s=0.5))]))
    assert {r.key: r.verdict for r in results} == {"ok": "passed", "bad": "failed", "t": "timeout"}
    assert {r.sandbox for r in results} == {"none"} and e.sandbox == "none"


def test_read_only_paths_are_visible_and_read_only(tmp_path_factory):
    data = tmp_path_factory.mktemp("data", numbered=True)
    shown = tempfile.mkdtemp(prefix="humaneval-ro-", dir="/var/tmp")
    try:
        with open(os.path.join(shown, "d.txt"), "w") as f:
            f.write("dataset")
        os.chmod(shown, 0o755)
        os.chmod(os.path.join(shown, "d.txt"), 0o666)
        program = (f"assert open({shown!r} + '/d.txt').read() == 'dataset'\n"
                   f"import os\nassert not os.path.exists('/var/tmp/' + {os.path.basename(str(data))!r})\n"
                   f"open({shown!r} + '/d.txt', 'w')")
        with Engine(workers=1, preload=(), limits=Limits(read_only_paths=(shown,))) as e:
            (result,) = e.run([Job("k", program)])
            with pytest.raises(ValueError, match="read_only_paths"):
                list(e.run([Job("other", "pass", Limits(read_only_paths=("/opt",)))]))
        with pytest.raises(ValueError, match="/nonexistent/data does not exist"):
            Engine(workers=1, preload=(), limits=Limits(read_only_paths=("/nonexistent/data",))).start()
        assert (result.verdict, result.error_type) == ("failed", "OSError"), result  # EROFS
        assert "Read-only file system" in result.error_message
    finally:
        shutil.rmtree(shown)


def test_engine_rejects_bad_arguments():
    for mode in ("docker", "auto", "rlimits"):
        with pytest.raises(ValueError, match="sandbox"):
            Engine(sandbox=mode)
    with pytest.raises(ValueError, match="workers"):
        Engine(workers=-1)


def test_memory_cap_is_on_top_of_the_zygote_footprint(engine):
    jobs = [Job("fits", "x = bytearray(150 << 20)", Limits(memory_bytes=256 << 20)),
            Job("exceeds", "x = bytearray(300 << 20)", Limits(memory_bytes=256 << 20))]
    assert {r.key: r.verdict for r in engine.run(jobs)} == {"fits": "passed", "exceeds": "out_of_memory"}


def test_unpreloaded_heavy_import_works_and_zygote_cgroups_are_removed_on_close():
    with Engine(workers=1, preload=()) as e:
        (result,) = e.run([Job("np", "import numpy as np\nassert np.arange(3).sum() == 3", Limits(timeout_s=20))])
        groups = [w.cgroup for w in e.workers]
        assert ("pids_cgroup" in e.sandbox) == pids_cgroup_writable() == all(groups), (e.sandbox, groups)
        assert all(os.path.isdir(g) and open(f"{g}/cgroup.procs").read().split() for g in groups if g)
    assert result.verdict == "passed", result.stderr
    assert not any(os.path.exists(g) for g in groups if g)


def test_fallback_supervision_without_pidfd():
    """The non-Linux path (no pidfd: poll in slices and reap with WNOHANG), run in a fresh interpreter."""
    script = (
        "import os\ndel os.pidfd_open\n"
        "from humaneval.engine import zygote\nfrom humaneval.engine.limits import Job, Limits\n"
        "z = zygote.Zygote('none')\n"
        "verdicts = [z.run(Job(p, p, Limits(timeout_s=0.5))).verdict for p in ('pass', 'assert 0', 'while 1: pass')]\n"
        "print(verdicts)\n")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=root, timeout=60,
                         env=dict(os.environ, PYTHONPATH=root))
    assert out.stdout.strip() == "['passed', 'failed', 'timeout']", out.stderr


@pytest.mark.parametrize("bare", [True, False])
def test_both_fork_paths_give_seeded_rngs_and_a_fresh_child(bare):
    """fork_sample: the bare libc fork (single-threaded zygote) and os.fork (its fallback) must agree:
    RNGs in the seeded state, nothing carried over from the previous sample (which reseeded). A zygote
    with a second thread (OpenBLAS's, without OPENBLAS_NUM_THREADS=1) falls back to os.fork by itself."""
    script = (
        "import json\nfrom humaneval.engine import zygote\nfrom humaneval.engine.limits import Job, Limits\n"
        "zygote.preload(('numpy',))\nz = zygote.Zygote('none')\n"
        f"z.bare_fork = {bare} and z.bare_fork\n"
        "p = 'import os, random, numpy\\nprint([random.random(), float(numpy.random.rand()), sorted(os.environ)])\\nrandom.seed(5)'\n"
        "rs = [z.run(Job('k', p, Limits(timeout_s=5), capture='last_print')) for _ in range(2)]\n"
        "print(json.dumps([z.bare_fork] + [r.stdout for r in rs]))\n")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=root, OPENBLAS_NUM_THREADS="1")  # as the pool sets: one thread
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=root, timeout=60, env=env)
    used_bare, first, second = json.loads(out.stdout.strip().splitlines()[-1])
    assert used_bare == bare and first == second, out.stderr
    assert first.startswith("[0.8444218515250481, 0.5488135039273248, "), first


def test_root_plan_resolves_links_drops_nested_missing_and_tmp_paths():
    # A checkout in a `mktemp -d` folder under /tmp: samples get a fresh tmpfs there, so such paths must
    # not enter the mount plan (they made the engine refuse in a clean-clone CI run).
    base = tempfile.mkdtemp(prefix="humaneval-plan-", dir="/var/tmp")
    try:
        os.makedirs(f"{base}/real/sub")
        os.symlink("real", f"{base}/link")
        os.symlink(f"{base}/link/sub", f"{base}/deep")
        plan = rootfs.plan([f"{base}/deep", f"{base}/real/sub/x", f"{base}/missing", "/tmp", tempfile.gettempdir()])
        assert plan.binds == (f"{base}/real/sub",)
        assert plan.links == ((f"{base}/deep", f"{base}/link/sub"), (f"{base}/link", "real"))
        usr = rootfs.plan(["/usr/lib", "/usr", "/lib"] if os.path.islink("/lib") else ["/usr/lib", "/usr"])
        assert usr.binds == ("/usr",) and all(link == ("/lib", os.readlink("/lib")) for link in usr.links)
    finally:
        shutil.rmtree(base)


def test_cgroup_discovery_finds_our_own_groups():
    """The paths cgroup.py derives from /proc/self/cgroup and mountinfo are the groups we are in (v1
    pids hierarchy and, where one is mounted, the v2 unified one)."""
    from humaneval.engine import cgroup

    groups = cgroup.own_groups()
    found = 0
    if "pids" in groups and os.path.isdir(cgroup.PIDS_ROOT):
        found += 1
        v1 = os.path.join(cgroup.PIDS_ROOT, groups["pids"].lstrip("/"))
        assert str(os.getpid()) in open(os.path.join(v1, "cgroup.procs")).read().split()
    v2 = cgroup.v2_group_dir(groups.get(""))
    if v2 is not None:
        found += 1
        assert str(os.getpid()) in open(os.path.join(v2, "cgroup.procs")).read().split()
    assert found, f"no cgroup hierarchy found: {groups}"
