// Method comparison on one MNIST model (see comparison.hpp).
#include "experiments/reproduce/comparison.hpp"

#include <cmath>
#include <cstdio>
#include <sstream>

#include <xtensor/xview.hpp>

#include "attribution/faithfulness.hpp"
#include "experiments/lib/heatmap_grid.hpp"
#include "experiments/lib/plot.hpp"
#include "experiments/reproduce/method_checkpoint.hpp"
#include "experiments/reproduce/yardstick_sweep.hpp"
#include "nn/models/smoothing.hpp"

namespace fluxion::experiments {

ComparisonModel comparison_model(Sequential<double> model) {
  ComparisonModel m;
  auto split = split_at_last_linear(model);
  m.features = as_function(split.features);
  m.head = as_function(split.head);
  m.explained = explain_logits(model, 64);
  m.model = std::move(model);
  return m;
}

MethodRun registry_run(const std::string& label, const std::string& method, const ComparisonModel& model,
                       const std::function<void(MethodSettings<double>&)>& configure, const std::string& baseline) {
  MethodSettings<double> settings;
  settings.features = model.features;
  settings.head = model.head;
  configure(settings);
  ExplainedOutput<double> out = model.explained;
  const MethodSpec<double>& spec = method_spec<double>(method);
  return {label, method,
          [out, &spec, settings, baseline](const Tensor<double>& x, const std::vector<std::size_t>& t) {
            MethodSettings<double> s = settings;
            s.baseline = resolve_baseline(x, baseline);  // "blur" blurs the images of this call
            return run_method(spec, out, x, resolve_targets(out, x, t), s);
          }};
}

namespace {

Tensor<double> image_of(const Tensor<double>& batch, std::size_t n) {
  const std::size_t h = batch.shape()[batch.dimension() - 2], w = batch.shape()[batch.dimension() - 1];
  const std::size_t plane = h * w, per_example = batch.size() / batch.shape()[0];
  Tensor<double> img = Tensor<double>::from_shape({h, w});
  img.fill(0);
  // Sum over channels (MNIST has one).
  for (std::size_t k = 0; k < per_example; ++k) img.data()[k % plane] += batch.data()[n * per_example + k];
  return img;
}

/// What determines a comparison's stored methods, besides the method itself:
/// the experiment, comparison, scale and seed, the images (count and a hash
/// of their bytes), the explained classes, and a hash of the model's explained
/// output on the images (so a retrained model invalidates the checkpoints).
nlohmann::json comparison_fingerprint(const Context& ctx, const std::string& name, const ComparisonModel& model,
                                      const Tensor<double>& x, const std::vector<std::size_t>& targets) {
  return {{"experiment", ctx.experiment},
          {"comparison", name},
          {"scale", scale_name(ctx.scale)},
          {"seed", ctx.seed},
          {"images", x.shape()[0]},
          {"images_fnv1a64", tensor_fingerprint(x)},
          {"targets", targets},
          {"explained_output_fnv1a64", tensor_fingerprint(output_values(model.explained, x, targets))}};
}

/// The progress of a comparison: "<prefix> d/M methods, E s, ETA R s: ",
/// with R = (M − d) · (mean seconds of the methods computed so far; reused
/// ones cost nothing and are not counted), "ETA unknown" before the first.
struct MethodPace {
  /// "0.4 s", "41 s": one decimal below 10 s, whole seconds above.
  static std::string seconds_text(double s) {
    char text[32];
    std::snprintf(text, sizeof text, s < 9.95 ? "%.1f s" : "%.0f s", s);  // 9.96 prints "10 s", not "10.0 s"
    return text;
  }
  double seconds = 0;
  std::size_t count = 0;
  void computed(double s) { seconds += s, ++count; }
  std::string line(const std::string& prefix, std::size_t done, std::size_t total, double elapsed) const {
    const std::string eta =
        count == 0 ? std::string("ETA unknown") : "ETA " + seconds_text(double(total - done) * seconds / double(count));
    return prefix + " " + std::to_string(done) + "/" + std::to_string(total) + " methods, " + seconds_text(elapsed) +
           ", " + eta + ": ";
  }
};

}  // namespace

ComparisonResult compare_methods(const Context& ctx, const std::filesystem::path& dir, const ComparisonModel& model,
                                 const Dataset<double>& images, const std::vector<MethodRun>& runs,
                                 const std::string& name) {
  const Tensor<double>& x = images.inputs;
  const std::size_t n = x.shape()[0];
  const auto targets = resolve_targets(model.explained, x, {});
  const Yardstick yardstick = main_yardstick();

  Table table;
  table.columns = {"method", "insertion − deletion AUC ↑", "deletion AUC ↓", "insertion AUC ↑",
                   "completeness gap (relative)", "time per image (s)"};
  ComparisonResult result;
  result.images = x;
  result.targets = targets;
  const std::size_t shown = std::min<std::size_t>(8, n);
  std::vector<std::vector<HeatmapPanel>> grid_cells(shown);
  HeatmapGridSpec grid_spec;
  grid_spec.title = "Attributions of the predicted class's logit (" + name + "; red positive, blue negative)";
  grid_spec.column_titles = {"input"};
  grid_spec.value_label = "attribution";
  grid_spec.panel_pixels = 84;
  for (std::size_t r = 0; r < shown; ++r) {
    grid_cells[r].push_back({image_of(x, r), PanelStyle::grayscale, "", {}});
    grid_spec.row_labels.push_back("image " + std::to_string(r) + ", class " + std::to_string(targets[r]));
  }
  std::vector<Series> deletion_series, insertion_series;
  // Each finished method is checkpointed (method_checkpoint.hpp): a rerun of an
  // unfinished experiment loads it instead of recomputing it. The checkpoints
  // live in the experiment's shared folder (ctx.experiment_dir when set).
  const std::filesystem::path shared_dir = ctx.experiment_dir.empty() ? dir : ctx.experiment_dir;
  const std::filesystem::path checkpoints = checkpoint_folder(shared_dir, name);
  const nlohmann::json shared_fingerprint = comparison_fingerprint(ctx, name, model, x, targets);
  const bool sharded = ctx.ranks > 1;
  std::string prefix = ctx.experiment.empty() ? name : "[" + ctx.experiment + "] " + name;
  if (sharded) prefix += " (rank " + std::to_string(ctx.rank) + " of " + std::to_string(ctx.ranks) + ")";
  const Stopwatch comparison_watch;
  MethodPace pace;
  // Method m of this process's `share` methods, numbered `done` in it: loaded
  // if a matching checkpoint exists, else computed and checkpointed.
  auto obtain = [&](std::size_t m, std::size_t done, std::size_t share, bool quiet) {
    const MethodRun& run = runs[m];
    nlohmann::json fingerprint = shared_fingerprint;
    fingerprint["label"] = run.label;
    fingerprint["method"] = run.method;
    const std::string slug = method_slug(run.label);
    LoadedMethod loaded = load_method(checkpoints, slug, fingerprint);
    if (!loaded.problem.empty()) ctx.progress(prefix + ": not reusing " + loaded.problem + "; recomputing it.");
    const std::string status = pace.line(prefix, done, share, comparison_watch.seconds());
    StoredMethod stored;
    if (loaded.method) {
      stored = std::move(*loaded.method);
      if (!quiet) ctx.progress(status + run.label + " reused (stored attributions and seconds per image)");
    } else {
      ctx.progress(status + run.label + " on " + std::to_string(n) + " images");
      Stopwatch watch;
      stored.output = run.run(x, targets);
      const double seconds = watch.seconds();
      stored.seconds_per_image = seconds / double(n);
      pace.computed(seconds);
      store_method(checkpoints, slug, fingerprint, stored);
      stop_if_requested(shared_dir);
    }
    return stored;
  };
  if (sharded) {
    // Sharded (mpirun -n P): this rank computes (or finds stored) the methods
    // m with m mod P = rank; after the barrier every method is stored, and
    // every rank loads them all below and scores them identically.
    std::vector<std::size_t> mine;
    for (std::size_t m = std::size_t(ctx.rank); m < runs.size(); m += std::size_t(ctx.ranks)) mine.push_back(m);
    for (std::size_t k = 0; k < mine.size(); ++k) obtain(mine[k], k, mine.size(), false);
    ctx.barrier();
  }
  for (std::size_t m = 0; m < runs.size(); ++m) {
    const MethodRun& run = runs[m];
    const StoredMethod stored = obtain(m, m, runs.size(), sharded);
    const MethodOutput<double>& out = stored.output;
    const double per_image = stored.seconds_per_image;
    const auto curves = score_curves(model.explained, x, out.values, targets, yardstick);
    const auto diff = mean_se(curves.difference);
    const auto del = mean_se(curves.deletion.auc);
    const auto ins = mean_se(curves.insertion.auc);
    std::string gap_cell = "n/a (no reference)";
    nlohmann::json entry = {{"difference_auc", diff.mean},   {"difference_auc_se", diff.se},
                            {"deletion_auc", del.mean},      {"deletion_auc_se", del.se},
                            {"insertion_auc", ins.mean},     {"insertion_auc_se", ins.se},
                            {"seconds_per_image", per_image}, {"images", n}};
    if (!out.completeness_gaps.empty()) {
      std::vector<double> relative;
      for (std::size_t i = 0; i < out.completeness_gaps.size(); ++i) {
        relative.push_back(out.completeness_gaps[i] / std::max(std::abs(out.output_changes[i]), 1e-12));
      }
      const auto g = mean_se(relative);
      gap_cell = format_mean_se(g.mean, g.se, 3) + " (vs " + out.reference + ")";
      entry["completeness_gap_relative"] = g.mean;
    }
    result.numbers[run.label] = entry;
    table.add_row({run.label, format_mean_se(diff.mean, diff.se), format_mean_se(del.mean, del.se),
                   format_mean_se(ins.mean, ins.se), gap_cell, format_number(per_image, 3)});
    result.difference_per_image[run.label] = curves.difference;
    result.attributions[run.label] = out.values;
    grid_spec.column_titles.push_back(run.label);
    for (std::size_t r = 0; r < shown; ++r) grid_cells[r].push_back({image_of(out.values, r), PanelStyle::diverging, "", {}});
    Series d{run.label, curves.deletion.fractions, {}}, in{run.label, curves.insertion.fractions, {}};
    for (std::size_t s = 0; s < d.x.size(); ++s) {
      double sd = 0, si = 0;
      for (std::size_t i = 0; i < n; ++i) sd += curves.deletion.values(i, s), si += curves.insertion.values(i, s);
      d.y.push_back(sd / double(n));
      in.y.push_back(si / double(n));
    }
    deletion_series.push_back(d);
    insertion_series.push_back(in);
  }
  plot_heatmap_grid(dir / (name + "_heatmaps.png"), grid_spec, grid_cells);
  plot_lines(dir / (name + "_deletion.png"),
             {"Deletion: mean probability of the class over " + std::to_string(n) + " images (" + name + ")",
              "fraction of pixels removed (set to 0)", "probability", false, false, 900, 500},
             deletion_series);
  plot_lines(dir / (name + "_insertion.png"),
             {"Insertion: mean probability of the class over " + std::to_string(n) + " images (" + name + ")",
              "fraction of pixels inserted (into a black image)", "probability", false, false, 900, 500},
             insertion_series);
  std::ostringstream md;
  const std::string folder = dir.filename().string();
  md << table_section(dir, name, table) << "Heatmaps (rows: " << shown
     << " test digits; columns: the input, then the methods in table order; red positive, blue negative, "
        "each map divided by its own 99th percentile L of |attribution| and clipped to ±1, L printed under "
        "each map; one colour bar):\n\n![heatmaps](" << folder << "/" << name
     << "_heatmaps.png)\n\n![deletion](" << folder << "/" << name << "_deletion.png) ![insertion](" << folder << "/"
     << name << "_insertion.png)\n\n";
  result.markdown = md.str();
  return result;
}

}  // namespace fluxion::experiments
