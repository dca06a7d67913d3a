// Tests for attribution/quadrature: every rule's exactness degree on
// polynomials, weight sums, convergence orders, the Integrated Hessians
// reduction ∫∫ g(αβ) dα dβ = ∫₀¹ (−ln t) g(t) dt, and the bias of the
// paper's equal-weight grid.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <numbers>

#include "attribution/quadrature.hpp"
#include "autodiff/errors.hpp"

using namespace fluxion;

namespace {

/// Σ w_i g(t_i), accumulated in long double so the test measures the rule.
double apply(const Quadrature& q, const std::function<long double(long double)>& g) {
  long double sum = 0;
  for (std::size_t i = 0; i < q.nodes.size(); ++i) sum += q.weights[i] * g(q.nodes[i]);
  return static_cast<double>(sum);
}

double weight_sum(const Quadrature& q) {
  return apply(q, [](long double) { return 1.0L; });
}

/// Relative error of the rule on tᵏ against the exact moment.
double monomial_error(const Quadrature& q, int k, double exact) {
  return std::fabs(apply(q, [k](long double t) { return std::pow(t, k); }) - exact) / exact;
}

double plain_moment(int k) { return 1.0 / (k + 1); }
double log_moment(int k) { return 1.0 / ((k + 1.0) * (k + 1.0)); }

/// ∫₀¹ (−ln t) eᵗ dt = Σ_k 1 / (k! (k+1)²).
double log_weighted_exp_integral() {
  double sum = 0, factorial = 1;
  for (int k = 0; k < 30; ++k) {
    if (k > 0) factorial *= k;
    sum += 1.0 / (factorial * (k + 1.0) * (k + 1.0));
  }
  return sum;
}

double exp_error(const Quadrature& q) {
  return std::fabs(apply(q, [](long double t) { return std::exp(t); }) - (std::numbers::e - 1));
}

}  // namespace

TEST_CASE("every rule's weights sum to 1 and its nodes lie in [0, 1]") {
  for (const char* name : {"riemann_left", "riemann_right", "riemann_midpoint", "trapezoid",
                           "gauss_legendre", "log_weighted"}) {
    for (int n : {2, 3, 7, 10, 50, 64, 257}) {
      CAPTURE(name);
      CAPTURE(n);
      const Quadrature q = make_quadrature(name, n);
      CHECK(q.name == name);
      REQUIRE(q.nodes.size() == static_cast<std::size_t>(n));
      REQUIRE(q.weights.size() == q.nodes.size());
      CHECK(std::fabs(weight_sum(q) - 1.0) <= 1e-15);
      for (std::size_t i = 0; i < q.nodes.size(); ++i) {
        CHECK(q.nodes[i] >= 0.0);
        CHECK(q.nodes[i] <= 1.0);
        CHECK(q.weights[i] > 0.0);
      }
    }
  }
}

TEST_CASE("Riemann left/right sums are exact for constants only") {
  for (int n : {1, 4, 33}) {
    CHECK(monomial_error(riemann_left(n), 0, 1.0) <= 1e-15);
    CHECK(monomial_error(riemann_right(n), 0, 1.0) <= 1e-15);
    // ∫ t dt = ½ is missed by exactly ∓1/(2n).
    CHECK(apply(riemann_left(n), [](long double t) { return t; }) == doctest::Approx(0.5 - 0.5 / n).epsilon(1e-14));
    CHECK(apply(riemann_right(n), [](long double t) { return t; }) == doctest::Approx(0.5 + 0.5 / n).epsilon(1e-14));
  }
  CHECK(riemann_left(4).nodes == std::vector<double>{0.0, 0.25, 0.5, 0.75});
  CHECK(riemann_right(4).nodes == std::vector<double>{0.25, 0.5, 0.75, 1.0});
}

TEST_CASE("midpoint and trapezoid are exact for degree 1 but not degree 2") {
  for (int n : {2, 5, 40}) {
    CAPTURE(n);
    const Quadrature mid = riemann_midpoint(n), trap = trapezoid(n);
    CHECK(monomial_error(mid, 1, 0.5) <= 1e-15);
    CHECK(monomial_error(trap, 1, 0.5) <= 1e-15);
    const auto square = [](long double t) { return t * t; };
    const double h = 1.0 / (n - 1);
    // The errors are small (5e-5 at n = 40): scale(0) makes the epsilons
    // relative (doctest's default scale 1 would make them absolute).
    CHECK(apply(mid, square) - 1.0 / 3 == doctest::Approx(-1.0 / (12.0 * n * n)).epsilon(1e-9).scale(0));
    CHECK(apply(trap, square) - 1.0 / 3 == doctest::Approx(h * h / 6).epsilon(1e-9).scale(0));
  }
  CHECK(trapezoid(5).nodes == std::vector<double>{0.0, 0.25, 0.5, 0.75, 1.0});
  CHECK(trapezoid(5).weights == std::vector<double>{0.125, 0.25, 0.25, 0.25, 0.125});
}

TEST_CASE("Gauss-Legendre with n nodes is exact up to degree 2n-1, not 2n") {
  for (int n : {1, 2, 3, 5, 8, 16, 64, 256}) {
    CAPTURE(n);
    const Quadrature q = gauss_legendre(n);
    for (int k = 0; k <= 2 * n - 1; ++k) {
      CAPTURE(k);
      CHECK(monomial_error(q, k, plain_moment(k)) <= 1e-14);
    }
    if (n <= 5) CHECK(monomial_error(q, 2 * n, plain_moment(2 * n)) > 1e-6);
  }
}

TEST_CASE("Gauss-Legendre nodes ascend, mirror around 1/2 and integrate oscillations to 1e-15") {
  const Quadrature q = gauss_legendre(256);
  for (std::size_t i = 0; i < q.nodes.size(); ++i) {
    if (i > 0) CHECK(q.nodes[i] > q.nodes[i - 1]);
    const std::size_t mirror = q.nodes.size() - 1 - i;
    CHECK(std::fabs(q.nodes[i] + q.nodes[mirror] - 1.0) <= 2e-16);
    CHECK(q.weights[i] == q.weights[mirror]);
  }
  const double integral = apply(q, [](long double t) { return std::cos(50 * t); });
  CHECK(std::fabs(integral - std::sin(50.0) / 50.0) <= 1e-15);
  CHECK(gauss_legendre(1).nodes == std::vector<double>{0.5});
  CHECK(gauss_legendre(2).nodes[0] == doctest::Approx(0.5 - 0.5 / std::sqrt(3.0)).epsilon(1e-15));
}

TEST_CASE("log-weighted Gauss is exact for (-ln t) t^k up to k = 2n-1, not 2n") {
  for (int n : {1, 2, 3, 4, 8, 16, 32, 48, 64}) {
    CAPTURE(n);
    const Quadrature q = log_weighted(n);
    for (int k = 0; k <= 2 * n - 1; ++k) {
      CAPTURE(k);
      CHECK(monomial_error(q, k, log_moment(k)) <= 1e-13);
    }
    if (n <= 4) CHECK(monomial_error(q, 2 * n, log_moment(2 * n)) > 1e-6);
    for (std::size_t i = 1; i < q.nodes.size(); ++i) CHECK(q.nodes[i] > q.nodes[i - 1]);
  }
}

TEST_CASE("log-weighted Gauss matches the tabulated two-point rule") {
  // Abramowitz & Stegun 25.4.45 (Gauss rule for −ln x on (0,1), n = 2).
  const Quadrature q = log_weighted(2);
  CHECK(q.nodes[0] == doctest::Approx(0.112008806166976).epsilon(1e-14));
  CHECK(q.nodes[1] == doctest::Approx(0.602276908118738).epsilon(1e-14));
  CHECK(q.weights[0] == doctest::Approx(0.718539319030384).epsilon(1e-14));
  CHECK(q.weights[1] == doctest::Approx(0.281460680969616).epsilon(1e-14));
  CHECK(log_weighted(1).nodes == std::vector<double>{0.25});
}

TEST_CASE("convergence orders on a smooth integrand: 1, 2, 2, exponential") {
  const auto ratio = [](const Quadrature& coarse, const Quadrature& fine) {
    return exp_error(coarse) / exp_error(fine);
  };
  CHECK(ratio(riemann_left(64), riemann_left(128)) == doctest::Approx(2.0).epsilon(0.02));
  CHECK(ratio(riemann_right(64), riemann_right(128)) == doctest::Approx(2.0).epsilon(0.02));
  CHECK(ratio(riemann_midpoint(64), riemann_midpoint(128)) == doctest::Approx(4.0).epsilon(0.01));
  CHECK(ratio(trapezoid(65), trapezoid(129)) == doctest::Approx(4.0).epsilon(0.01));
  CHECK(exp_error(gauss_legendre(8)) <= 1e-15);
  const double exact = log_weighted_exp_integral();
  CHECK(std::fabs(apply(log_weighted(8), [](long double t) { return std::exp(t); }) - exact) <= 1e-15);
}

TEST_CASE("Integrated Hessians reduction: a double integral over (alpha, beta) equals the log-weighted rule") {
  // ∫∫ g(αβ) dα dβ by a 40×40 Gauss–Legendre product rule vs ∫₀¹ (−ln t) g(t) dt.
  const auto g = [](long double t) { return std::cos(3 * t) + t * t * t + std::exp(-t); };
  const Quadrature axis = gauss_legendre(40);
  long double double_integral = 0;
  for (std::size_t a = 0; a < axis.nodes.size(); ++a) {
    for (std::size_t b = 0; b < axis.nodes.size(); ++b) {
      double_integral += axis.weights[a] * axis.weights[b] * g(static_cast<long double>(axis.nodes[a]) * axis.nodes[b]);
    }
  }
  CHECK(apply(log_weighted(12), g) == doctest::Approx(static_cast<double>(double_integral)).epsilon(1e-14));
  // The αβ-weighted form ∫∫ αβ g(αβ) = ∫ t (−ln t) g(t): moments 1/(k+2)² appear.
  CHECK(apply(log_weighted(6), [](long double t) { return t * t * t; }) == doctest::Approx(1.0 / 16).epsilon(1e-15));
}

TEST_CASE("the paper's equal-weight k x k grid is exact for degree 1 and biased O(1/k) beyond") {
  for (int k : {2, 3, 10, 40}) {
    CAPTURE(k);
    const Quadrature q = ih_paper_grid(k);
    REQUIRE(q.nodes.size() == static_cast<std::size_t>(k * k));
    CHECK(std::fabs(weight_sum(q) - 1.0) <= 1e-15);
    CHECK(apply(q, [](long double t) { return t; }) == doctest::Approx(0.25).epsilon(1e-15));
    // g = t²: grid gives ((2k−1)/(6(k−1)))², so the bias is (4k−3)/(36(k−1)²) ≈ 1/(9k).
    const double bias = apply(q, [](long double t) { return t * t; }) - 1.0 / 9;
    CHECK(bias == doctest::Approx((4.0 * k - 3) / (36.0 * (k - 1) * (k - 1))).epsilon(1e-12).scale(0));
  }
  const auto error = [](int k) {
    return std::fabs(apply(ih_paper_grid(k), [](long double t) { return std::exp(t); }) - log_weighted_exp_integral());
  };
  CHECK(error(40) / error(80) == doctest::Approx(2.0).epsilon(0.05));  // first order, not second
  CHECK(error(80) > 1e-3);                                             // where log_weighted(3) is already at ~1e-5
  CHECK(std::fabs(apply(log_weighted(3), [](long double t) { return std::exp(t); }) - log_weighted_exp_integral()) < 1e-4);
}

TEST_CASE("make_quadrature rejects unknown names and bad node counts") {
  CHECK_THROWS_AS(make_quadrature("simpson", 5), ArgumentError);
  CHECK_THROWS_AS(make_quadrature("gauss_legendre", 0), ArgumentError);
  CHECK_THROWS_AS(make_quadrature("riemann_left", -3), ArgumentError);
  CHECK_THROWS_AS(make_quadrature("trapezoid", 1), ArgumentError);
  CHECK_THROWS_AS(make_quadrature("log_weighted", kMaxQuadratureNodes + 1), ArgumentError);
  CHECK_THROWS_AS(ih_paper_grid(1), ArgumentError);
  CHECK_THROWS_AS(ih_paper_grid(317), ArgumentError);
  CHECK_NOTHROW(make_quadrature("riemann_midpoint", kMaxQuadratureNodes));
  CHECK(make_quadrature("trapezoid", 2).weights == std::vector<double>{0.5, 0.5});
}

TEST_CASE("make_quadrature: cached rules equal freshly built ones; bad requests still throw every time") {
  for (int n : {1, 2, 7, 50}) {
    const Quadrature fresh = gauss_legendre(n);
    const Quadrature first = make_quadrature("gauss_legendre", n);   // built (or served from the cache)
    const Quadrature second = make_quadrature("gauss_legendre", n);  // served from the cache
    CHECK(first.nodes == fresh.nodes);
    CHECK(first.weights == fresh.weights);
    CHECK(second.nodes == fresh.nodes);
    CHECK(second.weights == fresh.weights);
  }
  for (int attempt = 0; attempt < 2; ++attempt) {
    CHECK_THROWS_AS(make_quadrature("simpson", 8), ArgumentError);
    CHECK_THROWS_AS(make_quadrature("gauss_legendre", 0), ArgumentError);
  }
}
