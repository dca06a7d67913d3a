// Guided IG (Kapishnikov et al., CVPR 2021) — see guided_ig.hpp for the path.
// The path of each example is built one step at a time (it depends on the
// gradients met along the way): a walk to the input (walk_integral.hpp),
// whose step rule is guided_step below.
#include "attribution/guided_ig.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "attribution/baselines.hpp"
#include "attribution/walk_integral.hpp"
#include "autodiff/errors.hpp"

namespace fluxion {

namespace {

void check_options(const GuidedIGOptions& o) {
  if (o.steps < 1) throw ArgumentError("guided_ig: steps must be >= 1, got " + std::to_string(o.steps));
  if (!(o.fraction > 0 && o.fraction <= 1))
    throw ArgumentError("guided_ig: fraction must lie in (0, 1], got " + std::to_string(o.fraction));
  if (!(o.max_dist >= 0 && o.max_dist <= 1))
    throw ArgumentError("guided_ig: max_dist must lie in [0, 1], got " + std::to_string(o.max_dist));
}

template <class T>
double l1_distance(const T* a, const T* b, std::size_t d) {
  double s = 0;
  for (std::size_t i = 0; i < d; ++i) s += std::fabs(static_cast<double>(a[i]) - static_cast<double>(b[i]));
  return s;
}

/// NumPy's quantile with interpolation 'lower': the sorted value at index ⌊q (n − 1)⌋.
double lower_quantile(std::vector<double> values, double q) {
  const auto k = static_cast<std::size_t>(std::floor(q * static_cast<double>(values.size() - 1)));
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(k), values.end());
  return values[k];
}

/// One example: step k of K of the guided path, as walking row j of `s` (its
/// live point z, its gradient g = ∇f(z) at the start of the step). x is the
/// input, b the baseline, total = ‖x − b‖₁. Every move goes through s.move,
/// which charges it as g ⊙ Δz.
template <class T>
void guided_step(WalkStep<T>& s, std::size_t j, const T* x, const T* b, std::size_t d, double total, int k,
                 const GuidedIGOptions& o) {
  const T* z = s.point(j);
  const T* g = s.gradient(j);
  const double alpha = static_cast<double>(k) / o.steps;
  const T alpha_floor = static_cast<T>(std::max(alpha - o.max_dist, 0.0));
  const T alpha_ceiling = static_cast<T>(std::min(alpha + o.max_dist, 1.0));
  const double l1_target = total * (1.0 - alpha);
  const double tolerance = 1e-9 * total;  // "reached" up to rounding of the L1 sums

  std::vector<T> floor_point(d), ceiling_point(d);
  for (std::size_t i = 0; i < d; ++i) {
    floor_point[i] = b[i] + alpha_floor * (x[i] - b[i]);
    ceiling_point[i] = b[i] + alpha_ceiling * (x[i] - b[i]);
  }
  auto move_to = [&](std::size_t i, T value) { s.move(j, i, value); };

  const double infinity = std::numeric_limits<double>::infinity();
  std::vector<char> at_ceiling(d, 0);
  std::vector<double> magnitude(d);
  std::vector<std::size_t> selected;
  while (true) {
    // Features lagging more than max_dist behind the straight line catch up.
    for (std::size_t i = 0; i < d; ++i)
      if (x[i] != b[i] && (z[i] - b[i]) / (x[i] - b[i]) < alpha_floor) move_to(i, floor_point[i]);
    const double l1 = l1_distance(z, x, d);
    if (l1 <= l1_target + tolerance) break;

    // Among features below this step's ceiling, the `fraction` with the smallest |∂f| move.
    for (std::size_t i = 0; i < d; ++i) {
      if (z[i] == ceiling_point[i]) at_ceiling[i] = 1;
      magnitude[i] = at_ceiling[i] ? infinity : std::fabs(static_cast<double>(g[i]));
    }
    const double threshold = lower_quantile(magnitude, o.fraction);
    selected.clear();
    double movable = 0;  // L1 length the selected features can still travel
    for (std::size_t i = 0; i < d; ++i) {
      if (at_ceiling[i] || magnitude[i] > threshold) continue;
      selected.push_back(i);
      movable += std::fabs(static_cast<double>(ceiling_point[i]) - static_cast<double>(z[i]));
    }
    if (movable == 0) break;  // everything is at the ceiling: only rounding kept us above the target

    const double gamma = (l1 - l1_target) / movable;  // share of the way to the ceiling that hits the target
    if (gamma >= 1) {
      for (std::size_t i : selected) move_to(i, ceiling_point[i]);
      continue;
    }
    for (std::size_t i : selected) move_to(i, z[i] + static_cast<T>(gamma) * (ceiling_point[i] - z[i]));
    break;
  }
  if (k == o.steps)  // the path ends exactly at x
    for (std::size_t i = 0; i < d; ++i)
      if (z[i] != x[i]) move_to(i, x[i]);
}

}  // namespace

template <class T>
PathAttributions<T> guided_ig(const ExplainedOutput<T>& out, const Tensor<T>& x, const Tensor<T>& baselines,
                              const std::vector<std::size_t>& targets, const GuidedIGOptions& options) {
  const std::size_t n = example_count(x, "guided_ig: x");
  check_options(options);
  const Baselines<T> base(x, baselines, "guided_ig");
  const std::vector<std::size_t> classes = resolve_targets(out, x, targets);
  const std::size_t d = x.size() / n;
  std::vector<double> total(n);  // ‖x − x'‖₁
  for (std::size_t e = 0; e < n; ++e) total[e] = l1_distance(x.data() + e * d, base.row(e), d);

  WalkRule<T> walk{.starts = base.rows(), .steps = options.steps, .direction = WalkDirection::to_input};
  walk.step = [&](WalkStep<T>& s) {
    for (std::size_t j = 0; j < s.rows.size(); ++j) {
      const std::size_t e = s.rows[j];
      if (total[e] == 0) continue;  // x = baseline: nothing to attribute
      guided_step(s, j, x.data() + e * d, base.row(e), d, total[e], s.number + 1, options);
    }
  };
  return integrate_walks(out, x, classes, walk).paths;
}

template <class T>
PathAttributions<T> guided_ig(const ExplainedOutput<T>& out, const Tensor<T>& x,
                              const std::vector<std::size_t>& targets, const GuidedIGOptions& options) {
  example_count(x, "guided_ig: x");
  return guided_ig(out, x, filled<T>(example_shape(x), T(0)), targets, options);
}

#define FLUXION_INSTANTIATE(T)                                                                                \
  template PathAttributions<T> guided_ig(const ExplainedOutput<T>&, const Tensor<T>&, const Tensor<T>&,       \
                                         const std::vector<std::size_t>&, const GuidedIGOptions&);            \
  template PathAttributions<T> guided_ig(const ExplainedOutput<T>&, const Tensor<T>&,                         \
                                         const std::vector<std::size_t>&, const GuidedIGOptions&);
FLUXION_INSTANTIATE(float)
FLUXION_INSTANTIATE(double)
#undef FLUXION_INSTANTIATE

}  // namespace fluxion
