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

#include "autodiff/errors.hpp"

namespace fluxion {

namespace {

// Σ_i a_i in double, whatever T is.
template <class T>
double total(const T* a, std::size_t count) {
  double s = 0;
  for (std::size_t i = 0; i < count; ++i) s += static_cast<double>(a[i]);
  return s;
}

void check_rule(const Quadrature& rule, const char* where) {
  if (rule.nodes.empty() || rule.nodes.size() != rule.weights.size())
    throw InputError(std::string(where) + ": the quadrature rule '" + rule.name +
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
    throw InputError("integrate_straight_lines: " + std::to_string(targets.size()) + " targets for " +
                     std::to_string(n) + " examples");
  const Shape one = example_shape(x);
  const bool shared_baseline = shape_of(baselines) == one;
  if (!shared_baseline && shape_of(baselines) != shape_of(x))
    throw ShapeError("integrate_straight_lines: baseline " + shape_str(shape_of(baselines)) + " must be " +
                     shape_str(shape_of(x)) + " or one example " + shape_str(one));

  const std::size_t d = numel_of(one), k = rule.nodes.size();
  auto baseline_of = [&](std::size_t e) { return baselines.data() + (shared_baseline ? 0 : e * d); };

  // Σ_k w_k ∇f(x' + t_k Δ) per example, accumulated over chunks of path points.
  Tensor<T> weighted = filled<T>(shape_of(x), T(0));
  const std::size_t points = n * k, chunk = std::max<std::size_t>(out.batch_size, 1);
  Shape chunk_shape = one;
  chunk_shape.insert(chunk_shape.begin(), 0);
  for (std::size_t start = 0; start < points; start += chunk) {
    const std::size_t count = std::min(chunk, points - start);
    chunk_shape[0] = count;
    Tensor<T> path = Tensor<T>::from_shape(chunk_shape);
    std::vector<std::size_t> chunk_targets(count);
    for (std::size_t p = 0; p < count; ++p) {
      const std::size_t e = (start + p) / k, node = (start + p) % k;
      const T t = static_cast<T>(rule.nodes[node]);
      const T* xe = x.data() + e * d;
      const T* be = baseline_of(e);
      T* dst = path.data() + p * d;
      for (std::size_t i = 0; i < d; ++i) dst[i] = be[i] + t * (xe[i] - be[i]);
      chunk_targets[p] = targets[e];
    }
    Tensor<T> g = output_gradients(out, path, chunk_targets);
    for (std::size_t p = 0; p < count; ++p) {
      const std::size_t e = (start + p) / k, node = (start + p) % k;
      const T w = static_cast<T>(rule.weights[node]);
      T* acc = weighted.data() + e * d;
      const T* gp = g.data() + p * d;
      for (std::size_t i = 0; i < d; ++i) acc[i] += w * gp[i];
    }
  }

  PathAttributions<T> result;
  result.attributions = Tensor<T>::from_shape(shape_of(x));
  for (std::size_t e = 0; e < n; ++e) {
    const T* xe = x.data() + e * d;
    const T* be = baseline_of(e);
    T* a = result.attributions.data() + e * d;
    for (std::size_t i = 0; i < d; ++i) a[i] = (xe[i] - be[i]) * weighted.data()[e * d + i];
  }

  Tensor<T> start_points = shared_baseline ? Tensor<T>::from_shape(shape_of(x)) : baselines;
  if (shared_baseline)
    for (std::size_t e = 0; e < n; ++e) std::copy(baselines.data(), baselines.data() + d, start_points.data() + e * d);
  const Tensor<T> f_end = output_values(out, x, targets);
  const Tensor<T> f_start = output_values(out, start_points, targets);
  for (std::size_t e = 0; e < n; ++e) {
    const double change = static_cast<double>(f_end(e)) - static_cast<double>(f_start(e));
    result.output_changes.push_back(change);
    result.completeness_gaps.push_back(std::fabs(total(result.attributions.data() + e * d, d) - change));
  }
  result.gradient_evaluations = points;
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
  const Tensor<T> f = output_values(out, ends, {target, target});
  result.output_change = static_cast<double>(f(1)) - static_cast<double>(f(0));
  result.completeness_gap = std::fabs(total(a, d) - result.output_change);
  result.gradient_evaluations = evaluated;
  return result;
}

#define FLUXION_INSTANTIATE(T)                                                                                 \
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
