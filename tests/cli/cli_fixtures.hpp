// Small files for the CLI tests: a tiny model, hand-made bytes of each
// format (to break on purpose), and a synthetic MNIST-like data folder so
// `fluxion train` runs in a second without the network.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
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

/// Saves the model `architecture` describes (float64) to `path`: parameters
/// named in `parameters` (state_dict name → row-major values) get exactly
/// those values, the others keep their seeded initialisation.
void write_model(const std::filesystem::path& path, const std::string& architecture,
                 const std::map<std::string, std::vector<double>>& parameters, std::uint64_t seed = 7);

/// A linear classifier of 2×3 "images": [2, 3] → flatten → linear 6→3. IG,
/// saliency and gradient × input have closed forms on it, and the 2-D
/// example admits the blurred baseline.
std::string linear_image_architecture();

/// [3] → linear 3→3 → relu → linear 3→2: a ReLU net, for --smooth-beta.
std::string relu_architecture();

/// f(x) ≈ x₀x₁ from the layers the architecture format has (no product layer):
/// [2] → linear 2→4 → softplus → linear 4→1 with
///     f(x) = (1/a²) [E(a(x₀+x₁)) − E(a(x₀−x₁))],   E(u) = softplus(u) + softplus(−u).
/// E is even with E(u) = 2 ln 2 + u²/4 − u⁴/96 + …, so
///     f(x) = x₀x₁ (1 − a²(x₀² + x₁²)/12 + O(a⁴)),
///     ∇²f = [[−a²x₀x₁/2, 1 − a²(x₀² + x₁²)/4], [same, −a²x₀x₁/2]] + O(a⁴).
/// Derivatives come from sigmoids (no cancellation); only f's value loses
/// about 4·10⁻¹⁶/a² to rounding. product_scale() is a = 2⁻¹², which makes every
/// weight a power of two (exact) and both errors ≈ 10⁻⁸ relative for |x_i| ≤ 1.
std::string product_architecture();
double product_scale();
std::map<std::string, std::vector<double>> product_parameters();

}  // namespace fluxion::testing
