// `fluxion check`: run one method and print every axiom gap that applies to
// it, as numbers (attribution/axioms.hpp), each against its tolerance:
//   completeness             |Σ A − Δ| / |Δ|,  Δ = f(x) − f(reference)     path methods       ≤ T
//   interaction completeness |Σ_ij Γ_ij − Δ| / |Δ|                          ih, eh             ≤ T
//   row completeness         max_i |Σ_j Γ_ij − IG_i| / max_i |IG_i|         ih (IG, same baseline) ≤ T
//   symmetry                 max |Γ_ij − Γ_ji| / max |Γ_ij|                 interaction methods ≤ rounding
// (relative to the largest example; absolute where the denominator is 0).
// T is --tolerance (default 1e-3). Symmetry holds exactly in exact
// arithmetic (Γ comes from a symmetric Hessian), so its bound is rounding
// only: 1e-9 in float64, 1e-4 in float32. If any gap exceeds its bound the
// command exits with code 3 — a researcher's CI can gate on it.
// Dummy-feature, implementation-invariance and linearity checks need a second,
// modified model; `fluxion reproduce axioms` measures them on the MNIST presets.
#include <CLI/CLI.hpp>
#include <cmath>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "attribution/axioms.hpp"
#include "attribution/integrated_gradients.hpp"
#include "experiments/cli/commands.hpp"
#include "experiments/cli/explain_inputs.hpp"

namespace fluxion::cli {

namespace {

inline constexpr double default_check_tolerance = 1e-3;

/// The rounding-only bound of the symmetry gap in precision T.
template <class T>
double symmetry_tolerance() {
  return sizeof(T) == sizeof(float) ? 1e-4 : 1e-9;
}

/// Prints one axiom line and remembers the first gap above its bound.
class AxiomReport {
 public:
  void line(const std::string& axiom, double relative_gap, double tolerance, const std::string& note) {
    const bool ok = relative_gap <= tolerance;
    std::ostringstream bound;
    bound << std::scientific << std::setprecision(1) << tolerance;
    std::cout << "  " << std::left << std::setw(26) << axiom << std::scientific << std::setprecision(3) << relative_gap
              << (ok ? "  ok (<= " : "  FAILS (> ") << bound.str() << ")"
              << (note.empty() ? "" : "   (" + note + ")") << "\n";
    if (!ok && first_failure_.empty()) {
      std::ostringstream msg;
      msg << std::scientific << std::setprecision(3) << axiom << " gap " << relative_gap << " exceeds its tolerance "
          << bound.str();
      first_failure_ = msg.str();
    }
  }
  /// GateFailure (exit code 3) naming the first failed axiom, if any.
  void finish(const std::string& method) const {
    if (!first_failure_.empty()) throw GateFailure("check: " + method + ": " + first_failure_);
  }

 private:
  std::string first_failure_;
};

template <class T>
double max_abs(const Tensor<T>& t) {
  double m = 0;
  for (T v : t) m = std::max(m, std::abs(double(v)));
  return m;
}

template <class T>
void check_in(const ExplainFlags& f) {
  ExplainSetup<T> s = prepare_explanation<T>(f);
  const MethodInfo& info = s.method->info;
  const double tolerance = f.tolerance.value_or(default_check_tolerance);
  const auto r = run_method(*s.method, s.explained, s.x, s.targets, s.settings);
  std::cout << f.method << " on " << s.x.shape()[0] << " example(s), " << f.dtype << ", " << s.explained.batch_size
            << " points per model call:\n";
  AxiomReport report;
  if (!r.completeness_gaps.empty()) {
    double worst_change = 0, worst_gap = 0;
    for (double c : r.output_changes) worst_change = std::max(worst_change, std::abs(c));
    for (double g : r.completeness_gaps) worst_gap = std::max(worst_gap, g);
    std::ostringstream note;
    note << "vs " << r.reference << "; absolute " << std::scientific << std::setprecision(3) << worst_gap
         << ", largest |f(x) - f(reference)| = " << worst_change;
    report.line(info.interactions ? "interaction completeness" : "completeness",
                worst_relative_gap(r.completeness_gaps, r.output_changes), tolerance, note.str());
  } else {
    std::cout << "  completeness              n/a (" << f.method << " has no reference point)\n";
  }
  if (info.interactions) {
    report.line("symmetry", relative_gap(interaction_symmetry_gap(r.values), max_abs(r.values)), symmetry_tolerance<T>(),
                "relative to max |Gamma|; rounding only");
    if (f.method == "ih") {
      IntegratedGradientsOptions<T> o;
      o.steps = 128;
      if (s.settings.baseline.values) {  // the baseline the method used, built once by prepare_explanation
        o.baseline = BaselineKind::user;
        o.user_baseline = *s.settings.baseline.values;
      }
      const auto ig = integrated_gradients(s.explained, s.x, s.targets, o);
      report.line("row completeness",
                  relative_gap(row_completeness_gap(r.values, ig.attributions), max_abs(ig.attributions)), tolerance,
                  "vs IG, 128 Gauss-Legendre nodes; relative to max |IG|");
    }
  }
  std::cout << "  dummy feature, implementation invariance, linearity: need a second model; see `fluxion reproduce "
               "axioms`\n";
  report.finish(f.method);
}

}  // namespace

void register_check_command(CLI::App& app) {
  auto flags = std::make_shared<ExplainFlags>();
  auto* cmd = app.add_subcommand("check", "Print every applicable axiom gap of a method; exit 3 if one exceeds its "
                                          "tolerance");
  cmd->add_option("--method", flags->method, "Any method of `explain` or `interactions`")->required();
  add_explanation_options(cmd, *flags);
  cmd->add_option("--tolerance", flags->tolerance,
                  "Bound of the relative completeness gaps (default 1e-3); symmetry is bounded by rounding");
  cmd->callback([flags] { with_dtype(flags->dtype, [&]<class T>() { check_in<T>(*flags); }); });
}

}  // namespace fluxion::cli
