// Saturation: softplus (β = 1 and 10), sigmoid, log_softmax and cross_entropy
// at inputs of ±1e4 and ±1e30 (float) / ±1e300 (double) give finite values,
// finite gradients and finite Hessian-vector products (both forward-over-
// reverse and reverse-over-reverse), in float and double — and the right
// limits, not merely finite garbage:
//   sigmoid        σ' = σ(1 − σ) and σ'' = σ(1 − σ)(1 − 2σ) are exactly 0
//                  where σ rounds to 0 or 1 (|x| ≥ 1e4), and the tiny true
//                  values at ±30 (≈ ±9.4e-14), against a long-double closed form;
//   log_softmax    with one-hot probabilities p (every row saturated),
//                  ∂⟨w, log_softmax z⟩/∂z = w − p·Σw exactly, and the Hessian
//                  −Σw·(diag p − p pᵀ) = 0 exactly;
//   cross_entropy  ∂CE/∂z = (softmax − onehot)/N ∈ {0, ±½} exactly, Hessian 0.
// All these limits are exact in floating point (p is exactly one-hot since
// e^(−1e4) underflows to 0), so they are compared with ==.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "tests/robustness/all_finite.hpp"
#include "autodiff/autodiff.hpp"

using namespace fluxion;

namespace {

template <class T>
T huge() {
  return std::is_same_v<T, float> ? T(1e30) : T(1e300);
}

/// [−huge, −1e4, −30, −1, 0, 1, 30, 1e4, huge]
template <class T>
Tensor<T> saturating_inputs() {
  Tensor<T> x = Tensor<T>::from_shape({9});
  const T values[] = {-huge<T>(), T(-1e4), T(-30), T(-1), T(0), T(1), T(30), T(1e4), huge<T>()};
  std::copy(std::begin(values), std::end(values), x.begin());
  return x;
}

/// Value, gradient and both HVPs (direction: all ones) of scalar f at x are finite.
template <class T>
void check_finite_derivatives(const Function<T>& f, const Tensor<T>& x) {
  const auto vg = value_and_grad(f, x);
  CHECK(all_finite(vg.value));
  CHECK(all_finite(vg.grad));
  Tensor<T> v = Tensor<T>::from_shape(x.shape());
  v.fill(T(1));
  CHECK(all_finite(hvp(f, x, v)));
  CHECK(all_finite(hvp_reverse(f, x, v)));
}

// A direction with distinct entries (all ones is in the null space of the
// log-softmax Hessian, so it would make HVP = 0 trivially).
template <class T>
Tensor<T> uneven_direction(const Shape& shape) {
  Tensor<T> v = Tensor<T>::from_shape(shape);
  for (std::size_t i = 0; i < v.size(); ++i) v.data()[i] = T(1) - T(0.75) * T(i) + T(0.125) * T(i * i);
  return v;
}

template <class T>
Tensor<T> from_values(const Shape& shape, std::vector<double> values) {
  Tensor<T> t = Tensor<T>::from_shape(shape);
  for (std::size_t i = 0; i < t.size(); ++i) t.data()[i] = static_cast<T>(values.at(i));
  return t;
}

// Both HVPs of f at x along v equal `expected` exactly (−0 == 0 counts).
template <class T>
void check_hvps_equal(const Function<T>& f, const Tensor<T>& x, const Tensor<T>& v, const Tensor<T>& expected) {
  const Tensor<T> forward_over_reverse = hvp(f, x, v), reverse_over_reverse = hvp_reverse(f, x, v);
  for (std::size_t i = 0; i < expected.size(); ++i) {
    CAPTURE(i);
    CHECK(forward_over_reverse.data()[i] == expected.data()[i]);
    CHECK(reverse_over_reverse.data()[i] == expected.data()[i]);
  }
}

}  // namespace

TEST_CASE_TEMPLATE("saturation: softplus stays finite and has the right limits", T, float, double) {
  const Tensor<T> x = saturating_inputs<T>();
  for (T beta : {T(1), T(10)}) {
    INFO("beta = " << beta);
    const Function<T> f = [beta](const Var<T>& z) { return sum(softplus(z, beta)); };
    check_finite_derivatives(f, x);
    // Element-wise: softplus(x) → max(x, 0), σ(βx) → 1[x > 0], β σ'(βx) → 0 at the ends.
    const Tensor<T> y = softplus(Var<T>(x), beta).value();
    const Tensor<T> g = grad(f, x);
    Tensor<T> ones = Tensor<T>::from_shape({9});
    ones.fill(T(1));
    const Tensor<T> h = hvp(f, x, ones);
    CHECK(y(0) == T(0));
    CHECK(y(8) == huge<T>());
    CHECK(y(7) == T(1e4));
    CHECK(y(1) >= T(0));
    CHECK(g(0) == T(0));
    CHECK(g(1) == T(0));
    CHECK(g(7) == T(1));
    CHECK(g(8) == T(1));
    CHECK(h(0) == T(0));
    CHECK(h(8) == T(0));
    // β σ(0)(1 − σ(0)) = β/4: σ(0) = 1/(1 + 1) = ½ and the products are exact
    // in both types; a relative tolerance of 2 eps (no hidden absolute scale).
    CHECK(h(4) == doctest::Approx(beta * 0.25).epsilon(2 * std::numeric_limits<T>::epsilon()).scale(0));
  }
}

TEST_CASE_TEMPLATE("saturation: sigmoid stays in [0, 1] and its derivatives take their limits", T, float, double) {
  const Tensor<T> x = saturating_inputs<T>();
  const Function<T> f = [](const Var<T>& z) { return sum(sigmoid(z)); };
  check_finite_derivatives(f, x);
  const Tensor<T> y = sigmoid(Var<T>(x)).value();
  for (T v : y) CHECK((v >= T(0) && v <= T(1)));
  CHECK(y(0) == T(0));
  CHECK(y(8) == T(1));
  const Tensor<T> g = grad(f, x);
  Tensor<T> ones = Tensor<T>::from_shape({9});
  ones.fill(T(1));
  const Tensor<T> h = hvp(f, x, ones), h_reverse = hvp_reverse(f, x, ones);
  // Closed forms in long double: σ' = σ(1 − σ), σ'' = σ(1 − σ)(1 − 2σ).
  auto sigma = [](long double z) { return z >= 0 ? 1 / (1 + std::exp(-z)) : std::exp(z) / (1 + std::exp(z)); };
  const double eps = std::numeric_limits<T>::epsilon();
  for (std::size_t i = 0; i < 9; ++i) {
    CAPTURE(i);
    const long double s = sigma(static_cast<long double>(x(i)));
    const double first = double(s * (1 - s)), second = double(s * (1 - s) * (1 - 2 * s));
    if (std::abs(double(x(i))) >= 1e4) {
      // σ is exactly 0 or 1 in T: both derivatives are exactly 0.
      CHECK(g(i) == T(0));
      CHECK(h(i) == T(0));
      CHECK(h_reverse(i) == T(0));
    } else if (x(i) >= T(30)) {
      // 1 − σ(30) ≈ 9.4e-14 comes from σ(30) = 1/(1 + e⁻³⁰), two roundings
      // next to 1 (≤ eps/2 for 1 + e⁻³⁰, ≤ eps/4 for the quotient): the error
      // of σ' and σ'' there is below eps absolutely (in float σ(30) = 1, so
      // both come out 0, 9.4e-14 away from the truth).
      CHECK(std::abs(double(g(i)) - first) <= eps);
      CHECK(std::abs(double(h(i)) - second) <= eps);
      CHECK(std::abs(double(h_reverse(i)) - second) <= eps);
    } else {
      // σ is accurate to a few eps here and σ'' = σ(1 − σ)·((1 − σ) − σ) has
      // no catastrophic cancellation (|1 − 2σ| ≥ 0.46 at |x| = 1): a handful
      // of roundings amplified at most 2×, so relative 16 eps; σ''(0) = 0 is
      // computed as ¼·½ − ½·¼ = 0 exactly.
      CHECK(std::abs(double(g(i)) - first) <= 16 * eps * std::abs(first));
      CHECK(std::abs(double(h(i)) - second) <= 16 * eps * std::abs(second));
      CHECK(std::abs(double(h_reverse(i)) - second) <= 16 * eps * std::abs(second));
    }
  }
  CHECK(h(2) > T(0));  // σ''(−30) ≈ 9.4e-14 is resolved, not flushed to 0
}

TEST_CASE_TEMPLATE("saturation: log_softmax stays finite; gradient and Hessian take their exact limits", T, float, double) {
  for (T big : {T(1e4), huge<T>()}) {
    INFO("logits of size " << big);
    Tensor<T> z = Tensor<T>::from_shape({2, 3});
    const T values[] = {big, -big, T(0), T(0), big, -big};
    std::copy(std::begin(values), std::end(values), z.begin());
    const Tensor<T> y = log_softmax(Var<T>(z)).value();
    CHECK(all_finite(y));
    CHECK(y(0, 0) == T(0));       // the winning class has probability 1
    CHECK(y(0, 2) == -big);       // log p = 0 − big
    CHECK(y(0, 1) == T(-2) * big);
    // A weighted sum of log-probabilities (not all ones: Σ_j log_softmax has
    // a degenerate gradient), so every class gets a non-trivial derivative.
    Tensor<T> w = Tensor<T>::from_shape({2, 3});
    const T weights[] = {T(1), T(0.5), T(-0.25), T(0.75), T(-1), T(2)};
    std::copy(std::begin(weights), std::end(weights), w.begin());
    const Function<T> f = [w](const Var<T>& x) { return sum(mul(log_softmax(x), Var<T>(w))); };
    check_finite_derivatives(f, z);
    // p = softmax(z) = [[1, 0, 0], [0, 1, 0]] exactly. ∂f/∂z = w − p·Σ_j w_j per
    // row (Σ w = 1.25 and 1.75), exact in T; the Hessian −Σw (diag p − p pᵀ) is 0.
    const Tensor<T> g = grad(f, z);
    const Tensor<T> expected = from_values<T>({2, 3}, {1 - 1.25, 0.5, -0.25, 0.75, -1 - 1.75, 2});
    CHECK(g == expected);
    check_hvps_equal(f, z, uneven_direction<T>({2, 3}), from_values<T>({2, 3}, {0, 0, 0, 0, 0, 0}));
  }
}

TEST_CASE_TEMPLATE("saturation: cross_entropy stays finite; its gradient is (softmax - onehot)/N exactly", T, float, double) {
  for (T big : {T(1e4), huge<T>()}) {
    INFO("logits of size " << big);
    Tensor<T> z = Tensor<T>::from_shape({2, 3});
    const T values[] = {big, -big, T(0), T(0), big, -big};
    std::copy(std::begin(values), std::end(values), z.begin());
    const std::vector<std::size_t> right{0, 1}, wrong{1, 2};
    const Function<T> confident = [right](const Var<T>& x) { return cross_entropy(x, right); };
    const Function<T> mistaken = [wrong](const Var<T>& x) { return cross_entropy(x, wrong); };
    check_finite_derivatives(confident, z);
    check_finite_derivatives(mistaken, z);
    CHECK(confident(Var<T>(z)).item() == T(0));
    // (2big + 2big) / 2, every step exact (doubling and halving)
    CHECK(mistaken(Var<T>(z)).item() == T(2) * big);
    // ∂CE/∂z = (softmax − onehot)/N with softmax = [[1, 0, 0], [0, 1, 0]], N = 2:
    // 0 for the right labels; ±½ where the mass sits on the wrong class.
    const Tensor<T> zeros = from_values<T>({2, 3}, {0, 0, 0, 0, 0, 0});
    CHECK(grad(confident, z) == zeros);
    CHECK(grad(mistaken, z) == from_values<T>({2, 3}, {0.5, -0.5, 0, 0, 0.5, -0.5}));
    // The Hessian (1/N) blockdiag(diag p − p pᵀ) vanishes for one-hot p.
    check_hvps_equal(confident, z, uneven_direction<T>({2, 3}), zeros);
    check_hvps_equal(mistaken, z, uneven_direction<T>({2, 3}), zeros);
  }
}
