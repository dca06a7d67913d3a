// The path-integration core (see path_integral.hpp for the math).
//
// Straight lines (Sundararajan, Taly & Yan, "Axiomatic Attribution for Deep
// Networks", ICML 2017):  A_n = Δ_n ⊙ Σ_k w_k ∇f_n(x'_n + t_k Δ_n),  Δ_n = x_n − x'_n.
// The N·K path points are generated chunk by chunk (never all at once), so
// memory stays O(batch_size · example size) whatever N and K are.
//
// Polylines p_0 … p_S:  A = Σ_s ĝ_s ⊙ (p_{s+1} − p_s), with ĝ_s the gradient at
// p_s (left), at (p_s + p_{s+1})/2 (midpoint) or (∇f(p_s) + ∇f(p_{s+1}))/2
// (trapezoid).
#include "attribution/path_integral.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "attribution/baselines.hpp"
#include "attribution/chunked_evaluation.hpp"
#include "autodiff/errors.hpp"

namespace fluxion {

template <class T>
std::vector<double> completeness_gaps(const Tensor<T>& values, const std::vector<double>& changes) {
  const std::size_t n = changes.size(), per = n ? values.size() / n : 0;
  std::vector<double> gaps(n);
  for (std::size_t e = 0; e < n; ++e) {
    double total = 0;
    for (std::size_t i = 0; i < per; ++i) total += static_cast<double>(values.data()[e * per + i]);
    gaps[e] = std::fabs(total - changes[e]);
  }
  return gaps;
}

template <class T>
std::vector<double> output_values_in_double(const ExplainedOutput<T>& out, const Tensor<T>& x,
                                            const std::vector<std::size_t>& classes) {
  const Tensor<T> f = output_values(out, x, classes);
  std::vector<double> values(classes.size());
  for (std::size_t e = 0; e < classes.size(); ++e) values[e] = static_cast<double>(f(e));
  return values;
}

template <class T>
PathAttributions<T> with_completeness(const ExplainedOutput<T>& out, const Tensor<T>& x,
                                      const std::vector<std::size_t>& classes, Tensor<T> attributions,
                                      const std::vector<double>& reference_outputs) {
  PathAttributions<T> result;
  const std::vector<double> f_x = output_values_in_double(out, x, classes);
  for (std::size_t e = 0; e < classes.size(); ++e) result.output_changes.push_back(f_x[e] - reference_outputs[e]);
  result.completeness_gaps = completeness_gaps(attributions, result.output_changes);
  result.attributions = std::move(attributions);
  return result;
}

template <class T>
std::vector<double> mean_reference_outputs(const ExplainedOutput<T>& out, const Tensor<T>& references,
                                           const std::vector<std::size_t>& classes) {
  const std::size_t r = example_count(references, "mean_reference_outputs: references");
  std::map<std::size_t, double> mean_of_class;  // one pass over D per distinct class
  for (std::size_t c : classes) {
    if (mean_of_class.count(c)) continue;
    const Tensor<T> f = output_values(out, references, std::vector<std::size_t>(r, c));
    double total = 0;
    for (std::size_t i = 0; i < r; ++i) total += static_cast<double>(f(i));
    mean_of_class[c] = total / double(r);
  }
  std::vector<double> means;
  for (std::size_t c : classes) means.push_back(mean_of_class[c]);
  return means;
}

namespace {

void check_rule(const Quadrature& rule, const char* where) {
  if (rule.nodes.empty() || rule.nodes.size() != rule.weights.size())
    throw ArgumentError(std::string(where) + ": the quadrature rule '" + rule.name +
                        "' needs at least one node and one weight per node");
}

}  // namespace

template <class T>
PathAttributions<T> integrate_straight_lines(const ExplainedOutput<T>& out, const Tensor<T>& x,
                                             const Tensor<T>& baselines, const std::vector<std::size_t>& targets,
                                             const Quadrature& rule) {
  const std::size_t n = example_count(x, "integrate_straight_lines: x");
  check_rule(rule, "integrate_straight_lines");
  if (targets.size() != n)
    throw ArgumentError("integrate_straight_lines: " + std::to_string(targets.size()) + " targets for " +
                        std::to_string(n) + " examples");
  const Baselines<T> base(x, baselines, "integrate_straight_lines");
  const std::size_t d = x.size() / n, k = rule.nodes.size();

  // Σ_k w_k ∇f(x' + t_k Δ) per example; point p is node p % k of example p / k.
  Tensor<T> weighted = filled<T>(shape_of(x), T(0));
  auto point = [&](std::size_t p, T* dst) {
    const std::size_t e = p / k;
    const T t = static_cast<T>(rule.nodes[p % k]);
    const T* xe = x.data() + e * d;
    const T* be = base.row(e);
    for (std::size_t i = 0; i < d; ++i) dst[i] = be[i] + t * (xe[i] - be[i]);
    return targets[e];
  };
  auto accumulate = [&](std::size_t p, const T* g) {
    const T w = static_cast<T>(rule.weights[p % k]);
    T* acc = weighted.data() + (p / k) * d;
    for (std::size_t i = 0; i < d; ++i) acc[i] += w * g[i];
  };
  gradients_in_chunks<T>(out, example_shape(x), n * k, point, accumulate);

  Tensor<T> attributions = Tensor<T>::from_shape(shape_of(x));
  for (std::size_t e = 0; e < n; ++e) {
    const T* xe = x.data() + e * d;
    const T* be = base.row(e);
    T* a = attributions.data() + e * d;
    for (std::size_t i = 0; i < d; ++i) a[i] = (xe[i] - be[i]) * weighted.data()[e * d + i];
  }
  PathAttributions<T> result =
      with_completeness(out, x, targets, std::move(attributions), output_values_in_double(out, base.rows(), targets));
  result.gradient_evaluations = n * k;
  return result;
}

// One example = a batch of one.
template <class T>
PathAttribution<T> integrate_straight_line(const ExplainedOutput<T>& out, const Tensor<T>& x,
                                           const Tensor<T>& baseline, std::size_t target, const Quadrature& rule) {
  if (shape_of(x) != shape_of(baseline))
    throw ShapeError("integrate_straight_line: baseline " + shape_str(shape_of(baseline)) + " differs from input " +
                     shape_str(shape_of(x)));
  Shape batched = shape_of(x);
  batched.insert(batched.begin(), 1);
  Tensor<T> xb = x;
  xb.reshape(batched);
  PathAttributions<T> many = integrate_straight_lines(out, xb, baseline, {target}, rule);
  PathAttribution<T> one;
  one.attribution = many.attributions;
  one.attribution.reshape(shape_of(x));
  one.output_change = many.output_changes[0];
  one.completeness_gap = many.completeness_gaps[0];
  one.gradient_evaluations = many.gradient_evaluations;
  return one;
}

template <class T>
PathAttribution<T> integrate_polyline(const ExplainedOutput<T>& out, const Tensor<T>& points, std::size_t target,
                                      SegmentRule rule) {
  const std::size_t count = example_count(points, "integrate_polyline: points");
  if (count < 2)
    throw ShapeError("integrate_polyline: a path needs at least 2 points, got " + shape_str(shape_of(points)));
  const std::size_t segments = count - 1, d = points.size() / count;
  const T* p = points.data();

  // The points whose gradients the rule needs.
  Tensor<T> where;
  if (rule == SegmentRule::left) {
    where = take_examples(points, 0, segments);
  } else if (rule == SegmentRule::midpoint) {
    Shape s = shape_of(points);
    s[0] = segments;
    where = Tensor<T>::from_shape(s);
    for (std::size_t i = 0; i < segments * d; ++i) where.data()[i] = (p[i] + p[i + d]) / T(2);
  } else {
    where = points;
  }
  const std::size_t evaluated = where.shape()[0];
  const Tensor<T> g = output_gradients(out, where, std::vector<std::size_t>(evaluated, target));

  PathAttribution<T> result;
  result.attribution = filled<T>(example_shape(points), T(0));
  T* a = result.attribution.data();
  for (std::size_t s = 0; s < segments; ++s) {
    const T* gs = g.data() + s * d;
    const T* gnext = rule == SegmentRule::trapezoid ? g.data() + (s + 1) * d : gs;
    for (std::size_t i = 0; i < d; ++i) {
      const T step = p[(s + 1) * d + i] - p[s * d + i];
      a[i] += (gs[i] + gnext[i]) / T(2) * step;
    }
  }
  Shape two = shape_of(points);
  two[0] = 2;
  Tensor<T> ends = Tensor<T>::from_shape(two);  // [p_0, p_S]
  std::copy(p, p + d, ends.data());
  std::copy(p + segments * d, p + count * d, ends.data() + d);
  const std::vector<double> f = output_values_in_double(out, ends, {target, target});
  result.output_change = f[1] - f[0];
  result.completeness_gap = completeness_gaps(result.attribution, {result.output_change})[0];
  result.gradient_evaluations = evaluated;
  return result;
}

#define FLUXION_INSTANTIATE(T)                                                                                 \
  template std::vector<double> completeness_gaps(const Tensor<T>&, const std::vector<double>&);               \
  template std::vector<double> output_values_in_double(const ExplainedOutput<T>&, const Tensor<T>&,           \
                                                       const std::vector<std::size_t>&);                      \
  template PathAttributions<T> with_completeness(const ExplainedOutput<T>&, const Tensor<T>&,                  \
                                                 const std::vector<std::size_t>&, Tensor<T>,                   \
                                                 const std::vector<double>&);                                  \
  template std::vector<double> mean_reference_outputs(const ExplainedOutput<T>&, const Tensor<T>&,            \
                                                      const std::vector<std::size_t>&);                       \
  template PathAttributions<T> integrate_straight_lines(const ExplainedOutput<T>&, const Tensor<T>&,            \
                                                        const Tensor<T>&, const std::vector<std::size_t>&,      \
                                                        const Quadrature&);                                    \
  template PathAttribution<T> integrate_straight_line(const ExplainedOutput<T>&, const Tensor<T>&,              \
                                                      const Tensor<T>&, std::size_t, const Quadrature&);       \
  template PathAttribution<T> integrate_polyline(const ExplainedOutput<T>&, const Tensor<T>&, std::size_t,      \
                                                 SegmentRule);
FLUXION_INSTANTIATE(float)
FLUXION_INSTANTIATE(double)
#undef FLUXION_INSTANTIATE

}  // namespace fluxion
