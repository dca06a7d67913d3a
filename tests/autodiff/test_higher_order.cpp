// Third derivatives through nested transforms, against closed forms; and the
// derivative convention of the non-smooth op relu (step, a constant, is checked
// by value in test_primitives.cpp).
//
// Closed forms (t = tanh x, sech²x = 1/cosh²x = 1 − t²):
//   tanh'   = sech²x
//   tanh''  = −2 sech²x tanh x
//   tanh''' = 4 sech²x tanh²x − 2 sech⁴x  = −2 sech²x (1 − 3 tanh²x)
//
// softplus_β(x) = (1/β) ln(1 + e^{βx}), σ = σ(βx):
//   softplus'   = σ
//   softplus''  = β σ (1 − σ)
//   softplus''' = β² σ (1 − σ)(1 − 2σ)
//               = −β² tanh(βx/2) · e^{−|βx|} / (1 + e^{−|βx|})²
// (the last form uses σ(1−σ) = e^{−|z|}/(1+e^{−|z|})² and 1 − 2σ(z) =
// −tanh(z/2); it keeps full relative accuracy for large |x|, where 1 − σ
// would round to 0.)
//
// Every element-wise f gives a diagonal Hessian, so with f summed over a
// vector of points, "∇ of Σ" is the element-wise derivative at every point.
// Three nestings are checked:
//   reverse³          grad(grad(grad)) with create_graph
//   forward∘reverse²  tangent (direction 1) of grad(grad)          — hvp of Σ f'
//   reverse∘forward∘reverse  grad of the tangent of grad          — grad of hvp
#include <cmath>

#include <xtensor/xbuilder.hpp>
#include <xtensor/xmath.hpp>

#include "tests/autodiff/check_derivatives.hpp"

using namespace fluxion;

namespace {

using V = Var<double>;
using Elementwise = std::function<V(const V&)>;

double tanh_third(double x) {
  double sech2 = 1.0 / (std::cosh(x) * std::cosh(x));
  double t = std::tanh(x);
  return 4 * sech2 * t * t - 2 * sech2 * sech2;
}

double softplus_third(double x, double beta) {
  double z = beta * x, e = std::exp(-std::abs(z));
  return -beta * beta * std::tanh(z / 2) * e / ((1 + e) * (1 + e));
}

// Points: negative, zero, positive, and large |x| where the curvature vanishes.
const Tensor<double> points = {-20.0, -3.0, -1.0, -0.3, 0.0, 0.5, 2.0, 20.0};

// |a − b| ≤ 1e-12·|b| + 1e-14·β²: twelve digits where the value is O(β²),
// plus an absolute term. The rules compute 1 − tanh²x and 1 − σ(βx), which
// carry an absolute rounding error ~ε ≈ 1e-16 however small they are (for
// large |x| they round to exactly 0 while the true third derivative is
// ~1e-17); the chain rule multiplies that error by β² and a few ops.
// (Measured worst case: 7.4e-15 at β = 10, x = 2, where the value is −2.1e-7.)
void check_close(const Tensor<double>& got, const std::function<double(double)>& expected, double beta = 1.0) {
  REQUIRE(got.size() == points.size());
  for (std::size_t i = 0; i < points.size(); ++i) {
    double x = points(i), want = expected(x);
    CAPTURE(x);
    CAPTURE(want);
    CHECK(std::abs(got(i) - want) <= 1e-12 * std::abs(want) + 1e-14 * beta * beta);
  }
}

// grad(grad(grad Σ f)) : three reverse sweeps, the first two with create_graph.
Tensor<double> reverse_cubed(const Elementwise& f) {
  V x(points, true);
  V g1 = grad<double>({sum(f(x))}, {x}, {}, true)[0];
  V g2 = grad<double>({sum(g1)}, {x}, {}, true)[0];
  return grad<double>({sum(g2)}, {x})[0].value();
}

// The hvp transform applied to x ↦ Σ f'(x) (itself built by a reverse sweep):
// H v with v = 1 is the vector of f''' at each point.
Tensor<double> hvp_of_first_derivative(const Elementwise& f) {
  Function<double> sum_of_slopes = [&](const V& x) { return sum(grad<double>({sum(f(x))}, {x}, {}, true)[0]); };
  return hvp(sum_of_slopes, points, filled<double>(shape_of(points), 1.0));
}

// ∇ₓ Σ (H 1): the tangent of the gradient is H v (forward over reverse); its
// own gradient is one more reverse sweep on top.
Tensor<double> grad_of_hvp(const Elementwise& f) {
  V x(points, true);
  V xd = make_dual(x, V(filled<double>({1, points.size()}, 1.0)));
  V g = grad<double>({sum(f(xd))}, {xd}, {}, true)[0];
  REQUIRE(g.has_tangent());
  V hv = g.tangent();  // [1, n] = f''(x) ⊙ 1, differentiable in x
  return grad<double>({sum(hv)}, {x})[0].value();
}

}  // namespace

TEST_CASE("higher order: third derivative of tanh through nested transforms") {
  Elementwise f = [](const V& x) { return tanh(x); };
  check_close(reverse_cubed(f), tanh_third);
  check_close(hvp_of_first_derivative(f), tanh_third);
  check_close(grad_of_hvp(f), tanh_third);
}

TEST_CASE("higher order: third derivative of softplus(beta) through nested transforms") {
  for (double beta : {1.0, 2.0, 10.0}) {
    CAPTURE(beta);
    Elementwise f = [beta](const V& x) { return softplus(x, beta); };
    auto expected = [beta](double x) { return softplus_third(x, beta); };
    check_close(reverse_cubed(f), expected, beta);
    check_close(hvp_of_first_derivative(f), expected, beta);
    check_close(grad_of_hvp(f), expected, beta);
  }
}

TEST_CASE("higher order: the full Hessian of x -> sum tanh'(x) is diag(tanh''')") {
  // Off-diagonal entries must be exactly 0: the points do not interact.
  Function<double> sum_of_slopes = [](const V& x) { return sum(grad<double>({sum(tanh(x))}, {x}, {}, true)[0]); };
  Tensor<double> H = hessian(sum_of_slopes, points, 3);
  Tensor<double> diagonal = xt::diagonal(H);
  check_close(diagonal, tanh_third);
  CHECK(xt::amax(xt::abs(H - xt::diag(diagonal)))() == 0.0);
}

// The convention is documented next to the op in autodiff/ops.hpp ("relu'(0)
// = 0 (as PyTorch)") and in its rule-table entry in autodiff/rules.cpp: the
// derivative is the step 1[x > 0], which is 0 at x = 0.
TEST_CASE("relu: derivative convention relu'(0) = 0 in every mode") {
  const Tensor<double> x = {-1.5, 0.0, 2.0};
  const Tensor<double> expected_slope = {0.0, 0.0, 1.0};
  Function<double> f = [](const V& v) { return relu(v); };
  {
    NoGradGuard no_graph;
    CHECK(relu(V(x)).value() == Tensor<double>{0.0, 0.0, 2.0});
  }
  CHECK(grad(f, x) == expected_slope);                                        // reverse
  CHECK(jvp(f, x, filled<double>({3}, 1.0)) == expected_slope);                // forward
  CHECK(vjp(f, x, filled<double>({3}, 1.0)) == expected_slope);                // reverse, explicit u
  Tensor<double> J = jacobian(f, x);                                           // batched forward
  CHECK(J == xt::diag(expected_slope));
  // relu'' = 0 everywhere (a.e.); the HVP is exactly zero in both HVP modes.
  CHECK(hvp(f, x, filled<double>({3}, 1.0)) == filled<double>({3}, 0.0));
  CHECK(hvp_reverse(f, x, filled<double>({3}, 1.0)) == filled<double>({3}, 0.0));
  // Exactly at 0 from a reused node: d/dx relu(x)·x at 0 = relu'(0)·0 + relu(0) = 0.
  CHECK(grad(Function<double>([](const V& v) { return mul(relu(v), v); }), Tensor<double>{0.0}) ==
        Tensor<double>{0.0});
}

