#!/usr/bin/env python3
"""Write the onnxruntime reference output that tests/u2net_parity.rs compares against.

Usage:
    python3 scripts/u2netp_reference.py PATH/TO/u2netp.onnx [tests/data/u2netp_reference.safetensors]

The network input is not stored: it is a closed-form picture both sides regenerate
(`reference_input` below and `reference_input` in tests/u2net_parity.rs must stay identical).
Stored: `d0` (the fused, sigmoid output, 1×1×320×320 f32, 400 kB) and `input_sums`
(per-channel sums of the normalised input, f64) so the Rust side can check that it built the
same input before comparing outputs.

Requires: onnxruntime, numpy, safetensors.
"""

import sys

import numpy as np
import onnxruntime as ort
from safetensors.numpy import save_file

SIZE = 320
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


def reference_picture():
    """An RGB picture in [0, 1]: smooth textured background and a red disc left of centre."""
    y, x = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64)
    r = 0.5 + 0.5 * np.sin(0.031 * x + 0.017 * y)
    g = 0.5 + 0.5 * np.cos(0.023 * y - 0.011 * x)
    b = ((x * 7 + y * 13) % 64) / 63.0
    disc = (x - 150.0) ** 2 + (y - 170.0) ** 2 < 70.0 ** 2
    r = np.where(disc, 0.9, r)
    g = np.where(disc, 0.2, g)
    b = np.where(disc, 0.1, b)
    return np.stack([r, g, b])


def reference_input():
    """ImageNet-normalised NCHW f32 tensor, computed in f64 and rounded once."""
    pic = reference_picture()
    norm = [(pic[c] - MEAN[c]) / STD[c] for c in range(3)]
    return np.stack(norm)[None].astype(np.float32)


def main(onnx_path, out_path):
    x = reference_input()
    sess = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    outs = sess.run(None, {sess.get_inputs()[0].name: x})
    d0 = outs[0].astype(np.float32)
    assert d0.shape == (1, 1, SIZE, SIZE), d0.shape
    sums = x.astype(np.float64).sum(axis=(0, 2, 3))
    save_file({"d0": d0, "input_sums": sums}, out_path,
              metadata={"model_sha256":
                        "309c8469258dda742793dce0ebea8e6dd393174f89934733ecc8b14c76f4ddd8",
                        "onnxruntime": ort.__version__})
    print(f"d0 min {d0.min():.4f} max {d0.max():.4f} mean {d0.mean():.4f}; "
          f"input sums {sums}; wrote {out_path}")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "tests/data/u2netp_reference.safetensors")
