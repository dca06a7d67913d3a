// safetensors reader and writer (format described in safetensors.hpp).
//
// Reading validates in this order, before any tensor memory is allocated:
//   file size >= 8 -> header length fits the file and the 100 MB cap ->
//   the header is a JSON object -> every entry has a supported dtype, a shape
//   within the size rule of checked_reading.hpp (at most 2^31 elements,
//   whatever the dtype) and data_offsets whose length matches the shape ->
//   all offsets lie inside the buffer, no two tensors share bytes and the
//   buffer ends where the last tensor ends -> __metadata__ is string->string.
// Only then is each tensor read from its byte range. Files and in-memory
// bytes go through the same stream reader; only the name in the errors
// ("<source>: <problem>") and the stream differ.
//
// Writing checks the same limits the reader applies (the size rule for every
// shape, the 100 MB header cap), so that write_safetensors never produces a
// file parse_safetensors rejects: it fails with the reader's sentence instead.
#include "nn/io/safetensors.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <limits>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

#include "nn/io/checked_reading.hpp"
#include "autodiff/errors.hpp"
#include "nn/io/atomic_file.hpp"

namespace fluxion {
namespace {

using reading::fail;
using reading::existing_file_size;
using reading::read_exact;
using reading::storable_element_count;

namespace fs = std::filesystem;
using json = nlohmann::json;

static_assert(std::endian::native == std::endian::little,
              "safetensors.cpp copies little-endian bytes directly; it assumes a little-endian machine");

constexpr std::uint64_t kMaxHeaderBytes = 100'000'000;  // the reference implementation's limit
constexpr std::size_t kHeaderAlignment = 8;
constexpr std::size_t kChunkElements = 1 << 16;
constexpr const char* kMetadataKey = "__metadata__";

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

/// The first 8 bytes: the JSON header length, checked against the file.
std::uint64_t read_header_length(std::istream& in, std::uint64_t file_size, const std::string& source) {
  if (file_size == 0) fail(source, "file is empty, not a safetensors file");
  if (file_size < 8)
    fail(source, "file is truncated: " + std::to_string(file_size) +
                     " bytes is too short for the 8-byte safetensors header length");
  unsigned char bytes[8];
  read_exact(in, bytes, 8, source);
  std::uint64_t length = 0;
  for (int i = 0; i < 8; ++i) length |= std::uint64_t{bytes[i]} << (8 * i);
  if (length > file_size - 8)
    fail(source, "header length " + std::to_string(length) + " exceeds the file size (" +
                     std::to_string(file_size) + " bytes); the file is truncated or not a safetensors file");
  if (length > kMaxHeaderBytes)
    fail(source, "header length " + std::to_string(length) + " is above the 100 MB limit");
  return length;
}

json parse_header_json(const std::string& text, const std::string& source) {
  json header;
  try {
    header = json::parse(text);
  } catch (const json::exception&) {
    fail(source, "the header is not valid JSON (the file is corrupt or not a safetensors file)");
  }
  if (!header.is_object()) fail(source, "the JSON header is not an object");
  return header;
}

/// A JSON array of non-negative integers.
std::vector<std::uint64_t> unsigned_list(const json& j, const std::string& what, const std::string& source) {
  if (!j.is_array()) fail(source, what + " is not a JSON array");
  std::vector<std::uint64_t> values;
  for (const json& v : j) {
    if (!v.is_number_unsigned()) fail(source, what + " holds something other than non-negative integers");
    values.push_back(v.get<std::uint64_t>());
  }
  return values;
}

TensorEntry parse_entry(const std::string& name, const json& j, const std::string& source) {
  const std::string where = "tensor '" + name + "'";
  if (!j.is_object()) fail(source, where + " is not described by a JSON object");
  for (const char* key : {"dtype", "shape", "data_offsets"})
    if (!j.contains(key)) fail(source, where + " lacks the '" + key + "' entry");
  if (!j["dtype"].is_string()) fail(source, where + " has a dtype that is not a string");

  TensorEntry e;
  e.name = name;
  e.dtype = j["dtype"].get<std::string>();
  if (e.dtype != "F32" && e.dtype != "F64")
    fail(source, where + " has dtype " + e.dtype +
                     ", but Fluxion reads only F32 and F64 (convert it with tensor.float() before saving)");

  for (std::uint64_t extent : unsigned_list(j["shape"], where + " shape", source))
    e.shape.push_back(static_cast<std::size_t>(extent));
  const auto offsets = unsigned_list(j["data_offsets"], where + " data_offsets", source);
  if (offsets.size() != 2) fail(source, where + " data_offsets must hold exactly [begin, end]");
  e.begin = offsets[0];
  e.end = offsets[1];
  if (e.begin > e.end) fail(source, where + " has data_offsets with begin > end");

  // The shape obeys the readers' one size rule (checked_reading.hpp), which
  // counts elements whatever the dtype: the writer may store this tensor
  // as the other dtype, and the re-read must accept it just the same.
  const std::uint64_t count = storable_element_count(e.shape, source, where + " shape");
  const std::uint64_t bytes = count * item_size(e.dtype);  // at most 2^31 * 8
  if (bytes != e.end - e.begin)
    fail(source, where + " shape " + shape_str(e.shape) + " of " + e.dtype + " needs " + std::to_string(bytes) +
                     " bytes but its data_offsets span " + std::to_string(e.end - e.begin));
  return e;
}

/// Every tensor lies inside the buffer, no two share a byte, and the buffer
/// ends where the last tensor ends.
void check_offsets(std::vector<TensorEntry>& entries, std::uint64_t buffer_size, const std::string& source) {
  for (const TensorEntry& e : entries)
    if (e.end > buffer_size)
      fail(source, "tensor '" + e.name + "' data_offsets [" + std::to_string(e.begin) + ", " +
                       std::to_string(e.end) + "] are out of range: the data buffer has " +
                       std::to_string(buffer_size) + " bytes");

  std::sort(entries.begin(), entries.end(),
            [](const TensorEntry& a, const TensorEntry& b) { return a.begin < b.begin; });
  const TensorEntry* previous = nullptr;
  for (const TensorEntry& e : entries) {
    if (e.begin == e.end) continue;  // empty tensors occupy no bytes
    if (previous != nullptr && e.begin < previous->end)
      fail(source, "tensors '" + previous->name + "' and '" + e.name + "' have overlapping data_offsets");
    previous = &e;
  }
  // Gaps between tensors are tolerated, bytes after the last one are not.
  const std::uint64_t data_end = previous != nullptr ? previous->end : 0;
  if (data_end != buffer_size)
    fail(source, "the file has " + std::to_string(buffer_size - data_end) +
                     " bytes after its last tensor (the data buffer has " + std::to_string(buffer_size) +
                     " bytes, the tensors end at byte " + std::to_string(data_end) + ")");
}

std::map<std::string, std::string> parse_metadata(const json& j, const std::string& source) {
  std::map<std::string, std::string> metadata;
  if (j.is_null()) return metadata;
  if (!j.is_object()) fail(source, "__metadata__ is not a JSON object");
  for (const auto& [key, value] : j.items()) {
    if (!value.is_string()) fail(source, "__metadata__ value for '" + key + "' is not a string");
    metadata[key] = value.get<std::string>();
  }
  return metadata;
}

/// Reads one tensor's bytes (already validated) and widens them to double.
Tensor<double> read_tensor(std::istream& in, const TensorEntry& e, std::uint64_t buffer_start,
                           const std::string& source) {
  Tensor<double> tensor(e.shape);
  in.seekg(static_cast<std::streamoff>(buffer_start + e.begin));
  if (e.dtype == "F64") {
    read_exact(in, tensor.data(), e.end - e.begin, source);
    return tensor;
  }
  std::vector<float> chunk(std::min<std::size_t>(tensor.size(), kChunkElements));
  for (std::size_t done = 0; done < tensor.size();) {
    const std::size_t n = std::min(tensor.size() - done, chunk.size());
    read_exact(in, chunk.data(), n * sizeof(float), source);
    std::copy(chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(n), tensor.data() + done);
    done += n;
  }
  return tensor;
}

/// A whole safetensors file of `file_size` bytes read from `in`, named `source` in errors.
SafetensorsFile read_file(std::istream& in, std::uint64_t file_size, const std::string& source) {
  const std::uint64_t header_length = read_header_length(in, file_size, source);
  std::string text(static_cast<std::size_t>(header_length), '\0');
  read_exact(in, text.data(), header_length, source);
  const json header = parse_header_json(text, source);

  SafetensorsFile file;
  std::vector<TensorEntry> entries;
  for (const auto& [name, value] : header.items()) {
    if (name == kMetadataKey)
      file.metadata = parse_metadata(value, source);
    else
      entries.push_back(parse_entry(name, value, source));
  }
  const std::uint64_t buffer_start = 8 + header_length;
  check_offsets(entries, file_size - buffer_start, source);

  for (const TensorEntry& e : entries) {
    file.tensors.emplace(e.name, read_tensor(in, e, buffer_start, source));
    file.dtypes.emplace(e.name, e.dtype);
  }
  return file;
}

// ---------------------------------------------------------------- writing

/// "1e+300" rather than std::to_string's 301 digits.
std::string short_number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", value);
  return text;
}

/// F32 storage must not turn finite values into inf; checked before writing.
void check_fits_f32(const std::map<std::string, Tensor<double>>& tensors, const std::string& destination) {
  const double max = std::numeric_limits<float>::max();
  for (const auto& [name, tensor] : tensors)
    for (double v : tensor)
      if (std::isfinite(v) && std::fabs(v) > max)
        fail(destination, "tensor '" + name + "' holds " + short_number(v) +
                              ", which does not fit in F32 (write with StorageDtype::F64)");
}

/// The JSON header (metadata first, then tensors by name, packed in order),
/// padded with spaces to a multiple of 8 bytes.
std::string build_header(const std::map<std::string, Tensor<double>>& tensors,
                         const std::map<std::string, std::string>& metadata, const std::string& dtype,
                         const std::string& destination) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header[kMetadataKey] = metadata;
  std::uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    if (name == kMetadataKey) fail(destination, "a tensor cannot be named __metadata__");
    const Shape shape = shape_of(tensor);
    const std::uint64_t bytes =
        storable_element_count(shape, destination, "tensor '" + name + "' shape") * item_size(dtype);
    header[name] = {{"dtype", dtype},
                    {"shape", shape},
                    {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const nlohmann::json::exception&) {
    fail(destination, "a tensor name or metadata string is not valid UTF-8");
  }
  text.append((kHeaderAlignment - text.size() % kHeaderAlignment) % kHeaderAlignment, ' ');
  // The header can come out longer than the one read (packed offsets have
  // more digits than [0, 0]), so the reader's cap is checked here too.
  if (text.size() > kMaxHeaderBytes)
    fail(destination, "the header would be " + std::to_string(text.size()) +
                          " bytes, above the 100 MB limit of safetensors readers");
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

/// The header for `tensors`, after checking that they can be stored as `dtype`.
std::string checked_header(const std::map<std::string, Tensor<double>>& tensors,
                           const std::map<std::string, std::string>& metadata, StorageDtype dtype,
                           const std::string& destination) {
  if (dtype == StorageDtype::F32) check_fits_f32(tensors, destination);
  return build_header(tensors, metadata, dtype == StorageDtype::F32 ? "F32" : "F64", destination);
}

/// The file's bytes: header length, header, then every tensor in name order.
void write_contents(std::ostream& out, const std::string& header,
                    const std::map<std::string, Tensor<double>>& tensors, StorageDtype dtype) {
  const std::uint64_t length = header.size();
  for (int i = 0; i < 8; ++i) out.put(static_cast<char>((length >> (8 * i)) & 0xFF));
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  for (const auto& entry : tensors) write_tensor(out, entry.second, dtype);
}

}  // namespace

// ---------------------------------------------------------------- public API

SafetensorsFile read_safetensors(const fs::path& path) {
  existing_file_size(path);  // a missing file or a folder: one clear sentence
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path.string(), "cannot open the file for reading");
  // The size of the file this stream opened, not of whatever the path names
  // now: an atomic writer may rename a new version over the path between the
  // two, and the old size with the new bytes reads as a corrupt file.
  in.seekg(0, std::ios::end);
  const auto end = in.tellg();
  in.seekg(0, std::ios::beg);
  if (end < 0 || !in) fail(path.string(), "cannot read the file's size");
  return read_file(in, std::uint64_t(end), path.string());
}

SafetensorsFile parse_safetensors(std::string_view bytes, const std::string& source) {
  std::istringstream in{std::string(bytes)};
  return read_file(in, bytes.size(), source);
}

void write_safetensors(std::ostream& out, const std::string& destination,
                       const std::map<std::string, Tensor<double>>& tensors,
                       const std::map<std::string, std::string>& metadata, StorageDtype dtype) {
  const std::string header = checked_header(tensors, metadata, dtype, destination);
  write_contents(out, header, tensors, dtype);
}

void write_safetensors(const fs::path& path, const std::map<std::string, Tensor<double>>& tensors,
                       const std::map<std::string, std::string>& metadata, StorageDtype dtype) {
  // Validated before the atomic writer starts, so errors name just the path.
  const std::string header = checked_header(tensors, metadata, dtype, path.string());
  write_file_atomically(path, [&](std::ostream& out) { write_contents(out, header, tensors, dtype); });
}

}  // namespace fluxion
