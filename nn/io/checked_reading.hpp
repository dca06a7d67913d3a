// The checks every file reader (IDX, .npy, .safetensors, architecture
// descriptions) makes before it trusts a byte: the file exists and is a
// regular file, sizes are multiplied without overflow, a tensor shape obeys
// the one size rule (below), and a read returns exactly the bytes asked for.
// Each failure is an InputError that starts with the file name:
// "<source>: <problem>".
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <istream>
#include <string>
#include <vector>

namespace fluxion::reading {

/// Throws InputError("<source>: <problem>").
[[noreturn]] void fail(const std::string& source, const std::string& problem);

/// product = a · b; false (product unspecified) when it does not fit in 64 bits.
bool checked_mul(std::uint64_t a, std::uint64_t b, std::uint64_t& product);

/// The largest tensor a file may hold or be written with: 2^31 elements
/// (16 GiB as double), the limit of the layers (nn/modules/size_limits.hpp)
/// and of a whole model (nn/models/architecture.hpp) too.
constexpr std::uint64_t kMaxTensorElements = std::uint64_t{1} << 31;

/// The size rule for a tensor shape, the same for every reader (.npy,
/// .safetensors) and for its writer: the product of the shape's non-zero
/// extents is at most kMaxTensorElements. Returns the element count (0 if
/// an extent is 0).
///
/// Why this form:
///  - It counts elements, never bytes, so it does not depend on the dtype.
///    A tensor read as F32 may be written as F64 and read back (and a .npy
///    '<f4' array read as double is written as '<f8'); a limit on
///    elements x item size would accept the shape in one dtype and reject it
///    in the other, so a file the reader accepted could be re-written into
///    one it rejects (a fuzz finding: an empty F32 tensor whose other extents
///    multiply to 2^61.2 passed, its F64 re-write overflowed the byte count).
///  - It limits empty tensors too: a tensor's (signed) strides are products
///    of its extents, so [0, 2^40, 2^40] must not pass just because it holds
///    nothing.
/// Byte counts computed from the result (at most 2^31 x 8) cannot overflow.
/// Otherwise fails with one sentence, "<source>: <subject> [2, 0, ...] ...",
/// where subject names the tensor ("shape", "tensor 'w' shape").
std::uint64_t storable_element_count(const std::vector<std::size_t>& shape, const std::string& source,
                                     const std::string& subject);

/// Size of a regular file; clear errors for missing files and directories.
std::uint64_t existing_file_size(const std::filesystem::path& path);

/// The file opened in binary mode, or an InputError naming it.
std::ifstream open_for_reading(const std::filesystem::path& path);

/// Reads exactly `bytes` bytes into dst, or fails naming `source`.
void read_exact(std::istream& in, void* dst, std::uint64_t bytes, const std::string& source);

}  // namespace fluxion::reading
