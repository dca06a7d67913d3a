// The closed-form Shapley interaction index of a planted pair against the
// index's definition, enumerated over every coalition of the true function
// y(x) = Σ_p term(x_i, x_j) in d = 5 and d = 6 (distinct, overlapping pairs).
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "experiments/reproduce/planted_truth.hpp"

using namespace fluxion;
using namespace fluxion::experiments;

namespace {

double factorial(int n) { return std::tgamma(n + 1.0); }

/// Φ_ij = Σ_{S ⊆ N∖{i,j}} |S|!(d−|S|−2)!/(d−1)! · [v(S∪ij) − v(S∪i) − v(S∪j) + v(S)],
/// v(S) = y(x on S, 0 elsewhere).
double enumerated_index(const std::vector<double>& x, const std::vector<std::pair<int, int>>& pairs,
                        InteractionKind kind, int i, int j) {
  const int d = int(x.size());
  auto v = [&](unsigned mask) {
    double y = 0;
    for (const auto& [a, b] : pairs)
      y += interaction_term(kind, (mask >> a) & 1u ? x[a] : 0.0, (mask >> b) & 1u ? x[b] : 0.0);
    return y;
  };
  double phi = 0;
  for (unsigned s = 0; s < (1u << d); ++s) {
    if ((s >> i) & 1u || (s >> j) & 1u) continue;
    const int size = __builtin_popcount(s);
    const double w = factorial(size) * factorial(d - size - 2) / factorial(d - 1);
    phi += w * (v(s | 1u << i | 1u << j) - v(s | 1u << i) - v(s | 1u << j) + v(s));
  }
  return phi;
}

}  // namespace

TEST_CASE("planted_pair_shapley_index equals the enumerated Shapley interaction index") {
  const std::vector<double> x5 = {0.7, -1.3, 0.4, 2.1, -0.6};
  const std::vector<std::pair<int, int>> disjoint = {{0, 3}, {1, 4}};
  const std::vector<double> x6 = {0.7, -1.3, 0.4, 2.1, -0.6, 1.1};
  const std::vector<std::pair<int, int>> overlapping = {{0, 3}, {0, 5}, {2, 3}};  // share features
  for (auto kind : {InteractionKind::Product, InteractionKind::Max, InteractionKind::Min, InteractionKind::Cos,
                    InteractionKind::Tanh}) {
    INFO("kind " << to_string(kind));
    for (const auto& [i, j] : disjoint) {
      CHECK(planted_pair_shapley_index(kind, x5[i], x5[j]) ==
            doctest::Approx(enumerated_index(x5, disjoint, kind, i, j)).epsilon(1e-12));
    }
    for (const auto& [i, j] : overlapping) {
      CHECK(planted_pair_shapley_index(kind, x6[i], x6[j]) ==
            doctest::Approx(enumerated_index(x6, overlapping, kind, i, j)).epsilon(1e-12));
    }
    // A pair that is not planted has index 0 (no term involves both features).
    CHECK(std::abs(enumerated_index(x5, disjoint, kind, 0, 1)) < 1e-14);
  }
  // By value: a product's index is ab; cos's is cos(a+b) − cos a − cos b + 1.
  CHECK(planted_pair_shapley_index(InteractionKind::Product, 0.7, 2.1) == doctest::Approx(1.47).epsilon(1e-14));
  CHECK(planted_pair_shapley_index(InteractionKind::Cos, 0.7, 2.1) ==
        doctest::Approx(std::cos(2.8) - std::cos(0.7) - std::cos(2.1) + 1).epsilon(1e-14));
}

TEST_CASE("the Shapley truth can differ from the largest |term| for cos") {
  // Pair A at (0.1, 0.1): |cos 0.2| = 0.98 but Φ = cos 0.2 − 2 cos 0.1 + 1 ≈ −0.010.
  // Pair B at (1.5, 1.5): |cos 3| = 0.99 and Φ = cos 3 − 2 cos 1.5 + 1 ≈ −0.131.
  // Pair C at (0.2, 1.4): |cos 1.6| = 0.029, Φ = cos 1.6 − cos 0.2 − cos 1.4 + 1 ≈ −0.179: largest |Φ|.
  InteractionDataset data;
  data.x = Tensor<double>::from_shape({1, 6});
  const double values[] = {0.1, 0.1, 1.5, 1.5, 0.2, 1.4};
  for (int k = 0; k < 6; ++k) data.x(0, k) = values[k];
  data.pairs = {{0, 1}, {2, 3}, {4, 5}};
  data.pair_terms = Tensor<double>::from_shape({1, 3});
  for (int p = 0; p < 3; ++p) {
    data.pair_terms(0, p) = interaction_term(InteractionKind::Cos, values[2 * p], values[2 * p + 1]);
  }
  CHECK(strongest_planted_pair(data, 0) == std::pair<int, int>{2, 3});
  CHECK(strongest_planted_pair_by_shapley(data, InteractionKind::Cos, 0) == std::pair<int, int>{4, 5});
}
