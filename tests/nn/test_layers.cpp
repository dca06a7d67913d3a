// Tests for nn/modules: every layer's forward pass against a brute-force
// loop written from the PyTorch definition, PyTorch's state_dict names and
// default init bounds, train/eval mode, and that explaining (input
// gradients in eval mode) never builds weight gradients.
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <unordered_set>

#include "autodiff/backward.hpp"
#include "autodiff/errors.hpp"
#include "autodiff/ops.hpp"
#include "nn/modules/activations.hpp"
#include "nn/modules/conv2d.hpp"
#include "nn/modules/dropout.hpp"
#include "nn/modules/flatten.hpp"
#include "nn/modules/linear.hpp"
#include "nn/modules/pooling.hpp"
#include "nn/modules/sequential.hpp"

using namespace fluxion;

namespace {

Tensor<double> random_tensor(const Shape& shape, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  Tensor<double> t(shape);
  for (auto& v : t) v = normal(rng);
  return t;
}

double max_abs_diff(const Tensor<double>& a, const Tensor<double>& b) {
  REQUIRE(shape_of(a) == shape_of(b));
  double m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(a.data()[i] - b.data()[i]));
  return m;
}

// Every leaf reachable from `out` through recorded graph edges that requires grad.
std::unordered_set<const Node<double>*> grad_leaves(const Var<double>& out) {
  std::unordered_set<const Node<double>*> seen, leaves;
  std::vector<std::shared_ptr<Node<double>>> stack{out.node()};
  while (!stack.empty()) {
    auto n = stack.back();
    stack.pop_back();
    if (!seen.insert(n.get()).second) continue;
    if (!n->vjp && n->requires_grad) leaves.insert(n.get());
    for (const auto& in : n->inputs) stack.push_back(in.node());
  }
  return leaves;
}

}  // namespace

TEST_CASE("layers: Linear computes x Wᵀ + b like a double loop") {
  std::mt19937_64 rng(1);
  Linear<double> layer(5, 3, rng);
  Tensor<double> x = random_tensor({4, 5}, 2);
  Tensor<double> y = layer.forward(Var<double>(x)).value();
  const auto& W = layer.weight().value();
  const auto& b = layer.bias().value();
  Tensor<double> expected(Shape{4, 3});
  for (std::size_t n = 0; n < 4; ++n)
    for (std::size_t o = 0; o < 3; ++o) {
      double acc = b(o);
      for (std::size_t i = 0; i < 5; ++i) acc += W(o, i) * x(n, i);
      expected(n, o) = acc;
    }
  // 5-term dot products in double: rounding ~1e-16 relative
  CHECK(max_abs_diff(y, expected) < 1e-13);
  CHECK(layer.output_shape({5}) == Shape{3});
  CHECK_THROWS_AS(layer.forward(Var<double>(random_tensor({4, 6}, 3))), ShapeError);
}

TEST_CASE("layers: Conv2d with stride and padding matches the direct sum") {
  std::mt19937_64 rng(3);
  for (auto [stride, padding] : {std::pair<std::size_t, std::size_t>{1, 0}, {2, 1}, {1, 2}, {3, 1}}) {
    CAPTURE(stride);
    CAPTURE(padding);
    Conv2d<double> layer(2, 3, 3, rng, stride, padding);
    const std::size_t N = 2, C = 2, H = 7, Wd = 6, K = 3;
    Tensor<double> x = random_tensor({N, C, H, Wd}, 4 + stride);
    Tensor<double> y = layer.forward(Var<double>(x)).value();
    const std::size_t Ho = (H + 2 * padding - K) / stride + 1, Wo = (Wd + 2 * padding - K) / stride + 1;
    REQUIRE(shape_of(y) == Shape{N, 3, Ho, Wo});
    CHECK(layer.output_shape({C, H, Wd}) == Shape{3, Ho, Wo});
    const auto& w = layer.weight().value();
    const auto& b = layer.bias().value();
    Tensor<double> expected(Shape{N, 3, Ho, Wo});
    for (std::size_t n = 0; n < N; ++n)
      for (std::size_t o = 0; o < 3; ++o)
        for (std::size_t i = 0; i < Ho; ++i)
          for (std::size_t j = 0; j < Wo; ++j) {
            double acc = b(o);
            for (std::size_t c = 0; c < C; ++c)
              for (std::size_t u = 0; u < K; ++u)
                for (std::size_t v = 0; v < K; ++v) {
                  long r = long(i * stride + u) - long(padding), s = long(j * stride + v) - long(padding);
                  if (r >= 0 && r < long(H) && s >= 0 && s < long(Wd)) acc += w(o, c, u, v) * x(n, c, r, s);
                }
            expected(n, o, i, j) = acc;
          }
    // 18-term sums in double
    CHECK(max_abs_diff(y, expected) < 1e-13);
  }
}

TEST_CASE("layers: Conv2d backward equals finite differences of the layer") {
  std::mt19937_64 rng(5);
  Conv2d<double> layer(2, 2, 3, rng, 2, 1);
  Tensor<double> x = random_tensor({2, 2, 5, 5}, 6);
  Tensor<double> u = random_tensor({2, 2, 3, 3}, 7);  // projection of the output
  auto f = [&](const Tensor<double>& input) {
    Tensor<double> y = layer.forward(Var<double>(input)).value();
    double s = 0;
    for (std::size_t i = 0; i < y.size(); ++i) s += y.data()[i] * u.data()[i];
    return s;
  };
  Var<double> xv(x, true);
  Var<double> out = sum(mul(layer.forward(xv), constant(u)));
  Tensor<double> g = grad(std::vector<Var<double>>{out}, std::vector<Var<double>>{xv})[0].value();
  const double h = 1e-6;
  for (std::size_t i = 0; i < x.size(); i += 7) {
    Tensor<double> xp = x, xm = x;
    xp.data()[i] += h;
    xm.data()[i] -= h;
    // central differences of a linear function: only rounding error, ~1e-10
    CHECK(std::abs((f(xp) - f(xm)) / (2 * h) - g.data()[i]) < 1e-7);
  }
}

TEST_CASE("layers: pooling matches window max and mean") {
  Tensor<double> x = random_tensor({2, 3, 6, 5}, 8);
  MaxPool2d<double> maxpool(2);
  AvgPool2d<double> avgpool(3, 2);
  Tensor<double> ym = maxpool.forward(Var<double>(x)).value();
  Tensor<double> ya = avgpool.forward(Var<double>(x)).value();
  REQUIRE(shape_of(ym) == Shape{2, 3, 3, 2});
  REQUIRE(shape_of(ya) == Shape{2, 3, 2, 2});
  CHECK(maxpool.output_shape({3, 6, 5}) == Shape{3, 3, 2});
  CHECK(avgpool.output_shape({3, 6, 5}) == Shape{3, 2, 2});
  for (std::size_t n = 0; n < 2; ++n)
    for (std::size_t c = 0; c < 3; ++c) {
      for (std::size_t i = 0; i < 3; ++i)
        for (std::size_t j = 0; j < 2; ++j) {
          double m = -1e300;
          for (std::size_t u = 0; u < 2; ++u)
            for (std::size_t v = 0; v < 2; ++v) m = std::max(m, x(n, c, 2 * i + u, 2 * j + v));
          CHECK(ym(n, c, i, j) == m);  // a max is exact
        }
      for (std::size_t i = 0; i < 2; ++i)
        for (std::size_t j = 0; j < 2; ++j) {
          double s = 0;
          for (std::size_t u = 0; u < 3; ++u)
            for (std::size_t v = 0; v < 3; ++v) s += x(n, c, 2 * i + u, 2 * j + v);
          CHECK(std::abs(ya(n, c, i, j) - s / 9) < 1e-15);  // 9-term mean, rounding only
        }
    }
}

TEST_CASE("layers: activations and flatten") {
  Tensor<double> x = random_tensor({3, 2, 2}, 9);
  Tensor<double> r = ReLU<double>().forward(Var<double>(x)).value();
  Tensor<double> sp = SoftPlus<double>(4.0).forward(Var<double>(x)).value();
  Tensor<double> th = Tanh<double>().forward(Var<double>(x)).value();
  Tensor<double> sg = Sigmoid<double>().forward(Var<double>(x)).value();
  for (std::size_t i = 0; i < x.size(); ++i) {
    double v = x.data()[i];
    CHECK(r.data()[i] == std::max(v, 0.0));
    // closed forms evaluated directly; rounding differences only
    CHECK(std::abs(sp.data()[i] - std::log1p(std::exp(4 * v)) / 4) < 1e-15);
    CHECK(std::abs(th.data()[i] - std::tanh(v)) < 1e-15);
    CHECK(std::abs(sg.data()[i] - 1 / (1 + std::exp(-v))) < 1e-15);
  }
  CHECK_THROWS_AS(SoftPlus<double>(0.0), ArgumentError);
  Tensor<double> f = Flatten<double>().forward(Var<double>(x)).value();
  REQUIRE(shape_of(f) == Shape{3, 4});
  CHECK(f(1, 3) == x(1, 1, 1));  // row-major: [n, c·W + w]
  CHECK(Flatten<double>().output_shape({2, 3, 4}) == Shape{24});
}

TEST_CASE("layers: dropout drops about p, rescales by 1/(1-p), is the identity in eval and is seeded") {
  Dropout<double> drop(0.25, 42);
  Tensor<double> ones = filled<double>({200, 50}, 1.0);
  CHECK(drop.forward(Var<double>(ones)).value() == ones);  // eval mode (default)
  drop.train();
  Tensor<double> y = drop.forward(Var<double>(ones)).value();
  std::size_t zeros = 0;
  for (double v : y) {
    CHECK((v == 0.0 || std::abs(v - 1 / 0.75) < 1e-15));
    zeros += v == 0.0;
  }
  // 10,000 Bernoulli(0.25): sd = sqrt(10000·0.25·0.75) ≈ 43; allow 5 sd
  CHECK(std::abs(double(zeros) - 2500.0) < 5 * 43.3);
  drop.reseed(7);
  Tensor<double> a = drop.forward(Var<double>(ones)).value();
  drop.reseed(7);
  Tensor<double> b = drop.forward(Var<double>(ones)).value();
  CHECK(a == b);
  CHECK_THROWS_AS(Dropout<double>(1.0), ArgumentError);
}

TEST_CASE("layers: PyTorch default init bounds and seeding") {
  std::mt19937_64 a(11), b(11);
  Linear<float> l1(400, 30, a), l2(400, 30, b);
  CHECK(l1.weight().value() == l2.weight().value());  // same seed, same weights
  const float bound = 1.0f / 20.0f;                    // 1/√fan_in, fan_in = 400
  float lo = 1, hi = -1;
  for (float v : l1.weight().value()) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  CHECK(lo >= -bound);
  CHECK(hi <= bound);
  // 12,000 uniform draws: the extremes are within 1% of the bound
  CHECK(hi > 0.99f * bound);
  CHECK(lo < -0.99f * bound);
  std::mt19937_64 c(12);
  Conv2d<float> conv(4, 8, 3, c);  // fan_in = 4·3·3 = 36
  for (float v : conv.bias().value()) CHECK(std::abs(v) <= 1.0f / 6.0f);
}

TEST_CASE("layers: Sequential names parameters like PyTorch's state_dict") {
  std::mt19937_64 rng(13);
  Sequential<double> model({std::make_shared<Conv2d<double>>(1, 2, 3, rng), std::make_shared<ReLU<double>>(),
                             std::make_shared<Flatten<double>>(), std::make_shared<Linear<double>>(2 * 4 * 4, 3, rng)},
                            {1, 6, 6});
  auto params = model.named_parameters();
  REQUIRE(params.size() == 4);
  CHECK(params[0].name == "0.weight");
  CHECK(params[1].name == "0.bias");
  CHECK(params[2].name == "3.weight");
  CHECK(params[3].name == "3.bias");
  CHECK(params[2].value.shape() == Shape{3, 32});
  CHECK(model.output_shape() == Shape{3});
  CHECK_THROWS_AS(Sequential<double>({std::make_shared<Linear<double>>(10, 3, rng)}, {1, 6, 6}), ShapeError);
  CHECK_THROWS_AS(model.forward(Var<double>(random_tensor({2, 1, 5, 6}, 1))), ShapeError);
}

TEST_CASE("layers: explaining in eval mode records no weight gradient work; train mode does") {
  std::mt19937_64 rng(14);
  Sequential<double> model({std::make_shared<Flatten<double>>(), std::make_shared<Linear<double>>(12, 8, rng),
                            std::make_shared<ReLU<double>>(), std::make_shared<Linear<double>>(8, 3, rng)},
                           {3, 4});
  Var<double> x(random_tensor({2, 3, 4}, 15), true);

  // eval (the default): the only leaf the graph can send gradients to is x,
  // so no VJP rule ever computes a weight cotangent.
  Var<double> z = model.forward(x);
  auto leaves = grad_leaves(z);
  CHECK(leaves.size() == 1);
  CHECK(leaves.count(x.node().get()) == 1);
  Tensor<double> gx = grad(std::vector<Var<double>>{sum(z)}, std::vector<Var<double>>{x})[0].value();
  CHECK(shape_of(gx) == Shape{2, 3, 4});
  for (const auto& p : model.named_parameters()) CHECK_FALSE(p.value.has_grad());

  // train: all four parameters are gradient leaves and backward fills them
  model.train();
  Var<double> zt = model.forward(x);
  CHECK(grad_leaves(zt).size() == 5);
  backward(sum(zt));
  for (const auto& p : model.named_parameters()) CHECK(p.value.has_grad());
  model.eval();
  for (const auto& p : model.named_parameters()) CHECK_FALSE(p.value.requires_grad());
}
