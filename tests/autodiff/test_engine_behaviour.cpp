// How the engine behaves, as opposed to what each rule computes:
//
//   broadcasting   NumPy rules: shapes align on the right, a 1 stretches.
//                  For c = a ⊕ b the cotangent of a is ḡ summed over the axes
//                  where a was stretched (so ∂/∂a Σ w ⊙ (a + b) = sum_to(w)).
//   reused nodes   a node used n times receives the sum of n cotangents
//                  (multivariate chain rule), including diamonds a → {b, c} → d.
//   no-grad scope  NoGradGuard: nothing is recorded; guards nest and restore.
//   long chains    reverse mode walks the tape in a loop: a 100,000-node chain
//                  needs no deep recursion (neither in backward nor in the
//                  destructor), and its reverse sweep makes exactly one
//                  cotangent node per chain node (counted by node ids, not
//                  timed: the time ratio is benchmarks/bench_linear_chain.cpp).
//   backward()     accumulates into leaf .grad until zero_grad().
#include <cmath>
#include <string>

#include <xtensor/xmath.hpp>

#include "autodiff/kernels.hpp"
#include "tests/autodiff/check_derivatives.hpp"

using namespace fluxion;
using fluxion::testing::random_tensor;
using fluxion::testing::contains;
using fluxion::testing::shape_error_message;

namespace {

using V = Var<double>;


}  // namespace

// ---- broadcasting ----------------------------------------------------------

TEST_CASE("engine: scalar (rank 0) against a tensor") {
  V a(Tensor<double>(2.5), true);
  V b(random_tensor({3, 4}, 1), true);
  V y = mul(a, b);
  REQUIRE(y.shape() == Shape{3, 4});
  for (std::size_t i = 0; i < 3; ++i)
    for (std::size_t j = 0; j < 4; ++j) CHECK(y.value()(i, j) == 2.5 * b.value()(i, j));
  auto g = grad<double>({sum(y)}, {a, b});
  REQUIRE(g[0].shape() == Shape{});                 // the scalar's cotangent stays a scalar
  CHECK(g[0].item() == doctest::Approx(xt::sum(b.value())()).epsilon(1e-14));  // Σ b, summed in another order
  CHECK(g[1].value() == filled<double>({3, 4}, 2.5));
}

TEST_CASE("engine: [3,1] + [1,4] broadcasts both ways") {
  V a(random_tensor({3, 1}, 2), true), b(random_tensor({1, 4}, 3), true);
  Tensor<double> w = random_tensor({3, 4}, 4);
  V y = add(a, b);
  REQUIRE(y.shape() == Shape{3, 4});
  for (std::size_t i = 0; i < 3; ++i)
    for (std::size_t j = 0; j < 4; ++j) CHECK(y.value()(i, j) == a.value()(i, 0) + b.value()(0, j));
  // ∂/∂a Σ w ⊙ (a + b) = row sums of w; ∂/∂b = column sums.
  auto g = grad<double>({sum(mul(V(w), y))}, {a, b});
  REQUIRE(g[0].shape() == Shape{3, 1});
  REQUIRE(g[1].shape() == Shape{1, 4});
  for (std::size_t i = 0; i < 3; ++i) {
    double row = 0;
    for (std::size_t j = 0; j < 4; ++j) row += w(i, j);
    CHECK(g[0].value()(i, 0) == doctest::Approx(row).epsilon(1e-14));  // 4 terms: rounding only
  }
  for (std::size_t j = 0; j < 4; ++j) {
    double col = 0;
    for (std::size_t i = 0; i < 3; ++i) col += w(i, j);
    CHECK(g[1].value()(0, j) == doctest::Approx(col).epsilon(1e-14));
  }
}

TEST_CASE("engine: leading-axis broadcast and rank mismatch") {
  // a [2,3,4] ⊙ b [3,4] and a [2,3,4] ⊙ c [4]: b and c are reused along the
  // missing leading axes, so their cotangents sum over them.
  V a(random_tensor({2, 3, 4}, 5), true), b(random_tensor({3, 4}, 6), true), c(random_tensor({4}, 7), true);
  V y = sum(add(mul(a, b), mul(a, c)));
  auto g = grad<double>({y}, {a, b, c});
  REQUIRE(g[1].shape() == Shape{3, 4});
  REQUIRE(g[2].shape() == Shape{4});
  const Tensor<double>& av = a.value();
  for (std::size_t n = 0; n < 2; ++n)
    for (std::size_t i = 0; i < 3; ++i)
      for (std::size_t j = 0; j < 4; ++j)
        CHECK(g[0].value()(n, i, j) == doctest::Approx(b.value()(i, j) + c.value()(j)).epsilon(1e-15));
  for (std::size_t j = 0; j < 4; ++j) {
    double col = 0;
    for (std::size_t n = 0; n < 2; ++n)
      for (std::size_t i = 0; i < 3; ++i) {
        CHECK(g[1].value()(i, j) == doctest::Approx(av(0, i, j) + av(1, i, j)).epsilon(1e-15));
        col += av(n, i, j);
      }
    CHECK(g[2].value()(j) == doctest::Approx(col).epsilon(1e-14));  // 6 terms: rounding only
  }
}

TEST_CASE("engine: shape errors throw ShapeError naming both shapes") {
  V a(random_tensor({3, 4}, 1)), b(random_tensor({3, 5}, 2)), m(random_tensor({4, 5}, 3));
  for (auto op : {&add<double>, &sub<double>, &mul<double>, &div<double>}) {
    std::string msg = shape_error_message([&] { op(a, b); });
    CAPTURE(msg);
    CHECK(contains(msg, "[3, 4]"));
    CHECK(contains(msg, "[3, 5]"));
  }
  std::string matmul_msg = shape_error_message([&] { matmul(a, b); });  // inner 4 vs 3
  CAPTURE(matmul_msg);
  CHECK(contains(matmul_msg, "[3, 4]"));
  CHECK(contains(matmul_msg, "[3, 5]"));
  CHECK(shape_error_message([&] { matmul(a, m); }).empty());  // [3,4]@[4,5] is fine
  std::string reshape_msg = shape_error_message([&] { reshape(a, {5, 2}); });
  CHECK(contains(reshape_msg, "[3, 4]"));
  CHECK(contains(reshape_msg, "[5, 2]"));
  std::string bcast_msg = shape_error_message([&] { broadcast_to(a, {2, 3, 5}); });
  CHECK(contains(bcast_msg, "[3, 4]"));
  CHECK(contains(bcast_msg, "[2, 3, 5]"));
  // A tangent of the wrong shape is caught before any work.
  std::string jvp_msg = shape_error_message([&] {
    jvp_batched(Function<double>([](const V& x) { return exp(x); }), a.value(), filled<double>({2, 4, 3}, 1.0));
  });
  CHECK(contains(jvp_msg, "[2, 4, 3]"));
  CHECK(contains(jvp_msg, "[3, 4]"));
}

// ---- reused nodes ------------------------------------------------------------

TEST_CASE("engine: a node used several times accumulates its cotangents") {
  Tensor<double> x0 = random_tensor({5}, 8);
  // x ⊙ x: both inputs of one op are the same node.  d/dx = 2x, d²/dx² = 2.
  Function<double> square_by_mul = [](const V& x) { return mul(x, x); };
  CHECK(max_relative_error(grad(square_by_mul, x0), 2.0 * x0) <= 1e-15);
  CHECK(max_relative_error(hvp(square_by_mul, x0, filled<double>({5}, 1.0)), filled<double>({5}, 2.0)) <= 1e-15);
  CHECK(max_relative_error(hvp_reverse(square_by_mul, x0, filled<double>({5}, 1.0)), filled<double>({5}, 2.0)) <=
        1e-15);
  // a = eˣ used three times: a + a + a → 3eˣ;  a ⊙ a ⊙ a = e³ˣ → 3e³ˣ.
  Function<double> triple_sum = [](const V& x) {
    V a = exp(x);
    return add(add(a, a), a);
  };
  Function<double> triple_product = [](const V& x) {
    V a = exp(x);
    return mul(mul(a, a), a);
  };
  // a handful of roundings in exp and the sums: 1e-14 relative
  CHECK(max_relative_error(grad(triple_sum, x0), Tensor<double>(3.0 * xt::exp(x0))) <= 1e-14);
  CHECK(max_relative_error(grad(triple_product, x0), Tensor<double>(3.0 * xt::exp(3.0 * x0))) <= 1e-14);
}

TEST_CASE("engine: diamond graph x -> a -> {b, c} -> d") {
  // a = tanh x, b = 2a, c = eᵃ, d = b ⊙ c = 2a eᵃ;  dd/dx = 2(1 + a) eᵃ (1 − a²).
  Function<double> diamond = [](const V& x) {
    V a = tanh(x);
    V b = scale(a, 2.0);
    V c = exp(a);
    return mul(b, c);
  };
  Tensor<double> x0 = random_tensor({6}, 9, -2, 2);
  Tensor<double> a = xt::tanh(x0);
  Tensor<double> expected = 2.0 * (1.0 + a) * xt::exp(a) * (1.0 - a * a);
  CHECK(max_relative_error(grad(diamond, x0), expected) <= 1e-14);  // ~10 roundings
  // The same by finite differences (an independent check of the closed form).
  CHECK(gradcheck(diamond, x0) <= 1e-8);
  // Two outputs sharing the graph: grad of {y₁, y₂} is the sum of both gradients.
  V x(x0, true);
  V t = tanh(x);
  V y1 = sum(t), y2 = sum(mul(t, t));
  Tensor<double> both = grad<double>({y1, y2}, {x})[0].value();
  Tensor<double> sech2 = 1.0 - a * a;
  CHECK(max_relative_error(both, Tensor<double>(sech2 + 2.0 * a * sech2)) <= 1e-14);
}

// ---- no-grad scope -----------------------------------------------------------

TEST_CASE("engine: NoGradGuard records nothing; guards nest and restore") {
  V x(random_tensor({4}, 10), true);
  REQUIRE(grad_mode_enabled());
  {
    NoGradGuard outer;
    CHECK_FALSE(grad_mode_enabled());
    V y = mul(x, x);
    CHECK_FALSE(y.requires_grad());
    CHECK(y.is_leaf());  // no VJP rule recorded, no inputs kept
    CHECK(y.value() == Tensor<double>(x.value() * x.value()));
    {
      NoGradGuard inner;
      CHECK_FALSE(grad_mode_enabled());
      {
        EnableGradGuard on(true);  // create_graph inside a no-grad region
        CHECK(grad_mode_enabled());
        CHECK(mul(x, x).requires_grad());
      }
      CHECK_FALSE(grad_mode_enabled());
    }
    CHECK_FALSE(grad_mode_enabled());  // the inner guard restored "off", not "on"
  }
  CHECK(grad_mode_enabled());
  // A value computed under no-grad is a constant afterwards:
  // d/dx Σ (x ⊙ x)|const ⊙ x = x ⊙ x.
  V z;
  {
    NoGradGuard no_graph;
    z = mul(x, x);
  }
  CHECK(grad<double>({sum(mul(z, x))}, {x})[0].value() == z.value());
  // Forward mode still works without a tape (that is how jvp runs).
  {
    NoGradGuard no_graph;
    V xd = make_dual(V(x.value()), V(filled<double>({1, 4}, 1.0)));
    V y = mul(xd, xd);
    REQUIRE(y.has_tangent());
    Tensor<double> ty = y.tangent().value();
    ty.reshape({4});
    CHECK(ty == Tensor<double>(2.0 * x.value()));
    CHECK_FALSE(y.requires_grad());
  }
}

// ---- long chains ---------------------------------------------------------------

namespace {

// y = cⁿ x built from n scale nodes, then its gradient; returns the gradient
// (to check) after the whole graph has been destroyed.
double chain_gradient(std::size_t n, double c) {
  V x(Tensor<double>{1.5}, true);
  V y = x;
  for (std::size_t i = 0; i < n; ++i) y = scale(y, c);
  return grad<double>({sum(y)}, {x})[0].value()(0);
}  // the chain dies here: n nested shared_ptr releases, handled iteratively

// Number of graph nodes `work` creates. Node ids are a global creation
// counter, so it is the id of a probe made after, minus one made before, minus 1.
template <class Work>
std::uint64_t nodes_created_by(Work work) {
  const std::uint64_t before = V(Tensor<double>{0.0}).id();
  work();
  const std::uint64_t after = V(Tensor<double>{0.0}).id();
  return after - before - 1;
}

}  // namespace

TEST_CASE("engine: a 100,000-node chain: gradient, no stack overflow, linear work") {
  const std::size_t n = 100000;
  const double c = 1.0 + 1e-6;
  // d/dx cⁿ x = cⁿ. n roundings of relative size ≤ 1.1e-16 each: ≤ 1.2e-11.
  CHECK(chain_gradient(n, c) == doctest::Approx(std::pow(c, double(n))).epsilon(2e-11));
  // Linear work, counted instead of timed: the forward chain makes n nodes and
  // the reverse sweep one cotangent node per chain node, plus the same few
  // nodes (leaf, sum, seed, the sum's VJP) whatever n. A sweep that revisited
  // nodes or accumulated through extra adds would change the count.
  const std::uint64_t fixed = nodes_created_by([] { chain_gradient(1000, 1.0); }) - 2 * 1000;
  CHECK(fixed <= 8);
  for (std::size_t length : {std::size_t(50000), n}) {
    CAPTURE(length);
    CHECK(nodes_created_by([length] { chain_gradient(length, 1.0); }) == 2 * length + fixed);
  }
}

TEST_CASE("engine: second derivatives through a 100,000-node chain") {
  // f(x) = (cⁿ x)² = c²ⁿ x²  ⇒  f'' = 2c²ⁿ. The gradient graph (create_graph)
  // is itself a 100k-node chain, and the forward-over-reverse tangent chain too.
  const std::size_t n = 100000;
  const double c = 1.0 + 1e-6;
  Function<double> f = [&](const V& x) {
    V y = x;
    for (std::size_t i = 0; i < n; ++i) y = scale(y, c);
    return mul(y, y);
  };
  Tensor<double> x0 = {0.7}, one = {1.0};
  double expected = 2.0 * std::pow(c, 2.0 * double(n));
  // ~2n roundings: ≤ 2.5e-11 relative; allow 5e-11.
  CHECK(hvp_reverse(f, x0, one)(0) == doctest::Approx(expected).epsilon(5e-11));
  CHECK(hvp(f, x0, one)(0) == doctest::Approx(expected).epsilon(5e-11));
}

// ---- backward() into leaves --------------------------------------------------------

TEST_CASE("engine: backward accumulates into leaf grads until zero_grad") {
  Tensor<double> w0 = random_tensor({3}, 11);
  V w(w0, true);
  V data(random_tensor({3}, 12));  // a constant: gets no grad
  auto loss = [&] { return sum(mul(mul(w, w), data)); };  // Σ d ⊙ w² ⇒ ∇ = 2 d ⊙ w
  Tensor<double> expected = 2.0 * data.value() * w0;

  CHECK_FALSE(w.has_grad());
  V l = loss();
  backward(l);
  REQUIRE(w.has_grad());
  CHECK(max_relative_error(w.grad(), expected) <= 1e-15);
  CHECK_FALSE(data.has_grad());
  backward(loss());  // a second pass adds to the first
  CHECK(max_relative_error(w.grad(), Tensor<double>(2.0 * expected)) <= 1e-15);
  w.zero_grad();
  CHECK_FALSE(w.has_grad());
  backward(loss());
  CHECK(max_relative_error(w.grad(), expected) <= 1e-15);
  // Intermediate nodes never receive a .grad; only leaves do.
  CHECK_FALSE(l.has_grad());
  // The loss must be a single number.
  CHECK_THROWS_AS(backward(mul(w, w)), ShapeError);
}

// ---- the broadcasting kernels against a naive multi-index loop ----------------

namespace {

// Flat index into a tensor of shape `s` for output multi-index `idx`
// (right-aligned; extent-1 axes read index 0): the definition of broadcasting.
std::size_t broadcast_index(const Shape& s, const std::vector<std::size_t>& idx) {
  std::size_t flat = 0, shift = idx.size() - s.size();
  for (std::size_t i = 0; i < s.size(); ++i) flat = flat * s[i] + (s[i] == 1 ? 0 : idx[i + shift]);
  return flat;
}

}  // namespace

TEST_CASE("engine: broadcasting kernels equal the naive definition") {
  const std::vector<std::pair<Shape, Shape>> cases = {
      {{3, 4}, {3, 4}},          {{}, {3, 4}},         {{3, 1}, {1, 4}},       {{2, 3, 4}, {3, 4}},
      {{5, 1, 2, 3, 3}, {2, 3, 3}}, {{4}, {2, 3, 4}},  {{2, 1, 4, 1}, {3, 1, 5}}, {{1, 1}, {1}},
      {{6, 1, 1}, {1, 5, 1}},    {{1, 3, 1, 2}, {4, 1, 5, 1}}};
  for (const auto& [sa, sb] : cases) {
    CAPTURE(shape_str(sa));
    CAPTURE(shape_str(sb));
    Tensor<double> a = random_tensor(sa, 21), b = random_tensor(sb, 22, 0.5, 2.0);
    Shape out = kernels::broadcast_shapes(sa, sb, "test");
    std::vector<std::pair<kernels::BinaryOp, std::function<double(double, double)>>> ops = {
        {kernels::BinaryOp::add, [](double u, double v) { return u + v; }},
        {kernels::BinaryOp::sub, [](double u, double v) { return u - v; }},
        {kernels::BinaryOp::mul, [](double u, double v) { return u * v; }},
        {kernels::BinaryOp::div, [](double u, double v) { return u / v; }}};
    for (const auto& [op, f] : ops) {
      Tensor<double> got = kernels::binary(a, b, op, "test");
      REQUIRE(shape_of(got) == out);
      std::vector<std::size_t> idx(out.size(), 0);
      bool all_equal = true;
      for (std::size_t flat = 0; flat < got.size(); ++flat) {
        double want = f(a.data()[broadcast_index(sa, idx)], b.data()[broadcast_index(sb, idx)]);
        all_equal = all_equal && got.data()[flat] == want;  // the same single rounding: exact
        for (std::size_t i = out.size(); i-- > 0;) {
          if (++idx[i] < out[i]) break;
          idx[i] = 0;
        }
      }
      CHECK(all_equal);
    }
    Tensor<double> stretched = kernels::broadcast_to(a, out);
    std::vector<std::size_t> idx(out.size(), 0);
    bool all_equal = true;
    for (std::size_t flat = 0; flat < stretched.size(); ++flat) {
      all_equal = all_equal && stretched.data()[flat] == a.data()[broadcast_index(sa, idx)];
      for (std::size_t i = out.size(); i-- > 0;) {
        if (++idx[i] < out[i]) break;
        idx[i] = 0;
      }
    }
    CHECK(all_equal);
  }
  std::string msg = shape_error_message([] { kernels::binary(Tensor<double>(Shape{2, 3}), Tensor<double>(Shape{4}), kernels::BinaryOp::mul, "mul"); });
  CHECK(contains(msg, "[2, 3]"));
  CHECK(contains(msg, "[4]"));
}
