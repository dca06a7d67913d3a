#include "attribution/axiom_checks.hpp"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <sstream>

#include "attribution/axioms.hpp"
#include "attribution/integrated_gradients.hpp"

namespace fluxion {

namespace {

template <class T>
double max_abs(const Tensor<T>& t) {
  double m = 0;
  for (T v : t) m = std::max(m, std::abs(static_cast<double>(v)));
  return m;
}

std::string scientific(double v) {
  std::ostringstream s;
  s << std::scientific << std::setprecision(3) << v;
  return s.str();
}

}  // namespace

double worst_relative_gap(const std::vector<double>& gaps, const std::vector<double>& output_changes) {
  double worst = 0;
  for (std::size_t n = 0; n < gaps.size(); ++n) {
    const double change = n < output_changes.size() ? std::abs(output_changes[n]) : 0.0;
    worst = std::max(worst, relative_gap(gaps[n], change));
  }
  return worst;
}

template <class T>
AxiomCheck<T> check_axioms(const MethodSpec<T>& method, const ExplainedOutput<T>& out, const Tensor<T>& x,
                           const std::vector<std::size_t>& classes, const MethodSettings<T>& settings,
                           double tolerance) {
  AxiomCheck<T> check{run_method(method, out, x, classes, settings), {}};
  const MethodOutput<T>& r = check.output;
  const MethodInfo& info = method.info;
  if (!r.completeness_gaps.empty()) {
    double worst_change = 0, worst_gap = 0;
    for (double c : r.output_changes) worst_change = std::max(worst_change, std::abs(c));
    for (double g : r.completeness_gaps) worst_gap = std::max(worst_gap, g);
    check.gaps.push_back({info.interactions ? "interaction completeness" : "completeness",
                          worst_relative_gap(r.completeness_gaps, r.output_changes), tolerance,
                          "vs " + r.reference + "; absolute " + scientific(worst_gap) +
                              ", largest |f(x) - f(reference)| = " + scientific(worst_change)});
  }
  // path_explain torch's fresh inner baseline (--inner-baseline fresh) is not symmetric by construction.
  if (info.interactions && settings.options.inner_baseline != "fresh") {
    check.gaps.push_back({"symmetry", relative_gap(interaction_symmetry_gap(r.values), max_abs(r.values)),
                          symmetry_tolerance<T>(), "relative to max |Gamma|; rounding only"});
    if (info.name == "ih") {
      IntegratedGradientsOptions<T> o;
      o.steps = 128;
      if (settings.baseline.values) {  // the baseline IH used
        o.baseline = BaselineKind::user;
        o.user_baseline = *settings.baseline.values;
      }
      const auto ig = integrated_gradients(out, x, classes, o);
      check.gaps.push_back({"row completeness",
                            relative_gap(row_completeness_gap(r.values, ig.attributions), max_abs(ig.attributions)),
                            tolerance, "vs IG, 128 Gauss-Legendre nodes; relative to max |IG|"});
    }
  }
  return check;
}

template AxiomCheck<float> check_axioms(const MethodSpec<float>&, const ExplainedOutput<float>&, const Tensor<float>&,
                                        const std::vector<std::size_t>&, const MethodSettings<float>&, double);
template AxiomCheck<double> check_axioms(const MethodSpec<double>&, const ExplainedOutput<double>&,
                                         const Tensor<double>&, const std::vector<std::size_t>&,
                                         const MethodSettings<double>&, double);

}  // namespace fluxion
