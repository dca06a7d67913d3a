// The reproduce runner (see runner.hpp).
//
// For each selected experiment: if <out>/<name>/done.json records the same
// scale and seed, the experiment is finished and is skipped (resume);
// otherwise it runs, its numbers are checked to be finite, and done.json is
// written last (then its partial/ checkpoints are removed; an unfinished
// experiment keeps them, so its rerun reuses the methods already computed). A failing experiment is reported and the others still run.
// REPORT.md is rebuilt at the end from every finished experiment's section.
#include "experiments/reproduce/runner.hpp"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include "autodiff/errors.hpp"
#include "experiments/lib/report.hpp"
#include "experiments/reproduce/mnist_models.hpp"
#include "experiments/reproduce/verdict.hpp"
#include "nn/models/model_io.hpp"

namespace fluxion::experiments {

namespace fs = std::filesystem;

std::string scale_name(Scale s) {
  switch (s) {
    case Scale::smoke: return "smoke";
    case Scale::quick: return "quick";
    case Scale::full: return "full";
  }
  return "?";
}

std::vector<std::string> experiment_names() {
  std::vector<std::string> names;
  for (const auto& e : all_experiments()) names.push_back(e.name);
  return names;
}

namespace {

nlohmann::json read_json_or_null(const fs::path& path) {
  std::ifstream in(path);
  if (!in) return nullptr;
  try {
    return nlohmann::json::parse(in);
  } catch (const std::exception&) {
    return nullptr;  // a damaged marker means "not finished"
  }
}

std::string read_text_file(const fs::path& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

bool finished(const fs::path& dir, const Context& ctx) {
  auto done = read_json_or_null(dir / "done.json");
  return done.is_object() && done.value("scale", "") == scale_name(ctx.scale) &&
         done.value("seed", std::uint64_t(-1)) == ctx.seed && fs::exists(dir / "section.md");
}

/// The experiments `selection` names ("all" or names), in table order;
/// ArgumentError for an unknown name.
std::vector<Experiment> selected_experiments(const std::vector<std::string>& selection) {
  const auto experiments = all_experiments();
  std::set<std::string> wanted;
  for (const auto& s : selection) {
    if (s == "all") {
      for (const auto& e : experiments) wanted.insert(e.name);
      continue;
    }
    bool known = false;
    for (const auto& e : experiments) known = known || e.name == s;
    if (!known) {
      std::string list;
      for (const auto& e : experiments) list += (list.empty() ? "" : ", ") + e.name;
      throw ArgumentError("unknown experiment '" + s + "' (choose all, " + list + ")");
    }
    wanted.insert(s);
  }
  std::vector<Experiment> chosen;
  for (const auto& e : experiments)
    if (wanted.count(e.name)) chosen.push_back(e);
  return chosen;
}

Context make_context(const ReproduceOptions& options) {
  Context ctx;
  ctx.out_dir = options.out_dir;
  ctx.data_dir = options.data_dir;
  ctx.models_dir = options.out_dir / "models";
  ctx.scale = options.scale;
  ctx.seed = options.seed;
  ctx.progress = [](const std::string& line) { std::cout << "  " << line << std::endl; };
  ctx.rank = options.rank;
  ctx.ranks = options.ranks;
  ctx.barrier = options.barrier;
  return ctx;
}

/// The experiments whose work is compare_methods, which the ranks of
/// `mpirun -n P` share (every other experiment runs on rank 0 alone).
bool shares_methods(const Experiment& e) { return e.name == "ig2" || e.name == "neflag"; }

/// Runs one experiment into <out>/<name>/: numbers.json, section.md, and
/// done.json last (or error.txt). False if it failed. The MNIST models are
/// prepared the first time an experiment needs them.
bool run_experiment(const Experiment& e, Context& ctx, bool& models_ready) {
  const fs::path dir = ctx.out_dir / e.name;
  std::cout << "[" << e.name << "] " << e.title << " (" << scale_name(ctx.scale) << ")" << std::endl;
  const auto start = std::chrono::steady_clock::now();
  try {
    if (e.needs_mnist && !models_ready) {
      prepare_mnist_models(ctx);
      models_ready = true;
    }
    fs::create_directories(dir);
    fs::remove(dir / "done.json");
    ctx.experiment = e.name;
    ctx.experiment_dir = dir;
    Outcome outcome = e.run(ctx, dir);
    // Sharded: the other ranks have loaded every checkpoint before partial/ goes
    // (they take part only in the experiments that share methods).
    if (ctx.ranks > 1 && shares_methods(e)) ctx.barrier();
    require_finite_numbers(outcome.numbers, e.name);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    write_json(dir / "numbers.json", outcome.numbers);
    write_text(dir / "section.md", outcome.section);
    write_json(dir / "done.json", {{"scale", scale_name(ctx.scale)},
                                   {"seed", ctx.seed},
                                   {"wall_seconds", seconds},
                                   {"environment", run_environment()}});
    // Finished: the per-method checkpoints (method_checkpoint.hpp) and an
    // earlier attempt's error are no longer needed.
    fs::remove_all(dir / "partial");
    fs::remove(dir / "error.txt");
    std::cout << "[" << e.name << "] done in " << format_number(seconds, 3) << " s" << std::endl;
    return true;
  } catch (const std::exception& error) {
    std::cout << "[" << e.name << "] FAILED: " << error.what() << std::endl;
    write_text(dir / "error.txt", std::string(error.what()) + "\n");
    if (ctx.ranks > 1) throw;  // the other ranks would wait at a barrier: the caller ends them all
    return false;
  }
}

/// A helping rank (not 0) of a sharded run: runs the experiment for its share
/// of the method comparisons, writing its own files into a private folder
/// <out>/ranks/<rank>/<name> (removed afterwards); the checkpoints go to the
/// shared <out>/<name>/partial/ as rank 0's do. Any failure propagates.
void help_with_experiment(const Experiment& e, Context& ctx) {
  const fs::path own = ctx.out_dir / "ranks" / std::to_string(ctx.rank) / e.name;
  fs::create_directories(own);
  ctx.experiment = e.name;
  ctx.experiment_dir = ctx.out_dir / e.name;
  e.run(ctx, own);
  ctx.barrier();  // rank 0 removes partial/ only after this
  fs::remove_all(own.parent_path());
  std::error_code not_empty;  // another helper's folder may still be there
  fs::remove(ctx.out_dir / "ranks", not_empty);
}

/// REPORT.md from every finished experiment (also ones from earlier runs):
/// the runs table, the trained presets, then each experiment's section.
/// Returns each finished experiment's wall time, for metadata.json.
/// Every verdict recorded in the finished experiments' numbers.json ("verdicts" arrays).
std::vector<Verdict> collected_verdicts(const Context& ctx) {
  std::vector<Verdict> all;
  for (const auto& e : all_experiments()) {
    const fs::path dir = ctx.out_dir / e.name;
    if (!finished(dir, ctx)) continue;
    const auto numbers = read_json_or_null(dir / "numbers.json");
    if (!numbers.is_object() || !numbers.contains("verdicts")) continue;
    for (const auto& v : numbers["verdicts"]) all.push_back(verdict_from_json(v));
  }
  return all;
}

nlohmann::json write_report(const Context& ctx, const nlohmann::json& env, double this_run_seconds,
                            std::size_t skipped) {
  nlohmann::json wall = nlohmann::json::object();
  double experiments_seconds = 0;  // every finished experiment, this run's and earlier ones
  for (const auto& e : all_experiments()) {
    if (!finished(ctx.out_dir / e.name, ctx)) continue;
    experiments_seconds += read_json_or_null(ctx.out_dir / e.name / "done.json").value("wall_seconds", 0.0);
  }
  std::ostringstream report;
  report << "# Fluxion reproduction report\n\n"
         << "Scale: **" << scale_name(ctx.scale) << "**, seed " << ctx.seed << ". Wall time of this run: **"
         << format_number(this_run_seconds, 4) << " s** (" << format_number(this_run_seconds / 60, 3)
         << " min, including training the MNIST presets if they were not cached"
         << (skipped ? "; " + std::to_string(skipped) + " experiments finished earlier were skipped" : std::string())
         << "); the experiments' own wall times (table below) sum to **" << format_number(experiments_seconds, 4)
         << " s**, the MNIST presets' training not included. Every number below is also in "
            "`<experiment>/numbers.json`; tables are also CSV files.\n\n";
  const std::vector<Verdict> verdicts = collected_verdicts(ctx);
  if (!verdicts.empty()) {
    std::size_t agrees = 0, disagrees = 0;
    for (const auto& v : verdicts) agrees += v.result == "agrees", disagrees += v.result == "disagrees";
    report << "## Verdicts on the papers' claims\n\n"
           << agrees << " agree, " << disagrees << " disagree, " << verdicts.size() - agrees - disagrees
           << " inconclusive. Each row compares two methods on the same inputs: the effect is the mean paired "
              "difference a − b, the interval its 95% Student-t interval over the n inputs; a claim that a is "
              "better agrees when the interval lies above 0 and disagrees when it lies below 0; an on-par claim "
              "agrees when the interval lies inside the stated margin and disagrees when it lies wholly outside "
              "it. The experiments' sections give the settings.\n\n"
           << verdict_table(verdicts, true).markdown() << "\n";
  }
  Table runs;
  runs.columns = {"experiment", "status", "wall time (s)", "git commit", "finished (UTC)"};
  std::ostringstream sections;
  for (const auto& e : all_experiments()) {
    const fs::path dir = ctx.out_dir / e.name;
    auto done = read_json_or_null(dir / "done.json");
    if (finished(dir, ctx)) {
      const auto& run_env = done["environment"];
      runs.add_row({e.name, "ok", format_number(done.value("wall_seconds", 0.0), 3),
                    run_env.value("git_commit", "unknown").substr(0, 10), run_env.value("utc_time", "")});
      wall[e.name] = done.value("wall_seconds", 0.0);
      sections << "## " << e.title << "\n\n" << read_text_file(dir / "section.md") << "\n";
    } else if (fs::exists(dir / "error.txt")) {
      runs.add_row({e.name, "failed: " + read_text_file(dir / "error.txt").substr(0, 120), "", "", ""});
      sections << "## " << e.title << "\n\nThis experiment failed: `" << read_text_file(dir / "error.txt") << "`\n\n";
    } else {
      runs.add_row({e.name, "not run", "", "", ""});
    }
  }
  report << "Machine: " << env["cpu"].get<std::string>() << ", " << env["hardware_threads"].get<unsigned>()
         << " hardware threads; compiler " << env["compiler"].get<std::string>() << ".\n\n"
         << runs.markdown() << "\n";
  // The trained MNIST presets the experiments explain, with their training record.
  for (const std::string preset : {"mlp", "cnn", "resnet"}) {
    const fs::path path = ctx.models_dir / (preset + (ctx.scale == Scale::smoke ? "-smoke" : "") + ".safetensors");
    if (!fs::exists(path)) continue;
    const auto meta = read_model_metadata(path);
    auto field = [&](const char* k) { return meta.count(k) ? meta.at(k) : std::string("?"); };
    report << "- `" << preset << "` model `" << path.string() << "`: test accuracy " << field("test_accuracy")
           << " after " << field("epochs") << " epochs (" << field("optimizer") << ", seed " << field("seed")
           << ", trained by " << field("trained_by") << ")\n";
  }
  report << "\n" << sections.str();
  write_text(ctx.out_dir / "REPORT.md", report.str());
  return wall;
}

}  // namespace

int reproduce(const ReproduceOptions& options) {
  std::vector<Experiment> chosen = selected_experiments(options.selection);
  Context ctx = make_context(options);
  fs::create_directories(ctx.out_dir);

  const auto total_start = std::chrono::steady_clock::now();
  int failures = 0;
  std::size_t skipped = 0;
  bool models_ready = false;
  if (ctx.ranks > 1) {
    // Sharded: rank 0 trains (or finds) the MNIST presets first, so the others
    // load the same files. Every rank decides the same: the folders are shared.
    bool any = false;
    for (const auto& e : chosen)
      any = any || (shares_methods(e) && (options.force || !finished(ctx.out_dir / e.name, ctx)));
    if (any && ctx.rank == 0) prepare_mnist_models(ctx);
    if (any) ctx.barrier();
    if (any && ctx.rank != 0) prepare_mnist_models(ctx);  // now cached: loads them
    models_ready = any;
    // The shared experiments first, so the helping ranks are not left waiting
    // at a barrier while rank 0 runs the others (the report keeps its order).
    std::stable_partition(chosen.begin(), chosen.end(), shares_methods);
  }
  if (ctx.rank != 0) {
    for (const auto& e : chosen)
      if (shares_methods(e) && (options.force || !finished(ctx.out_dir / e.name, ctx))) help_with_experiment(e, ctx);
    return 0;
  }
  for (const auto& e : chosen) {
    if (!options.force && finished(ctx.out_dir / e.name, ctx)) {
      std::cout << "[" << e.name << "] already finished (" << scale_name(ctx.scale)
                << ", seed " << ctx.seed << "): skipped\n";
      ++skipped;
      continue;
    }
    if (!run_experiment(e, ctx, models_ready)) ++failures;
  }

  const auto env = run_environment();
  const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - total_start).count();
  const nlohmann::json wall = write_report(ctx, env, total, skipped);
  write_json(ctx.out_dir / "metadata.json", {{"scale", scale_name(ctx.scale)},
                                              {"seed", ctx.seed},
                                              {"environment", env},
                                              {"wall_seconds_this_run", total},
                                              {"wall_seconds_per_experiment", wall}});
  std::cout << "report: " << (ctx.out_dir / "REPORT.md").string() << " (" << format_number(total, 3)
            << " s this run, " << failures << " failed)" << std::endl;
  return failures;
}

}  // namespace fluxion::experiments
