// Shared plumbing of the MNIST experiments: the evaluation images, the
// trained presets in double precision, timing, and writing tables/figures.
#pragma once
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "attribution/explained_output.hpp"
#include "experiments/lib/report.hpp"
#include "experiments/reproduce/experiment.hpp"
#include "nn/modules/sequential.hpp"
#include "nn/training/dataset.hpp"

namespace fluxion::experiments {

/// `count` test images (a seeded random subset of MNIST's test split, or of
/// the synthetic stand-in in smoke runs), [count, 1, 28, 28] in double.
Dataset<double> evaluation_images(const Context& ctx, std::size_t count, std::uint64_t salt = 0);
/// `count` training images (references for Expected Gradients/Hessians, IG2).
Dataset<double> reference_images(const Context& ctx, std::size_t count, std::uint64_t salt = 1);

/// A trained preset ("mlp" or "cnn") in double precision (eval mode).
Sequential<double> load_preset(const Context& ctx, const std::string& preset);

/// The explained output of a model: its logits, predicted class by default.
ExplainedOutput<double> explain_logits(const Sequential<double>& model, std::size_t batch_size = 64);

/// Wall-clock seconds since construction.
class Stopwatch {
 public:
  double seconds() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(); }

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

/// Writes dir/<name>.csv and returns the Markdown table with a link to the CSV.
std::string table_section(const std::filesystem::path& dir, const std::string& name, const Table& table);

/// prefix followed by the number, e.g. key("d", 50) = "d50" (built with a stream:
/// GCC 12 warns falsely on "literal" + std::to_string(...)).
std::string key(const std::string& prefix, long long value);
/// "(row, col)" of a flat 28×28 pixel index.
std::string pixel_label(std::size_t index);

/// Picks a size by scale.
template <class V>
V by_scale(const Context& ctx, V smoke, V quick, V full) {
  return ctx.scale == Scale::smoke ? smoke : ctx.scale == Scale::quick ? quick : full;
}

/// The synthetic stand-in for MNIST used by smoke runs (no network): 10
/// classes, each a bright 4×4 square at its own position plus uniform noise.
Dataset<float> synthetic_digits(std::size_t count, std::uint64_t seed);

}  // namespace fluxion::experiments
