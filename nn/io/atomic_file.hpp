// Atomic file output: write everything to "<path>.tmp.<pid>" in the same
// directory, fsync it, then rename it over <path>. A crash, a kill or a full
// disk never leaves a half-written <path> behind: readers see the old file or
// the new one. Temporaries left by a killed writer (whose pid no longer runs)
// are removed by the next write to the same path.
#pragma once

#include <filesystem>
#include <functional>
#include <ostream>
#include <string_view>

namespace fluxion {

/// Calls `write(out)` on an in-memory stream, then writes the bytes
/// atomically to `path`. Throws InputError("cannot write '<path>': <problem>")
/// if anything fails (the temporary file is removed).
void write_file_atomically(const std::filesystem::path& path,
                           const std::function<void(std::ostream&)>& write);

/// Atomically writes the given bytes to `path` (same guarantees).
void write_bytes_atomically(const std::filesystem::path& path, std::string_view bytes);

}  // namespace fluxion
