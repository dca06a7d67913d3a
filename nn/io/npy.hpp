// NumPy .npy files: one n-d array per file, the way `np.save` writes it.
//
// Layout of a .npy file (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html):
//
//   bytes 0..5   magic "\x93NUMPY"
//   bytes 6..7   format version: major, minor (1.0, 2.0 or 3.0)
//   then         header length H: 2-byte little-endian (v1) or 4-byte (v2, v3)
//   then         H bytes of ASCII (v3: UTF-8) holding a Python dict literal, e.g.
//                  {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
//                padded with spaces and ended by '\n' so the data starts on a
//                64-byte boundary
//   then         the raw element bytes, exactly product(shape) * itemsize of them
//
// Fluxion reads and writes only little-endian float32 ('<f4') and float64
// ('<f8') arrays in C order (row-major), which is what `np.save` produces for
// float arrays on every common machine. A 0-d array has shape `()` and one
// element; like numpy, at most 64 dimensions. Everything read from disk is
// validated before memory is allocated (at most 2^31 elements whatever the
// dtype — the rule the writer applies too — and a 1 MiB header); problems
// raise `InputError("<path>: <problem>")`, and write_npy refuses, with an
// InputError, a shape the reader would reject.
#pragma once

#include <filesystem>
#include <ostream>
#include <string>
#include <string_view>

#include "autodiff/tensor.hpp"

namespace fluxion {

/// Reads a .npy file into a tensor of T (float or double). Files stored as
/// the other float type are converted: '<f4' widens to double exactly; '<f8'
/// read as float rounds to nearest and rejects values beyond float's range.
template <class T>
Tensor<T> read_npy(const std::filesystem::path& path);

/// The same reader for .npy bytes already in memory; `source` names them in
/// errors the way the path does for files ("<source>: <problem>").
template <class T>
Tensor<T> parse_npy(std::string_view bytes, const std::string& source);

/// The stored dtype of a .npy file: "<f4" or "<f8" (validates the header).
std::string npy_dtype(const std::filesystem::path& path);

/// Writes `tensor` as a version 1.0 .npy file, atomically. T = float writes
/// '<f4', T = double writes '<f8'.
template <class T>
void write_npy(const std::filesystem::path& path, const Tensor<T>& tensor);

/// Writes the bytes of that file to `out` (for in-memory round trips).
template <class T>
void write_npy(std::ostream& out, const Tensor<T>& tensor);

}  // namespace fluxion
