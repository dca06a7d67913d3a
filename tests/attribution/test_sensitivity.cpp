// Tests for attribution/sensitivity (max-sensitivity, Yeh et al. 2019).
//
// Anchors: a constant explanation never moves (0); gradient × input of a
// linear model moves by exactly w ⊙ δ, so with one feature the relative
// sensitivity is max_s |δ_s| / |x| — bounded by r / |x| and, with many
// samples, within 1 % of it.
#include <doctest/doctest.h>

#include <cmath>
#include <memory>

#include "attribution/explained_output.hpp"
#include "attribution/sensitivity.hpp"
#include "attribution_models.hpp"
#include "autodiff/errors.hpp"

using namespace fluxion;
using namespace fluxion::attribution_testing;

TEST_CASE("max-sensitivity: a constant attribution method scores 0") {
  const Tensor<double> x = seeded_uniform<double>({3, 1, 4, 4}, 1, 0, 1);
  const Tensor<double> fixed = seeded_uniform<double>({3, 1, 4, 4}, 2);
  BatchAttributionMethod<double> constant_method = [fixed](const Tensor<double>&, const std::vector<std::size_t>&) {
    return fixed;
  };
  for (double s : max_sensitivity(constant_method, x, {0, 1, 2})) CHECK(s == 0.0);
}

TEST_CASE("max-sensitivity: gradient x input of a linear model, one feature") {
  const Tensor<double> x = seeded_uniform<double>({3, 1}, 3, 0.5, 1.5);
  const double w = -1.7;
  BatchAttributionMethod<double> grad_times_input = [w](const Tensor<double>& at, const std::vector<std::size_t>&) {
    return Tensor<double>(w * at);
  };
  MaxSensitivityOptions options;
  options.samples = 2000;
  options.radius = 0.05;
  const std::vector<double> relative = max_sensitivity(grad_times_input, x, {0, 0, 0}, options);
  options.relative = false;
  const std::vector<double> absolute = max_sensitivity(grad_times_input, x, {0, 0, 0}, options);
  for (std::size_t n = 0; n < 3; ++n) {
    const double bound = options.radius / std::fabs(x(n, 0));
    // P(all 2000 |δ| < 0.99 r) = 0.99²⁰⁰⁰ ≈ 2e-9.
    CHECK(relative[n] <= bound * (1 + 1e-12));
    CHECK(relative[n] >= 0.99 * bound);
    // Same seed, same draws: the absolute form is the relative one times ‖φ(x)‖ = |w x|.
    CHECK(std::fabs(absolute[n] - relative[n] * std::fabs(w * x(n, 0))) <= 1e-15);
  }
}

TEST_CASE("max-sensitivity: the bound r |w| / |w . x| holds in many dimensions") {
  const std::size_t d = 10;
  const Tensor<double> w = seeded_uniform<double>({d}, 4);
  const Tensor<double> x = seeded_uniform<double>({2, d}, 5, 0, 1);
  BatchAttributionMethod<double> grad_times_input = [w](const Tensor<double>& at, const std::vector<std::size_t>&) {
    Tensor<double> phi = at;
    for (std::size_t k = 0; k < phi.size(); ++k) phi.data()[k] *= w.data()[k % w.size()];
    return phi;
  };
  MaxSensitivityOptions options;
  options.samples = 50;
  const std::vector<double> s = max_sensitivity(grad_times_input, x, {0, 0}, options);
  for (std::size_t n = 0; n < 2; ++n) {
    double w2 = 0, phi2 = 0;
    for (std::size_t i = 0; i < d; ++i) {
      w2 += w(i) * w(i);
      phi2 += w(i) * x(n, i) * w(i) * x(n, i);
    }
    // ‖w ⊙ δ‖ ≤ r‖w‖ for ‖δ‖_∞ ≤ r; random δ reach a fair part of it.
    CHECK(s[n] <= options.radius * std::sqrt(w2 / phi2) * (1 + 1e-12));
    CHECK(s[n] >= 0.3 * options.radius * std::sqrt(w2 / phi2));
  }
}

TEST_CASE("max-sensitivity: targets stay fixed and inputs stay inside the clip range") {
  const Tensor<double> x = filled<double>({2, 3}, 0.0);  // on the lower edge of [0, 1]
  auto seen_targets = std::make_shared<std::vector<std::vector<std::size_t>>>();
  auto lowest = std::make_shared<double>(1.0);
  BatchAttributionMethod<double> recorder = [seen_targets, lowest](const Tensor<double>& at,
                                                                   const std::vector<std::size_t>& targets) {
    seen_targets->push_back(targets);
    for (double v : at) *lowest = std::min(*lowest, v);
    return Tensor<double>(at + 1.0);
  };
  MaxSensitivityOptions options;
  options.samples = 5;
  options.clip_min = 0;
  options.clip_max = 1;
  max_sensitivity(recorder, x, {4, 7}, options);
  CHECK(seen_targets->size() == 6);  // x, then 5 samples
  for (const auto& t : *seen_targets) CHECK(t == std::vector<std::size_t>{4, 7});
  CHECK(*lowest >= 0.0);
}

TEST_CASE("max-sensitivity: saliency of a smooth MLP is seeded and grows with the radius") {
  const SoftplusMlp<double> mlp = SoftplusMlp<double>::random(6, 10, 3, 40);
  ExplainedOutput<double> out{mlp.function()};
  BatchAttributionMethod<double> saliency = [out](const Tensor<double>& at, const std::vector<std::size_t>& targets) {
    return output_gradients(out, at, targets);
  };
  const Tensor<double> x = seeded_uniform<double>({3, 6}, 41, 0, 1);
  const std::vector<std::size_t> targets = predicted_classes(out.model, x);
  MaxSensitivityOptions options;
  options.seed = 9;
  const std::vector<double> a = max_sensitivity(saliency, x, targets, options);
  CHECK(a == max_sensitivity(saliency, x, targets, options));
  options.radius = 0.2;
  const std::vector<double> b = max_sensitivity(saliency, x, targets, options);
  for (std::size_t n = 0; n < 3; ++n) {
    CHECK(a[n] > 0);
    // Same seed: δ is scaled by 10 sample by sample; a smooth gradient moves
    // about 10× as far (not exactly: curvature), certainly more than 5×.
    CHECK(b[n] > 5 * a[n]);
  }
  options.seed = 10;
  options.radius = 0.02;
  CHECK(max_sensitivity(saliency, x, targets, options) != a);
}

TEST_CASE("max-sensitivity: float instantiation and bad arguments") {
  const Tensor<float> x = seeded_uniform<float>({2, 3}, 1, 0.5, 1);
  BatchAttributionMethod<float> doubled = [](const Tensor<float>& at, const std::vector<std::size_t>&) {
    return Tensor<float>(2.0f * at);
  };
  MaxSensitivityOptions options;
  const std::vector<double> s32 = max_sensitivity(doubled, x, {0, 0}, options);
  for (double s : s32) {
    CHECK(s > 0);
    CHECK(s <= options.radius / 0.5 * 1.001);  // ‖δ‖ ≤ r√3 and ‖x‖ ≥ 0.5√3; 0.1 % for float rounding
  }
  // The same method, inputs (float values) and seed in double: the draws are
  // the same (made in double, rounded to T only when x + δ is stored), and
  // 2·(x + δ), 2x are exact in float, so the two differ only by the float32
  // rounding e of x + δ (u = 2⁻²⁴): |e_i| ≤ u|x_i + δ_i|, ‖e‖ ≤ u(‖x‖ + r√d).
  // s = ‖δ + e‖/‖x‖ then moves by ≤ ‖e‖/‖x‖ ≤ u(1 + r√d/‖x‖) ≈ 1.05u (with
  // ‖x‖ ≥ 0.5√3, r = 0.02), plus the rounding of the norms (≤ d·u·s ≈ 0.1u);
  // the max over samples is 1-Lipschitz. We require ≤ 4u (≈ 2.4e-7 on s ≈ 0.02).
  BatchAttributionMethod<double> doubled64 = [](const Tensor<double>& at, const std::vector<std::size_t>&) {
    return Tensor<double>(2.0 * at);
  };
  Tensor<double> x64 = Tensor<double>::from_shape({2, 3});
  for (std::size_t i = 0; i < x.size(); ++i) x64.data()[i] = double(x.data()[i]);
  const std::vector<double> s64 = max_sensitivity(doubled64, x64, {0, 0}, options);
  for (std::size_t n = 0; n < 2; ++n) {
    MESSAGE("max-sensitivity float32 vs float64: " << s32[n] << " vs " << s64[n] << ", relative difference "
                                                   << std::fabs(s32[n] - s64[n]) / s64[n]);
    CHECK(std::fabs(s32[n] - s64[n]) <= 4 * std::ldexp(1.0, -24));
    CHECK(s64[n] > 0.005);  // a real sensitivity (~r√d/‖x‖), not rounding
  }
  CHECK_THROWS_AS(max_sensitivity(doubled, x, {0}, options), ArgumentError);
  options.samples = 0;
  CHECK_THROWS_AS(max_sensitivity(doubled, x, {0, 0}, options), ArgumentError);
  BatchAttributionMethod<float> wrong_shape = [](const Tensor<float>&, const std::vector<std::size_t>&) {
    return filled<float>({2, 4}, 1.0f);
  };
  options.samples = 1;
  CHECK_THROWS_AS(max_sensitivity(wrong_shape, x, {0, 0}, options), ShapeError);
}
