// .npy reader and writer (format described in npy.hpp).
//
// Reading happens in three steps, and nothing is allocated for the array
// until the first two have passed:
//   1. the fixed prefix: magic, version, header length (checked against the
//      real file size);
//   2. the header dict: a tiny parser for the Python literal numpy writes,
//      then dtype / order / shape checks (rank <= 64 and the size rule of
//      checked_reading.hpp) and the exact data size;
//   3. the element bytes, read straight into the tensor (or converted in
//      small chunks when the stored float type differs from T).
// Files and in-memory bytes go through the same stream reader; only the
// name in the errors ("<source>: <problem>") and the stream differ.
//
// The writer checks the rank and the size rule before writing a byte, so it
// never produces a file the reader rejects.
#include "nn/io/npy.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>
#include <string_view>
#include <vector>

#include "nn/io/checked_reading.hpp"
#include "autodiff/errors.hpp"
#include "nn/io/atomic_file.hpp"

namespace fluxion {
namespace {

using reading::fail;
using reading::checked_mul;
using reading::existing_file_size;
using reading::open_for_reading;
using reading::read_exact;
using reading::storable_element_count;

namespace fs = std::filesystem;

static_assert(std::endian::native == std::endian::little,
              "npy.cpp copies '<f4'/'<f8' bytes directly; it assumes a little-endian machine");

constexpr std::string_view kMagic = "\x93NUMPY";
constexpr std::uint64_t kMaxHeaderBytes = 1u << 20;      // numpy itself writes < 1 KiB
constexpr std::size_t kMaxRank = 64;                     // numpy's NPY_MAXDIMS
constexpr std::size_t kDataAlignment = 64;               // numpy aligns the data to 64 bytes
constexpr std::size_t kChunkElements = 1 << 16;          // conversion buffer size

// ---------------------------------------------------------------- reading

/// Everything the header says, validated against the file size.
struct NpyHeader {
  std::string descr;            // "<f4" or "<f8"
  Shape shape;
  std::uint64_t element_count = 0;
  std::uint64_t data_offset = 0;  // first byte of the element data
};

/// Parser for the one kind of Python literal numpy writes as a header:
///   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
/// It accepts single or double quotes, any spacing and trailing commas.
class HeaderDictParser {
 public:
  HeaderDictParser(std::string_view text, const std::string& source) : text_(text), source_(source) {}

  /// Parses the dict, requiring exactly the keys descr, fortran_order, shape.
  void parse(std::string& descr, bool& fortran_order, Shape& shape) {
    bool seen_descr = false, seen_order = false, seen_shape = false;
    expect('{');
    while (!try_consume('}')) {
      const std::string key = parse_string();
      expect(':');
      if (key == "descr" && !seen_descr) {
        // A structured dtype is a list here, not a string.
        if (peek() != '\'' && peek() != '"')
          bad("the 'descr' entry is not a simple dtype string (structured dtypes are not supported)");
        descr = parse_string();
        seen_descr = true;
      } else if (key == "fortran_order" && !seen_order) {
        fortran_order = parse_bool();
        seen_order = true;
      } else if (key == "shape" && !seen_shape) {
        shape = parse_shape();
        seen_shape = true;
      } else {
        bad("the header has an unexpected or repeated key '" + key + "'");
      }
      if (!try_consume(',')) {
        expect('}');
        break;
      }
    }
    skip_spaces();
    if (pos_ != text_.size()) bad("the header has extra text after the dict");
    if (!seen_descr || !seen_order || !seen_shape)
      bad("the header dict lacks one of the keys 'descr', 'fortran_order', 'shape'");
  }

 private:
  [[noreturn]] void bad(const std::string& problem) { fail(source_, problem); }

  void skip_spaces() {
    while (pos_ < text_.size() && std::strchr(" \t\r\n", text_[pos_]) != nullptr) ++pos_;
  }
  char peek() {
    skip_spaces();
    return pos_ < text_.size() ? text_[pos_] : '\0';
  }
  bool try_consume(char c) {
    if (peek() != c) return false;
    ++pos_;
    return true;
  }
  void expect(char c) {
    if (!try_consume(c)) bad(std::string("the header is not a valid dict literal (expected '") + c + "')");
  }

  std::string parse_string() {
    const char quote = peek();
    if (quote != '\'' && quote != '"') bad("the header is not a valid dict literal (expected a quoted key)");
    const std::size_t end = text_.find(quote, pos_ + 1);
    if (end == std::string_view::npos) bad("the header has an unterminated string");
    std::string s(text_.substr(pos_ + 1, end - pos_ - 1));
    pos_ = end + 1;
    return s;
  }

  bool parse_bool() {
    skip_spaces();
    for (std::string_view word : {"True", "False"}) {
      if (text_.substr(pos_, word.size()) == word) {
        pos_ += word.size();
        return word == "True";
      }
    }
    bad("the 'fortran_order' entry is not True or False");
  }

  /// "(2, 3)", "(5,)" or "()".
  Shape parse_shape() {
    Shape shape;
    if (!try_consume('(')) bad("the 'shape' entry is not a tuple");
    while (!try_consume(')')) {
      shape.push_back(parse_extent());
      if (!try_consume(',')) {
        if (!try_consume(')')) bad("the 'shape' tuple is malformed");
        break;
      }
    }
    return shape;
  }

  std::size_t parse_extent() {
    skip_spaces();
    const std::size_t start = pos_;
    std::uint64_t value = 0;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      if (!checked_mul(value, 10, value) || value > std::numeric_limits<std::uint64_t>::max() - 9)
        bad("a shape extent in the header is too large");
      value += static_cast<std::uint64_t>(text_[pos_] - '0');
      ++pos_;
    }
    if (pos_ == start) bad("the 'shape' tuple holds something other than non-negative integers");
    return static_cast<std::size_t>(value);
  }

  std::string_view text_;
  const std::string& source_;
  std::size_t pos_ = 0;
};

/// Reads and checks the magic, version and header length; returns the header
/// text and sets `data_offset` to the first byte after it.
std::string read_header_text(std::istream& in, std::uint64_t file_size, const std::string& source,
                             std::uint64_t& data_offset) {
  if (file_size == 0) fail(source, "file is empty, not a .npy file");
  char prefix[12] = {};
  const std::size_t fixed = static_cast<std::size_t>(std::min<std::uint64_t>(file_size, 8));
  read_exact(in, prefix, fixed, source);
  if (fixed < kMagic.size() || std::string_view(prefix, kMagic.size()) != kMagic)
    fail(source, "is not a .npy file (the \\x93NUMPY magic bytes are missing)");
  if (fixed < 8) fail(source, "file is truncated inside the .npy prefix");

  const auto major = static_cast<unsigned char>(prefix[6]);
  const auto minor = static_cast<unsigned char>(prefix[7]);
  if ((major != 1 && major != 2 && major != 3) || minor != 0)
    fail(source, "unsupported .npy format version " + std::to_string(major) + "." + std::to_string(minor) +
                     " (Fluxion reads 1.0, 2.0 and 3.0)");

  const std::size_t length_bytes = major == 1 ? 2 : 4;  // little-endian u16 or u32
  if (file_size < 8 + length_bytes) fail(source, "file is truncated inside the .npy prefix");
  read_exact(in, prefix + 8, length_bytes, source);
  std::uint64_t header_length = 0;
  for (std::size_t i = 0; i < length_bytes; ++i)
    header_length |= std::uint64_t{static_cast<unsigned char>(prefix[8 + i])} << (8 * i);

  const std::uint64_t header_start = 8 + length_bytes;
  if (header_length > file_size - header_start)
    fail(source, "header length " + std::to_string(header_length) + " exceeds the file size (" +
                     std::to_string(file_size) + " bytes)");
  if (header_length > kMaxHeaderBytes)
    fail(source, "header length " + std::to_string(header_length) + " is above the 1 MiB limit");

  std::string text(static_cast<std::size_t>(header_length), '\0');
  read_exact(in, text.data(), header_length, source);
  data_offset = header_start + header_length;
  return text;
}

/// Parses and validates the whole header: dtype, order, shape, exact data size.
NpyHeader read_header(std::istream& in, std::uint64_t file_size, const std::string& source) {
  NpyHeader header;
  const std::string text = read_header_text(in, file_size, source, header.data_offset);

  bool fortran_order = false;
  HeaderDictParser(text, source).parse(header.descr, fortran_order, header.shape);

  if (header.descr != "<f4" && header.descr != "<f8")
    fail(source, "dtype '" + header.descr +
                     "' is not supported (Fluxion reads only '<f4' float32 and '<f8' float64 arrays)");
  if (fortran_order)
    fail(source, "array is stored in Fortran order; save it in C order (np.ascontiguousarray) instead");

  if (header.shape.size() > kMaxRank)
    fail(source, "shape has " + std::to_string(header.shape.size()) + " dimensions, above numpy's limit of " +
                     std::to_string(kMaxRank));
  // The readers' one size rule (checked_reading.hpp): at most 2^31 elements,
  // counted the same for '<f4' and '<f8'. There is deliberately no limit on
  // the data bytes: one would depend on the dtype, and an '<f4' array read
  // as double is written back as '<f8' (twice the bytes), which the reader
  // must accept too. Memory stays bounded all the same: the bytes checked
  // below must all be in the file before anything is allocated.
  const std::uint64_t count = storable_element_count(header.shape, source, "shape");
  const std::uint64_t item_size = header.descr == "<f4" ? 4 : 8;
  const std::uint64_t data_bytes = count * item_size;  // cannot overflow: count <= 2^31

  const std::uint64_t remaining = file_size - header.data_offset;
  if (remaining < data_bytes)
    fail(source, "file is truncated: shape " + shape_str(header.shape) + " of " + header.descr + " needs " +
                     std::to_string(data_bytes) + " data bytes but only " + std::to_string(remaining) +
                     " follow the header");
  if (remaining > data_bytes)
    fail(source, "data size does not match the shape: " + shape_str(header.shape) + " of " + header.descr +
                     " needs " + std::to_string(data_bytes) + " bytes but " + std::to_string(remaining) +
                     " follow the header");
  header.element_count = count;
  return header;
}

/// "1e+300" rather than std::to_string's 301 digits.
std::string short_number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", value);
  return text;
}

/// One stored value as T; narrowing double -> float must stay in range.
template <class T, class Stored>
T convert_element(Stored value, std::uint64_t index, const std::string& source) {
  if constexpr (sizeof(T) < sizeof(Stored)) {
    if (std::isfinite(value) && std::fabs(value) > static_cast<Stored>(std::numeric_limits<T>::max()))
      fail(source, "element " + std::to_string(index) + " (" + short_number(static_cast<double>(value)) +
                       ") does not fit in float32; read the file as double");
  }
  return static_cast<T>(value);
}

/// Reads `count` stored elements into `dst`, converting Stored -> T.
template <class T, class Stored>
void read_elements(std::istream& in, T* dst, std::uint64_t count, const std::string& source) {
  if constexpr (std::is_same_v<T, Stored>) {
    read_exact(in, dst, count * sizeof(T), source);
  } else {
    std::vector<Stored> chunk(static_cast<std::size_t>(std::min<std::uint64_t>(count, kChunkElements)));
    for (std::uint64_t done = 0; done < count;) {
      const std::uint64_t n = std::min<std::uint64_t>(count - done, chunk.size());
      read_exact(in, chunk.data(), n * sizeof(Stored), source);
      for (std::uint64_t i = 0; i < n; ++i) dst[done + i] = convert_element<T>(chunk[i], done + i, source);
      done += n;
    }
  }
}

/// A whole .npy array of `size` bytes read from `in`, named `source` in errors.
template <class T>
Tensor<T> read_array(std::istream& in, std::uint64_t size, const std::string& source) {
  const NpyHeader header = read_header(in, size, source);
  Tensor<T> tensor(header.shape);
  if (header.descr == "<f4")
    read_elements<T, float>(in, tensor.data(), header.element_count, source);
  else
    read_elements<T, double>(in, tensor.data(), header.element_count, source);
  return tensor;
}

// ---------------------------------------------------------------- writing

template <class T>
constexpr std::string_view descr_of() {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "npy stores float or double");
  return std::is_same_v<T, float> ? "<f4" : "<f8";
}

/// Python tuple syntax: "()", "(5,)", "(2, 3)".
std::string python_tuple(const Shape& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + (shape.size() == 1 ? ",)" : ")");
}

/// Magic + version + length + dict padded with spaces and '\n' so the data
/// starts on a 64-byte boundary. Version 2.0 only if the dict needs > 64 KiB.
std::string npy_prefix(std::string_view descr, const Shape& shape) {
  std::string dict = "{'descr': '" + std::string(descr) + "', 'fortran_order': False, 'shape': " +
                     python_tuple(shape) + ", }";
  const bool v1 = dict.size() + 1 + 10 <= 0xFFFF;
  const std::size_t fixed = v1 ? 10 : 12;
  const std::size_t unpadded = fixed + dict.size() + 1;
  dict.append((kDataAlignment - unpadded % kDataAlignment) % kDataAlignment, ' ');
  dict += '\n';

  std::string out(kMagic);
  out += static_cast<char>(v1 ? 1 : 2);
  out += '\0';
  for (std::size_t i = 0; i < fixed - 8; ++i) out += static_cast<char>((dict.size() >> (8 * i)) & 0xFF);
  return out + dict;
}

/// The shape limits the reader applies, checked before writing `shape` to
/// `destination`, with the reader's sentences.
void check_writable(const Shape& shape, const std::string& destination) {
  if (shape.size() > kMaxRank)
    fail(destination, "shape has " + std::to_string(shape.size()) + " dimensions, above numpy's limit of " +
                          std::to_string(kMaxRank));
  storable_element_count(shape, destination, "shape");
}

}  // namespace

// ---------------------------------------------------------------- public API

std::string npy_dtype(const fs::path& path) {
  const std::uint64_t size = existing_file_size(path);
  std::ifstream in = open_for_reading(path);
  return read_header(in, size, path.string()).descr;
}

template <class T>
Tensor<T> read_npy(const fs::path& path) {
  const std::uint64_t size = existing_file_size(path);
  std::ifstream in = open_for_reading(path);
  return read_array<T>(in, size, path.string());
}

template <class T>
Tensor<T> parse_npy(std::string_view bytes, const std::string& source) {
  std::istringstream in{std::string(bytes)};
  return read_array<T>(in, bytes.size(), source);
}

template <class T>
void write_npy(std::ostream& out, const Tensor<T>& tensor) {
  check_writable(shape_of(tensor), "write_npy");
  const std::string prefix = npy_prefix(descr_of<T>(), shape_of(tensor));
  out.write(prefix.data(), static_cast<std::streamsize>(prefix.size()));
  out.write(reinterpret_cast<const char*>(tensor.data()), static_cast<std::streamsize>(tensor.size() * sizeof(T)));
}

template <class T>
void write_npy(const fs::path& path, const Tensor<T>& tensor) {
  // Checked here first so that the error names the path, not "write_npy".
  check_writable(shape_of(tensor), path.string());
  write_file_atomically(path, [&](std::ostream& out) { write_npy(out, tensor); });
}

template Tensor<float> read_npy<float>(const fs::path&);
template Tensor<double> read_npy<double>(const fs::path&);
template Tensor<float> parse_npy<float>(std::string_view, const std::string&);
template Tensor<double> parse_npy<double>(std::string_view, const std::string&);
template void write_npy<float>(const fs::path&, const Tensor<float>&);
template void write_npy<double>(const fs::path&, const Tensor<double>&);
template void write_npy<float>(std::ostream&, const Tensor<float>&);
template void write_npy<double>(std::ostream&, const Tensor<double>&);

}  // namespace fluxion
