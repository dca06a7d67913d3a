// Tests for attribution/interaction_recovery and attribution/statistics:
// hand-made matrices and hand-computed statistics, and integrated_hessians
// itself run on the synthetic dataset's planted products plus smooth main
// effects: its Γ must match the closed form and recover every strongest
// planted pair.
#include <doctest/doctest.h>

#include <cmath>

#include "attribution/integrated_hessians.hpp"
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
  CHECK_THROWS_AS(mean_and_standard_error({}), ArgumentError);
  CHECK_THROWS_AS(mean_and_standard_error({1.0, std::nan("")}), ArgumentError);
}

TEST_CASE("statistics: average ranks and Spearman correlation by hand") {
  CHECK(average_ranks({10, 20, 20, 5}) == std::vector<double>{2, 3.5, 3.5, 1});
  CHECK(spearman_correlation({1, 2, 3, 4}, {10, 40, 90, 160}) == 1.0);  // monotone, not linear
  CHECK(spearman_correlation({1, 2, 3, 4}, {4, 3, 2, 1}) == -1.0);
  // Ranks (1, 2, 3) and (1.5, 1.5, 3): cov = 1.5, var = 2 and 1.5 → ρ = 1.5/√3 = √3/2.
  CHECK(std::fabs(spearman_correlation({1, 2, 3}, {1, 1, 2}) - std::sqrt(3.0) / 2) <= 1e-15);
  CHECK(std::isnan(spearman_correlation({1, 2, 3}, {5, 5, 5})));
  CHECK_THROWS_AS(spearman_correlation({1, 2}, {1, 2, 3}), ArgumentError);
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

  CHECK_THROWS_AS(top1_interaction_recovery(gammas, {{0, 1}}), ArgumentError);
  CHECK_THROWS_AS(top1_interaction_recovery(gammas, {{0, 1}, {0, 0}, {0, 1}}), ArgumentError);
  CHECK_THROWS_AS(top1_interaction_recovery(gammas, {{0, 1}, {0, 4}, {0, 1}}), ArgumentError);
  CHECK_THROWS_AS(top1_interaction_recovery(filled<double>({2, 3, 4}, 0.0), {{0, 1}, {0, 1}}), ShapeError);
}

TEST_CASE("interaction recovery: Integrated Hessians of planted products plus smooth main effects find every strongest pair") {
  // y = Σ_planted x_i x_j + Σ_i m_i tanh(x_i) = ½ xᵀA x + Σ_i m_i tanh(x_i),
  // A_ij = A_ji = 1 on the planted pairs of the synthetic dataset. The main
  // effects are separable (∂²/∂x_i∂x_j = 0 for i ≠ j), so with baseline 0 the
  // Integrated Hessians (integrated-hessians.md) are, in closed form:
  //   Γ_ij = A_ij x_i x_j ∫₀¹ t(−ln t) dt = A_ij x_i x_j / 4           (i ≠ j)
  //   Γ_ii = x_i (A x)_i / 4 + m_i tanh(x_i)
  // (the separable part: x_i ∫∫ [αβ x_i g″(αβx_i) + g′(αβx_i)] dα dβ, and the
  // α-integrand is d/dα[α g′(αβx_i)], so it is x_i ∫₀¹ g′(βx_i) dβ = g(x_i) − g(0)).
  // S_ij = |x_i x_j| / 4 on planted pairs and 0 elsewhere, so IH's strongest
  // pair is the strongest planted term in every sample.
  const int samples = 60, d = 10;
  const InteractionDataset data = make_interaction_dataset(samples, d, InteractionKind::Product, 3, 17);
  Tensor<double> a = filled<double>({std::size_t(d), std::size_t(d)}, 0.0);
  for (const auto& [i, j] : data.pairs) a(i, j) = a(j, i) = 1;
  Tensor<double> m = Tensor<double>::from_shape({std::size_t(d), 1});
  for (int i = 0; i < d; ++i) m(i, 0) = 0.5 + 0.1 * i;
  Function<double> planted = [a, m](const Var<double>& x) {  // x [N, d] → y [N, 1]
    const Var<double> quadratic = scale(sum(mul(matmul(x, Var<double>(a)), x), {1}, true), 0.5);
    return add(quadratic, matmul(tanh(x), Var<double>(m)));
  };
  const Function<double> one_example = [&](const Var<double>& v) { return sum(planted(reshape(v, Shape{1, v.numel()}))); };
  const Tensor<double> h = hessian(one_example, Tensor<double>(filled<double>({std::size_t(d)}, 0.3)));
  for (int i = 0; i < d; ++i)
    for (int j = 0; j < d; ++j)
      if (i != j) REQUIRE(h(i, j) == a(i, j));  // the off-diagonal Hessian is exactly A

  IntegratedHessiansOptions<double> options;  // baseline 0, log-weighted rule, 32 nodes
  const InteractionAttributions<double> ih =
      integrated_hessians(ExplainedOutput<double>{planted}, data.x, std::vector<std::size_t>(samples, 0), options);
  const Tensor<double>& gammas = ih.interactions;
  // Off the diagonal the integrand is a polynomial of degree 1, integrated
  // exactly: rounding only (a few products of O(1) numbers, ≤ 1e-15 · |x_i x_j|
  // ~ 1e-14 absolute). On the diagonal the tanh part is integrated by 32
  // log-weighted Gauss nodes, an analytic integrand on [0, 1] for |x_i| < π/2
  // on its complex poles' scale: geometric convergence, measured ≈ 1e-15; 1e-12
  // leaves room for |x_i| up to ≈ 3.5 in this dataset.
  double worst_off = 0, worst_diag = 0;
  std::vector<std::pair<int, int>> strongest;
  for (int s = 0; s < samples; ++s) {
    for (int i = 0; i < d; ++i) {
      double ax = 0;
      for (int j = 0; j < d; ++j) ax += a(i, j) * data.x(s, j);
      for (int j = 0; j < d; ++j) {
        const double expected =
            i == j ? data.x(s, i) * ax / 4 + m(i, 0) * std::tanh(data.x(s, i)) : a(i, j) * data.x(s, i) * data.x(s, j) / 4;
        const double err = std::fabs(gammas(s, i, j) - expected);
        (i == j ? worst_diag : worst_off) = std::max(i == j ? worst_diag : worst_off, err);
      }
    }
    strongest.push_back(strongest_planted_pair(data, s));
  }
  MESSAGE("IH vs closed form on the planted model: off-diagonal " << worst_off << ", diagonal " << worst_diag);
  CHECK(worst_off <= 1e-14);
  CHECK(worst_diag <= 1e-12);
  for (double gap : ih.completeness_gaps) CHECK(gap <= 1e-12);

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
