// AGI (Pan, Li & Zhu, IJCAI 2021) — see agi.hpp for the walk and the sum.
// The N·J walks (example, false class) are rows of one tensor; at each step
// only the rows still walking are gathered and sent through the model.
#include "attribution/agi.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <string>

#include "autodiff/errors.hpp"

namespace fluxion {

namespace {

void check_options(const AGIOptions& o) {
  if (!(o.epsilon > 0) || !std::isfinite(o.epsilon))
    throw InputError("agi: epsilon must be a finite number > 0, got " + std::to_string(o.epsilon));
  if (o.max_iter < 1) throw InputError("agi: max_iter must be >= 1, got " + std::to_string(o.max_iter));
  if (o.false_classes < 1) throw InputError("agi: false_classes must be >= 1");
  if (!(o.lo < o.hi))
    throw InputError("agi: the input box needs lo < hi, got [" + std::to_string(o.lo) + ", " + std::to_string(o.hi) + "]");
}

/// Rows `which` of x[R, ...] stacked into [which.size(), ...].
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

/// C, the number of classes, from one forward pass on the first example.
template <class T>
std::size_t class_count(const ExplainedOutput<T>& out, const Tensor<T>& x) {
  NoGradGuard inference;
  const Var<T> z = out.model(Var<T>(take_examples(x, 0, 1)));
  if (z.rank() != 2) throw ShapeError("agi: the model must return logits [N, C], got " + shape_str(z.shape()));
  return z.shape()[1];
}

/// The false classes walked for each example: all C − 1 of them in order, or
/// a seeded sample of `count` without replacement.
std::vector<std::vector<std::size_t>> choose_false_classes(const std::vector<std::size_t>& true_classes,
                                                          std::size_t classes, std::size_t count,
                                                          std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::vector<std::size_t>> chosen;
  for (std::size_t c : true_classes) {
    std::vector<std::size_t> others;
    for (std::size_t j = 0; j < classes; ++j)
      if (j != c) others.push_back(j);
    if (count < others.size()) {
      for (std::size_t i = 0; i < count; ++i) {  // partial Fisher–Yates
        std::uniform_int_distribution<std::size_t> pick(i, others.size() - 1);
        std::swap(others[i], others[pick(rng)]);
      }
      others.resize(count);
    }
    chosen.push_back(std::move(others));
  }
  return chosen;
}

template <class T>
T sign(T v) {
  return static_cast<T>((v > T(0)) - (v < T(0)));
}

}  // namespace

template <class T>
PathAttributions<T> agi(const ExplainedOutput<T>& out, const Tensor<T>& x, const std::vector<std::size_t>& targets,
                        const AGIOptions& options) {
  const std::size_t n = example_count(x, "agi: x");
  check_options(options);
  const std::size_t C = class_count(out, x);
  if (C < 2) throw ShapeError("agi: the model has " + std::to_string(C) + " class; AGI needs at least 2");
  const std::vector<std::size_t> classes = resolve_targets(out, x, targets);
  const std::size_t J = std::min(options.false_classes, C - 1);
  const auto false_classes = choose_false_classes(classes, C, J, options.seed);

  ExplainedOutput<T> integrand = out;
  if (options.integrand) integrand.kind = *options.integrand;
  ExplainedOutput<T> towards = out;  // the walk climbs softmax_j
  towards.kind = OutputKind::probability;

  // Walk p = e·J + j starts at x_e.
  const std::size_t d = x.size() / n, walks = n * J;
  Shape walk_shape = shape_of(x);
  walk_shape[0] = walks;
  Tensor<T> z = Tensor<T>::from_shape(walk_shape);
  std::vector<std::size_t> true_class(walks), walk_class(walks);
  for (std::size_t p = 0; p < walks; ++p) {
    const std::size_t e = p / J;
    std::copy(x.data() + e * d, x.data() + (e + 1) * d, z.data() + p * d);
    true_class[p] = classes[e];
    walk_class[p] = false_classes[e][p % J];
  }

  Tensor<T> walk_attribution = filled<T>(walk_shape, T(0));
  std::vector<char> walking(walks, 1);
  const T lo = static_cast<T>(options.lo), hi = static_cast<T>(options.hi), eps = static_cast<T>(options.epsilon);
  std::size_t evaluations = 0;
  for (int k = 0; k < options.max_iter; ++k) {
    std::vector<std::size_t> active;
    for (std::size_t p = 0; p < walks; ++p)
      if (walking[p]) active.push_back(p);
    if (active.empty()) break;
    // A walk stops once the model predicts its false class.
    const std::vector<std::size_t> predicted = predicted_classes(out.model, gather_rows(z, active), out.batch_size);
    std::vector<std::size_t> still;
    for (std::size_t r = 0; r < active.size(); ++r) {
      if (predicted[r] == walk_class[active[r]]) walking[active[r]] = 0;
      else still.push_back(active[r]);
    }
    if (still.empty()) break;

    const Tensor<T> points = gather_rows(z, still);
    std::vector<std::size_t> up(still.size()), down(still.size());
    for (std::size_t r = 0; r < still.size(); ++r) {
      up[r] = walk_class[still[r]];
      down[r] = true_class[still[r]];
    }
    const Tensor<T> g_walk = output_gradients(towards, points, up);
    const Tensor<T> g_f = output_gradients(integrand, points, down);
    evaluations += 2 * still.size();
    for (std::size_t r = 0; r < still.size(); ++r) {
      T* zp = z.data() + still[r] * d;
      T* ap = walk_attribution.data() + still[r] * d;
      for (std::size_t i = 0; i < d; ++i) {
        const T next = std::clamp(zp[i] + eps * sign(g_walk.data()[r * d + i]), lo, hi);
        ap[i] -= g_f.data()[r * d + i] * (next - zp[i]);
        zp[i] = next;
      }
    }
  }

  // Average the J walks of each example; completeness against their mean end output.
  PathAttributions<T> result;
  result.attributions = filled<T>(shape_of(x), T(0));
  const Tensor<T> f_x = output_values(integrand, x, classes);
  const Tensor<T> f_end = output_values(integrand, z, true_class);
  for (std::size_t e = 0; e < n; ++e) {
    T* a = result.attributions.data() + e * d;
    double mean_end = 0;
    for (std::size_t j = 0; j < J; ++j) {
      const T* aj = walk_attribution.data() + (e * J + j) * d;
      for (std::size_t i = 0; i < d; ++i) a[i] += aj[i] / static_cast<T>(J);
      mean_end += static_cast<double>(f_end(e * J + j)) / static_cast<double>(J);
    }
    double sum = 0;
    for (std::size_t i = 0; i < d; ++i) sum += static_cast<double>(a[i]);
    const double change = static_cast<double>(f_x(e)) - mean_end;
    result.output_changes.push_back(change);
    result.completeness_gaps.push_back(std::fabs(sum - change));
  }
  result.gradient_evaluations = evaluations;
  return result;
}

template PathAttributions<float> agi(const ExplainedOutput<float>&, const Tensor<float>&,
                                     const std::vector<std::size_t>&, const AGIOptions&);
template PathAttributions<double> agi(const ExplainedOutput<double>&, const Tensor<double>&,
                                      const std::vector<std::size_t>&, const AGIOptions&);

}  // namespace fluxion
