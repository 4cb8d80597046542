"""Train state = {"params", "opt", "step"} as plain pytrees, with its shardings on a mesh.

`build(cfg)` validates the config against the device count and produces everything the loop needs
without compiling anything: the mesh, the abstract state (shapes only) and its NamedShardings.
"""
from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import optax
from flax import nnx
from jax.sharding import NamedSharding, PartitionSpec as P

from jaxformer import model
from jaxformer.config import ModelConfig
from jaxformer.train import mesh as mesh_lib, optimizer
from jaxformer.train.config import TrainConfig


@dataclasses.dataclass(frozen=True)
class Setup:
    cfg: TrainConfig
    mesh: jax.sharding.Mesh
    rules: mesh_lib.ShardingRules
    graphdef: object
    tx: optax.GradientTransformation
    schedule: optax.Schedule
    abstract_state: dict  # ShapeDtypeStructs carrying the target shardings
    state_shardings: dict
    batch_sharding: NamedSharding  # [B, T]
    micro_sharding: NamedSharding  # [accum, B/accum, T]

    @property
    def mesh_shape(self) -> dict[str, int]:
        return dict(self.mesh.shape)


def abstract_model(cfg: ModelConfig):
    """(graphdef, param ShapeDtypeStructs as a pure dict, logical PartitionSpecs) without allocating."""
    graphdef, state = nnx.split(nnx.eval_shape(lambda: model.CodeGen(cfg, rngs=nnx.Rngs(0))))
    return graphdef, nnx.to_pure_dict(state), nnx.to_pure_dict(nnx.get_partition_spec(state))


def check_batch(cfg: TrainConfig, mesh_shape: dict[str, int], process_count: int) -> None:
    batch_ways = mesh_shape["data"] * mesh_shape["fsdp"]
    run = cfg.run
    if run.global_batch % (batch_ways * run.grad_accum):
        raise ValueError(f"run.global_batch={run.global_batch} must be divisible by mesh data x fsdp "
                         f"({batch_ways}) x run.grad_accum ({run.grad_accum})")
    if run.global_batch % process_count:
        raise ValueError(f"run.global_batch={run.global_batch} must be divisible by the process count {process_count}")


def build(cfg: TrainConfig, devices=None, rules: mesh_lib.ShardingRules | None = None) -> Setup:
    devices = jax.devices() if devices is None else devices
    shape = cfg.mesh.resolve(len(devices))  # errors name mesh.* before anything compiles
    mesh_shape = dict(zip(mesh_lib.MESH_AXES, shape))
    check_batch(cfg, mesh_shape, jax.process_count())
    rules = rules or mesh_lib.ShardingRules()
    mesh = mesh_lib.make_mesh(shape, devices)

    graphdef, abstract_params, logical = abstract_model(cfg.model)
    specs = mesh_lib.param_specs(logical, rules, mesh_shape, jax.tree.map(lambda a: a.shape, abstract_params))
    param_shardings = jax.tree.map(lambda s: NamedSharding(mesh, s), specs, is_leaf=lambda x: isinstance(x, P))
    tx = optimizer.make(cfg.optim, abstract_params, cfg.run.steps)
    abstract_opt = jax.eval_shape(tx.init, abstract_params)
    replicated = NamedSharding(mesh, P())
    # Adam moments shard like their params; scalars (step counts) are replicated
    opt_shardings = optax.tree_map_params(tx, lambda _, s: s, abstract_opt, param_shardings,
                                          transform_non_params=lambda _: replicated)
    state_shardings = {"params": param_shardings, "opt": opt_shardings, "step": replicated}
    abstract_state = {"params": abstract_params, "opt": abstract_opt,
                      "step": jax.ShapeDtypeStruct((), jnp.int32)}
    abstract_state = jax.tree.map(lambda a, s: jax.ShapeDtypeStruct(a.shape, a.dtype, sharding=s),
                                  abstract_state, state_shardings)
    batch_axes = rules.mesh_axes(("batch",))[0]
    return Setup(cfg=cfg, mesh=mesh, rules=rules, graphdef=graphdef, tx=tx,
                 schedule=optimizer.schedule(cfg.optim, cfg.run.steps), abstract_state=abstract_state,
                 state_shardings=state_shardings, batch_sharding=NamedSharding(mesh, P(batch_axes, None)),
                 micro_sharding=NamedSharding(mesh, P(None, batch_axes, None)))


def init_params(setup: Setup, seed: int):
    """Random init directly into the target shardings (partitionable RNG: same values on any mesh)."""
    def init():
        return nnx.to_pure_dict(nnx.split(model.CodeGen(setup.cfg.model, rngs=nnx.Rngs(seed)))[1])
    return jax.jit(init, out_shardings=setup.state_shardings["params"])()


def init_state(setup: Setup, params) -> dict:
    params = jax.device_put(params, setup.state_shardings["params"])
    opt = jax.jit(setup.tx.init, out_shardings=setup.state_shardings["opt"])(params)
    step = jax.device_put(jnp.zeros((), jnp.int32), setup.state_shardings["step"])
    return {"params": params, "opt": opt, "step": step}


def global_batch(setup: Setup, local: dict) -> dict:
    """This process's rows (numpy) -> global jax arrays sharded along the batch axis."""
    return {k: jax.make_array_from_process_local_data(setup.batch_sharding, v) for k, v in local.items()}
