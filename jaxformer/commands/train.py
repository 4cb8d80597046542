"""Train (or resume, or fine-tune) a CodeGen model.

    jaxformer train --config configs/tiny-cpu.yaml run.steps=200 optim.lr=1e-3

Overrides are section.key=value (sections: model, data, mesh, optim, run, distributed). Rerunning the
same command resumes from the newest complete checkpoint in run.out_dir.
"""
from __future__ import annotations

import json

HELP = "train / resume / fine-tune a model (YAML config + key=value overrides)"


def add_arguments(parser) -> None:
    parser.add_argument("--config", help="YAML config (configs/*.yaml); omitted: built-in defaults")
    parser.add_argument("overrides", nargs="*", metavar="section.key=value")
    parser.add_argument("--print-config", action="store_true", help="print the resolved config and exit")


def run(args) -> int:
    from jaxformer.train import config as config_lib

    cfg = config_lib.load(args.config, args.overrides)  # bad keys fail here, before jax is imported
    if args.print_config:
        print(cfg.to_yaml(), end="")
        return 0
    from jaxformer.train import loop

    summary = loop.train(cfg)
    print(json.dumps(summary))
    return 0
