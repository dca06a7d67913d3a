// `fluxion reproduce`: run the selected experiments, skip the finished ones,
// and assemble REPORT.md + metadata.json from what each experiment wrote.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "experiments/reproduce/experiment.hpp"

namespace fluxion::experiments {

struct ReproduceOptions {
  std::vector<std::string> selection{"all"};  // experiment names or "all"
  Scale scale = Scale::quick;
  std::filesystem::path out_dir = "results";
  std::filesystem::path data_dir = "data/mnist";
  std::uint64_t seed = 0;
  bool force = false;  // redo finished experiments
};

/// Runs the experiments and writes out_dir/REPORT.md. Returns the number of
/// experiments that failed (their error is in the report; others still run).
int reproduce(const ReproduceOptions& options);

/// Names accepted in `selection` (besides "all").
std::vector<std::string> experiment_names();

}  // namespace fluxion::experiments
