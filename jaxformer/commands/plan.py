"""Capacity plan for a model on a device mesh: per-device memory, FLOPs per step, expected step time.

    jaxformer plan --preset codegen-16B --mesh data=16,fsdp=16,tensor=1 --batch 512 --seq 2048 \\
        --peak-flops 275e12 --mfu 0.5 --hbm-gib 32

FLOPs follow the PaLM convention: 6 * N_matmul + 12 * n_layer * seq * d_model per token (not causal-halved).
"""
from __future__ import annotations

HELP = "per-device memory / FLOPs / step-time plan for a model on a mesh"


def add_arguments(parser) -> None:
    parser.add_argument("--preset", required=True, help="model preset, e.g. codegen-350M, codegen-16B, tiny")
    parser.add_argument("--mesh", required=True, help="data=N,fsdp=N,tensor=N (missing axes default to 1)")
    parser.add_argument("--batch", type=int, required=True, help="global batch in sequences")
    parser.add_argument("--seq", type=int, default=2048)
    parser.add_argument("--grad-accum", type=int, default=1)
    parser.add_argument("--dtype", default="bfloat16", help="compute dtype (float32 or bfloat16)")
    parser.add_argument("--peak-flops", type=float, help="peak FLOP/s per device (TPU v4 chip: 275e12 bf16)")
    parser.add_argument("--mfu", type=float, help="assumed model FLOPs utilization, e.g. 0.5")
    parser.add_argument("--hbm-gib", type=float, help="device memory, to say whether it fits")


def parse_mesh(text: str) -> dict[str, int]:
    mesh = {"data": 1, "fsdp": 1, "tensor": 1}
    for part in filter(None, text.split(",")):
        key, sep, value = part.partition("=")
        key = key.strip()
        if not sep or key not in mesh:
            raise ValueError(f"--mesh: {part!r} is not data=N, fsdp=N or tensor=N")
        try:
            mesh[key] = int(value)
        except ValueError:
            raise ValueError(f"--mesh: {key}={value!r} is not an int") from None
    return mesh


def run(args) -> int:
    from jaxformer.config import preset

    if args.mfu is not None and not 0 < args.mfu <= 1:
        raise ValueError(f"--mfu={args.mfu} must be in (0, 1]")
    cfg = preset(args.preset).replace(dtype=args.dtype)
    mesh = parse_mesh(args.mesh)
    from jaxformer.train import plan

    p = plan.make_plan(cfg, mesh, args.batch, args.seq, args.grad_accum, args.peak_flops, args.mfu)
    print(plan.format_plan(p, args.preset, args.hbm_gib * plan.GIB if args.hbm_gib else None))
    return 0
