"""What runs in the sandboxed process around the model's program.

The verdict travels on a private pipe (not stdout), as one line "<nonce> <json>", written only after the
program has finished. os._exit()/sys.exit() in the program, a killed process or a closed pipe all mean
no report, which the zygote treats as a failure. Everything the driver needs after the program ran is
bound here, before the program can monkey-patch builtins, os or json.
"""
from __future__ import annotations

import builtins
import json
import linecache
import mmap
import os
import random
import sys
import traceback
import types

from humaneval.engine import values

_BaseException, _SystemExit, _MemoryError = BaseException, SystemExit, MemoryError
_isinstance, _type, _str, _len = isinstance, type, str, len
_write, _exit, _getpid = os.write, os._exit, os.getpid
_encode_json = json.JSONEncoder(ensure_ascii=True, allow_nan=False).encode
if json.encoder.c_make_encoder is not None:
    # The C encoder, built now, does not go through JSONEncoder methods a program could replace later.
    _c_encoder = json.encoder.c_make_encoder(None, None, json.encoder.encode_basestring_ascii, None, ": ", ", ",
                                             False, False, False)
    _encode_json = lambda obj, _enc=_c_encoder, _join="".join: _join(_enc(obj, 0))
_encode_value = values.encode_value
_format_exception = traceback.format_exception  # not print_exception: that goes through (capturing) print()
MAX_MESSAGE_CHARS = 2000
PROGRAM_NAME = "<program>"


def _send(fd: int, nonce: str, report: dict) -> None:
    try:
        line = nonce + " " + _encode_json(report) + "\n"
    except _BaseException:  # a sabotaged encoder or an unencodable message: still report, minimally
        line = nonce + ' {"status": "exception", "error_type": "ReportError", "message": "report could not be encoded"}\n'
    data = line.encode("ascii")
    while data:
        data = data[_write(fd, data):]


def _describe(exc) -> tuple[str, str]:
    try:
        name = _type(exc).__name__
        message = _str(exc)
    except _BaseException:
        return "UnprintableException", "<str() of the exception failed>"
    if _len(message) > MAX_MESSAGE_CHARS:
        message = message[:MAX_MESSAGE_CHARS] + "..."
    return name, message


def seed_rngs() -> None:
    # Unseeded randomness would otherwise follow the zygote's state: fix it so verdicts repeat. The zygote
    # seeds once and never draws, so a bare fork (zygote.fork_sample) hands every child this state as is.
    random.seed(0)
    np_random = sys.modules.get("numpy.random")  # preloaded with numpy; never imported here
    if np_random is not None:
        np_random.seed(0)


def run(program: str, capture: str, nonce: str, result_fd: int, seeded: bool = False) -> None:
    """Run program as __main__, report on result_fd, then _exit (no atexit handlers, no thread joins).
    seeded: the RNGs already hold seed_rngs()'s state (os.fork's at-fork hook would have reseeded random)."""
    stdout, stderr = sys.stdout, sys.stderr
    driver_pid = _getpid()
    main = types.ModuleType("__main__")
    main.__dict__["__builtins__"] = builtins
    sys.modules["__main__"] = main
    sys.argv = ["program.py"]
    linecache.cache[PROGRAM_NAME] = (_len(program), None, program.splitlines(True), PROGRAM_NAME)
    if not seeded:
        seed_rngs()
    last = []
    if capture == "last_print":
        real_print = builtins.print

        def print(*args, **kwargs):  # reference MTPB semantics: keep the first argument of the last call
            if args:
                last[:] = [args[0]]
            return real_print(*args, **kwargs)

        builtins.print = print
    reserve = mmap.mmap(-1, 1 << 20)  # address space given back on MemoryError so the report can be built
    try:
        exec(compile(program, PROGRAM_NAME, "exec"), main.__dict__)
        report = {"status": "ok"}
    except _BaseException as exc:
        reserve.close()
        if _isinstance(exc, _MemoryError):
            main.__dict__.clear()  # drop what the program holds so the report can be built
            report = {"status": "oom"}
        else:
            report = {"status": "exception"}
            if not _isinstance(exc, _SystemExit):
                try:
                    stderr.write("".join(_format_exception(_type(exc), exc, exc.__traceback__.tb_next)))  # skip our frame
                except _BaseException:
                    pass
        report["error_type"], report["message"] = _describe(exc)
        del exc
    if _getpid() != driver_pid:  # a forked copy of the program finished: only the original may report
        _exit(0)
    if capture == "last_print":
        try:
            report["observed"] = _encode_value(last[0]) if last else None
        except _BaseException as exc:
            report["observed"] = {"t": "truncated", "type": "?", "v": "encoding failed: " + _describe(exc)[0]}
    for stream in (stdout, stderr):
        try:
            stream.flush()
        except _BaseException:
            pass
    try:
        _send(result_fd, nonce, report)
    finally:
        _exit(0)
