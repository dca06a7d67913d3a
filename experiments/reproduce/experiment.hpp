// One reproduced paper experiment, as `fluxion reproduce` runs it.
//
// An experiment writes everything into its own folder <out>/<name>/:
// tables as CSV, figures as PNG, `numbers.json` (every number it reports),
// `section.md` (its part of REPORT.md: settings, tables, figures, and one
// paragraph comparing with the paper), and last of all `done.json`, whose
// presence marks the experiment finished so an interrupted `reproduce`
// resumes without redoing it. Inside an unfinished experiment, method
// comparisons keep each finished method in <name>/partial/ (see
// method_checkpoint.hpp), so a rerun resumes mid-experiment too.
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace fluxion::experiments {

enum class Scale { smoke, quick, full };

struct Context {
  std::filesystem::path out_dir;       // results/ (the experiment writes into out_dir/name)
  std::filesystem::path data_dir;      // data/mnist
  std::filesystem::path models_dir;    // results/models (cached trained presets)
  Scale scale = Scale::quick;
  std::uint64_t seed = 0;
  std::function<void(const std::string&)> progress;  // one line per phase (and per method in comparisons)
  std::string experiment;  // the running experiment's name (set by the runner; prefixes progress lines)
  /// The experiment's shared folder <out>/<name>, where compare_methods keeps
  /// its checkpoints (partial/); empty: the folder the experiment writes into.
  /// Under mpirun, ranks other than 0 write their files into a private folder
  /// but share this one.
  std::filesystem::path experiment_dir;
  /// Sharding among the P processes of `mpirun -n P`: this one is `rank`;
  /// compare_methods computes the methods m with m mod P = rank, stores them,
  /// waits at `barrier` (every rank), then loads and scores all of them.
  int rank = 0, ranks = 1;
  std::function<void()> barrier;
  /// Paths of the trained MNIST presets (filled by the runner when an
  /// experiment needs MNIST; empty in smoke runs on synthetic data).
  std::filesystem::path mlp_model, cnn_model, resnet_model;
};

struct Outcome {
  nlohmann::json numbers;  // every reported number (checked finite by the runner)
  std::string section;     // Markdown for REPORT.md (figures referenced relative to out_dir)
};

struct Experiment {
  std::string name;   // folder and CLI name
  std::string title;  // report heading
  bool needs_mnist = false;
  std::function<Outcome(const Context&, const std::filesystem::path& dir)> run;
};

/// Every experiment, in report order.
std::vector<Experiment> all_experiments();

/// "smoke" | "quick" | "full"
std::string scale_name(Scale s);

}  // namespace fluxion::experiments
