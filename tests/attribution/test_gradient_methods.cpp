// Tests for attribution/gradient_methods: saliency against finite differences,
// gradient × input and SmoothGrad on linear models (exact), SmoothGrad /
// SmoothGrad² / VarGrad on a quadratic against their closed-form expectations,
// seeding and batch-size independence.
#include <doctest/doctest.h>

#include <cmath>

#include "attribution/gradient_methods.hpp"
#include "attribution_models.hpp"
#include "autodiff/errors.hpp"

using namespace fluxion;
using namespace fluxion::attribution_testing;

namespace {

ExplainedOutput<double> explain(Function<double> model, std::size_t batch = 64) {
  ExplainedOutput<double> out;
  out.model = std::move(model);
  out.batch_size = batch;
  return out;
}

// f(x) = Σ_i a_i x_i² as logits [N, 1]: ∇f = 2 a ⊙ x.
Function<double> quadratic(const Tensor<double>& a) {
  return [a](const Var<double>& x) { return sum(square(x) * Var<double>(a), {1}, true); };
}

}  // namespace

TEST_CASE("gradient methods: saliency is |∇f| (finite differences), gradient × input is x ⊙ ∇f") {
  const auto mlp = SoftplusMlp<double>::random(5, 8, 3, 1, 10.0);
  const Tensor<double> x = seeded_uniform<double>({3, 5}, 2, -1, 1);
  const auto out = explain(mlp.function());
  const std::vector<std::size_t> targets = {0, 2, 1};
  const Tensor<double> signed_ = saliency(out, x, targets, SaliencyOptions{false});
  const Tensor<double> absolute = saliency(out, x, targets);
  const Tensor<double> gxi = gradient_times_input(out, x, targets);
  for (std::size_t n = 0; n < 3; ++n) {
    const Tensor<double> row = take_examples(x, n, 1);
    auto f = [&](const Tensor<double>& z) { return mlp.function()(Var<double>(z)).value()(0, targets[n]); };
    const Tensor<double> numeric = numerical_grad(f, row);
    for (std::size_t i = 0; i < 5; ++i) {
      // Central differences (h = 1e-6) on an O(1) smooth function: error ~1e-9.
      CHECK(std::fabs(signed_(n, i) - numeric(0, i)) <= 1e-7);
      CHECK(absolute(n, i) == std::fabs(signed_(n, i)));
      CHECK(gxi(n, i) == x(n, i) * signed_(n, i));
    }
  }
}

TEST_CASE("gradient methods: on a linear model SmoothGrad = w, SmoothGrad² = w², VarGrad = 0") {
  const Tensor<double> w = seeded_uniform<double>({2, 4}, 3), b = seeded_uniform<double>({2}, 4);
  const auto out = explain([w, b](const Var<double>& x) { return affine(x, w, b); }, 16);
  const Tensor<double> x = seeded_uniform<double>({3, 4}, 5, -1, 1);
  const std::vector<std::size_t> targets = {1, 0, 1};
  SmoothGradOptions options;
  options.samples = 20;
  const Tensor<double> sg = smoothgrad(out, x, targets, options);
  const Tensor<double> sq = smoothgrad_squared(out, x, targets, options);
  const Tensor<double> var = vargrad(out, x, targets, options);
  for (std::size_t n = 0; n < 3; ++n)
    for (std::size_t i = 0; i < 4; ++i) {
      const double wi = w(targets[n], i);
      // Every noisy gradient is exactly w; the running mean keeps it to rounding.
      CHECK(std::fabs(sg(n, i) - wi) <= 1e-15);
      CHECK(std::fabs(sq(n, i) - wi * wi) <= 1e-15);
      CHECK(std::fabs(var(n, i)) <= 1e-30);
    }
}

TEST_CASE("gradient methods: SmoothGrad statistics on a quadratic match their expectations") {
  // f = Σ a_i x_i², g = 2a ⊙ (x + ε), ε ~ N(0, σ²):  E g = 2a x,  Var g = 4a²σ²,  E g² = 4a²(x² + σ²).
  const Tensor<double> a = Tensor<double>({0.5, -1.0, 2.0});
  const auto out = explain(quadratic(a), 500);
  Tensor<double> x = Tensor<double>::from_shape({1, 3});
  x(0, 0) = 0.2, x(0, 1) = -0.6, x(0, 2) = 1.4;  // range 2.0 → σ = 0.15 · 2 = 0.3
  SmoothGradOptions options;
  options.samples = 20000;
  options.seed = 7;
  const double sigma = 0.3, m = double(options.samples);
  const Tensor<double> sg = smoothgrad(out, x, {0}, options);
  const Tensor<double> sq = smoothgrad_squared(out, x, {0}, options);
  const Tensor<double> var = vargrad(out, x, {0}, options);
  for (std::size_t i = 0; i < 3; ++i) {
    const double s = 2 * std::fabs(a(i)) * sigma;  // std of one noisy gradient
    const double mu = 2 * a(i) * x(0, i);
    // 5 standard errors: fails by chance with probability < 1e-6 per check.
    CHECK(std::fabs(sg(0, i) - mu) <= 5 * s / std::sqrt(m));
    CHECK(std::fabs(var(0, i) - s * s) <= 5 * s * s * std::sqrt(2 / m));
    CHECK(std::fabs(sq(0, i) - (mu * mu + s * s)) <= 5 * std::sqrt(4 * mu * mu * s * s + 2 * s * s * s * s) / std::sqrt(m));
    // The three are one set of samples: E g² = Var g + (E g)² holds exactly.
    CHECK(std::fabs(sq(0, i) - (var(0, i) + sg(0, i) * sg(0, i))) <= 1e-12 * sq(0, i));
  }
}

TEST_CASE("gradient methods: SmoothGrad is seeded and independent of batch_size") {
  const Tensor<double> a = Tensor<double>({0.5, -1.0, 2.0});
  const Tensor<double> x = seeded_uniform<double>({4, 3}, 9, -1, 1);
  SmoothGradOptions options;
  options.seed = 42;
  const Tensor<double> first = smoothgrad(explain(quadratic(a), 7), x, {0, 0, 0, 0}, options);
  const Tensor<double> again = smoothgrad(explain(quadratic(a), 200), x, {0, 0, 0, 0}, options);
  CHECK(first == again);  // same noise in the same order: bit-identical
  options.seed = 43;
  CHECK(smoothgrad(explain(quadratic(a)), x, {0, 0, 0, 0}, options) != first);

  CallCounter<double> counter;
  options.samples = 10;
  smoothgrad(explain(counter.wrap(quadratic(a)), 6), x, {0, 0, 0, 0}, options);
  CHECK(*counter.calls == 7);  // ⌈40 / 6⌉ chunks of noisy points
  CHECK(*counter.largest_batch == 6);

  options.samples = 0;
  CHECK_THROWS_AS(smoothgrad(explain(quadratic(a)), x, {0, 0, 0, 0}, options), ArgumentError);
}
