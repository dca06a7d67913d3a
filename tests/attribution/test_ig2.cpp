// Tests for attribution/ig2: IG2 (Zhuo & Ge, TPAMI 2024). The GradPath sum
// telescopes to f(x) − f(GradCF) with a left-Riemann error linear in η at a
// fixed path length K·η (quadratic with the trapezoid option) — f(GradCF) is
// recomputed here from the returned counterfactuals by calling the model
// directly. Also: a feature neither f nor h uses gets exactly 0 and never
// moves, permuting hidden or representation units changes nothing, IG2 is
// linear in the head for a fixed representation, and reference drawing is
// seeded and never picks the explained class.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include <xtensor/xmath.hpp>
#include <xtensor/xview.hpp>

#include "attribution/ig2.hpp"
#include "attribution_models.hpp"
#include "float_vs_double.hpp"
#include "gap_rate.hpp"
#include "autodiff/errors.hpp"

using namespace fluxion;
using namespace fluxion::attribution_testing;

namespace {

/// The MLP split at the input of its last Linear layer: h = s(W₂ s(W₁x + b₁) + b₂), f = W₃h + b₃.
template <class T>
SplitModel<T> split(const SoftplusMlp<T>& m) {
  SplitModel<T> s;
  s.features = [m](const Var<T>& x) {
    return softplus(affine(softplus(affine(x, m.w1, m.b1), m.beta), m.w2, m.b2), m.beta);
  };
  s.head = [m](const Var<T>& h) { return affine(h, m.w3, m.b3); };
  return s;
}

/// The same function with the representation units (second hidden layer) permuted.
SoftplusMlp<double> permuted_representation(const SoftplusMlp<double>& m, const std::vector<std::size_t>& pi) {
  SoftplusMlp<double> p = m;
  for (std::size_t u = 0; u < pi.size(); ++u) {
    for (std::size_t i = 0; i < m.w2.shape()[1]; ++i) p.w2(u, i) = m.w2(pi[u], i);
    p.b2(u) = m.b2(pi[u]);
    for (std::size_t c = 0; c < m.w3.shape()[0]; ++c) p.w3(c, u) = m.w3(c, pi[u]);
  }
  return p;
}

IG2Options unbounded(int steps, double eta) {
  IG2Options o;
  o.steps = steps;
  o.step_size = eta;
  o.lo = -std::numeric_limits<double>::infinity();
  o.hi = std::numeric_limits<double>::infinity();
  return o;
}

double max_abs(const Tensor<double>& a) {
  double m = 0;
  for (double v : a) m = std::max(m, std::fabs(v));
  return m;
}

}  // namespace

TEST_CASE("ig2: completeness against f(GradCF) improves linearly in η at fixed K·η (quadratically with trapezoid)") {
  const SoftplusMlp<double> mlp = SoftplusMlp<double>::random(8, 6, 3, 1);
  const SplitModel<double> model = split(mlp);
  const Tensor<double> x = seeded_uniform<double>({1, 8}, 2, 0.0, 1.0);
  const Tensor<double> refs = seeded_uniform<double>({2, 8}, 3, 0.0, 1.0);
  const std::size_t c = 1;
  const double f_x = model.model()(Var<double>(x)).value()(0, c);

  auto gap = [&](double eta, SegmentRule rule) {
    IG2Options o = unbounded(static_cast<int>(std::lround(0.5 / eta)), eta);  // path length K·η = 0.5
    o.rule = rule;
    const IG2Result<double> r = ig2(model, x, {c}, refs, o);
    // f(GradCF) straight from the model, at the returned counterfactuals [1, 2, 8].
    Tensor<double> cf = r.counterfactuals;
    cf.reshape({2, 8});
    const Tensor<double> f_cf = model.model()(Var<double>(cf)).value();
    const double change = f_x - (f_cf(0, c) + f_cf(1, c)) / 2;
    CHECK(std::fabs(change - r.paths.output_changes[0]) <= 1e-13);
    const double independent = std::fabs(xt::sum(r.paths.attributions)() - change);
    CHECK(std::fabs(independent - r.paths.completeness_gaps[0]) <= 1e-13);
    return independent / std::fabs(change);
  };
  const double l1 = gap(0.04, SegmentRule::left), l2 = gap(0.02, SegmentRule::left), l3 = gap(0.01, SegmentRule::left);
  const double t1 = gap(0.04, SegmentRule::trapezoid), t2 = gap(0.02, SegmentRule::trapezoid),
               t3 = gap(0.01, SegmentRule::trapezoid);
  MESSAGE("IG2 relative completeness gap vs f(GradCF), K·η = 0.5: left η = 0.04/0.02/0.01: " << l1 << ", " << l2 << ", "
                                                                                               << l3 << "; trapezoid: " << t1 << ", " << t2 << ", " << t3);
  // Fitted orders over the three η (gap_rate.hpp): left point 1, trapezoid 2.
  // The bands ±0.2 admit the next term of the error expansion at these η but
  // exclude the neighbouring half-integer orders (½, 1.5, 2.5).
  const double left = convergence_order({0.04, 0.02, 0.01}, {l1, l2, l3});
  const double trapezoid = convergence_order({0.04, 0.02, 0.01}, {t1, t2, t3});
  MESSAGE("IG2 fitted orders in η: left " << left << ", trapezoid " << trapezoid);
  CHECK(left >= 0.8);
  CHECK(left <= 1.2);
  CHECK(trapezoid >= 1.8);
  CHECK(trapezoid <= 2.2);
  CHECK(t2 < l3);
}

TEST_CASE("ig2: a feature neither f nor h uses gets exactly 0 and never moves") {
  const SoftplusMlp<double> mlp = SoftplusMlp<double>::random(8, 6, 3, 11).ignoring(3);
  const Tensor<double> x = seeded_uniform<double>({2, 8}, 12, 0.0, 1.0);
  const Tensor<double> refs = seeded_uniform<double>({3, 8}, 13, 0.0, 1.0);
  IG2Options o;  // default box [0, 1]
  o.steps = 60;
  const IG2Result<double> r = ig2(split(mlp), x, {}, refs, o);
  for (std::size_t e = 0; e < 2; ++e) {
    CHECK(r.paths.attributions(e, 3) == 0.0);
    for (std::size_t b = 0; b < 3; ++b) CHECK(r.counterfactuals(e, b, 3) == x(e, 3));
  }
  CHECK(max_abs(r.paths.attributions) > 1e-3);
  CHECK(r.paths.gradient_evaluations == 2 * 60 * 2 * 3);
}

TEST_CASE("ig2: permuting hidden or representation units changes nothing (implementation invariance)") {
  const SoftplusMlp<double> mlp = SoftplusMlp<double>::random(8, 6, 3, 21);
  const Tensor<double> x = seeded_uniform<double>({2, 8}, 22, 0.0, 1.0);
  const Tensor<double> refs = seeded_uniform<double>({2, 8}, 23, 0.0, 1.0);
  IG2Options o;
  o.steps = 80;
  const IG2Result<double> a = ig2(split(mlp), x, {0, 2}, refs, o);
  const IG2Result<double> b = ig2(split(mlp.permuted_hidden(24)), x, {0, 2}, refs, o);
  // ‖h − h(r)‖ is unchanged when the units of h are reordered.
  const IG2Result<double> c = ig2(split(permuted_representation(mlp, {4, 2, 0, 5, 1, 3})), x, {0, 2}, refs, o);
  const double scale = max_abs(a.paths.attributions);
  // The same path up to rounding in the hidden sums, which 80 normalised
  // steps amplify to ~4e-11 relative (measured); 1e-9 leaves room, any real
  // difference in the method would be O(1).
  for (std::size_t i = 0; i < x.size(); ++i) {
    CHECK(std::fabs(a.paths.attributions.data()[i] - b.paths.attributions.data()[i]) <= 1e-9 * scale);
    CHECK(std::fabs(a.paths.attributions.data()[i] - c.paths.attributions.data()[i]) <= 1e-9 * scale);
  }
}

TEST_CASE("ig2: for a fixed representation and references IG2 is linear in the head") {
  const SoftplusMlp<double> mlp = SoftplusMlp<double>::random(8, 6, 3, 31);
  const SoftplusMlp<double> other = SoftplusMlp<double>::random(8, 6, 3, 32);
  const SplitModel<double> first = split(mlp);
  SplitModel<double> second = first;
  second.head = [other](const Var<double>& h) { return affine(h, other.w3, other.b3); };
  SplitModel<double> mixed = first;
  mixed.head = [f = first.head, g = second.head](const Var<double>& h) { return 2.0 * f(h) - 0.5 * g(h); };

  const Tensor<double> x = seeded_uniform<double>({2, 8}, 33, 0.0, 1.0);
  const Tensor<double> refs = seeded_uniform<double>({2, 2, 8}, 34, 0.0, 1.0);  // per-example references
  IG2Options o;
  o.steps = 50;
  const std::vector<std::size_t> c{1, 1};
  const Tensor<double> a1 = ig2(first, x, c, refs, o).paths.attributions;
  const Tensor<double> a2 = ig2(second, x, c, refs, o).paths.attributions;
  const Tensor<double> mix = ig2(mixed, x, c, refs, o).paths.attributions;
  const double scale = max_abs(mix);
  for (std::size_t i = 0; i < x.size(); ++i)  // the path depends on h only; ∇f is linear in the head
    CHECK(std::fabs(mix.data()[i] - (2.0 * a1.data()[i] - 0.5 * a2.data()[i])) <= 1e-13 * scale);
}

TEST_CASE("ig2: references are drawn from other classes, reproducibly; shared and per-example agree") {
  const Tensor<double> pool = seeded_uniform<double>({12, 8}, 41, 0.0, 1.0);
  const std::vector<std::size_t> labels{0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2};
  const std::vector<std::size_t> targets{0, 2};
  const Tensor<double> r1 = draw_references(pool, labels, targets, 5, 99);
  const Tensor<double> r2 = draw_references(pool, labels, targets, 5, 99);
  CHECK(r1 == r2);
  CHECK(shape_of(r1) == Shape{2, 5, 8});
  CHECK(draw_references(pool, labels, targets, 5, 100) != r1);
  for (std::size_t n = 0; n < 2; ++n) {
    std::vector<std::size_t> used;
    for (std::size_t b = 0; b < 5; ++b) {
      std::size_t row = 12;
      for (std::size_t m = 0; m < 12; ++m)
        if (pool(m, 0) == r1(n, b, 0) && pool(m, 7) == r1(n, b, 7)) row = m;
      REQUIRE(row < 12);
      CHECK(labels[row] != targets[n]);
      CHECK(std::find(used.begin(), used.end(), row) == used.end());  // without replacement
      used.push_back(row);
    }
  }
  CHECK_THROWS_AS(draw_references(pool, labels, targets, 9, 1), ArgumentError);  // only 8 outside each class

  // The same references given once [B, ...] or repeated per example [N, B, ...].
  const SplitModel<double> model = split(SoftplusMlp<double>::random(8, 6, 3, 42));
  const Tensor<double> x = seeded_uniform<double>({2, 8}, 43, 0.0, 1.0);
  Tensor<double> shared = xt::view(r1, 0);
  Tensor<double> repeated = Tensor<double>::from_shape({2, 5, 8});
  for (std::size_t n = 0; n < 2; ++n) xt::view(repeated, n) = shared;
  IG2Options o;
  o.steps = 20;
  CHECK(ig2(model, x, {}, shared, o).paths.attributions == ig2(model, x, {}, repeated, o).paths.attributions);
}

TEST_CASE("ig2: float agrees with double within float32 rounding; bad references and options fail with one clear error") {
  // The same net in both precisions (exactly the float weights), the same
  // float inputs and references. Each value sums K = 30 steps × 2 references
  // of gradient products of an 8-6-6-3 net (m ≈ 3·8 + 12 rounding steps per
  // entry); the normalised steps and the [0, 1] clip are continuous, so
  // float32_bound(36, 60) = (36 + 60)·2⁻²⁴·8 ≈ 4.6e-5 relative. Measured
  // 1.8e-5 (≈ 300u), more than the other methods: each normalised step
  // g/‖g‖ passes the position's rounding on, turned by the curvature of
  // ‖h − h(r)‖² over ‖g‖, so it grows along the 30 steps.
  const SoftplusMlp<float> mlp_f = SoftplusMlp<float>::random(8, 6, 3, 51);
  const Tensor<float> xf = seeded_uniform<float>({2, 8}, 52, 0.0, 1.0);
  const Tensor<float> refs_f = seeded_uniform<float>({2, 8}, 53, 0.0, 1.0);
  IG2Options o;
  o.steps = 30;
  const IG2Result<float> f = ig2(split(mlp_f), xf, {}, refs_f, o);
  const IG2Result<double> f64 = ig2(split(to_double(mlp_f)), exact_double(xf), {}, exact_double(refs_f), o);
  const double rel = max_relative_difference(f.paths.attributions, f64.paths.attributions);
  MESSAGE("IG2 float32 vs float64 max relative difference: " << rel);
  CHECK(rel <= float32_bound(36, 60));
  CHECK(rel > 0);
  CHECK(max_relative_difference(f.counterfactuals, f64.counterfactuals) <= float32_bound(36, 60));

  const SplitModel<double> model = split(SoftplusMlp<double>::random(8, 6, 3, 51));
  const Tensor<double> x = seeded_uniform<double>({2, 8}, 52, 0.0, 1.0);
  CHECK_THROWS_AS(ig2(model, x, {}, seeded_uniform<double>({2, 7}, 1), o), ShapeError);
  CHECK_THROWS_AS(ig2(model, x, {}, seeded_uniform<double>({3, 2, 8}, 1), o), ShapeError);  // N = 2, not 3
  IG2Options bad = o;
  bad.steps = 0;
  CHECK_THROWS_AS(ig2(model, x, {}, seeded_uniform<double>({2, 8}, 1), bad), ArgumentError);
  bad = o;
  bad.step_size = -1;
  CHECK_THROWS_AS(ig2(model, x, {}, seeded_uniform<double>({2, 8}, 1), bad), ArgumentError);
}
