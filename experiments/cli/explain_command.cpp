// `fluxion explain` (attributions [N, ...]) and `fluxion interactions`
// (interaction matrices [N, d, d]): load a model and inputs, run one method,
// write the result as .npy (and optionally a heatmap PNG), atomically.
#include <CLI/CLI.hpp>

#include <cmath>
#include <filesystem>
#include <iostream>

#include "autodiff/errors.hpp"
#include "experiments/cli/commands.hpp"
#include "experiments/cli/explain_inputs.hpp"
#include "nn/io/npy.hpp"

namespace fluxion::cli {

namespace {

void add_common_options(CLI::App* cmd, ExplainFlags& f) {
  cmd->add_option("--model", f.model, "Model file (.safetensors with the architecture in __metadata__)")->required();
  cmd->add_option("--input", f.input, "Input .npy: one example or a batch [N, ...]")->required();
  cmd->add_option("--out", f.out, "Output .npy")->required();
  cmd->add_option("--target", f.targets, "Class to explain: one for all examples or one per example "
                                         "(default: the predicted class)");
  cmd->add_option("--baseline", f.baseline, "zeros | blur | file.npy")->capture_default_str();
  cmd->add_option("--steps", f.steps, "Quadrature nodes / path steps / samples (0: the method's default)");
  cmd->add_option("--smooth-beta", f.smooth_beta, "Explain the model with every ReLU replaced by SoftPlus(beta)");
  cmd->add_option("--output", f.output_kind, "logit | probability")->capture_default_str();
  cmd->add_option("--references", f.references, "Reference examples .npy [R, ...] (expected_gradients, eh, ig2)");
  cmd->add_option("--seed", f.seed, "Seed of every random choice")->capture_default_str();
  cmd->add_option("--batch-size", f.batch_size, "Points per model call inside the method")->capture_default_str();
  cmd->add_option("--png", f.png, "Also write a heatmap PNG");
  std::string dtype = "float64";
  cmd->add_option("--dtype", dtype, "Precision of the computation (float64)")
      ->check(CLI::IsMember({"float64"}))
      ->capture_default_str();
}

std::string method_list(bool interactions) {
  std::string list;
  for (const auto& m : method_catalogue()) {
    if (m.interactions == interactions) list += (list.empty() ? "" : ", ") + m.name;
  }
  return list;
}

void run(const ExplainFlags& f, bool interactions) {
  if (method_info_or_usage(f.method).interactions != interactions) {
    throw UsageError("method '" + f.method + "' is " + (interactions ? "not an interaction method" : "an interaction method") +
                     "; use `fluxion " + (interactions ? "explain" : "interactions") + "` for it (" +
                     (interactions ? "interaction methods: " : "attribution methods: ") + method_list(interactions) + ")");
  }
  ExplainSetup s = prepare_explanation(f);
  const MethodOutput<double> r = run_method(f.method, s.explained, s.x, s.targets, s.settings);
  for (double v : r.values)
    if (!std::isfinite(v))
      throw std::runtime_error(f.input + ": " + f.method + " gives NaN or infinite values for these inputs (the " +
                               "model's output or its derivatives overflow); nothing was written");
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
}

}  // namespace

const MethodInfo& method_info_or_usage(const std::string& name) {
  try {
    return method_info(name);
  } catch (const InputError& e) {
    throw UsageError(e.what());
  }
}

void register_explain_command(CLI::App& app) {
  auto flags = std::make_shared<ExplainFlags>();
  auto* cmd = app.add_subcommand("explain", "Attribute a model's output to its input features");
  cmd->add_option("--method", flags->method, "One of: " + method_list(false))->required();
  add_common_options(cmd, *flags);
  cmd->callback([flags] { run(*flags, false); });

  auto iflags = std::make_shared<ExplainFlags>();
  auto* icmd = app.add_subcommand("interactions", "Pairwise feature interactions [N, d, d]");
  icmd->add_option("--method", iflags->method, "ih | eh | input_hessian | hessian_x_input | shapley_interaction")
      ->required();
  add_common_options(icmd, *iflags);
  icmd->callback([iflags] { run(*iflags, true); });
}

}  // namespace fluxion::cli
