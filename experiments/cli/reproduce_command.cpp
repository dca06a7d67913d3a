// `fluxion reproduce [all|<experiment>...] [--quick|--full] [--out DIR]`:
// fetch MNIST and train the presets if needed, run the papers' experiments,
// and write DIR/REPORT.md (see experiments/reproduce/runner.hpp).
#include <CLI/CLI.hpp>

#include <iostream>

#include "experiments/cli/commands.hpp"
#include "experiments/cli/streaming_ranks.hpp"
#include "experiments/reproduce/runner.hpp"

namespace fluxion::cli {

namespace {
struct ReproduceFlags {
  std::vector<std::string> selection;
  bool quick = false, full = false, smoke = false, force = false;
  std::string out = "results", data = "data/mnist";
  std::uint64_t seed = 0;
};
}  // namespace

void register_reproduce_command(CLI::App& app) {
  auto flags = std::make_shared<ReproduceFlags>();
  std::string names = "all";
  for (const auto& n : experiments::experiment_names()) names += "|" + n;
  auto* cmd = app.add_subcommand(
      "reproduce", "Reproduce the papers' experiments and write <out>/REPORT.md (finished experiments are skipped)");
  cmd->add_option("experiments", flags->selection, "Which experiments: " + names + " (default: all)");
  auto* quick = cmd->add_flag("--quick", flags->quick, "Small settings, <= 20 minutes on 2 cores (default)");
  auto* full = cmd->add_flag("--full", flags->full, "The papers' settings (hours)");
  auto* smoke = cmd->add_flag("--smoke", flags->smoke, "Tiny settings on synthetic data only (seconds; for tests)");
  quick->excludes(full)->excludes(smoke);
  full->excludes(smoke);
  cmd->add_option("--out", flags->out, "Output folder")->capture_default_str();
  cmd->add_option("--data", flags->data, "MNIST folder (fetched there if missing)")->capture_default_str();
  cmd->add_option("--seed", flags->seed, "Seed of every random choice")->capture_default_str();
  cmd->add_flag("--force", flags->force, "Redo experiments that already finished");
  cmd->callback([flags] {
    experiments::ReproduceOptions options;
    if (!flags->selection.empty()) options.selection = flags->selection;
    options.scale = flags->full    ? experiments::Scale::full
                    : flags->smoke ? experiments::Scale::smoke
                                   : experiments::Scale::quick;
    options.out_dir = flags->out;
    options.data_dir = flags->data;
    options.seed = flags->seed;
    options.force = flags->force;
    for (const auto& s : options.selection) {
      bool known = s == "all";
      for (const auto& n : experiments::experiment_names()) known = known || n == s;
      if (!known) throw UsageError("unknown experiment '" + s + "'");
    }
    // Under mpirun -n P the ranks share the method comparisons (runner.hpp);
    // a failure on any rank ends them all (the others would wait at a barrier).
    Ranks& ranks = Ranks::world();
    options.rank = ranks.rank();
    options.ranks = ranks.size();
    options.barrier = [&ranks] { ranks.barrier(); };
    int failures = 0;
    try {
      failures = experiments::reproduce(options);
    } catch (const std::exception& error) {
      if (!ranks.parallel()) throw;
      std::cerr << "fluxion reproduce (rank " << ranks.rank() << "): " << error.what() << "\n";
      ranks.abort(1);
    }
    if (failures > 0) throw std::runtime_error(std::to_string(failures) + " experiment(s) failed; see the report");
  });
}

}  // namespace fluxion::cli
