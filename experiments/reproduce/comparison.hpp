// Comparing attribution methods on one MNIST model (experiments 4 and 5):
// time per image, completeness gap, deletion / insertion AUC and their
// difference (mean ± s.e.), a heatmap grid and mean perturbation curves.
#pragma once
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "attribution/method_registry.hpp"
#include "experiments/reproduce/common.hpp"

namespace fluxion::experiments {

struct ComparisonModel {
  Sequential<double> model;
  ExplainedOutput<double> explained;  // the predicted class's logit
  Function<double> features, head;    // split at the input of the last Linear layer (IG2)
};
ComparisonModel comparison_model(Sequential<double> model);

using BatchMethod = std::function<MethodOutput<double>(const Tensor<double>& x, const std::vector<std::size_t>& t)>;

struct MethodRun {
  std::string label;   // table row
  std::string method;  // registry name (for the JSON keys)
  BatchMethod run;
};

/// A run through the method registry with settings adjusted by `configure`;
/// `baseline` (resolve_baseline's kind) is built for the images of each call.
MethodRun registry_run(const std::string& label, const std::string& method, const ComparisonModel& model,
                       const std::function<void(MethodSettings<double>&)>& configure,
                       const std::string& baseline = "black");

struct ComparisonResult {
  nlohmann::json numbers;
  std::string markdown;  // table + figures
  /// Per image, for paired verdicts: insertion − deletion AUC of each run (by label).
  std::map<std::string, std::vector<double>> difference_per_image;
  /// What was scored, for rescoring under other yardsticks (yardstick_sweep.hpp):
  /// the images, the explained classes, and each run's attributions (by label).
  Tensor<double> images;
  std::vector<std::size_t> targets;
  std::map<std::string, Tensor<double>> attributions;
};

/// Runs every method on `images` (explaining the predicted classes), scores
/// it with the main yardstick (yardstick_sweep.hpp: 2% per step, black,
/// softmax probability), writes
/// <name>.csv, <name>_heatmaps.png (rows: digits, columns: the input then the
/// methods, titled; each map scaled to its own 99th percentile of |A|, one
/// colour bar), <name>_deletion.png and <name>_insertion.png into dir.
ComparisonResult compare_methods(const Context& ctx, const std::filesystem::path& dir, const ComparisonModel& model,
                                 const Dataset<double>& images, const std::vector<MethodRun>& runs,
                                 const std::string& name);

}  // namespace fluxion::experiments
