"""Hostile programs the engine must contain: one test per category.

After every program: the harness is alive, nothing the sample started is still running, nothing outside
the scratch dir changed (a world-writable sentinel dir, shown read-only through Limits.read_only_paths),
a listening socket on 127.0.0.1 saw no connection, the run ended within timeout + 1 s, no secret of the
caller (a mode-600 file, an environment token) appears in the result, and the verdict is the right one.
Fork bombs, kill(-1) and friends only run after `isolated` has checked, inside the sandbox, that the
PID namespace, the unprivileged uid and the process caps are in force. A missing isolation layer fails
the suite (the engine refuses to start without one); nothing is skipped.
tests/test_engine_settings.py runs this whole file again as an ordinary user, as root in a single-uid
user namespace, and without namespaces at all. It sets HUMANEVAL_TEST_SECRET_FILE / _TOKEN (the caller's
secrets) and HUMANEVAL_TEST_ROWS (every result row is appended there, for it to search).
"""
import ast
import hashlib
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

import pytest

from humaneval.engine import Engine, Job, Limits

TIMEOUT = 1.0  # programs that must time out
FINISHING_TIMEOUT = 5.0  # programs that end by themselves: room for a loaded machine, no cost otherwise
SLACK_S = 2.0  # the whole tree is gone this soon after the deadline (sleepers would take far longer)
MAX_PROCS = 32


SECRET_TOKEN = os.environ.get("HUMANEVAL_TEST_SECRET_TOKEN", "")


@pytest.fixture(scope="module")
def secret_file():
    """The caller's mode-600 secret: in its $HOME under test_engine_settings.py, else outside the allowlist."""
    given = os.environ.get("HUMANEVAL_TEST_SECRET_FILE")
    if given:
        yield given
        return
    folder = tempfile.mkdtemp(prefix="humaneval-secret-", dir="/var/tmp")
    path = os.path.join(folder, "credentials")
    with open(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
        f.write(f"secret-{random.randrange(10 ** 12)}")
    yield path
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def engine(sentinel, listeners):
    # Fails closed: without every isolation layer Engine() raises SandboxUnavailable and the suite errors.
    shown = (sentinel, os.path.dirname(listeners["path"]))
    with Engine(workers=2, preload=("numpy",), limits=Limits(read_only_paths=shown)) as e:
        assert e.sandbox.startswith("namespaces"), e.sandbox
        yield e


@pytest.fixture(scope="module")
def isolated(engine):
    """Checked from inside: own PID ns (pid 2 under a pid 1 we cannot signal; the zygote outside it),
    uid 65534, RLIMIT_NPROC set, network down."""
    program = f"""
import os, resource, socket
assert os.getpid() == 2 and os.getppid() == 0, (os.getpid(), os.getppid())
assert os.getuid() == 65534 and os.geteuid() == 65534
assert resource.getrlimit(resource.RLIMIT_NPROC) == ({MAX_PROCS}, {MAX_PROCS})
assert sorted(os.listdir('/proc')).count('1') == 1 and len([p for p in os.listdir('/proc') if p.isdigit()]) == 2
try:
    socket.create_connection(('127.0.0.1', 9), timeout=0.5)
    raise SystemExit('network reachable')
except OSError as e:
    assert e.errno == 101, e
"""
    (result,) = engine.run([Job("isolation-check", program, Limits(timeout_s=5, max_procs=MAX_PROCS))])
    assert result.verdict == "passed", result
    return True


@pytest.fixture(scope="module")
def sentinel():
    """World-writable on purpose: only the read-only mount (not file permissions) protects it."""
    root = tempfile.mkdtemp(prefix="humaneval-sentinel-", dir="/var/tmp")
    os.chmod(root, 0o777)
    os.makedirs(os.path.join(root, "sub"))
    os.chmod(os.path.join(root, "sub"), 0o777)
    for name in ("precious.txt", "sub/inner.txt"):
        path = os.path.join(root, name)
        with open(path, "w") as f:
            f.write("do not touch " + name)
        os.chmod(path, 0o666)
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def listeners():
    tcp = socket.socket()
    tcp.bind(("127.0.0.1", 0))
    tcp.listen(16)
    tcp.setblocking(False)
    abstract_name = f"\0humaneval-hostile-{os.getpid()}"
    unix = socket.socket(socket.AF_UNIX)
    unix.bind(abstract_name)
    unix.listen(16)
    unix.setblocking(False)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    udp.setblocking(False)
    # A host daemon's socket file, world-writable: the read-only mount alone would not stop connect().
    socket_dir = tempfile.mkdtemp(prefix="humaneval-socket-", dir="/var/tmp")
    os.chmod(socket_dir, 0o755)
    path = os.path.join(socket_dir, "daemon.sock")
    unix_file = socket.socket(socket.AF_UNIX)
    unix_file.bind(path)
    os.chmod(path, 0o777)
    unix_file.listen(16)
    unix_file.setblocking(False)
    yield {"tcp": tcp, "unix": unix, "unix_file": unix_file, "udp": udp, "abstract": abstract_name, "path": path}
    for s in (tcp, unix, unix_file, udp):
        s.close()
    shutil.rmtree(socket_dir, ignore_errors=True)


def pids_cgroup_writable() -> bool:
    """Independently of cgroup.py: v1 pids root writable, or a v2 ancestor with pids delegated to us."""
    if os.access("/sys/fs/cgroup/pids/cgroup.procs", os.W_OK):
        return True
    rel = next((line.split("::", 1)[1].strip() for line in open("/proc/self/cgroup") if line.startswith("0::")), None)
    if rel is None or not os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
        return False
    path = "/sys/fs/cgroup" + rel.rstrip("/")
    while path.startswith("/sys/fs/cgroup"):
        control = os.path.join(path, "cgroup.subtree_control")
        if os.path.exists(control) and "pids" in open(control).read().split() and os.access(path, os.W_OK):
            return True
        path = os.path.dirname(path)
    return False


def check_cgroups(engine) -> None:
    """Not vacuous: the pids layer is claimed exactly where a controller is writable, and a claimed
    group exists and holds the zygote alone (samples are born there)."""
    assert ("pids_cgroup" in engine.sandbox) == pids_cgroup_writable(), engine.sandbox
    for worker in engine.workers:
        assert (worker.cgroup is not None) == ("pids_cgroup" in engine.sandbox)
        if worker.cgroup:
            assert len(open(os.path.join(worker.cgroup, "cgroup.procs")).read().split()) == 1, "sample processes survived"


def log_row(result) -> None:
    path = os.environ.get("HUMANEVAL_TEST_ROWS")
    if path:
        with open(path, "a") as f:
            f.write(json.dumps(result.to_dict()) + "\n")


def snapshot(root: str) -> dict:
    state = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            digest = hashlib.sha256(open(path, "rb").read()).hexdigest() if os.path.isfile(path) else None
            state[os.path.relpath(path, root)] = (st.st_mode, st.st_size, digest)
    return state


def processes_with(token: str) -> list[int]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if token.encode() in f.read():
                    found.append(int(pid))
        except OSError:
            pass
    return found


def nothing_received(listeners) -> bool:
    for kind in ("tcp", "unix", "unix_file"):
        try:
            listeners[kind].accept()
            return False
        except BlockingIOError:
            pass
    try:
        listeners["udp"].recvfrom(100)
        return False
    except BlockingIOError:
        return True


def contain(engine, sentinel, listeners, program, verdict, error_type=None, secret=None, **limits):
    """Run one hostile program and check every containment property; return its result."""
    token = str(random.randrange(10 ** 11, 10 ** 12))  # digits: it doubles as a `sleep` argument
    program = (program.replace("@SENTINEL@", sentinel).replace("@TOKEN@", token)
               .replace("@PORT@", str(listeners["tcp"].getsockname()[1]))
               .replace("@UDP@", str(listeners["udp"].getsockname()[1])).replace("@ABSTRACT@", listeners["abstract"][1:])
               .replace("@SOCKET_FILE@", listeners["path"]))
    before = snapshot(sentinel)
    timeout_s = TIMEOUT if verdict == "timeout" else FINISHING_TIMEOUT
    limits = Limits(**{"timeout_s": timeout_s, "max_procs": MAX_PROCS, "memory_bytes": 512 << 20, **limits})
    t0 = time.monotonic()
    (result,) = engine.run([Job("hostile", program, limits)])
    elapsed = time.monotonic() - t0
    log_row(result)
    row = json.dumps(result.to_dict())
    for needle in filter(None, [SECRET_TOKEN, secret]):
        assert needle not in row, "a secret of the caller reached the sample"
    assert result.verdict == verdict, result
    if error_type is not None:
        assert result.error_type == error_type, result
    assert result.wall_s <= limits.timeout_s + SLACK_S and elapsed <= limits.timeout_s + SLACK_S, (result.wall_s, elapsed)
    assert all(w.proc.poll() is None for w in engine.workers), "a zygote died"
    check_cgroups(engine)
    assert processes_with(token) == [], "a daemon started by the sample survived"
    assert snapshot(sentinel) == before, "a file outside the scratch dir changed"
    assert nothing_received(listeners), "the sample reached a socket on the host"
    (after,) = engine.run([Job("alive", "assert 1 + 1 == 2")])
    assert after.verdict == "passed"
    return result


# --- fork bombs --------------------------------------------------------------------------------------

@pytest.mark.parametrize("bomb", [
    "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass",
    "import posix\nwhile True:\n    try:\n        posix.fork()\n    except OSError:\n        pass",
    "import ctypes\nlibc = ctypes.CDLL(None)\nwhile True:\n    libc.fork()",
], ids=["os.fork", "posix.fork", "ctypes.fork"])
def test_fork_bomb(engine, isolated, sentinel, listeners, bomb):
    contain(engine, sentinel, listeners, bomb, "timeout")


# --- memory ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("bomb", [
    "x = ' ' * (1 << 40)",
    "import numpy as np\nx = np.ones(1 << 38)",
    "chunks = []\nwhile True:\n    chunks.append(bytearray(1 << 20))",
    "import numpy as np\nchunks = []\nwhile True:\n    chunks.append(np.ones(1 << 17))",
], ids=["bulk", "bulk-numpy", "gradual", "gradual-numpy"])
def test_memory_bomb(engine, sentinel, listeners, bomb):
    result = contain(engine, sentinel, listeners, bomb, "out_of_memory", memory_bytes=256 << 20)
    assert result.peak_rss_bytes < (256 << 20) + (200 << 20)


# --- disk --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("program", [
    "with open('fill', 'wb') as f:\n    while True:\n        f.write(b'x' * (1 << 20))",
    "i = 0\nwhile True:\n    open(f'f{i}', 'w').write('x' * 4000)\n    i += 1",
    "with open('@SENTINEL@/fill', 'wb') as f:\n    f.write(b'x')",
    "with open('/dev/shm/fill', 'wb') as f:\n    f.write(b'x')",
], ids=["one-big-file", "many-files", "outside-scratch", "dev-shm"])
def test_filling_the_disk(engine, sentinel, listeners, program):
    result = contain(engine, sentinel, listeners, program, "failed", max_file_bytes=8 << 20)
    assert result.error_type in ("OSError", "PermissionError", "FileNotFoundError"), result  # /dev/shm: not shown


# --- files outside the scratch dir -------------------------------------------------------------------

@pytest.mark.parametrize("attack", [
    "import shutil\nshutil.rmtree('@SENTINEL@')",
    "import posix\nposix.unlink('@SENTINEL@/precious.txt')",
    "open('@SENTINEL@/precious.txt', 'w').write('overwritten')",
    "import os\nos.rename('@SENTINEL@/sub/inner.txt', '@SENTINEL@/moved')",
    "import os\nos.chmod('@SENTINEL@/precious.txt', 0)",
    "import os\nos.truncate('@SENTINEL@/precious.txt', 0)",
    "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n"
    "assert libc.mount(None, b'/', None, 32, None) != 0  # MS_REMOUNT back to read-write\n"
    "open('@SENTINEL@/precious.txt', 'w').write('overwritten')",
], ids=["shutil.rmtree", "posix.unlink", "open-w", "rename", "chmod", "truncate", "remount-rw"])
def test_files_outside_scratch_are_untouchable(engine, sentinel, listeners, attack):
    result = contain(engine, sentinel, listeners, attack, "failed")
    assert result.error_type in ("OSError", "PermissionError"), result


# --- killing the harness -----------------------------------------------------------------------------

def test_kill_process_group(engine, isolated, sentinel, listeners):
    contain(engine, sentinel, listeners, "import os, signal\nos.killpg(0, signal.SIGKILL)", "crashed", "SIGKILL")


def test_kill_parent(engine, isolated, sentinel, listeners):
    # The zygote (the real parent) is outside the PID namespace: getppid() is 0 and it cannot be named.
    # pid 1 is the namespace's init: owned by real root (root mode: EPERM), or, in the user-ns mode,
    # SIGKILL from inside its own namespace is ignored for it. Were it killed, the sample would die too.
    program = ("import os, signal, time\nassert os.getppid() == 0\ntry:\n    os.kill(1, signal.SIGKILL)\n"
               "except PermissionError:\n    pass\ntime.sleep(0.1)\nprint('still here')")
    result = contain(engine, sentinel, listeners, program, "passed")
    assert result.stdout == "still here\n"


@pytest.mark.parametrize("attack", [
    "for sig in (signal.SIGKILL, signal.SIGTERM):\n    try:\n        os.kill(1, sig)\n"
    "    except OSError:\n        pass",
    "for pid in range(1, 5000):\n    if pid != os.getpid():\n        try:\n"
    "            os.kill(pid, signal.SIGKILL)\n        except OSError:\n            pass",
    "try:\n    os.kill(-1, signal.SIGKILL)\nexcept OSError:\n    pass\ntime.sleep(0.1)",
], ids=["parent", "every-pid", "kill(-1)"])
def test_kill_everything_it_can_name(engine, isolated, sentinel, listeners, attack):
    program = "import os, signal, time\n" + attack + "\nprint('still here')"
    result = contain(engine, sentinel, listeners, program, "passed")
    assert result.stdout == "still here\n"  # nothing outside the sample is visible or killable


# --- network -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("attack", [
    "import socket\nsocket.create_connection(('127.0.0.1', @PORT@), timeout=0.5)",
    "import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\ns.sendto(b'hi', ('127.0.0.1', @UDP@))",
    "import socket\ns = socket.socket(socket.AF_UNIX)\ns.connect('\\0@ABSTRACT@')",
    "import socket\ns = socket.socket(socket.AF_UNIX)\ns.connect('@SOCKET_FILE@')",
    "import socket\nsocket.create_connection(('8.8.8.8', 53), timeout=0.5)",
], ids=["tcp-loopback", "udp-loopback", "abstract-unix", "unix-socket-file", "internet"])
def test_network(engine, sentinel, listeners, attack):
    result = contain(engine, sentinel, listeners, attack, "failed")
    assert result.error_type in ("OSError", "PermissionError"), result


# --- system calls that reach the harness or the kernel's shared state ---------------------------------

def test_seccomp_denies_the_ways_to_reach_the_harness(engine, isolated, sentinel, listeners):
    # In the user-ns mode the sample shares the caller's kernel uid: tracing, cross-process memory,
    # namespaces, mounts, bpf and keyrings are refused outright; clone3 looks absent (glibc falls back to
    # clone, whose CLONE_NEW* flags the filter sees), and threads keep working.
    program = """
import ctypes, platform, threading
from humaneval.engine.seccomp import NUMBERS
nr = NUMBERS[platform.machine()]
libc = ctypes.CDLL(None, use_errno=True)
def errno_of(name, *args):
    return ctypes.get_errno() if libc.syscall(nr[name], *[ctypes.c_long(a) for a in args]) < 0 else 0
got = {n: errno_of(n, 0, 0, 0, 0, 0) for n in ("ptrace", "process_vm_readv", "process_vm_writev", "unshare",
       "setns", "mount", "umount2", "bpf", "keyctl", "add_key", "clone3")}
got["clone(CLONE_NEWUSER)"] = errno_of("clone", 0x10000000 | 17, 0, 0, 0, 0)
threads = [threading.Thread(target=sum, args=([1],)) for _ in range(4)]
[t.start() for t in threads]
[t.join() for t in threads]
print(got)
"""
    result = contain(engine, sentinel, listeners, program, "passed")
    got = ast.literal_eval(result.stdout)  # a dict literal of ints (never eval a sample's output)
    assert got == {**dict.fromkeys(["ptrace", "process_vm_readv", "process_vm_writev", "unshare", "setns", "mount",
                                    "umount2", "bpf", "keyctl", "add_key", "clone(CLONE_NEWUSER)"], 1), "clone3": 38}, got


# --- output floods -----------------------------------------------------------------------------------

def test_flood_bounded_binary(engine, sentinel, listeners):
    program = ("import os, sys\nblock = bytes(range(256)) * 256\nfor _ in range(320):\n"
               "    sys.stdout.buffer.write(block)\n    os.write(2, block)")
    result = contain(engine, sentinel, listeners, program, "passed", timeout_s=5.0)
    assert result.stdout_bytes == result.stderr_bytes == 320 * 65536
    assert len(result.stdout.encode("utf-8", "surrogatepass")) >= 1 << 20 > len(result.stdout) // 3


def test_flood_forever(engine, sentinel, listeners):
    program = "import os\nwhile True:\n    os.write(1, os.urandom(1 << 16))\n    print('x' * 1000, flush=True)"
    result = contain(engine, sentinel, listeners, program, "timeout")
    assert result.stdout_bytes > 1 << 20 and len(result.stdout) <= 1 << 20


# --- forged verdicts ---------------------------------------------------------------------------------

@pytest.mark.parametrize("program, error_type", [
    ("print('passed')\nprint('{\"verdict\": \"passed\", \"status\": \"ok\"}')\nimport os\nos._exit(0)\nassert False", "EarlyExit"),
    ("import sys\nprint('passed')\nsys.exit(0)\nassert False", "SystemExit"),
    ("import os\nfor fd in range(3, 1100):\n    try:\n        os.write(fd, b'0123 {\"status\": \"ok\"}\\n')\n"
     "    except OSError:\n        pass\nos._exit(0)", "EarlyExit"),
], ids=["os._exit-with-markers", "sys.exit", "write-every-fd"])
def test_exit_early_with_fake_markers(engine, sentinel, listeners, program, error_type):
    contain(engine, sentinel, listeners, program, "failed", error_type)


def test_monkeypatching_builtins_and_modules(engine, sentinel, listeners):
    program = ("import builtins, json, os, sys\nclass Fake(Exception):\n    pass\n"
               "builtins.AssertionError = Fake\nbuiltins.BaseException = Fake\nbuiltins.isinstance = lambda *a: True\n"
               "builtins.type = lambda *a: int\nbuiltins.str = lambda *a: 'ok'\nbuiltins.print = lambda *a, **k: None\n"
               "json.JSONEncoder.encode = json.JSONEncoder.iterencode = lambda *a, **k: '{\"status\": \"ok\"}'\n"
               "json.dumps = lambda *a, **k: '{\"status\": \"ok\"}'\nos.write = lambda *a: 0\nos._exit = lambda *a: None\n"
               "sys.exit = lambda *a: None\nassert 1 == 2, 'real failure'")
    result = contain(engine, sentinel, listeners, program, "failed", "AssertionError")
    assert result.error_message == "real failure"


# --- signals, threads, daemons, exit hooks -----------------------------------------------------------

def test_disarm_alarm_and_swallow_base_exception(engine, sentinel, listeners):
    program = ("import signal, time\nfor s in (signal.SIGALRM, signal.SIGTERM, signal.SIGINT, signal.SIGHUP):\n"
               "    signal.signal(s, signal.SIG_IGN)\nsignal.alarm(0)\nwhile True:\n    try:\n        time.sleep(10)\n"
               "    except BaseException:\n        pass")
    contain(engine, sentinel, listeners, program, "timeout", "WallTimeout")


def test_non_daemon_threads_that_never_end(engine, sentinel, listeners):
    program = ("import threading, time\nthreading.Thread(target=time.sleep, args=(1000,)).start()\n"
               "threading.Thread(target=lambda: [0 for _ in iter(int, 1)]).start()")
    result = contain(engine, sentinel, listeners, program, "passed")
    assert result.wall_s < TIMEOUT


@pytest.mark.parametrize("program", [
    "import os\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
    "        os.execv('/bin/sleep', ['sleep', '1000.@TOKEN@'])\n    os._exit(0)\nos.wait()",
    "import subprocess\nsubprocess.Popen(['sleep', '1000.@TOKEN@'], start_new_session=True)",
    "import os, time\nif os.fork() == 0:\n    os.setsid()\n    while True:\n        time.sleep(1)",
], ids=["double-fork-setsid", "popen-new-session", "python-daemon"])
def test_orphan_daemons(engine, isolated, sentinel, listeners, program):
    result = contain(engine, sentinel, listeners, program, "passed")
    assert result.wall_s < TIMEOUT


def test_infinite_atexit_handlers(engine, sentinel, listeners):
    program = ("import atexit, time\ndef again():\n    atexit.register(again)\n    while True:\n        time.sleep(1)\n"
               "atexit.register(again)")
    result = contain(engine, sentinel, listeners, program, "passed")
    assert result.wall_s < TIMEOUT


# --- crashes -----------------------------------------------------------------------------------------

def test_segfault_via_ctypes(engine, sentinel, listeners):
    contain(engine, sentinel, listeners, "import ctypes\nctypes.memset(0, 0, 1)", "crashed", "SIGSEGV")


def test_recursion_limit_crash(engine, sentinel, listeners):
    # Through a C call (map): 3.11 runs pure-Python recursion without growing the C stack.
    program = "import sys\nsys.setrecursionlimit(10 ** 8)\ndef f(n):\n    return list(map(f, [n + 1]))\nf(0)"
    contain(engine, sentinel, listeners, program, "crashed", "SIGSEGV")


@pytest.mark.parametrize("first", [0, 3])
def test_closing_every_fd(engine, sentinel, listeners, first):
    contain(engine, sentinel, listeners, f"import os\nos.closerange({first}, 1 << 16)", "failed", "EarlyExit")


# --- each process cap on its own (bounded forks: harmless even if a layer were missing) ----------------

BOUNDED_FORKS = """
import os, time
n = 0
for _ in range(200):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        time.sleep(30)
        os._exit(0)
    n += 1
print(n)
"""


def test_pids_cgroup_holds_the_sample(engine, isolated, sentinel, listeners):
    """Where the pids layer is claimed (check_cgroups: exactly where one is writable), its group counts
    and caps the whole tree; where it is not, RLIMIT_NPROC gives the same cap."""
    program = BOUNDED_FORKS + "\ntime.sleep(0.5)"
    seen = {}

    def watch():  # the highest count each group reached while the sample ran (polled: the cores are busy)
        end = time.monotonic() + 2.0
        while time.monotonic() < end:
            for w in engine.workers:
                if w.cgroup:
                    now = (open(f"{w.cgroup}/pids.max").read().strip(), int(open(f"{w.cgroup}/pids.current").read()))
                    seen[w.proc.pid] = max(seen.get(w.proc.pid, now), now, key=lambda v: v[1])
            time.sleep(0.01)

    watcher = threading.Thread(target=watch)
    watcher.start()
    result = contain(engine, sentinel, listeners, program, "passed", max_procs=12)
    watcher.join()
    assert result.stdout == "11\n"  # the sample + 11 children = max_procs
    if "pids_cgroup" in engine.sandbox:
        # The group of the zygote that ran it counted the whole tree, and capped it at max_procs + zygote + init.
        assert (str(12 + 2), 12 + 2) in seen.values(), seen
    else:
        assert seen == {} and not pids_cgroup_writable()


def test_rlimit_nproc_alone_caps_the_sample(engine):  # engine: only where namespaces work
    """Without the pids cgroup (as where it is not writable), RLIMIT_NPROC in the per-sample user
    namespace still caps the tree, and only this sample's processes count against it."""
    script = (
        "from humaneval.engine import cgroup, isolation, namespaces, zygote\nfrom humaneval.engine.limits import Job, Limits\n"
        "userns = not isolation.real_root()\nif userns:\n    namespaces.enter_user_namespace_and_pid1(())\n"
        "zygote.preload(())\nz = zygote.Zygote('namespaces', userns)\n"
        "if z.ns.group:\n    cgroup.leave_and_remove(z.ns.group)\n    z.ns.group = None\n"
        "assert z.sandbox == 'namespaces' + '+userns' * userns, z.sandbox\n"
        f"r = z.run(Job('k', {BOUNDED_FORKS!r}, Limits(timeout_s=5, max_procs=10)))\n"
        "print(r.verdict, r.stdout.strip())\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd="/", timeout=60)
    assert out.stdout.strip() == "passed 9", out.stderr


# --- the caller's secrets ----------------------------------------------------------------------------

def test_secrets_of_the_caller_are_out_of_reach(engine, isolated, sentinel, listeners, secret_file):
    """The caller's mode-600 file, its environment token and its processes' /proc: a program that looks
    everywhere it can finds none of them (and prints what it finds, so the row would show a leak)."""
    program = f"""
import glob, os
found = [open('/proc/self/environ', 'rb').read().decode('latin-1'), repr(dict(os.environ))]
for path in [{secret_file!r}] + glob.glob('/proc/*/environ') + glob.glob('/proc/*/cmdline') + glob.glob('/proc/1/root/*'):
    try:
        found.append(path + ': ' + open(path, 'rb').read(4096).decode('latin-1'))
    except OSError as e:
        found.append(path + ': ' + type(e).__name__)
print(sorted(p for p in os.listdir('/proc') if p.isdigit()))
print(chr(10).join(found))
"""
    secret = open(secret_file).read()
    result = contain(engine, sentinel, listeners, program, "passed", secret=secret)
    assert result.stdout.startswith("['1', '2']\n"), result.stdout[:200]  # only this sample's namespace
    assert f"{secret_file}: FileNotFoundError" in result.stdout  # not even its directory is shown
    assert "pytest" not in result.stdout and os.path.basename(secret_file) in result.stdout
