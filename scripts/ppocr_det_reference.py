#!/usr/bin/env python3
"""Draw the text fixture and write the onnxruntime reference that tests/dbnet_parity.rs
compares against.

Usage:
    python3 scripts/ppocr_det_reference.py PATH/TO/ch_PP-OCRv4_det_infer.onnx \
        [--draw] [tests/data/dbnet_text.png] [tests/data/dbnet_reference.safetensors]

With --draw the picture is (re)drawn first: 256x160, three lines of DejaVu Sans in two sizes
on a coloured background. Font rendering differs between Pillow and FreeType versions, so
the committed PNG, not the drawing code, is the fixture; without --draw the script only reads
it. The drawn lines' boxes (Pillow's `textbbox`, in pixels, ends exclusive) are stored as
`text_boxes` (N x 4, u32: x0, y0, x1, y1).

The network input is the picture as PP-OCR feeds it: BGR channel order (the wheel decodes
with OpenCV), `(v / 255 - 0.5) / 0.5`, NCHW. 256x160 is already a multiple of 32, so no resize
is involved. Stored: `prob` (the 1x1x160x256 sigmoid output, f16: 82 kB, rounding error below
2.5e-4 for values in 0..1).

Requires: onnxruntime, numpy, safetensors, pillow.
"""

import argparse
import hashlib

import numpy as np
import onnxruntime as ort
from PIL import Image, ImageDraw, ImageFont
from safetensors.numpy import save_file

MODEL_SHA256 = "d2a7720d45a54257208b1e13e36a8479894cb74155a5efe29462512d42f49da9"
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
FONT_BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
WIDTH, HEIGHT = 256, 160

# (text, font file, size, top-left, colour)
LINES = [
    ("Strata", FONT_BOLD, 30, (18, 14), (20, 40, 110)),
    ("layered pictures", FONT, 16, (20, 70), (30, 30, 30)),
    ("SALE 50% OFF", FONT_BOLD, 18, (96, 116), (190, 20, 30)),
]


def draw(path):
    """Draws the fixture and returns each line's box."""
    img = Image.new("RGB", (WIDTH, HEIGHT))
    px = img.load()
    for y in range(HEIGHT):
        for x in range(WIDTH):
            # A soft diagonal gradient from pale teal to pale yellow.
            t = (x + 1.5 * y) / (WIDTH + 1.5 * HEIGHT)
            px[x, y] = (int(200 + 50 * t), int(230 - 10 * t), int(225 - 95 * t))
    d = ImageDraw.Draw(img)
    boxes = []
    for text, font, size, pos, colour in LINES:
        f = ImageFont.truetype(font, size)
        d.text(pos, text, font=f, fill=colour)
        boxes.append(d.textbbox(pos, text, font=f))
    img.save(path, optimize=True)
    return boxes


def text_boxes():
    """The line boxes as Pillow measures them (same font files as the drawing)."""
    d = ImageDraw.Draw(Image.new("RGB", (WIDTH, HEIGHT)))
    return [d.textbbox(pos, text, font=ImageFont.truetype(font, size))
            for text, font, size, pos, _ in LINES]


def network_input(path):
    rgb = np.asarray(Image.open(path).convert("RGB"), dtype=np.float64)
    bgr = rgb[:, :, ::-1]
    x = (bgr / 255.0 - 0.5) / 0.5
    return x.transpose(2, 0, 1)[None].astype(np.float32)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("onnx")
    ap.add_argument("picture", nargs="?", default="tests/data/dbnet_text.png")
    ap.add_argument("out", nargs="?", default="tests/data/dbnet_reference.safetensors")
    ap.add_argument("--draw", action="store_true")
    args = ap.parse_args()

    digest = hashlib.sha256(open(args.onnx, "rb").read()).hexdigest()
    if digest != MODEL_SHA256:
        raise SystemExit(f"unexpected model sha256 {digest}")
    boxes = draw(args.picture) if args.draw else text_boxes()
    x = network_input(args.picture)
    sess = ort.InferenceSession(args.onnx, providers=["CPUExecutionProvider"])
    prob = sess.run(None, {sess.get_inputs()[0].name: x})[0]
    assert prob.shape == (1, 1, HEIGHT, WIDTH), prob.shape
    save_file({"prob": prob.astype(np.float16),
               "text_boxes": np.array(boxes, dtype=np.uint32)}, args.out,
              metadata={"source": f"model sha256 {MODEL_SHA256}, onnxruntime {ort.__version__}"})
    print(f"boxes {boxes}; prob min {prob.min():.4f} max {prob.max():.4f} "
          f"mean {prob.mean():.4f}, > 0.3: {(prob > 0.3).mean():.3f}; wrote {args.out}")


if __name__ == "__main__":
    main()
