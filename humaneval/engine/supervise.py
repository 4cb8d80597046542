"""The zygote's side of one run: read the child's pipes concurrently, enforce the wall clock, build the result.

Nothing here trusts the child: output is capped per stream (the rest is counted and dropped), bytes are
decoded with errors="replace", and the verdict comes from the nonce-tagged report on the private pipe,
never from stdout.
"""
from __future__ import annotations

import json
import os
import select
import signal
import time

from humaneval.engine.verdicts import ExecResult, classify

MAX_REPORT_BYTES = 32 << 20
READ_CHUNK = 1 << 16
DRAIN_S = 0.5  # after the tree is dead every writer is gone and EOF comes at once; this bounds the odd case


def supervise(pid: int, init_pid: int | None, t0: float, timeout_s: float, out_r: int, err_r: int, res_r: int,
              cap: int) -> dict:
    """Wait for the sample (pid) to exit or the deadline to pass, reading all pipes meanwhile; then kill
    what is left: the PID namespace's init (init_pid) takes every process of the sample with it, or, in
    in sandbox "none", the sample's process group."""
    streams = {out_r: bytearray(), err_r: bytearray(), res_r: bytearray()}
    caps = {out_r: cap, err_r: cap, res_r: MAX_REPORT_BYTES}
    totals = dict.fromkeys(streams, 0)
    poller = select.poll()
    for fd in streams:
        poller.register(fd, select.POLLIN)
    # A pidfd makes the child's exit one more poll event; without one (not Linux) poll in short slices.
    pidfd = os.pidfd_open(pid) if hasattr(os, "pidfd_open") else None
    if pidfd is not None:
        poller.register(pidfd, select.POLLIN)
    open_fds = set(streams)
    deadline = t0 + timeout_s
    timed_out = False
    reaped = report_cutoff = None

    def read(fd):
        chunk = os.read(fd, READ_CHUNK)
        if not chunk:
            poller.unregister(fd)
            open_fds.discard(fd)
            return
        totals[fd] += len(chunk)
        room = caps[fd] - len(streams[fd])
        if room > 0:
            streams[fd] += chunk[:room]

    try:
        exited = False
        while not exited:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                timed_out = True
                report_cutoff = len(streams[res_r])  # only a report written before the deadline counts
                break
            slice_ms = int(remaining * 1000) + 1 if pidfd is not None else min(int(remaining * 1000) + 1, 10)
            for fd, _ in poller.poll(slice_ms):
                if fd == pidfd:
                    exited = True
                else:
                    read(fd)
            if pidfd is None:
                reaped = os.wait4(pid, os.WNOHANG)
                exited = reaped[0] != 0
        kill_tree(pid, init_pid)
        # Reap the sample before its init: an init's exit waits until every process of its namespace is reaped.
        _, status, usage = reaped if reaped and reaped[0] else os.wait4(pid, 0)
        wall_s = time.monotonic() - t0
        if init_pid is not None:
            os.waitpid(init_pid, 0)
        end = time.monotonic() + DRAIN_S
        while open_fds and time.monotonic() < end:
            for fd, _ in poller.poll(50):
                if fd != pidfd:
                    read(fd)
    finally:
        if pidfd is not None:
            os.close(pidfd)
    report = bytes(streams[res_r] if report_cutoff is None else streams[res_r][:report_cutoff])
    return {"timed_out": timed_out, "status": status, "usage": usage, "report": report,
            "stdout": bytes(streams[out_r]), "stderr": bytes(streams[err_r]),
            "stdout_bytes": totals[out_r], "stderr_bytes": totals[err_r], "wall_s": wall_s}


def kill_tree(pid: int, init_pid: int | None) -> None:
    try:
        if init_pid is not None:
            os.kill(init_pid, signal.SIGKILL)
        else:
            os.killpg(pid, signal.SIGKILL)  # sandbox "none": setsid'd escapees survive this (documented)
    except ProcessLookupError:
        pass


def parse_report(raw: bytes, nonce: str) -> dict | None:
    """The last complete line carrying this run's nonce (a partial last line means the writer died)."""
    prefix = nonce.encode() + b" "
    for line in reversed(raw.split(b"\n")[:-1]):
        if line.startswith(prefix):
            try:
                report = json.loads(line[len(prefix):])
            except ValueError:
                return None
            return report if isinstance(report, dict) else None
    return None


def build_result(job, outcome: dict, nonce: str, sandbox: str) -> ExecResult:
    report = parse_report(outcome["report"], nonce)
    code = os.waitstatus_to_exitcode(outcome["status"])
    exit_code, sig = (code, None) if code >= 0 else (None, -code)
    usage = outcome["usage"]
    cpu_s = usage.ru_utime + usage.ru_stime
    verdict, error_type, message = classify(report, outcome["timed_out"], exit_code, sig, cpu_s,
                                            job.limits.cpu_seconds)
    return ExecResult(
        key=job.key, verdict=verdict, error_type=error_type, error_message=message,
        observed=report.get("observed") if report else None,
        wall_s=round(outcome["wall_s"], 6), cpu_s=round(cpu_s, 6), peak_rss_bytes=usage.ru_maxrss * 1024,
        stdout=outcome["stdout"].decode("utf-8", errors="replace"),
        stderr=outcome["stderr"].decode("utf-8", errors="replace"),
        stdout_bytes=outcome["stdout_bytes"], stderr_bytes=outcome["stderr_bytes"],
        exit_code=exit_code, signal=sig, sandbox=sandbox)
