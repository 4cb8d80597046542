"""Trainer: config, mesh + sharding rules, optimizer, train step, checkpoints, multi-host, plan, loop.

    from jaxformer.train import config, loop
    loop.train(config.load("configs/tiny-cpu.yaml", ["run.steps=50"]))
"""
