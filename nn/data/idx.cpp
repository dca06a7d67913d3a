// IDX reader (format described in idx.hpp).
//
// Each reader first reads the small header, checks the magic number and the
// dimensions, computes the exact file size those dimensions imply and
// compares it with the real one. Only then does it allocate and read.
// Files and in-memory bytes go through the same stream reader; only the
// name in the errors ("<source>: <problem>") and the stream differ.
#include "nn/data/idx.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <fstream>
#include <sstream>

#include "nn/io/checked_reading.hpp"
#include "autodiff/errors.hpp"

namespace fluxion {
namespace {

using reading::fail;
using reading::existing_file_size;
using reading::open_for_reading;
using reading::read_exact;

namespace fs = std::filesystem;

constexpr std::uint32_t kImagesMagic = 0x00000803;  // unsigned bytes, 3 dimensions
constexpr std::uint32_t kLabelsMagic = 0x00000801;  // unsigned bytes, 1 dimension
constexpr std::uint32_t kMaxSide = 4096;
constexpr std::uint32_t kMaxCount = 10'000'000;
constexpr int kNumClasses = 10;
constexpr std::size_t kChunkBytes = 1 << 16;

std::string hex(std::uint32_t value) {
  static const char digits[] = "0123456789abcdef";
  std::string s = "0x";
  for (int shift = 28; shift >= 0; shift -= 4) s += digits[(value >> shift) & 0xF];
  return s;
}

/// Checks an IDX header's magic and returns its `rank` dimensions.
/// `in` is left positioned at the first data byte.
std::vector<std::uint32_t> read_idx_header(std::istream& in, std::uint64_t file_size, const std::string& source,
                                           std::uint32_t magic, const char* kind) {
  const std::size_t rank = magic & 0xFF;
  const std::uint64_t header_bytes = 4 * (1 + rank);
  if (file_size == 0) fail(source, std::string("file is empty, not an IDX ") + kind + " file");
  if (file_size < header_bytes)
    fail(source, "file is truncated: " + std::to_string(file_size) + " bytes is shorter than the " +
                     std::to_string(header_bytes) + "-byte IDX " + kind + " header");

  std::array<unsigned char, 16> raw{};
  read_exact(in, raw.data(), header_bytes, source);
  std::vector<std::uint32_t> words;  // magic, then the dimensions
  for (std::size_t i = 0; i < 1 + rank; ++i)
    words.push_back(std::uint32_t{raw[4 * i]} << 24 | std::uint32_t{raw[4 * i + 1]} << 16 |
                    std::uint32_t{raw[4 * i + 2]} << 8 | std::uint32_t{raw[4 * i + 3]});
  if (words[0] != magic)
    fail(source, "bad magic number " + hex(words[0]) + " (an IDX " + kind + " file starts with " + hex(magic) + ")");
  return {words.begin() + 1, words.end()};
}

/// The file must hold exactly header + payload bytes.
void check_exact_size(std::uint64_t file_size, std::uint64_t expected, const std::string& what,
                      const std::string& source) {
  if (file_size < expected)
    fail(source, "file is truncated: " + what + " need " + std::to_string(expected) + " bytes but the file has " +
                     std::to_string(file_size));
  if (file_size > expected)
    fail(source, "file size does not match its header: " + what + " need " + std::to_string(expected) +
                     " bytes but the file has " + std::to_string(file_size));
}

void check_count(std::uint32_t count, const std::string& source) {
  if (count == 0) fail(source, "the header says the file holds 0 items");
  if (count > kMaxCount)
    fail(source, "the header says " + std::to_string(count) + " items, above the limit of 10,000,000");
}

/// An image file of `file_size` bytes read from `in`, named `source` in errors.
Tensor<float> read_images(std::istream& in, std::uint64_t file_size, const std::string& source) {
  const auto dims = read_idx_header(in, file_size, source, kImagesMagic, "images");
  const std::uint32_t count = dims[0], rows = dims[1], cols = dims[2];

  check_count(count, source);
  if (rows == 0 || cols == 0 || rows > kMaxSide || cols > kMaxSide)
    fail(source, "image size " + std::to_string(rows) + "x" + std::to_string(cols) +
                     " is not sane (each side must be 1..4096)");
  const std::uint64_t pixels = std::uint64_t{count} * rows * cols;  // < 2^24 * 2^24: no overflow
  check_exact_size(file_size, 16 + pixels,
                   std::to_string(count) + " images of " + std::to_string(rows) + "x" + std::to_string(cols), source);

  Tensor<float> images(Shape{count, rows, cols});
  std::vector<unsigned char> chunk(std::min<std::uint64_t>(pixels, kChunkBytes));
  for (std::uint64_t done = 0; done < pixels;) {
    const std::uint64_t n = std::min<std::uint64_t>(pixels - done, chunk.size());
    read_exact(in, chunk.data(), n, source);
    for (std::uint64_t i = 0; i < n; ++i) images.data()[done + i] = static_cast<float>(chunk[i]) / 255.0f;
    done += n;
  }
  return images;
}

/// A label file of `file_size` bytes read from `in`, named `source` in errors.
std::vector<int> read_labels(std::istream& in, std::uint64_t file_size, const std::string& source) {
  const std::uint32_t count = read_idx_header(in, file_size, source, kLabelsMagic, "labels")[0];

  check_count(count, source);
  check_exact_size(file_size, 8 + std::uint64_t{count}, std::to_string(count) + " labels", source);

  std::vector<unsigned char> raw(count);
  read_exact(in, raw.data(), count, source);
  std::vector<int> labels(raw.begin(), raw.end());
  for (std::size_t i = 0; i < labels.size(); ++i)
    if (labels[i] >= kNumClasses)
      fail(source, "label " + std::to_string(labels[i]) + " at index " + std::to_string(i) + " is outside 0..9");
  return labels;
}

}  // namespace

Tensor<float> read_idx_images(const fs::path& path) {
  const std::uint64_t file_size = existing_file_size(path);
  std::ifstream in = open_for_reading(path);
  return read_images(in, file_size, path.string());
}

std::vector<int> read_idx_labels(const fs::path& path) {
  const std::uint64_t file_size = existing_file_size(path);
  std::ifstream in = open_for_reading(path);
  return read_labels(in, file_size, path.string());
}

Tensor<float> parse_idx_images(std::string_view bytes, const std::string& source) {
  std::istringstream in{std::string(bytes)};
  return read_images(in, bytes.size(), source);
}

std::vector<int> parse_idx_labels(std::string_view bytes, const std::string& source) {
  std::istringstream in{std::string(bytes)};
  return read_labels(in, bytes.size(), source);
}

MnistSplit load_mnist(const fs::path& dir, const std::string& split) {
  if (split != "train" && split != "test")
    throw InputError("unknown MNIST split '" + split + "' (use \"train\" or \"test\")");
  const std::string prefix = split == "train" ? "train" : "t10k";
  const fs::path images_path = dir / (prefix + "-images-idx3-ubyte");
  const fs::path labels_path = dir / (prefix + "-labels-idx1-ubyte");
  for (const fs::path& p : {images_path, labels_path}) {
    std::error_code ec;
    if (!fs::exists(p, ec))
      fail(p.string(), "file does not exist; run scripts/fetch-mnist.sh to download MNIST into data/mnist/");
  }

  MnistSplit result{read_idx_images(images_path), read_idx_labels(labels_path)};
  const std::size_t image_count = result.images.shape()[0];
  if (image_count != result.labels.size())
    fail(labels_path.string(), "holds " + std::to_string(result.labels.size()) + " labels but " +
                          images_path.filename().string() + " holds " + std::to_string(image_count) +
                          " images");
  return result;
}

}  // namespace fluxion
