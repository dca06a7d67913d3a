// safetensors reader and writer (format described in safetensors.hpp).
//
// Reading validates in this order, before any tensor memory is allocated:
//   file size >= 8 -> header length fits the file and the 100 MB cap ->
//   the header is a JSON object -> every entry has a supported dtype, a shape
//   and data_offsets whose length matches the shape -> all offsets lie inside
//   the buffer and no two tensors share bytes -> __metadata__ is string->string.
// Only then is each tensor read from its byte range.
#include "nn/io/safetensors.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <limits>
#include <vector>

#include <nlohmann/json.hpp>

#include "autodiff/errors.hpp"
#include "nn/io/atomic_file.hpp"

namespace fluxion {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

static_assert(std::endian::native == std::endian::little,
              "safetensors.cpp copies little-endian bytes directly; it assumes a little-endian machine");

constexpr std::uint64_t kMaxHeaderBytes = 100'000'000;  // the reference implementation's limit
constexpr std::size_t kHeaderAlignment = 8;
constexpr std::size_t kChunkElements = 1 << 16;
constexpr const char* kMetadataKey = "__metadata__";

[[noreturn]] void fail(const fs::path& path, const std::string& problem) {
  throw InputError(path.string() + ": " + problem);
}

bool checked_mul(std::uint64_t a, std::uint64_t b, std::uint64_t& product) {
  return !__builtin_mul_overflow(a, b, &product);
}

std::uint64_t item_size(const std::string& dtype) { return dtype == "F32" ? 4 : 8; }

/// One header entry, validated on its own (offsets relative to the buffer).
struct TensorEntry {
  std::string name;
  std::string dtype;  // "F32" or "F64"
  Shape shape;
  std::uint64_t begin = 0;
  std::uint64_t end = 0;
};

// ---------------------------------------------------------------- reading

std::uint64_t existing_file_size(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) fail(path, "file does not exist");
  if (!fs::is_regular_file(path, ec)) fail(path, "is not a regular file");
  const std::uint64_t size = fs::file_size(path, ec);
  if (ec) fail(path, "cannot read the file size (" + ec.message() + ")");
  return size;
}

void read_exact(std::istream& in, void* dst, std::uint64_t bytes, const fs::path& path) {
  in.read(static_cast<char*>(dst), static_cast<std::streamsize>(bytes));
  if (!in || static_cast<std::uint64_t>(in.gcount()) != bytes)
    fail(path, "read failed (the file changed or an I/O error occurred)");
}

/// The first 8 bytes: the JSON header length, checked against the file.
std::uint64_t read_header_length(std::istream& in, std::uint64_t file_size, const fs::path& path) {
  if (file_size == 0) fail(path, "file is empty, not a safetensors file");
  if (file_size < 8)
    fail(path, "file is truncated: " + std::to_string(file_size) +
                   " bytes is too short for the 8-byte safetensors header length");
  unsigned char bytes[8];
  read_exact(in, bytes, 8, path);
  std::uint64_t length = 0;
  for (int i = 0; i < 8; ++i) length |= std::uint64_t{bytes[i]} << (8 * i);
  if (length > file_size - 8)
    fail(path, "header length " + std::to_string(length) + " exceeds the file size (" +
                   std::to_string(file_size) + " bytes); the file is truncated or not a safetensors file");
  if (length > kMaxHeaderBytes)
    fail(path, "header length " + std::to_string(length) + " is above the 100 MB limit");
  return length;
}

json parse_header_json(const std::string& text, const fs::path& path) {
  json header;
  try {
    header = json::parse(text);
  } catch (const json::exception&) {
    fail(path, "the header is not valid JSON (the file is corrupt or not a safetensors file)");
  }
  if (!header.is_object()) fail(path, "the JSON header is not an object");
  return header;
}

/// A JSON array of non-negative integers.
std::vector<std::uint64_t> unsigned_list(const json& j, const std::string& what, const fs::path& path) {
  if (!j.is_array()) fail(path, what + " is not a JSON array");
  std::vector<std::uint64_t> values;
  for (const json& v : j) {
    if (!v.is_number_unsigned()) fail(path, what + " holds something other than non-negative integers");
    values.push_back(v.get<std::uint64_t>());
  }
  return values;
}

TensorEntry parse_entry(const std::string& name, const json& j, const fs::path& path) {
  const std::string where = "tensor '" + name + "'";
  if (!j.is_object()) fail(path, where + " is not described by a JSON object");
  for (const char* key : {"dtype", "shape", "data_offsets"})
    if (!j.contains(key)) fail(path, where + " lacks the '" + key + "' entry");
  if (!j["dtype"].is_string()) fail(path, where + " has a dtype that is not a string");

  TensorEntry e;
  e.name = name;
  e.dtype = j["dtype"].get<std::string>();
  if (e.dtype != "F32" && e.dtype != "F64")
    fail(path, where + " has dtype " + e.dtype +
                   ", but Fluxion reads only F32 and F64 (convert it with tensor.float() before saving)");

  for (std::uint64_t extent : unsigned_list(j["shape"], where + " shape", path))
    e.shape.push_back(static_cast<std::size_t>(extent));
  const auto offsets = unsigned_list(j["data_offsets"], where + " data_offsets", path);
  if (offsets.size() != 2) fail(path, where + " data_offsets must hold exactly [begin, end]");
  e.begin = offsets[0];
  e.end = offsets[1];
  if (e.begin > e.end) fail(path, where + " has data_offsets with begin > end");

  std::uint64_t bytes = item_size(e.dtype);
  for (std::size_t extent : e.shape)
    if (!checked_mul(bytes, extent, bytes))
      fail(path, where + " shape " + shape_str(e.shape) + " is too large (the byte count overflows 64 bits)");
  if (bytes != e.end - e.begin)
    fail(path, where + " shape " + shape_str(e.shape) + " of " + e.dtype + " needs " + std::to_string(bytes) +
                   " bytes but its data_offsets span " + std::to_string(e.end - e.begin));
  return e;
}

/// Every tensor lies inside the buffer, and no two share a byte.
void check_offsets(std::vector<TensorEntry>& entries, std::uint64_t buffer_size, const fs::path& path) {
  for (const TensorEntry& e : entries)
    if (e.end > buffer_size)
      fail(path, "tensor '" + e.name + "' data_offsets [" + std::to_string(e.begin) + ", " +
                     std::to_string(e.end) + "] are out of range: the data buffer has " +
                     std::to_string(buffer_size) + " bytes");

  std::sort(entries.begin(), entries.end(),
            [](const TensorEntry& a, const TensorEntry& b) { return a.begin < b.begin; });
  const TensorEntry* previous = nullptr;
  for (const TensorEntry& e : entries) {
    if (e.begin == e.end) continue;  // empty tensors occupy no bytes
    if (previous != nullptr && e.begin < previous->end)
      fail(path, "tensors '" + previous->name + "' and '" + e.name + "' have overlapping data_offsets");
    previous = &e;
  }
}

std::map<std::string, std::string> parse_metadata(const json& j, const fs::path& path) {
  std::map<std::string, std::string> metadata;
  if (j.is_null()) return metadata;
  if (!j.is_object()) fail(path, "__metadata__ is not a JSON object");
  for (const auto& [key, value] : j.items()) {
    if (!value.is_string()) fail(path, "__metadata__ value for '" + key + "' is not a string");
    metadata[key] = value.get<std::string>();
  }
  return metadata;
}

/// Reads one tensor's bytes (already validated) and widens them to double.
Tensor<double> read_tensor(std::istream& in, const TensorEntry& e, std::uint64_t buffer_start,
                           const fs::path& path) {
  Tensor<double> tensor(e.shape);
  in.seekg(static_cast<std::streamoff>(buffer_start + e.begin));
  if (e.dtype == "F64") {
    read_exact(in, tensor.data(), e.end - e.begin, path);
    return tensor;
  }
  std::vector<float> chunk(std::min<std::size_t>(tensor.size(), kChunkElements));
  for (std::size_t done = 0; done < tensor.size();) {
    const std::size_t n = std::min(tensor.size() - done, chunk.size());
    read_exact(in, chunk.data(), n * sizeof(float), path);
    std::copy(chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(n), tensor.data() + done);
    done += n;
  }
  return tensor;
}

// ---------------------------------------------------------------- writing

/// "1e+300" rather than std::to_string's 301 digits.
std::string short_number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", value);
  return text;
}

/// F32 storage must not turn finite values into inf; checked before writing.
void check_fits_f32(const std::map<std::string, Tensor<double>>& tensors, const fs::path& path) {
  const double max = std::numeric_limits<float>::max();
  for (const auto& [name, tensor] : tensors)
    for (double v : tensor)
      if (std::isfinite(v) && std::fabs(v) > max)
        fail(path, "tensor '" + name + "' holds " + short_number(v) +
                       ", which does not fit in F32 (write with StorageDtype::F64)");
}

/// The JSON header (metadata first, then tensors by name, packed in order),
/// padded with spaces to a multiple of 8 bytes.
std::string build_header(const std::map<std::string, Tensor<double>>& tensors,
                         const std::map<std::string, std::string>& metadata, const std::string& dtype,
                         const fs::path& path) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header[kMetadataKey] = metadata;
  std::uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    if (name == kMetadataKey) fail(path, "a tensor cannot be named __metadata__");
    const std::uint64_t bytes = tensor.size() * item_size(dtype);
    header[name] = {{"dtype", dtype},
                    {"shape", shape_of(tensor)},
                    {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const nlohmann::json::exception&) {
    fail(path, "a tensor name or metadata string is not valid UTF-8");
  }
  text.append((kHeaderAlignment - text.size() % kHeaderAlignment) % kHeaderAlignment, ' ');
  return text;
}

void write_tensor(std::ostream& out, const Tensor<double>& tensor, StorageDtype dtype) {
  if (dtype == StorageDtype::F64) {
    out.write(reinterpret_cast<const char*>(tensor.data()),
              static_cast<std::streamsize>(tensor.size() * sizeof(double)));
    return;
  }
  std::vector<float> chunk(std::min<std::size_t>(tensor.size(), kChunkElements));
  for (std::size_t done = 0; done < tensor.size();) {
    const std::size_t n = std::min(tensor.size() - done, chunk.size());
    for (std::size_t i = 0; i < n; ++i) chunk[i] = static_cast<float>(tensor.data()[done + i]);
    out.write(reinterpret_cast<const char*>(chunk.data()), static_cast<std::streamsize>(n * sizeof(float)));
    done += n;
  }
}

}  // namespace

// ---------------------------------------------------------------- public API

SafetensorsFile read_safetensors(const fs::path& path) {
  const std::uint64_t file_size = existing_file_size(path);
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot open the file for reading");

  const std::uint64_t header_length = read_header_length(in, file_size, path);
  std::string text(static_cast<std::size_t>(header_length), '\0');
  read_exact(in, text.data(), header_length, path);
  const json header = parse_header_json(text, path);

  SafetensorsFile file;
  std::vector<TensorEntry> entries;
  for (const auto& [name, value] : header.items()) {
    if (name == kMetadataKey)
      file.metadata = parse_metadata(value, path);
    else
      entries.push_back(parse_entry(name, value, path));
  }
  const std::uint64_t buffer_start = 8 + header_length;
  check_offsets(entries, file_size - buffer_start, path);

  for (const TensorEntry& e : entries) {
    file.tensors.emplace(e.name, read_tensor(in, e, buffer_start, path));
    file.dtypes.emplace(e.name, e.dtype);
  }
  return file;
}

void write_safetensors(const fs::path& path, const std::map<std::string, Tensor<double>>& tensors,
                       const std::map<std::string, std::string>& metadata, StorageDtype dtype) {
  if (dtype == StorageDtype::F32) check_fits_f32(tensors, path);
  const std::string header = build_header(tensors, metadata, dtype == StorageDtype::F32 ? "F32" : "F64", path);

  write_file_atomically(path, [&](std::ostream& out) {
    const std::uint64_t length = header.size();
    for (int i = 0; i < 8; ++i) out.put(static_cast<char>((length >> (8 * i)) & 0xFF));
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    for (const auto& entry : tensors) write_tensor(out, entry.second, dtype);
  });
}

}  // namespace fluxion
