"""Reference tensors from diffusers' AutoencoderKLQwenImage (the RGBA VAE of Qwen-Image-Layered)
on a tiny random configuration, for tests/qwen_vae_parity.rs.

Usage: python scripts/qwen_parity_vae.py OUT.safetensors   (needs torch + diffusers)

Writes OUT (the state dict under diffusers' own key names plus `io.*` inputs and outputs) and
`vae_config.json` beside it (the diffusers config, as `vae/config.json` spells it).

The configuration is the real one shrunk (base_dim 96 -> 4, dim_mult [1,2,4,4] -> [1,2,2]) but
keeps every code path the layered pipeline takes: 4 image channels, a downsample2d and a
downsample3d in the encoder, an upsample3d and an upsample2d in the decoder, channel-changing
residual blocks (1x1x1 shortcut convs), the mid-block attention in both halves, quant convs.
Images are single frames ([B, C, 1, H, W]) as in the pipeline.
"""
import json
import os
import sys

import torch
from diffusers import AutoencoderKLQwenImage
from diffusers.utils import logging
from safetensors.torch import save_file

CONFIG = dict(
    base_dim=4,
    z_dim=4,
    dim_mult=[1, 2, 2],
    num_res_blocks=2,
    attn_scales=[],
    temperal_downsample=[False, True],
    dropout=0.0,
    input_channels=4,
    latents_mean=[-0.7571, 0.1075, 0.9653, -0.2921],
    latents_std=[2.8184, 1.2196, 3.2687, 1.9160],
)
# Tiles small enough that tiling happens on the 40x32 test image and its 10x8 latent, with
# different heights and widths (to catch a swapped axis), strides that leave narrow edge tiles
# (a 4-pixel-high last encoder tile row, a 1-latent-high last decoder tile row), and overlaps
# of more than one row/column so the blend weights are not trivial.
TILING = dict(
    tile_sample_min_height=24,
    tile_sample_min_width=20,
    tile_sample_stride_height=12,
    tile_sample_stride_width=12,
)


def main(out):
    logging.set_verbosity_error()  # the cast to bf16 below warns about fp32 modules (none here)
    torch.manual_seed(0)
    vae = AutoencoderKLQwenImage(**CONFIG).eval()
    # Re-randomise everything (diffusers zero-initialises biases, and ones the norm gammas):
    # weights ~ N(0, 1/fan_in) over one temporal slice so activations stay O(1) through the
    # stack, biases ~ N(0, 0.1^2), RMS-norm gammas near 1.
    with torch.no_grad():
        for name, p in vae.named_parameters():
            if name.endswith("gamma"):
                p.copy_(1.0 + 0.1 * torch.randn_like(p))
            elif name.endswith("bias"):
                p.copy_(0.1 * torch.randn_like(p))
            else:
                fan_in = p.shape[1] * p.shape[-1] * p.shape[-2]
                p.copy_(torch.randn_like(p) / fan_in**0.5)
        # Keep most decoded values inside the final clamp to [-1, 1] (but not all, so the
        # clamp is exercised), so the comparison is not mostly of saturated values.
        vae.decoder.conv_out.weight.mul_(0.6)

    x = torch.rand(2, 4, 1, 40, 32) * 2 - 1
    z = torch.randn(2, CONFIG["z_dim"], 1, 10, 8)

    tensors = {k: v.contiguous() for k, v in vae.state_dict().items()}
    with torch.no_grad():
        mean = vae.encode(x).latent_dist.mode()
        decoded = vae.decode(z).sample
        print(f"decoded: {(decoded.abs() >= 1).float().mean().item():.1%} clamped")

        # The pipeline's latent normalisation (_encode_vae_image) and its inverse (__call__).
        lm = torch.tensor(CONFIG["latents_mean"]).view(1, -1, 1, 1, 1)
        ls = torch.tensor(CONFIG["latents_std"]).view(1, -1, 1, 1, 1)
        normalized = (mean - lm) / ls
        denormalized = z / (1.0 / ls) + lm

        vae.enable_tiling(**TILING)
        tiled_mean = vae.encode(x).latent_dist.mode()
        tiled_decoded = vae.decode(z).sample
        vae.disable_tiling()
        assert (tiled_mean - mean).abs().max() > 1e-3, "tiling should change the result"

        # The same in bfloat16, for the Rust BF16 smoke test.
        vae_bf16 = vae.to(torch.bfloat16)
        mean_bf16 = vae_bf16.encode(x.bfloat16()).latent_dist.mode()
        decoded_bf16 = vae_bf16.decode(z.bfloat16()).sample

    tensors.update({
        "io.input": x,
        "io.latent": z,
        "io.latent_mean": mean,
        "io.decoded": decoded,
        "io.normalized": normalized,
        "io.denormalized": denormalized,
        "io.tiled_latent_mean": tiled_mean,
        "io.tiled_decoded": tiled_decoded,
        "io.latent_mean_bf16": mean_bf16,
        "io.decoded_bf16": decoded_bf16,
    })
    save_file({k: v.contiguous() for k, v in tensors.items()}, out)
    config = dict(vae.config)
    config = {k: v for k, v in config.items() if not k.startswith("_")}
    config["_class_name"] = "AutoencoderKLQwenImage"
    config["tiling"] = TILING  # not a diffusers field: the tile sizes the tiled outputs used
    with open(os.path.join(os.path.dirname(os.path.abspath(out)), "vae_config.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
