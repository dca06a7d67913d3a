// Tests for attribution/expected_hessians: unbiasedness on f = x₀x₁, the
// interaction-completeness gap falling like 1/√n, the full matrix agreeing with
// its cheap row / row-sum modes on the same samples, symmetry, seeding.
#include <doctest/doctest.h>

#include <cmath>

#include "attribution/axioms.hpp"
#include "attribution/expected_hessians.hpp"
#include "attribution_models.hpp"
#include "autodiff/errors.hpp"
#include "gap_rate.hpp"

using namespace fluxion;
using namespace fluxion::attribution_testing;

namespace {

ExplainedOutput<double> explain(Function<double> model, std::size_t batch = 64) {
  ExplainedOutput<double> out;
  out.model = std::move(model);
  out.batch_size = batch;
  return out;
}

}  // namespace

TEST_CASE("expected hessians: on f = x0·x1 with reference 0 every entry estimates 1.5") {
  // Each sample of Γ_ij is 12·t_s (t = αβ) for x = (2, 3): E[t] = ¼ gives 3·... = 1.5 per entry,
  // with standard deviation 6·√(E t² − ¼²) = 6·√(1/9 − 1/16) per sample.
  const auto out = explain([](const Var<double>& v) {
    return sum(v * Var<double>(Tensor<double>({1.0, 0.0})), {1}, true) *
           sum(v * Var<double>(Tensor<double>({0.0, 1.0})), {1}, true);
  });
  const Tensor<double> x = Tensor<double>({{2.0, 3.0}});
  const Tensor<double> zero = filled<double>({1, 2}, 0.0);
  ExpectedHessiansOptions options;
  options.samples = 4000;
  const auto r = expected_hessians(out, x, zero, {0}, options);
  const double sd = 6 * std::sqrt(1.0 / 9 - 1.0 / 16) / std::sqrt(4000.0);
  for (std::size_t i = 0; i < 2; ++i)
    for (std::size_t j = 0; j < 2; ++j) CHECK(std::fabs(r.interactions(0, i, j) - 1.5) <= 5 * sd);  // 5σ
  // All four entries are the same sample average, so they agree exactly-ish.
  CHECK(std::fabs(r.interactions(0, 0, 1) - r.interactions(0, 0, 0)) <= 1e-14);
}

TEST_CASE("expected hessians: the interaction-completeness gap falls like 1/sqrt(n)") {
  const auto mlp = SoftplusMlp<double>::random(5, 10, 3, 31, 10.0);
  const auto out = explain(mlp.function(), 256);
  const Tensor<double> x = seeded_uniform<double>({8, 5}, 32, -1.5, 1.5);
  const Tensor<double> references = seeded_uniform<double>({64, 5}, 33, -1.5, 1.5);
  const std::vector<std::size_t> targets = {0, 1, 2, 0, 1, 2, 0, 1};
  std::vector<double> ns, rms;
  for (std::size_t n : {16, 64, 256, 1024}) {
    std::vector<double> gaps;
    for (std::uint64_t seed = 0; seed < 4; ++seed) {
      ExpectedHessiansOptions options;
      options.samples = n;
      options.seed = 200 + seed;
      // Row sums carry the same total Σ_ij Γ_ij at one HVP per sample.
      const auto r = expected_hessians_row_sums(out, x, references, targets, options);
      gaps.insert(gaps.end(), r.completeness_gaps.begin(), r.completeness_gaps.end());
    }
    ns.push_back(double(n));
    rms.push_back(root_mean_square(gaps));
  }
  const double slope = log_log_slope(ns, rms);
  MESSAGE("EH completeness gap RMS: n=16 " << rms[0] << ", n=1024 " << rms[3] << "; fitted slope " << slope);
  CHECK(slope >= -0.65);  // 32 gaps per n: ±0.15 is a 3σ band on the slope
  CHECK(slope <= -0.35);
}

TEST_CASE("expected hessians: full matrix, row and row sums share samples; symmetric; seeded") {
  const auto mlp = SoftplusMlp<double>::random(5, 10, 3, 41, 10.0);
  const auto out = explain(mlp.function(), 13);
  const Tensor<double> x = seeded_uniform<double>({2, 5}, 42), refs = seeded_uniform<double>({20, 5}, 43);
  ExpectedHessiansOptions options;
  options.samples = 50;
  options.seed = 9;
  options.directions_per_sweep = 3;
  const auto full = expected_hessians(out, x, refs, {1, 2}, options);
  const auto sums = expected_hessians_row_sums(out, x, refs, {1, 2}, options);
  const Tensor<double> row = expected_hessians_row(out, x, refs, 4, {1, 2}, options);
  double scale = 0;
  for (double v : full.interactions) scale = std::max(scale, std::fabs(v));
  for (std::size_t n = 0; n < 2; ++n) {
    double total = 0;
    for (std::size_t i = 0; i < 5; ++i) {
      double row_sum = 0;
      for (std::size_t j = 0; j < 5; ++j) row_sum += full.interactions(n, i, j);
      total += row_sum;
      // Same (x', α, β) draws, different tangents: agreement to rounding.
      CHECK(std::fabs(sums.attributions(n, i) - row_sum) <= 1e-13 * scale * 5);
      CHECK(std::fabs(row(n, i) - full.interactions(n, 4, i)) <= 1e-13 * scale);
    }
    CHECK(std::fabs(full.completeness_gaps[n] - sums.completeness_gaps[n]) <= 1e-12 * scale);
  }
  CHECK(interaction_symmetry_gap(full.interactions) <= 1e-13 * scale);  // exact Hessians are symmetric
  options.directions_per_sweep = 0;
  CHECK(max_relative_error(expected_hessians(out, x, refs, {1, 2}, options).interactions, full.interactions) <= 1e-13);
  options.seed = 10;
  CHECK(max_relative_error(expected_hessians(out, x, refs, {1, 2}, options).interactions, full.interactions) > 1e-6);
  options.samples = 0;
  CHECK_THROWS_AS(expected_hessians(out, x, refs, {1, 2}, options), ArgumentError);
}
