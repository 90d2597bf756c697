#!/usr/bin/env python3
"""Convert PP-OCRv4's text recognition ONNX file into the safetensors file Strata embeds.

Usage:
    python3 scripts/convert_ppocr_rec.py PATH/TO/ch_PP-OCRv4_rec_infer.onnx [OUT_DIR] [--f32]

OUT_DIR defaults to assets/models; two files are written there:
    ppocrv4_rec.safetensors   the weights, f16 (computed in f32 by Strata)
    ppocrv4_rec_keys.txt      the character list, one character a line (class 1 is line 1)

Where the ONNX file comes from (see assets/models/README.md):
    pip download --no-deps --only-binary=:all: -d DIR rapidocr_onnxruntime==1.4.4
    unzip -j DIR/rapidocr_onnxruntime-1.4.4-py3-none-any.whl \
        rapidocr_onnxruntime/models/ch_PP-OCRv4_rec_infer.onnx
    sha256 48fc40f24f6d2a207a2b1091d3437eb3cc3eb6b676dc3ef9c37384005483683b

The network is SVTR_LCNet: a PP-LCNetV3 backbone (already re-parameterised for inference:
one conv per layer, each followed by a scalar "learnable affine block" and a hard-swish with
its own scalar affine), the SVTR neck (convs with BatchNorm and swish, two pre-norm
transformer blocks) and a CTC head (linear + softmax). The Paddle export kept its weights as
Constant nodes with Paddle's layer-counter names, so this script walks the graph and names
each tensor after the structure instead; every shape is checked, so a different file fails
loudly instead of loading garbage.

Folding done here (exact up to float rounding):
  * BatchNorm into the conv before it (stem conv and the five neck convs);
  * each backbone conv's learnable affine block (y = s*x + b, scalars) into that conv.
The activation's own affine (after hard-swish) cannot be folded into the next conv exactly
(the depthwise convs zero-pad), so it stays as `act.scale` / `act.bias`.
Linear weights are stored as (out, in), the candle convention (Paddle stores (in, out)).

Requires: onnx, numpy, safetensors.
"""

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

EXPECTED_SHA256 = "48fc40f24f6d2a207a2b1091d3437eb3cc3eb6b676dc3ef9c37384005483683b"
BN_EPS = 1e-5

# Backbone layers after the stem: (kernel, channels in, channels out, stride (h, w), SE).
# PP-LCNetV3 at scale 0.95 for recognition; each entry is a depthwise conv then a 1x1 conv.
BLOCKS = [
    (3, 16, 32, (1, 1), False),
    (3, 32, 64, (1, 1), False),
    (3, 64, 64, (1, 1), False),
    (3, 64, 128, (2, 1), False),
    (3, 128, 128, (1, 1), False),
    (3, 128, 240, (1, 2), False),
    (5, 240, 240, (1, 1), False),
    (5, 240, 240, (1, 1), False),
    (5, 240, 240, (1, 1), False),
    (5, 240, 240, (1, 1), False),
    (5, 240, 480, (2, 1), True),
    (5, 480, 480, (1, 1), True),
    (5, 480, 480, (2, 1), False),
    (5, 480, 480, (1, 1), False),
]
NUM_CLASSES = 6625  # blank + 6623 characters + space


def save_safetensors(path, tensors, metadata):
    """Writes the safetensors layout with sorted names and metadata, so that the same input
    always gives the same bytes (the safetensors package orders its metadata by hash)."""
    dtypes = {np.dtype(np.float16): "F16", np.dtype(np.float32): "F32"}
    header, offset, blobs = {"__metadata__": dict(sorted(metadata.items()))}, 0, []
    for name in sorted(tensors):
        arr = np.ascontiguousarray(tensors[name])
        blob = arr.astype(arr.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": dtypes[arr.dtype], "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(blob)]}
        offset += len(blob)
        blobs.append(blob)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(len(text).to_bytes(8, "little"))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def attr(node, name, default=None):
    for a in node.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return default


def fail(msg):
    sys.exit(f"convert_ppocr_rec: {msg}")


class Graph:
    def __init__(self, model):
        self.const = {}
        self.nodes = []
        for n in model.graph.node:
            if n.op_type == "Constant":
                self.const[n.output[0]] = numpy_helper.to_array(attr(n, "value"))
            else:
                self.nodes.append(n)
        for i in model.graph.initializer:
            self.const[i.name] = numpy_helper.to_array(i)
        self.consumers = {}
        for n in self.nodes:
            for i in n.input:
                self.consumers.setdefault(i, []).append(n)

    def only_consumer(self, name, op_type):
        users = self.consumers.get(name, [])
        if len(users) == 0 or users[0].op_type != op_type:
            fail(f"{name}: expected a {op_type} consumer, got {[u.op_type for u in users]}")
        return users[0]

    def scalar(self, name):
        v = self.const[name]
        if v.size != 1:
            fail(f"{name}: expected a scalar, got shape {v.shape}")
        return float(v.reshape(()))

    def other_input(self, node, known):
        rest = [i for i in node.input if i != known]
        if len(rest) != 1:
            fail(f"{node.output[0]}: cannot tell its operands apart")
        return rest[0]


def fold_bn(g, w, bias, bn):
    scale_name, shift_name, mean_name, var_name = bn.input[1:5]
    if abs(attr(bn, "epsilon") - BN_EPS) > 1e-9:
        fail(f"{bn.output[0]}: epsilon {attr(bn, 'epsilon')}")
    gamma, beta = g.const[scale_name], g.const[shift_name]
    mean, var = g.const[mean_name], g.const[var_name]
    k = gamma.astype(np.float64) / np.sqrt(var.astype(np.float64) + BN_EPS)
    b0 = np.zeros_like(k) if bias is None else bias.astype(np.float64)
    w2 = w.astype(np.float64) * k[:, None, None, None]
    b2 = (b0 - mean) * k + beta
    return w2, b2


def check(name, array, shape):
    if tuple(array.shape) != tuple(shape):
        fail(f"{name}: shape {array.shape}, want {shape}")


def convert(onnx_path, out_dir, dtype=np.float16):
    data = Path(onnx_path).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != EXPECTED_SHA256:
        fail(f"unexpected sha256 {digest} for {onnx_path} (want {EXPECTED_SHA256})")
    model = onnx.load_from_string(data)
    g = Graph(model)
    t = {}  # name -> float64 array

    convs = [n for n in g.nodes if n.op_type == "Conv"]
    # Stem: 3x3 stride-2 conv, BatchNorm, no activation.
    stem = convs[0]
    if stem.input[0] != model.graph.input[0].name or attr(stem, "strides") != [2, 2]:
        fail("the first conv is not the stride-2 stem")
    w = g.const[stem.input[1]]
    check("stem", w, (16, 3, 3, 3))
    bn = g.only_consumer(stem.output[0], "BatchNormalization")
    t["backbone.stem.weight"], t["backbone.stem.bias"] = fold_bn(g, w, None, bn)

    # The backbone's main convs come next, in forward order; SE convs are found by pattern.
    main = [c for c in convs[1:] if attr(c, "group") > 1 or
            g.consumers[c.output[0]][0].op_type == "Mul"]
    if len(main) < 2 * len(BLOCKS):
        fail(f"found {len(main)} backbone convs, want {2 * len(BLOCKS)}")
    for i, (k, cin, cout, stride, se) in enumerate(BLOCKS):
        for j, (kind, conv) in enumerate((("dw", main[2 * i]), ("pw", main[2 * i + 1]))):
            p = f"backbone.blocks.{i}.{kind}"
            w, b = g.const[conv.input[1]], g.const[conv.input[2]]
            if kind == "dw":
                check(p, w, (cin, 1, k, k))
                if attr(conv, "group") != cin or attr(conv, "strides") != list(stride) or \
                        attr(conv, "pads") != [k // 2] * 4:
                    fail(f"{p}: group {attr(conv, 'group')} strides {attr(conv, 'strides')}")
            else:
                check(p, w, (cout, cin, 1, 1))
            # Learnable affine block: Mul(s, conv) then Add(., b).
            mul = g.only_consumer(conv.output[0], "Mul")
            s = g.scalar(g.other_input(mul, conv.output[0]))
            add = g.only_consumer(mul.output[0], "Add")
            lab_b = g.scalar(g.other_input(add, mul.output[0]))
            t[f"{p}.weight"] = w.astype(np.float64) * s
            t[f"{p}.bias"] = b.astype(np.float64) * s + lab_b
            # Hard-swish: x * clip(x + 3, 0, 6) / 6, then Mul(a, .) and Add(., c).
            users = g.consumers[add.output[0]]
            plus3 = [u for u in users if u.op_type == "Add"][0]
            if g.scalar(g.other_input(plus3, add.output[0])) != 3.0:
                fail(f"{p}: hard-swish offset is not 3")
            times = [u for u in users if u.op_type == "Mul"][0]
            div = g.only_consumer(times.output[0], "Div")
            if g.scalar(div.input[1]) != 6.0:
                fail(f"{p}: hard-swish divisor is not 6")
            amul = g.only_consumer(div.output[0], "Mul")
            aadd = g.only_consumer(amul.output[0], "Add")
            t[f"{p}.act.scale"] = np.array([g.scalar(g.other_input(amul, div.output[0]))])
            t[f"{p}.act.bias"] = np.array([g.scalar(g.other_input(aadd, amul.output[0]))])
            if kind == "dw":
                users = g.consumers[aadd.output[0]]
                gap = [u for u in users if u.op_type == "GlobalAveragePool"]
                if bool(gap) != se:
                    fail(f"backbone.blocks.{i}: SE present {bool(gap)}, want {se}")
                if se:
                    c1 = g.only_consumer(gap[0].output[0], "Conv")
                    relu = g.only_consumer(c1.output[0], "Relu")
                    c2 = g.only_consumer(relu.output[0], "Conv")
                    hs = g.only_consumer(c2.output[0], "HardSigmoid")
                    if abs(attr(hs, "alpha") - 1 / 6) > 1e-6 or attr(hs, "beta") != 0.5:
                        fail(f"backbone.blocks.{i}.se: unexpected hard-sigmoid")
                    sp = f"backbone.blocks.{i}.se"
                    check(sp + ".conv1", g.const[c1.input[1]], (cin // 4, cin, 1, 1))
                    check(sp + ".conv2", g.const[c2.input[1]], (cin, cin // 4, 1, 1))
                    t[f"{sp}.conv1.weight"] = g.const[c1.input[1]]
                    t[f"{sp}.conv1.bias"] = g.const[c1.input[2]]
                    t[f"{sp}.conv2.weight"] = g.const[c2.input[1]]
                    t[f"{sp}.conv2.bias"] = g.const[c2.input[2]]

    # Neck: the convs followed by BatchNorm, in order: conv1 (1x3), conv2 (1x1), conv3 (1x1),
    # conv4 (1x3), conv1x1 (1x1), each BN then swish.
    neck = [c for c in convs if g.consumers[c.output[0]][0].op_type == "BatchNormalization"]
    neck = [c for c in neck if c is not stem]
    shapes = [("conv1", (60, 480, 1, 3)), ("conv2", (120, 60, 1, 1)), ("conv3", (480, 120, 1, 1)),
              ("conv4", (60, 960, 1, 3)), ("conv1x1", (120, 60, 1, 1))]
    if len(neck) != len(shapes):
        fail(f"found {len(neck)} neck convs, want {len(shapes)}")
    for conv, (name, shape) in zip(neck, shapes):
        w = g.const[conv.input[1]]
        check(f"neck.{name}", w, shape)
        bn = g.only_consumer(conv.output[0], "BatchNormalization")
        t[f"neck.{name}.weight"], t[f"neck.{name}.bias"] = fold_bn(g, w, None, bn)

    # LayerNorms and linears appear in forward order: block 0 (norm1, qkv, proj, norm2, fc1,
    # fc2), block 1 (same), the final norm, then the CTC head.
    ln_w = sorted((n for n in g.const if n.startswith("layer_norm_") and n.endswith(".w_0")),
                  key=lambda n: int(n.split("_")[2].split(".")[0]))
    lin_w = sorted((n for n in g.const if n.startswith("linear_") and n.endswith(".w_0")),
                   key=lambda n: int(n.split("_")[1].split(".")[0]))
    if len(ln_w) != 5 or len(lin_w) != 9:
        fail(f"found {len(ln_w)} LayerNorms and {len(lin_w)} linears, want 5 and 9")
    ln_names = ["neck.svtr.0.norm1", "neck.svtr.0.norm2", "neck.svtr.1.norm1",
                "neck.svtr.1.norm2", "neck.norm"]
    for src, dst in zip(ln_w, ln_names):
        check(dst, g.const[src], (120,))
        t[f"{dst}.weight"] = g.const[src]
        t[f"{dst}.bias"] = g.const[src.replace(".w_0", ".b_0")]
    lin_names = [("neck.svtr.0.attn.qkv", 360), ("neck.svtr.0.attn.proj", 120),
                 ("neck.svtr.0.mlp.fc1", 240), ("neck.svtr.0.mlp.fc2", 120),
                 ("neck.svtr.1.attn.qkv", 360), ("neck.svtr.1.attn.proj", 120),
                 ("neck.svtr.1.mlp.fc1", 240), ("neck.svtr.1.mlp.fc2", 120),
                 ("head.fc", NUM_CLASSES)]
    for src, (dst, out) in zip(lin_w, lin_names):
        w = g.const[src]
        if w.shape[1] != out:
            fail(f"{dst}: shape {w.shape}, want (*, {out})")
        t[f"{dst}.weight"] = w.T
        t[f"{dst}.bias"] = g.const[src.replace(".w_0", ".b_0")]

    keys = [p.value for p in model.metadata_props if p.key == "character"]
    if len(keys) != 1:
        fail("no 'character' list in the model metadata")
    chars = keys[0].splitlines()
    if len(chars) + 2 != NUM_CLASSES or any(len(c) != 1 for c in chars):
        fail(f"character list has {len(chars)} entries (want {NUM_CLASSES - 2}, one char each)")

    out_dir = Path(out_dir)
    tensors = {k: np.ascontiguousarray(v).astype(dtype) for k, v in t.items()}
    # Scalars are kept in f32: they are few, and f16 would round them for no saving.
    for k, v in t.items():
        if v.size == 1:
            tensors[k] = np.ascontiguousarray(v).astype(np.float32)
    save_safetensors(out_dir / "ppocrv4_rec.safetensors", tensors, metadata={
        "source": "ch_PP-OCRv4_rec_infer.onnx from PyPI rapidocr_onnxruntime 1.4.4, "
                  f"sha256 {EXPECTED_SHA256}",
        "license": "Apache-2.0 (PaddlePaddle/PaddleOCR)",
        "note": "BatchNorm and learnable affine blocks folded into convs; f16 storage",
    })
    (out_dir / "ppocrv4_rec_keys.txt").write_text("".join(c + "\n" for c in chars),
                                                  encoding="utf-8")
    params = sum(v.size for v in t.values())
    print(f"wrote {len(tensors)} tensors, {params} parameters, {len(chars)} characters "
          f"to {out_dir}")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    args = [a for a in sys.argv[1:] if a != "--f32"]
    # --f32 keeps full precision: only for checking what f16 storage costs in parity.
    convert(args[0], args[1] if len(args) > 1 else "assets/models",
            np.float32 if "--f32" in sys.argv else np.float16)
