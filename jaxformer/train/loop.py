"""The training loop: resume-or-init, jitted steps, JSONL metrics, eval, checkpoints, HF export.

    train(cfg) -> summary dict

Resumable: rerunning the same command continues from the newest complete checkpoint in
run.out_dir/checkpoints; batches are a pure function of the step, so the continued loss curve is
bit-identical to an uninterrupted run. metrics.jsonl is cut back to the resumed step first.
Staged training / fine-tuning: run.init_from names a previous run (its latest params, fresh optimizer,
step 0, this config's data) or an HF model directory.
"""
from __future__ import annotations

import math
import pathlib
import time

from jaxformer.fileio import complete_lines, jsonl_line, parse_jsonl, write_jsonl_atomic
from jaxformer.train.config import DataConfig, TrainConfig


def open_dataset(data: DataConfig, model_vocab: int, seed: int, split: str):
    """An object with batch(step, global_batch, process_index, process_count) -> {tokens, targets, loss_mask}."""
    if data.kind == "synthetic":
        from jaxformer.train.synthetic import SyntheticDataset
        return SyntheticDataset(model_vocab, data.seq_len, seed=seed, split=split)
    from jaxformer.data.dataset import open_dataset as open_prepared

    try:
        if split == "train":
            ds = open_prepared(data.path, seq_len=data.seq_len, seed=seed, split="train")
        else:  # held-out loss: the first eval_batches batches of the val split, unshuffled (same every eval)
            ds = open_prepared(data.eval_path or data.path, seq_len=data.seq_len, seed=seed, split="val", shuffle=False)
    except ValueError as err:
        raise ValueError(f"data.{'path' if split == 'train' else 'eval_path'}: {err}") from None
    for index in [getattr(ds, "index", None)] + [getattr(d, "index", None) for d in getattr(ds, "datasets", [])]:
        if index and index.get("vocab_size", 0) > model_vocab:
            raise ValueError(f"data.path: tokenized with vocab_size {index['vocab_size']} > model.vocab_size {model_vocab}")
    return ds


def process_rows(sharding, global_batch: int, seq_len: int) -> tuple[int, int]:
    """(index, count) such that this process's devices hold exactly rows [index*n, (index+1)*n), n = B/count."""
    slices = [idx[0] for idx in sharding.addressable_devices_indices_map((global_batch, seq_len)).values()]
    start = min(s.start or 0 for s in slices)
    stop = max(global_batch if s.stop is None else s.stop for s in slices)
    n = stop - start
    if global_batch % n or start % n:
        raise ValueError(f"this process's batch rows [{start}, {stop}) are not an even block of {global_batch}")
    return start // n, global_batch // n


def measure_peak_flops(dtype: str, size: int = 2048, repeats: int = 5) -> float:
    """This process's matmul FLOP/s in the compute dtype with f32 accumulation (the MFU denominator on CPU)."""
    import jax
    import jax.numpy as jnp

    a = jnp.ones((size, size), dtype)
    f = jax.jit(lambda x, y: jnp.matmul(x, y, preferred_element_type=jnp.float32))
    f(a, a).block_until_ready()
    best = math.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        f(a, a).block_until_ready()
        best = min(best, time.perf_counter() - t0)
    return 2 * size ** 3 / best


class MetricsLog:
    """Append-only JSONL; on resume, rows past the restored step are dropped (they will be redone)."""

    def __init__(self, path: pathlib.Path, resume_step: int, enabled: bool):
        self.path, self.enabled = path, enabled
        if not enabled:
            return
        rows = []
        if path.exists() and resume_step > 0:
            lines = complete_lines(path.read_bytes()).splitlines()  # a kill may have torn the last one
            rows = [row for _, row in parse_jsonl(lines, str(path)) if row.get("step", 0) <= resume_step]
        write_jsonl_atomic(path, rows)

    def write(self, row: dict) -> None:
        if self.enabled:
            with self.path.open("a") as f:
                f.write(jsonl_line(row))


def _init_from(path: str, setup, abstract_params):
    """Params for staged training / fine-tuning, placed on this run's mesh."""
    import jax
    from jaxformer.train import checkpoint

    src = pathlib.Path(path)
    if (src / "config.json").is_file():  # an HF-format model directory (e.g. a released CodeGen)
        from flax import nnx
        from jaxformer import hf

        hf_cfg, _, params, _ = hf.load_model(src)
        mine = setup.cfg.model
        if hf_cfg != mine.replace(dtype=hf_cfg.dtype, param_dtype=hf_cfg.param_dtype, remat=hf_cfg.remat,
                                  scan_layers=hf_cfg.scan_layers):
            raise ValueError(f"run.init_from={path}: its config.json does not match the model section")
        params = nnx.to_pure_dict(params) if isinstance(params, nnx.State) else params
        params = jax.tree.map(lambda a, s: a.astype(s.dtype), params, abstract_params)
        return jax.device_put(params, setup.state_shardings["params"])
    mngr = checkpoint.manager(checkpoint.checkpoint_dir(src), read_only=True)
    params, meta = checkpoint.restore_latest(mngr, {"params": abstract_params}, with_opt=False,
                                             expect_model=setup.cfg.model.__dict__)
    if params is None:
        raise ValueError(f"run.init_from={path}: no checkpoint found there")
    return params


def train(cfg: TrainConfig, devices=None) -> dict:
    import jax
    import numpy as np
    from tqdm import tqdm

    from jaxformer.train import checkpoint, distributed, plan, state as state_lib, step as step_lib

    if devices is None:
        distributed.initialize(cfg.distributed)
    setup = state_lib.build(cfg, devices)  # validates mesh / batch against devices before any compile
    run, lead = cfg.run, jax.process_index() == 0
    out = pathlib.Path(run.out_dir)
    if lead:
        out.mkdir(parents=True, exist_ok=True)
        (out / "config.yaml").write_text(cfg.to_yaml())
    train_data = open_dataset(cfg.data, cfg.model.vocab_size, run.seed, "train")
    eval_data = open_dataset(cfg.data, cfg.model.vocab_size, run.seed, "eval") if run.eval_every else None

    mngr = checkpoint.manager(out / "checkpoints", keep=run.keep_checkpoints, async_save=run.async_checkpoint)
    state, meta = checkpoint.restore_latest(mngr, setup.abstract_state, quarantine=out / "corrupt_checkpoints",
                                            expect_model=cfg.model.__dict__)
    if state is None:
        params = (_init_from(run.init_from, setup, setup.abstract_state["params"]) if run.init_from
                  else state_lib.init_params(setup, run.seed))
        state, start = state_lib.init_state(setup, params), 0
    else:
        start = int(meta["step"])
    log = MetricsLog(out / "metrics.jsonl", start, lead)

    train_step = step_lib.make_train_step(setup.graphdef, setup.tx, run.grad_accum, setup.state_shardings,
                                          setup.batch_sharding, setup.micro_sharding, setup.schedule)
    eval_step = step_lib.make_eval_step(setup.graphdef, setup.state_shardings["params"], setup.batch_sharding)
    index, count = process_rows(setup.batch_sharding, run.global_batch, cfg.data.seq_len)
    shape = (run.global_batch, cfg.data.seq_len)

    def device_batch(data, step):
        local = data.batch(step, run.global_batch, index, count)
        return {k: jax.make_array_from_process_local_data(setup.batch_sharding, np.asarray(v), shape)
                for k, v in local.items()}

    n_devices = len(setup.mesh.devices.flat)
    peak = run.peak_flops or measure_peak_flops(cfg.model.dtype) / jax.local_device_count()
    flops_per_step = plan.flops_per_token(cfg.model, cfg.data.seq_len) * run.global_batch * cfg.data.seq_len

    def evaluate(step):
        total = tokens = 0.0
        for i in range(run.eval_batches):
            s, n = eval_step(state["params"], device_batch(eval_data, i))
            total, tokens = total + float(s), tokens + float(n)
        loss = total / max(tokens, 1.0)
        row = {"step": step, "eval_loss": loss, "eval_ppl": math.exp(min(loss, 50.0)), "eval_tokens": tokens}
        log.write(row)
        return row

    bar = tqdm(total=run.steps, initial=start, disable=not (lead and run.progress), desc="train", unit="step")
    pending, window_t0, timed, last = [], time.perf_counter(), 0, {}
    for step in range(start, run.steps):
        state, metrics = train_step(state, device_batch(train_data, step))
        pending.append(metrics)
        done, timed = step + 1, timed + 1
        if step == start:  # keep compilation out of tokens/s and MFU
            jax.block_until_ready(metrics)
            window_t0, timed = time.perf_counter(), 0
        if done % run.log_every == 0 or done == run.steps:
            fetched = jax.device_get(pending)
            dt = max(time.perf_counter() - window_t0, 1e-9)
            speed = {"tokens_per_s": timed * run.global_batch * cfg.data.seq_len / dt,
                     "mfu": timed * flops_per_step / (dt * peak * n_devices), "step_time_s": dt / timed} if timed else {}
            last = {"step": done, "loss": float(np.mean([m["loss"] for m in fetched])),
                    "lr": float(fetched[-1]["lr"]), "grad_norm": float(fetched[-1]["grad_norm"]),
                    "loss_tokens": sum(float(m["tokens"]) for m in fetched), **speed}
            log.write(last)
            bar.set_postfix(loss=f"{last['loss']:.4f}", lr=f"{last['lr']:.2e}",
                            tok_s=f"{last.get('tokens_per_s', 0):,.0f}")
            pending, window_t0, timed = [], time.perf_counter(), 0
        if eval_data is not None and (done % run.eval_every == 0 or done == run.steps):
            last.update(evaluate(done))
            window_t0, timed = time.perf_counter(), 0
        if done % run.checkpoint_every == 0 or done == run.steps:
            checkpoint.save(mngr, state, {"step": done, "config": cfg.to_dict(), "rng_seed": run.seed,
                                          "data": {"next_step": done, "rows_consumed": done * run.global_batch}})
            window_t0, timed = time.perf_counter(), 0
        bar.update(1)
    bar.close()
    mngr.wait_until_finished()
    if run.export_hf:
        from jax.experimental import multihost_utils
        from jaxformer import hf

        params = multihost_utils.process_allgather(state["params"], tiled=True)  # all processes join
        if lead:
            hf.save_hf(cfg.model, params, out / "hf")
    return {"step": run.steps, "resumed_from": start, **last}
