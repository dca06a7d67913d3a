// Tests for attribution/blur_ig: Blur IG (Xu et al., CVPR 2020) integrates
// ∇f along the blur path L(x, σ_max) → x. Checked against closed forms (for a
// linear f any path gives w ⊙ (end − start); for f = Σ c_i x_i² the line
// integral is Σ c_i (x_i² − b_i²) and the trapezoid rule is exact on it),
// convergence orders of the completeness gap, and the dummy-feature and
// implementation-invariance axioms.
#include <doctest/doctest.h>

#include <cmath>

#include <xtensor/xmath.hpp>
#include <xtensor/xview.hpp>

#include "attribution/blur_ig.hpp"
#include "attribution/gaussian_blur.hpp"
#include "attribution_models.hpp"
#include "gap_rate.hpp"
#include "autodiff/errors.hpp"

using namespace fluxion;
using namespace fluxion::attribution_testing;

namespace {

/// f(x) = Σ_i c_i x_i² over images x [N, 1, H, W], as one logit [N, 1].
Function<double> weighted_squares(const Tensor<double>& c) {
  return [c](const Var<double>& x) {
    const Var<double> flat = flatten(x);
    Tensor<double> row = c;
    row.reshape({1, c.size()});
    return sum(mul(square(flat), Var<double>(row)), {1}, true);
  };
}

/// f(x) = Σ_i w_i x_i over images, as one logit [N, 1].
Function<double> linear_logit(const Tensor<double>& w) {
  return [w](const Var<double>& x) {
    Tensor<double> column = w;
    column.reshape({w.size(), 1});
    return matmul(flatten(x), Var<double>(column));
  };
}

double sum_of(const Tensor<double>& a, std::size_t e, std::size_t d) {
  double s = 0;
  for (std::size_t i = 0; i < d; ++i) s += a.data()[e * d + i];
  return s;
}

}  // namespace

TEST_CASE("blur_ig: f = Σ c_i x_i² gets exactly c_i (x_i² − blur(x, σ_max)_i²) with the trapezoid rule") {
  // Along any path ∫ 2 c_i γ_i dγ_i = c_i (x_i² − b_i²), and the trapezoid
  // average (p_s + p_{s+1})/2 times (p_{s+1} − p_s) telescopes exactly.
  const Tensor<double> x = seeded_uniform<double>({2, 1, 6, 7}, 11, 0.0, 1.0);
  const Tensor<double> c = seeded_uniform<double>({42}, 12, -1.0, 1.0);
  const ExplainedOutput<double> out{weighted_squares(c)};
  BlurIGOptions options;
  options.max_sigma = 2.5;
  options.steps = 7;  // few steps on purpose: exactness must not depend on S
  const PathAttributions<double> r = blur_ig(out, x, {0, 0}, options);
  for (std::size_t e = 0; e < 2; ++e) {
    Tensor<double> image = xt::view(x, e);
    const Tensor<double> b = gaussian_blur(image, options.max_sigma);
    double change = 0;
    for (std::size_t i = 0; i < 42; ++i) {
      const double exact = c(i) * (image.data()[i] * image.data()[i] - b.data()[i] * b.data()[i]);
      change += exact;
      CHECK(std::fabs(r.attributions.data()[e * 42 + i] - exact) <= 1e-14);  // a few roundings of O(1) terms
    }
    CHECK(std::fabs(r.output_changes[e] - change) <= 1e-13);
    CHECK(r.completeness_gaps[e] <= 1e-13);
  }
  CHECK(r.gradient_evaluations == 2 * 8);
}

TEST_CASE("blur_ig: a linear f gives w ⊙ (x − blur(x, σ_max)) for every rule and spacing") {
  const Tensor<double> x = seeded_uniform<double>({1, 1, 8, 8}, 21, 0.0, 1.0);
  const Tensor<double> w = seeded_uniform<double>({64}, 22, -1.0, 1.0);
  const ExplainedOutput<double> out{linear_logit(w)};
  Tensor<double> image = xt::view(x, 0);
  const Tensor<double> b = gaussian_blur(image, 3.0);
  for (SegmentRule rule : {SegmentRule::left, SegmentRule::midpoint, SegmentRule::trapezoid}) {
    for (BlurSchedule schedule : {BlurSchedule::linear, BlurSchedule::sqrt}) {
      BlurIGOptions options;
      options.max_sigma = 3.0;
      options.steps = 5;
      options.rule = rule;
      options.schedule = schedule;
      const PathAttributions<double> r = blur_ig(out, x, {}, options);
      for (std::size_t i = 0; i < 64; ++i)  // the gradient is w everywhere: Σ_s w ⊙ Δp_s telescopes
        CHECK(std::fabs(r.attributions.data()[i] - w(i) * (image.data()[i] - b.data()[i])) <= 1e-15);
    }
  }
}

TEST_CASE("blur_ig: the scales run from σ_max down to exactly 0") {
  BlurIGOptions options;
  options.max_sigma = 4.0;
  options.steps = 4;
  const std::vector<double> linear = blur_ig_sigmas(options);
  REQUIRE(linear.size() == 5);
  CHECK(linear[0] == 4.0);
  CHECK(linear[1] == 3.0);
  CHECK(linear[4] == 0.0);
  options.schedule = BlurSchedule::sqrt;  // even in σ²: σ_s² = 16 (1 − s/4)
  const std::vector<double> squares = blur_ig_sigmas(options);
  CHECK(squares[1] * squares[1] == doctest::Approx(12.0).epsilon(1e-14));
  CHECK(squares[4] == 0.0);
}

TEST_CASE("blur_ig: on a CNN the completeness gap falls like 1/S (left) and 1/S² (trapezoid)") {
  const Function<double> cnn = SoftplusCnn<double>::random(3, 31).function();
  const ExplainedOutput<double> out{cnn};
  const Tensor<double> x = seeded_uniform<double>({1, 1, 6, 6}, 32, 0.0, 1.0);
  // Completeness is against the blurred image; its output is computed here
  // straight from the model, not by the code under test.
  const Tensor<double> logits_x = cnn(Var<double>(x)).value();
  const Tensor<double> logits_b = cnn(Var<double>(gaussian_blur(x, 2.0))).value();
  const std::size_t c = logits_x(0, 0) > logits_x(0, 1) ? (logits_x(0, 0) > logits_x(0, 2) ? 0 : 2)
                                                         : (logits_x(0, 1) > logits_x(0, 2) ? 1 : 2);
  const double change = logits_x(0, c) - logits_b(0, c);
  auto gap = [&](SegmentRule rule, int steps) {
    BlurIGOptions options;
    options.max_sigma = 2.0;
    options.steps = steps;
    options.rule = rule;
    const PathAttributions<double> r = blur_ig(out, x, {}, options);
    CHECK(std::fabs(r.output_changes[0] - change) <= 1e-13);
    const double independent = std::fabs(sum_of(r.attributions, 0, 36) - change);
    CHECK(std::fabs(independent - r.completeness_gaps[0]) <= 1e-13);
    return independent;
  };
  const double left_16 = gap(SegmentRule::left, 16), left_32 = gap(SegmentRule::left, 32),
               left_64 = gap(SegmentRule::left, 64);
  const double trap_16 = gap(SegmentRule::trapezoid, 16), trap_32 = gap(SegmentRule::trapezoid, 32),
               trap_64 = gap(SegmentRule::trapezoid, 64);
  MESSAGE("Blur IG gap on the CNN (|Δf| = " << std::fabs(change) << "): left S=16/32/64 " << left_16 << ", " << left_32
          << ", " << left_64 << "; trapezoid " << trap_16 << ", " << trap_32 << ", " << trap_64);
  // Orders fitted over S = 16, 32, 64 (gap_rate.hpp): left point 1 (half the
  // step, half the error), trapezoid 2. Bands ±0.2: the next term of the error
  // expansion at these S, not a neighbouring half-integer order.
  const std::vector<double> h{1.0 / 16, 1.0 / 32, 1.0 / 64};
  const double left = convergence_order(h, {left_16, left_32, left_64});
  const double trapezoid = convergence_order(h, {trap_16, trap_32, trap_64});
  MESSAGE("Blur IG fitted orders in 1/S: left " << left << ", trapezoid " << trapezoid);
  CHECK(left >= 0.8);
  CHECK(left <= 1.2);
  CHECK(trapezoid >= 1.8);
  CHECK(trapezoid <= 2.2);
  CHECK(trap_64 <= 1e-3 * std::fabs(change));
}

TEST_CASE("blur_ig: a pixel the model ignores gets exactly 0; permuted hidden units change nothing") {
  // An MLP over 20 flat pixels, blurred as a 4×5 image (image_shape).
  const SoftplusMlp<double> mlp = SoftplusMlp<double>::random(20, 7, 3, 41).ignoring(6);
  const Tensor<double> x = seeded_uniform<double>({3, 20}, 42, 0.0, 1.0);
  BlurIGOptions options;
  options.max_sigma = 1.5;
  options.steps = 16;
  options.image_shape = {1, 4, 5};
  const PathAttributions<double> a = blur_ig(ExplainedOutput<double>{mlp.function()}, x, {0, 1, 2}, options);
  const PathAttributions<double> b =
      blur_ig(ExplainedOutput<double>{mlp.permuted_hidden(43).function()}, x, {0, 1, 2}, options);
  for (std::size_t e = 0; e < 3; ++e) {
    CHECK(a.attributions(e, 6) == 0.0);  // ∂f/∂x_6 ≡ 0, so 0 · Δ = 0 exactly, however far the pixel moves
    double scale = 0;
    for (std::size_t i = 0; i < 20; ++i) scale = std::max(scale, std::fabs(a.attributions(e, i)));
    CHECK(scale > 1e-3);  // the other pixels do get attribution
    for (std::size_t i = 0; i < 20; ++i)  // same function, sums in another order: rounding only
      CHECK(std::fabs(a.attributions(e, i) - b.attributions(e, i)) <= 1e-13 * scale);
  }
}

TEST_CASE("blur_ig: a batch gives each example's own attribution; float agrees with double") {
  const SoftplusCnn<double> cnn_d = SoftplusCnn<double>::random(3, 51);
  const Tensor<double> x = seeded_uniform<double>({3, 1, 6, 6}, 52, 0.0, 1.0);
  BlurIGOptions options;
  options.max_sigma = 1.0;
  options.steps = 12;
  const ExplainedOutput<double> out{cnn_d.function(), OutputKind::probability, 5};
  const PathAttributions<double> batch = blur_ig(out, x, {2, 0, 1}, options);
  const std::vector<std::size_t> classes{2, 0, 1};
  for (std::size_t e = 0; e < 3; ++e) {
    Tensor<double> one = xt::view(x, xt::range(e, e + 1));
    const PathAttributions<double> single = blur_ig(out, one, {classes[e]}, options);
    for (std::size_t i = 0; i < 36; ++i) CHECK(single.attributions.data()[i] == batch.attributions.data()[e * 36 + i]);
  }
  const SoftplusCnn<float> cnn_f = SoftplusCnn<float>::random(3, 51);
  const Tensor<float> xf = xt::cast<float>(x);
  const PathAttributions<float> f32 =
      blur_ig(ExplainedOutput<float>{cnn_f.function(), OutputKind::probability, 5}, xf, {2, 0, 1}, options);
  double worst = 0, scale = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    worst = std::max(worst, std::fabs(double(f32.attributions.data()[i]) - batch.attributions.data()[i]));
    scale = std::max(scale, std::fabs(batch.attributions.data()[i]));
  }
  CHECK(worst <= 1e-4 * scale);  // float32 has ~7 digits; a 12-step sum of O(1) terms keeps 4
}

TEST_CASE("blur_ig: bad options and shapes fail with one clear error") {
  const ExplainedOutput<double> out{SoftplusMlp<double>::random(20, 5, 2, 61).function()};
  const Tensor<double> flat = seeded_uniform<double>({1, 20}, 62);
  CHECK_THROWS_AS(blur_ig(out, flat, {}, BlurIGOptions{}), ShapeError);  // rank-1 example, no image_shape
  BlurIGOptions wrong;
  wrong.image_shape = {1, 3, 5};  // 15 ≠ 20 values
  CHECK_THROWS_AS(blur_ig(out, flat, {}, wrong), ShapeError);
  BlurIGOptions no_steps;
  no_steps.steps = 0;
  no_steps.image_shape = {4, 5};
  CHECK_THROWS_AS(blur_ig(out, flat, {}, no_steps), ArgumentError);
  BlurIGOptions negative;
  negative.max_sigma = -1;
  negative.image_shape = {4, 5};
  CHECK_THROWS_AS(blur_ig(out, flat, {}, negative), ArgumentError);
}
