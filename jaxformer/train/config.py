"""Training configuration: frozen dataclasses, YAML presets, `section.key=value` overrides.

A config is a YAML file with the sections below; every key is optional. Overrides use dotted keys
(`optim.lr=1e-3`, `mesh.fsdp=4`, `model.dtype=bfloat16`). Unknown keys and bad values raise
ValueError naming the key, before jax is even imported.
"""
from __future__ import annotations

import dataclasses
import pathlib
import typing

import yaml

from jaxformer.config import ModelConfig, preset


def _positive(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name}={value!r} must be a positive int")


def _nonnegative(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name}={value!r} must be a non-negative int")


@dataclasses.dataclass(frozen=True)
class MeshConfig:
    data: int = -1  # -1: whatever is left of the device count after fsdp and tensor
    fsdp: int = 1
    tensor: int = 1

    def __post_init__(self):
        for name in ("fsdp", "tensor"):
            _positive(f"mesh.{name}", getattr(self, name))
        if self.data != -1:
            _positive("mesh.data", self.data)

    def resolve(self, device_count: int) -> tuple[int, int, int]:
        """(data, fsdp, tensor) sizes for `device_count` devices; errors name the mesh key."""
        inner = self.fsdp * self.tensor
        if device_count % inner:
            raise ValueError(f"mesh.fsdp={self.fsdp} x mesh.tensor={self.tensor} = {inner} does not divide "
                             f"the device count {device_count}")
        data = device_count // inner if self.data == -1 else self.data
        if data * inner != device_count:
            raise ValueError(f"mesh.data={self.data} x mesh.fsdp={self.fsdp} x mesh.tensor={self.tensor} = "
                             f"{data * inner} does not equal the device count {device_count}")
        return data, self.fsdp, self.tensor


@dataclasses.dataclass(frozen=True)
class OptimConfig:
    lr: float = 3e-4  # peak learning rate (REFERENCE: 3.0e-4 for 350M NL)
    warmup_steps: int = 3000
    decay_steps: int | None = None  # cosine length including warmup; None: run.steps
    end_lr_ratio: float = 0.1  # cosine floor as a fraction of lr
    b1: float = 0.9
    b2: float = 0.999
    eps: float = 1e-8
    weight_decay: float = 0.1
    clip_norm: float = 1.0  # global-norm clip; 0 disables it
    decay_embeddings: bool = False  # weight decay on wte (and lm_head's bias never)
    decay_norms: bool = False  # weight decay on LayerNorm scale/bias
    decay_biases: bool = False

    def __post_init__(self):
        if not self.lr > 0:
            raise ValueError(f"optim.lr={self.lr} must be > 0")
        _nonnegative("optim.warmup_steps", self.warmup_steps)
        if self.decay_steps is not None:
            _positive("optim.decay_steps", self.decay_steps)
        for name in ("end_lr_ratio", "b1", "b2"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"optim.{name}={getattr(self, name)} must be in [0, 1]")
        for name in ("eps", "weight_decay", "clip_norm"):
            if getattr(self, name) < 0:
                raise ValueError(f"optim.{name}={getattr(self, name)} must be >= 0")


@dataclasses.dataclass(frozen=True)
class DataConfig:
    kind: str = "synthetic"  # "synthetic" (deterministic toy sequences) or "prepared" (jaxformer.data shards)
    path: str | None = None  # `jaxformer data prepare` output dir, or a mixture "dirA=0.7,dirB=0.3"
    eval_path: str | None = None  # held-out prepared dir; None: the "val" split of data.path
    seq_len: int = 256

    def __post_init__(self):
        if self.kind not in ("synthetic", "prepared"):
            raise ValueError(f"data.kind={self.kind!r} must be 'synthetic' or 'prepared'")
        if self.kind == "prepared" and not self.path:
            raise ValueError("data.path is required when data.kind='prepared'")
        _positive("data.seq_len", self.seq_len)


@dataclasses.dataclass(frozen=True)
class RunConfig:
    out_dir: str = "runs/default"  # checkpoints/, metrics.jsonl, config.yaml, hf/
    steps: int = 100
    global_batch: int = 8  # sequences per optimizer step, over all processes
    grad_accum: int = 1  # micro-batches per step (fp32 gradient accumulator)
    seed: int = 0
    log_every: int = 10
    eval_every: int = 0  # 0: no periodic eval
    eval_batches: int = 4
    checkpoint_every: int = 100
    keep_checkpoints: int = 3
    async_checkpoint: bool = True
    init_from: str | None = None  # staged training / fine-tuning: params from a checkpoint run dir or HF dir
    export_hf: bool = False  # write out_dir/hf with jaxformer.hf.save_hf at the end
    peak_flops: float | None = None  # MFU denominator per process; None: measured matmul peak (CPU)
    progress: bool = True  # tqdm line

    def __post_init__(self):
        for name in ("steps", "global_batch", "grad_accum", "log_every", "eval_batches",
                     "checkpoint_every", "keep_checkpoints"):
            _positive(f"run.{name}", getattr(self, name))
        _nonnegative("run.eval_every", self.eval_every)
        if self.global_batch % self.grad_accum:
            raise ValueError(f"run.global_batch={self.global_batch} is not divisible by "
                             f"run.grad_accum={self.grad_accum}")


@dataclasses.dataclass(frozen=True)
class DistributedConfig:
    coordinator_address: str | None = None  # "host:port" of process 0; set with num_processes/process_id
    num_processes: int | None = None
    process_id: int | None = None
    local_device_count: int | None = None  # CPU only: devices per process (jax_num_cpu_devices)
    auto: bool = False  # jax.distributed.initialize() auto-detect (TPU pods, SLURM)

    def __post_init__(self):
        given = [self.coordinator_address is not None, self.num_processes is not None,
                 self.process_id is not None]
        if any(given) and not all(given):
            raise ValueError("distributed.coordinator_address, distributed.num_processes and "
                             "distributed.process_id must be set together")
        if self.num_processes is not None:
            _positive("distributed.num_processes", self.num_processes)
            if not 0 <= self.process_id < self.num_processes:
                raise ValueError(f"distributed.process_id={self.process_id} must be in "
                                 f"[0, {self.num_processes})")
        if self.auto and any(given):
            raise ValueError("distributed.auto=true conflicts with an explicit distributed.coordinator_address")


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    mesh: MeshConfig = dataclasses.field(default_factory=MeshConfig)
    optim: OptimConfig = dataclasses.field(default_factory=OptimConfig)
    run: RunConfig = dataclasses.field(default_factory=RunConfig)
    distributed: DistributedConfig = dataclasses.field(default_factory=DistributedConfig)

    def __post_init__(self):
        if self.data.seq_len > self.model.n_positions:
            raise ValueError(f"data.seq_len={self.data.seq_len} exceeds model.n_positions={self.model.n_positions}")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False)


_SECTION_TYPES = {"model": ModelConfig, "data": DataConfig, "mesh": MeshConfig, "optim": OptimConfig,
                  "run": RunConfig, "distributed": DistributedConfig}


def from_dict(raw: dict, source: str = "config") -> TrainConfig:
    """TrainConfig from nested dicts; `model` may name a `preset` and override its fields."""
    raw = dict(raw or {})
    unknown = set(raw) - set(_SECTION_TYPES)
    if unknown:
        raise ValueError(f"{source}: unknown section {sorted(unknown)[0]!r}; valid: {', '.join(_SECTION_TYPES)}")
    sections = {}
    for name, cls in _SECTION_TYPES.items():
        values = dict(raw.get(name) or {})
        if not isinstance(raw.get(name) or {}, dict):
            raise ValueError(f"{source}: section {name!r} must be a mapping")
        base = cls()
        if cls is ModelConfig:
            base = preset(str(values.pop("preset", "tiny")))
        sections[name] = _build(cls, base, values, name, source)
    try:
        return TrainConfig(**sections)
    except ValueError as err:
        raise ValueError(f"{source}: {err}") from None


def load(path: str | pathlib.Path | None, overrides: typing.Iterable[str] = ()) -> TrainConfig:
    """YAML file (or None for defaults) plus ["optim.lr=1e-3", ...] overrides."""
    raw: dict = {}
    if path is not None:
        path = pathlib.Path(path)
        raw = yaml.safe_load(path.read_text()) or {}
        if not isinstance(raw, dict):
            raise ValueError(f"{path}: top level must be a mapping of sections")
    for item in overrides:
        key, sep, text = item.partition("=")
        section, dot, field = key.strip().partition(".")
        if not sep or not dot or not field:
            raise ValueError(f"override {item!r} is not of the form section.key=value")
        if section not in _SECTION_TYPES:
            raise ValueError(f"override {item!r}: unknown section {section!r}; valid: {', '.join(_SECTION_TYPES)}")
        raw.setdefault(section, {})
        raw[section] = dict(raw[section] or {})
        raw[section][field] = yaml.safe_load(text) if text.strip() else None
    return from_dict(raw, source=str(path) if path is not None else "overrides")


def _build(cls, base, values: dict, section: str, source: str):
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    changes = {}
    for key, value in values.items():
        if key not in hints:
            raise ValueError(f"{source}: unknown key {section}.{key}; valid: {', '.join(names)}")
        changes[key] = _coerce(f"{section}.{key}", hints[key], value)
    try:
        return dataclasses.replace(base, **changes)
    except ValueError as err:
        message = str(err)
        raise ValueError(message if message.startswith(section) else f"{source}: {section}: {message}") from None


def _coerce(key: str, hint, value):
    """YAML gives '3e-4' as a string and 1 for 1.0; coerce to the field's declared type."""
    args = typing.get_args(hint)
    if value is None:
        if type(None) in args:
            return None
        raise ValueError(f"{key} must not be null")
    base = next((a for a in args if a is not type(None)), hint) if args else hint
    try:
        if base is bool:
            if isinstance(value, bool):
                return value
            if str(value).lower() in ("true", "false"):
                return str(value).lower() == "true"
            raise ValueError
        if base is int:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            return int(value)
        if base is float:
            if isinstance(value, bool):
                raise ValueError
            return float(value)
        if base is str:
            return str(value)
    except (TypeError, ValueError):
        raise ValueError(f"{key}={value!r}: expected {base.__name__}") from None
    return value
