// The engine's half of every rule (autodiff/make_op.hpp, backward.cpp): a
// JVP term runs only for an input that carries a tangent and a VJP term only
// for an input that needs a gradient; the VJP term's result is summed back to
// its input's shape; a rule that returns a wrong shape is a logic_error that
// names the op; a JVP term that reads the output y leaves no reference
// cycle. Also the error holes of the engine's entry points, and the
// transforms composed as the math writes them (hvp = jvp ∘ gradient_of,
// hessian = jacobian ∘ gradient_of).
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>

#include <doctest/doctest.h>

#include "autodiff/autodiff.hpp"
#include "autodiff/make_op.hpp"
#include "tests/autodiff/check_derivatives.hpp"

using namespace fluxion;
using fluxion::testing::contains;
using fluxion::testing::random_tensor;
using V = Var<double>;

namespace {

struct TermCalls {
  int jvp_a = 0, jvp_b = 0, vjp_a = 0, vjp_b = 0;
};

// y = a ⊙ b written as a custom op whose terms count their calls.
V counted_mul(const V& a, const V& b, TermCalls& calls) {
  return make_op<double>(
      Op::custom, {a, b}, Tensor<double>(a.value() * b.value()),
      Jvp{[&calls](const Vars<double>& in, const V& ta) {
            ++calls.jvp_a;
            return ta * in[1];
          },
          [&calls](const Vars<double>& in, const V& tb) {
            ++calls.jvp_b;
            return in[0] * tb;
          }},
      Vjp{[&calls](const Vars<double>& in, const V& g) {
            ++calls.vjp_a;
            return g * in[1];
          },
          [&calls](const Vars<double>& in, const V& g) {
            ++calls.vjp_b;
            return g * in[0];
          }});
}

// y = a + b with broadcasting, a custom op whose VJP terms return ḡ as it is
// (the output's shape): the engine must sum it to each input's shape.
V plain_add(const V& a, const V& b) {
  return make_op<double>(Op::custom, {a, b}, Tensor<double>(a.value() + b.value()),
                         Jvp{[](const Vars<double>&, const V& ta) { return ta; },
                             [](const Vars<double>&, const V& tb) { return tb; }},
                         Vjp{[](const Vars<double>&, const V& g) { return g; },
                             [](const Vars<double>&, const V& g) { return g; }});
}

// A rule of captureless terms is trivially copyable: std::function keeps it
// in place, so recording a node allocates no rule (make_op.hpp, TermList).
const auto pass_through = [](const Vars<double>&, const V& g) { return g; };
static_assert(std::is_trivially_copyable_v<Vjp<decltype(pass_through), decltype(pass_through)>>);

std::string logic_error_message(const std::function<void()>& make) {
  try {
    make();
  } catch (const std::logic_error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("engine: a term runs only for an input that carries a tangent or needs a gradient") {
  const Tensor<double> x = {1.0, 2.0}, z = {3.0, -1.0};
  TermCalls calls;
  {  // forward: only a carries a tangent
    NoGradGuard no_tape;
    const V a = make_dual(V(x), V(Tensor<double>{{1.0, 1.0}}));
    const V y = counted_mul(a, V(z), calls);
    CHECK(y.tangent().value() == Tensor<double>{{3.0, -1.0}});  // ȧ ⊙ b
  }
  CHECK(calls.jvp_a == 1);
  CHECK(calls.jvp_b == 0);
  CHECK(calls.vjp_a + calls.vjp_b == 0);  // nothing recorded under NoGradGuard
  {  // reverse: only b requires grad
    const V a(x), b(z, true);
    const V y = counted_mul(a, b, calls);
    CHECK(grad<double>({sum(y)}, {b})[0].value() == x);
  }
  CHECK(calls.vjp_a == 0);
  CHECK(calls.vjp_b == 1);
  {  // reverse: both require grad, but only a's gradient is wanted
    const V a(x, true), b(z, true);
    const V y = counted_mul(a, b, calls);
    CHECK(grad<double>({sum(y)}, {a})[0].value() == z);
  }
  CHECK(calls.vjp_a == 1);
  CHECK(calls.vjp_b == 1);
}

TEST_CASE("engine: a VJP term in the output's shape is summed to its input's shape") {
  const V a(random_tensor({2, 3}, 1), true), b(random_tensor({3}, 2), true), c(random_tensor({}, 3), true);
  const V y = plain_add(plain_add(a, b), c);
  const std::vector<V> g = grad<double>({sum(y)}, {a, b, c});
  CHECK(g[0].value() == filled<double>({2, 3}, 1.0));
  CHECK(g[1].value() == filled<double>({3}, 2.0));  // b broadcast over 2 rows
  CHECK(g[2].value() == filled<double>({}, 6.0));   // c broadcast over 6 entries
  // and forward: the tangent of a lower-rank input is lifted and broadcast
  NoGradGuard no_tape;
  const V bd = make_dual(V(b.value()), V(filled<double>({1, 3}, 1.0)));
  CHECK(plain_add(V(a.value()), bd).tangent().value() == filled<double>({1, 2, 3}, 1.0));
}

TEST_CASE("engine: a rule that returns a wrong shape is a logic_error naming the op") {
  const V x(Tensor<double>{1.0, 2.0, 3.0}, true);
  const V y = make_op<double>(Op::custom, {x}, Tensor<double>(x.value()),
                              Jvp{[](const Vars<double>&, const V& t) { return sum(t); }},
                              Vjp{[](const Vars<double>&, const V& g) { return sum(g); }});
  // the cotangent [] cannot be summed to [3]
  const std::string reverse = logic_error_message([&] { grad<double>({sum(y)}, {x}); });
  CHECK(contains(reverse, "VJP rule of custom"));
  // a tangent term of rank 3 cannot be broadcast to [k, 2] = [1, 2]
  const std::string forward = logic_error_message([] {
    NoGradGuard no_tape;
    const V xd = make_dual(V(Tensor<double>{1.0, 2.0}), V(Tensor<double>{{1.0, 1.0}}));
    make_op<double>(Op::custom, {xd}, Tensor<double>(xd.value()),
                    Jvp{[](const Vars<double>&, const V& t) { return reshape(t, {1, 1, 2}); }},
                    Vjp{[](const Vars<double>&, const V& g) { return g; }});
  });
  CHECK(contains(forward, "JVP term 0 of custom"));
  // one term per input
  const std::string jvp_count = logic_error_message([] {
    NoGradGuard no_tape;
    const V xd = make_dual(V(Tensor<double>{1.0, 2.0}), V(Tensor<double>{{1.0, 1.0}}));
    make_op<double>(Op::custom, {xd, xd}, Tensor<double>(xd.value()),
                    Jvp{[](const Vars<double>&, const V& t) { return t; }},
                    Vjp{[](const Vars<double>&, const V& g) { return g; }, [](const Vars<double>&, const V& g) { return g; }});
  });
  CHECK(contains(jvp_count, "1 JVP terms for 2 inputs"));
  const std::string count = logic_error_message([&] {
    make_op<double>(Op::custom, {x, x}, Tensor<double>(x.value()),
                    Jvp{[](const Vars<double>&, const V& t) { return t; }},
                    Vjp{[](const Vars<double>&, const V& g) { return g; }});
  });
  CHECK(contains(count, "1 VJP terms for 2 inputs"));
}

TEST_CASE("engine: a JVP term that reads the output leaves no reference cycle") {
  // Recorded forward mode (forward-over-reverse): the tangent of exp(x) is
  // ẋ ⊙ y, a graph that would hold y inside y's own tangent.
  std::weak_ptr<Node<double>> node;
  {
    const V x(random_tensor({4}, 5), true);
    const V xd = make_dual(x, V(random_tensor({2, 4}, 6)));
    const V y = exp(xd);
    REQUIRE(y.tangent().requires_grad());
    node = y.node();
    // the tangent is still differentiable in x: d/dx Σ ẋ ⊙ eˣ = ẋ ⊙ eˣ summed over k
    const Tensor<double> g = grad<double>({sum(y.tangent())}, {x})[0].value();
    Tensor<double> expected = filled<double>({4}, 0.0);
    for (std::size_t k = 0; k < 2; ++k)
      for (std::size_t i = 0; i < 4; ++i) expected(i) += xd.tangent().value()(k, i) * y.value()(i);
    CHECK(fluxion::max_relative_error(g, expected) <= 1e-15);
  }
  CHECK(node.expired());
}

TEST_CASE("engine: the error holes of op_name, id, mean and softplus") {
  const V undefined;
  CHECK_THROWS_AS(undefined.op_name(), std::logic_error);
  CHECK_THROWS_AS(undefined.op(), std::logic_error);
  CHECK_THROWS_AS(undefined.id(), std::logic_error);
  const V x(random_tensor({2, 3}, 7));
  CHECK_THROWS_AS(mean(x, {2}), ShapeError);
  CHECK_THROWS_AS(mean(x, {-3}), ShapeError);
  CHECK(contains(fluxion::testing::shape_error_message([&] { mean(x, {5}); }), "mean: axis 5 out of range for rank 2"));
  CHECK(mean(x, {-2}).value() == mean(x, {0}).value());
  CHECK_THROWS_AS(softplus(x, 0.0), ArgumentError);
  CHECK_THROWS_AS(softplus(x, -1.0), ArgumentError);
}

TEST_CASE("transforms compose: hvp = jvp ∘ gradient_of, hessian = jacobian ∘ gradient_of") {
  // f(x) = Σ_i c_i tanh((W x)_i):  ∇f = Wᵀ (c ⊙ (1 − t²)),  H = Wᵀ diag(c ⊙ (−2t(1 − t²))) W,  t = tanh(W x)
  const Tensor<double> W = random_tensor({3, 4}, 8), c = random_tensor({3, 1}, 9);
  const Tensor<double> x = random_tensor({4}, 10), v = random_tensor({4}, 11);
  const Function<double> f = [&](const V& z) { return sum(tanh(matmul(V(W), reshape(z, {4, 1}))) * V(c)); };
  Tensor<double> H = filled<double>({4, 4}, 0.0), gradient = filled<double>({4}, 0.0);
  for (std::size_t i = 0; i < 3; ++i) {
    double u = 0;
    for (std::size_t j = 0; j < 4; ++j) u += W(i, j) * x(j);
    const double t = std::tanh(u), slope = c(i, 0) * (1 - t * t), curvature = c(i, 0) * (-2 * t * (1 - t * t));
    for (std::size_t j = 0; j < 4; ++j) {
      gradient(j) += W(i, j) * slope;
      for (std::size_t l = 0; l < 4; ++l) H(j, l) += W(i, j) * curvature * W(i, l);
    }
  }
  Tensor<double> Hv = filled<double>({4}, 0.0);
  for (std::size_t j = 0; j < 4; ++j)
    for (std::size_t l = 0; l < 4; ++l) Hv(j) += H(j, l) * v(l);

  const Function<double> gradient_f = gradient_of(f);
  // Rounding only: a few dozen operations on O(1) numbers.
  CHECK(max_relative_error(gradient_f(V(x)).value(), gradient) <= 1e-14);
  CHECK(hvp(f, x, v) == jvp(gradient_f, x, v));
  CHECK(max_relative_error(jvp(gradient_f, x, v), Hv) <= 1e-14);
  CHECK(hessian(f, x) == jacobian(gradient_f, x));
  CHECK(max_relative_error(hessian(f, x), H) <= 1e-14);
  CHECK(max_relative_error(hvp_reverse(f, x, v), Hv) <= 1e-14);
  // the gradient recorded (the caller records) is differentiable again: ∇⟨∇f, v⟩ = H v
  CHECK(max_relative_error(grad(Function<double>([&](const V& z) { return sum(gradient_f(z) * V(v)); }), x), Hv) <=
        1e-14);
  // ∇f and H V from one sweep
  Tensor<double> V2 = random_tensor({2, 4}, 12);
  const ValueAndTangents<double> sweep = value_and_jvp_batched(gradient_f, x, V2);
  CHECK(sweep.value == grad(f, x));
  CHECK(sweep.tangents == hvp_batched(f, x, V2));
  // jvp records no tape for f, but the gradient inside records its own; the
  // caller's modes are back afterwards
  CHECK(grad_mode_enabled());
  CHECK(forward_mode_enabled());
  {
    NoGradGuard no_tape;
    const V g = gradient_f(V(x, true));
    CHECK_FALSE(g.requires_grad());  // not recorded: the caller does not record
    CHECK(max_relative_error(g.value(), gradient) <= 1e-14);
    CHECK_FALSE(grad_mode_enabled());
  }
}
