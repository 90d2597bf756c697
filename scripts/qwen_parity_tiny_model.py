"""A tiny random Qwen-Image-Layered in the Hugging Face repository layout, plus the layers
diffusers' QwenImageLayeredPipeline makes with it, for tests/qwen_end_to_end.rs.

The folder has what `strata decompose --method qwen-layered --weights DIR` reads: transformer/,
vae/, text_encoder/, tokenizer/, scheduler/ (configs + safetensors). The parts are consistent
with each other like the real ones (VAE z_dim × 4 = transformer in_channels, text hidden size =
joint_attention_dim, 8× VAE), only tiny and random.

The reference runs the real pipeline on a 640×640 picture (the working size at resolution 640,
so no resizing differs between PIL and Rust) with the starting noise Strata draws for seed 7
(SplitMix64 + Box-Muller, reimplemented below), and stores every 8th pixel of each layer.

Usage: python scripts/qwen_parity_tiny_model.py OUT_DIR   (needs torch, diffusers, transformers)
"""
import json
import math
import os
import shutil
import sys

import numpy as np
import torch
from diffusers import (
    AutoencoderKLQwenImage,
    FlowMatchEulerDiscreteScheduler,
    QwenImageLayeredPipeline,
    QwenImageTransformer2DModel,
)
from PIL import Image
from safetensors.torch import save_file
from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration, Qwen2Tokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
TOKENIZER = os.path.join(HERE, "..", "tests", "data", "qwen", "text_encoder_tokenizer")

# Not 4: the pipeline takes a 4-channel input for ready-made latents when z_dim is 4.
Z = 8
TEXT_HIDDEN = 32
LAYERS = 2
STEPS = 3
SEED = 7
SIZE = 640
PROMPT = "A red apple on a wooden table, with a glass of water."

TRANSFORMER = dict(
    patch_size=2, in_channels=4 * Z, out_channels=Z, num_layers=1, attention_head_dim=16,
    num_attention_heads=2, joint_attention_dim=TEXT_HIDDEN, guidance_embeds=False,
    axes_dims_rope=(4, 6, 6), use_additional_t_cond=True, use_layer3d_rope=True,
)
VAE = dict(
    base_dim=4, z_dim=Z, dim_mult=[1, 2, 2, 2], num_res_blocks=1, attn_scales=[],
    temperal_downsample=[False, True, True], dropout=0.0, input_channels=4,
    latents_mean=[-0.5, 0.1, 0.3, -0.2, 0.0, 0.2, -0.1, 0.4],
    latents_std=[1.5, 0.9, 1.2, 1.1, 1.0, 0.8, 1.3, 0.7],
)
TEXT = dict(
    vocab_size=448, hidden_size=TEXT_HIDDEN, intermediate_size=64, num_hidden_layers=1,
    num_attention_heads=4, num_key_value_heads=2, rms_norm_eps=1e-6,
    max_position_embeddings=512,
    rope_scaling={"type": "mrope", "mrope_section": [1, 1, 2], "rope_theta": 10000.0},
    rope_theta=10000.0, hidden_act="silu", bos_token_id=None, eos_token_id=None,
)
VISION = dict(depth=1, hidden_size=16, intermediate_size=32, num_heads=2, out_hidden_size=32,
              fullatt_block_indexes=[0], window_size=28)
SCHEDULER = dict(
    base_image_seq_len=256, base_shift=0.5, max_image_seq_len=8192, max_shift=0.9,
    num_train_timesteps=1000, shift=1.0, shift_terminal=0.02, time_shift_type="exponential",
    use_dynamic_shifting=True,
)

MASK = (1 << 64) - 1


def seeded_noise(shape, seed):
    """Strata's pipeline::seeded_noise: SplitMix64, Box-Muller pairs, f32."""
    state = seed
    def next_u64():
        nonlocal state
        state = (state + 0x9E3779B97F4A7C15) & MASK
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)
    count = math.prod(shape)
    values = []
    while len(values) < count:
        u1 = ((next_u64() >> 11) + 1.0) / float(1 << 53)
        u2 = (next_u64() >> 11) / float(1 << 53)
        radius = math.sqrt(-2.0 * math.log(u1))
        angle = 2.0 * math.pi * u2
        values.append(radius * math.cos(angle))
        values.append(radius * math.sin(angle))
    return torch.tensor(np.array(values[:count], dtype=np.float32)).reshape(shape)


def randomize(module, scale):
    with torch.no_grad():
        for name, p in module.named_parameters():
            if name.endswith("gamma") or "norm" in name and name.endswith("weight"):
                p.copy_(1.0 + 0.1 * torch.randn_like(p))
            elif name.endswith("bias"):
                p.copy_(0.05 * torch.randn_like(p))
            else:
                fan_in = p[0].numel() if p.dim() > 1 else p.numel()
                p.copy_(scale * torch.randn_like(p) / fan_in ** 0.5)


def picture():
    """A smooth 640×640 RGBA test card: gradients, a disc, a translucent bar."""
    y, x = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32) / SIZE
    rgba = np.stack([x, y, 1 - x, np.ones_like(x)], axis=-1)
    disc = (x - 0.35) ** 2 + (y - 0.4) ** 2 < 0.04
    rgba[disc] = [0.9, 0.2, 0.1, 1.0]
    bar = (y > 0.7) & (y < 0.8)
    rgba[bar, 3] = 0.5
    return Image.fromarray((rgba * 255).round().astype(np.uint8), "RGBA")


def main():
    out = sys.argv[1]
    if os.path.exists(out):
        shutil.rmtree(out)
    torch.manual_seed(0)

    transformer = QwenImageTransformer2DModel(**TRANSFORMER).eval()
    randomize(transformer, 1.0)
    transformer.save_pretrained(os.path.join(out, "transformer"))

    vae = AutoencoderKLQwenImage(**VAE).eval()
    randomize(vae, 1.0)
    vae.save_pretrained(os.path.join(out, "vae"))

    config = Qwen2_5_VLConfig(text_config=TEXT, vision_config=VISION)
    text_encoder = Qwen2_5_VLForConditionalGeneration(config).eval()
    randomize(text_encoder, 1.0)
    text_encoder.save_pretrained(os.path.join(out, "text_encoder"))

    tokenizer_dir = os.path.join(out, "tokenizer")
    os.makedirs(tokenizer_dir)
    for name in ("vocab.json", "merges.txt", "tokenizer_config.json"):
        shutil.copy(os.path.join(TOKENIZER, name), tokenizer_dir)
    tokenizer = Qwen2Tokenizer.from_pretrained(tokenizer_dir)

    scheduler = FlowMatchEulerDiscreteScheduler(**SCHEDULER)
    scheduler.save_pretrained(os.path.join(out, "scheduler"))

    pipe = QwenImageLayeredPipeline(
        scheduler=scheduler, vae=vae, text_encoder=text_encoder, tokenizer=tokenizer,
        processor=None, transformer=transformer,
    )
    image = picture()
    image.save(os.path.join(out, "picture.png"))
    latent = SIZE // 8
    noise = seeded_noise((1, LAYERS + 1, Z, latent, latent), SEED)
    packed = QwenImageLayeredPipeline._pack_latents(noise, 1, Z, latent, latent, LAYERS + 1)
    with torch.no_grad():
        layers = pipe(
            image, PROMPT, negative_prompt=" ", true_cfg_scale=4.0, layers=LAYERS,
            num_inference_steps=STEPS, latents=packed, resolution=640, cfg_normalize=True,
            output_type="np",
        ).images[0]
    layers = np.stack(layers)  # [layers, H, W, 4] in 0..1
    sampled = torch.tensor(layers[:, ::8, ::8, :]).contiguous()
    save_file({"layers_every_8th_pixel": sampled}, os.path.join(out, "reference.safetensors"))
    with open(os.path.join(out, "reference.json"), "w") as f:
        json.dump(dict(prompt=PROMPT, negative_prompt=" ", true_cfg_scale=4.0, layers=LAYERS,
                       steps=STEPS, seed=SEED, resolution=640, cfg_normalize=True), f, indent=2)


if __name__ == "__main__":
    main()
