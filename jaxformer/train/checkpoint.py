"""Orbax checkpoints of the train state with exact resume.

Layout: <out_dir>/checkpoints/<step>/{params, opt, meta}. `meta` (JSON) holds the step, the full
TrainConfig, the data position and the RNG seed: batches are a pure function of the step (jaxformer.data
contract), so the step is the whole data position. Orbax writes each step to a temporary directory and
renames it when complete, so a run killed mid-save leaves no half step behind; a finalized step that
still fails to restore (files lost or truncated) is skipped with a warning in favour of the previous one.
Restoring takes the *target* shardings, so a checkpoint loads onto any mesh / device count.
"""
from __future__ import annotations

import pathlib
import shutil
import warnings

import jax
import orbax.checkpoint as ocp

ITEMS = ("params", "opt", "meta")
_RUNTIME_MODEL_KEYS = ("dtype", "remat", "scan_layers")  # may change between restarts


def manager(directory: str | pathlib.Path, keep: int = 3, async_save: bool = True,
            read_only: bool = False) -> ocp.CheckpointManager:
    """The caller decides when to save (loop.py: every run.checkpoint_every steps and at the end)."""
    options = ocp.CheckpointManagerOptions(max_to_keep=keep, create=not read_only,
                                           cleanup_tmp_directories=not read_only,  # leftovers of killed saves
                                           enable_async_checkpointing=async_save, read_only=read_only)
    return ocp.CheckpointManager(pathlib.Path(directory).absolute(), options=options, item_names=ITEMS)


def save(mngr: ocp.CheckpointManager, state: dict, meta: dict) -> bool:
    step = int(meta["step"])
    return mngr.save(step, force=True, args=ocp.args.Composite(
        params=ocp.args.StandardSave(state["params"]), opt=ocp.args.StandardSave(state["opt"]),
        meta=ocp.args.JsonSave(meta)))


def _restore_step(mngr, step: int, abstract_state: dict, with_opt: bool):
    items = {"params": ocp.args.StandardRestore(abstract_state["params"]), "meta": ocp.args.JsonRestore()}
    if with_opt:
        items["opt"] = ocp.args.StandardRestore(abstract_state["opt"])
    restored = mngr.restore(step, args=ocp.args.Composite(**items))
    if int(restored["meta"]["step"]) != step:
        raise ValueError(f"checkpoint {step}: meta says step {restored['meta']['step']}")
    return restored


def restore_latest(mngr: ocp.CheckpointManager, abstract_state: dict, with_opt: bool = True,
                   quarantine: pathlib.Path | None = None, expect_model: dict | None = None):
    """(state-or-params, meta) of the newest checkpoint that restores, or (None, None) if there is none.

    A broken step is moved to `quarantine` (if given) so the run can save that step number again.
    `expect_model` (a ModelConfig dict) turns a checkpoint of a different model into a clear error."""
    for step in sorted(mngr.all_steps(), reverse=True):
        try:
            meta = mngr.restore(step, args=ocp.args.Composite(meta=ocp.args.JsonRestore()))["meta"]
        except Exception:  # noqa: BLE001 -- unreadable meta: handled as corrupt below
            meta = None
        if expect_model is not None and meta is not None:
            saved = {k: v for k, v in meta["config"]["model"].items() if k not in _RUNTIME_MODEL_KEYS}
            wanted = {k: v for k, v in expect_model.items() if k not in _RUNTIME_MODEL_KEYS}
            if saved != wanted:
                diff = sorted(k for k in wanted if saved.get(k) != wanted[k])
                raise ValueError(f"{mngr.directory}: checkpoint step {step} is of a different model "
                                 f"(model.{diff[0] if diff else '?'} differs); use a new run.out_dir")
        try:
            restored = _restore_step(mngr, step, abstract_state, with_opt)
        except Exception as err:  # noqa: BLE001 -- any failure means "not a usable checkpoint"
            warnings.warn(f"checkpoint step {step} in {mngr.directory} is incomplete or corrupt "
                          f"({type(err).__name__}: {str(err)[:200]}); falling back to an earlier one")
            if quarantine is not None and jax.process_index() == 0:
                quarantine.mkdir(parents=True, exist_ok=True)
                target = quarantine / str(step)
                shutil.rmtree(target, ignore_errors=True)
                shutil.move(str(pathlib.Path(mngr.directory) / str(step)), target)
            if quarantine is not None:
                if jax.process_count() > 1:  # everyone waits for process 0's move before re-listing
                    from jax.experimental import multihost_utils
                    multihost_utils.sync_global_devices(f"quarantine-{step}")
                mngr.reload()
            continue
        meta = restored["meta"]
        if not with_opt:
            return restored["params"], meta
        state = {"params": restored["params"], "opt": restored["opt"],
                 "step": jax.device_put(jax.numpy.int32(step), abstract_state["step"].sharding)}
        return state, meta
    return None, None


def checkpoint_dir(path: str | pathlib.Path) -> pathlib.Path:
    """A run's out_dir or its checkpoints/ directory -> the checkpoints directory."""
    path = pathlib.Path(path)
    return path / "checkpoints" if (path / "checkpoints").is_dir() else path
