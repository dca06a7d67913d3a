// IG2 (Zhuo & Ge, TPAMI 2024) — see ig2.hpp for GradPath, GradCF and the sum.
// The N·B paths (example, reference) are rows of one tensor z[N·B, ...];
// each step asks two gradient oracles about all rows, chunk by chunk:
// ∇‖h(z) − h(r)‖² (where to go) and ∇f(z) (what to integrate).
#include "attribution/ig2.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <string>

#include "autodiff/errors.hpp"

namespace fluxion {

template <class T>
Function<T> SplitModel<T>::model() const {
  Function<T> h = features, g = head;
  return [h, g](const Var<T>& x) { return g(h(x)); };
}

namespace {

void check_options(const IG2Options& o) {
  if (o.steps < 1) throw InputError("ig2: steps must be >= 1, got " + std::to_string(o.steps));
  if (!(o.step_size > 0) || !std::isfinite(o.step_size))
    throw InputError("ig2: step_size must be a finite number > 0, got " + std::to_string(o.step_size));
  if (!(o.lo < o.hi))
    throw InputError("ig2: the input box needs lo < hi, got [" + std::to_string(o.lo) + ", " + std::to_string(o.hi) + "]");
  if (!(o.eps > 0)) throw InputError("ig2: eps must be > 0");
  if (o.rule == SegmentRule::midpoint)
    throw InputError("ig2: the midpoint rule is not offered (its points are off the path); use left or trapezoid");
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
  const std::size_t B = shared ? rs[0] : rs[1], P = n * B;
  const std::size_t batch = std::max<std::size_t>(options.batch_size, 1);

  const ExplainedOutput<T> out{model.model(), options.kind, batch};
  const std::vector<std::size_t> classes = resolve_targets(out, x, targets);

  // Path p = e·B + r starts at x_e and heads for h(reference r of example e).
  Shape path_shape = one;
  path_shape.insert(path_shape.begin(), P);
  Tensor<T> z = Tensor<T>::from_shape(path_shape), refs = Tensor<T>::from_shape(path_shape);
  std::vector<std::size_t> path_classes(P);
  for (std::size_t p = 0; p < P; ++p) {
    const std::size_t e = p / B, r = p % B;
    std::copy(x.data() + e * d, x.data() + (e + 1) * d, z.data() + p * d);
    const T* ref = references.data() + (shared ? r : p) * d;
    std::copy(ref, ref + d, refs.data() + p * d);
    path_classes[p] = classes[e];
  }
  const Tensor<T> hr = representations(model.features, refs, batch);

  const bool trapezoid = options.rule == SegmentRule::trapezoid;
  const T eta = static_cast<T>(options.step_size), lo = static_cast<T>(options.lo), hi = static_cast<T>(options.hi);
  Tensor<T> path_attribution = filled<T>(path_shape, T(0));
  Tensor<T> previous_step = filled<T>(path_shape, T(0));  // z_{j−1} − z_j, for the trapezoid's second half
  std::size_t evaluations = 0;
  for (int j = 0; j < options.steps; ++j) {
    const Tensor<T> g_cf = counterfactual_gradients(model.features, z, hr, batch);
    const Tensor<T> g_f = output_gradients(out, z, path_classes);
    evaluations += 2 * P;
    for (std::size_t p = 0; p < P; ++p) {
      const T* gc = g_cf.data() + p * d;
      const T* gf = g_f.data() + p * d;
      T* zp = z.data() + p * d;
      T* ap = path_attribution.data() + p * d;
      T* back = previous_step.data() + p * d;
      double norm2 = 0;
      for (std::size_t i = 0; i < d; ++i) norm2 += static_cast<double>(gc[i]) * static_cast<double>(gc[i]);
      const T scale = eta / static_cast<T>(std::max(std::sqrt(norm2), options.eps));
      for (std::size_t i = 0; i < d; ++i) {
        const T next = std::clamp(zp[i] - scale * gc[i], lo, hi);
        const T step = zp[i] - next;  // x_j − x_{j+1}
        if (trapezoid) ap[i] += gf[i] * (back[i] + step) / T(2);
        else ap[i] += gf[i] * step;
        back[i] = step;
        zp[i] = next;
      }
    }
  }
  if (trapezoid) {  // the second half of the last segment: ∇f(x_K)/2 ⊙ (x_{K−1} − x_K)
    const Tensor<T> g_f = output_gradients(out, z, path_classes);
    evaluations += P;
    for (std::size_t i = 0; i < P * d; ++i) path_attribution.data()[i] += g_f.data()[i] * previous_step.data()[i] / T(2);
  }

  IG2Result<T> result;
  PathAttributions<T>& paths = result.paths;
  paths.attributions = filled<T>(shape_of(x), T(0));
  const Tensor<T> f_x = output_values(out, x, classes);
  const Tensor<T> f_cf = output_values(out, z, path_classes);
  for (std::size_t e = 0; e < n; ++e) {
    T* a = paths.attributions.data() + e * d;
    double mean_cf = 0;
    for (std::size_t r = 0; r < B; ++r) {
      const T* ar = path_attribution.data() + (e * B + r) * d;
      for (std::size_t i = 0; i < d; ++i) a[i] += ar[i] / static_cast<T>(B);
      mean_cf += static_cast<double>(f_cf(e * B + r)) / static_cast<double>(B);
    }
    double sum = 0;
    for (std::size_t i = 0; i < d; ++i) sum += static_cast<double>(a[i]);
    const double change = static_cast<double>(f_x(e)) - mean_cf;
    paths.output_changes.push_back(change);
    paths.completeness_gaps.push_back(std::fabs(sum - change));
  }
  paths.gradient_evaluations = evaluations;
  Shape cf_shape = one;
  cf_shape.insert(cf_shape.begin(), {n, B});
  result.counterfactuals = z;
  result.counterfactuals.reshape(cf_shape);
  return result;
}

template <class T>
Tensor<T> draw_references(const Tensor<T>& pool, const std::vector<std::size_t>& pool_labels,
                          const std::vector<std::size_t>& targets, std::size_t count, std::uint64_t seed) {
  const std::size_t m = example_count(pool, "draw_references: pool");
  if (pool_labels.size() != m)
    throw InputError("draw_references: " + std::to_string(pool_labels.size()) + " labels given for a pool of " +
                     std::to_string(m) + " examples");
  if (count == 0 || targets.empty())
    throw InputError("draw_references: need at least one reference and one target");
  const Shape one = example_shape(pool);
  const std::size_t d = numel_of(one);
  std::vector<std::vector<std::size_t>> chosen;
  std::mt19937_64 rng(seed);
  for (std::size_t n = 0; n < targets.size(); ++n) {
    std::vector<std::size_t> others;
    for (std::size_t i = 0; i < m; ++i)
      if (pool_labels[i] != targets[n]) others.push_back(i);
    if (others.size() < count)
      throw InputError("draw_references: the pool has " + std::to_string(others.size()) +
                       " examples outside class " + std::to_string(targets[n]) + ", fewer than the " +
                       std::to_string(count) + " references asked for");
    for (std::size_t i = 0; i < count; ++i) {  // partial Fisher–Yates
      std::uniform_int_distribution<std::size_t> pick(i, others.size() - 1);
      std::swap(others[i], others[pick(rng)]);
    }
    others.resize(count);
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
