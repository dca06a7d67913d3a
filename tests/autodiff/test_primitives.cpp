// Every primitive (and the composites): JVP and VJP against central finite
// differences (relative error ≤ 1e-6), the dot-product test ⟨u, J v⟩ =
// ⟨Jᵀu, v⟩ (≤ 1e-12 relative), and batched tangents = single tangents.
#include "tests/autodiff/check_derivatives.hpp"

using namespace fluxion;
using fluxion::testing::check_op;
using fluxion::testing::random_tensor;
using fluxion::testing::require_exact_derivatives;
using V = Var<double>;
using Vs = std::vector<V>;

namespace {

void check(const char* name, const fluxion::testing::MultiFn& f, const std::vector<Tensor<double>>& xs,
           std::uint64_t seed = 1) {
  CAPTURE(name);
  auto e = check_op(f, xs, seed);
  CAPTURE(e.jvp_vs_fd);
  CAPTURE(e.vjp_vs_fd);
  CAPTURE(e.dot_test);
  CAPTURE(e.batched);
  require_exact_derivatives(e);
}

Tensor<double> rnd(const Shape& s, std::uint64_t seed, double lo = -1, double hi = 1) {
  return random_tensor(s, seed, lo, hi);
}

// Values bounded away from 0 (for relu/step, and max-pool without near-ties):
// a shuffled ladder of distinct magnitudes with random signs.
Tensor<double> away_from_kinks(const Shape& s, std::uint64_t seed) {
  Tensor<double> t = rnd(s, seed);
  std::vector<std::size_t> order(t.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::mt19937_64 rng(seed);
  std::shuffle(order.begin(), order.end(), rng);
  for (std::size_t i = 0; i < t.size(); ++i)
    t.data()[order[i]] = (t.data()[order[i]] < 0 ? -1.0 : 1.0) * (0.05 + 0.01 * double(i));
  return t;
}

}  // namespace

TEST_CASE("element-wise binary ops with broadcasting") {
  for (auto shapes : std::vector<std::pair<Shape, Shape>>{{{3, 4}, {3, 4}}, {{3, 4}, {4}}, {{2, 1, 3}, {4, 1}},
                                                          {{5}, {}}, {{1, 4}, {3, 1}}}) {
    auto a = rnd(shapes.first, 1), b = rnd(shapes.second, 2);
    check("add", [](const Vs& v) { return add(v[0], v[1]); }, {a, b});
    check("sub", [](const Vs& v) { return sub(v[0], v[1]); }, {a, b});
    check("mul", [](const Vs& v) { return mul(v[0], v[1]); }, {a, b});
    check("div", [](const Vs& v) { return div(v[0], v[1]); }, {a, rnd(shapes.second, 3, 0.5, 2.0)});
  }
}

TEST_CASE("element-wise unary ops") {
  auto x = rnd({3, 5}, 4);
  check("neg", [](const Vs& v) { return neg(v[0]); }, {x});
  check("scale", [](const Vs& v) { return scale(v[0], 2.5); }, {x});
  check("exp", [](const Vs& v) { return exp(v[0]); }, {x});
  check("log", [](const Vs& v) { return log(v[0]); }, {rnd({3, 5}, 5, 0.2, 3.0)});
  check("tanh", [](const Vs& v) { return tanh(v[0]); }, {x});
  check("sigmoid", [](const Vs& v) { return sigmoid(v[0]); }, {scale(V(x), 4.0).value()});
  check("relu", [](const Vs& v) { return relu(v[0]); }, {away_from_kinks({3, 5}, 6)});
  check("softplus beta=1", [](const Vs& v) { return softplus(v[0], 1.0); }, {x});
  check("softplus beta=10", [](const Vs& v) { return softplus(v[0], 10.0); }, {x});
  check("pow 2", [](const Vs& v) { return pow(v[0], 2.0); }, {x});
  check("pow 3", [](const Vs& v) { return pow(v[0], 3.0); }, {x});
  check("pow 2.5", [](const Vs& v) { return pow(v[0], 2.5); }, {rnd({3, 5}, 7, 0.2, 2.0)});
  check("pow -1", [](const Vs& v) { return pow(v[0], -1.0); }, {rnd({3, 5}, 8, 0.5, 2.0)});
}

TEST_CASE("matmul: plain, transposed and batched") {
  check("A B", [](const Vs& v) { return matmul(v[0], v[1]); }, {rnd({3, 4}, 1), rnd({4, 5}, 2)});
  check("Aᵀ B", [](const Vs& v) { return matmul(v[0], v[1], true, false); }, {rnd({4, 3}, 1), rnd({4, 5}, 2)});
  check("A Bᵀ", [](const Vs& v) { return matmul(v[0], v[1], false, true); }, {rnd({3, 4}, 1), rnd({5, 4}, 2)});
  check("Aᵀ Bᵀ", [](const Vs& v) { return matmul(v[0], v[1], true, true); }, {rnd({4, 3}, 1), rnd({5, 4}, 2)});
  check("batched A, plain B", [](const Vs& v) { return matmul(v[0], v[1]); }, {rnd({2, 3, 4}, 1), rnd({4, 5}, 2)});
  check("plain A, batched B", [](const Vs& v) { return matmul(v[0], v[1]); }, {rnd({3, 4}, 1), rnd({2, 4, 5}, 2)});
  check("broadcast batches", [](const Vs& v) { return matmul(v[0], v[1], true, false); },
        {rnd({2, 1, 4, 3}, 1), rnd({3, 4, 5}, 2)});
}

TEST_CASE("conv2d and its two adjoints") {
  kernels::Conv2dParams same{1, 1}, strided{2, 0};
  for (auto p : {same, strided}) {
    auto x = rnd({2, 3, 6, 6}, 1), w = rnd({4, 3, 3, 3}, 2);
    check("conv2d", [p](const Vs& v) { return conv2d(v[0], v[1], p); }, {x, w});
    Shape out = {2, 4, kernels::conv_output_size(6, 3, p), kernels::conv_output_size(6, 3, p)};
    check("conv2d_input_grad", [p](const Vs& v) { return conv2d_input_grad(v[0], v[1], 6, 6, p); },
          {rnd(out, 3), w});
    check("conv2d_weight_grad", [p](const Vs& v) { return conv2d_weight_grad(v[0], v[1], 3, 3, p); },
          {x, rnd(out, 4)});
  }
  // leading axes beyond the batch (what batched tangents look like)
  check("conv2d rank 5", [](const Vs& v) { return conv2d(v[0], v[1], {1, 2}); },
        {rnd({2, 2, 1, 5, 5}, 5), rnd({3, 1, 5, 5}, 6)});
}

TEST_CASE("pooling") {
  auto x = away_from_kinks({2, 3, 4, 6}, 9);
  check("max_pool2d", [](const Vs& v) { return max_pool2d(v[0], {2, 2}); }, {x});
  check("max_pool2d overlapping", [](const Vs& v) { return max_pool2d(v[0], {3, 1}); }, {x});
  check("avg_pool2d", [](const Vs& v) { return avg_pool2d(v[0], {2, 2}); }, {rnd({2, 3, 4, 6}, 10)});
  check("avg_pool2d_adjoint", [](const Vs& v) { return avg_pool2d_adjoint(v[0], 4, 6, {2, 2}); },
        {rnd({2, 3, 2, 3}, 11)});
  auto map = std::make_shared<kernels::ArgmaxMap>();
  kernels::max_pool2d(x, {2, 2}, *map);
  std::shared_ptr<const kernels::ArgmaxMap> m = map;
  check("pool_gather", [m](const Vs& v) { return pool_gather(v[0], m); }, {rnd({2, 3, 4, 6}, 12)});
  check("pool_scatter", [m](const Vs& v) { return pool_scatter(v[0], m); }, {rnd({2, 3, 2, 3}, 13)});
}

TEST_CASE("shape ops, reductions, gather/scatter, logsumexp") {
  auto x = rnd({2, 3, 4}, 1);
  check("reshape", [](const Vs& v) { return reshape(v[0], {4, 6}); }, {x});
  check("permute", [](const Vs& v) { return permute(v[0], {2, 0, 1}); }, {x});
  check("sum all", [](const Vs& v) { return sum(v[0]); }, {x});
  check("sum axis 1", [](const Vs& v) { return sum(v[0], {1}); }, {x});
  check("sum axes 0,2 keepdims", [](const Vs& v) { return sum(v[0], {0, -1}, true); }, {x});
  check("broadcast_to", [](const Vs& v) { return broadcast_to(v[0], {2, 3, 4}); }, {rnd({3, 1}, 2)});
  check("sum_to", [](const Vs& v) { return sum_to(v[0], {3, 1}); }, {x});
  std::vector<std::size_t> idx{2, 0, 3};
  check("select", [idx](const Vs& v) { return select(v[0], idx); }, {rnd({2, 3, 4}, 3)});
  check("scatter", [idx](const Vs& v) { return scatter(v[0], idx, 4); }, {rnd({2, 3}, 4)});
  check("logsumexp", [](const Vs& v) { return logsumexp(v[0]); }, {scale(V(x), 3.0).value()});
}

TEST_CASE("composites get their derivatives from the primitives") {
  auto z = rnd({4, 5}, 1, -3, 3);
  check("log_softmax", [](const Vs& v) { return log_softmax(v[0]); }, {z});
  check("softmax", [](const Vs& v) { return softmax(v[0]); }, {z});
  check("cross_entropy", [](const Vs& v) { return cross_entropy(v[0], {0, 4, 2, 1}); }, {z});
  check("mse", [](const Vs& v) { return mse(v[0], v[1]); }, {z, rnd({4, 5}, 2)});
  check("mean axis", [](const Vs& v) { return mean(v[0], {0}); }, {z});
  check("transpose", [](const Vs& v) { return transpose(v[0]); }, {z});
}
