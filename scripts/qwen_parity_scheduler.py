"""Reference schedules and one Euler step from diffusers' FlowMatchEulerDiscreteScheduler,
configured as Qwen-Image-Layered ships it, for tests/qwen_scheduler_parity.rs.

Usage: python scripts/qwen_parity_scheduler.py OUT.json   (needs torch + diffusers)
"""
import json
import sys
import warnings

import numpy as np
import torch
from diffusers import FlowMatchEulerDiscreteScheduler

# Qwen-Image's scheduler/scheduler_config.json (the layered repository ships the same).
QWEN = dict(
    base_image_seq_len=256,
    base_shift=0.5,
    max_image_seq_len=8192,
    max_shift=0.9,
    num_train_timesteps=1000,
    shift=1.0,
    shift_terminal=0.02,
    time_shift_type="exponential",
    use_dynamic_shifting=True,
)

cases = []
warnings.simplefilter("ignore", RuntimeWarning)
for config in (QWEN, dict(QWEN, time_shift_type="linear", shift_terminal=None),
               dict(num_train_timesteps=1000, shift=3.0)):
    for steps in (1, 7, 50):
        for tokens in (256, 1600, 4096):
            scheduler = FlowMatchEulerDiscreteScheduler(**config)
            mu = (tokens / (256 * 256 / 16 / 16)) ** 0.5
            sigmas = np.linspace(1.0, 0, steps + 1)[:-1]
            scheduler.set_timesteps(sigmas=sigmas, mu=mu)
            scheduler.set_begin_index(0)
            g = torch.Generator().manual_seed(steps * 1000 + tokens)
            sample = torch.randn(2, 3, generator=g)
            velocity = torch.randn(2, 3, generator=g)
            t = scheduler.timesteps[0]
            stepped = scheduler.step(velocity, t, sample, return_dict=False)[0]
            if torch.isnan(scheduler.sigmas).any():
                # One step with shift_terminal divides 0 by 0 in diffusers; Strata takes one
                # step from 1 to 0 instead (unit-tested in Rust). Not a reference.
                continue
            cases.append(dict(
                config={k: v for k, v in config.items()},
                steps=steps,
                condition_tokens=tokens,
                sigmas=scheduler.sigmas.tolist(),
                timesteps=scheduler.timesteps.tolist(),
                sample=sample.flatten().tolist(),
                velocity=velocity.flatten().tolist(),
                stepped=stepped.flatten().tolist(),
            ))

with open(sys.argv[1], "w") as f:
    json.dump(cases, f)
