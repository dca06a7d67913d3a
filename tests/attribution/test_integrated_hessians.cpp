// Tests for attribution/integrated_hessians: the worked example f = x₀x₁ of
// the notes, self-completeness on a separable f, each rule's exactness degree
// (and the paper grid's closed-form bias), a brute-force assembly from the
// engine's per-point hessian(), row / row-sum modes against the full matrix,
// and the axioms on smoothed (β = 10) MLP and CNN: row completeness,
// symmetry and interaction completeness ≤ 1e-8 with the log-weighted rule.
#include <doctest/doctest.h>

#include <cmath>

#include "attribution/axioms.hpp"
#include "attribution/integrated_gradients.hpp"
#include "attribution/integrated_hessians.hpp"
#include "attribution_models.hpp"
#include "autodiff/errors.hpp"

using namespace fluxion;
using namespace fluxion::attribution_testing;

namespace {

template <class T>
ExplainedOutput<T> explain(Function<T> model, std::size_t batch = 64) {
  ExplainedOutput<T> out;
  out.model = std::move(model);
  out.batch_size = batch;
  return out;
}

// Column i of x [N, d] as [N, 1] (a fixed 0/1 mask and a row sum).
Var<double> column(const Var<double>& x, std::size_t i) {
  Tensor<double> mask = filled<double>({x.shape()[1]}, 0.0);
  mask(i) = 1;
  return sum(x * Var<double>(mask), {1}, true);
}

IntegratedHessiansOptions<double> rule(const std::string& name, int points) {
  IntegratedHessiansOptions<double> o;
  o.rule = name;
  o.points = points;
  return o;
}

double max_abs(const Tensor<double>& t) {
  double m = 0;
  for (double v : t) m = std::max(m, std::fabs(v));
  return m;
}

}  // namespace

TEST_CASE("integrated hessians: f = x0·x1 at (2, 3) gives the notes' matrix") {
  // Γ₀₁ = Γ₁₀ = 6·¼ = 1.5, Γ₀₀ = Γ₁₁ = 1.5, Σ Γ = 6, row sums = IG = (3, 3).
  // Every integrand is of degree ≤ 1 in t, so even one log-weighted node or the
  // 2×2 paper grid is exact.
  const auto out = explain<double>([](const Var<double>& x) { return column(x, 0) * column(x, 1); });
  Tensor<double> x = Tensor<double>::from_shape({1, 2});
  x(0, 0) = 2, x(0, 1) = 3;
  for (const auto& options : {rule("log_weighted", 1), rule("log_weighted", 5), rule("paper_grid", 2)}) {
    CAPTURE(options.rule);
    const auto r = integrated_hessians(out, x, {0}, options);
    for (std::size_t i = 0; i < 2; ++i)
      for (std::size_t j = 0; j < 2; ++j) CHECK(std::fabs(r.interactions(0, i, j) - 1.5) <= 1e-14);
    CHECK(std::fabs(r.output_changes[0] - 6.0) <= 1e-15);
    CHECK(r.completeness_gaps[0] <= 1e-13);
    const auto sums = integrated_hessians_row_sums(out, x, {0}, options);
    CHECK(std::fabs(sums.attributions(0, 0) - 3.0) <= 1e-14);
    CHECK(std::fabs(sums.attributions(0, 1) - 3.0) <= 1e-14);
  }
}

TEST_CASE("integrated hessians: a separable f is self-complete (Γ_ii = change of g_i, Γ_ij = 0)") {
  // f = e^{x0} + tanh(x1) + x2³ with baseline (−0.3, 0.5, −0.5).
  const auto out = explain<double>([](const Var<double>& x) {
    return exp(column(x, 0)) + tanh(column(x, 1)) + pow(column(x, 2), 3.0);
  });
  Tensor<double> x = Tensor<double>::from_shape({1, 3});
  x(0, 0) = 0.7, x(0, 1) = -1.1, x(0, 2) = 1.5;
  IntegratedHessiansOptions<double> options = rule("log_weighted", 24);
  Tensor<double> base = Tensor<double>::from_shape({3});
  base(0) = -0.3, base(1) = 0.5, base(2) = -0.5;
  options.baseline = base;
  const auto r = integrated_hessians(out, x, {0}, options);
  const double change[3] = {std::exp(0.7) - std::exp(-0.3), std::tanh(-1.1) - std::tanh(0.5),
                            std::pow(1.5, 3) - std::pow(-0.5, 3)};
  for (std::size_t i = 0; i < 3; ++i)
    for (std::size_t j = 0; j < 3; ++j)
      // 24 log-weighted nodes integrate these entire functions to rounding;
      // the Hessian of a separable f has exact zeros off the diagonal.
      CHECK(std::fabs(r.interactions(0, i, j) - (i == j ? change[i] : 0.0)) <= (i == j ? 1e-13 : 0.0));
}

TEST_CASE("integrated hessians: exactness degree of the log-weighted rule, bias of the paper grid") {
  // f = x^m, baseline 0: Γ₀₀ = x^m and the integrand in t has degree m − 1, so
  // log_weighted(n) is exact for m ≤ 2n and not for m = 2n + 1.
  const Tensor<double> x = filled<double>({1, 1}, 1.2);
  for (int n : {1, 2, 4}) {
    for (int m = 1; m <= 2 * n + 1; ++m) {
      CAPTURE(n);
      CAPTURE(m);
      const auto out = explain<double>([m](const Var<double>& v) { return pow(v, double(m)); });
      const double got = integrated_hessians(out, x, {0}, rule("log_weighted", n)).interactions(0, 0, 0);
      const double error = std::fabs(got - std::pow(1.2, m)) / std::pow(1.2, m);
      if (m <= 2 * n)
        CHECK(error <= 1e-13);
      else
        CHECK(error >= 1e-8);
    }
  }
  // f = x³: Γ = 9x³ ∫∫ (αβ)², and the k×k grid's mean of α² over linspace(0,1,k)
  // is (2k−1)/(6(k−1)), so the grid returns x³ (2k−1)² / (4(k−1)²): bias ≈ 1/(k−1).
  const auto cube = explain<double>([](const Var<double>& v) { return pow(v, 3.0); });
  for (int k : {2, 5, 10, 40}) {
    const double got = integrated_hessians(cube, x, {0}, rule("paper_grid", k)).interactions(0, 0, 0);
    const double expected = std::pow(1.2, 3) * (2.0 * k - 1) * (2.0 * k - 1) / (4.0 * (k - 1) * (k - 1));
    CHECK(std::fabs(got - expected) <= 1e-13 * expected);
  }
}

TEST_CASE("integrated hessians: matches a brute-force sum of per-point engine Hessians") {
  const auto mlp = SoftplusMlp<double>::random(5, 10, 3, 401, 10.0);
  const auto out = explain(mlp.function(), 9);
  const Tensor<double> x = seeded_uniform<double>({2, 5}, 402, -1.5, 1.5), base = seeded_uniform<double>({5}, 403);
  IntegratedHessiansOptions<double> options = rule("log_weighted", 6);
  options.baseline = base;
  options.directions_per_sweep = 2;
  const std::vector<std::size_t> targets = {2, 0};
  const auto r = integrated_hessians(out, x, targets, options);

  // Γ = Σ_k w_k [t_k D H(p_k) D + diag(Δ ⊙ ∇f(p_k))] with hessian() and grad() per point.
  const Quadrature q = log_weighted(6);
  for (std::size_t n = 0; n < 2; ++n) {
    const Function<double> f = [&](const Var<double>& v) { return explained_output(out, v, {targets[n]}); };
    Tensor<double> expected = filled<double>({5, 5}, 0.0);
    for (std::size_t k = 0; k < q.nodes.size(); ++k) {
      Tensor<double> p = Tensor<double>::from_shape({1, 5}), delta = Tensor<double>::from_shape({5});
      for (std::size_t i = 0; i < 5; ++i) delta(i) = x(n, i) - base(i), p(0, i) = base(i) + q.nodes[k] * delta(i);
      const Tensor<double> H = hessian(f, p), g = grad(f, p);
      for (std::size_t i = 0; i < 5; ++i) {
        for (std::size_t j = 0; j < 5; ++j) expected(i, j) += q.weights[k] * q.nodes[k] * delta(i) * delta(j) * H(i, j);
        expected(i, i) += q.weights[k] * delta(i) * g(0, i);
      }
    }
    Tensor<double> got = Tensor<double>::from_shape({5, 5});
    for (std::size_t i = 0; i < 5; ++i)
      for (std::size_t j = 0; j < 5; ++j) got(i, j) = r.interactions(n, i, j);
    // Same math, different sweep layout and summation order.
    CHECK(max_relative_error(got, expected) <= 1e-12);
  }

  // One row and the row sums agree with the full matrix, for any sweep width.
  for (std::size_t width : {std::size_t(1), std::size_t(3), std::size_t(0)}) {
    options.directions_per_sweep = width;
    CHECK(max_relative_error(integrated_hessians(out, x, targets, options).interactions, r.interactions) <= 1e-13);
  }
  const Tensor<double> row3 = integrated_hessians_row(out, x, 3, targets, options);
  const auto sums = integrated_hessians_row_sums(out, x, targets, options);
  for (std::size_t n = 0; n < 2; ++n)
    for (std::size_t j = 0; j < 5; ++j) {
      double row_sum = 0;
      for (std::size_t b = 0; b < 5; ++b) row_sum += r.interactions(n, j, b);
      CHECK(std::fabs(row3(n, j) - r.interactions(n, 3, j)) <= 1e-13 * max_abs(r.interactions));
      CHECK(std::fabs(sums.attributions(n, j) - row_sum) <= 1e-13 * max_abs(r.interactions) * 5);
    }
  CHECK_THROWS_AS(integrated_hessians_row(out, x, 5, targets, options), ArgumentError);
}

TEST_CASE("integrated hessians: axioms on smoothed MLP and CNN with the log-weighted rule") {
  struct Case {
    std::string name;
    Function<double> model;
    Tensor<double> x;
    std::vector<std::size_t> targets;
  };
  const Case cases[] = {
      {"MLP 6 → 12 → 12 → 3, β = 10", SoftplusMlp<double>::random(6, 12, 3, 501, 10.0).function(),
       seeded_uniform<double>({3, 6}, 502, -1.5, 1.5), {0, 1, 2}},
      {"CNN [1, 6, 6], β = 10", SoftplusCnn<double>::random(3, 503, 10.0).function(),
       seeded_uniform<double>({2, 1, 6, 6}, 504, 0.0, 1.0), {1, 2}},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    const auto out = explain(c.model, 64);
    const auto r = integrated_hessians(out, c.x, c.targets, rule("log_weighted", 64));
    IntegratedGradientsOptions<double> ig_options;
    ig_options.steps = 64;
    const auto ig = integrated_gradients(out, c.x, c.targets, ig_options);
    double scale = 0;
    for (double change : r.output_changes) scale = std::max(scale, std::fabs(change));
    const double row_gap = row_completeness_gap(r.interactions, ig.attributions) / scale;
    const double symmetry = interaction_symmetry_gap(r.interactions) / scale;
    const double completeness = interaction_completeness_gap(r.interactions, r.output_changes) / scale;
    MESSAGE(c.name << ": relative row-completeness gap " << row_gap << ", symmetry " << symmetry
                   << ", interaction completeness " << completeness);
    // The bar, relative to max |f(x) − f(x')|.
    CHECK(row_gap <= 1e-8);
    CHECK(symmetry <= 1e-8);
    CHECK(completeness <= 1e-8);
    const auto sums = integrated_hessians_row_sums(out, c.x, c.targets, rule("log_weighted", 64));
    CHECK(completeness_gap(sums.attributions, sums.output_changes) / scale <= 1e-8);
    // How fast the log-weighted rule converges (and the paper grid does not).
    for (int points : {4, 8, 16, 32}) {
      const auto coarse = integrated_hessians_row_sums(out, c.x, c.targets, rule("log_weighted", points));
      MESSAGE(c.name << ": log_weighted " << points << " points, relative interaction-completeness gap "
                     << completeness_gap(coarse.attributions, coarse.output_changes) / scale);
    }
    const auto grid = integrated_hessians_row_sums(out, c.x, c.targets, rule("paper_grid", 16));
    const double grid_gap = completeness_gap(grid.attributions, grid.output_changes) / scale;
    MESSAGE(c.name << ": paper grid 16×16 (256 points), relative gap " << grid_gap);
    CHECK(grid_gap > 1e-3);  // its O(1/k) bias (~1/(k−1) on a cubic) dwarfs the log-weighted rule
  }
}

TEST_CASE("integrated hessians: batching, float, bad input") {
  const auto mlp = SoftplusMlp<double>::random(6, 8, 3, 601, 10.0);
  const Tensor<double> x = seeded_uniform<double>({2, 6}, 602);
  CallCounter<double> counter;
  IntegratedHessiansOptions<double> options = rule("log_weighted", 8);
  options.directions_per_sweep = 4;
  const auto chunked = integrated_hessians(explain(counter.wrap(mlp.function()), 5), x, {0, 1}, options);
  // 16 path points in ⌈16/5⌉ = 4 chunks × ⌈6/4⌉ = 2 direction sweeps, plus f(x) and f(x').
  CHECK(*counter.calls == 4 * 2 + 2);
  CHECK(*counter.largest_batch == 5);
  const auto whole = integrated_hessians(explain(mlp.function(), 100), x, {0, 1}, options);
  CHECK(max_relative_error(chunked.interactions, whole.interactions) <= 1e-13);

  const auto mlp_f = SoftplusMlp<float>::random(6, 8, 3, 601, 10.0f);
  IntegratedHessiansOptions<float> options_f;
  options_f.points = 8;
  const auto r_f = integrated_hessians(explain(mlp_f.function()), seeded_uniform<float>({2, 6}, 602), {0, 1}, options_f);
  for (std::size_t i = 0; i < r_f.interactions.size(); ++i)
    // float rounding of O(1) sums over 8 nodes and 3 layers.
    CHECK(std::fabs(r_f.interactions.data()[i] - whole.interactions.data()[i]) <= 2e-5);

  CHECK_THROWS_AS(integrated_hessians(explain(mlp.function()), x, {}, rule("simpson", 8)), ArgumentError);
  CHECK_THROWS_AS(integrated_hessians(explain(mlp.function()), x, {}, rule("paper_grid", 1)), ArgumentError);
  options.baseline = seeded_uniform<double>({7}, 1);
  CHECK_THROWS_AS(integrated_hessians(explain(mlp.function()), x, {}, options), ShapeError);
}
