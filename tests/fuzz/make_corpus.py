#!/usr/bin/env python3
"""Writes the seed files of the fuzz harnesses into tests/fuzz/corpus/<reader>/.

Each reader gets a few small valid files (every feature of the format once),
a few near-valid ones (one field wrong, a size that overflows, a length that
points past the end) and the inputs fuzzing found, so the fuzzer starts next
to the interesting checks. Deterministic and standard-library only; rerun
after changing it:

    python3 tests/fuzz/make_corpus.py

A corpus folder holds two kinds of files: these seeds, named for what they
are, and the files libFuzzer kept from long runs, named by the SHA-1 of their
bytes (scripts/fuzz.sh merges them in after every clean run of >= 600 s, see
tests/fuzz/long-runs.txt). This script rewrites the seeds only and never
touches the SHA-1-named files: they are the coverage earlier runs paid for.
"""
import json
import pathlib
import struct

CORPUS = pathlib.Path(__file__).resolve().parent / "corpus"


def write(reader, name, data):
    folder = CORPUS / reader
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data.encode() if isinstance(data, str) else data)


# ------------------------------------------------------------------ IDX


def idx_images(count, rows, cols, pixels):
    return struct.pack(">IIII", 0x803, count, rows, cols) + bytes(pixels)


def idx_labels(count, labels):
    return struct.pack(">II", 0x801, count) + bytes(labels)


def make_idx():
    write("idx", "images_2x3x3", idx_images(2, 3, 3, [(i * 37) % 256 for i in range(18)]))
    write("idx", "images_1x1x1", idx_images(1, 1, 1, [255]))
    write("idx", "labels_10", idx_labels(10, range(10)))
    write("idx", "labels_1", idx_labels(1, [7]))
    # near-valid
    write("idx", "images_truncated", idx_images(2, 3, 3, [1] * 10))
    write("idx", "images_too_long", idx_images(1, 2, 2, [1] * 5))
    write("idx", "images_huge_dims", idx_images(0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, []))
    write("idx", "images_side_4097", idx_images(1, 4097, 1, []))
    write("idx", "images_zero_count", idx_images(0, 3, 3, []))
    write("idx", "labels_bad_label", idx_labels(3, [1, 12, 3]))
    write("idx", "labels_count_10m", idx_labels(10_000_001, []))
    write("idx", "header_only_magic", struct.pack(">I", 0x803))


# ------------------------------------------------------------------ .npy


def npy(descr, shape, data, version=1, fortran=False, quote="'", pad=True):
    q = quote
    tuple_text = "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"
    header = (f"{{{q}descr{q}: {q}{descr}{q}, {q}fortran_order{q}: {fortran}, "
              f"{q}shape{q}: {tuple_text}, }}")
    fixed = 10 if version == 1 else 12
    if pad:
        header += " " * ((64 - (fixed + len(header) + 1) % 64) % 64)
    header += "\n"
    length = struct.pack("<H", len(header)) if version == 1 else struct.pack("<I", len(header))
    return b"\x93NUMPY" + bytes([version, 0]) + length + header.encode() + data


def floats(fmt, values):
    return struct.pack("<" + fmt * len(values), *values)


def make_npy():
    write("npy", "f4_2x3.npy", npy("<f4", (2, 3), floats("f", [0, 1, -2.5, 3e38, float("inf"), float("nan")])))
    write("npy", "f8_vector5.npy", npy("<f8", (5,), floats("d", [1e-300, -0.0, 2, 3, 1e300])))
    write("npy", "f4_scalar.npy", npy("<f4", (), floats("f", [42])))
    write("npy", "f8_empty_0x3.npy", npy("<f8", (0, 3), b""))
    write("npy", "f4_v2.npy", npy("<f4", (1, 2), floats("f", [1, 2]), version=2))
    write("npy", "f8_v3_double_quotes.npy", npy("<f8", (2,), floats("d", [1, 2]), version=3, quote='"'))
    write("npy", "f4_unpadded.npy", npy("<f4", (1, 1, 1, 1), floats("f", [1]), pad=False))
    # near-valid
    write("npy", "fortran_order.npy", npy("<f4", (2,), floats("f", [1, 2]), fortran=True))
    write("npy", "dtype_i4.npy", npy("<i4", (2,), struct.pack("<ii", 1, 2)))
    write("npy", "truncated_data.npy", npy("<f8", (4,), floats("d", [1, 2])))
    write("npy", "shape_overflow.npy", npy("<f4", (2**40, 2**40), b""))
    write("npy", "shape_2e31.npy", npy("<f4", (2**31 + 1,), b""))
    # The safetensors finding's siblings: empty arrays at and past the size limit.
    write("npy", "f4_empty_0x2e31.npy", npy("<f4", (0, 2**31), b""))
    write("npy", "f8_empty_past_2e31.npy", npy("<f8", (2, 0, 2**30 + 1), b""))
    write("npy", "f8_beyond_float.npy", npy("<f8", (1,), floats("d", [1e300])))
    long_header = bytearray(npy("<f4", (1,), floats("f", [1])))
    long_header[8:10] = struct.pack("<H", 0xFFFF)
    write("npy", "header_length_past_end.npy", bytes(long_header))
    write("npy", "version_4.npy", npy("<f4", (1,), floats("f", [1]), version=4))


# ------------------------------------------------------------------ .safetensors


def safetensors(entries, metadata=None, buffer=b"", header_text=None):
    """entries: name -> (dtype, shape, [begin, end])."""
    header = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, (dtype, shape, offsets) in entries.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": offsets}
    text = header_text if header_text is not None else json.dumps(header, separators=(",", ":"))
    text += " " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text.encode() + buffer


def make_safetensors():
    write("safetensors", "two_f32_with_metadata.safetensors",
          safetensors({"0.weight": ("F32", [2, 2], [0, 16]), "0.bias": ("F32", [2], [16, 24])},
                      {"architecture": "mlp", "epochs": "3"}, floats("f", [1, 2, 3, 4, 5, 6])))
    write("safetensors", "f64_scalar.safetensors",
          safetensors({"x": ("F64", [], [0, 8])}, None, floats("d", [3.25])))
    write("safetensors", "empty_tensor.safetensors",
          safetensors({"e": ("F32", [0, 5], [0, 0]), "v": ("F64", [1], [0, 8])}, {}, floats("d", [-1])))
    write("safetensors", "no_tensors.safetensors", safetensors({}, {"note": "only metadata"}))
    # near-valid
    write("safetensors", "overlap.safetensors",
          safetensors({"a": ("F32", [2], [0, 8]), "b": ("F32", [2], [4, 12])}, None, floats("f", [1, 2, 3])))
    write("safetensors", "offsets_past_end.safetensors",
          safetensors({"a": ("F32", [4], [0, 16])}, None, floats("f", [1, 2])))
    write("safetensors", "dtype_f16.safetensors", safetensors({"h": ("F16", [2], [0, 4])}, None, b"\0" * 4))
    write("safetensors", "shape_overflow.safetensors",
          safetensors({"a": ("F32", [2**32, 2**32, 2**32], [0, 0])}))
    write("safetensors", "metadata_not_string.safetensors", safetensors({}, {"n": 3}))
    write("safetensors", "header_not_json.safetensors", safetensors({}, header_text="{\"a\": [1, 2"))
    write("safetensors", "header_length_huge.safetensors", struct.pack("<Q", 2**63) + b"{}")
    write("safetensors", "begin_after_end.safetensors", safetensors({"a": ("F32", [0], [8, 4])}, None, b"\0" * 8))
    # Found by fuzz_safetensors (249 s): an empty F32 tensor whose non-zero
    # extents multiply to 2^61.2, once read but not re-readable as F64.
    write("safetensors", "found_empty_extents_2e61.safetensors",
          safetensors({"a": ("F32", [2, 499, 42, 0, 664, 0, 664, 66, 92049, 24], [0, 0])}))
    # Its siblings at the size limit: 2^31 non-zero elements (read, in either
    # dtype) and one more (rejected, in either dtype).
    write("safetensors", "empty_extents_2e31_f64.safetensors",
          safetensors({"a": ("F64", [65536, 0, 32768], [0, 0])}))
    write("safetensors", "empty_extents_past_2e31.safetensors",
          safetensors({"a": ("F32", [0, 2**31 + 1], [0, 0]), "b": ("F64", [1], [0, 8])}, None, floats("d", [1])))


# ------------------------------------------------------------------ architecture

SMALL_MLP = {"input_shape": [4], "layers": [
    {"type": "linear", "in": 4, "out": 3}, {"type": "relu"}, {"type": "linear", "in": 3, "out": 2}]}
SMALL_CNN = {"input_shape": [1, 5, 5], "layers": [
    {"type": "conv2d", "in": 1, "out": 2, "kernel": 3, "stride": 1, "padding": 1}, {"type": "relu"},
    {"type": "maxpool2d", "kernel": 2, "stride": 2}, {"type": "flatten"},
    {"type": "linear", "in": 8, "out": 3}]}
EVERY_LAYER = {"input_shape": [2, 6, 6], "dtype": "float64", "layers": [
    {"type": "conv2d", "in": 2, "out": 2, "kernel": 2, "bias": False}, {"type": "softplus", "beta": 10},
    {"type": "avgpool2d", "kernel": 2, "stride": 1}, {"type": "tanh"}, {"type": "maxpool2d", "kernel": 2},
    {"type": "flatten"}, {"type": "dropout", "p": 0.25}, {"type": "linear", "in": 8, "out": 2, "bias": False},
    {"type": "sigmoid"}]}


SMALL_RESNET = {"input_shape": [2, 4, 4], "layers": [
    {"type": "conv2d", "in": 2, "out": 4, "kernel": 3, "padding": 1, "bias": False, "groups": 2},
    {"type": "batchnorm2d", "channels": 4, "eps": 0.001, "momentum": 0.2}, {"type": "relu"},
    {"type": "residual", "body": [{"type": "conv2d", "in": 4, "out": 4, "kernel": 3, "padding": 1},
                                  {"type": "batchnorm2d", "channels": 4}],
     "shortcut": []}, {"type": "relu"},
    {"type": "residual", "body": [{"type": "conv2d", "in": 4, "out": 2, "kernel": 3, "stride": 2, "padding": 1}],
     "shortcut": [{"type": "conv2d", "in": 4, "out": 2, "kernel": 1, "stride": 2},
                  {"type": "batchnorm2d", "channels": 2}]},
    {"type": "global_avgpool2d"}, {"type": "linear", "in": 2, "out": 3}]}
RESNET_SHAPES = {"0.weight": [4, 1, 3, 3], "1.weight": [4], "1.bias": [4], "1.running_mean": [4],
                 "1.running_var": [4], "3.body.0.weight": [4, 4, 3, 3], "3.body.0.bias": [4],
                 "3.body.1.weight": [4], "3.body.1.bias": [4], "3.body.1.running_mean": [4],
                 "3.body.1.running_var": [4], "5.body.0.weight": [2, 4, 3, 3], "5.body.0.bias": [2],
                 "5.shortcut.0.weight": [2, 4, 1, 1], "5.shortcut.0.bias": [2], "5.shortcut.1.weight": [2],
                 "5.shortcut.1.bias": [2], "5.shortcut.1.running_mean": [2], "5.shortcut.1.running_var": [2],
                 "7.weight": [3, 2], "7.bias": [3]}


def make_architecture():
    write("architecture", "preset_mlp.json", "mlp")
    write("architecture", "preset_cnn.json", "cnn")
    write("architecture", "preset_resnet.json", "resnet")
    write("architecture", "small_resnet.json", json.dumps(SMALL_RESNET))
    write("architecture", "small_mlp.json", json.dumps(SMALL_MLP))
    write("architecture", "small_cnn.json", json.dumps(SMALL_CNN))
    write("architecture", "every_layer.json", json.dumps(EVERY_LAYER))
    # near-valid
    near = {
        "unknown_field": {"input_shape": [4], "layers": [{"type": "linear", "in": 4, "out": 2, "outt": 2}]},
        "huge_linear": {"input_shape": [100000], "layers": [{"type": "linear", "in": 100000, "out": 100000}]},
        "field_2e63": {"input_shape": [4], "layers": [{"type": "linear", "in": 2**63, "out": 2}]},
        "huge_padding": {"input_shape": [1, 4, 4], "layers": [
            {"type": "conv2d", "in": 1, "out": 1, "kernel": 1, "padding": 2**62}]},
        "beta_1e300": {"input_shape": [4], "layers": [{"type": "softplus", "beta": 1e300}]},
        "negative_in": {"input_shape": [4], "layers": [{"type": "linear", "in": -4, "out": 2}]},
        "dtype_int8": {"input_shape": [4], "dtype": "int8", "layers": [{"type": "relu"}]},
        "does_not_fit": {"input_shape": [5], "layers": [{"type": "linear", "in": 4, "out": 2}]},
        "huge_input": {"input_shape": [65536, 65536, 2], "layers": [{"type": "flatten"}]},
        "pool_too_big": {"input_shape": [1, 2, 2], "layers": [{"type": "maxpool2d", "kernel": 3}]},
        "dropout_p_1": {"input_shape": [4], "layers": [{"type": "dropout", "p": 1}]},
        "residual_paths_differ": {"input_shape": [1, 4, 4], "layers": [{"type": "residual", "body": [
            {"type": "conv2d", "in": 1, "out": 2, "kernel": 1}]}]},
        "residual_nested": {"input_shape": [1, 4, 4], "layers": [{"type": "residual", "body": [
            {"type": "residual", "body": [{"type": "relu"}], "shortcut": [{"type": "tanh"}]}]}]},
        "groups_not_dividing": {"input_shape": [3, 4, 4], "layers": [
            {"type": "conv2d", "in": 3, "out": 4, "kernel": 1, "groups": 2}]},
        "batchnorm_wrong_channels": {"input_shape": [3, 4, 4], "layers": [{"type": "batchnorm2d", "channels": 2}]},
    }
    for name, description in near.items():
        write("architecture", name + ".json", json.dumps(description))


# ------------------------------------------------------------------ model files


def model_file(architecture, shapes, dtype="F32", drop=(), reshape=None, extra=None):
    """A model file for `architecture` with parameters of `shapes` (name -> shape), values 0.01 * i."""
    fmt, size = ("f", 4) if dtype == "F32" else ("d", 8)
    entries, buffer, offset = {}, b"", 0
    for name, shape in shapes.items():
        if name in drop:
            continue
        shape = (reshape or {}).get(name, shape)
        count = 1
        for n in shape:
            count *= n
        entries[name] = (dtype, shape, [offset, offset + count * size])
        buffer += floats(fmt, [0.01 * i for i in range(count)])
        offset += count * size
    for name, (shape, values) in (extra or {}).items():
        entries[name] = (dtype, shape, [offset, offset + len(values) * size])
        buffer += floats(fmt, values)
        offset += len(values) * size
    return safetensors(entries, {"architecture": json.dumps(architecture), "epochs": "1"}, buffer)


MLP_SHAPES = {"0.weight": [3, 4], "0.bias": [3], "2.weight": [2, 3], "2.bias": [2]}
CNN_SHAPES = {"0.weight": [2, 1, 3, 3], "0.bias": [2], "4.weight": [3, 8], "4.bias": [3]}
EVERY_SHAPES = {"0.weight": [2, 2, 2, 2], "7.weight": [2, 8]}


def make_model_io():
    write("model_io", "mlp_f32.safetensors", model_file(dict(SMALL_MLP, dtype="float32"), MLP_SHAPES))
    write("model_io", "mlp_f64.safetensors", model_file(dict(SMALL_MLP, dtype="float64"), MLP_SHAPES, "F64"))
    write("model_io", "cnn_f32.safetensors", model_file(SMALL_CNN, CNN_SHAPES))
    write("model_io", "every_layer_f64.safetensors", model_file(EVERY_LAYER, EVERY_SHAPES, "F64"))
    write("model_io", "small_resnet_f64.safetensors", model_file(dict(SMALL_RESNET, dtype="float64"), RESNET_SHAPES,
                                                                "F64"))
    write("model_io", "resnet_missing_running_var.safetensors",
          model_file(SMALL_RESNET, RESNET_SHAPES, drop=("1.running_var",)))
    # near-valid
    write("model_io", "missing_bias.safetensors", model_file(SMALL_MLP, MLP_SHAPES, drop=("2.bias",)))
    write("model_io", "wrong_shape.safetensors", model_file(SMALL_MLP, MLP_SHAPES, reshape={"0.weight": [4, 3]}))
    write("model_io", "dtype_mismatch.safetensors",
          model_file(dict(SMALL_MLP, dtype="float32"), MLP_SHAPES, "F64"))
    write("model_io", "extra_tensor.safetensors", model_file(SMALL_MLP, MLP_SHAPES, extra={"9.weight": ([1], [1])}))
    write("model_io", "huge_architecture_no_tensors.safetensors",
          safetensors({}, {"architecture": json.dumps(
              {"input_shape": [60000], "layers": [{"type": "linear", "in": 60000, "out": 30000}]})}))
    write("model_io", "no_architecture.safetensors", safetensors({"0.weight": ("F32", [1], [0, 4])}, {}, b"\0" * 4))
    write("model_io", "beyond_float.safetensors",
          model_file(SMALL_MLP, MLP_SHAPES, "F64", drop=("2.bias",), extra={"2.bias": ([2], [1e300, 0])}))


# ------------------------------------------------------------------ onnx
# ONNX models are protobuf ModelProtos; a few lines of protobuf encoding
# (varints, length-delimited fields) write them without the onnx package.

def varint(n):
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field(number, value):
    """One protobuf field: ints as varints, bytes/str as length-delimited."""
    if isinstance(value, int):
        return varint(number << 3) + varint(value)
    if isinstance(value, float):
        return varint((number << 3) | 5) + struct.pack("<f", value)
    data = value.encode() if isinstance(value, str) else value
    return varint((number << 3) | 2) + varint(len(data)) + data


def attribute(name, value):
    """AttributeProto: name 1, f 2, i 3, s 4, floats 7, ints 8, type 20 (FLOAT 1, INT 2, STRING 3, INTS 7)."""
    if isinstance(value, list):
        return field(1, name) + b"".join(field(8, v) for v in value) + field(20, 7)
    if isinstance(value, float):
        return field(1, name) + field(2, value) + field(20, 1)
    if isinstance(value, str):
        return field(1, name) + field(4, value) + field(20, 3)
    return field(1, name) + field(3, value) + field(20, 2)


def node(op, inputs, outputs, **attributes):
    """NodeProto: input 1, output 2, name 3, op_type 4, attribute 5."""
    body = b"".join(field(1, i) for i in inputs) + b"".join(field(2, o) for o in outputs)
    body += field(3, op.lower() + "_" + outputs[0]) + field(4, op)
    return body + b"".join(field(5, attribute(k, v)) for k, v in attributes.items())


def tensor(name, dims, values, data_type=1):
    """TensorProto: dims 1, data_type 2, float_data 4 (packed), int64_data 7 (packed), name 8."""
    body = b"".join(field(1, d) for d in dims) + field(2, data_type)
    if data_type == 7:
        body += field(7, b"".join(varint(v) for v in values))
    else:
        body += field(4, struct.pack(f"<{len(values)}f", *values))
    return body + field(8, name)


def value_info(name, dims):
    """ValueInfoProto name 1, type 2: TypeProto.tensor_type 1 {elem_type 1, shape 2 {dim 1 {dim_value 1 | dim_param 2}}}."""
    shape = b"".join(field(1, field(2, "N") if d < 0 else field(1, d)) for d in dims)
    return field(1, name) + field(2, field(1, field(1, 1) + field(2, shape)))


def onnx_model(nodes, initializers, input_dims, output, opset=13):
    """ModelProto: ir_version 1, opset_import 8 {domain 1, version 2}, graph 7 {node 1, name 2, initializer 5, input 11, output 12}."""
    graph = b"".join(field(1, n) for n in nodes) + field(2, "g")
    graph += b"".join(field(5, t) for t in initializers)
    graph += field(11, value_info("x", input_dims)) + field(12, field(1, output) + field(2, field(1, field(1, 1))))
    return field(1, 8) + field(8, field(1, "") + field(2, opset)) + field(7, graph)


def make_onnx():
    w = [0.1 * (i % 5 - 2) for i in range(6)]
    write("onnx", "gemm_sigmoid.onnx", onnx_model(
        [node("Sigmoid", ["x"], ["s"]), node("Gemm", ["s", "W", "b"], ["y"], transB=1)],
        [tensor("W", [2, 3], w), tensor("b", [2], [0.5, -0.5])], [-1, 3], "y"))
    conv_w = [0.05 * (i % 7 - 3) for i in range(2 * 1 * 3 * 3)]
    write("onnx", "conv_bn_relu_pool.onnx", onnx_model(
        [node("Conv", ["x", "Wc", "bc"], ["c"], kernel_shape=[3, 3], pads=[1, 0, 1, 2], strides=[1, 2], group=1),
         node("BatchNormalization", ["c", "g", "be", "m", "v"], ["n"], epsilon=1e-5),
         node("Relu", ["n"], ["r"]),
         node("MaxPool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1),
         node("AveragePool", ["p"], ["a"], kernel_shape=[2, 1], pads=[1, 0, 0, 0], count_include_pad=1),
         node("GlobalAveragePool", ["a"], ["gap"]),
         node("Flatten", ["gap"], ["y"])],
        [tensor("Wc", [2, 1, 3, 3], conv_w), tensor("bc", [2], [0.1, -0.1]), tensor("g", [2], [1.0, 0.5]),
         tensor("be", [2], [0.0, 0.2]), tensor("m", [2], [0.1, 0.0]), tensor("v", [2], [1.0, 2.0])], [1, 1, 6, 6], "y"))
    write("onnx", "shape_arithmetic.onnx", onnx_model(
        [node("Shape", ["x"], ["s"]), node("Gather", ["s", "zero"], ["n"], axis=0),
         node("Unsqueeze", ["n", "axes"], ["n1"]), node("Concat", ["n1", "minus_one"], ["t"], axis=0),
         node("Reshape", ["x", "t"], ["f"]), node("Pad", ["f", "pads"], ["y"], mode="constant")],
        [tensor("zero", [], [0], 7), tensor("axes", [1], [0], 7), tensor("minus_one", [1], [-1], 7),
         tensor("pads", [4], [0, 1, 0, 2], 7)], [-1, 2, 3], "y"))
    write("onnx", "elementwise.onnx", onnx_model(
        [node("Erf", ["x"], ["e"]), node("LeakyRelu", ["e"], ["l"], alpha=0.2), node("Elu", ["l"], ["u"]),
         node("Clip", ["u", "lo", "hi"], ["c"]), node("Max", ["c", "x"], ["m"]), node("Softmax", ["m"], ["s"], axis=-1),
         node("Slice", ["s", "st", "en"], ["y"])],
        [tensor("lo", [], [-0.5]), tensor("hi", [], [0.5]), tensor("st", [1], [1], 7), tensor("en", [1], [-1], 7)],
        [-1, 5], "y"))
    write("onnx", "huge_constant_of_shape.onnx", onnx_model(
        [node("ConstantOfShape", ["shape"], ["z"]), node("Add", ["x", "z"], ["y"])],
        [tensor("shape", [2], [1 << 20, 1 << 20], 7)], [-1, 2], "y"))


if __name__ == "__main__":
    for make in (make_idx, make_npy, make_safetensors, make_architecture, make_model_io, make_onnx):
        make()
    files = sorted(p for p in CORPUS.rglob("*") if p.is_file())
    print(f"make_corpus: {len(files)} files, {sum(p.stat().st_size for p in files)} bytes in {CORPUS}")
