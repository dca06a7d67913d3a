// Shapley values and interaction indices by coalition enumeration
// (see shapley_interaction.hpp). Coalition S is a bit mask: bit i set ⇔ feature i takes x_i.
#include "attribution/shapley_interaction.hpp"

#include <bit>
#include <cstdint>

#include "attribution/baselines.hpp"
#include "autodiff/errors.hpp"

namespace fluxion {

namespace {

double factorial(std::size_t k) {
  double f = 1;
  for (std::size_t i = 2; i <= k; ++i) f *= double(i);
  return f;
}

}  // namespace

template <class T>
ShapleyInteractions<T> shapley_interactions(const ExplainedOutput<T>& out, const Tensor<T>& x,
                                            const std::vector<std::size_t>& targets,
                                            const std::optional<Tensor<T>>& baseline) {
  const std::size_t n = example_count(x, "shapley_interactions: x");
  const std::size_t d = x.size() / n;
  if (d > kMaxShapleyFeatures)
    throw ArgumentError("shapley_interactions: exact enumeration needs d <= " + std::to_string(kMaxShapleyFeatures) +
                        " features, got " + std::to_string(d));
  const Baselines<T> base(x, baseline, "shapley_interactions");
  const std::vector<std::size_t> classes = resolve_targets(out, x, targets);
  const std::size_t coalitions = std::size_t(1) << d;

  // Weights by coalition size s: Shapley s!(d−s−1)!/d!, interaction s!(d−s−2)!/(d−1)!.
  std::vector<double> value_weight(d, 0.0), pair_weight(d, 0.0);
  for (std::size_t s = 0; s < d; ++s) value_weight[s] = factorial(s) * factorial(d - s - 1) / factorial(d);
  for (std::size_t s = 0; s + 2 <= d; ++s) pair_weight[s] = factorial(s) * factorial(d - s - 2) / factorial(d - 1);

  ShapleyInteractions<T> result;
  result.interactions = filled<T>({n, d, d}, T(0));
  result.shapley_values = filled<T>(shape_of(x), T(0));
  Shape points_shape = example_shape(x);
  points_shape.insert(points_shape.begin(), coalitions);
  for (std::size_t e = 0; e < n; ++e) {
    const T* xe = x.data() + e * d;
    const T* be = base.row(e);
    Tensor<T> points = Tensor<T>::from_shape(points_shape);
    for (std::size_t mask = 0; mask < coalitions; ++mask)
      for (std::size_t i = 0; i < d; ++i)
        points.data()[mask * d + i] = (mask >> i & 1) ? xe[i] : be[i];
    const Tensor<T> f = output_values(out, points, std::vector<std::size_t>(coalitions, classes[e]));
    auto v = [&](std::size_t mask) { return static_cast<double>(f(mask)); };

    for (std::size_t i = 0; i < d; ++i) {
      double phi = 0;
      for (std::size_t mask = 0; mask < coalitions; ++mask) {
        if (mask >> i & 1) continue;
        phi += value_weight[std::popcount(mask)] * (v(mask | (std::size_t(1) << i)) - v(mask));
      }
      result.shapley_values.data()[e * d + i] = static_cast<T>(phi);
      for (std::size_t j = i + 1; j < d; ++j) {
        const std::size_t bi = std::size_t(1) << i, bj = std::size_t(1) << j;
        double interaction = 0;
        for (std::size_t mask = 0; mask < coalitions; ++mask) {
          if (mask & (bi | bj)) continue;
          interaction += pair_weight[std::popcount(mask)] * (v(mask | bi | bj) - v(mask | bi) - v(mask | bj) + v(mask));
        }
        result.interactions(e, i, j) = result.interactions(e, j, i) = static_cast<T>(interaction);
      }
    }
    result.output_changes.push_back(v(coalitions - 1) - v(0));
  }
  return result;
}

template ShapleyInteractions<float> shapley_interactions(const ExplainedOutput<float>&, const Tensor<float>&,
                                                         const std::vector<std::size_t>&,
                                                         const std::optional<Tensor<float>>&);
template ShapleyInteractions<double> shapley_interactions(const ExplainedOutput<double>&, const Tensor<double>&,
                                                          const std::vector<std::size_t>&,
                                                          const std::optional<Tensor<double>>&);

}  // namespace fluxion
