// The walk integrator (see walk_integral.hpp for the sums it forms).
#include "attribution/walk_integral.hpp"

#include <algorithm>

#include "autodiff/errors.hpp"

namespace fluxion {

template <class T>
Tensor<T> gather_rows(const Tensor<T>& x, const std::vector<std::size_t>& which) {
  Shape s = shape_of(x);
  const std::size_t d = x.size() / s[0];
  s[0] = which.size();
  Tensor<T> rows = Tensor<T>::from_shape(s);
  for (std::size_t r = 0; r < which.size(); ++r)
    std::copy(x.data() + which[r] * d, x.data() + (which[r] + 1) * d, rows.data() + r * d);
  return rows;
}

template <class T>
Tensor<T> repeat_examples(const Tensor<T>& x, std::size_t walks_per_example) {
  const std::size_t n = example_count(x, "repeat_examples: x"), d = x.size() / n;
  Shape s = shape_of(x);
  s[0] = n * walks_per_example;
  Tensor<T> rows = Tensor<T>::from_shape(s);
  for (std::size_t r = 0; r < s[0]; ++r) {
    const std::size_t e = r / walks_per_example;
    std::copy(x.data() + e * d, x.data() + (e + 1) * d, rows.data() + r * d);
  }
  return rows;
}

template <class T>
WalkAttributions<T> integrate_walks(const ExplainedOutput<T>& out, const Tensor<T>& x,
                                    const std::vector<std::size_t>& classes, const WalkRule<T>& rule) {
  const std::size_t n = example_count(x, "integrate_walks: x"), d = x.size() / n, W = rule.walks_per_example;
  if (rule.rule == SegmentRule::midpoint)
    throw ArgumentError("integrate_walks: the midpoint rule is not offered (its points are off the path); "
                        "use left or trapezoid");
  Shape rows_shape = shape_of(x);
  rows_shape[0] = n * W;
  if (W == 0 || shape_of(rule.starts) != rows_shape)
    throw ShapeError("integrate_walks: starts " + shape_str(shape_of(rule.starts)) + " must hold " +
                     std::to_string(W) + " walks per example of " + shape_str(shape_of(x)));
  const std::size_t rows_total = n * W;
  const bool trapezoid = rule.rule == SegmentRule::trapezoid;
  const bool to_input = rule.direction == WalkDirection::to_input;
  std::vector<std::size_t> row_classes(rows_total);
  for (std::size_t r = 0; r < rows_total; ++r) row_classes[r] = classes[r / W];

  Tensor<T> z = rule.starts;
  Tensor<T> row_attributions = filled<T>(shape_of(z), T(0));
  Tensor<T> previous_move = filled<T>(shape_of(z), T(0));  // Δz_{k−1} per row, for the trapezoid
  std::vector<char> walking(rows_total, 1);
  std::size_t evaluations = 0;
  for (int k = 0; k < rule.steps; ++k) {
    std::vector<std::size_t> rows;
    for (std::size_t r = 0; r < rows_total; ++r)
      if (walking[r]) rows.push_back(r);
    if (rows.empty()) break;
    if (rule.arrived) {
      const std::vector<char> arrived = rule.arrived(rows, gather_rows(z, rows));
      std::vector<std::size_t> still;
      for (std::size_t j = 0; j < rows.size(); ++j) {
        if (arrived[j]) walking[rows[j]] = 0;
        else still.push_back(rows[j]);
      }
      rows = std::move(still);
      if (rows.empty()) break;
    }

    const Tensor<T> points = gather_rows(z, rows);
    std::vector<std::size_t> walking_classes(rows.size());
    for (std::size_t j = 0; j < rows.size(); ++j) walking_classes[j] = row_classes[rows[j]];
    const Tensor<T> g = output_gradients(out, points, walking_classes);
    evaluations += rows.size();
    WalkStep<T> step(k, rows, points, g, z.data(), row_attributions.data(), d, !trapezoid, to_input);
    rule.step(step);

    if (trapezoid)  // A += ∇f(z_k) ⊙ (Δz_{k−1} + Δz_k)/2 with this step's net move Δz_k
      for (std::size_t j = 0; j < rows.size(); ++j) {
        const T* before = points.data() + j * d;
        const T* after = z.data() + rows[j] * d;
        const T* gj = g.data() + j * d;
        T* a = row_attributions.data() + rows[j] * d;
        T* back = previous_move.data() + rows[j] * d;
        for (std::size_t i = 0; i < d; ++i) {
          const T move = to_input ? after[i] - before[i] : before[i] - after[i];
          a[i] += gj[i] * (back[i] + move) / T(2);
          back[i] = move;
        }
      }
  }
  if (trapezoid) {  // the second half of the last segment: ∇f(z_K)/2 ⊙ Δz_{K−1}
    const Tensor<T> g = output_gradients(out, z, row_classes);
    evaluations += rows_total;
    for (std::size_t i = 0; i < rows_total * d; ++i)
      row_attributions.data()[i] += g.data()[i] * previous_move.data()[i] / T(2);
  }

  // A_e = (1/W) Σ_w A_{e·W+w}; the reference output is the mean over the W starts (to) or ends (from).
  Tensor<T> attributions = filled<T>(shape_of(x), T(0));
  const Tensor<T> f_reference = output_values(out, to_input ? rule.starts : z, row_classes);
  std::vector<double> mean_reference(n, 0.0);
  for (std::size_t e = 0; e < n; ++e) {
    T* a = attributions.data() + e * d;
    for (std::size_t w = 0; w < W; ++w) {
      const T* aw = row_attributions.data() + (e * W + w) * d;
      for (std::size_t i = 0; i < d; ++i) a[i] += aw[i] / static_cast<T>(W);
      mean_reference[e] += static_cast<double>(f_reference(e * W + w)) / static_cast<double>(W);
    }
  }
  WalkAttributions<T> result;
  result.paths = with_completeness(out, x, classes, std::move(attributions), mean_reference);
  result.paths.gradient_evaluations = evaluations;
  result.ends = std::move(z);
  return result;
}

#define FLUXION_INSTANTIATE(T)                                                                                 \
  template Tensor<T> gather_rows(const Tensor<T>&, const std::vector<std::size_t>&);                          \
  template Tensor<T> repeat_examples(const Tensor<T>&, std::size_t);                                           \
  template WalkAttributions<T> integrate_walks(const ExplainedOutput<T>&, const Tensor<T>&,                    \
                                               const std::vector<std::size_t>&, const WalkRule<T>&);
FLUXION_INSTANTIATE(float)
FLUXION_INSTANTIATE(double)
#undef FLUXION_INSTANTIATE

}  // namespace fluxion
