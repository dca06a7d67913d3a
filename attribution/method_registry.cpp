// The method table: one row per method, its MethodInfo and its runner side by
// side (see method_registry.hpp). run_method checks what the row needs and
// hands the row a MethodCall; the caller has looked the row up, resolved the
// classes and built the baseline once.
#include "attribution/method_registry.hpp"

#include <algorithm>
#include <ranges>

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

namespace {

template <class T>
MethodOutput<T> values_only(Tensor<T> values) { return {std::move(values), {}, {}, ""}; }
template <class T>
MethodOutput<T> from_paths(PathAttributions<T> p, std::string reference) {
  return {std::move(p.attributions), std::move(p.output_changes), std::move(p.completeness_gaps), reference};
}
template <class T>
MethodOutput<T> from_interactions(InteractionAttributions<T> p, std::string reference) {
  return {std::move(p.interactions), std::move(p.output_changes), std::move(p.completeness_gaps), reference};
}

template <class T>
MethodOutput<T> noisy_gradients(const MethodCall<T>& c, SmoothGradKind kind) {
  return values_only(noisy_gradient_statistic(c.out, c.x, c.classes, {.samples = c.samples, .seed = c.s.seed}, kind));
}

/// IG2's references: without labels the whole pool; else `samples` per example (default 10) of other classes,
/// capped at the fewest rows any example has outside its own class — not at the pool size, which counts the
/// explained class too (at least 1: a pool with none left fails in draw_references).
template <class T>
Tensor<T> ig2_references(const MethodCall<T>& c) {
  const Tensor<T>& refs = c.s.references;
  const std::vector<std::size_t>& labels = c.s.reference_labels;
  if (labels.empty()) return refs;
  std::size_t available = refs.shape()[0];
  for (std::size_t target : c.classes)
    available = std::min(available, labels.size() - std::size_t(std::count(labels.begin(), labels.end(), target)));
  const std::size_t count = std::min(c.s.samples ? c.s.samples : 10, std::max<std::size_t>(available, 1));
  return draw_references(refs, labels, c.classes, count, c.s.seed);
}

}  // namespace

/// Attribution methods, then interaction methods.
template <class T>
const std::vector<MethodSpec<T>>& method_table() {
  using Call = MethodCall<T>;
  static const std::vector<MethodSpec<T>> table = {
      {{.name = "saliency", .description = "|∇f(x)| (Simonyan et al. 2014)"},
       [](const Call& c) { return values_only(saliency(c.out, c.x, c.classes)); }},
      {{.name = "gradient_x_input", .description = "x ⊙ ∇f(x)"},
       [](const Call& c) { return values_only(gradient_times_input(c.out, c.x, c.classes)); }},
      {{.name = "smoothgrad", .description = "mean of ∇f over noisy copies (Smilkov et al. 2017)",
        .default_steps = int(SmoothGradOptions{}.samples)},
       [](const Call& c) { return noisy_gradients(c, SmoothGradKind::mean); }},
      {{.name = "smoothgrad_squared", .description = "mean of ∇f² over noisy copies",
        .default_steps = int(SmoothGradOptions{}.samples)},
       [](const Call& c) { return noisy_gradients(c, SmoothGradKind::squared); }},
      {{.name = "vargrad", .description = "variance of ∇f over noisy copies",
        .default_steps = int(SmoothGradOptions{}.samples)},
       [](const Call& c) { return noisy_gradients(c, SmoothGradKind::variance); }},
      {{.name = "ig", .description = "Integrated Gradients, straight line from the baseline (Sundararajan et al. 2017)",
        .path_method = true, .takes_baseline = true, .default_steps = IntegratedGradientsOptions<T>{}.steps},
       [](const Call& c) {
         IntegratedGradientsOptions<T> o;
         o.steps = c.steps;
         if (c.s.baseline.values) o.baseline = BaselineKind::user;
         o.user_baseline = c.s.baseline.values.value_or(o.user_baseline);
         return from_paths(integrated_gradients(c.out, c.x, c.classes, o), c.s.baseline.name + " baseline");
       }},
      {{.name = "expected_gradients", .description = "IG averaged over data baselines (Erion et al. 2021)",
        .path_method = true, .needs_references = true, .default_steps = int(ExpectedGradientsOptions{}.samples)},
       [](const Call& c) {
         const ExpectedGradientsOptions o{.samples = c.samples, .seed = c.s.seed};
         return from_paths(expected_gradients(c.out, c.x, c.s.references, c.classes, o), "mean reference output");
       }},
      {{.name = "blur_ig", .description = "IG along a path of Gaussian blurs (Xu et al. 2020)", .path_method = true,
        .default_steps = BlurIGOptions{}.steps},
       [](const Call& c) {
         return from_paths(blur_ig(c.out, c.x, c.classes, {.steps = c.steps}), "maximally blurred input");
       }},
      {{.name = "guided_ig", .description = "IG along an adaptive low-gradient path (Kapishnikov et al. 2021)",
        .path_method = true, .takes_baseline = true, .default_steps = GuidedIGOptions{}.steps},
       [](const Call& c) {
         const GuidedIGOptions o{.steps = c.steps};
         if (!c.s.baseline.values) return from_paths(guided_ig(c.out, c.x, c.classes, o), "black baseline");
         return from_paths(guided_ig(c.out, c.x, *c.s.baseline.values, c.classes, o), c.s.baseline.name + " baseline");
       }},
      {{.name = "agi", .description = "Adversarial Gradient Integration (Pan et al. 2021)", .path_method = true,
        .default_steps = AGIOptions{}.max_iter},
       [](const Call& c) {
         const AGIOptions o{.max_iter = c.steps, .seed = c.s.seed};
         return from_paths(agi(c.out, c.x, c.classes, o), "adversarial walk ends");
       }},
      {{.name = "ig2", .description = "IG on the iterative gradient path to GradCF (Zhuo & Ge 2024)",
        .path_method = true, .needs_references = true, .needs_split_model = true, .needs_reference_labels = true,
        .default_steps = IG2Options{}.steps},
       [](const Call& c) {
         const IG2Options o{.steps = c.steps, .kind = c.out.kind, .batch_size = c.out.batch_size};
         const SplitModel<T> model{c.s.features, c.s.head};
         return from_paths(ig2(model, c.x, c.classes, ig2_references(c), o).paths, "mean output at GradCF");
       }},
      {{.name = "neflag", .description = "Negative Flux Aggregation (Li et al. 2023), reconstructed",
        .default_steps = int(NeFLAGOptions{}.points)},
       [](const Call& c) {
         const NeFLAGOptions o{.points = std::size_t(c.steps), .seed = c.s.seed};
         return values_only(neflag(c.out, c.x, c.classes, o).attributions);
       }},
      {{.name = "ih", .description = "Integrated Hessians, full d×d (Janizek et al. 2021)", .interactions = true,
        .path_method = true, .takes_baseline = true, .default_steps = IntegratedHessiansOptions<T>{}.points},
       [](const Call& c) {
         const IntegratedHessiansOptions<T> o{.baseline = c.s.baseline.values, .points = c.steps};
         return from_interactions(integrated_hessians(c.out, c.x, c.classes, o), c.s.baseline.name + " baseline");
       }},
      {{.name = "eh", .description = "Expected Hessians, full d×d over data baselines (Janizek et al. 2021)",
        .interactions = true, .path_method = true, .needs_references = true,
        .default_steps = int(ExpectedHessiansOptions{}.samples)},
       [](const Call& c) {
         const ExpectedHessiansOptions o{.samples = c.samples, .seed = c.s.seed};
         return from_interactions(expected_hessians(c.out, c.x, c.s.references, c.classes, o), "mean reference output");
       }},
      {{.name = "input_hessian", .description = "∇²f(x)", .interactions = true},
       [](const Call& c) { return values_only(input_hessian(c.out, c.x, c.classes)); }},
      {{.name = "hessian_x_input", .description = "Δ_i H_ij Δ_j", .interactions = true, .takes_baseline = true},
       [](const Call& c) { return values_only(hessian_times_input(c.out, c.x, c.classes, c.s.baseline.values)); }},
      {{.name = "shapley_interaction", .description = "exact Shapley interaction index by enumeration (d ≤ 10)",
        .interactions = true, .takes_baseline = true},
       [](const Call& c) {
         return values_only(shapley_interactions(c.out, c.x, c.classes, c.s.baseline.values).interactions);
       }},
  };
  return table;
}

template <class T>
const MethodSpec<T>& method_spec(const std::string& name) {
  for (const MethodSpec<T>& m : method_table<T>())
    if (m.info.name == name) return m;
  std::string known;
  for (const MethodSpec<T>& m : method_table<T>()) known += (known.empty() ? "" : ", ") + m.info.name;
  throw ArgumentError("unknown method '" + name + "' (known: " + known + ")");
}

const std::vector<MethodInfo>& method_catalogue() {
  static const auto infos = method_table<double>() | std::views::transform(&MethodSpec<double>::info);
  static const std::vector<MethodInfo> catalogue(infos.begin(), infos.end());
  return catalogue;
}

const MethodInfo& method_info(const std::string& name) {
  const MethodSpec<double>& spec = method_spec<double>(name);  // unknown names fail here, with the list
  return method_catalogue()[std::size_t(&spec - method_table<double>().data())];  // the same order
}

int default_steps(const std::string& name) { return method_info(name).default_steps; }

template <class T>
MethodBaseline<T> resolve_baseline(const Tensor<T>& x, const std::string& kind, const Tensor<T>& user) {
  if (kind == "black" || kind == "zeros") return {};
  const BaselineKind parsed = parse_baseline_kind(kind);
  const std::string name = parsed == BaselineKind::blurred ? "blur" : "user";
  return {make_baseline(x, IntegratedGradientsOptions<T>{.baseline = parsed, .user_baseline = user}), name};
}

template <class T>
MethodOutput<T> run_method(const MethodSpec<T>& method, const ExplainedOutput<T>& out, const Tensor<T>& x,
                           const std::vector<std::size_t>& classes, const MethodSettings<T>& s) {
  const MethodInfo& info = method.info;
  const std::size_t n = example_count(x, "method '" + info.name + "': x");
  if (classes.size() != n)
    throw ArgumentError("method '" + info.name + "': " + std::to_string(classes.size()) + " classes for " +
                        std::to_string(n) + " examples (resolve the targets first)");
  if (info.needs_references && (s.references.dimension() < 2 || s.references.shape()[0] == 0))
    throw ArgumentError("method '" + info.name + "' needs reference examples (a data set to draw baselines from)");
  if (info.needs_split_model && (!s.features || !s.head))
    throw ArgumentError("method '" + info.name + "' needs the model split into features and head");
  const int steps = s.steps ? s.steps : info.default_steps;
  const std::size_t samples = s.steps || !s.samples ? std::size_t(steps) : s.samples;
  return method.run({out, x, classes, s, steps, samples});
}

#define FLUXION_INSTANTIATE(T)                                                                                  \
  template const std::vector<MethodSpec<T>>& method_table();                                                   \
  template const MethodSpec<T>& method_spec(const std::string&);                                               \
  template MethodBaseline<T> resolve_baseline(const Tensor<T>&, const std::string&, const Tensor<T>&);        \
  template MethodOutput<T> run_method(const MethodSpec<T>&, const ExplainedOutput<T>&, const Tensor<T>&,       \
                                      const std::vector<std::size_t>&, const MethodSettings<T>&);
FLUXION_INSTANTIATE(float)
FLUXION_INSTANTIATE(double)
#undef FLUXION_INSTANTIATE

}  // namespace fluxion
