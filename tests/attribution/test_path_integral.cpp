// Tests for the path-integration core (attribution/path_integral) and the
// explained output it integrates (attribution/explained_output): analytic
// functions with known line integrals, each quadrature rule's exactness degree,
// polylines, the probability output against finite differences, and a model
// that counts its calls to check that batching honours batch_size.
#include <doctest/doctest.h>

#include <cmath>

#include "attribution/path_integral.hpp"
#include "attribution_models.hpp"
#include "autodiff/errors.hpp"

using namespace fluxion;
using namespace fluxion::attribution_testing;

namespace {

// f(x) = x_0^m for x [N, 1], returned as logits [N, 1].
Function<double> monomial(int m) {
  return [m](const Var<double>& x) {
    Var<double> y = x;
    for (int k = 1; k < m; ++k) y = mul(y, x);
    return y;
  };
}

ExplainedOutput<double> explain(Function<double> model, std::size_t batch = 64) {
  ExplainedOutput<double> out;
  out.model = std::move(model);
  out.batch_size = batch;
  return out;
}

Tensor<double> batch_of(std::initializer_list<double> values, Shape shape) {
  Tensor<double> t = Tensor<double>::from_shape(shape);
  std::copy(values.begin(), values.end(), t.data());
  return t;
}

}  // namespace

TEST_CASE("path core: a linear model gives IG = w ⊙ Δ for every rule") {
  // z = x Wᵀ + b with 2 classes; explaining class 1 gives A_i = W_1i (x_i − x'_i).
  const Tensor<double> w = seeded_uniform<double>({2, 5}, 11), b = seeded_uniform<double>({2}, 12);
  const auto out = explain([w, b](const Var<double>& x) { return affine(x, w, b); });
  const Tensor<double> x = seeded_uniform<double>({3, 5}, 13, -2, 2), base = seeded_uniform<double>({3, 5}, 14);
  for (const char* rule : {"riemann_left", "riemann_right", "riemann_midpoint", "trapezoid", "gauss_legendre"}) {
    CAPTURE(rule);
    const auto r = integrate_straight_lines(out, x, base, {1, 1, 0}, make_quadrature(rule, 3));
    const std::size_t cls[3] = {1, 1, 0};
    for (std::size_t n = 0; n < 3; ++n)
      for (std::size_t i = 0; i < 5; ++i)
        // The integrand is constant; only the rounding of Σ w_k = 1 remains.
        CHECK(std::fabs(r.attributions(n, i) - w(cls[n], i) * (x(n, i) - base(n, i))) <= 1e-14);
    for (double gap : r.completeness_gaps) CHECK(gap <= 1e-13);
    CHECK(r.gradient_evaluations == 9);
  }
}

TEST_CASE("path core: polynomial integrands reveal each rule's exactness degree") {
  // f = x^m, baseline 0, x = 1.3: the integrand t ↦ m x^m t^{m−1} has degree
  // m − 1 and IG = x^m exactly. A rule exact to degree q is exact for m ≤ q + 1
  // and visibly wrong (error ≫ rounding) for m = q + 2. This catches a
  // trapezoid whose weights sum to (n−1)/n (then even m = 1 fails).
  struct Case {
    std::string rule;
    int n;
    int degree;
  };
  const Case cases[] = {{"riemann_left", 6, 0},     {"riemann_right", 6, 0}, {"riemann_midpoint", 6, 1},
                        {"trapezoid", 6, 1},        {"gauss_legendre", 1, 1}, {"gauss_legendre", 3, 5},
                        {"gauss_legendre", 8, 15}};
  const Tensor<double> x = batch_of({1.3}, {1, 1}), zero = batch_of({0.0}, {1});
  for (const Case& c : cases) {
    CAPTURE(c.rule);
    CAPTURE(c.n);
    for (int m = 1; m <= c.degree + 2; ++m) {
      CAPTURE(m);
      const auto r = integrate_straight_lines(explain(monomial(m)), x, zero, {0}, make_quadrature(c.rule, c.n));
      const double exact = std::pow(1.3, m), error = std::fabs(r.attributions(0, 0) - exact) / exact;
      if (m <= c.degree + 1)
        CHECK(error <= 1e-13);  // exact up to a few roundings per node
      else
        CHECK(error >= 1e-10);  // the first degree the rule misses (≥ 1000× rounding)
    }
  }
}

TEST_CASE("path core: a separable function gives each feature its own change") {
  // f = e^{x0} + tanh(x1) + x2² + 3 x3: IG_i = g_i(x_i) − g_i(x'_i) exactly.
  const auto out = explain([](const Var<double>& x) {
    Var<double> e = exp(x), t = tanh(x), s = square(x), l = scale(x, 3.0);
    // Pick column i of each elementwise map with a fixed 0/1 mask.
    Tensor<double> m0 = batch_of({1, 0, 0, 0}, {4}), m1 = batch_of({0, 1, 0, 0}, {4});
    Tensor<double> m2 = batch_of({0, 0, 1, 0}, {4}), m3 = batch_of({0, 0, 0, 1}, {4});
    return sum(e * Var<double>(m0) + t * Var<double>(m1) + s * Var<double>(m2) + l * Var<double>(m3), {1}, true);
  });
  const Tensor<double> x = batch_of({0.7, -1.1, 1.5, 0.4}, {1, 4}), base = batch_of({-0.3, 0.5, -0.5, 0.0}, {4});
  const auto r = integrate_straight_lines(out, x, base, {0}, gauss_legendre(64));
  const double expected[4] = {std::exp(0.7) - std::exp(-0.3), std::tanh(-1.1) - std::tanh(0.5), 1.5 * 1.5 - 0.25,
                              3 * 0.4};
  // 64-point Gauss–Legendre integrates these entire functions to rounding.
  for (std::size_t i = 0; i < 4; ++i) CHECK(std::fabs(r.attributions(0, i) - expected[i]) <= 1e-14);
}

TEST_CASE("path core: polylines — rules match the straight-line rules, and the path matters") {
  const auto mlp = SoftplusMlp<double>::random(4, 6, 3, 21);
  const auto out = explain(mlp.function());
  const Tensor<double> x = seeded_uniform<double>({4}, 22), base = seeded_uniform<double>({4}, 23);
  // A straight polyline with S segments at t = s/S.
  const std::size_t segments = 10;
  Tensor<double> points = Tensor<double>::from_shape({segments + 1, 4});
  for (std::size_t s = 0; s <= segments; ++s)
    for (std::size_t i = 0; i < 4; ++i) points(s, i) = base(i) + double(s) / segments * (x(i) - base(i));
  const struct {
    SegmentRule segment;
    Quadrature line;
  } pairs[] = {{SegmentRule::left, riemann_left(segments)},
               {SegmentRule::midpoint, riemann_midpoint(segments)},
               {SegmentRule::trapezoid, trapezoid(segments + 1)}};
  for (const auto& p : pairs) {
    CAPTURE(p.line.name);
    const auto poly = integrate_polyline(out, points, 2, p.segment);
    const auto line = integrate_straight_line(out, x, base, 2, p.line);
    // Same gradients, same weights, summed in a different order.
    CHECK(max_relative_error(poly.attribution, line.attribution) <= 1e-13);
    CHECK(std::fabs(poly.output_change - line.output_change) <= 1e-14);
  }

  // f = x0·x1 along the L-shaped path (0,0) → (a,0) → (a,b): the first leg sees
  // ∂f/∂x0 = x1 = 0, the second ∂f/∂x1 = a, so A = (0, a·b) — not IG's (ab/2, ab/2).
  // On each leg the gradient is linear, so the trapezoid rule is exact.
  const auto bilinear = explain([](const Var<double>& z) {
    Var<double> z0 = sum(z * Var<double>(batch_of({1, 0}, {2})), {1}, true);
    Var<double> z1 = sum(z * Var<double>(batch_of({0, 1}, {2})), {1}, true);
    return z0 * z1;
  });
  const Tensor<double> corner = batch_of({0, 0, 2, 0, 2, 3}, {3, 2});
  const auto l_path = integrate_polyline(bilinear, corner, 0, SegmentRule::trapezoid);
  CHECK(std::fabs(l_path.attribution(0)) <= 1e-15);
  CHECK(std::fabs(l_path.attribution(1) - 6.0) <= 1e-14);
  CHECK(l_path.completeness_gap <= 1e-14);
  CHECK(l_path.gradient_evaluations == 3);
}

TEST_CASE("path core: batching honours batch_size and does not change the result") {
  const auto mlp = SoftplusMlp<double>::random(5, 7, 3, 31);
  const Tensor<double> x = seeded_uniform<double>({3, 5}, 32), base = filled<double>({5}, 0.0);
  const Quadrature rule = gauss_legendre(10);

  CallCounter<double> counter;
  ExplainedOutput<double> small = explain(counter.wrap(mlp.function()), 7);
  const auto chunked = integrate_straight_lines(small, x, base, {0, 1, 2}, rule);
  // 30 path points in chunks of ≤ 7 → ⌈30/7⌉ = 5 gradient calls, plus one call
  // each for f(x) and f(x') (3 rows ≤ 7).
  CHECK(*counter.calls == 5 + 2);
  CHECK(*counter.largest_batch == 7);
  CHECK(*counter.rows == 30 + 3 + 3);

  const auto whole = integrate_straight_lines(explain(mlp.function(), 1000), x, base, {0, 1, 2}, rule);
  // Row-wise independent computations: chunking must not change a single bit
  // beyond GEMM blocking differences.
  CHECK(max_relative_error(chunked.attributions, whole.attributions) <= 1e-14);
  for (std::size_t n = 0; n < 3; ++n)
    CHECK(std::fabs(chunked.completeness_gaps[n] - whole.completeness_gaps[n]) <= 1e-13);
}

TEST_CASE("explained output: targets, predicted classes, probability gradient, bad input") {
  const auto mlp = SoftplusMlp<double>::random(4, 6, 3, 41);
  const Tensor<double> x = seeded_uniform<double>({5, 4}, 42, -2, 2);
  ExplainedOutput<double> out = explain(mlp.function(), 2);

  // Predicted classes are the row argmax of the logits, computed here directly.
  const Tensor<double> z = mlp.function()(Var<double>(x)).value();
  const auto predicted = predicted_classes(out.model, x, 2);
  for (std::size_t n = 0; n < 5; ++n)
    for (std::size_t c = 0; c < 3; ++c) CHECK(z(n, c) <= z(n, predicted[n]));
  CHECK(resolve_targets(out, x, {}) == predicted);

  // Probability gradients against central differences of the softmax.
  out.kind = OutputKind::probability;
  const std::vector<std::size_t> targets = {0, 1, 2, 1, 0};
  const Tensor<double> g = output_gradients(out, x, targets);
  const Tensor<double> p = output_values(out, x, targets);
  for (std::size_t n = 0; n < 5; ++n) {
    auto prob = [&](const Tensor<double>& row) {
      Tensor<double> logits = mlp.function()(Var<double>(row)).value();
      double denom = 0;
      for (std::size_t c = 0; c < 3; ++c) denom += std::exp(logits(0, c));
      return std::exp(logits(0, targets[n])) / denom;
    };
    Tensor<double> row = take_examples(x, n, 1);
    CHECK(std::fabs(p(n) - prob(row)) <= 1e-15);
    const Tensor<double> numeric = numerical_grad(prob, row);
    Tensor<double> analytic = take_examples(g, n, 1);
    // Central differences with h = 1e-6 on an O(1) smooth function: ~1e-9.
    CHECK(max_relative_error(analytic, numeric) <= 1e-7);
  }

  CHECK(parse_output_kind("logit") == OutputKind::logit);
  CHECK_THROWS_AS(parse_output_kind("logits"), ArgumentError);
  CHECK_THROWS_AS(output_values(out, x, {0, 1}), ArgumentError);           // wrong number of targets
  CHECK_THROWS_AS(output_values(out, x, {0, 1, 2, 3, 0}), ArgumentError);  // class 3 of 3
  CHECK_THROWS_AS(output_gradients(out, filled<double>({0, 4}, 0.0), {}), ShapeError);
  ExplainedOutput<double> flat = explain([](const Var<double>& v) { return sum(v, {1}); });
  CHECK_THROWS_AS(output_values(flat, x, targets), ShapeError);          // logits must be [N, C]
}
