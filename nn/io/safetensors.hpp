// safetensors: the weight file format of Hugging Face / PyTorch
// (https://github.com/huggingface/safetensors). A file is
//
//   8 bytes    N, the header length, unsigned 64-bit little-endian
//   N bytes    a JSON object (UTF-8), for example
//                {"__metadata__": {"arch": "mlp"},
//                 "0.weight": {"dtype": "F32", "shape": [3, 2], "data_offsets": [0, 24]},
//                 "0.bias":   {"dtype": "F32", "shape": [3],    "data_offsets": [24, 36]}}
//              padded with spaces so the buffer starts on an 8-byte boundary
//   the rest   the byte buffer: each tensor's elements, row-major and
//              little-endian, at [begin, end) relative to the buffer start
//
// "__metadata__" is an optional string -> string map; Fluxion stores the
// model architecture there. Fluxion reads and writes the float dtypes F32 and
// F64; other dtypes (F16, BF16, integers, ...) are rejected with a message
// naming the tensor. All values are handed out as double (F32 widens exactly).
// Every offset, size and shape is validated before tensor memory is
// allocated (tensors may not overlap; gaps between them are tolerated, bytes
// after the last one are not); problems raise `InputError("<path>: <problem>")`.
#pragma once

#include <filesystem>
#include <map>
#include <ostream>
#include <string>
#include <string_view>

#include "autodiff/tensor.hpp"

namespace fluxion {

/// The contents of one .safetensors file.
struct SafetensorsFile {
  std::map<std::string, Tensor<double>> tensors;  // values (F32 widened exactly)
  std::map<std::string, std::string> dtypes;      // "F32" or "F64" as stored
  std::map<std::string, std::string> metadata;    // __metadata__
};

/// Reads and validates a .safetensors file.
SafetensorsFile read_safetensors(const std::filesystem::path& path);

/// The same reader for .safetensors bytes already in memory; `source` names
/// them in errors the way the path does for files ("<source>: <problem>").
SafetensorsFile parse_safetensors(std::string_view bytes, const std::string& source);

/// How tensors are stored on disk by write_safetensors.
enum class StorageDtype { F32, F64 };

/// Writes `tensors` (sorted by name, packed contiguously) and `metadata` to
/// `path` atomically. With StorageDtype::F32 values are rounded to nearest
/// float; a finite value beyond float's range is an error (no silent inf).
void write_safetensors(const std::filesystem::path& path,
                       const std::map<std::string, Tensor<double>>& tensors,
                       const std::map<std::string, std::string>& metadata, StorageDtype dtype);

/// Writes the bytes of that file to `out` (for in-memory round trips);
/// `destination` names the output in errors.
void write_safetensors(std::ostream& out, const std::string& destination,
                       const std::map<std::string, Tensor<double>>& tensors,
                       const std::map<std::string, std::string>& metadata, StorageDtype dtype);

}  // namespace fluxion
