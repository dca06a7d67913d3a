// `fluxion explain` (attributions [N, ...]) and `fluxion interactions`
// (interaction matrices [N, d, d]): load a model and inputs, run one method,
// write the result as .npy (and optionally a heatmap PNG), atomically.
#include <CLI/CLI.hpp>

#include <cmath>
#include <filesystem>
#include <iomanip>
#include <iostream>

#include "experiments/cli/commands.hpp"
#include "experiments/cli/explain_inputs.hpp"
#include "nn/io/npy.hpp"

namespace fluxion::cli {

namespace {

/// explain and interactions: the flags they share with check, plus the output files.
void add_common_options(CLI::App* cmd, ExplainFlags& f) {
  add_explanation_options(cmd, f);
  cmd->add_option("--out", f.out, "Output .npy (<f8, or <f4 with --dtype float32)")->required();
  cmd->add_option("--png", f.png, "Also write a heatmap PNG");
  cmd->add_option("--tolerance", f.tolerance,
                  "Double the nodes until the relative completeness gap is <= T (path methods; the last try uses " +
                      std::to_string(max_tolerance_nodes) + " nodes, else exit 3)");
}

std::string method_list(bool interactions) {
  std::string list;
  for (const auto& m : method_catalogue()) {
    if (m.interactions == interactions) list += (list.empty() ? "" : ", ") + m.name;
  }
  return list;
}

/// The whole command in precision T (--dtype): the output .npy is <f4 for
/// float and <f8 for double.
template <class T>
void explain_in(const ExplainFlags& f) {
  ExplainSetup<T> s = prepare_explanation<T>(f);
  int nodes = 0;
  const MethodOutput<T> r = f.tolerance ? run_to_tolerance(s, *f.tolerance, nodes)
                                            : run_method(*s.method, s.explained, s.x, s.targets, s.settings);
  for (T v : r.values)
    if (!std::isfinite(v))
      throw std::runtime_error(f.input + ": " + f.method + " gives NaN or infinite values for these inputs (the " +
                               "model's output or its derivatives overflow" +
                               (f.dtype == "float32" ? ", perhaps only in float32: try --dtype float64" : "") +
                               "); nothing was written");
  write_npy(f.out, restore_batch_shape(r.values, s.single_example));
  if (!f.png.empty()) {
    try {
      write_attribution_png(f.png, r.values);  // interactions: one d×d map per example
    } catch (...) {
      std::error_code ignore;
      std::filesystem::remove(f.out, ignore);  // a failed command leaves no output behind
      throw;
    }
  }
  std::cout << f.method << ": " << s.x.shape()[0] << " example(s) -> " << f.out;
  if (!r.completeness_gaps.empty()) {
    double worst = 0;
    for (double g : r.completeness_gaps) worst = std::max(worst, g);
    std::cout << " (max completeness gap " << worst << " vs " << r.reference << ")";
  }
  std::cout << "\n";
  if (f.tolerance) {
    std::cout << f.method << ": relative completeness gap " << std::scientific << std::setprecision(2)
              << worst_relative_gap(r.completeness_gaps, r.output_changes) << " <= " << *f.tolerance << " with " << nodes
              << " nodes\n";
  }
}

void run(const ExplainFlags& f, bool interactions) {
  if (method_info(f.method).interactions != interactions) {  // an unknown method: ArgumentError, exit code 2
    throw UsageError("method '" + f.method + "' is " + (interactions ? "not an interaction method" : "an interaction method") +
                     "; use `fluxion " + (interactions ? "explain" : "interactions") + "` for it (" +
                     (interactions ? "interaction methods: " : "attribution methods: ") + method_list(interactions) + ")");
  }
  with_dtype(f.dtype, [&]<class T>() { explain_in<T>(f); });
}

}  // namespace

void register_explain_command(CLI::App& app) {
  auto flags = std::make_shared<ExplainFlags>();
  auto* cmd = app.add_subcommand("explain", "Attribute a model's output to its input features");
  cmd->add_option("--method", flags->method, "One of: " + method_list(false))->required();
  add_common_options(cmd, *flags);
  cmd->callback([flags] { run(*flags, false); });

  auto iflags = std::make_shared<ExplainFlags>();
  auto* icmd = app.add_subcommand("interactions", "Pairwise feature interactions [N, d, d]");
  icmd->add_option("--method", iflags->method, "One of: " + method_list(true))->required();
  add_common_options(icmd, *iflags);
  icmd->callback([iflags] { run(*iflags, true); });
}

}  // namespace fluxion::cli
