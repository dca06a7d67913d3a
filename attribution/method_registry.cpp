// The method catalogue and dispatcher (see method_registry.hpp).
#include "attribution/method_registry.hpp"

#include <algorithm>

#include "attribution/agi.hpp"
#include "attribution/blur_ig.hpp"
#include "attribution/expected_gradients.hpp"
#include "attribution/expected_hessians.hpp"
#include "attribution/gradient_methods.hpp"
#include "attribution/guided_ig.hpp"
#include "attribution/hessian_baselines.hpp"
#include "attribution/ig2.hpp"
#include "attribution/integrated_gradients.hpp"
#include "attribution/integrated_hessians.hpp"
#include "attribution/neflag.hpp"
#include "attribution/shapley_interaction.hpp"
#include "autodiff/errors.hpp"

namespace fluxion {

const std::vector<MethodInfo>& method_catalogue() {
  static const std::vector<MethodInfo> catalogue = {
      {"saliency", "|∇f(x)| (Simonyan et al. 2014)", false, false, false},
      {"gradient_x_input", "x ⊙ ∇f(x)", false, false, false},
      {"smoothgrad", "mean of ∇f over noisy copies (Smilkov et al. 2017)", false, false, false},
      {"smoothgrad_squared", "mean of ∇f² over noisy copies", false, false, false},
      {"vargrad", "variance of ∇f over noisy copies", false, false, false},
      {"ig", "Integrated Gradients, straight line from the baseline (Sundararajan et al. 2017)", false, true,
       false},
      {"expected_gradients", "IG averaged over data baselines (Erion et al. 2021)", false, true, true},
      {"blur_ig", "IG along a path of Gaussian blurs (Xu et al. 2020)", false, true, false},
      {"guided_ig", "IG along an adaptive low-gradient path (Kapishnikov et al. 2021)", false, true, false},
      {"agi", "Adversarial Gradient Integration (Pan et al. 2021)", false, true, false},
      {"ig2", "IG on the iterative gradient path to GradCF (Zhuo & Ge 2024)", false, true, true},
      {"neflag", "Negative Flux Aggregation (Li et al. 2023), reconstructed", false, false, false},
      {"ih", "Integrated Hessians, full d×d (Janizek et al. 2021)", true, true, false},
      {"eh", "Expected Hessians, full d×d over data baselines (Janizek et al. 2021)", true, true, true},
      {"input_hessian", "∇²f(x)", true, false, false},
      {"hessian_x_input", "Δ_i H_ij Δ_j", true, false, false},
      {"shapley_interaction", "exact Shapley interaction index by enumeration (d ≤ 10)", true, false, false},
  };
  return catalogue;
}

const MethodInfo& method_info(const std::string& name) {
  for (const auto& m : method_catalogue()) {
    if (m.name == name) return m;
  }
  std::string known;
  for (const auto& m : method_catalogue()) known += (known.empty() ? "" : ", ") + m.name;
  throw InputError("unknown method '" + name + "' (known: " + known + ")");
}

int default_steps(const std::string& name) {
  method_info(name);  // unknown names fail here with the list
  if (name == "smoothgrad" || name == "smoothgrad_squared" || name == "vargrad") return int(SmoothGradOptions{}.samples);
  if (name == "ig") return IntegratedGradientsOptions<double>{}.steps;
  if (name == "expected_gradients") return int(ExpectedGradientsOptions{}.samples);
  if (name == "blur_ig") return BlurIGOptions{}.steps;
  if (name == "guided_ig") return GuidedIGOptions{}.steps;
  if (name == "agi") return AGIOptions{}.max_iter;
  if (name == "ig2") return IG2Options{}.steps;
  if (name == "neflag") return int(NeFLAGOptions{}.points);
  if (name == "ih") return IntegratedHessiansOptions<double>{}.points;
  if (name == "eh") return int(ExpectedHessiansOptions{}.samples);
  return 0;
}

namespace {

template <class T>
MethodOutput<T> from_paths(PathAttributions<T> p, std::string reference) {
  return {std::move(p.attributions), std::move(p.output_changes), std::move(p.completeness_gaps),
          std::move(reference)};
}

template <class T>
MethodOutput<T> from_interactions(InteractionAttributions<T> p, std::string reference) {
  return {std::move(p.interactions), std::move(p.output_changes), std::move(p.completeness_gaps),
          std::move(reference)};
}

/// Monte Carlo sample count: --steps or `samples` if given, else the method's default.
template <class T>
std::size_t sample_count(const MethodSettings<T>& s, std::size_t method_default) {
  if (s.steps) return std::size_t(s.steps);
  return s.samples ? s.samples : method_default;
}

template <class T>
void require_references(const std::string& name, const MethodSettings<T>& s) {
  if (s.references.dimension() < 2 || s.references.shape()[0] == 0) {
    throw InputError("method '" + name + "' needs reference examples (a data set to draw baselines from)");
  }
}

template <class T>
std::optional<Tensor<T>> optional_baseline(const Tensor<T>& x, const MethodSettings<T>& s) {
  if (s.baseline == "black") return std::nullopt;
  IntegratedGradientsOptions<T> o;
  o.baseline = parse_baseline_kind(s.baseline);
  o.user_baseline = s.user_baseline;
  return make_baseline(x, o);
}

}  // namespace

template <class T>
MethodOutput<T> run_method(const std::string& name, const ExplainedOutput<T>& out, const Tensor<T>& x,
                           const std::vector<std::size_t>& targets_in, const MethodSettings<T>& s) {
  method_info(name);  // unknown names fail here with the list
  const std::vector<std::size_t> targets = resolve_targets(out, x, targets_in);
  if (name == "saliency") return {saliency(out, x, targets), {}, {}, ""};
  if (name == "gradient_x_input") return {gradient_times_input(out, x, targets), {}, {}, ""};
  if (name == "smoothgrad" || name == "smoothgrad_squared" || name == "vargrad") {
    SmoothGradOptions o;
    o.samples = sample_count(s, o.samples);
    o.seed = s.seed;
    const auto kind = name == "smoothgrad"           ? SmoothGradKind::mean
                      : name == "smoothgrad_squared" ? SmoothGradKind::squared
                                                     : SmoothGradKind::variance;
    return {noisy_gradient_statistic(out, x, targets, o, kind), {}, {}, ""};
  }
  if (name == "ig") {
    IntegratedGradientsOptions<T> o;
    o.baseline = parse_baseline_kind(s.baseline);
    o.user_baseline = s.user_baseline;
    if (s.steps) o.steps = s.steps;
    return from_paths(integrated_gradients(out, x, targets, o), s.baseline + " baseline");
  }
  if (name == "expected_gradients") {
    require_references(name, s);
    ExpectedGradientsOptions o;
    o.samples = sample_count(s, o.samples);
    o.seed = s.seed;
    return from_paths(expected_gradients(out, x, s.references, targets, o), "mean reference output");
  }
  if (name == "blur_ig") {
    BlurIGOptions o;
    if (s.steps) o.steps = s.steps;
    return from_paths(blur_ig(out, x, targets, o), "maximally blurred input");
  }
  if (name == "guided_ig") {
    GuidedIGOptions o;
    if (s.steps) o.steps = s.steps;
    auto baseline = optional_baseline(x, s);
    if (baseline) return from_paths(guided_ig(out, x, *baseline, targets, o), s.baseline + " baseline");
    return from_paths(guided_ig(out, x, targets, o), "black baseline");
  }
  if (name == "agi") {
    AGIOptions o;
    if (s.steps) o.max_iter = s.steps;
    o.seed = s.seed;
    return from_paths(agi(out, x, targets, o), "adversarial walk ends");
  }
  if (name == "ig2") {
    require_references(name, s);
    if (!s.features || !s.head) throw InputError("method 'ig2' needs the model split into features and head");
    IG2Options o;
    if (s.steps) o.steps = s.steps;
    o.kind = out.kind;
    o.batch_size = out.batch_size;
    SplitModel<T> split{s.features, s.head};
    Tensor<T> refs = s.references;
    if (!s.reference_labels.empty()) {
      // `samples` references per example (default 10), capped at the fewest
      // rows any example has outside its own class — not at the pool size,
      // which counts the rows of the explained class too (at least 1, so that
      // a pool with none left fails with draw_references' message).
      std::size_t available = s.references.shape()[0];
      for (std::size_t c : targets)
        available = std::min<std::size_t>(
            available, std::count_if(s.reference_labels.begin(), s.reference_labels.end(),
                                     [c](std::size_t label) { return label != c; }));
      const std::size_t count = std::min<std::size_t>(s.samples ? s.samples : 10, std::max<std::size_t>(available, 1));
      refs = draw_references(s.references, s.reference_labels, targets, count, s.seed);
    }
    auto r = ig2(split, x, targets, refs, o);
    return from_paths(std::move(r.paths), "mean output at GradCF");
  }
  if (name == "neflag") {
    NeFLAGOptions o;
    if (s.steps) o.points = std::size_t(s.steps);
    o.seed = s.seed;
    auto r = neflag(out, x, targets, o);
    return {std::move(r.attributions), {}, {}, ""};
  }
  if (name == "ih") {
    IntegratedHessiansOptions<T> o;
    o.baseline = optional_baseline(x, s);
    if (s.steps) o.points = s.steps;
    return from_interactions(integrated_hessians(out, x, targets, o), s.baseline + " baseline");
  }
  if (name == "eh") {
    require_references(name, s);
    ExpectedHessiansOptions o;
    o.samples = sample_count(s, o.samples);
    o.seed = s.seed;
    return from_interactions(expected_hessians(out, x, s.references, targets, o), "mean reference output");
  }
  if (name == "input_hessian") return {input_hessian(out, x, targets), {}, {}, ""};
  if (name == "hessian_x_input") return {hessian_times_input(out, x, targets, optional_baseline(x, s)), {}, {}, ""};
  // shapley_interaction
  auto r = shapley_interactions(out, x, targets, optional_baseline(x, s));
  return {std::move(r.interactions), {}, {}, ""};
}

template MethodOutput<float> run_method(const std::string&, const ExplainedOutput<float>&, const Tensor<float>&,
                                        const std::vector<std::size_t>&, const MethodSettings<float>&);
template MethodOutput<double> run_method(const std::string&, const ExplainedOutput<double>&, const Tensor<double>&,
                                         const std::vector<std::size_t>&, const MethodSettings<double>&);

}  // namespace fluxion
