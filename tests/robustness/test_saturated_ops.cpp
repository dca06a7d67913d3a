// Saturation: softplus (β = 1 and 10), sigmoid, log_softmax and cross_entropy
// at inputs of ±1e4 and ±1e30 (float) / ±1e300 (double) give finite values,
// finite gradients and finite Hessian-vector products (both forward-over-
// reverse and reverse-over-reverse), in float and double — and the right
// limits, not merely finite garbage.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

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
    CHECK(h(4) == doctest::Approx(beta * 0.25));  // β σ(0)(1 − σ(0))
  }
}

TEST_CASE_TEMPLATE("saturation: sigmoid stays finite and in [0, 1]", T, float, double) {
  const Tensor<T> x = saturating_inputs<T>();
  const Function<T> f = [](const Var<T>& z) { return sum(sigmoid(z)); };
  check_finite_derivatives(f, x);
  const Tensor<T> y = sigmoid(Var<T>(x)).value();
  for (T v : y) CHECK((v >= T(0) && v <= T(1)));
  CHECK(y(0) == T(0));
  CHECK(y(8) == T(1));
  const Tensor<T> g = grad(f, x);
  CHECK(g(0) == T(0));
  CHECK(g(8) == T(0));
}

TEST_CASE_TEMPLATE("saturation: log_softmax stays finite", T, float, double) {
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
  }
}

TEST_CASE_TEMPLATE("saturation: cross_entropy stays finite", T, float, double) {
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
    CHECK(mistaken(Var<T>(z)).item() == doctest::Approx(double(big) * 2).epsilon(1e-6));  // (2big + 2big) / 2
  }
}
