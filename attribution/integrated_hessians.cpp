// Integrated Hessians: the nodes of a ∫(−ln t) g(t) dt rule on one baseline,
// summed by the interaction engine (interaction_core.hpp; the math and the
// cost of each output are in integrated_hessians.hpp).
#include "attribution/integrated_hessians.hpp"

#include "attribution/baselines.hpp"
#include "autodiff/errors.hpp"

namespace fluxion {

Quadrature interaction_rule(const std::string& name, int points) {
  if (name == "log_weighted") return make_quadrature("log_weighted", points);
  if (name == "paper_grid") {
    if (points < 2 || points > 1000)
      throw ArgumentError("integrated hessians: paper_grid needs 2 <= k <= 1000 points per axis, got " +
                          std::to_string(points));
    return ih_paper_grid(points);
  }
  if (name == "path_explain_tf_grid") return path_explain_tf_grid(points);
  throw ArgumentError("integrated hessians: unknown rule '" + name +
                      "' (expected log_weighted, paper_grid or path_explain_tf_grid)");
}

namespace {

// The terms of IH: for each example e, each node k of the rule, on e's baseline.
template <class T>
Tensor<T> ih_sum(const ExplainedOutput<T>& out, const Tensor<T>& x, const std::vector<std::size_t>& classes,
                 const Baselines<T>& base, const Quadrature& rule, InteractionPart part, std::size_t row,
                 std::size_t directions) {
  const std::size_t n = x.shape()[0], k = rule.nodes.size();
  std::size_t next = 0;
  auto term = [&]() {
    const std::size_t e = next / k, node = next % k;
    ++next;
    return InteractionTerm{e, base.index(e), rule.nodes[node], rule.weights[node]};
  };
  return interaction_sum(out, x, classes, base.references(), n * k, term, part, row, directions);
}

// f(x_n) − f(x'_n) per example.
template <class T>
std::vector<double> output_changes(const ExplainedOutput<T>& out, const Tensor<T>& x,
                                   const std::vector<std::size_t>& classes, const Baselines<T>& base) {
  const std::vector<double> f_x = output_values_in_double(out, x, classes);
  const std::vector<double> f_b = output_values_in_double(out, base.rows(), classes);
  std::vector<double> changes(f_x.size());
  for (std::size_t e = 0; e < f_x.size(); ++e) changes[e] = f_x[e] - f_b[e];
  return changes;
}

}  // namespace

template <class T>
InteractionAttributions<T> integrated_hessians(const ExplainedOutput<T>& out, const Tensor<T>& x,
                                               const std::vector<std::size_t>& targets,
                                               const IntegratedHessiansOptions<T>& options) {
  const Quadrature rule = interaction_rule(options.rule, options.points);
  example_count(x, "integrated hessians: x");
  const Baselines<T> base(x, options.baseline, "integrated hessians");
  const std::vector<std::size_t> classes = resolve_targets(out, x, targets);
  InteractionAttributions<T> result;
  result.interactions =
      ih_sum(out, x, classes, base, rule, InteractionPart::full, 0, options.directions_per_sweep);
  result.output_changes = output_changes(out, x, classes, base);
  result.completeness_gaps = completeness_gaps(result.interactions, result.output_changes);
  return result;
}

template <class T>
Tensor<T> integrated_hessians_row(const ExplainedOutput<T>& out, const Tensor<T>& x, std::size_t interaction_index,
                                  const std::vector<std::size_t>& targets,
                                  const IntegratedHessiansOptions<T>& options) {
  const Quadrature rule = interaction_rule(options.rule, options.points);
  example_count(x, "integrated hessians: x");
  const Baselines<T> base(x, options.baseline, "integrated hessians");
  return ih_sum(out, x, resolve_targets(out, x, targets), base, rule, InteractionPart::row, interaction_index,
                options.directions_per_sweep);
}

template <class T>
PathAttributions<T> integrated_hessians_row_sums(const ExplainedOutput<T>& out, const Tensor<T>& x,
                                                 const std::vector<std::size_t>& targets,
                                                 const IntegratedHessiansOptions<T>& options) {
  const Quadrature rule = interaction_rule(options.rule, options.points);
  const std::size_t n = example_count(x, "integrated hessians: x");
  const Baselines<T> base(x, options.baseline, "integrated hessians");
  const std::vector<std::size_t> classes = resolve_targets(out, x, targets);
  PathAttributions<T> result;
  result.attributions = ih_sum(out, x, classes, base, rule, InteractionPart::row_sums, 0, 1);
  result.output_changes = output_changes(out, x, classes, base);
  result.completeness_gaps = completeness_gaps(result.attributions, result.output_changes);
  result.gradient_evaluations = n * rule.nodes.size();
  return result;
}

#define FLUXION_INSTANTIATE(T)                                                                                   \
  template InteractionAttributions<T> integrated_hessians(const ExplainedOutput<T>&, const Tensor<T>&,            \
                                                          const std::vector<std::size_t>&,                        \
                                                          const IntegratedHessiansOptions<T>&);                   \
  template Tensor<T> integrated_hessians_row(const ExplainedOutput<T>&, const Tensor<T>&, std::size_t,            \
                                             const std::vector<std::size_t>&, const IntegratedHessiansOptions<T>&); \
  template PathAttributions<T> integrated_hessians_row_sums(const ExplainedOutput<T>&, const Tensor<T>&,          \
                                                            const std::vector<std::size_t>&,                      \
                                                            const IntegratedHessiansOptions<T>&);
FLUXION_INSTANTIATE(float)
FLUXION_INSTANTIATE(double)
#undef FLUXION_INSTANTIATE

}  // namespace fluxion
