"""Reference outputs of diffusers' QwenImageTransformer2DModel with the Qwen-Image-Layered options
(use_additional_t_cond=True, use_layer3d_rope=True), on a tiny random configuration, for
tests/qwen_transformer_parity.rs.

Usage: python scripts/qwen_parity_transformer.py [OUT.safetensors]   (needs torch + diffusers)
    default OUT: tests/data/qwen/transformer.safetensors

Writes OUT with the model's state dict under diffusers' own key names (so the Rust side loads it
with the same VarBuilder paths as the real checkpoint) plus, under `io.<case>.`, the inputs and
the float32 output of each case; and the model's config.json (as `save_config` writes it) beside
OUT as `transformer_config.json`.

The cases mirror how QwenImageLayeredPipeline calls the transformer: `layers + 1` noisy frames
of packed 2x2 latent patches (in_channels = 4 * latent channels) followed by the condition
image's frame, `img_shapes` one (1, h, w) per frame, `timestep = t / 1000`, `additional_t_cond`
(the pipeline's `is_rgb`) and a text mask with padding.
"""
import copy
import json
import os
import sys

import torch
from diffusers import QwenImageTransformer2DModel
from diffusers.utils import logging as diffusers_logging
from safetensors.torch import save_file

CONFIG = dict(
    patch_size=2,
    in_channels=16,  # 4 latent channels x 2 x 2 patch
    out_channels=4,
    num_layers=2,
    attention_head_dim=16,
    num_attention_heads=2,
    joint_attention_dim=24,
    axes_dims_rope=(4, 6, 6),  # sums to attention_head_dim
    use_additional_t_cond=True,
    use_layer3d_rope=True,
)

# (name, layers, patch rows, patch cols, text tokens, text mask or None, t/1000, is_rgb)
CASES = [
    # Batch of two, padded text (one row padded by two, one by one), odd patch grid so the
    # centre-shifted RoPE positions are asymmetric, and max(h//2, w//2) = 2 < layer_num = 3,
    # so the text positions start after the layer axis.
    ("a", 2, 3, 5, 5, [[1, 1, 1, 0, 0], [1, 1, 1, 1, 0]], [0.73, 0.205], [0, 1]),
    # One item without a mask (the pipeline passes None when nothing is padded); here
    # h//2 = 4 exceeds layer_num = 2.
    ("b", 1, 8, 6, 7, None, [0.999], [0]),
]


def main(out_path):
    # Quiets the note that casting with .to() bypasses from_pretrained's float32-module list
    # (the list is empty for this model).
    diffusers_logging.set_verbosity_error()
    torch.manual_seed(0)
    model = QwenImageTransformer2DModel(**CONFIG).eval()
    # diffusers zero-initialises nothing here, but RMSNorm weights start at 1 and the default
    # inits are small and uniform: redraw everything so every weight matters to the output.
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm_q.weight") or name.endswith("norm_k.weight") or \
                    name.endswith("norm_added_q.weight") or name.endswith("norm_added_k.weight") or \
                    name == "txt_norm.weight":
                p.copy_(1.0 + 0.2 * torch.randn_like(p))
            elif name.endswith("bias"):
                p.copy_(0.05 * torch.randn_like(p))
            else:
                p.copy_(0.15 * torch.randn_like(p))

    tensors = {k: v.contiguous() for k, v in model.state_dict().items()}
    # The same weights in BF16, for the BF16 check: a BF16 model is compared with diffusers in
    # BF16, not with the f32 output, because diffusers rounds the timestep to BF16 before its
    # sinusoid (t * 1000 moves by up to ~2 rad), which on a tiny random model moves
    # the output by tens of percent.
    model_bf16 = copy.deepcopy(model).to(torch.bfloat16)
    for name, layers, h, w, txt, mask, t, is_rgb in CASES:
        batch = len(t)
        frames = [(1, h, w)] * (layers + 1) + [(1, h, w)]
        seq = sum(f * hh * ww for f, hh, ww in frames)
        hidden = torch.randn(batch, seq, CONFIG["in_channels"])
        text = torch.randn(batch, txt, CONFIG["joint_attention_dim"])
        timestep = torch.tensor(t, dtype=torch.float32)
        cond = torch.tensor(is_rgb, dtype=torch.long)
        mask_t = None if mask is None else torch.tensor(mask, dtype=torch.long)
        with torch.no_grad():
            out = model(
                hidden_states=hidden,
                encoder_hidden_states=text,
                encoder_hidden_states_mask=mask_t,
                timestep=timestep,
                img_shapes=[frames] * batch,
                additional_t_cond=cond,
                return_dict=False,
            )[0]
            out_bf16 = model_bf16(
                hidden_states=hidden.bfloat16(),
                encoder_hidden_states=text.bfloat16(),
                encoder_hidden_states_mask=mask_t,
                timestep=timestep.bfloat16(),
                img_shapes=[frames] * batch,
                additional_t_cond=cond,
                return_dict=False,
            )[0].float()
        assert out.shape == (batch, seq, CONFIG["patch_size"] ** 2 * CONFIG["out_channels"])
        p = f"io.{name}."
        tensors[p + "hidden_states"] = hidden
        tensors[p + "encoder_hidden_states"] = text
        if mask_t is not None:
            tensors[p + "encoder_hidden_states_mask"] = mask_t
        tensors[p + "timestep"] = timestep
        tensors[p + "additional_t_cond"] = cond
        tensors[p + "img_shapes"] = torch.tensor(frames, dtype=torch.long)
        tensors[p + "output"] = out.contiguous()
        tensors[p + "output_bf16"] = out_bf16.contiguous()
        print(f"case {name}: {tuple(out.shape)}, |out| max {out.abs().max():.4f}, "
              f"std {out.std():.4f}; bf16 vs f32 max |d| / max |out| "
              f"{(out_bf16 - out).abs().max() / out.abs().max():.3f}")

    out_dir = os.path.dirname(os.path.abspath(out_path))
    os.makedirs(out_dir, exist_ok=True)
    save_file(tensors, out_path, metadata={"diffusers": __import__("diffusers").__version__,
                                           "torch": torch.__version__})
    config = json.loads(model.to_json_string())
    config.pop("_use_default_values", None)
    with open(os.path.join(out_dir, "transformer_config.json"), "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
        f.write("\n")
    print(f"wrote {out_path} ({os.path.getsize(out_path)} bytes) and transformer_config.json")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/data/qwen/transformer.safetensors")
