// `fluxion check`: run one method and print every axiom gap that applies to
// it, as numbers (attribution/axioms.hpp):
//   completeness             |Σ A − (f(x) − f(reference))|          path methods
//   interaction completeness |Σ_ij Γ_ij − (f(x) − f(x'))|           ih, eh
//   row completeness         max_i |Σ_j Γ_ij − IG_i|                ih (IG with the same baseline)
//   symmetry                 max |Γ_ij − Γ_ji|                       interaction methods
// Dummy-feature, implementation-invariance and linearity checks need a second,
// modified model; `fluxion reproduce axioms` measures them on the MNIST presets.
#include <CLI/CLI.hpp>
#include <iomanip>
#include <iostream>

#include "attribution/axioms.hpp"
#include "attribution/integrated_gradients.hpp"
#include "experiments/cli/commands.hpp"
#include "experiments/cli/explain_inputs.hpp"

namespace fluxion::cli {

namespace {

void print_gap(const std::string& axiom, double gap, const std::string& note = "") {
  std::cout << "  " << std::left << std::setw(26) << axiom << std::scientific << std::setprecision(3) << gap
            << (note.empty() ? "" : "   (" + note + ")") << "\n";
}

void run_check(const ExplainFlags& f) {
  const MethodInfo& info = method_info_or_usage(f.method);
  ExplainSetup s = prepare_explanation(f);
  const auto r = run_method(f.method, s.explained, s.x, s.targets, s.settings);
  std::cout << f.method << " on " << s.x.shape()[0] << " example(s), " << s.explained.batch_size
            << " points per model call:\n";
  double worst_change = 0;
  for (double c : r.output_changes) worst_change = std::max(worst_change, std::abs(c));
  if (!r.completeness_gaps.empty()) {
    const double gap = info.interactions ? interaction_completeness_gap(r.values, r.output_changes)
                                         : completeness_gap(r.values, r.output_changes);
    print_gap(info.interactions ? "interaction completeness" : "completeness", gap,
              "vs " + r.reference + "; largest |f(x) − f(reference)| = " + std::to_string(worst_change));
  } else {
    std::cout << "  completeness              n/a (" << f.method << " has no reference point)\n";
  }
  if (info.interactions) {
    print_gap("symmetry", interaction_symmetry_gap(r.values));
    if (f.method == "ih") {
      IntegratedGradientsOptions<double> o;
      o.steps = 128;
      if (s.settings.baseline != "black") {
        o.baseline = parse_baseline_kind(s.settings.baseline);
        o.user_baseline = s.settings.user_baseline;
      }
      const auto ig = integrated_gradients(s.explained, s.x, s.targets, o);
      print_gap("row completeness", row_completeness_gap(r.values, ig.attributions), "vs IG, 128 Gauss–Legendre nodes");
    }
  }
  std::cout << "  dummy feature, implementation invariance, linearity: need a second model; see `fluxion reproduce axioms`\n";
}

}  // namespace

void register_check_command(CLI::App& app) {
  auto flags = std::make_shared<ExplainFlags>();
  auto* cmd = app.add_subcommand("check", "Print every applicable axiom gap of a method on given inputs");
  cmd->add_option("--model", flags->model, "Model file (.safetensors)")->required();
  cmd->add_option("--method", flags->method, "Any method of `explain` or `interactions`")->required();
  cmd->add_option("--input", flags->input, "Input .npy: one example or a batch [N, ...]")->required();
  cmd->add_option("--target", flags->targets, "Class(es) to explain (default: predicted)");
  cmd->add_option("--baseline", flags->baseline, "zeros | blur | file.npy")->capture_default_str();
  cmd->add_option("--steps", flags->steps, "Quadrature nodes / steps / samples (0: default)");
  cmd->add_option("--smooth-beta", flags->smooth_beta, "Explain smooth(model, beta)");
  cmd->add_option("--references", flags->references, "Reference examples .npy [R, ...]");
  cmd->add_option("--seed", flags->seed, "Seed")->capture_default_str();
  cmd->callback([flags] { run_check(*flags); });
}

}  // namespace fluxion::cli
