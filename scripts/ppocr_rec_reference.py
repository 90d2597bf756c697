#!/usr/bin/env python3
"""Write the onnxruntime reference that tests/ocr_rec_parity.rs compares against.

Usage:
    python3 scripts/ppocr_rec_reference.py PATH/TO/ch_PP-OCRv4_rec_infer.onnx [--render]

--render first draws the fixture lines (tests/data/ocr_rec_*.png) with DejaVu Sans
(Debian: fonts-dejavu-core); without it the committed PNGs are read.

Every fixture is exactly 48 px high, so the network input needs no resampling and both sides
build it bit for bit the same: composite over white with Strata's integer rule, BGR channel
order (RapidOCR feeds OpenCV's BGR), (x/255 - 0.5)/0.5, width max(320, floor(48*w/h)),
right-padded with zeros. For each line, tests/data/ocr_rec_reference.safetensors holds:
    {name}.features   T x 120 f32, the neck output the CTC head reads (node transpose_51)
    {name}.top_index  T x 5 i32, the five most likely classes per time step
    {name}.top_prob   T x 5 f32, their probabilities (the model's softmax output)
    {name}.input_sums 3 f64, per-channel sums of the network input (BGR)
    {name}.text, {name}.drawn   u32 code points; {name}.confidence   1 f32
and, for people reading the file, in the metadata {name}.text / {name}.confidence: RapidOCR's greedy CTC decoding
(repeats merged, blanks dropped, mean probability of the kept steps) of the onnxruntime
output, and {name}.drawn: the words that were drawn.

Requires: onnx, onnxruntime, numpy, safetensors, pillow.
"""

import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from PIL import Image, ImageDraw, ImageFont
from safetensors.numpy import save_file

MODEL_SHA256 = "48fc40f24f6d2a207a2b1091d3437eb3cc3eb6b676dc3ef9c37384005483683b"
HEIGHT, MIN_WIDTH = 48, 320
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
DATA = Path("tests/data")
OUT = DATA / "ocr_rec_reference.safetensors"
FEATURES = "transpose_51.tmp_0"
TOP = 5

# (fixture name, words, text colour RGBA, background RGBA, font size)
LINES = [
    ("summer", "Summer sale", (20, 20, 20, 255), (0, 0, 0, 0), 32),
    ("price", "Only 25% off today", (250, 250, 250, 255), (200, 40, 60, 255), 30),
    ("shipping", "Free shipping on all orders over 50 EUR", (30, 60, 140, 255),
     (245, 240, 225, 255), 30),
]


def render(name, words, ink, paper, size):
    font = ImageFont.truetype(FONT, size)
    left, top, right, bottom = font.getbbox(words)
    width = right - left + 16
    img = Image.new("RGBA", (width, HEIGHT), paper)
    # Text layers are drawn on transparency, so the ink is drawn on its own layer and
    # composited: over a clear background the anti-aliased edge lives in alpha.
    layer = Image.new("RGBA", img.size, ink[:3] + (0,))
    ImageDraw.Draw(layer).text((8 - left, (HEIGHT - (bottom - top)) // 2 - top), words,
                               font=font, fill=ink)
    img = Image.alpha_composite(img, layer)
    img.save(DATA / f"ocr_rec_{name}.png", optimize=True)


def network_input(path):
    rgba = np.asarray(Image.open(path).convert("RGBA")).astype(np.uint32)
    h, w = rgba.shape[:2]
    assert h == HEIGHT, f"{path}: height {h}, fixtures must be {HEIGHT} px high"
    a = rgba[..., 3:4]
    rgb = (rgba[..., :3] * a + 255 * (255 - a) + 127) // 255
    bgr = rgb[..., ::-1].astype(np.float32)
    width = max(MIN_WIDTH, int(HEIGHT * w / h))
    x = np.zeros((1, 3, HEIGHT, width), np.float32)
    x[0, :, :, :w] = (bgr.transpose(2, 0, 1) / 255 - 0.5) / 0.5
    return x


def ctc_decode(probs, chars):
    """Greedy CTC as RapidOCR does it: argmax, merge repeats, drop blanks (class 0)."""
    idx = probs.argmax(axis=1)
    best = probs.max(axis=1)
    keep = np.ones(len(idx), bool)
    keep[1:] = idx[1:] != idx[:-1]
    keep &= idx != 0
    text = "".join(chars[i] for i in idx[keep])
    conf = float(np.mean(best[keep])) if keep.any() else 0.0
    return text, conf


def main(onnx_path, do_render):
    if do_render:
        for line in LINES:
            render(*line)
    model = onnx.load(onnx_path)
    keys = [p.value for p in model.metadata_props if p.key == "character"][0]
    chars = ["blank"] + keys.splitlines() + [" "]
    # Expose the neck output as a second graph output.
    model.graph.output.append(onnx.helper.make_tensor_value_info(FEATURES, onnx.TensorProto.FLOAT,
                                                                 None))
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    tensors, meta = {}, {"model_sha256": MODEL_SHA256, "onnxruntime": ort.__version__}
    for name, words, *_ in LINES:
        x = network_input(DATA / f"ocr_rec_{name}.png")
        probs, feats = sess.run(None, {"x": x})
        probs, feats = probs[0], feats[0]
        order = np.argsort(-probs, axis=1)[:, :TOP]
        tensors[f"{name}.features"] = feats.astype(np.float32)
        tensors[f"{name}.top_index"] = order.astype(np.int32)
        tensors[f"{name}.top_prob"] = np.take_along_axis(probs, order, 1).astype(np.float32)
        tensors[f"{name}.input_sums"] = x.astype(np.float64).sum(axis=(0, 2, 3))
        text, conf = ctc_decode(probs, chars)
        # Strings as code points too, so the Rust test needs no JSON parser for metadata.
        tensors[f"{name}.text"] = np.array([ord(c) for c in text], np.uint32)
        tensors[f"{name}.drawn"] = np.array([ord(c) for c in words], np.uint32)
        tensors[f"{name}.confidence"] = np.array([conf], np.float32)
        meta[f"{name}.text"], meta[f"{name}.confidence"] = text, f"{conf:.6f}"
        meta[f"{name}.drawn"] = words
        print(f"{name}: input {x.shape[3]} px wide, {probs.shape[0]} steps, "
              f"read {text!r} (conf {conf:.4f}), drawn {words!r}")
    save_file(tensors, str(OUT), metadata=meta)
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1], "--render" in sys.argv[2:])
