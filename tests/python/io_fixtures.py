#!/usr/bin/env python3
"""Cross-checks Fluxion's .npy and .safetensors files against NumPy.

    io_fixtures.py write DIR   write py_*.npy and py.safetensors into DIR
    io_fixtures.py check DIR   verify the cpp_*.npy and cpp_*.safetensors
                               files Fluxion wrote into DIR; exit 1 on mismatch

Used by tests/nn/test_io.cpp. Every array holds value(i, salt) at flat index i,
computed in float64 and rounded to float32 where stored as F32 / '<f4'; the
C++ test uses the same formula, so all comparisons are exact.

The .npy side uses numpy itself (np.save / np.load). The safetensors side is a
small independent implementation with only struct + json, following the
format spec: u64 little-endian header length, JSON header, byte buffer.
"""
import json
import os
import struct
import sys

try:
    import numpy as np
except ImportError:
    sys.exit("io_fixtures.py: numpy is not installed (run scripts/install-deps.sh)")

# name, dtype, shape, salt -- the same table lives in tests/nn/test_io.cpp.
NPY_ARRAYS = [
    ("f4_matrix", "<f4", (2, 3), 1),
    ("f8_cube", "<f8", (2, 3, 4), 2),
    ("f8_scalar", "<f8", (), 3),
    ("f4_vector", "<f4", (5,), 4),
    ("f4_empty", "<f4", (0, 3), 5),
]
# Files only Python writes, in the other format versions numpy supports.
NPY_VERSIONED = [
    ("f8_v2", "<f8", (3, 2), 6, (2, 0)),
    ("f4_v3", "<f4", (4,), 7, (3, 0)),
]
# name, dtype in py.safetensors, shape, salt.
SAFETENSORS = [
    ("0.weight", "F32", (3, 2), 10),
    ("0.bias", "F64", (3,), 11),
    ("2.weight", "F32", (1, 3), 12),
    ("scale", "F64", (), 13),
    ("empty", "F32", (0,), 14),
]
METADATA = {"format": "pt", "arch": "mlp:2-3-1"}

ST_FORMAT = {"F32": ("f", 4), "F64": ("d", 8)}


def value(i, salt):
    """The deterministic float64 value at flat index i."""
    return (i + salt) / 3.0 - 2.5


def count_of(shape):
    n = 1
    for extent in shape:
        n *= extent
    return n


def expected_array(dtype, shape, salt):
    flat = np.array([value(i, salt) for i in range(count_of(shape))], dtype=np.float64)
    return flat.reshape(shape).astype(np.dtype(dtype))


def expected_values(st_dtype, shape, salt):
    """Flat list of Python floats as stored with the given safetensors dtype."""
    values = [value(i, salt) for i in range(count_of(shape))]
    if st_dtype == "F32":
        values = [struct.unpack("<f", struct.pack("<f", v))[0] for v in values]
    return values


# ------------------------------------------------------------------ writing


def write_safetensors(path, entries, metadata):
    """entries: list of (name, dtype, shape, flat values); stored in list order."""
    header = {"__metadata__": metadata}
    chunks = []
    offset = 0
    for name, dtype, shape, values in entries:
        fmt, size = ST_FORMAT[dtype]
        data = struct.pack("<%d%s" % (len(values), fmt), *values)
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for data in chunks:
            f.write(data)


def write_fixtures(directory):
    for name, dtype, shape, salt in NPY_ARRAYS:
        np.save(os.path.join(directory, "py_%s.npy" % name), expected_array(dtype, shape, salt))
    for name, dtype, shape, salt, version in NPY_VERSIONED:
        with open(os.path.join(directory, "py_%s.npy" % name), "wb") as f:
            np.lib.format.write_array(f, expected_array(dtype, shape, salt), version=version)
    # Arrays Fluxion must refuse: Fortran order and an integer dtype.
    np.save(os.path.join(directory, "py_fortran.npy"), np.asfortranarray(expected_array("<f8", (2, 3), 8)))
    np.save(os.path.join(directory, "py_int64.npy"), np.arange(6, dtype="<i8"))

    # Stored in reverse name order, so offsets do not follow the names.
    entries = [(name, dtype, shape, expected_values(dtype, shape, salt))
               for name, dtype, shape, salt in reversed(SAFETENSORS)]
    write_safetensors(os.path.join(directory, "py.safetensors"), entries, METADATA)


# ------------------------------------------------------------------ checking


class Checker:
    def __init__(self):
        self.failures = []
        self.checks = 0

    def expect(self, condition, message):
        self.checks += 1
        if not condition:
            self.failures.append(message)


def check_npy(checker, directory):
    for name, dtype, shape, salt in NPY_ARRAYS:
        path = os.path.join(directory, "cpp_%s.npy" % name)
        try:
            array = np.load(path, allow_pickle=False)
        except Exception as e:  # noqa: BLE001 -- report any load failure as a mismatch
            checker.expect(False, "%s: np.load failed: %s" % (path, e))
            continue
        checker.expect(array.dtype == np.dtype(dtype), "%s: dtype %s, expected %s" % (path, array.dtype, dtype))
        checker.expect(array.shape == shape, "%s: shape %s, expected %s" % (path, array.shape, shape))
        checker.expect(array.flags.c_contiguous, "%s: not C-contiguous" % path)
        if array.shape == shape:
            checker.expect(np.array_equal(array, expected_array(dtype, shape, salt)),
                           "%s: values differ from the formula" % path)
        with open(path, "rb") as f:
            major = f.read(8)[6]
        checker.expect(major == 1, "%s: format version %d, expected 1.0" % (path, major))


def parse_safetensors(path):
    """Returns (header dict, buffer bytes, header length) -- stdlib only."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise ValueError("file shorter than 8 bytes")
    (length,) = struct.unpack("<Q", data[:8])
    if length > len(data) - 8:
        raise ValueError("header length exceeds the file")
    header = json.loads(data[8:8 + length].decode("utf-8"))
    return header, data[8 + length:], data[8:8 + length]


def check_safetensors_file(checker, path, stored_dtype):
    try:
        header, buffer, raw_header = parse_safetensors(path)
    except Exception as e:  # noqa: BLE001
        checker.expect(False, "%s: cannot parse: %s" % (path, e))
        return
    checker.expect(len(raw_header) % 8 == 0, "%s: header length %d is not a multiple of 8" % (path, len(raw_header)))
    checker.expect(raw_header.rstrip(b" ").endswith(b"}"), "%s: header padding is not spaces" % path)
    checker.expect(header.get("__metadata__") == METADATA,
                   "%s: metadata %r, expected %r" % (path, header.get("__metadata__"), METADATA))

    names = sorted(name for name, _, _, _ in SAFETENSORS)
    checker.expect(sorted(k for k in header if k != "__metadata__") == names, "%s: wrong tensor names" % path)
    offset = 0
    for name in names:  # tensors must be packed contiguously in name order
        _, _, shape, salt = next(e for e in SAFETENSORS if e[0] == name)
        entry = header.get(name)
        if entry is None:
            continue
        fmt, size = ST_FORMAT.get(entry["dtype"], ("?", 0))
        begin, end = entry["data_offsets"]
        checker.expect(entry["dtype"] == stored_dtype, "%s: %s dtype %s, expected %s"
                       % (path, name, entry["dtype"], stored_dtype))
        checker.expect(tuple(entry["shape"]) == shape, "%s: %s shape %s, expected %s"
                       % (path, name, entry["shape"], shape))
        checker.expect(begin == offset and end - begin == count_of(shape) * size,
                       "%s: %s data_offsets %s are not packed in name order" % (path, name, [begin, end]))
        offset = end
        if entry["dtype"] == stored_dtype and tuple(entry["shape"]) == shape:
            values = list(struct.unpack("<%d%s" % (count_of(shape), fmt), buffer[begin:end]))
            checker.expect(values == expected_values(stored_dtype, shape, salt),
                           "%s: %s values differ from the formula" % (path, name))
    checker.expect(offset == len(buffer), "%s: buffer has %d bytes, tensors cover %d" % (path, len(buffer), offset))


def check_outputs(directory):
    checker = Checker()
    check_npy(checker, directory)
    check_safetensors_file(checker, os.path.join(directory, "cpp_f32.safetensors"), "F32")
    check_safetensors_file(checker, os.path.join(directory, "cpp_f64.safetensors"), "F64")
    for failure in checker.failures:
        print("io_fixtures.py: MISMATCH: " + failure, file=sys.stderr)
    if checker.failures:
        return 1
    print("io_fixtures.py: all %d checks passed" % checker.checks)
    return 0


def main(argv):
    if len(argv) != 3 or argv[1] not in ("write", "check") or not os.path.isdir(argv[2]):
        print(__doc__, file=sys.stderr)
        return 2
    if argv[1] == "write":
        write_fixtures(argv[2])
        return 0
    return check_outputs(argv[2])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
