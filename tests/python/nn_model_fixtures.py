#!/usr/bin/env python3
"""A PyTorch-style model file written and checked outside Fluxion.

    nn_model_fixtures.py write DIR   write py_model.safetensors (a small CNN in
                                     torch's state_dict names and layouts, F32,
                                     architecture in __metadata__), py_input.npy
                                     and py_logits.npy (its logits, float64)
    nn_model_fixtures.py check DIR   read cpp_model.safetensors + cpp_input.npy,
                                     recompute the logits with NumPy and compare
                                     with cpp_logits.npy; exit 1 on mismatch

Used by tests/nn/test_model_io.cpp. The forward pass here is written from the
PyTorch definitions (Conv2d cross-correlation with zero padding, MaxPool2d,
row-major Flatten, Linear x W^T + b) with NumPy only; the safetensors reader
and writer use only struct + json.
"""
import json
import struct
import sys

try:
    import numpy as np
except ImportError:
    sys.exit("nn_model_fixtures.py: numpy is not installed (run scripts/install-deps.sh)")

ARCH = {"input_shape": [2, 6, 6], "layers": [
    {"type": "conv2d", "in": 2, "out": 3, "kernel": 3, "stride": 1, "padding": 1},
    {"type": "relu"},
    {"type": "maxpool2d", "kernel": 2, "stride": 2},
    {"type": "flatten"},
    {"type": "linear", "in": 27, "out": 5},
    {"type": "relu"},
    {"type": "linear", "in": 5, "out": 3}]}


def write_safetensors(path, tensors, metadata):
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for name in sorted(tensors):
        data = np.ascontiguousarray(tensors[name], dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def read_safetensors(path):
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    buffer = raw[8 + n:]
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = {"F32": "<f4", "F64": "<f8"}[info["dtype"]]
        begin, end = info["data_offsets"]
        tensors[name] = np.frombuffer(buffer[begin:end], dtype=dtype).reshape(info["shape"]).astype(np.float64)
    return tensors, header.get("__metadata__", {})


def forward(arch, params, x):
    h = x
    for index, layer in enumerate(arch["layers"]):
        t = layer["type"]
        if t == "conv2d":
            w, b = params[f"{index}.weight"], params[f"{index}.bias"]
            s, p, k = layer.get("stride", 1), layer.get("padding", 0), layer["kernel"]
            n, c, height, width = h.shape
            hp = np.zeros((n, c, height + 2 * p, width + 2 * p))
            hp[:, :, p:p + height, p:p + width] = h
            ho, wo = (height + 2 * p - k) // s + 1, (width + 2 * p - k) // s + 1
            y = np.zeros((n, w.shape[0], ho, wo)) + b[None, :, None, None]
            for o in range(w.shape[0]):
                for ci in range(c):
                    for u in range(k):
                        for v in range(k):
                            y[:, o] += w[o, ci, u, v] * hp[:, ci, u:u + s * ho:s, v:v + s * wo:s]
            h = y
        elif t == "relu":
            h = np.maximum(h, 0)
        elif t == "maxpool2d":
            k = layer["kernel"]
            n, c, height, width = h.shape
            h = h[:, :, :height // k * k, :width // k * k].reshape(n, c, height // k, k, width // k, k).max(axis=(3, 5))
        elif t == "flatten":
            h = h.reshape(h.shape[0], -1)
        elif t == "linear":
            h = h @ params[f"{index}.weight"].T + params[f"{index}.bias"]
        else:
            raise ValueError("layer type not supported by the fixture: " + t)
    return h


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("write", "check"):
        sys.exit(__doc__)
    mode, folder = sys.argv[1], sys.argv[2]
    if mode == "write":
        rng = np.random.default_rng(2024)
        shapes = {"0.weight": (3, 2, 3, 3), "0.bias": (3,), "4.weight": (5, 27), "4.bias": (5,),
                  "6.weight": (3, 5), "6.bias": (3,)}
        params = {k: rng.uniform(-0.5, 0.5, s).astype(np.float32) for k, s in shapes.items()}
        write_safetensors(f"{folder}/py_model.safetensors", params, {"architecture": json.dumps(ARCH)})
        x = rng.uniform(0, 1, (4, 2, 6, 6))
        np.save(f"{folder}/py_input.npy", x)
        np.save(f"{folder}/py_logits.npy", forward(ARCH, {k: v.astype(np.float64) for k, v in params.items()}, x))
        return
    params, metadata = read_safetensors(f"{folder}/cpp_model.safetensors")
    arch = json.loads(metadata["architecture"])
    x = np.load(f"{folder}/cpp_input.npy")
    expected = forward(arch, params, x)
    got = np.load(f"{folder}/cpp_logits.npy")
    error = np.max(np.abs(expected - got))
    if got.shape != expected.shape or error > 1e-12:
        sys.exit(f"nn_model_fixtures.py: logits differ by {error} (shapes {got.shape} vs {expected.shape})")


if __name__ == "__main__":
    main()
