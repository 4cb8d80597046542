"""Running the engine as someone else, from root: the wrappers and a world-readable venv (tests, benchmarks).

    python -m humaneval.engine.unprivileged /var/tmp/he-venv     # build the venv, print the commands

On machines whose interpreter lives under /root (mode 700) another uid cannot even start it. build_venv
makes a venv from a world-readable python3.X of the same minor version (same ABI as the installed wheels),
copies into it the installed distributions named (and their requirements) plus this checkout's humaneval
package, under a world-readable folder. Not under /tmp: every sample's scratch tmpfs covers /tmp.
"""
from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import stat
import subprocess
import sys

NOBODY = 65534
DROP = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
PROTECT = ["-p", "-f", "--mount-proc", "--kill-child"]  # own PID namespace, killed with the wrapper
ORDINARY_USER = DROP + ["unshare", "-U", "--map-user=1000", "--map-group=1000"] + PROTECT
ROOTLESS_CONTAINER = DROP + ["unshare", "-U", "-r"] + PROTECT
PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # humaneval/


def world_usable(path: str) -> bool:
    """Every ancestor searchable and the file itself readable and executable by "others"."""
    path = os.path.realpath(path)
    parts = path.split("/")
    dirs = ["/".join(parts[:i]) or "/" for i in range(1, len(parts))]
    wanted = stat.S_IROTH | stat.S_IXOTH
    return all(os.stat(d).st_mode & stat.S_IXOTH for d in dirs) and os.stat(path).st_mode & wanted == wanted


def base_interpreter() -> str:
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    candidates = (getattr(sys, "_base_executable", sys.executable), f"/usr/bin/{version}", f"/usr/local/bin/{version}")
    for candidate in candidates:
        if candidate and os.path.exists(candidate) and world_usable(candidate):
            return candidate
    raise RuntimeError(f"no world-readable {version} (tried {', '.join(candidates)}); install one "
                       f"(e.g. apt-get install {version}-venv) to run the engine as another user")


def requirement_closure(names) -> list[importlib.metadata.Distribution]:
    from packaging.requirements import Requirement

    seen, todo, dists = set(), list(names), []
    while todo:
        name = todo.pop()
        key = re.sub(r"[-_.]+", "-", name).lower()
        if key in seen:
            continue
        seen.add(key)
        dist = importlib.metadata.distribution(name)
        dists.append(dist)
        for spec in dist.requires or []:
            req = Requirement(spec)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    return dists


def copy_world_readable(src: str, dst: str) -> None:
    """A hard link where the file is world-readable already (fast to make and to remove), else a copy."""
    os.makedirs(os.path.dirname(dst), mode=0o755, exist_ok=True)
    mode = os.stat(src).st_mode
    if mode & stat.S_IROTH and (mode & stat.S_IXOTH or not mode & stat.S_IXUSR):
        try:
            os.link(src, dst)
            return
        except OSError:  # another filesystem, or protected_hardlinks
            pass
    shutil.copyfile(src, dst)
    os.chmod(dst, 0o755 if mode & stat.S_IXUSR else 0o644)


def build_venv(base: str, distributions=("numpy",), files=()) -> str:
    """The venv's python. base: an existing folder (made world-readable); files: (source, path under
    base) copied too, e.g. a test file or a script the other uid runs."""
    os.chmod(base, 0o755)
    env_dir = os.path.join(base, "venv")
    subprocess.run([base_interpreter(), "-m", "venv", "--without-pip", env_dir], check=True, capture_output=True)
    python = os.path.join(env_dir, "bin", "python")
    site_dir = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                              check=True, capture_output=True, text=True).stdout.strip()
    for dist in requirement_closure(distributions):
        for file in dist.files or []:
            source = str(dist.locate_file(file))
            if os.path.isfile(source) and not file.parts[0].startswith(".."):
                copy_world_readable(source, os.path.join(site_dir, str(file)))
    checkout = os.path.dirname(PACKAGE_DIR)
    for folder, _, names in os.walk(PACKAGE_DIR):
        for name in names:
            if name.endswith((".py", ".md")):
                source = os.path.join(folder, name)
                copy_world_readable(source, os.path.join(site_dir, os.path.relpath(source, checkout)))
    for source, path in files:
        copy_world_readable(source, os.path.join(base, path))
    for folder, dirs, _ in os.walk(base):
        for name in dirs:
            os.chmod(os.path.join(folder, name), 0o755)
    return python


if __name__ == "__main__":
    target = sys.argv[1] if len(sys.argv) > 1 else "/var/tmp/humaneval-unprivileged"
    os.makedirs(target, exist_ok=True)
    py = build_venv(target, ("numpy", "pytest"))
    print(f"venv: {py}\nas an ordinary user:   {' '.join(ORDINARY_USER)} {py} ...\n"
          f"as rootless-container root: {' '.join(ROOTLESS_CONTAINER)} {py} ...")
