"""Multi-host setup: jax.distributed.initialize from the config, or the TPU/SLURM auto-detection.

Must run before any other jax call touches devices. On CPU, cross-process collectives go through gloo
(jax_cpu_collectives_implementation), and `local_device_count` fakes several devices per process.
"""
from __future__ import annotations

from jaxformer.train.config import DistributedConfig


def initialize(cfg: DistributedConfig) -> bool:
    """Start the distributed runtime if configured; returns True if it did."""
    import jax

    if cfg.local_device_count is not None:
        jax.config.update("jax_num_cpu_devices", cfg.local_device_count)
    if cfg.coordinator_address is not None:
        jax.config.update("jax_cpu_collectives_implementation", "gloo")  # CPU cross-process all-reduce
        jax.distributed.initialize(coordinator_address=cfg.coordinator_address,
                                   num_processes=cfg.num_processes, process_id=cfg.process_id)
        return True
    if cfg.auto:
        jax.distributed.initialize()  # cluster auto-detect: TPU pod metadata, SLURM env, ...
        return True
    return False
