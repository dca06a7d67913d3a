// Axiom gaps (see axioms.hpp).
#include "attribution/axioms.hpp"

#include <algorithm>
#include <cmath>

#include "attribution/path_integral.hpp"
#include "autodiff/errors.hpp"

namespace fluxion {

namespace {

template <class T>
double max_abs_difference(const Tensor<T>& a, const Tensor<T>& b, const char* where) {
  if (shape_of(a) != shape_of(b))
    throw ShapeError(std::string(where) + ": attribution shapes " + shape_str(shape_of(a)) + " and " +
                     shape_str(shape_of(b)) + " differ");
  double gap = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    gap = std::max(gap, std::fabs(static_cast<double>(a.data()[i]) - static_cast<double>(b.data()[i])));
  return gap;
}

// [N, d, d] → (N, d), ShapeError otherwise.
template <class T>
std::pair<std::size_t, std::size_t> square_batch(const Tensor<T>& gamma, const char* where) {
  if (gamma.dimension() != 3 || gamma.shape()[1] != gamma.shape()[2])
    throw ShapeError(std::string(where) + ": interactions must be [N, d, d], got " + shape_str(shape_of(gamma)));
  return {gamma.shape()[0], gamma.shape()[1]};
}

}  // namespace

template <class T>
double completeness_gap(const Tensor<T>& attributions, const std::vector<double>& output_changes) {
  const std::size_t n = output_changes.size();
  if (n == 0 || attributions.dimension() == 0 || attributions.shape()[0] != n)
    throw ShapeError("completeness_gap: " + std::to_string(n) + " output changes for attributions " +
                     shape_str(shape_of(attributions)));
  double gap = 0;
  for (double g : completeness_gaps(attributions, output_changes)) gap = std::max(gap, g);
  return gap;
}

template <class T>
double interaction_completeness_gap(const Tensor<T>& interactions, const std::vector<double>& output_changes) {
  square_batch(interactions, "interaction_completeness_gap");
  return completeness_gap(interactions, output_changes);
}

template <class T>
double row_completeness_gap(const Tensor<T>& interactions, const Tensor<T>& attributions) {
  const auto [n, d] = square_batch(interactions, "row_completeness_gap");
  if (attributions.size() != n * d)
    throw ShapeError("row_completeness_gap: attributions " + shape_str(shape_of(attributions)) +
                     " do not match interactions " + shape_str(shape_of(interactions)));
  double gap = 0;
  for (std::size_t e = 0; e < n; ++e)
    for (std::size_t i = 0; i < d; ++i) {
      double row = 0;
      for (std::size_t j = 0; j < d; ++j) row += static_cast<double>(interactions(e, i, j));
      gap = std::max(gap, std::fabs(row - static_cast<double>(attributions.data()[e * d + i])));
    }
  return gap;
}

template <class T>
double interaction_symmetry_gap(const Tensor<T>& interactions) {
  const auto [n, d] = square_batch(interactions, "interaction_symmetry_gap");
  double gap = 0;
  for (std::size_t e = 0; e < n; ++e)
    for (std::size_t i = 0; i < d; ++i)
      for (std::size_t j = i + 1; j < d; ++j)
        gap = std::max(gap, std::fabs(static_cast<double>(interactions(e, i, j)) -
                                      static_cast<double>(interactions(e, j, i))));
  return gap;
}

template <class T>
double self_completeness_gap(const AttributionMethod<T>& method, const ExplainedOutput<T>& out, const Tensor<T>& x,
                             const Tensor<T>& baseline, std::size_t target, std::size_t feature) {
  if (shape_of(x) != shape_of(baseline))
    throw ShapeError("self_completeness_gap: input " + shape_str(shape_of(x)) + " and baseline " +
                     shape_str(shape_of(baseline)) + " differ");
  if (feature >= x.size())
    throw ArgumentError("self_completeness_gap: feature " + std::to_string(feature) + " is out of range for " +
                        std::to_string(x.size()) + " features");
  Shape batched = shape_of(x);
  batched.insert(batched.begin(), 1);
  Tensor<T> single = baseline;
  single.data()[feature] = x.data()[feature];
  single.reshape(batched);
  Tensor<T> start = baseline;
  start.reshape(batched);
  const Tensor<T> a = method(out, single, {target});
  if (a.size() != x.size())
    throw ShapeError("self_completeness_gap: the method returned " + shape_str(shape_of(a)) +
                     ", expected one attribution per feature");
  const double change = static_cast<double>(output_values(out, single, {target})(0)) -
                        static_cast<double>(output_values(out, start, {target})(0));
  double gap = std::fabs(static_cast<double>(a.data()[feature]) - change);
  for (std::size_t j = 0; j < a.size(); ++j)
    if (j != feature) gap = std::max(gap, std::fabs(static_cast<double>(a.data()[j])));
  return gap;
}

template <class T>
double dummy_feature_gap(const AttributionMethod<T>& method, const ExplainedOutput<T>& out, const Tensor<T>& x,
                         const std::vector<std::size_t>& targets, const std::vector<std::size_t>& ignored) {
  const std::size_t n = example_count(x, "dummy_feature_gap: x");
  const std::size_t d = x.size() / n;
  for (std::size_t i : ignored)
    if (i >= d)
      throw ArgumentError("dummy_feature_gap: feature " + std::to_string(i) + " is out of range for " +
                          std::to_string(d) + " features");
  const Tensor<T> a = method(out, x, targets);
  const bool matrix = a.size() == n * d * d && a.dimension() == 3;
  if (!matrix && a.size() != n * d)
    throw ShapeError("dummy_feature_gap: the method returned " + shape_str(shape_of(a)) + " for inputs " +
                     shape_str(shape_of(x)));
  double gap = 0;
  for (std::size_t e = 0; e < n; ++e)
    for (std::size_t i : ignored) {
      if (!matrix) {
        gap = std::max(gap, std::fabs(static_cast<double>(a.data()[e * d + i])));
        continue;
      }
      for (std::size_t j = 0; j < d; ++j)
        gap = std::max({gap, std::fabs(static_cast<double>(a(e, i, j))), std::fabs(static_cast<double>(a(e, j, i)))});
    }
  return gap;
}

template <class T>
double implementation_invariance_gap(const AttributionMethod<T>& method, const ExplainedOutput<T>& first,
                                     const ExplainedOutput<T>& second, const Tensor<T>& x,
                                     const std::vector<std::size_t>& targets) {
  return max_abs_difference(method(first, x, targets), method(second, x, targets), "implementation_invariance_gap");
}

template <class T>
double linearity_gap(const AttributionMethod<T>& method, const ExplainedOutput<T>& f, const ExplainedOutput<T>& g,
                     double a, double b, const Tensor<T>& x, const std::vector<std::size_t>& targets) {
  if (f.kind != OutputKind::logit || g.kind != OutputKind::logit)
    throw ArgumentError("linearity_gap: linearity holds for logits only; softmax probabilities are not linear");
  if (targets.empty()) throw ArgumentError("linearity_gap: give the target classes explicitly");
  ExplainedOutput<T> mix = f;
  const Function<T> fm = f.model, gm = g.model;
  const T ca = static_cast<T>(a), cb = static_cast<T>(b);
  mix.model = [fm, gm, ca, cb](const Var<T>& v) { return add(scale(fm(v), ca), scale(gm(v), cb)); };
  const Tensor<T> af = method(f, x, targets), ag = method(g, x, targets);
  Tensor<T> combined = ca * af + cb * ag;
  return max_abs_difference(method(mix, x, targets), combined, "linearity_gap");
}

#define FLUXION_INSTANTIATE(T)                                                                                   \
  template double completeness_gap(const Tensor<T>&, const std::vector<double>&);                              \
  template double interaction_completeness_gap(const Tensor<T>&, const std::vector<double>&);                  \
  template double row_completeness_gap(const Tensor<T>&, const Tensor<T>&);                                    \
  template double interaction_symmetry_gap(const Tensor<T>&);                                                  \
  template double self_completeness_gap(const AttributionMethod<T>&, const ExplainedOutput<T>&, const Tensor<T>&, \
                                        const Tensor<T>&, std::size_t, std::size_t);                           \
  template double dummy_feature_gap(const AttributionMethod<T>&, const ExplainedOutput<T>&, const Tensor<T>&,    \
                                    const std::vector<std::size_t>&, const std::vector<std::size_t>&);         \
  template double implementation_invariance_gap(const AttributionMethod<T>&, const ExplainedOutput<T>&,          \
                                                const ExplainedOutput<T>&, const Tensor<T>&,                    \
                                                const std::vector<std::size_t>&);                               \
  template double linearity_gap(const AttributionMethod<T>&, const ExplainedOutput<T>&, const ExplainedOutput<T>&, \
                                double, double, const Tensor<T>&, const std::vector<std::size_t>&);
FLUXION_INSTANTIATE(float)
FLUXION_INSTANTIATE(double)
#undef FLUXION_INSTANTIATE

}  // namespace fluxion
