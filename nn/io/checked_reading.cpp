#include "nn/io/checked_reading.hpp"

#include "autodiff/errors.hpp"
#include "autodiff/tensor.hpp"

namespace fluxion::reading {

namespace fs = std::filesystem;

void fail(const std::string& source, const std::string& problem) { throw InputError(source + ": " + problem); }

bool checked_mul(std::uint64_t a, std::uint64_t b, std::uint64_t& product) {
  return !__builtin_mul_overflow(a, b, &product);
}

std::uint64_t storable_element_count(const std::vector<std::size_t>& shape, const std::string& source,
                                     const std::string& subject) {
  std::uint64_t product = 1;  // of the non-zero extents
  bool overflow = false, empty = false;
  for (std::size_t extent : shape) {
    if (extent == 0)
      empty = true;
    else
      overflow = overflow || !checked_mul(product, extent, product);
  }
  const bool too_large = overflow || product > kMaxTensorElements;
  const std::string what = subject + " " + shape_str(shape);
  if (too_large && empty)
    fail(source, what + " holds no elements, but its non-zero extents multiply to more than 2^31, "
                        "the size limit (a tensor's strides are products of them)");
  if (overflow)
    fail(source, what + " has too many elements (the count overflows 64 bits; the size limit is 2^31)");
  if (too_large)
    fail(source, what + " has " + std::to_string(product) + " elements, above the size limit of 2^31");
  return empty ? 0 : product;
}

std::uint64_t existing_file_size(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) fail(path.string(), "file does not exist");
  if (!fs::is_regular_file(path, ec)) fail(path.string(), "is not a regular file");
  const std::uint64_t size = fs::file_size(path, ec);
  if (ec) fail(path.string(), "cannot read the file size (" + ec.message() + ")");
  return size;
}

std::ifstream open_for_reading(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path.string(), "cannot open the file for reading");
  return in;
}

void read_exact(std::istream& in, void* dst, std::uint64_t bytes, const std::string& source) {
  in.read(static_cast<char*>(dst), static_cast<std::streamsize>(bytes));
  if (!in || static_cast<std::uint64_t>(in.gcount()) != bytes)
    fail(source, "read failed (the file changed or an I/O error occurred)");
}

}  // namespace fluxion::reading
