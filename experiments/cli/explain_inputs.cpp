// Shared input handling of the explanation subcommands (see explain_inputs.hpp).
#include "experiments/cli/explain_inputs.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "autodiff/errors.hpp"
#include "experiments/cli/commands.hpp"
#include "experiments/lib/attribution_figure.hpp"
#include "experiments/lib/gnuplot_run.hpp"
#include "experiments/lib/heatmap_grid.hpp"
#include "experiments/lib/png.hpp"
#include "nn/io/npy.hpp"
#include "nn/models/load_graph.hpp"
#include "nn/models/model_io.hpp"
#include "nn/models/smoothing.hpp"

namespace fluxion::cli {

namespace {

std::string non_finite_kind(double v) { return std::isnan(v) ? "NaN" : "infinite"; }

/// Attributions of NaN or infinite inputs are meaningless: refuse them.
/// (Checked after the conversion to T, so a float64 value beyond float32's
/// range is refused with --dtype float32 too.)
template <class T>
void require_finite(const Tensor<T>& t, const std::string& file) {
  for (std::size_t i = 0; i < t.size(); ++i)
    if (!std::isfinite(t.data()[i]))
      throw InputError(file + ": element " + std::to_string(i) + " is " + non_finite_kind(t.data()[i]) +
                       " (inputs must be finite)");
}

/// A NaN or infinite weight makes every attribution NaN: refuse the model.
template <class T>
void require_finite_parameters(const Graph<T>& model, const std::string& file) {
  for (const auto& [name, w] : model.parameters()) {
    for (std::size_t i = 0; i < w.size(); ++i)
      if (!std::isfinite(w.data()[i]))
        throw InputError(file + ": parameter \"" + name + "\" element " + std::to_string(i) + " is " +
                         non_finite_kind(w.data()[i]) + " (weights must be finite)");
  }
}

/// A CLI11 check that runs the library's own parser on a flag's value: a bad
/// value fails the parse (exit code 2, the flag named) in the library's words.
template <class Parse>
CLI::Validator checked_by(Parse parse) {
  return CLI::Validator(
      [parse](std::string& value) {
        try {
          parse(value);
          return std::string();
        } catch (const ArgumentError& e) {
          return std::string(e.what());
        }
      },
      "");
}

/// --help of a method option: every method that takes it, its default and its
/// choices with what each one matches, read from the method table.
std::string option_help(const std::string& name, const std::string& intro) {
  std::string help = intro;
  for (const MethodInfo& m : method_catalogue()) {
    for (const MethodOption& o : m.options) {
      if (o.name != name) continue;
      help += "\n  " + m.name + " (default " + o.default_value + "): " + o.description;
      for (const OptionChoice& c : o.choices) help += "\n    " + c.value + ": " + c.description;
    }
  }
  return help;
}

}  // namespace

void add_explanation_options(CLI::App* cmd, ExplainFlags& f) {
  cmd->add_option("--model", f.model,
                  "Model file: .safetensors with the architecture in __metadata__, or an ONNX model (told apart by content)")
      ->required();
  cmd->add_option("--representation", f.representation,
                  "IG2's representation layer: the name of a graph value (default: the input of the last Gemm/MatMul)");
  cmd->add_option("--input", f.input, "Input .npy (<f4 or <f8): one example or a batch [N, ...]")->required();
  cmd->add_option("--target", f.targets, "Class to explain: one for all examples or one per example "
                                         "(default: the predicted class)");
  cmd->add_option("--baseline", f.baseline, "zeros | blur | file.npy (one example or one per example)")
      ->capture_default_str();
  cmd->add_option("--steps", f.steps, "Quadrature nodes / path steps / samples (0: the method's default)");
  cmd->add_option("--smooth-beta", f.smooth_beta, "Explain the model with every ReLU replaced by SoftPlus(beta)");
  cmd->add_option("--output", f.output_kind,
                  "logit | probability: the explained scalar (agi and neflag always use the probability, as their "
                  "papers define them)")
      ->capture_default_str()
      ->check(checked_by(parse_output_kind));
  cmd->add_option("--references", f.references, "Reference examples .npy [R, ...] (expected_gradients, eh, ig2)");
  cmd->add_option("--seed", f.seed, "Seed of every random choice")->capture_default_str();
  cmd->add_option("--batch-size", f.batch_size, "Points per model call inside the method")->capture_default_str();
  cmd->add_option("--dtype", f.dtype, "Precision of the whole computation: float64 (exact) | float32 (fast)")
      ->capture_default_str();
  // Reference-compatible options (the method table's MethodInfo::options): none is a default.
  MethodOptions& o = f.options;
  cmd->add_option("--rule", o.rule, option_help("rule", "Integration rule"));
  cmd->add_option("--sigma-schedule", o.sigma_schedule, option_help("sigma_schedule", "Blur scales"));
  cmd->add_option("--blur-border", o.blur_border, option_help("blur_border", "Blur border"));
  cmd->add_option("--blur-kernel", o.blur_kernel, option_help("blur_kernel", "Blur kernel truncation"));
  cmd->add_option("--max-sigma", o.max_sigma, option_help("max_sigma", "Largest blur"));
  cmd->add_option("--aggregate", o.aggregate, option_help("aggregate", "Statistic over noise or classes"));
  cmd->add_option("--noise-sigma", o.noise_sigma, option_help("noise_sigma", "Absolute noise"));
  cmd->add_option("--false-classes", f.false_classes, option_help("false_classes", "False classes, e.g. 0,3,7"))
      ->delimiter(',');
  cmd->add_option("--inner-baseline", o.inner_baseline, option_help("inner_baseline", "Inner baseline"));
}

namespace {

// ---- the phases of prepare_explanation, in order ---------------------------

/// The flags' own values: UsageError (exit code 2) naming the flag.
void validate_flags(const ExplainFlags& flags) {
  if (flags.smooth_beta < 0 || !std::isfinite(flags.smooth_beta)) throw UsageError("--smooth-beta must be > 0");
  if (flags.steps < 0)
    throw UsageError("--steps must be >= 0 (0: the method's default), got " + std::to_string(flags.steps));
  if (flags.batch_size == 0) throw UsageError("--batch-size must be positive");
  if (flags.dtype != "float32" && flags.dtype != "float64")
    throw UsageError("--dtype must be float32 or float64, got '" + flags.dtype + "'");
  for (long long j : flags.false_classes)
    if (j < 0) throw UsageError("--false-classes takes class indices >= 0, got " + std::to_string(j));
  if (flags.options.max_sigma && !(*flags.options.max_sigma >= 0 && std::isfinite(*flags.options.max_sigma)))
    throw UsageError("--max-sigma must be a finite number >= 0");
  if (flags.options.noise_sigma && !(*flags.options.noise_sigma >= 0 && std::isfinite(*flags.options.noise_sigma)))
    throw UsageError("--noise-sigma must be a finite number >= 0");
  if (flags.tolerance && !(*flags.tolerance > 0 && std::isfinite(*flags.tolerance)))
    throw UsageError("--tolerance must be a relative completeness gap > 0, got " +
                     (std::ostringstream() << *flags.tolerance).str());
}

/// The model (smoothed if asked) and the scalar explained of it.
template <class T>
void load_explained_model(const ExplainFlags& flags, ExplainSetup<T>& s) {
  Graph<T> loaded = load_graph<T>(flags.model);
  require_finite_parameters(loaded, flags.model);
  s.model = flags.smooth_beta > 0 ? loaded.with_relu_as_softplus(T(flags.smooth_beta)) : loaded;
  s.explained.model = as_function(s.model);
  s.explained.kind = parse_output_kind(flags.output_kind);  // checked by add_explanation_options
  s.explained.batch_size = flags.batch_size;
}

/// The input batch x[N, ...] (a single example gets a leading axis of 1).
template <class T>
void load_inputs(const ExplainFlags& flags, ExplainSetup<T>& s) {
  Tensor<T> x = read_npy<T>(flags.input);
  require_finite(x, flags.input);
  const Shape& example = s.model.input_shape();
  const std::size_t example_size = numel_of(example);
  if (x.size() == example_size && x.dimension() == example.size()) {
    s.single_example = true;
    Shape batched = {1};
    batched.insert(batched.end(), example.begin(), example.end());
    x = xt::reshape_view(x, batched);
  } else if (x.dimension() >= 1 && x.shape()[0] > 0 && x.size() == x.shape()[0] * example_size) {
    Shape batched = {x.shape()[0]};
    batched.insert(batched.end(), example.begin(), example.end());
    x = Tensor<T>(xt::reshape_view(x, batched));
  } else {
    throw InputError(flags.input + ": input of shape " + shape_str(shape_of(x)) + " does not fit the model, which " +
                     "takes examples of shape " + shape_str(example) + " (one example, or a batch [N, ...])");
  }
  s.x = std::move(x);
}

/// --baseline, turned into the tensor the method uses (the only change of
/// form: flag → tensor). A file is read and checked whatever the method; the
/// blur is built only for a method that takes a baseline.
template <class T>
void resolve_baseline_flag(const ExplainFlags& flags, ExplainSetup<T>& s) {
  if (flags.baseline == "zeros" || flags.baseline == "black") return;  // the default: x' = 0
  if (flags.baseline == "blur") {
    if (s.method->info.takes_baseline) s.settings.baseline = resolve_baseline(s.x, "blur");
    return;
  }
  const Shape example = example_shape(s.x);
  Tensor<T> b = read_npy<T>(flags.baseline);
  require_finite(b, flags.baseline);
  if (b.size() != numel_of(example) && b.size() != s.x.size()) {
    throw InputError(flags.baseline + ": baseline of shape " + shape_str(shape_of(b)) + " fits neither one example " +
                     shape_str(example) + " nor the input batch " + shape_str(shape_of(s.x)));
  }
  const Tensor<T> user = b.size() == numel_of(example) ? Tensor<T>(xt::reshape_view(b, example))
                                                       : Tensor<T>(xt::reshape_view(b, s.x.shape()));
  s.settings.baseline = resolve_baseline(s.x, "user", user);
}

/// --references (a pool [R, ...], labelled by the model's prediction for the
/// methods that draw references of other classes) and the split model.
template <class T>
void load_references(const ExplainFlags& flags, ExplainSetup<T>& s) {
  const MethodInfo& info = s.method->info;
  if (!flags.references.empty()) {
    const Shape& example = s.model.input_shape();
    Tensor<T> r = read_npy<T>(flags.references);
    require_finite(r, flags.references);
    if (r.dimension() < 1 || r.shape()[0] == 0 || r.size() != r.shape()[0] * numel_of(example)) {
      throw InputError(flags.references + ": references of shape " + shape_str(shape_of(r)) +
                       " are not a batch of examples of shape " + shape_str(example));
    }
    Shape batched = {r.shape()[0]};
    batched.insert(batched.end(), example.begin(), example.end());
    s.settings.references = Tensor<T>(xt::reshape_view(r, batched));
    if (info.needs_reference_labels) {  // references of other classes: labelled by the model's prediction
      s.settings.reference_labels = predicted_classes(s.explained.model, s.settings.references, flags.batch_size);
    }
  }
  if (info.needs_split_model) {
    auto split = s.model.split_at(flags.representation.empty() ? s.model.default_representation() : flags.representation);
    s.settings.features = split.features;
    s.settings.head = split.head;
  }
}

}  // namespace

template <class T>
ExplainSetup<T> prepare_model(const ExplainFlags& flags) {
  ExplainSetup<T> s;
  s.method = &method_spec<T>(flags.method);  // an unknown method: ArgumentError, exit code 2
  validate_flags(flags);
  s.settings.options = flags.options;
  for (long long j : flags.false_classes) s.settings.options.false_classes.push_back(std::size_t(j));
  check_method_options(s.method->info, s.settings.options);  // before any file is read: ArgumentError, exit code 2
  load_explained_model(flags, s);
  s.settings.steps = flags.steps;
  s.settings.seed = flags.seed;
  load_references(flags, s);
  return s;
}

template <class T>
void check_target_flags(const ExplainFlags& flags, const ExplainSetup<T>& s, std::size_t n) {
  if (flags.targets.empty()) return;
  if (flags.targets.size() != 1 && flags.targets.size() != n) {
    throw UsageError("--target takes one class or one per example (" + std::to_string(n) + "), got " +
                     std::to_string(flags.targets.size()));
  }
  const Shape logits = s.model.output_shape();
  const std::size_t classes = logits.size() == 1 ? logits[0] : 0;
  for (long long t : flags.targets) {
    if (t < 0) throw UsageError("--target must be a class index >= 0, got " + std::to_string(t));
    if (classes > 0 && std::size_t(t) >= classes)
      throw UsageError("--target " + std::to_string(t) + " is not a class of the model, which has " +
                       std::to_string(classes) + " (0.." + std::to_string(classes - 1) + ")");
  }
}

template <class T>
void bind_examples(const ExplainFlags& flags, ExplainSetup<T>& s, Tensor<T> x, std::size_t first,
                   const std::optional<Tensor<T>>& baseline_rows) {
  s.x = std::move(x);
  const std::size_t n = s.x.shape()[0];
  s.targets.clear();
  for (std::size_t i = 0; i < n && !flags.targets.empty(); ++i)
    s.targets.push_back(std::size_t(flags.targets[flags.targets.size() == 1 ? 0 : first + i]));
  s.targets = resolve_targets(s.explained, s.x, s.targets);
  s.settings.baseline = {};
  if (baseline_rows) {
    s.settings.baseline = resolve_baseline(s.x, "user", *baseline_rows);
  } else {
    resolve_baseline_flag(flags, s);
  }
  const std::vector<std::size_t>& labels = s.settings.reference_labels;
  if (!flags.references.empty() && s.method->info.needs_reference_labels)
    for (std::size_t c : s.targets)
      if (std::count(labels.begin(), labels.end(), c) == std::ptrdiff_t(labels.size()))
        throw InputError(flags.references + ": the model predicts class " + std::to_string(c) +
                         " for every reference, so none is of another class than the explained one");
}

template <class T>
ExplainSetup<T> prepare_explanation(const ExplainFlags& flags) {
  ExplainSetup<T> s = prepare_model<T>(flags);
  load_inputs(flags, s);
  check_target_flags(flags, s, s.x.shape()[0]);
  Tensor<T> x = std::move(s.x);
  bind_examples<T>(flags, s, std::move(x), 0, std::optional<Tensor<T>>{});
  return s;
}

template <class T>
Tensor<T> restore_batch_shape(const Tensor<T>& values, bool single_example) {
  if (!single_example) return values;
  Shape shape(values.shape().begin() + 1, values.shape().end());
  return Tensor<T>(xt::reshape_view(values, shape));
}

template <class T>
MethodOutput<T> run_to_tolerance(ExplainSetup<T>& s, double tolerance, int& nodes_used) {
  const MethodInfo& info = s.method->info;
  if (!info.path_method)
    throw UsageError("--tolerance needs a path method (its completeness gap shrinks as nodes are added); '" + info.name +
                     "' has none");
  int nodes = s.settings.steps > 0 ? s.settings.steps : info.default_steps;
  for (;;) {
    s.settings.steps = nodes;
    MethodOutput<T> r = run_method(*s.method, s.explained, s.x, s.targets, s.settings);
    const double gap = worst_relative_gap(r.completeness_gaps, r.output_changes);
    if (gap <= tolerance) {
      nodes_used = nodes;
      return r;
    }
    if (nodes >= max_tolerance_nodes) {
      std::ostringstream msg;
      msg << info.name << ": the relative completeness gap is still " << std::scientific << std::setprecision(2) << gap
          << " > " << tolerance << " at the cap of " << nodes << " nodes; nothing was written";
      throw GateFailure(msg.str());
    }
    nodes = std::min(2 * nodes, max_tolerance_nodes);
  }
}

namespace {

/// The method as the figure names it: "ig (50 steps)", the steps being
/// --tolerance's largest final count, else --steps, else the method's default
/// (methods without a count: the name alone), plus the smoothing if any.
std::string method_label(const ExplainFlags& flags, const MethodInfo& info, int nodes_used) {
  std::string label = info.name;
  const int steps = nodes_used > 0 ? nodes_used : flags.steps > 0 ? flags.steps : info.default_steps;
  std::vector<std::string> notes;
  if (flags.tolerance && nodes_used > 0) {  // each example doubles its own count: the largest is shown
    notes.push_back("≤ " + std::to_string(nodes_used) + " steps for --tolerance " +
                    (std::ostringstream() << *flags.tolerance).str());
  } else if (steps > 0) {
    notes.push_back(std::to_string(steps) + " steps");
  }
  if (flags.smooth_beta > 0) notes.push_back("SoftPlus β = " + (std::ostringstream() << flags.smooth_beta).str());
  for (std::size_t k = 0; k < notes.size(); ++k) label += (k ? ", " : " (") + notes[k];
  return label + (notes.empty() ? "" : ")");
}

}  // namespace

template <class T>
void write_explanation_png(const ExplainFlags& flags, const ExplainSetup<T>& s, const Tensor<T>& inputs,
                           const Tensor<T>& values, std::size_t total_examples, FigureKind kind, int nodes_used) {
  if (!gnuplot_on_path()) {
    std::cerr << "fluxion: gnuplot is not on PATH, so " << flags.png
              << " is an unlabelled grid (one map per example, blue < 0 < red, each divided by its max |value|)\n";
    write_unlabelled_heatmaps(flags.png, values);
    return;
  }
  const std::size_t n = inputs.shape()[0];
  std::vector<std::size_t> given;  // the classes the run explained: --target, else the prediction
  for (std::size_t i = 0; i < n && !flags.targets.empty(); ++i)
    given.push_back(std::size_t(flags.targets[flags.targets.size() == 1 ? 0 : i]));
  const std::vector<std::size_t> classes = resolve_targets(s.explained, inputs, given);

  AttributionFigureSpec spec;
  const MethodInfo& info = s.method->info;
  spec.command = std::string("fluxion ") + (kind == FigureKind::attributions ? "explain" : "interactions") + " on " +
                 std::filesystem::path(flags.model).filename().string();
  spec.method_label = method_label(flags, info, nodes_used);
  const bool always_probability = info.name == "agi" || info.name == "neflag";  // as their papers define them
  spec.explained = always_probability ? "probability" : flags.output_kind;
  spec.example_shape = s.model.input_shape();
  spec.kind = kind;
  spec.total_examples = total_examples;
  spec.max_rows = png_max_rows;
  const AttributionFigure figure =
      attribution_figure(spec, Tensor<double>(xt::cast<double>(inputs)), Tensor<double>(xt::cast<double>(values)), classes);
  try {
    plot_heatmap_grid(flags.png, figure.spec, figure.rows);
  } catch (const InputError& e) {  // gnuplot's own failures (a full disk, a missing terminal) name no file
    const std::string what = e.what();
    if (what.find(flags.png) != std::string::npos) throw;
    throw InputError("--png " + flags.png + ": " + what);
  }
}

template <class T>
void write_unlabelled_heatmaps(const std::filesystem::path& path, const Tensor<T>& a) {
  const std::size_t n = a.shape()[0];
  std::size_t h = 1, w = a.size() / n;
  if (a.dimension() >= 3) {
    h = a.shape()[a.dimension() - 2];
    w = a.shape()[a.dimension() - 1];
  } else if (a.dimension() == 2) {
    const std::size_t side = std::size_t(std::llround(std::sqrt(double(w))));
    if (side * side == w) h = w = side;  // a flat square image (e.g. 784 = 28 × 28)
  }
  const std::size_t plane = h * w, per = a.size() / n;
  const int scale = std::max(1, int(280 / std::max(h, w)));  // a 28×28 map becomes 280×280
  std::vector<std::vector<RgbImage>> cells(1);
  for (std::size_t e = 0; e < n; ++e) {
    Tensor<double> m = Tensor<double>::from_shape({h, w});
    m.fill(0);
    for (std::size_t k = 0; k < per; ++k) m.data()[k % plane] += double(a.data()[e * per + k]);
    if (cells.back().size() == 8) cells.emplace_back();
    cells.back().push_back(heatmap(m, scale));
  }
  while (cells.size() > 1 && cells.back().size() < cells.front().size()) {
    Tensor<double> blank = Tensor<double>::from_shape({h, w});
    blank.fill(0);
    cells.back().push_back(heatmap(blank, scale));
  }
  write_png(path, cells.size() == 1 && cells[0].size() == 1 ? cells[0][0] : grid(cells, 4, {255, 255, 255}));
}

#define FLUXION_INSTANTIATE(T)                                                                               \
  template ExplainSetup<T> prepare_explanation<T>(const ExplainFlags&);                                     \
  template ExplainSetup<T> prepare_model<T>(const ExplainFlags&);                                           \
  template void check_target_flags(const ExplainFlags&, const ExplainSetup<T>&, std::size_t);               \
  template void bind_examples(const ExplainFlags&, ExplainSetup<T>&, Tensor<T>, std::size_t,                 \
                              const std::optional<Tensor<T>>&);                                               \
  template Tensor<T> restore_batch_shape(const Tensor<T>&, bool);                                          \
  template MethodOutput<T> run_to_tolerance(ExplainSetup<T>&, double, int&);                              \
  template void write_unlabelled_heatmaps(const std::filesystem::path&, const Tensor<T>&);               \
  template void write_explanation_png(const ExplainFlags&, const ExplainSetup<T>&, const Tensor<T>&,         \
                                      const Tensor<T>&, std::size_t, FigureKind, int);
FLUXION_INSTANTIATE(float)
FLUXION_INSTANTIATE(double)
#undef FLUXION_INSTANTIATE

}  // namespace fluxion::cli
