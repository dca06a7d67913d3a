// Expected Hessians: Monte Carlo terms fed to the interaction engine (interaction_core.hpp)
// (see expected_hessians.hpp).
#include "attribution/expected_hessians.hpp"

#include <random>

#include "autodiff/errors.hpp"

namespace fluxion {

namespace {

template <class T>
Tensor<T> eh_sum(const ExplainedOutput<T>& out, const Tensor<T>& x, const std::vector<std::size_t>& classes,
                 const Tensor<T>& references, const ExpectedHessiansOptions& options, InteractionPart part,
                 std::size_t row) {
  if (options.samples == 0) throw ArgumentError("expected hessians: samples must be at least 1");
  const std::size_t n = example_count(x, "expected hessians: x");
  const std::size_t r = example_count(references, "expected hessians: references");
  const std::size_t m = options.samples;
  std::mt19937_64 rng(options.seed);
  std::uniform_int_distribution<std::size_t> pick(0, r - 1);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  std::size_t next = 0;
  auto term = [&]() {
    const std::size_t e = next / m;
    ++next;
    const std::size_t reference = pick(rng);
    const double alpha = uniform(rng), beta = uniform(rng);
    if (!options.fresh_inner_baseline) return InteractionTerm{e, reference, alpha * beta, 1.0 / double(m)};
    const std::size_t inner = pick(rng);  // path_explain torch: x'' drawn apart from x'
    return InteractionTerm{e, reference, alpha, 1.0 / double(m), inner, beta};
  };
  return interaction_sum(out, x, classes, references, n * m, term, part, row, options.directions_per_sweep);
}

// f(x_n) − E_D f(x') per example.
template <class T>
std::vector<double> changes_from_mean_reference(const ExplainedOutput<T>& out, const Tensor<T>& x,
                                                const Tensor<T>& references, const std::vector<std::size_t>& classes) {
  const std::vector<double> f_x = output_values_in_double(out, x, classes);
  const std::vector<double> f_ref = mean_reference_outputs(out, references, classes);
  std::vector<double> changes(classes.size());
  for (std::size_t e = 0; e < classes.size(); ++e) changes[e] = f_x[e] - f_ref[e];
  return changes;
}

}  // namespace

template <class T>
InteractionAttributions<T> expected_hessians(const ExplainedOutput<T>& out, const Tensor<T>& x,
                                             const Tensor<T>& references, const std::vector<std::size_t>& targets,
                                             const ExpectedHessiansOptions& options) {
  const std::vector<std::size_t> classes = resolve_targets(out, x, targets);
  InteractionAttributions<T> result;
  result.interactions = eh_sum(out, x, classes, references, options, InteractionPart::full, 0);
  result.output_changes = changes_from_mean_reference(out, x, references, classes);
  result.completeness_gaps = completeness_gaps(result.interactions, result.output_changes);
  return result;
}

template <class T>
Tensor<T> expected_hessians_row(const ExplainedOutput<T>& out, const Tensor<T>& x, const Tensor<T>& references,
                                std::size_t interaction_index, const std::vector<std::size_t>& targets,
                                const ExpectedHessiansOptions& options) {
  return eh_sum(out, x, resolve_targets(out, x, targets), references, options, InteractionPart::row,
                interaction_index);
}

template <class T>
PathAttributions<T> expected_hessians_row_sums(const ExplainedOutput<T>& out, const Tensor<T>& x,
                                               const Tensor<T>& references, const std::vector<std::size_t>& targets,
                                               const ExpectedHessiansOptions& options) {
  const std::vector<std::size_t> classes = resolve_targets(out, x, targets);
  PathAttributions<T> result;
  result.attributions = eh_sum(out, x, classes, references, options, InteractionPart::row_sums, 0);
  result.output_changes = changes_from_mean_reference(out, x, references, classes);
  result.completeness_gaps = completeness_gaps(result.attributions, result.output_changes);
  result.gradient_evaluations = classes.size() * options.samples;
  return result;
}

#define FLUXION_INSTANTIATE(T)                                                                                  \
  template InteractionAttributions<T> expected_hessians(const ExplainedOutput<T>&, const Tensor<T>&,            \
                                                        const Tensor<T>&, const std::vector<std::size_t>&,      \
                                                        const ExpectedHessiansOptions&);                        \
  template Tensor<T> expected_hessians_row(const ExplainedOutput<T>&, const Tensor<T>&, const Tensor<T>&,       \
                                           std::size_t, const std::vector<std::size_t>&,                        \
                                           const ExpectedHessiansOptions&);                                     \
  template PathAttributions<T> expected_hessians_row_sums(const ExplainedOutput<T>&, const Tensor<T>&,          \
                                                          const Tensor<T>&, const std::vector<std::size_t>&,    \
                                                          const ExpectedHessiansOptions&);
FLUXION_INSTANTIATE(float)
FLUXION_INSTANTIATE(double)
#undef FLUXION_INSTANTIATE

}  // namespace fluxion
