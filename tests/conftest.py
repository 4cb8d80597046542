import atexit
import os
import shutil
import tempfile

# Tiny models: XLA:CPU compile time dominates the suite, run time does not. Skipping LLVM's expensive
# optimisation passes cuts compile CPU ~40% (train-step tests: 107 s -> 65 s). Set CODELM_TEST_XLA_OPT=1
# to test with the default optimisation level instead.
FAST_COMPILE_FLAGS = "" if os.environ.get("CODELM_TEST_XLA_OPT") == "1" else (
    "--xla_backend_optimization_level=0 --xla_llvm_disable_expensive_passes=true")
# Sharding tests need 8 devices; this must happen before jax is imported anywhere.
os.environ["XLA_FLAGS"] = " ".join(
    [os.environ.get("XLA_FLAGS", ""), FAST_COMPILE_FLAGS, "--xla_force_host_platform_device_count=8"]).strip()
os.environ.setdefault("JAX_PLATFORMS", "cpu")

# Persistent XLA compilation cache, fresh for each test run and inherited by the training subprocesses
# (tests pass os.environ on): a killed-and-rerun or in-process-then-subprocess run compiles once.
# Same HLO + same compile options -> the same executable, so results are bit-identical either way.
if "JAX_COMPILATION_CACHE_DIR" not in os.environ:
    _cache_dir = tempfile.mkdtemp(prefix="jax-test-cache-")
    atexit.register(shutil.rmtree, _cache_dir, ignore_errors=True)
    os.environ["JAX_COMPILATION_CACHE_DIR"] = _cache_dir
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "-1")

import pathlib

import pytest

SHARED_DATA = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> pathlib.Path:
    """../shared/data, or $CODELM_SHARED_DATA; tests that need benchmark data read it from here."""
    path = pathlib.Path(os.environ.get("CODELM_SHARED_DATA", SHARED_DATA))
    if not path.is_dir():
        pytest.fail(f"benchmark data directory not found: {path} (set CODELM_SHARED_DATA)")
    return path
