// IG2 (Zhuo & Ge, TPAMI 2024) — see ig2.hpp for GradPath, GradCF and the sum.
// The N·B paths (example, reference) are walks from the input
// (walk_integral.hpp), which integrates ∇f(z); this file is their step rule,
// steered by the second oracle ∇‖h(z) − h(r)‖² (where to go).
#include "attribution/ig2.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "attribution/sampling.hpp"
#include "attribution/walk_integral.hpp"
#include "autodiff/errors.hpp"

namespace fluxion {

template <class T>
Function<T> SplitModel<T>::model() const {
  Function<T> h = features, g = head;
  return [h, g](const Var<T>& x) { return g(h(x)); };
}

namespace {

void check_options(const IG2Options& o) {
  if (o.steps < 1) throw ArgumentError("ig2: steps must be >= 1, got " + std::to_string(o.steps));
  if (!(o.step_size > 0) || !std::isfinite(o.step_size))
    throw ArgumentError("ig2: step_size must be a finite number > 0, got " + std::to_string(o.step_size));
  if (!(o.lo < o.hi))
    throw ArgumentError("ig2: the input box needs lo < hi, got [" + std::to_string(o.lo) + ", " + std::to_string(o.hi) + "]");
  if (!(o.eps > 0)) throw ArgumentError("ig2: eps must be > 0");
  if (o.rule == SegmentRule::midpoint)
    throw ArgumentError("ig2: the midpoint rule is not offered (its points are off the path); use left or trapezoid");
}

/// h(rows) for every row of z, without a graph, chunk by chunk.
template <class T>
Tensor<T> representations(const Function<T>& features, const Tensor<T>& z, std::size_t batch) {
  const std::size_t rows = z.shape()[0];
  NoGradGuard inference;
  Tensor<T> all;
  for (std::size_t start = 0; start < rows; start += batch) {
    const std::size_t count = std::min(batch, rows - start);
    const Var<T> h = features(Var<T>(take_examples(z, start, count)));
    if (h.rank() == 0 || h.shape()[0] != count)
      throw ShapeError("ig2: features must map " + std::to_string(count) + " examples to [" + std::to_string(count) +
                       ", ...], got " + shape_str(h.shape()));
    if (start == 0) {
      Shape s = h.shape();
      s[0] = rows;
      all = Tensor<T>::from_shape(s);
    }
    std::copy(h.value().data(), h.value().data() + h.numel(), all.data() + start * (all.size() / rows));
  }
  return all;
}

/// ∇_z ‖h(z_p) − hr_p‖² for every row p (rows are independent, so one reverse
/// sweep of the summed distance per chunk gives them all).
template <class T>
Tensor<T> counterfactual_gradients(const Function<T>& features, const Tensor<T>& z, const Tensor<T>& hr,
                                   std::size_t batch) {
  const std::size_t rows = z.shape()[0], d = z.size() / rows;
  Tensor<T> grads = Tensor<T>::from_shape(shape_of(z));
  for (std::size_t start = 0; start < rows; start += batch) {
    const std::size_t count = std::min(batch, rows - start);
    const Var<T> goal(take_examples(hr, start, count));
    const Function<T> distance = [&](const Var<T>& v) { return sum(square(features(v) - goal)); };
    const Tensor<T> g = grad(distance, take_examples(z, start, count));
    std::copy(g.data(), g.data() + count * d, grads.data() + start * d);
  }
  return grads;
}

}  // namespace

template <class T>
IG2Result<T> ig2(const SplitModel<T>& model, const Tensor<T>& x, const std::vector<std::size_t>& targets,
                 const Tensor<T>& references, const IG2Options& options) {
  const std::size_t n = example_count(x, "ig2: x");
  check_options(options);
  const Shape one = example_shape(x);
  const std::size_t d = numel_of(one);
  const Shape rs = shape_of(references);
  const bool shared = rs.size() == one.size() + 1 && Shape(rs.begin() + 1, rs.end()) == one;
  const bool per_example = rs.size() == one.size() + 2 && rs[0] == n && Shape(rs.begin() + 2, rs.end()) == one;
  if (!(shared || per_example) || (shared ? rs[0] : rs[1]) == 0)
    throw ShapeError("ig2: references " + shape_str(rs) + " must be [B, ...] or [N, B, ...] around one example " +
                     shape_str(one) + " with B >= 1");
  const std::size_t per_path = shared ? rs[0] : rs[1], paths = n * per_path;
  const std::size_t batch = std::max<std::size_t>(options.batch_size, 1);

  const ExplainedOutput<T> out{model.model(), options.kind, batch};
  const std::vector<std::size_t> classes = resolve_targets(out, x, targets);

  // Path p = e·B + r starts at x_e and heads for h(reference r of example e).
  Shape path_shape = one;
  path_shape.insert(path_shape.begin(), paths);
  Tensor<T> refs = Tensor<T>::from_shape(path_shape);
  for (std::size_t p = 0; p < paths; ++p) {
    const T* ref = references.data() + (shared ? p % per_path : p) * d;
    std::copy(ref, ref + d, refs.data() + p * d);
  }
  const Tensor<T> hr = representations(model.features, refs, batch);

  // x_{j+1} = clip(x_j − η · g_j / max(‖g_j‖₂, eps), lo, hi),  g_j = ∇_x ‖h(x_j) − h(r)‖².
  const T eta = static_cast<T>(options.step_size), lo = static_cast<T>(options.lo), hi = static_cast<T>(options.hi);
  std::size_t counterfactual_evaluations = 0;
  WalkRule<T> walk{.starts = repeat_examples(x, per_path), .walks_per_example = per_path, .steps = options.steps,
                   .direction = WalkDirection::from_input, .rule = options.rule};
  walk.step = [&](WalkStep<T>& s) {
    const Tensor<T> g_cf = counterfactual_gradients(model.features, s.points, gather_rows(hr, s.rows), batch);
    counterfactual_evaluations += s.rows.size();
    for (std::size_t p = 0; p < s.rows.size(); ++p) {
      const T* gc = g_cf.data() + p * d;
      double norm2 = 0;
      for (std::size_t i = 0; i < d; ++i) norm2 += static_cast<double>(gc[i]) * static_cast<double>(gc[i]);
      const T scale = eta / static_cast<T>(std::max(std::sqrt(norm2), options.eps));
      for (std::size_t i = 0; i < d; ++i) s.move(p, i, std::clamp(s.point(p)[i] - scale * gc[i], lo, hi));
    }
  };
  WalkAttributions<T> walked = integrate_walks(out, x, classes, walk);

  IG2Result<T> result;
  result.paths = std::move(walked.paths);
  result.paths.gradient_evaluations += counterfactual_evaluations;
  Shape cf_shape = one;
  cf_shape.insert(cf_shape.begin(), {n, per_path});
  result.counterfactuals = std::move(walked.ends);
  result.counterfactuals.reshape(cf_shape);
  return result;
}

template <class T>
Tensor<T> draw_references(const Tensor<T>& pool, const std::vector<std::size_t>& pool_labels,
                          const std::vector<std::size_t>& targets, std::size_t count, std::uint64_t seed) {
  const std::size_t m = example_count(pool, "draw_references: pool");
  if (pool_labels.size() != m)
    throw ArgumentError("draw_references: " + std::to_string(pool_labels.size()) + " labels given for a pool of " +
                        std::to_string(m) + " examples");
  if (count == 0 || targets.empty())
    throw ArgumentError("draw_references: need at least one reference and one target");
  const Shape one = example_shape(pool);
  const std::size_t d = numel_of(one);
  std::vector<std::vector<std::size_t>> chosen;
  std::mt19937_64 rng(seed);
  for (std::size_t n = 0; n < targets.size(); ++n) {
    std::vector<std::size_t> others;
    for (std::size_t i = 0; i < m; ++i)
      if (pool_labels[i] != targets[n]) others.push_back(i);
    if (others.size() < count)
      throw ArgumentError("draw_references: the pool has " + std::to_string(others.size()) +
                          " examples outside class " + std::to_string(targets[n]) + ", fewer than the " +
                          std::to_string(count) + " references asked for");
    keep_random_sample(others, count, rng);
    chosen.push_back(std::move(others));
  }
  Shape s = one;
  s.insert(s.begin(), {targets.size(), count});
  Tensor<T> refs = Tensor<T>::from_shape(s);
  for (std::size_t n = 0; n < targets.size(); ++n)
    for (std::size_t r = 0; r < count; ++r)
      std::copy(pool.data() + chosen[n][r] * d, pool.data() + (chosen[n][r] + 1) * d,
                refs.data() + (n * count + r) * d);
  return refs;
}

#define FLUXION_INSTANTIATE(T)                                                                             \
  template struct SplitModel<T>;                                                                           \
  template IG2Result<T> ig2(const SplitModel<T>&, const Tensor<T>&, const std::vector<std::size_t>&,       \
                            const Tensor<T>&, const IG2Options&);                                          \
  template Tensor<T> draw_references(const Tensor<T>&, const std::vector<std::size_t>&,                    \
                                     const std::vector<std::size_t>&, std::size_t, std::uint64_t);
FLUXION_INSTANTIATE(float)
FLUXION_INSTANTIATE(double)
#undef FLUXION_INSTANTIATE

}  // namespace fluxion
