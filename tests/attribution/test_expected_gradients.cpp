// Tests for attribution/expected_gradients: a one-row reference set reduces EG
// to a Monte Carlo IG (exact on linear models), the completeness gap against
// E_D f(x') falls like 1/√n (fitted slope), seeding and batching.
#include <doctest/doctest.h>

#include <cmath>

#include "attribution/expected_gradients.hpp"
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

TEST_CASE("expected gradients: one reference and a linear model give w ⊙ (x − x') exactly") {
  const Tensor<double> w = seeded_uniform<double>({2, 4}, 1), b = seeded_uniform<double>({2}, 2);
  const auto out = explain([w, b](const Var<double>& x) { return affine(x, w, b); });
  const Tensor<double> x = seeded_uniform<double>({3, 4}, 3, -2, 2), ref = seeded_uniform<double>({1, 4}, 4);
  ExpectedGradientsOptions options;
  options.samples = 17;
  const auto r = expected_gradients(out, x, ref, {1, 0, 1}, options);
  const std::size_t cls[3] = {1, 0, 1};
  for (std::size_t n = 0; n < 3; ++n) {
    for (std::size_t i = 0; i < 4; ++i)
      // Each sample is exactly Δ ⊙ w; the mean of 17 equal numbers, up to rounding.
      CHECK(std::fabs(r.attributions(n, i) - w(cls[n], i) * (x(n, i) - ref(0, i))) <= 1e-14);
    CHECK(r.completeness_gaps[n] <= 1e-13);
  }
  CHECK(r.gradient_evaluations == 3 * 17);
}

TEST_CASE("expected gradients: the completeness gap falls like 1/sqrt(n)") {
  // Gap = |Σ EG − (f(x) − E_D f(x'))| over the whole reference set D; its RMS
  // over 8 examples × 4 seeds at n = 16 … 1024 should follow n^{−1/2}.
  const auto mlp = SoftplusMlp<double>::random(6, 12, 3, 11, 10.0);
  const auto out = explain(mlp.function(), 256);
  const Tensor<double> x = seeded_uniform<double>({8, 6}, 12, -1.5, 1.5);
  const Tensor<double> references = seeded_uniform<double>({64, 6}, 13, -1.5, 1.5);
  const std::vector<std::size_t> targets = {0, 1, 2, 0, 1, 2, 0, 1};
  std::vector<double> ns, rms;
  for (std::size_t n : {16, 64, 256, 1024}) {
    std::vector<double> gaps;
    for (std::uint64_t seed = 0; seed < 4; ++seed) {
      ExpectedGradientsOptions options;
      options.samples = n;
      options.seed = 100 + seed;
      const auto r = expected_gradients(out, x, references, targets, options);
      gaps.insert(gaps.end(), r.completeness_gaps.begin(), r.completeness_gaps.end());
    }
    ns.push_back(double(n));
    rms.push_back(root_mean_square(gaps));
  }
  const double slope = log_log_slope(ns, rms);
  MESSAGE("EG completeness gap RMS: n=16 " << rms[0] << ", n=1024 " << rms[3] << "; fitted slope " << slope);
  // 32 gaps per n: the RMS estimate has ~12 % noise, ±0.15 on the slope is 3σ-safe.
  CHECK(slope >= -0.65);
  CHECK(slope <= -0.35);
}

TEST_CASE("expected gradients: seeded, batch-size independent, bad input rejected") {
  const auto mlp = SoftplusMlp<double>::random(5, 8, 3, 21, 10.0);
  const Tensor<double> x = seeded_uniform<double>({3, 5}, 22), refs = seeded_uniform<double>({10, 5}, 23);
  ExpectedGradientsOptions options;
  options.samples = 30;
  options.seed = 5;
  CallCounter<double> counter;
  const auto a = expected_gradients(explain(counter.wrap(mlp.function()), 7), x, refs, {0, 1, 2}, options);
  // 90 gradient points in ⌈90/7⌉ = 13 calls, f(x) in 1 call, E_D f for 3 classes in 3 × ⌈10/7⌉ = 6.
  CHECK(*counter.calls == 13 + 1 + 6);
  CHECK(*counter.largest_batch == 7);
  const auto b = expected_gradients(explain(mlp.function(), 1000), x, refs, {0, 1, 2}, options);
  // Same samples in the same order; only GEMM blocking may differ.
  CHECK(max_relative_error(a.attributions, b.attributions) <= 1e-13);
  options.seed = 6;
  CHECK(max_relative_error(expected_gradients(explain(mlp.function()), x, refs, {0, 1, 2}, options).attributions,
                           a.attributions) > 1e-6);

  CHECK_THROWS_AS(expected_gradients(explain(mlp.function()), x, seeded_uniform<double>({4, 6}, 1)), ShapeError);
  options.samples = 0;
  CHECK_THROWS_AS(expected_gradients(explain(mlp.function()), x, refs, {}, options), ArgumentError);
}
