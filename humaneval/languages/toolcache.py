"""Warm, trusted build products the sandboxed compilers reuse: the C++ prelude's precompiled header,
Go's compiled testify archives, Rust's compiled rand/regex/md5 crates.

Built once, OUTSIDE the sandbox, from trusted inputs only (our own prelude text, Debian's packaged
sources), never from a sample. Each lives in a directory named after a hash of its recipe and the
toolchain's version, so a new compiler or recipe builds a new one; the build goes to a temp dir renamed
into place under a lock, so concurrent evaluators never see half a cache. The root must be readable by
the sandbox's uid and outside /tmp and /root (the sandbox sees neither): $HUMANEVAL_TOOLCHAIN_CACHE, else
/var/cache/humaneval-x when writable (root), else ~/.cache/humaneval-x.
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import pathlib
import shutil
import stat
import subprocess
import tempfile


class ToolCacheError(OSError):
    pass


def cache_root() -> pathlib.Path:
    explicit = os.environ.get("HUMANEVAL_TOOLCHAIN_CACHE")
    if explicit:
        root = pathlib.Path(explicit)
    elif os.access("/var/cache", os.W_OK):
        root = pathlib.Path("/var/cache/humaneval-x")
    else:
        root = pathlib.Path.home() / ".cache" / "humaneval-x"
    root.mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o755)
    check_visible(root)
    return root


def check_visible(path: pathlib.Path) -> None:
    """The sandbox runs as another uid with /tmp replaced and /root hidden: the cache must be reachable."""
    resolved = path.resolve()
    if resolved == pathlib.Path("/tmp") or pathlib.Path("/tmp") in resolved.parents or \
            pathlib.Path("/root") in resolved.parents:
        raise ToolCacheError(f"toolchain cache {resolved} is under /tmp or /root, which the sandbox cannot see; "
                             f"set HUMANEVAL_TOOLCHAIN_CACHE to a world-readable directory elsewhere")
    for ancestor in [resolved, *resolved.parents]:
        if not os.stat(ancestor).st_mode & stat.S_IXOTH:
            raise ToolCacheError(f"toolchain cache {resolved}: {ancestor} is not searchable by other users, so the "
                                 f"sandbox cannot read it; set HUMANEVAL_TOOLCHAIN_CACHE elsewhere")


def tool_version(argv) -> str:
    return subprocess.run(argv, capture_output=True, text=True, check=True).stdout.strip()


def cached_dir(name: str, recipe: str, build) -> pathlib.Path:
    """root/<name>-<hash of recipe>: build(tmp_dir) fills it the first time; later calls just return it."""
    root = cache_root()
    target = root / f"{name}-{hashlib.sha256(recipe.encode()).hexdigest()[:16]}"
    if target.is_dir():
        return target
    with open(root / f".{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if target.is_dir():
            return target
        tmp = pathlib.Path(tempfile.mkdtemp(prefix=f".{name}-", dir=root))
        try:
            build(tmp)
            (tmp / "RECIPE").write_text(recipe)
            for dirpath, dirnames, filenames in os.walk(tmp):
                os.chmod(dirpath, 0o755)
                for filename in filenames:
                    path = os.path.join(dirpath, filename)
                    os.chmod(path, os.stat(path).st_mode | 0o444)
            os.rename(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return target


def run_trusted(argv, cwd, env=None, what="toolchain cache build") -> None:
    result = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise ToolCacheError(f"{what} failed: {' '.join(map(str, argv))}\n{result.stderr[-3000:]}")


def store_artifact(data: bytes, mode: int = 0o755) -> pathlib.Path:
    """A trusted copy of a batch compile's product (e.g. Rust's test binary) where every sandbox can read
    it: root/artifacts/<sha256>, content-addressed, so a resumed run finds the same path."""
    directory = cache_root() / "artifacts"
    directory.mkdir(exist_ok=True)
    os.chmod(directory, 0o755)
    target = directory / hashlib.sha256(data).hexdigest()
    if not target.is_file():
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".artifact-")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, mode)
        os.rename(tmp, target)
    return target
