// The checks every file reader (IDX, .npy, .safetensors, architecture
// descriptions) makes before it trusts a byte: the file exists and is a
// regular file, sizes are multiplied without overflow, and a read returns
// exactly the bytes asked for. Each failure is an InputError that starts
// with the file name: "<source>: <problem>".
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <istream>
#include <string>

namespace fluxion::reading {

/// Throws InputError("<source>: <problem>").
[[noreturn]] void fail(const std::string& source, const std::string& problem);

/// product = a · b; false (product unspecified) when it does not fit in 64 bits.
bool checked_mul(std::uint64_t a, std::uint64_t b, std::uint64_t& product);

/// Size of a regular file; clear errors for missing files and directories.
std::uint64_t existing_file_size(const std::filesystem::path& path);

/// The file opened in binary mode, or an InputError naming it.
std::ifstream open_for_reading(const std::filesystem::path& path);

/// Reads exactly `bytes` bytes into dst, or fails naming `source`.
void read_exact(std::istream& in, void* dst, std::uint64_t bytes, const std::string& source);

}  // namespace fluxion::reading
