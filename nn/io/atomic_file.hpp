// Atomic file output: write everything to "<path>.tmp.<pid>" in the same
// directory, flush, then rename over <path>. A crash or a full disk never
// leaves a half-written <path> behind.
#pragma once

#include <filesystem>
#include <functional>
#include <ostream>
#include <string_view>

namespace fluxion {

/// Calls `write(out)` on a temporary file beside `path`, then renames it to
/// `path`. Throws InputError naming `path` if anything fails (the temp file
/// is removed).
void write_file_atomically(const std::filesystem::path& path,
                           const std::function<void(std::ostream&)>& write);

/// Convenience: atomically write the given bytes.
void write_bytes_atomically(const std::filesystem::path& path, std::string_view bytes);

}  // namespace fluxion
