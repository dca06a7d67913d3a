// Small files for the CLI tests: a tiny model, hand-made bytes of each
// format (to break on purpose), and a synthetic MNIST-like data folder so
// `fluxion train` runs in a second without the network.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace fluxion::testing {

/// Architecture of the tiny model: [4] → linear 4→3 → softplus → linear 3→2.
std::string tiny_architecture();

/// Saves the tiny model (float64, seeded) to `path`; `first_weight`, if
/// given, replaces parameter "0.weight"[0, 0] (e.g. NaN, to poison it).
void write_tiny_model(const std::filesystem::path& path, std::optional<double> first_weight = std::nullopt);

/// A .npy file's bytes: version 1.0 prefix, the given header dict (padded so
/// the data starts at byte 64 or 128) and `data`.
std::string npy_bytes(const std::string& header_dict, const std::string& data);
/// `values` as little-endian float64 bytes.
std::string f64_bytes(const std::vector<double>& values);

/// A .safetensors file's bytes: 8-byte little-endian length, `header_json`, `buffer`.
std::string safetensors_bytes(const std::string& header_json, const std::string& buffer);

/// IDX files (big-endian counts, unsigned-byte items).
std::string idx_images_bytes(std::uint32_t count, std::uint32_t rows, std::uint32_t cols, const std::string& pixels);
std::string idx_labels_bytes(std::uint32_t count, const std::string& labels);

/// The four MNIST files under `dir`, with `train`/`test` digits of side×side
/// pixels: class k lights up band k, plus seeded noise, so a tiny MLP learns
/// it in a few epochs.
void write_synthetic_mnist(const std::filesystem::path& dir, std::uint32_t train, std::uint32_t test,
                           std::uint32_t side, std::uint64_t seed);

/// An MLP for side×side synthetic digits: flatten → linear side²→hidden → relu → linear hidden→10.
std::string small_mlp_architecture(std::uint32_t side, std::uint32_t hidden);

}  // namespace fluxion::testing
