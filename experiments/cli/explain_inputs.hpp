// What `fluxion explain`, `interactions` and `check` share: loading the model
// and the input batch, checking they fit, resolving targets and baselines,
// and writing heatmaps. Every problem is one sentence naming the file or flag.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "attribution/method_registry.hpp"
#include "nn/modules/sequential.hpp"

namespace fluxion::cli {

struct ExplainFlags {
  std::string model, method, input, out, png, baseline = "zeros", output_kind = "logit";
  std::vector<long long> targets;  // one per example, or one for all
  int steps = 0;
  double smooth_beta = 0;  // > 0: explain smooth(model, β)
  std::uint64_t seed = 0;
  std::size_t batch_size = 64;
  std::string references;  // .npy [R, ...] for expected_gradients / eh / ig2
};

/// Everything a method call needs, in double precision.
struct ExplainSetup {
  Sequential<double> model;           // possibly smoothed
  ExplainedOutput<double> explained;
  Tensor<double> x;                   // [N, ...] (a single example gets a leading axis of 1)
  bool single_example = false;        // the input file had no batch axis
  std::vector<std::size_t> targets;   // N classes
  MethodSettings<double> settings;
};

/// Validates flags and files, loads everything. UsageError for bad flags,
/// InputError for bad files.
ExplainSetup prepare_explanation(const ExplainFlags& flags);

/// Removes the leading axis again when the input was a single example.
Tensor<double> restore_batch_shape(const Tensor<double>& values, bool single_example);

/// Writes a diverging heatmap PNG of each example (a grid if N > 1); maps
/// with more than two axes are summed over channels.
void write_attribution_png(const std::filesystem::path& path, const Tensor<double>& attributions);

}  // namespace fluxion::cli
