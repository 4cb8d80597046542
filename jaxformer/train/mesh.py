"""Device mesh (data, fsdp, tensor) and the logical-axis -> mesh-axis sharding rules, as printable data.

    data    pure data parallelism: params replicated, batch split
    fsdp    batch split AND params/optimizer state split along "embed" (ZeRO-3 style; gathered per use)
    tensor  Megatron-style: "heads", "mlp", "vocab" split, activations all-reduced inside a layer
"""
from __future__ import annotations

import dataclasses
import math

MESH_AXES = ("data", "fsdp", "tensor")
LOGICAL_AXES = ("batch", "layers", "vocab", "embed", "heads", "mlp")


@dataclasses.dataclass(frozen=True)
class ShardingRules:
    """Each logical axis maps to a tuple of mesh axes (empty: replicated)."""
    batch: tuple[str, ...] = ("data", "fsdp")
    layers: tuple[str, ...] = ()
    vocab: tuple[str, ...] = ("tensor",)
    embed: tuple[str, ...] = ("fsdp",)
    heads: tuple[str, ...] = ("tensor",)
    mlp: tuple[str, ...] = ("tensor",)

    def __post_init__(self):
        for name in LOGICAL_AXES:
            axes = getattr(self, name)
            bad = [a for a in axes if a not in MESH_AXES]
            if bad:
                raise ValueError(f"sharding rule {name} -> {bad[0]!r}: not a mesh axis {MESH_AXES}")
            if len(set(axes)) != len(axes):
                raise ValueError(f"sharding rule {name} -> {axes}: repeats a mesh axis")

    def mesh_axes(self, logical: tuple[str | None, ...], where: str = "array") -> tuple:
        """PartitionSpec entries for an array with these logical axes; a mesh axis used twice is an error."""
        entries, used = [], {}
        for name in logical:
            axes = () if name is None else getattr(self, name)
            for axis in axes:
                if axis in used:
                    raise ValueError(f"sharding collision in {where}: logical axes {used[axis]!r} and {name!r} "
                                     f"both map to mesh axis {axis!r}")
                used[axis] = name
            entries.append(None if not axes else axes[0] if len(axes) == 1 else tuple(axes))
        return tuple(entries)

    def __str__(self) -> str:
        return "\n".join(f"  {name:<7} -> {', '.join(getattr(self, name)) or 'replicated'}" for name in LOGICAL_AXES)


def make_mesh(shape: tuple[int, int, int], devices=None):
    """jax Mesh over all (global) devices with axes (data, fsdp, tensor); tensor is innermost (fastest links)."""
    import jax
    from jax.sharding import AxisType

    devices = jax.devices() if devices is None else devices
    if math.prod(shape) != len(devices):
        raise ValueError(f"mesh {dict(zip(MESH_AXES, shape))} needs {math.prod(shape)} devices, have {len(devices)}")
    return jax.make_mesh(shape, MESH_AXES, axis_types=(AxisType.Auto,) * 3, devices=devices)


def param_specs(logical_tree, rules: ShardingRules, mesh_shape: dict[str, int], shapes=None):
    """PartitionSpec tree from a tree of logical-axis PartitionSpecs (nnx.get_partition_spec), checking
    collisions and that every sharded dim divides evenly (errors name the parameter)."""
    import jax
    from jax.sharding import PartitionSpec as P

    def one(path, logical, shape=None):
        where = jax.tree_util.keystr(path, simple=True, separator=".")
        spec = rules.mesh_axes(tuple(logical), where)
        if shape is not None:
            for dim, entry in zip(shape, spec):
                size = math.prod(mesh_shape[a] for a in ((entry,) if isinstance(entry, str) else entry or ()))
                if dim % size:
                    raise ValueError(f"{where}: dim {dim} ({logical}) not divisible by mesh axes {entry} of size {size}")
        return P(*spec)

    is_leaf = lambda x: isinstance(x, P)  # noqa: E731
    if shapes is None:
        return jax.tree_util.tree_map_with_path(one, logical_tree, is_leaf=is_leaf)
    return jax.tree_util.tree_map_with_path(one, logical_tree, shapes, is_leaf=is_leaf)


def batch_spec(rules: ShardingRules):
    from jax.sharding import PartitionSpec as P
    return P(rules.mesh_axes(("batch",))[0], None)


def describe(mesh_shape: dict[str, int], rules: ShardingRules) -> str:
    axes = " x ".join(f"{k}={v}" for k, v in mesh_shape.items())
    return f"mesh {axes}\nlogical axis rules:\n{rules}"
