// `fluxion reproduce`: run the selected experiments, skip the finished ones,
// and assemble REPORT.md + metadata.json from what each experiment wrote.
#pragma once
#include <filesystem>
#include <functional>
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
  /// mpirun -n P (see Context): this process's rank, P, and a barrier of all
  /// P. Rank 0 runs every experiment and writes the report; the other ranks
  /// only help with the method comparisons (ig2, neflag), each writing into
  /// <out>/ranks/<rank>/ (removed afterwards) except for the shared checkpoints.
  int rank = 0, ranks = 1;
  std::function<void()> barrier;
};

/// Runs the experiments and writes out_dir/REPORT.md. Returns the number of
/// experiments that failed (their error is in the report; others still run).
int reproduce(const ReproduceOptions& options);

/// Names accepted in `selection` (besides "all").
std::vector<std::string> experiment_names();

}  // namespace fluxion::experiments
