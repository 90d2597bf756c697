#!/usr/bin/env python3
"""Convert PP-OCRv4's text detection network (DBNet) from ONNX into the safetensors file Strata
embeds.

Usage:
    python3 scripts/convert_ppocr_det.py PATH/TO/ch_PP-OCRv4_det_infer.onnx \
        [assets/models/ppocrv4_det.safetensors] [--dtype f16|f32]

Where the ONNX file comes from (see assets/models/README.md):
    pip download --no-deps --only-binary=:all: -d DIR rapidocr-onnxruntime==1.4.4
    unzip -j DIR/rapidocr_onnxruntime-1.4.4-py3-none-any.whl \
        rapidocr_onnxruntime/models/ch_PP-OCRv4_det_infer.onnx
    sha256 d2a7720d45a54257208b1e13e36a8479894cb74155a5efe29462512d42f49da9

The graph (paddle2onnx export, opset 12, weights stored as Constant nodes with Paddle's
numeric names) is the reparameterised inference form of PaddleOCR's detector:

* backbone PPLCNetV3 (scale 0.75): `conv1` (3x3/2 conv + BatchNorm), then blocks2..blocks6
  of depthwise-separable blocks. Each depthwise and pointwise layer is one conv with bias
  followed by a "learnable affine block" (scalar scale and bias) and, except after a
  stride-2 depthwise conv, hard-swish followed by a second scalar affine. Two blocks of
  blocks6 have a squeeze-and-excitation module between their depthwise and pointwise conv.
  Four 1x1 convs (`layer_list`) reduce the stride-4/8/16/32 outputs to 12/18/42/360 channels.
* neck RSEFPN (96 channels): `ins_conv` (1x1) and `inp_conv` (3x3) layers, each conv without
  bias followed by a squeeze-and-excitation residual `x + x * se(x)`; top-down nearest x2
  upsampling and sums; the four levels are upsampled to stride 4 and concatenated.
* head DBHead, probability branch only: 3x3 conv + BN + ReLU, 2x2/2 transposed conv + BN +
  ReLU, 2x2/2 transposed conv, sigmoid.

This script walks the graph and checks every node it maps against that structure, so a
different file fails loudly. It folds the three BatchNorms and the affine right after each
backbone conv into the conv weights (in float64), and keeps the affine after hard-swish as
two scalars (folding it into the next conv would be wrong at zero-padded borders).

Requires: onnx, numpy, safetensors (pip install onnx numpy safetensors).
"""

import argparse
import hashlib
import sys

import numpy as np
import onnx
from onnx import numpy_helper
from safetensors.numpy import save_file

EXPECTED_SHA256 = "d2a7720d45a54257208b1e13e36a8479894cb74155a5efe29462512d42f49da9"

# Backbone blocks as the graph shows them: (stage, [(kernel, c_in, c_out, stride, se)]).
BLOCKS = [
    ("blocks2", [(3, 16, 32, 1, False)]),
    ("blocks3", [(3, 32, 48, 2, False), (3, 48, 48, 1, False)]),
    ("blocks4", [(3, 48, 96, 2, False), (3, 96, 96, 1, False)]),
    ("blocks5", [(3, 96, 192, 2, False)] + [(5, 192, 192, 1, False)] * 4),
    ("blocks6", [(5, 192, 384, 2, True), (5, 384, 384, 1, True),
                 (5, 384, 384, 1, False), (5, 384, 384, 1, False)]),
]
LAYER_LIST = [(48, 12), (96, 18), (192, 42), (384, 360)]
NECK = 96
# HardSigmoid slopes: Paddle's hardsigmoid(slope=1/6) in the backbone SE, the default 0.2 in
# the neck SE; both with offset 0.5. The Rust side hard-codes them; checked here.
BACKBONE_SE_SLOPE = 1.0 / 6.0
NECK_SE_SLOPE = 0.2


class Graph:
    """The ONNX graph with Constant values resolved and consumers indexed."""

    def __init__(self, model):
        self.nodes = list(model.graph.node)
        self.consts = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
        for n in self.nodes:
            if n.op_type == "Constant":
                self.consts[n.output[0]] = numpy_helper.to_array(n.attribute[0].t)
        self.users = {}
        for n in self.nodes:
            for i in n.input:
                self.users.setdefault(i, []).append(n)
        self.used = set()

    def node_of(self, name):
        for n in self.nodes:
            if name in n.output:
                return n
        fail(f"no node makes {name}")

    def only_user(self, value, op):
        users = [u for u in self.users.get(value, []) if u.op_type == op]
        if len(users) != 1:
            fail(f"{value}: want one {op} user, got {[u.op_type for u in users]}")
        return users[0]

    def const(self, node, index):
        name = node.input[index]
        if name not in self.consts:
            fail(f"{node.op_type} {node.output[0]}: input {index} is not a constant")
        return self.consts[name].astype(np.float64)

    def scalar_input(self, node):
        """The constant scalar operand of a binary Mul/Add and the other (tensor) input."""
        for i, other in ((0, 1), (1, 0)):
            if node.input[i] in self.consts:
                v = self.consts[node.input[i]]
                if v.size != 1:
                    fail(f"{node.output[0]}: constant operand is not a scalar")
                return float(v.reshape(-1)[0]), node.input[other]
        fail(f"{node.output[0]}: no constant operand")


def fail(msg):
    sys.exit(f"convert_ppocr_det: {msg}")


def attr(node, name, default=None):
    for a in node.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return default


def check_conv(node, shape, stride, group, has_bias):
    w_shape = tuple(graph.consts[node.input[1]].shape)
    k = shape[2]
    pads = [k // 2] * 4
    got = (w_shape, attr(node, "strides"), attr(node, "group"), attr(node, "pads"),
           len(node.input) == 3)
    want = (tuple(shape), [stride, stride], group, pads, has_bias)
    if got != want:
        fail(f"conv {node.output[0]}: got {got}, want {want}")


def affine_after(value):
    """Follows `value -> Mul(const) -> Add(const)`; returns (scale, bias, output name)."""
    mul = graph.only_user(value, "Mul")
    scale, _ = graph.scalar_input(mul)
    add = graph.only_user(mul.output[0], "Add")
    bias, _ = graph.scalar_input(add)
    return scale, bias, add.output[0]


def hardswish_after(value):
    """Follows `x + 3 -> Clip(0, 6) -> x * clip -> / 6`; returns the output name."""
    add = [u for u in graph.users[value] if u.op_type == "Add"]
    if len(add) != 1 or graph.scalar_input(add[0])[0] != 3.0:
        fail(f"{value}: no hard-swish")
    clip = graph.only_user(add[0].output[0], "Clip")
    lo, hi = graph.const(clip, 1), graph.const(clip, 2)
    mul = graph.only_user(clip.output[0], "Mul")
    div = graph.only_user(mul.output[0], "Div")
    if (lo, hi) != (0.0, 6.0) or value not in mul.input or graph.const(div, 1) != 6.0:
        fail(f"{value}: unexpected hard-swish")
    return div.output[0]


def rep_layer(tensors, name, x, kernel, c_in, c_out, stride, group):
    """One reparameterised conv: conv+bias, affine, [hard-swish, affine]. Returns output."""
    # A stage's output also feeds a `layer_list` conv: pick the one of this shape.
    shape = (c_out, c_in // group, kernel, kernel)
    convs = [u for u in graph.users[x] if u.op_type == "Conv"
             and tuple(graph.consts[u.input[1]].shape) == shape and attr(u, "group") == group]
    if len(convs) != 1:
        fail(f"{name}: want one conv of shape {shape} on {x}")
    conv = convs[0]
    check_conv(conv, shape, stride, group, True)
    w, b = graph.const(conv, 1), graph.const(conv, 2)
    scale, bias, out = affine_after(conv.output[0])
    tensors[f"{name}.conv.weight"] = w * scale
    tensors[f"{name}.conv.bias"] = b * scale + bias
    if stride == 2 and group > 1:
        # Strided depthwise convs have no activation in PPLCNetV3.
        return out
    out = hardswish_after(out)
    a_scale, a_bias, out = affine_after(out)
    tensors[f"{name}.act.scale"] = np.array([a_scale])
    tensors[f"{name}.act.bias"] = np.array([a_bias])
    return out


def se_module(tensors, name, x, channels, reduced, slope):
    """GAP -> 1x1 conv -> ReLU -> 1x1 conv -> HardSigmoid -> x * s. Returns `x * s`."""
    gap = graph.only_user(x, "GlobalAveragePool")
    c1 = graph.only_user(gap.output[0], "Conv")
    check_conv(c1, (reduced, channels, 1, 1), 1, 1, True)
    relu = graph.only_user(c1.output[0], "Relu")
    c2 = graph.only_user(relu.output[0], "Conv")
    check_conv(c2, (channels, reduced, 1, 1), 1, 1, True)
    hs = graph.only_user(c2.output[0], "HardSigmoid")
    if abs(attr(hs, "alpha") - slope) > 1e-6 or attr(hs, "beta") != 0.5:
        fail(f"{name}: hard-sigmoid {attr(hs, 'alpha')}, {attr(hs, 'beta')}")
    mul = graph.only_user(hs.output[0], "Mul")
    if x not in mul.input:
        fail(f"{name}: SE does not scale its input")
    for i, c in (("conv1", c1), ("conv2", c2)):
        tensors[f"{name}.{i}.weight"] = graph.const(c, 1)
        tensors[f"{name}.{i}.bias"] = graph.const(c, 2)
    return mul.output[0]


def fold_bn(bn, weight, bias, out_axis):
    """Folds BatchNormalization `bn` into a conv's weight (out channels on `out_axis`)."""
    scale_, shift, mean, var = (graph.const(bn, i) for i in range(1, 5))
    k = scale_ / np.sqrt(var + attr(bn, "epsilon"))
    shape = [1] * weight.ndim
    shape[out_axis] = -1
    return weight * k.reshape(shape), (bias - mean) * k + shift


def rse_layer(tensors, name, x, c_in, c_out, kernel):
    """Neck conv (no bias) + SE residual `y + y * se(y)`. Returns output."""
    conv = [u for u in graph.users[x] if u.op_type == "Conv"
            and tuple(graph.consts[u.input[1]].shape)[2] == kernel]
    if len(conv) != 1:
        fail(f"{name}: want one {kernel}x{kernel} conv on {x}")
    check_conv(conv[0], (c_out, c_in, kernel, kernel), 1, 1, False)
    tensors[f"{name}.in_conv.weight"] = graph.const(conv[0], 1)
    y = conv[0].output[0]
    scaled = se_module(tensors, f"{name}.se_block", y, c_out, c_out // 4, NECK_SE_SLOPE)
    add = graph.only_user(scaled, "Add")
    if y not in add.input:
        fail(f"{name}: no SE residual")
    return add.output[0]


def upsample_add(small, big):
    """`big + nearest_x2(small)`; returns the sum's name."""
    up = graph.only_user(small, "Resize")
    scales = graph.consts[up.input[2]].tolist()
    if scales != [1.0, 1.0, 2.0, 2.0] or attr(up, "mode") != b"nearest":
        fail(f"resize of {small}: {scales} {attr(up, 'mode')}")
    add = graph.only_user(up.output[0], "Add")
    if big not in add.input:
        fail(f"resize of {small} is not added to {big}")
    return add.output[0]


def convert_graph():
    tensors = {}
    x = graph.model_input
    # backbone.conv1: conv without bias + BatchNorm, no activation.
    conv = graph.only_user(x, "Conv")
    check_conv(conv, (16, 3, 3, 3), 2, 1, False)
    bn = graph.only_user(conv.output[0], "BatchNormalization")
    w, b = fold_bn(bn, graph.const(conv, 1), np.zeros(16), 0)
    tensors["backbone.conv1.weight"], tensors["backbone.conv1.bias"] = w, b
    x = bn.output[0]

    features = []
    for stage, blocks in BLOCKS:
        for j, (k, c_in, c_out, stride, se) in enumerate(blocks):
            name = f"backbone.{stage}.{j}"
            x = rep_layer(tensors, f"{name}.dw_conv", x, k, c_in, c_in, stride, c_in)
            if se:
                x = se_module(tensors, f"{name}.se", x, c_in, c_in // 4, BACKBONE_SE_SLOPE)
            x = rep_layer(tensors, f"{name}.pw_conv", x, 1, c_in, c_out, 1, 1)
        if stage != "blocks2":
            features.append(x)

    # backbone.layer_list: 1x1 convs with bias on the four outputs.
    reduced = []
    for i, ((c_in, c_out), f) in enumerate(zip(LAYER_LIST, features)):
        convs = [u for u in graph.users[f] if u.op_type == "Conv"
                 and graph.consts[u.input[1]].shape[0] == c_out]
        if len(convs) != 1:
            fail(f"layer_list.{i}: want one conv to {c_out} channels")
        check_conv(convs[0], (c_out, c_in, 1, 1), 1, 1, True)
        tensors[f"backbone.layer_list.{i}.weight"] = graph.const(convs[0], 1)
        tensors[f"backbone.layer_list.{i}.bias"] = graph.const(convs[0], 2)
        reduced.append(convs[0].output[0])

    # neck: ins_conv on each level, top-down sums, inp_conv, (upsample, concat checked by
    # the Rust side's parity test).
    ins = [rse_layer(tensors, f"neck.ins_conv.{i}", r, LAYER_LIST[i][1], NECK, 1)
           for i, r in enumerate(reduced)]
    out4 = upsample_add(ins[3], ins[2])
    out3 = upsample_add(out4, ins[1])
    out2 = upsample_add(out3, ins[0])
    levels = [ins[3], out4, out3, out2]
    for i, lvl in enumerate(levels):
        rse_layer(tensors, f"neck.inp_conv.{i}", lvl, NECK, NECK // 4, 3)
    concat = [n for n in graph.nodes if n.op_type == "Concat"]
    if len(concat) != 1:
        fail("want one Concat")

    # head: conv3x3 (no bias) + BN + ReLU, convT + bias + BN + ReLU, convT + bias, sigmoid.
    conv = graph.only_user(concat[0].output[0], "Conv")
    check_conv(conv, (NECK // 4, NECK, 3, 3), 1, 1, False)
    bn = graph.only_user(conv.output[0], "BatchNormalization")
    w, b = fold_bn(bn, graph.const(conv, 1), np.zeros(NECK // 4), 0)
    tensors["head.binarize.conv1.weight"], tensors["head.binarize.conv1.bias"] = w, b
    x = graph.only_user(bn.output[0], "Relu").output[0]
    for name, c_out, last in (("conv2", NECK // 4, False), ("conv3", 1, True)):
        ct = graph.only_user(x, "ConvTranspose")
        w = graph.const(ct, 1)
        if w.shape != (NECK // 4, c_out, 2, 2) or attr(ct, "strides") != [2, 2] \
                or attr(ct, "pads") != [0, 0, 0, 0] or len(ct.input) != 2:
            fail(f"head.{name}: unexpected ConvTranspose {w.shape}")
        add = graph.only_user(ct.output[0], "Add")
        b = [graph.consts[i] for i in add.input if i in graph.consts][0]
        b = b.astype(np.float64).reshape(-1)
        if last:
            x = graph.only_user(add.output[0], "Sigmoid").output[0]
        else:
            bn = graph.only_user(add.output[0], "BatchNormalization")
            w, b = fold_bn(bn, w, b, 1)
            x = graph.only_user(bn.output[0], "Relu").output[0]
        tensors[f"head.binarize.{name}.weight"] = w
        tensors[f"head.binarize.{name}.bias"] = np.broadcast_to(b, (c_out,)).copy()
    if x != graph.model_output:
        fail(f"the walk ended at {x}, not at the graph output {graph.model_output}")
    return tensors


def count_ops():
    """How many nodes of each type the graph has, for the log."""
    ops = {}
    for n in graph.nodes:
        ops[n.op_type] = ops.get(n.op_type, 0) + 1
    return ops


def main():
    global graph
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("onnx")
    ap.add_argument("out", nargs="?", default="assets/models/ppocrv4_det.safetensors")
    ap.add_argument("--dtype", choices=["f16", "f32"], default="f32")
    args = ap.parse_args()

    data = open(args.onnx, "rb").read()
    digest = hashlib.sha256(data).hexdigest()
    if digest != EXPECTED_SHA256:
        fail(f"unexpected sha256 {digest} for {args.onnx} (want {EXPECTED_SHA256})")
    model = onnx.load_from_string(data)
    graph = Graph(model)
    graph.model_input = model.graph.input[0].name
    graph.model_output = model.graph.output[0].name
    tensors = convert_graph()

    n_conv = sum(1 for n in graph.nodes if n.op_type in ("Conv", "ConvTranspose"))
    n_mapped = sum(1 for k in tensors if k.endswith(".weight"))
    if n_conv != n_mapped:
        fail(f"mapped {n_mapped} of {n_conv} convolutions")
    dtype = np.float16 if args.dtype == "f16" else np.float32
    out = {}
    for k, v in tensors.items():
        # The per-layer scalars stay f32: they are tiny and multiply whole feature maps.
        keep = k.endswith((".act.scale", ".act.bias"))
        out[k] = np.ascontiguousarray(v.astype(np.float32 if keep else dtype))
    # One metadata entry only: safetensors writes several in hash order, which would make
    # the file's bytes (and its sha256 in assets/models/README.md) vary from run to run.
    save_file(out, args.out, metadata={
        "source": "ch_PP-OCRv4_det_infer.onnx from PyPI rapidocr-onnxruntime 1.4.4 "
                  f"(sha256 {EXPECTED_SHA256}); Apache-2.0 (PaddlePaddle/PaddleOCR); "
                  f"BatchNorm and conv affines folded into the conv weights; {args.dtype}",
    })
    params = sum(v.size for v in out.values())
    print(f"wrote {len(out)} tensors, {params} parameters ({args.dtype}) to {args.out}; "
          f"ops in graph: {count_ops()}")


graph = None

if __name__ == "__main__":
    main()
