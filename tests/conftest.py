import os

# Sharding tests need 8 devices; this must happen before jax is imported anywhere.
os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=8").strip()
os.environ.setdefault("JAX_PLATFORMS", "cpu")

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
