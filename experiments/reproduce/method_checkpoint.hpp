// Checkpoints of a method comparison, so an interrupted `fluxion reproduce`
// resumes in the middle of an experiment instead of redoing it.
//
// compare_methods (comparison.hpp) runs each method on every image, then
// scores it. After a method has run, everything its table row is rebuilt
// from is stored in <experiment dir>/partial/<comparison>/:
//   <slug>.npy   the attributions, float64 (bit for bit what the method returned)
//   <slug>.json  a fingerprint of everything that determines them, the
//                attributions file's FNV-1a 64 checksum and shape, the output
//                changes and completeness gaps (each double as its 64-bit
//                pattern in hex, so they round-trip exactly), the reference's
//                description, and the measured seconds per image.
// Both are written atomically, the .npy first: a .json on disk means its .npy
// was complete. On a rerun a method whose stored fingerprint equals the
// current one is loaded instead of recomputed; anything else (another
// fingerprint, a damaged or missing file, a checksum that does not match) is
// recomputed and never trusted. The runner removes partial/ once the
// experiment has finished (done.json).
//
// Test hook: if the environment variable FLUXION_STOP_AFTER_METHODS=k is set,
// compare_methods throws once the experiment's partial/ folder holds k stored
// methods (counting stored files, so the stop point does not depend on what
// ran before in the process). Tests use it to interrupt a run deterministically.
#pragma once
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "attribution/method_registry.hpp"

namespace fluxion::experiments {

/// FNV-1a 64 of bytes, as 16 hex digits: h = 14695981039346656037;
/// for each byte b: h = (h xor b) · 1099511628211 mod 2^64 (Fowler–Noll–Vo).
std::string fnv1a64_hex(std::string_view bytes);
/// The same hash of a tensor's shape and element bytes.
std::string tensor_fingerprint(const Tensor<double>& t);

/// A file name for a table label: its ASCII letters and digits (lowercased),
/// other runs of characters as '_', then '-' and the label's hash (so labels
/// that differ only in non-ASCII characters get different names).
std::string method_slug(const std::string& label);

/// What a finished method left for its table row.
struct StoredMethod {
  MethodOutput<double> output;
  double seconds_per_image = 0;  // as measured when it was computed
};

/// The checkpoint folder of one comparison: <experiment dir>/partial/<comparison>.
std::filesystem::path checkpoint_folder(const std::filesystem::path& experiment_dir, const std::string& comparison);

/// Stores a finished method (the .npy, then the .json, each atomically).
void store_method(const std::filesystem::path& folder, const std::string& slug, const nlohmann::json& fingerprint,
                  const StoredMethod& method);

/// The result of looking for a stored method.
struct LoadedMethod {
  std::optional<StoredMethod> method;  // set: reuse it
  std::string problem;                 // why a file that exists was not trusted (empty: none stored)
};

/// Loads a stored method if its fingerprint equals `fingerprint` and its files
/// are intact; otherwise says why not (or nothing, when nothing is stored).
LoadedMethod load_method(const std::filesystem::path& folder, const std::string& slug,
                         const nlohmann::json& fingerprint);

/// The test hook (see the top of this file): throws std::runtime_error when
/// FLUXION_STOP_AFTER_METHODS=k is set and <experiment dir>/partial holds ≥ k
/// stored methods.
void stop_if_requested(const std::filesystem::path& experiment_dir);

}  // namespace fluxion::experiments
