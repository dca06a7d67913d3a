// The method table: one row per method, its MethodInfo and its runner side by
// side (see method_registry.hpp). run_method checks what the row needs and
// hands the row a MethodCall; the caller has looked the row up, resolved the
// classes and built the baseline once.
#include "attribution/method_registry.hpp"

#include <algorithm>
#include <ranges>
#include <sstream>

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
  SmoothGradOptions o{.samples = c.samples, .seed = c.s.seed};
  o.noise_sigma = c.s.options.noise_sigma;
  o.absolute_gradients = c.s.options.aggregate == "mean_absolute" || c.s.options.aggregate == "variance_absolute";
  return values_only(noisy_gradient_statistic(c.out, c.x, c.classes, o, kind));
}

// ---- the options each row takes (MethodInfo::options); the values are checked by run_method

const MethodOption noise_sigma_option{
    "noise_sigma", "0.15·(max x − min x) per example", {},
    "an absolute noise σ, the same for every example (matches Captum NoiseTunnel's stdevs)"};

const MethodOption ig_rule_option{
    "rule", "gauss_legendre",
    {{"gauss_legendre", "Gauss–Legendre nodes (Captum's default method='gausslegendre')"},
     {"riemann_left", "t_i = i/n, w = 1/n"},
     {"riemann_right", "t_i = (i+1)/n, w = 1/n"},
     {"riemann_midpoint", "t_i = (i+½)/n, w = 1/n"},
     {"trapezoid", "linspace(0, 1, n), ends h/2, weights summing to 1"},
     {"captum_trapezoid",
      "matches Captum IntegratedGradients method='riemann_trapezoid': weights 1/n, ends 1/(2n), summing to (n−1)/n"},
     {"inclusive_linspace",
      "matches PAIR saliency IntegratedGradients.GetMask and path_explain attributions(use_expectation=False): "
      "linspace(0, 1, n) with equal weights 1/n"}},
    "the quadrature rule of the straight-line integral"};

const MethodOption ih_rule_option{
    "rule", "log_weighted",
    {{"log_weighted", "Gauss rule for the weight −ln t (essentially exact)"},
     {"paper_grid", "path_explain torch's k×k grid of αβ, --steps k per axis (k² nodes)"},
     {"path_explain_tf_grid",
      "matches path_explain PathExplainerTF.interactions(use_expectation=False, num_samples=n): n of the "
      "⌈√n⌉² grid products, --steps n"}},
    "the rule for ∫∫ g(αβ) dα dβ"};

const std::vector<MethodOption> blur_ig_options{
    {"rule", "trapezoid",
     {{"trapezoid", "mean of the gradients at both ends of each segment"},
      {"left", "the gradient at the more blurred end"},
      {"midpoint", "the gradient at the segment's midpoint"},
      {"pair_finite_difference",
       "matches PAIR saliency BlurIG.GetMask's sum: a forward difference in σ (grad_step 0.01) times the gradient at "
       "the less blurred end (not complete)"}},
     "how each segment of the blur path is charged"},
    {"sigma_schedule", "linear",
     {{"linear", "σ_s = σ_max (1 − s/S)"},
      {"sqrt", "σ_s = σ_max √(1 − s/S), even in σ²"},
      {"pair_sqrt", "matches PAIR saliency BlurIG.GetMask(sqrt=True): σ_i = √(i·σ_max/S), so the largest σ is √σ_max"}},
     "the scales the path visits"},
    {"blur_border", "reflect",
     {{"reflect", "mirror about the pixel edge (a constant image stays constant)"},
      {"zeros", "matches PAIR saliency BlurIG's scipy.ndimage.gaussian_filter(mode='constant'): zero padding"}},
     "the blur's border"},
    {"blur_kernel", "three_sigma",
     {{"three_sigma", "radius ⌈3σ⌉"},
      {"scipy", "matches scipy.ndimage.gaussian_filter (truncate=4, radius int(4σ + 0.5)), as PAIR's Blur IG"}},
     "where the Gaussian kernel is truncated (then renormalised)"},
    {"max_sigma", "5", {}, "σ_max in pixels (PAIR's default is 50)"}};

BlurIGOptions blur_ig_options_of(const MethodOptions& m, int steps) {
  BlurIGOptions o{.steps = steps};
  if (m.max_sigma) o.max_sigma = *m.max_sigma;
  if (m.rule == "left") o.rule = SegmentRule::left;
  if (m.rule == "midpoint") o.rule = SegmentRule::midpoint;
  if (m.rule == "pair_finite_difference") o.integrand = BlurIGIntegrand::pair_finite_difference;
  if (m.sigma_schedule == "sqrt") o.schedule = BlurSchedule::sqrt;
  if (m.sigma_schedule == "pair_sqrt") o.schedule = BlurSchedule::pair_sqrt;
  if (m.blur_border == "zeros") o.border = BlurBorder::zeros;
  if (m.blur_kernel == "scipy") o.kernel_radius = KernelRadius::scipy;
  return o;
}

std::string number_in_words(double v) {
  std::ostringstream text;
  text << v;
  return text.str();
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
        .default_steps = int(SmoothGradOptions{}.samples),
        .options = {{"aggregate", "mean",
                     {{"mean", "the mean of the signed ∇f (the paper's SmoothGrad)"},
                      {"mean_absolute", "matches Captum NoiseTunnel(Saliency(model)).attribute(nt_type='smoothgrad'): "
                                        "the mean of |∇f| (Saliency's abs=True)"}},
                     "the statistic of the noisy gradients"},
                    noise_sigma_option}},
       [](const Call& c) { return noisy_gradients(c, SmoothGradKind::mean); }},
      {{.name = "smoothgrad_squared", .description = "mean of ∇f² over noisy copies",
        .default_steps = int(SmoothGradOptions{}.samples), .options = {noise_sigma_option}},
       [](const Call& c) { return noisy_gradients(c, SmoothGradKind::squared); }},
      {{.name = "vargrad", .description = "variance of ∇f over noisy copies",
        .default_steps = int(SmoothGradOptions{}.samples),
        .options = {{"aggregate", "variance",
                     {{"variance", "the variance of the signed ∇f"},
                      {"variance_absolute", "matches Captum NoiseTunnel(Saliency(model)).attribute(nt_type='vargrad'): "
                                            "the variance of |∇f|"}},
                     "the statistic of the noisy gradients"},
                    noise_sigma_option}},
       [](const Call& c) { return noisy_gradients(c, SmoothGradKind::variance); }},
      {{.name = "ig", .description = "Integrated Gradients, straight line from the baseline (Sundararajan et al. 2017)",
        .path_method = true, .takes_baseline = true, .default_steps = IntegratedGradientsOptions<T>{}.steps,
        .options = {ig_rule_option}},
       [](const Call& c) {
         IntegratedGradientsOptions<T> o;
         o.steps = c.steps;
         if (!c.s.options.rule.empty()) o.rule = c.s.options.rule;
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
        .default_steps = BlurIGOptions{}.steps, .options = blur_ig_options},
       [](const Call& c) {
         return from_paths(blur_ig(c.out, c.x, c.classes, blur_ig_options_of(c.s.options, c.steps)),
                           "maximally blurred input");
       }},
      {{.name = "guided_ig", .description = "IG along an adaptive low-gradient path (Kapishnikov et al. 2021)",
        .path_method = true, .takes_baseline = true, .default_steps = GuidedIGOptions{}.steps},
       [](const Call& c) {
         const GuidedIGOptions o{.steps = c.steps};
         if (!c.s.baseline.values) return from_paths(guided_ig(c.out, c.x, c.classes, o), "black baseline");
         return from_paths(guided_ig(c.out, c.x, *c.s.baseline.values, c.classes, o), c.s.baseline.name + " baseline");
       }},
      {{.name = "agi", .description = "Adversarial Gradient Integration (Pan et al. 2021)", .path_method = true,
        .default_steps = AGIOptions{}.max_iter,
        .options = {{"aggregate", "mean",
                     {{"mean", "the mean over the false classes"},
                      {"sum_over_classes", "matches AGI_main.py (pd90506/AGI): the sum over the false classes"}},
                     "how the walks towards the false classes are combined"},
                    {"false_classes", "a seeded sample of 20 of the other classes", {},
                     "an explicit list of false classes for every example, the explained one skipped (matches "
                     "AGI_main.py's selected_ids)"}}},
       [](const Call& c) {
         AGIOptions o{.max_iter = c.steps, .seed = c.s.seed};
         o.false_class_list = c.s.options.false_classes;
         if (c.s.options.aggregate == "sum_over_classes") o.aggregate = AGIAggregate::sum_over_classes;
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
      {{.name = "neflag",
        .description = "Negative Flux Aggregation (Li et al. 2023), reconstructed: the mean flux vector of n random "
                       "sphere points of negative flux",
        .default_steps = int(NeFLAGOptions{}.points)},
       [](const Call& c) {  // --steps is n; NeFLAGOptions' defaults otherwise (random search, flux_vector, ε = 0.1)
         const NeFLAGOptions o{.points = std::size_t(c.steps), .seed = c.s.seed};
         return values_only(neflag(c.out, c.x, c.classes, o).attributions);
       }},
      {{.name = "ih", .description = "Integrated Hessians, full d×d (Janizek et al. 2021)", .interactions = true,
        .path_method = true, .takes_baseline = true, .default_steps = IntegratedHessiansOptions<T>{}.points,
        .options = {ih_rule_option}},
       [](const Call& c) {
         IntegratedHessiansOptions<T> o{.baseline = c.s.baseline.values, .points = c.steps};
         if (!c.s.options.rule.empty()) o.rule = c.s.options.rule;
         return from_interactions(integrated_hessians(c.out, c.x, c.classes, o), c.s.baseline.name + " baseline");
       }},
      {{.name = "eh", .description = "Expected Hessians, full d×d over data baselines (Janizek et al. 2021)",
        .interactions = true, .path_method = true, .needs_references = true,
        .default_steps = int(ExpectedHessiansOptions{}.samples),
        .options = {{"inner_baseline", "shared",
                     {{"shared", "the inner integral reuses the outer baseline x' (the paper, path_explain TF)"},
                      {"fresh", "matches path_explain PathExplainerTorch.interactions(use_expectation=True): the inner "
                                "Expected Gradients draws its own baseline x'' (not symmetric)"}},
                     "the baseline of the inner integral"}}},
       [](const Call& c) {
         ExpectedHessiansOptions o{.samples = c.samples, .seed = c.s.seed};
         o.fresh_inner_baseline = c.s.options.inner_baseline == "fresh";
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

std::vector<std::pair<std::string, std::string>> given_options(const MethodOptions& o) {
  std::vector<std::pair<std::string, std::string>> given;
  auto text = [&](const char* name, const std::string& value) {
    if (!value.empty()) given.emplace_back(name, value);
  };
  text("rule", o.rule);
  text("sigma_schedule", o.sigma_schedule);
  text("blur_border", o.blur_border);
  text("blur_kernel", o.blur_kernel);
  if (o.max_sigma) given.emplace_back("max_sigma", number_in_words(*o.max_sigma));
  text("aggregate", o.aggregate);
  if (o.noise_sigma) given.emplace_back("noise_sigma", number_in_words(*o.noise_sigma));
  if (!o.false_classes.empty()) {
    std::string list;
    for (std::size_t j : o.false_classes) {
      if (!list.empty()) list.push_back(',');
      list.append(std::to_string(j));
    }
    given.emplace_back("false_classes", list);
  }
  text("inner_baseline", o.inner_baseline);
  return given;
}

namespace {

std::string flag_of(const std::string& name) {
  std::string flag = "--";
  for (char c : name) flag.push_back(c == '_' ? '-' : c);
  return flag;
}

}  // namespace

void check_method_options(const MethodInfo& info, const MethodOptions& options) {
  for (const auto& [name, value] : given_options(options)) {
    const auto taken = std::find_if(info.options.begin(), info.options.end(),
                                    [&](const MethodOption& o) { return o.name == name; });
    if (taken == info.options.end()) {
      std::string takers;
      for (const MethodInfo& m : method_catalogue())
        for (const MethodOption& o : m.options)
          if (o.name == name) takers += (takers.empty() ? "" : ", ") + m.name;
      throw ArgumentError("method '" + info.name + "' does not take " + flag_of(name) + " (methods that do: " +
                          takers + ")");
    }
    const auto& choices = taken->choices;  // empty: a free value (a number, a list)
    if (choices.empty() || std::any_of(choices.begin(), choices.end(), [&](const OptionChoice& c) { return c.value == value; }))
      continue;
    std::string known;
    for (const OptionChoice& c : choices) known += (known.empty() ? "" : ", ") + c.value;
    throw ArgumentError("method '" + info.name + "': " + flag_of(name) + " '" + value + "' is not one of " + known);
  }
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
  check_method_options(info, s.options);
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
