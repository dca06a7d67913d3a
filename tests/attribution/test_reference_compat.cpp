// Tests for the reference-compatible modes (issue 21): each mode's defining
// property, computed independently here from the reference library's formula
// (read in Captum, PAIR saliency, path_explain and the AGI code, re-derived):
//   * Captum's riemann_trapezoid: weights 1/n with halved ends, summing to (n−1)/n;
//     PAIR's / path_explain's inclusive linspace with equal weights 1/n
//     (IG of a cubic in closed form for both);
//   * path_explain TF's IH grid: n of the ⌈√n⌉² grid products at numpy-rounded
//     indices (hand-listed nodes, a round-half-to-even tie, Γ of x₀x₁);
//   * SmoothGrad over |∇f| with an absolute σ (Captum NoiseTunnel(Saliency)):
//     the folded-normal mean on a quadratic;
//   * PAIR's Blur IG: σ_i = √(i·σ_max/S), zero padding, scipy's kernel radius,
//     and its finite-difference sum on a quadratic;
//   * AGI summed over an explicit class list = the sum of one-class walks;
//   * path_explain torch's Expected Hessians with a fresh inner baseline on
//     f = (wᵀx)²: the expectation with the −½ H_ab Cov(x'_a, x'_b) term.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numbers>

#include "attribution/agi.hpp"
#include "attribution/axiom_checks.hpp"
#include "attribution/blur_ig.hpp"
#include "attribution/expected_hessians.hpp"
#include "attribution/gaussian_blur.hpp"
#include "attribution/gradient_methods.hpp"
#include "attribution/integrated_gradients.hpp"
#include "attribution/integrated_hessians.hpp"
#include "attribution/method_registry.hpp"
#include "attribution/quadrature.hpp"
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

/// f(x) = Σ_i c_i x_i^power over the flattened example (one logit).
Function<double> power_sum(const Tensor<double>& c, int power) {
  return [c, power](const Var<double>& v) {
    Var<double> flat = flatten(v);
    Var<double> p = flat;
    for (int k = 1; k < power; ++k) p = p * flat;
    return sum(p * Var<double>(c), {1}, true);
  };
}

}  // namespace

// ---------------------------------------------------------------- IG rules

TEST_CASE("compat: captum_trapezoid has Captum's weights 1/n with halved ends, summing to (n−1)/n") {
  for (int n : {2, 5, 50}) {
    const Quadrature q = make_quadrature("captum_trapezoid", n);
    REQUIRE(q.nodes.size() == std::size_t(n));
    double total = 0;
    for (int i = 0; i < n; ++i) {
      const double expected = (i == 0 || i == n - 1) ? 1.0 / (2.0 * n) : 1.0 / n;  // Captum's step_sizes
      CHECK(q.weights[i] == expected);
      CHECK(std::fabs(q.nodes[i] - double(i) / (n - 1)) <= 1e-16);  // linspace(0, 1, n)
      total += q.weights[i];
    }
    CHECK(std::fabs(total - double(n - 1) / n) <= 1e-15);
  }
  CHECK_THROWS_AS(make_quadrature("captum_trapezoid", 1), ArgumentError);  // Captum: assert n > 1
}

TEST_CASE("compat: inclusive_linspace has equal weights 1/n on linspace(0, 1, n), both ends included") {
  const Quadrature q = make_quadrature("inclusive_linspace", 25);  // PAIR's x_steps default
  for (int i = 0; i < 25; ++i) {
    CHECK(q.weights[i] == 1.0 / 25);
    CHECK(std::fabs(q.nodes[i] - i / 24.0) <= 1e-16);
  }
}

TEST_CASE("compat: IG of a cubic with Captum's and PAIR's rules matches their closed forms") {
  // f = Σ c_i x_i³, baseline 0: ∇_i f(t x) = 3 c_i t² x_i², so IG_i = 3 c_i x_i³ Σ_k w_k t_k².
  // PAIR / path_explain: Σ_k (1/n)(k/(n−1))² = (2n − 1)/(6(n − 1)).
  // Captum: the same minus the halved end t = 1: (2n − 1)/(6(n − 1)) − 1/(2n).
  const Tensor<double> c = Tensor<double>({0.7, -1.3, 0.4});
  const Tensor<double> x = Tensor<double>({{0.9, 0.5, -1.2}});
  const auto out = explain(power_sum(c, 3));
  for (int n : {5, 50}) {
    const double pair = (2.0 * n - 1) / (6.0 * (n - 1)), captum = pair - 1.0 / (2.0 * n);
    for (const auto& [rule, moment] : {std::pair<std::string, double>{"inclusive_linspace", pair},
                                       std::pair<std::string, double>{"captum_trapezoid", captum}}) {
      IntegratedGradientsOptions<double> o;
      o.rule = rule;
      o.steps = n;
      const PathAttributions<double> r = integrated_gradients(out, x, {0}, o);
      MethodSettings<double> s;  // the same through the method table
      s.steps = n;
      s.options.rule = rule;
      const MethodOutput<double> m = run_method(method_spec<double>("ig"), out, x, {0}, s);
      for (std::size_t i = 0; i < 3; ++i) {
        const double expected = 3 * c(i) * std::pow(x(0, i), 3) * moment;
        CHECK(std::fabs(r.attributions.data()[i] - expected) <= 1e-14);
        CHECK(std::fabs(m.values.data()[i] - expected) <= 1e-14);
      }
    }
  }
}

// ---------------------------------------------------------------- IH grid

TEST_CASE("compat: path_explain_tf_grid keeps n of the ⌈√n⌉² products at numpy's rounded indices") {
  // n = 5: k = 3, linspace(0, 8, 5) = 0, 2, 4, 6, 8 → (α, β) = (0,0), (0,1), (½,½), (1,0), (1,1).
  const Quadrature five = path_explain_tf_grid(5);
  const std::vector<double> nodes5 = {0, 0, 0.25, 0, 1};
  REQUIRE(five.nodes.size() == 5);
  for (std::size_t m = 0; m < 5; ++m) {
    CHECK(std::fabs(five.nodes[m] - nodes5[m]) <= 1e-16);
    CHECK(five.weights[m] == 0.2);
  }
  // n = 11: k = 4, linspace(0, 15, 11) = 0, 1.5, 3, 4.5, …: np.round halves to even
  // (1.5 → 2, 4.5 → 4, 7.5 → 8, 10.5 → 10, 13.5 → 14); grid axis {0, ⅓, ⅔, 1}, index a·4 + b.
  const std::vector<int> indices = {0, 2, 3, 4, 6, 8, 9, 10, 12, 14, 15};
  const Quadrature eleven = interaction_rule("path_explain_tf_grid", 11);
  REQUIRE(eleven.nodes.size() == 11);
  double mean_t = 0;
  for (std::size_t m = 0; m < 11; ++m) {
    const double expected = (indices[m] / 4) / 3.0 * ((indices[m] % 4) / 3.0);
    CHECK(std::fabs(eleven.nodes[m] - expected) <= 1e-16);
    mean_t += expected / 11;
  }
  CHECK(std::fabs(mean_t - 23.0 / 99) <= 1e-15);
  // A square n is path_explain torch's full k×k grid (ih_paper_grid).
  const Quadrature square = path_explain_tf_grid(49), grid = ih_paper_grid(7);
  for (std::size_t m = 0; m < 49; ++m) CHECK(std::fabs(square.nodes[m] - grid.nodes[m]) <= 1e-16);

  // Γ₀₁ of f = x₀x₁ at x = (2, 3), baseline 0: Σ_m w_m t_m Δ₀Δ₁ ∂²f = 6 · mean(t) = 6 · 23/99.
  const auto out = explain([](const Var<double>& v) {
    return sum(v * Var<double>(Tensor<double>({1.0, 0.0})), {1}, true) *
           sum(v * Var<double>(Tensor<double>({0.0, 1.0})), {1}, true);
  });
  MethodSettings<double> s;
  s.steps = 11;
  s.options.rule = "path_explain_tf_grid";
  const MethodOutput<double> r = run_method(method_spec<double>("ih"), out, Tensor<double>({{2.0, 3.0}}), {0}, s);
  CHECK(std::fabs(r.values(0, 0, 1) - 6.0 * 23 / 99) <= 1e-14);
}

// ---------------------------------------------------------------- SmoothGrad

TEST_CASE("compat: SmoothGrad over |∇f| with an absolute σ is Captum's NoiseTunnel(Saliency) (folded normal)") {
  // f = Σ c_i x_i² / 2 ⇒ ∇_i f(x + ε) = c_i (x_i + ε_i) ~ N(μ = c_i x_i, s² = c_i² σ²), whose
  // absolute value has mean s √(2/π) e^{−μ²/2s²} + μ erf(μ/(s√2)) and second moment μ² + s².
  const Tensor<double> c = Tensor<double>({1.0, -2.0, 0.5, 3.0});
  const Tensor<double> half = Tensor<double>({0.5, -1.0, 0.25, 1.5});
  const Tensor<double> x = Tensor<double>({{0.2, -0.1, 0.6, 0.05}});  // range 0.7: the relative σ would be 0.105
  const double sigma = 0.4;
  const std::size_t n = 40000;
  const auto out = explain(power_sum(half, 2), 4096);
  SmoothGradOptions o{.samples = n, .seed = 3};
  o.noise_sigma = sigma;
  o.absolute_gradients = true;
  const Tensor<double> mean_abs = smoothgrad(out, x, {0}, o);
  const Tensor<double> var_abs = vargrad(out, x, {0}, o);
  MethodSettings<double> s;
  s.samples = n;
  s.seed = 3;
  s.options.aggregate = "mean_absolute";
  s.options.noise_sigma = sigma;
  const MethodOutput<double> table = run_method(method_spec<double>("smoothgrad"), out, x, {0}, s);
  for (std::size_t i = 0; i < 4; ++i) {
    const double mu = c(i) * x(0, i), sd = std::fabs(c(i)) * sigma;
    const double folded = sd * std::sqrt(2 / std::numbers::pi) * std::exp(-mu * mu / (2 * sd * sd)) +
                          mu * std::erf(mu / (sd * std::sqrt(2.0)));
    const double second = mu * mu + sd * sd, variance = second - folded * folded;
    CHECK(std::fabs(mean_abs.data()[i] - folded) <= 5 * std::sqrt(variance / n));  // 5 standard errors
    CHECK(table.values.data()[i] == mean_abs.data()[i]);                             // same draws, same seed
    // The variance of |g| (Captum's vargrad over Saliency): its standard error is below 5·E g²·√(2/n) here.
    CHECK(std::fabs(var_abs.data()[i] - variance) <= 5 * second * std::sqrt(2.0 / n));
  }
}

TEST_CASE("compat: an absolute noise σ is used as given, not scaled by the input's range") {
  // SmoothGrad² of f = Σ c_i x_i²/2 estimates c_i² (x_i² + σ²): with σ absolute it does not depend on the range.
  const Tensor<double> half = Tensor<double>({0.5, 1.0});
  const Tensor<double> x = Tensor<double>({{0.0, 10.0}});  // range 10: the relative σ would be 1.5
  const std::size_t n = 40000;
  SmoothGradOptions o{.samples = n, .seed = 9};
  o.noise_sigma = 0.3;
  const Tensor<double> sq = smoothgrad_squared(explain(power_sum(half, 2), 4096), x, {0}, o);
  const double c[2] = {1.0, 2.0};
  for (std::size_t i = 0; i < 2; ++i) {
    const double mu = c[i] * x(0, i), s2 = c[i] * c[i] * 0.09;
    // E g² = μ² + s², Var g² = 4μ²s² + 2s⁴.
    CHECK(std::fabs(sq.data()[i] - (mu * mu + s2)) <= 5 * std::sqrt((4 * mu * mu * s2 + 2 * s2 * s2) / n));
  }
}

// ---------------------------------------------------------------- Blur IG

TEST_CASE("compat: pair_sqrt visits PAIR's σ_i = √(i·σ_max/S), from √σ_max down to 0") {
  BlurIGOptions o;
  o.max_sigma = 50;  // PAIR's defaults
  o.steps = 100;
  o.schedule = BlurSchedule::pair_sqrt;
  const std::vector<double> sigmas = blur_ig_sigmas(o);
  REQUIRE(sigmas.size() == 101);
  for (int i = 0; i <= 100; ++i) CHECK(std::fabs(sigmas[100 - i] - std::sqrt(i * 50.0 / 100)) <= 1e-15);
  CHECK(std::fabs(sigmas[0] - std::sqrt(50.0)) <= 1e-15);  // the most blurred image: √50 = 7.07, not 50
}

TEST_CASE("compat: zero padding and scipy's kernel radius int(4σ + 0.5)") {
  // scipy's radius: σ = 1.2 → int(5.3) = 5 (11 taps) where ⌈3σ⌉ = 4 (9 taps); σ = 0.01 → one tap.
  const std::vector<double> g = gaussian_kernel(1.2, KernelRadius::scipy);
  REQUIRE(g.size() == 11);
  double total = 0;
  for (int a = -5; a <= 5; ++a) total += std::exp(-a * a / (2 * 1.44));
  for (int a = -5; a <= 5; ++a) CHECK(std::fabs(g[a + 5] - std::exp(-a * a / (2 * 1.44)) / total) <= 1e-16);
  CHECK(gaussian_kernel(1.2).size() == 9);
  CHECK(gaussian_kernel(0.01, KernelRadius::scipy).size() == 1);
  // A constant image of ones, zero padded: pixel (h, w) = (Σ_{taps inside} g)_rows · (Σ_{taps inside} g)_cols.
  const Tensor<double> ones = filled<double>({1, 7, 8}, 1.0);
  const Tensor<double> b = gaussian_blur(ones, 1.2, BlurBorder::zeros, KernelRadius::scipy);
  auto inside = [&](int j, int length) {
    double s = 0;
    for (int a = -5; a <= 5; ++a)
      if (j - a >= 0 && j - a < length) s += g[a + 5];
    return s;
  };
  for (int h = 0; h < 7; ++h)
    for (int w = 0; w < 8; ++w) CHECK(std::fabs(b(0, h, w) - inside(h, 7) * inside(w, 8)) <= 1e-15);
  // Reflection keeps it exactly constant.
  const Tensor<double> r = gaussian_blur(ones, 1.2, BlurBorder::reflect, KernelRadius::scipy);
  for (double v : r) CHECK(std::fabs(v - 1.0) <= 1e-15);
}

TEST_CASE("compat: PAIR's finite-difference Blur IG sum on a quadratic") {
  // PAIR: A = −Σ_{i<S} (σ_{i+1} − σ_i) · (L(σ_i + h) − L(σ_i))/h ⊙ ∇f(L(σ_i)), with ∇f(z) = 2 c ⊙ z
  // for f = Σ c_i z_i², σ_i = √(i σ_max / S), L = zero-padded scipy blur. Computed here term by term.
  const Tensor<double> x = seeded_uniform<double>({1, 1, 6, 6}, 41, 0.0, 1.0);
  const Tensor<double> c = seeded_uniform<double>({36}, 42, -1.0, 1.0);
  const auto out = explain(power_sum(c, 2));
  const double max_sigma = 4.0, h = 0.01;
  const int S = 12;
  Tensor<double> image = take_examples(x, 0, 1);
  image.reshape({1, 6, 6});
  std::vector<double> expected(36, 0.0);
  for (int i = 0; i < S; ++i) {
    const double s_i = std::sqrt(i * max_sigma / S), s_next = std::sqrt((i + 1) * max_sigma / S);
    const Tensor<double> at = gaussian_blur(image, s_i, BlurBorder::zeros, KernelRadius::scipy);
    const Tensor<double> nudged = gaussian_blur(image, s_i + h, BlurBorder::zeros, KernelRadius::scipy);
    for (std::size_t k = 0; k < 36; ++k)
      expected[k] -= (s_next - s_i) * (nudged.data()[k] - at.data()[k]) / h * 2 * c(k) * at.data()[k];
  }
  MethodSettings<double> s;
  s.steps = S;
  s.options = {.rule = "pair_finite_difference", .sigma_schedule = "pair_sqrt", .blur_border = "zeros",
               .blur_kernel = "scipy", .max_sigma = max_sigma};
  const MethodOutput<double> r = run_method(method_spec<double>("blur_ig"), out, x, {0}, s);
  for (std::size_t k = 0; k < 36; ++k) CHECK(std::fabs(r.values.data()[k] - expected[k]) <= 1e-13);
  // Its reference point is the zero-padded blur at √σ_max = 2; the sum is not complete (error O(dσ)).
  const Tensor<double> end = gaussian_blur(image, 2.0, BlurBorder::zeros, KernelRadius::scipy);
  double change = 0, total = 0;
  for (std::size_t k = 0; k < 36; ++k) {
    change += c(k) * (image.data()[k] * image.data()[k] - end.data()[k] * end.data()[k]);
    total += expected[k];
  }
  CHECK(std::fabs(r.output_changes[0] - change) <= 1e-13);
  CHECK(std::fabs(r.completeness_gaps[0] - std::fabs(total - change)) <= 1e-13);
  CHECK(r.completeness_gaps[0] > 1e-3 * std::fabs(change));
}

// ---------------------------------------------------------------- AGI

TEST_CASE("compat: AGI summed over an explicit class list is the sum of its one-class walks") {
  const Function<double> mlp = SoftplusMlp<double>::random(4, 8, 5, 51).function();
  const auto out = explain(mlp);
  const Tensor<double> x = seeded_uniform<double>({2, 4}, 52, 0.2, 0.8);
  const std::vector<std::size_t> classes = {1, 3};
  const std::vector<std::size_t> list = {0, 1, 4};  // class 1 is example 0's own: skipped there (AGI_main's `continue`)
  AGIOptions o;
  o.false_class_list = list;
  o.aggregate = AGIAggregate::sum_over_classes;
  const PathAttributions<double> summed = agi(out, x, classes, o);
  for (std::size_t e = 0; e < 2; ++e) {
    std::vector<double> expected(4, 0.0);
    double change = 0;
    for (std::size_t j : list) {
      if (j == classes[e]) continue;
      AGIOptions one;
      one.false_class_list = {j};
      const PathAttributions<double> walk = agi(out, take_examples(x, e, 1), {classes[e]}, one);
      for (std::size_t i = 0; i < 4; ++i) expected[i] += walk.attributions.data()[i];
      change += walk.output_changes[0];  // f(x) − f(end_j)
    }
    for (std::size_t i = 0; i < 4; ++i) CHECK(std::fabs(summed.attributions(e, i) - expected[i]) <= 1e-14);
    CHECK(std::fabs(summed.output_changes[e] - change) <= 1e-14);
  }
  // The mean over the same list is the sum over the number of walks (2 for example 0, 3 for example 1).
  o.aggregate = AGIAggregate::mean;
  const PathAttributions<double> mean = agi(out, x, classes, o);
  for (std::size_t i = 0; i < 4; ++i) {
    CHECK(std::fabs(summed.attributions(0, i) - 2 * mean.attributions(0, i)) <= 1e-14);
    CHECK(std::fabs(summed.attributions(1, i) - 3 * mean.attributions(1, i)) <= 1e-14);
  }
  AGIOptions bad;
  bad.false_class_list = {0, 7};
  CHECK_THROWS_WITH_AS(agi(out, x, classes, bad), "agi: false class 7 is not a class of the model, which has 5",
                       ArgumentError);
  bad.false_class_list = {2, 2};
  CHECK_THROWS_WITH_AS(agi(out, x, classes, bad), "agi: false class 2 is listed twice", ArgumentError);
  bad.false_class_list = {1};
  CHECK_THROWS_WITH_AS(agi(out, x, classes, bad), "agi: the false-class list holds only the explained class 1",
                       ArgumentError);
}

// ---------------------------------------------------------------- Expected Hessians

TEST_CASE("compat: EH with a fresh inner baseline (path_explain torch) loses ½ H_ab Cov(x'_a, x'_b) off the diagonal") {
  // f = (wᵀx)², H = 2wwᵀ. References D: four points, uniform; Δ = x − x'.
  // Shared (paper): Γ_ab = ¼ E[Δ_aΔ_b] H_ab + δ_ab 2w_a E[Δ_a (wᵀx' + ¼ wᵀΔ)].
  // Fresh (torch):  Γ_ab = shared − ½ H_ab Cov_ab + δ_ab ½ Σ_c H_ac Cov_ac   (derived in expected_hessians.hpp).
  const double w[2] = {1.0, -0.5}, x[2] = {1.0, 0.5};
  const double refs[4][2] = {{0.0, 0.0}, {0.6, 0.5}, {-0.4, -0.6}, {0.2, 0.3}};
  double mu[2] = {0, 0}, cov[2][2] = {{0, 0}, {0, 0}}, delta2[2][2] = {{0, 0}, {0, 0}}, diag[2] = {0, 0};
  for (const auto& r : refs)
    for (int a = 0; a < 2; ++a) mu[a] += r[a] / 4;
  for (const auto& r : refs) {
    const double wr = w[0] * r[0] + w[1] * r[1];
    const double wd = w[0] * (x[0] - r[0]) + w[1] * (x[1] - r[1]);
    for (int a = 0; a < 2; ++a) {
      diag[a] += 2 * w[a] * (x[a] - r[a]) * (wr + 0.25 * wd) / 4;
      for (int b = 0; b < 2; ++b) {
        cov[a][b] += (r[a] - mu[a]) * (r[b] - mu[b]) / 4;
        delta2[a][b] += (x[a] - r[a]) * (x[b] - r[b]) / 4;
      }
    }
  }
  double shared[2][2], fresh[2][2];
  for (int a = 0; a < 2; ++a)
    for (int b = 0; b < 2; ++b) {
      const double H = 2 * w[a] * w[b];
      shared[a][b] = 0.25 * delta2[a][b] * H + (a == b ? diag[a] : 0.0);
      fresh[a][b] = shared[a][b] - 0.5 * H * cov[a][b];
    }
  for (int a = 0; a < 2; ++a)
    for (int c = 0; c < 2; ++c) fresh[a][a] += 0.5 * 2 * w[a] * w[c] * cov[a][c];

  // The exact mean and standard deviation of one fresh Monte Carlo term, by enumerating
  // (x', x'') and a 2-point Gauss–Legendre rule in α and in β (the term is quadratic in each).
  const double nodes[2] = {0.5 - 0.5 / std::sqrt(3.0), 0.5 + 0.5 / std::sqrt(3.0)};
  double m1[2][2] = {{0, 0}, {0, 0}}, m2[2][2] = {{0, 0}, {0, 0}};
  for (const auto& r1 : refs)
    for (const auto& r2 : refs)
      for (double alpha : nodes)
        for (double beta : nodes) {
          double p[2], L[2], q[2], D[2];
          for (int a = 0; a < 2; ++a) {
            D[a] = x[a] - r1[a];
            p[a] = r1[a] + alpha * D[a];
            L[a] = p[a] - r2[a];
            q[a] = r2[a] + beta * L[a];
          }
          const double wq = w[0] * q[0] + w[1] * q[1];
          for (int a = 0; a < 2; ++a)
            for (int b = 0; b < 2; ++b) {
              const double t = beta * L[a] * D[b] * 2 * w[a] * w[b] + (a == b ? D[a] * 2 * w[a] * wq : 0.0);
              m1[a][b] += t / 64;
              m2[a][b] += t * t / 64;
            }
        }
  for (int a = 0; a < 2; ++a)
    for (int b = 0; b < 2; ++b) CHECK(std::fabs(m1[a][b] - fresh[a][b]) <= 1e-15);  // the closed form is the mean

  const auto out = explain([w](const Var<double>& v) {
    Var<double> s = sum(v * Var<double>(Tensor<double>({w[0], w[1]})), {1}, true);
    return s * s;
  }, 8192);
  const Tensor<double> xs = Tensor<double>({{x[0], x[1]}});
  const Tensor<double> pool = Tensor<double>({{0.0, 0.0}, {0.6, 0.5}, {-0.4, -0.6}, {0.2, 0.3}});
  const std::size_t n = 100000;
  MethodSettings<double> s;
  s.samples = n;
  s.seed = 5;
  s.references = pool;
  s.options.inner_baseline = "fresh";
  const MethodOutput<double> torch = run_method(method_spec<double>("eh"), out, xs, {0}, s);
  s.options.inner_baseline.clear();
  const MethodOutput<double> paper = run_method(method_spec<double>("eh"), out, xs, {0}, s);
  for (int a = 0; a < 2; ++a)
    for (int b = 0; b < 2; ++b) {
      const double se = std::sqrt((m2[a][b] - m1[a][b] * m1[a][b]) / n);
      CHECK(std::fabs(torch.values(0, a, b) - fresh[a][b]) <= 5 * se);
      MESSAGE("Γ_" << a << b << ": fresh " << torch.values(0, a, b) << " (expected " << fresh[a][b] << " ± " << se
                   << "), shared " << paper.values(0, a, b) << " (expected " << shared[a][b] << ")");
    }
  // The covariance term is far outside the noise: Γ₀₁ moves by −½ H₀₁ Cov₀₁ = +0.0725.
  CHECK(std::fabs(fresh[0][1] - shared[0][1] - 0.0725) <= 1e-15);
  CHECK(std::fabs(torch.values(0, 0, 1) - paper.values(0, 0, 1) - 0.0725) <= 0.02);
  // Its samples L_a R_b are not symmetric, so `fluxion check` does not hold it to symmetry; the paper's it does.
  s.samples = 2000;
  s.options.inner_baseline = "fresh";
  const AxiomCheck<double> torch_check = check_axioms(method_spec<double>("eh"), out, xs, {0}, s, 0.1);
  s.options.inner_baseline.clear();
  const AxiomCheck<double> paper_check = check_axioms(method_spec<double>("eh"), out, xs, {0}, s, 0.1);
  auto has_symmetry = [](const AxiomCheck<double>& c) {
    return std::any_of(c.gaps.begin(), c.gaps.end(), [](const AxiomGap& g) { return g.axiom == "symmetry"; });
  };
  CHECK(!has_symmetry(torch_check));
  CHECK(has_symmetry(paper_check));
  CHECK(std::fabs(torch.values(0, 0, 1) - torch.values(0, 1, 0)) > 1e-4);  // one estimate, two different entries
}

// ---------------------------------------------------------------- the method table

TEST_CASE("compat: every compatible option is documented in the table as 'matches …' and none is a default") {
  int compatible = 0;
  for (const MethodInfo& m : method_catalogue())
    for (const MethodOption& o : m.options)
      for (const OptionChoice& c : o.choices)
        if (c.description.rfind("matches ", 0) == 0) {
          ++compatible;
          CHECK_MESSAGE(c.value != o.default_value, m.name << " --" << o.name << " " << c.value);
        }
  CHECK(compatible == 11);  // ig ×2, ih, blur_ig ×4, smoothgrad, vargrad, agi, eh
}

TEST_CASE("compat: an option the method does not take, or an unknown value, is one ArgumentError sentence") {
  const auto out = explain(power_sum(Tensor<double>({1.0, 1.0}), 2));
  const Tensor<double> x = Tensor<double>({{0.5, 0.5}});
  MethodSettings<double> s;
  s.options.sigma_schedule = "pair_sqrt";
  CHECK_THROWS_WITH_AS(run_method(method_spec<double>("ig"), out, x, {0}, s),
                       "method 'ig' does not take --sigma-schedule (methods that do: blur_ig)", ArgumentError);
  s.options = {.rule = "pair_sqrt"};
  CHECK_THROWS_WITH_AS(run_method(method_spec<double>("ig"), out, x, {0}, s),
                       "method 'ig': --rule 'pair_sqrt' is not one of gauss_legendre, riemann_left, riemann_right, "
                       "riemann_midpoint, trapezoid, captum_trapezoid, inclusive_linspace",
                       ArgumentError);
  s.options = {.aggregate = "sum_over_classes"};
  CHECK_THROWS_WITH_AS(run_method(method_spec<double>("smoothgrad"), out, x, {0}, s),
                       "method 'smoothgrad': --aggregate 'sum_over_classes' is not one of mean, mean_absolute",
                       ArgumentError);
  s.options = {.false_classes = {1}};
  CHECK_THROWS_WITH_AS(run_method(method_spec<double>("saliency"), out, x, {0}, s),
                       "method 'saliency' does not take --false-classes (methods that do: agi)", ArgumentError);
}
