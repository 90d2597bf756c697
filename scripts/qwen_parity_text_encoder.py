"""Reference outputs of transformers' Qwen2_5_VLForConditionalGeneration (text-only path) and of
diffusers' QwenImageLayeredPipeline._get_qwen_prompt_embeds, on a tiny random configuration and a
tiny byte-level BPE tokenizer, for tests/qwen_text_encoder_parity.rs.

Usage: python scripts/qwen_parity_text_encoder.py [OUT.safetensors]
    (needs torch + transformers + diffusers + tokenizers)
    default OUT: tests/data/qwen/text_encoder.safetensors

Writes, beside OUT:
* OUT: the language model's state dict under transformers' own key names
  (`model.language_model.*`; the vision tower and lm_head are left out: the Rust side never reads
  them) plus the cases below under `io.<case>.`, all float32 / int64;
* `text_encoder_config.json`: the model's config.json as `save_pretrained` writes it;
* `text_encoder_tokenizer/`: `vocab.json` + `merges.txt` + `tokenizer_config.json` (the file
  layout of the Qwen-Image repository's `tokenizer/` folder) and the same tokenizer as
  `tokenizer.json`.

Cases:
* `io.right.*`: random token ids for two sequences of different lengths, right padded (the
  Qwen2Tokenizer default, `padding_side="right"`), `input_ids`, `attention_mask` and `hidden`
  (= `hidden_states[-1]` of the forward with `output_hidden_states=True`).
* `io.left.*`: the same sequences left padded.
* `io.mrope.*`: explicit 3-axis `position_ids` [3, B, L] whose axes differ, so the mRoPE section
  split is exercised (text-only input has equal axes, which makes every split look alike).
* `io.prompt.*`: the pipeline's prompt encoding of `PROMPTS`: `embeds` and `mask` from
  `_get_qwen_prompt_embeds` (template, tokenizer, forward, drop of the first 34 tokens, split by
  the attention mask, zero padding), plus the tokenizer's `input_ids` / `attention_mask` of the
  templated prompts, so a tokenizer mismatch is told apart from a model mismatch, and the
  pipeline's `template` (UTF-8 bytes) and `drop_idx`, so a change upstream shows.
"""
import json
import os
import sys
import tempfile

import torch
from safetensors.torch import save_file
from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration, Qwen2Tokenizer
from diffusers import QwenImageLayeredPipeline

# Qwen2's pre-tokenizer regex (transformers models/qwen2/tokenization_qwen2.py).
PRETOKENIZE_REGEX = (
    r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"""
    r"""|\s*[\r\n]+|\s+(?!\S)|\s+"""
)
# The special tokens the pipeline's template uses, plus two more so the added vocabulary is not
# trivially short; in the real tokenizer they sit at 151643.. right after the BPE vocabulary.
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>"]
BPE_VOCAB = 420
VOCAB = 448  # the model's embedding rows: more than the tokenizer's, as in Qwen2.5-VL

PROMPTS = [
    "A red apple on a wooden table, with a glass of water.",
    " ",  # the pipeline's default negative prompt
    "Poster: bold title text 'SALE 50%' over a blue gradient background; 3 icons.",
]

TEXT = dict(
    vocab_size=VOCAB,
    hidden_size=32,
    intermediate_size=64,
    num_hidden_layers=2,
    num_attention_heads=4,  # head_dim 8
    num_key_value_heads=2,
    rms_norm_eps=1e-6,
    max_position_embeddings=512,
    rope_scaling={"type": "mrope", "mrope_section": [1, 1, 2], "rope_theta": 10000.0},
    rope_theta=10000.0,
    hidden_act="silu",
    bos_token_id=None,  # the real ids (151643, 151645) are outside this vocabulary
    eos_token_id=None,
)
VISION = dict(
    depth=1,
    hidden_size=16,
    intermediate_size=32,
    num_heads=2,
    out_hidden_size=32,
    fullatt_block_indexes=[0],
    window_size=28,
)


def build_tokenizer(folder):
    """Trains a tiny Qwen2-style byte-level BPE and writes it the way the Qwen-Image repository
    ships its tokenizer (vocab.json + merges.txt + tokenizer_config.json), plus tokenizer.json."""
    tok = Tokenizer(models.BPE(unk_token=None, fuse_unk=False, byte_fallback=False))
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(PRETOKENIZE_REGEX), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    corpus = [
        "Describe the image by detailing the color, shape, size, texture, quantity, text, "
        "spatial relationships of the objects and background:",
        "system user assistant",
    ] + PROMPTS * 3
    trainer = trainers.BpeTrainer(
        vocab_size=BPE_VOCAB,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
        special_tokens=[],
    )
    tok.train_from_iterator(corpus, trainer)
    os.makedirs(folder, exist_ok=True)
    tok.model.save(folder)  # vocab.json, merges.txt
    base = tok.get_vocab_size()
    tok.add_special_tokens(SPECIALS)
    tok.save(os.path.join(folder, "tokenizer.json"))
    config = {
        "add_prefix_space": False,
        "added_tokens_decoder": {
            str(base + i): {
                "content": s,
                "lstrip": False,
                "normalized": False,
                "rstrip": False,
                "single_word": False,
                "special": True,
            }
            for i, s in enumerate(SPECIALS)
        },
        "eos_token": "<|endoftext|>",
        "pad_token": "<|endoftext|>",
        "unk_token": None,
        "model_max_length": 32768,
        "tokenizer_class": "Qwen2Tokenizer",
    }
    with open(os.path.join(folder, "tokenizer_config.json"), "w") as f:
        json.dump(config, f, indent=2)
    # Loaded without tokenizer.json, so transformers builds it from vocab.json + merges.txt like
    # it does for the real repository.
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("vocab.json", "merges.txt", "tokenizer_config.json"):
            with open(os.path.join(folder, name), "rb") as src, open(os.path.join(tmp, name), "wb") as dst:
                dst.write(src.read())
        hf = Qwen2Tokenizer.from_pretrained(tmp)
    assert hf.padding_side == "right", hf.padding_side
    for i, s in enumerate(SPECIALS):
        assert hf.convert_tokens_to_ids(s) == base + i, (s, hf.convert_tokens_to_ids(s))
    return hf


def randomize(model):
    """Replaces transformers' init (zero biases, unit norms, small weights) with larger random
    values so that every term (biases, norm weights) shows up in the output."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                p.copy_(1.0 + 0.2 * torch.randn_like(p))
            elif name.endswith("bias"):
                p.copy_(0.3 * torch.randn_like(p))
            elif "embed_tokens" in name:
                p.copy_(torch.randn_like(p))
            else:
                p.copy_(torch.randn_like(p) / p.shape[-1] ** 0.5)


def forward_hidden(model, ids, mask, position_ids=None):
    out = model(input_ids=ids, attention_mask=mask, position_ids=position_ids, output_hidden_states=True)
    last = out.hidden_states[-1]
    # hidden_states[-1] is the final-norm output, i.e. the language model's last_hidden_state.
    lm = model.model.language_model(input_ids=ids, attention_mask=mask, position_ids=position_ids)
    assert torch.equal(last, lm.last_hidden_state), "hidden_states[-1] is not the normed output"
    return last


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/data/qwen/text_encoder.safetensors"
    folder = os.path.dirname(os.path.abspath(out))
    torch.manual_seed(0)

    tokenizer = build_tokenizer(os.path.join(folder, "text_encoder_tokenizer"))

    config = Qwen2_5_VLConfig(text_config=TEXT, vision_config=VISION)
    config._attn_implementation = "eager"
    model = Qwen2_5_VLForConditionalGeneration(config).eval()
    randomize(model)
    with tempfile.TemporaryDirectory() as tmp:
        model.config.save_pretrained(tmp)
        with open(os.path.join(tmp, "config.json")) as f:
            saved_config = f.read()
    with open(os.path.join(folder, "text_encoder_config.json"), "w") as f:
        f.write(saved_config)

    tensors = {
        k: v.detach().clone().contiguous()
        for k, v in model.state_dict().items()
        if k.startswith("model.language_model.")
    }

    lengths = [11, 7]
    L = max(lengths)
    seqs = [torch.randint(0, VOCAB, (n,)) for n in lengths]
    pad = tokenizer.pad_token_id
    with torch.no_grad():
        for side in ("right", "left"):
            ids = torch.full((len(seqs), L), pad, dtype=torch.long)
            mask = torch.zeros((len(seqs), L), dtype=torch.long)
            for b, s in enumerate(seqs):
                if side == "right":
                    ids[b, : len(s)] = s
                    mask[b, : len(s)] = 1
                else:
                    ids[b, L - len(s) :] = s
                    mask[b, L - len(s) :] = 1
            hidden = forward_hidden(model, ids, mask)
            tensors[f"io.{side}.input_ids"] = ids
            tensors[f"io.{side}.attention_mask"] = mask
            tensors[f"io.{side}.hidden"] = hidden.float().contiguous()

        # Distinct axes: temporal counts up, height steps every 3 tokens, width is 2x the index.
        ids = tensors["io.right.input_ids"]
        mask = tensors["io.right.attention_mask"]
        idx = torch.arange(L)
        pos = torch.stack([idx, idx // 3, 2 * idx])[:, None, :].expand(3, len(seqs), L).contiguous()
        hidden = forward_hidden(model, ids, mask, position_ids=pos)
        tensors["io.mrope.position_ids"] = pos
        tensors["io.mrope.hidden"] = hidden.float().contiguous()

        # The pipeline's own prompt encoding. Built without a VAE or transformer (its __init__
        # allows that), so the template and drop count are the installed pipeline's own.
        pipe = QwenImageLayeredPipeline(
            vae=None, text_encoder=None, tokenizer=None, processor=None, transformer=None, scheduler=None
        )
        pipe.text_encoder = model
        pipe.tokenizer = tokenizer
        embeds, emask = pipe._get_qwen_prompt_embeds(PROMPTS, device=torch.device("cpu"), dtype=torch.float32)
        toks = tokenizer([pipe.prompt_template_encode.format(p) for p in PROMPTS], padding=True, return_tensors="pt")
        tensors["io.prompt.input_ids"] = toks.input_ids
        tensors["io.prompt.attention_mask"] = toks.attention_mask
        template = pipe.prompt_template_encode.encode("utf-8")
        tensors["io.prompt.template"] = torch.tensor(list(template), dtype=torch.uint8)
        tensors["io.prompt.drop_idx"] = torch.tensor([pipe.prompt_template_encode_start_idx])
        tensors["io.prompt.embeds"] = embeds.float().contiguous()
        tensors["io.prompt.mask"] = emask

    save_file(tensors, out)
    print(f"wrote {out} ({os.path.getsize(out)} bytes); prompt embeds {tuple(embeds.shape)}")


if __name__ == "__main__":
    main()
