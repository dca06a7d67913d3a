// Tests for attribution/integrated_gradients: exact answers on linear models,
// completeness on smoothed (β = 10) MLP and CNN with 64-point Gauss–Legendre,
// the blurred and user baselines, default targets, float vs double.
#include <doctest/doctest.h>

#include <cmath>

#include "attribution/gaussian_blur.hpp"
#include "attribution/integrated_gradients.hpp"
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

// max_n gap_n / |f(x_n) − f(x'_n)|
template <class T>
double relative_gap(const PathAttributions<T>& r) {
  double worst = 0;
  for (std::size_t n = 0; n < r.completeness_gaps.size(); ++n)
    worst = std::max(worst, r.completeness_gaps[n] / std::fabs(r.output_changes[n]));
  return worst;
}

}  // namespace

TEST_CASE("integrated gradients: a linear model gives w ⊙ (x − x') for black and user baselines") {
  const Tensor<double> w = seeded_uniform<double>({3, 4}, 1), b = seeded_uniform<double>({3}, 2);
  const auto out = explain<double>([w, b](const Var<double>& x) { return affine(x, w, b); });
  const Tensor<double> x = seeded_uniform<double>({2, 4}, 3, -2, 2);
  IntegratedGradientsOptions<double> options;
  options.steps = 7;
  const auto black = integrated_gradients(out, x, {2, 0}, options);
  options.baseline = BaselineKind::user;
  options.user_baseline = seeded_uniform<double>({2, 4}, 4);
  const auto user = integrated_gradients(out, x, {2, 0}, options);
  const std::size_t cls[2] = {2, 0};
  for (std::size_t n = 0; n < 2; ++n)
    for (std::size_t i = 0; i < 4; ++i) {
      // Constant gradient: the only error is the rounding of Σ w_k = 1.
      CHECK(std::fabs(black.attributions(n, i) - w(cls[n], i) * x(n, i)) <= 1e-14);
      CHECK(std::fabs(user.attributions(n, i) - w(cls[n], i) * (x(n, i) - options.user_baseline(n, i))) <= 1e-14);
    }
}

TEST_CASE("integrated gradients: completeness on smoothed MLP and CNN with 64-point Gauss–Legendre") {
  IntegratedGradientsOptions<double> options;
  options.steps = 64;
  SUBCASE("MLP 8 → 16 → 16 → 4, β = 10") {
    const auto mlp = SoftplusMlp<double>::random(8, 16, 4, 101, 10.0);
    const Tensor<double> x = seeded_uniform<double>({5, 8}, 102, -1.5, 1.5);
    const auto r = integrated_gradients(explain(mlp.function(), 50), x, {}, options);
    // The bar: gap ≤ 1e-6 of |f(x) − f(x')|.
    CHECK(relative_gap(r) <= 1e-6);
    MESSAGE("MLP IG relative completeness gap (64 GL): " << relative_gap(r));
  }
  SUBCASE("CNN [1, 6, 6], β = 10") {
    const auto cnn = SoftplusCnn<double>::random(3, 201, 10.0);
    const Tensor<double> x = seeded_uniform<double>({3, 1, 6, 6}, 202, 0.0, 1.0);
    const auto r = integrated_gradients(explain(cnn.function(), 40), x, {0, 1, 2}, options);
    CHECK(relative_gap(r) <= 1e-6);
    MESSAGE("CNN IG relative completeness gap (64 GL): " << relative_gap(r));
  }
}

TEST_CASE("integrated gradients: the gap shrinks as Gauss–Legendre nodes are added") {
  const auto mlp = SoftplusMlp<double>::random(6, 12, 3, 111, 10.0);
  const Tensor<double> x = seeded_uniform<double>({4, 6}, 112, -1.5, 1.5);
  IntegratedGradientsOptions<double> options;
  double previous = 1e300;
  for (int steps : {4, 16, 64}) {
    options.steps = steps;
    const double gap = relative_gap(integrated_gradients(explain(mlp.function()), x, {0, 1, 2, 0}, options));
    MESSAGE("steps " << steps << ": relative gap " << gap);
    CHECK(gap < previous);
    previous = gap;
  }
  // Riemann-left has an O(1/n) bias that 64 Gauss–Legendre nodes do not.
  options.rule = "riemann_left";
  options.steps = 64;
  CHECK(relative_gap(integrated_gradients(explain(mlp.function()), x, {0, 1, 2, 0}, options)) > 10 * previous);
}

TEST_CASE("integrated gradients: blurred baseline, default targets, float, bad input") {
  const auto cnn = SoftplusCnn<double>::random(3, 301, 10.0);
  const Tensor<double> x = seeded_uniform<double>({2, 1, 6, 6}, 302, 0.0, 1.0);
  IntegratedGradientsOptions<double> options;
  options.baseline = BaselineKind::blurred;
  options.blur_sigma = 1.5;
  const Tensor<double> baseline = make_baseline(x, options);
  CHECK(baseline == gaussian_blur(x, 1.5));

  // Blurred IG = IG with that tensor as user baseline; predicted classes by default.
  const auto out = explain(cnn.function());
  const auto blurred = integrated_gradients(out, x, {}, options);
  IntegratedGradientsOptions<double> user;
  user.baseline = BaselineKind::user;
  user.user_baseline = baseline;
  const auto explicit_ = integrated_gradients(out, x, predicted_classes(out.model, x), user);
  CHECK(max_relative_error(blurred.attributions, explicit_.attributions) == 0.0);
  CHECK(relative_gap(blurred) <= 1e-6);

  // float agrees with double to float precision (same weights rounded to float).
  const auto cnn_f = SoftplusCnn<float>::random(3, 301, 10.0f);
  IntegratedGradientsOptions<float> options_f;
  const Tensor<float> x_f = seeded_uniform<float>({2, 1, 6, 6}, 302, 0.0, 1.0);
  const auto r_f = integrated_gradients(explain(cnn_f.function()), x_f, {0, 1}, options_f);
  const auto r_d = integrated_gradients(out, x, {0, 1});
  for (std::size_t i = 0; i < r_f.attributions.size(); ++i)
    // ~50 float roundings on O(0.1) values, relative to the largest attribution.
    CHECK(std::fabs(r_f.attributions.data()[i] - r_d.attributions.data()[i]) <= 1e-5);

  options.rule = "simpson";
  CHECK_THROWS_AS(integrated_gradients(out, x, {}, options), ArgumentError);
  IntegratedGradientsOptions<double> flat;
  flat.baseline = BaselineKind::blurred;
  CHECK_THROWS_AS(make_baseline(seeded_uniform<double>({2, 5}, 1), flat), ShapeError);
  user.user_baseline = seeded_uniform<double>({5}, 1);
  CHECK_THROWS_AS(integrated_gradients(out, x, {}, user), ShapeError);
  CHECK(parse_baseline_kind("blur") == BaselineKind::blurred);
  CHECK_THROWS_AS(parse_baseline_kind("noise"), ArgumentError);
}
