// Tests for attribution/interaction_recovery and attribution/statistics:
// hand-made matrices and hand-computed statistics, and the exact Integrated
// Hessians of the planted product function of the synthetic dataset, which
// must recover every strongest planted pair.
#include <doctest/doctest.h>

#include <cmath>

#include "attribution/interaction_recovery.hpp"
#include "attribution/statistics.hpp"
#include "autodiff/errors.hpp"
#include "autodiff/transforms.hpp"
#include "nn/data/synthetic.hpp"

using namespace fluxion;

TEST_CASE("statistics: mean and standard error against hand computation") {
  // {1, 2, 3, 4}: mean 2.5, s² = (2.25 + 0.25 + 0.25 + 2.25)/3 = 5/3, s.e. = √(5/3 / 4) = √(5/12).
  const MeanAndError m = mean_and_standard_error({1, 2, 3, 4});
  CHECK(m.mean == 2.5);
  CHECK(std::fabs(m.standard_error - std::sqrt(5.0 / 12)) <= 1e-15);
  CHECK(m.count == 4);
  CHECK(to_string(m, 3) == "2.500 ± 0.645 (n = 4)");
  // Hits {1, 1, 0}: p = 2/3, s.e. = √(p(1−p)/(n−1)) = √(2/9 / 2) = 1/3.
  CHECK(std::fabs(mean_and_standard_error({1, 1, 0}).standard_error - 1.0 / 3) <= 1e-15);
  // A large offset must not cancel the spread (two-pass variance).
  const MeanAndError shifted = mean_and_standard_error({1e9 + 1, 1e9 + 2, 1e9 + 3, 1e9 + 4});
  CHECK(std::fabs(shifted.standard_error - std::sqrt(5.0 / 12)) <= 1e-6);
  CHECK(std::isnan(mean_and_standard_error({3.0}).standard_error));
  CHECK_THROWS_AS(mean_and_standard_error({}), InputError);
  CHECK_THROWS_AS(mean_and_standard_error({1.0, std::nan("")}), InputError);
}

TEST_CASE("statistics: average ranks and Spearman correlation by hand") {
  CHECK(average_ranks({10, 20, 20, 5}) == std::vector<double>{2, 3.5, 3.5, 1});
  CHECK(spearman_correlation({1, 2, 3, 4}, {10, 40, 90, 160}) == 1.0);  // monotone, not linear
  CHECK(spearman_correlation({1, 2, 3, 4}, {4, 3, 2, 1}) == -1.0);
  // Ranks (1, 2, 3) and (1.5, 1.5, 3): cov = 1.5, var = 2 and 1.5 → ρ = 1.5/√3 = √3/2.
  CHECK(std::fabs(spearman_correlation({1, 2, 3}, {1, 1, 2}) - std::sqrt(3.0) / 2) <= 1e-15);
  CHECK(std::isnan(spearman_correlation({1, 2, 3}, {5, 5, 5})));
  CHECK_THROWS_AS(spearman_correlation({1, 2}, {1, 2, 3}), InputError);
}

TEST_CASE("interaction recovery: hand-made matrices") {
  Tensor<double> gammas = filled<double>({3, 4, 4}, 0.0);
  // Example 0: the pair {1, 2} (5 and 5) wins; the huge diagonal is ignored.
  gammas(0, 0, 0) = 100;
  gammas(0, 1, 2) = gammas(0, 2, 1) = 5;
  gammas(0, 0, 3) = gammas(0, 3, 0) = -4;
  // Example 1: Γ₀₃ = 10 and Γ₃₀ = −10 cancel (S = 0); {0, 1} with S = 2 wins;
  // planted given as (1, 0) — order does not matter.
  gammas(1, 0, 3) = 10;
  gammas(1, 3, 0) = -10;
  gammas(1, 0, 1) = 3;
  gammas(1, 1, 0) = 1;
  // Example 2: {2, 3} with S = |−6 − 6|/2 = 6 wins, but {0, 1} was planted.
  gammas(2, 2, 3) = gammas(2, 3, 2) = -6;
  gammas(2, 0, 1) = gammas(2, 1, 0) = 1;
  const InteractionRecovery r = top1_interaction_recovery(gammas, {{2, 1}, {1, 0}, {0, 1}});
  CHECK(r.found == std::vector<std::pair<int, int>>{{1, 2}, {0, 1}, {2, 3}});
  CHECK(r.hits == std::vector<double>{1, 1, 0});
  CHECK(std::fabs(r.top1.mean - 2.0 / 3) <= 1e-15);
  CHECK(std::fabs(r.top1.standard_error - 1.0 / 3) <= 1e-15);

  // Rank correlation: strengths of pairs {1,2}, {0,3}, {0,1} in example 0 are
  // 5, 4, 0; against true strengths 3, 2, 1 → ρ = 1; against 1, 2, 3 → −1.
  Tensor<double> truth = Tensor<double>::from_shape({1, 3});
  truth(0, 0) = 3, truth(0, 1) = 2, truth(0, 2) = 1;
  Tensor<double> first = Tensor<double>::from_shape({1, 4, 4});
  std::copy(gammas.data(), gammas.data() + 16, first.data());
  CHECK(planted_strength_rank_correlation(first, {{1, 2}, {0, 3}, {0, 1}}, truth)[0] == 1.0);
  truth(0, 0) = 1, truth(0, 2) = 3;
  CHECK(planted_strength_rank_correlation(first, {{1, 2}, {0, 3}, {0, 1}}, truth)[0] == -1.0);

  CHECK_THROWS_AS(top1_interaction_recovery(gammas, {{0, 1}}), InputError);
  CHECK_THROWS_AS(top1_interaction_recovery(gammas, {{0, 1}, {0, 0}, {0, 1}}), InputError);
  CHECK_THROWS_AS(top1_interaction_recovery(gammas, {{0, 1}, {0, 4}, {0, 1}}), InputError);
  CHECK_THROWS_AS(top1_interaction_recovery(filled<double>({2, 3, 4}, 0.0), {{0, 1}, {0, 1}}), ShapeError);
}

TEST_CASE("interaction recovery: exact Integrated Hessians of planted products find every strongest pair") {
  // y = Σ_planted x_i x_j = ½ xᵀ A x with A_ij = A_ji = 1 on planted pairs.
  // Its Hessian is the constant A (taken here from the engine), and for a
  // constant Hessian and baseline 0 the IH off-diagonal entries are
  //   Γ_ij = x_i x_j H_ij ∫∫ αβ dα dβ = x_i x_j H_ij / 4      (integrated-hessians.md)
  // so S_ij = |x_i x_j| / 4 on planted pairs (= |term| / 4) and 0 elsewhere.
  const int samples = 60, d = 10;
  const InteractionDataset data = make_interaction_dataset(samples, d, InteractionKind::Product, 3, 17);
  Tensor<double> a = filled<double>({std::size_t(d), std::size_t(d)}, 0.0);
  for (const auto& [i, j] : data.pairs) a(i, j) = a(j, i) = 1;
  Function<double> planted = [a](const Var<double>& x) {
    Var<double> row = reshape(x, Shape{1, x.numel()});
    return scale(sum(mul(matmul(row, Var<double>(a)), row)), 0.5);
  };
  const Tensor<double> x0 = filled<double>({std::size_t(d)}, 0.3);
  const Tensor<double> h = hessian(planted, x0);
  for (int i = 0; i < d; ++i)
    for (int j = 0; j < d; ++j) REQUIRE(h(i, j) == a(i, j));  // a quadratic: exact

  Tensor<double> gammas = filled<double>({std::size_t(samples), std::size_t(d), std::size_t(d)}, 0.0);
  std::vector<std::pair<int, int>> strongest;
  for (int s = 0; s < samples; ++s) {
    for (int i = 0; i < d; ++i)
      for (int j = 0; j < d; ++j)
        if (i != j) gammas(s, i, j) = data.x(s, i) * data.x(s, j) * h(i, j) / 4;
    strongest.push_back(strongest_planted_pair(data, s));
  }
  const InteractionRecovery r = top1_interaction_recovery(gammas, strongest);
  CHECK(r.top1.mean == 1.0);
  CHECK(r.top1.standard_error == 0.0);
  CHECK(r.top1.count == std::size_t(samples));

  Tensor<double> truth = Tensor<double>::from_shape({std::size_t(samples), data.pairs.size()});
  for (std::size_t k = 0; k < truth.size(); ++k) truth.data()[k] = std::fabs(data.pair_terms.data()[k]);
  for (double rho : planted_strength_rank_correlation(gammas, data.pairs, truth)) CHECK(rho == 1.0);

  // A method that only sees the first planted pair recovers just the samples
  // where that pair happens to be the strongest.
  Tensor<double> partial = filled<double>(shape_of(gammas), 0.0);
  const auto [p, q] = data.pairs[0];
  std::size_t expected_hits = 0;
  for (int s = 0; s < samples; ++s) {
    partial(s, p, q) = partial(s, q, p) = gammas(s, p, q);
    expected_hits += strongest[s] == data.pairs[0] ? 1 : 0;
  }
  const double rate = top1_interaction_recovery(partial, strongest).top1.mean;
  CHECK(rate == double(expected_hits) / samples);
  CHECK(rate < 1.0);
}
