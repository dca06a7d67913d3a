// Tests for attribution/infidelity (Yeh et al. 2019).
//
// For a linear logit f(x) = w·x every perturbation changes f by exactly wᵀI,
// so the gradient w (and w ⊙ (x − b) in multiply-by-inputs mode) has zero
// infidelity, a wrong attribution w + e has E[(Iᵀe)²] = σ²‖e‖² under Gaussian
// noise, and 3w becomes exact again after optimal scaling (β = 1/3).
// On a smooth nonlinear model the gradient's error is the second-order
// Taylor term ½IᵀHI, so its infidelity falls like σ⁴.
#include <doctest/doctest.h>

#include <cmath>

#include "attribution/infidelity.hpp"
#include "attribution_models.hpp"
#include "autodiff/errors.hpp"

using namespace fluxion;
using namespace fluxion::attribution_testing;

namespace {

/// Logits [w·flatten(x), 0].
template <class T>
Function<T> linear_two_class(const Tensor<T>& w) {
  Tensor<T> weights = Tensor<T>::from_shape({w.size(), 2});
  for (std::size_t i = 0; i < w.size(); ++i) {
    weights(i, 0) = w.data()[i];
    weights(i, 1) = T(0);
  }
  return [weights](const Var<T>& x) { return matmul(flatten(x), Var<T>(weights)); };
}

/// The same per-example vector v repeated for every example of shape `shape`.
template <class T>
Tensor<T> repeated(const Tensor<T>& v, const Shape& shape) {
  Tensor<T> t = Tensor<T>::from_shape(shape);
  for (std::size_t k = 0; k < t.size(); ++k) t.data()[k] = v.data()[k % v.size()];
  return t;
}

double max_of(const std::vector<double>& v) { return *std::max_element(v.begin(), v.end()); }

}  // namespace

TEST_CASE("infidelity: exact attributions of a linear model score zero") {
  const Shape shape{3, 1, 5, 5};
  const Tensor<double> w = seeded_uniform<double>({25}, 1);
  const Tensor<double> x = seeded_uniform<double>(shape, 2, 0, 1);
  ExplainedOutput<double> out{linear_two_class<double>(w)};
  const std::vector<std::size_t> targets{0, 0, 0};
  const Tensor<double> gradient = repeated(w, shape);
  // The errors are roundings of O(1) sums (≲ 1e-15), squared: far below 1e-26.
  const double zero = 1e-26;

  InfidelityOptions square;
  square.perturbation = InfidelityPerturbation::square_removal;
  square.square_size = 2;
  square.baseline_value = 0.3;
  square.samples = 50;
  CHECK(max_of(infidelity(out, x, gradient, targets, square).infidelity) <= zero);

  // Integrated Gradients of a linear model from the baseline b: w ⊙ (x − b).
  const Tensor<double> ig = gradient * (x - 0.3);
  square.multiply_by_inputs = true;
  CHECK(max_of(infidelity(out, x, ig, targets, square).infidelity) <= zero);
  // … whose dot product without the division is wrong, so the mode matters.
  square.multiply_by_inputs = false;
  CHECK(max_of(infidelity(out, x, ig, targets, square).infidelity) > 1e-4);

  InfidelityOptions gaussian;
  gaussian.samples = 50;
  CHECK(max_of(infidelity(out, x, gradient, targets, gaussian).infidelity) <= zero);

  // Flat examples [N, d]: the "square" is a window of consecutive features.
  const Tensor<double> flat_x = seeded_uniform<double>({2, 25}, 3, 0, 1);
  square.square_size = 5;
  CHECK(max_of(infidelity(out, flat_x, repeated(w, {2, 25}), {0, 0}, square).infidelity) <= zero);
}

TEST_CASE("infidelity: float instantiation, exact linear attribution") {
  const Tensor<float> w = seeded_uniform<float>({16}, 1);
  const Tensor<float> x = seeded_uniform<float>({2, 1, 4, 4}, 2, 0, 1);
  ExplainedOutput<float> out{linear_two_class<float>(w)};
  InfidelityOptions options;
  options.perturbation = InfidelityPerturbation::square_removal;
  options.square_size = 3;
  // float roundings of O(1) sums are ~1e-7; squared ~1e-14.
  CHECK(max_of(infidelity(out, x, repeated(w, {2, 1, 4, 4}), {0, 0}, options).infidelity) <= 1e-11);
}

TEST_CASE("infidelity: a wrong attribution w + e scores sigma^2 |e|^2 under Gaussian noise") {
  const std::size_t d = 12;
  const Tensor<double> w = seeded_uniform<double>({d}, 5);
  const Tensor<double> e = seeded_uniform<double>({3, d}, 6, -0.5, 0.5);
  const Tensor<double> x = seeded_uniform<double>({3, d}, 7, 0, 1);
  ExplainedOutput<double> out{linear_two_class<double>(w), OutputKind::logit, 256};
  InfidelityOptions options;
  options.noise_std = 0.2;
  options.samples = 4000;
  options.seed = 42;
  const InfidelityResult r = infidelity(out, x, Tensor<double>(repeated(w, {3, d}) + e), {0, 0, 0}, options);
  for (std::size_t n = 0; n < 3; ++n) {
    double e2 = 0;
    for (std::size_t i = 0; i < d; ++i) e2 += e(n, i) * e(n, i);
    const double expected = options.noise_std * options.noise_std * e2;
    // (Iᵀe)² / (σ²‖e‖²) is χ²₁: mean 1, s.d. √2, so the Monte Carlo mean of
    // 4000 draws has relative s.e. √(2/4000) = 0.022; allow 5 s.e.
    MESSAGE("infidelity / (sigma^2 |e|^2) = " << r.infidelity[n] / expected);
    CHECK(std::fabs(r.infidelity[n] / expected - 1) <= 5 * std::sqrt(2.0 / 4000));
    CHECK(r.scale[n] == 1.0);
  }
}

TEST_CASE("infidelity: optimal scaling makes 3w exact again with beta = 1/3") {
  const Tensor<double> w = seeded_uniform<double>({9}, 8);
  const Tensor<double> x = seeded_uniform<double>({2, 1, 3, 3}, 9, 0, 1);
  ExplainedOutput<double> out{linear_two_class<double>(w)};
  const Tensor<double> tripled = 3.0 * repeated(w, {2, 1, 3, 3});
  InfidelityOptions options;
  options.samples = 20;
  CHECK(max_of(infidelity(out, x, tripled, {0, 0}, options).infidelity) > 1e-4);
  options.optimal_scaling = true;
  const InfidelityResult r = infidelity(out, x, tripled, {0, 0}, options);
  for (std::size_t n = 0; n < 2; ++n) {
    CHECK(r.infidelity[n] <= 1e-26);                 // squared O(1e-15) roundings
    CHECK(std::fabs(r.scale[n] - 1.0 / 3) <= 1e-13); // a ratio of sums of ~20 O(1) terms
  }
}

TEST_CASE("infidelity: one possible square gives the hand-computed squared error") {
  // d = 3 features and a window of 3: the only perturbation is I = x − b.
  const SoftplusMlp<double> mlp = SoftplusMlp<double>::random(3, 6, 4, 10);
  ExplainedOutput<double> out{mlp.function()};
  const Tensor<double> x = seeded_uniform<double>({2, 3}, 11, 0, 1);
  const Tensor<double> phi = seeded_uniform<double>({2, 3}, 12);
  InfidelityOptions options;
  options.perturbation = InfidelityPerturbation::square_removal;
  options.square_size = 3;
  options.baseline_value = 0.25;
  options.samples = 7;
  const std::vector<std::size_t> targets{1, 3};
  const InfidelityResult r = infidelity(out, x, phi, targets, options);
  NoGradGuard inference;
  const Tensor<double> zx = mlp.function()(Var<double>(x)).value();
  const Tensor<double> zb = mlp.function()(Var<double>(filled<double>({2, 3}, 0.25))).value();
  for (std::size_t n = 0; n < 2; ++n) {
    double claim = 0;
    for (std::size_t i = 0; i < 3; ++i) claim += (x(n, i) - 0.25) * phi(n, i);
    const double error = claim - (zx(n, targets[n]) - zb(n, targets[n]));
    CHECK(std::fabs(r.infidelity[n] - error * error) <= 1e-14 * std::max(1.0, error * error));
  }
}

TEST_CASE("infidelity: the gradient's error on a smooth model falls like sigma^4") {
  const SoftplusMlp<double> mlp = SoftplusMlp<double>::random(5, 8, 3, 20, 2.0);
  ExplainedOutput<double> out{mlp.function()};
  const Tensor<double> x = seeded_uniform<double>({2, 5}, 21, 0, 1);
  const std::vector<std::size_t> targets{0, 2};
  const Tensor<double> gradient = output_gradients(out, x, targets);
  InfidelityOptions options;
  options.samples = 30;
  options.noise_std = 1e-3;
  const InfidelityResult big = infidelity(out, x, gradient, targets, options);
  options.noise_std = 5e-4;  // same seed: the same draws, halved
  const InfidelityResult small = infidelity(out, x, gradient, targets, options);
  for (std::size_t n = 0; n < 2; ++n) {
    // (½IᵀHI)² scales by 2⁴; the cubic Taylor term perturbs the ratio by O(σ) ~ 1e-3.
    MESSAGE("infidelity ratio for sigma 1e-3 vs 5e-4: " << big.infidelity[n] / small.infidelity[n]);
    CHECK(big.infidelity[n] / small.infidelity[n] == doctest::Approx(16).epsilon(0.01));
  }
}

TEST_CASE("infidelity: seeded, and independent of the batch size") {
  const SoftplusCnn<double> cnn = SoftplusCnn<double>::random(3, 30);
  const Tensor<double> x = seeded_uniform<double>({2, 1, 6, 6}, 31, 0, 1);
  const Tensor<double> phi = seeded_uniform<double>({2, 1, 6, 6}, 32);
  InfidelityOptions options;
  options.perturbation = InfidelityPerturbation::square_removal;
  options.samples = 9;
  options.seed = 5;
  CallCounter<double> counter;
  ExplainedOutput<double> chunked{counter.wrap(cnn.function()), OutputKind::logit, 4};
  ExplainedOutput<double> whole{cnn.function(), OutputKind::logit, 100};
  const InfidelityResult a = infidelity(chunked, x, phi, {0, 1}, options);
  // one call for f(x), then ⌈18 / 4⌉ = 5 calls for the perturbed inputs
  CHECK(*counter.calls == 1 + 5);
  const InfidelityResult b = infidelity(whole, x, phi, {0, 1}, options);
  // The same draws; only the engine's GEMM rounding may depend on the batch shape.
  for (std::size_t n = 0; n < 2; ++n) CHECK(std::fabs(a.infidelity[n] - b.infidelity[n]) <= 1e-14 * b.infidelity[n]);
  options.seed = 6;
  CHECK(infidelity(whole, x, phi, {0, 1}, options).infidelity != a.infidelity);
}

TEST_CASE("infidelity: bad arguments fail with clear errors") {
  const Tensor<double> w = seeded_uniform<double>({4}, 1);
  ExplainedOutput<double> out{linear_two_class<double>(w)};
  const Tensor<double> x = seeded_uniform<double>({1, 2, 2}, 2);
  CHECK_THROWS_AS(infidelity(out, x, seeded_uniform<double>({1, 4}, 3), {0}), ShapeError);
  CHECK_THROWS_AS(infidelity(out, x, x, {0, 1}), ArgumentError);
  InfidelityOptions options;
  options.samples = 0;
  CHECK_THROWS_AS(infidelity(out, x, x, {0}, options), ArgumentError);
  options.samples = 3;
  options.perturbation = InfidelityPerturbation::square_removal;
  options.square_size = 3;  // larger than the 2×2 image
  CHECK_THROWS_AS(infidelity(out, x, x, {0}, options), ArgumentError);
  CHECK(parse_infidelity_perturbation("square") == InfidelityPerturbation::square_removal);
  CHECK_THROWS_AS(parse_infidelity_perturbation("salt"), ArgumentError);
}
