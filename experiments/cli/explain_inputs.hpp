// What `fluxion explain`, `interactions` and `check` share: loading the model
// and the input batch, checking they fit, resolving targets and baselines,
// and writing heatmaps. Every problem is one sentence naming the file or flag.
#pragma once
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "attribution/axiom_checks.hpp"
#include "attribution/method_registry.hpp"
#include "experiments/lib/attribution_figure.hpp"
#include "nn/graph/graph.hpp"

namespace CLI {
class App;
}

namespace fluxion::cli {

struct ExplainFlags {
  std::string model, method, input, out, png, baseline = "zeros", output_kind = "logit";
  std::vector<long long> targets;  // one per example, or one for all
  int steps = 0;
  double smooth_beta = 0;  // > 0: explain smooth(model, β)
  std::uint64_t seed = 0;
  std::size_t batch_size = 64;
  std::string references;  // .npy [R, ...] for expected_gradients / eh / ig2
  std::string representation;  // ig2: a graph value name (empty: the input of the last Gemm/MatMul)
  std::string dtype = "float64";  // precision of the whole computation: float32 | float64
  std::optional<double> tolerance;  // relative completeness gap to reach (explain, interactions) or bound (check)
  MethodOptions options;            // the reference-compatible options (--rule, --aggregate, ...)
  std::vector<long long> false_classes;  // --false-classes, checked >= 0 before it becomes options.false_classes
};

/// Everything a method call needs, in the precision T the user chose with
/// --dtype (float: speed, double: exactness). Files are read and converted
/// to T; nothing else depends on the precision.
template <class T>
struct ExplainSetup {
  const MethodSpec<T>* method = nullptr;  // the row of --method, looked up once
  Graph<T> model;                     // possibly smoothed (a Sequential file is loaded as its graph)
  ExplainedOutput<T> explained;
  Tensor<T> x;                        // [N, ...] (a single example gets a leading axis of 1)
  bool single_example = false;        // the input file had no batch axis
  std::vector<std::size_t> targets;   // N classes
  MethodSettings<T> settings;
};

/// Adds the flags that explain, interactions and check share (--model,
/// --input, --target, --baseline, --steps, --smooth-beta, --output,
/// --references, --seed, --batch-size, --dtype, and the reference-compatible
/// method options of the method table: --rule, --sigma-schedule, ...), bound
/// to `flags`, which must outlive the parse.
void add_explanation_options(CLI::App* cmd, ExplainFlags& flags);

/// Validates flags and files, loads everything, in named phases: the method
/// row, validate_flags, load_explained_model, load_inputs (and the classes),
/// resolve_baseline_flag, load_references. UsageError or ArgumentError for bad
/// flags (exit code 2), InputError for bad files (exit code 1).
template <class T>
ExplainSetup<T> prepare_explanation(const ExplainFlags& flags);

// The same phases for inputs read in chunks (experiments/cli/streaming_run):
/// Everything but the examples: the method row, the flags, the model, the
/// references (labelled) and the split model.
template <class T>
ExplainSetup<T> prepare_model(const ExplainFlags& flags);
/// --target against the n examples to explain and the model's classes (once).
template <class T>
void check_target_flags(const ExplainFlags& flags, const ExplainSetup<T>& s, std::size_t n);
/// Makes x[k, ...], examples [first, first + k) of the input, the examples
/// of `s`: their classes, their baseline (`baseline_rows`: their rows of a
/// per-example --baseline file; else the flag's zeros, blur or one example),
/// and checks the references offer other classes than theirs.
template <class T>
void bind_examples(const ExplainFlags& flags, ExplainSetup<T>& s, Tensor<T> x, std::size_t first,
                   const std::optional<Tensor<T>>& baseline_rows);

/// Calls body.template operator()<T>() with T = float for --dtype float32 and
/// T = double for float64: the one switch from a flag to a template argument.
template <class Body>
void with_dtype(const std::string& dtype, Body&& body) {
  if (dtype == "float32") {
    body.template operator()<float>();
  } else {
    body.template operator()<double>();
  }
}

/// Removes the leading axis again when the input was a single example.
template <class T>
Tensor<T> restore_batch_shape(const Tensor<T>& values, bool single_example);

// relative_gap and worst_relative_gap (what --tolerance bounds) are the
// library's, attribution/axiom_checks.hpp, shared with `fluxion check`.

/// Runs the path method s.method, doubling its nodes (--steps, or the method's default)
/// until worst_relative_gap ≤ tolerance: the adaptive quadrature behind
/// --tolerance: the last try uses exactly max_tolerance_nodes. Throws
/// GateFailure (exit code 3) if the gap is still above the tolerance there.
template <class T>
MethodOutput<T> run_to_tolerance(ExplainSetup<T>& s, double tolerance, int& nodes_used);

/// The node cap of --tolerance: 2^12 quadrature nodes (or path steps, or samples).
inline constexpr int max_tolerance_nodes = 4096;

/// The rows --png draws: the first min(N, png_max_rows) examples.
inline constexpr std::size_t png_max_rows = 8;

/// --png: the labelled figure of experiments/lib/attribution_figure.hpp for
/// the first examples of the run: `inputs` [n, ...] and `values` [n, ...]
/// (attributions, [n, d, d] interaction matrices or [n, d] row sums), n =
/// min(total_examples, png_max_rows), `kind` what the values are, the classes resolved as the run did
/// (--target, else the predicted class), the method labelled with its node
/// count (`nodes_used` when --tolerance chose it). Without gnuplot on PATH,
/// writes write_unlabelled_heatmaps instead and says so in one line on stderr.
template <class T>
void write_explanation_png(const ExplainFlags& flags, const ExplainSetup<T>& s, const Tensor<T>& inputs,
                           const Tensor<T>& values, std::size_t total_examples, FigureKind kind, int nodes_used);

/// The figure without gnuplot: a bare diverging heatmap (experiments/lib/png.hpp
/// heatmap: each map divided by its own max |value|) of each example, in a grid
/// of 8 per row with 4-pixel white gaps if N > 1; maps with more than two axes
/// are summed over channels, a flat map of square size is drawn square.
template <class T>
void write_unlabelled_heatmaps(const std::filesystem::path& path, const Tensor<T>& values);

}  // namespace fluxion::cli
