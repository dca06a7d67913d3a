// Every primitive (and the composites): JVP and VJP against central finite
// differences (normwise relative error ≤ 1e-6 AND every entry within
// 1e-9 + 1e-9·|reference|, step and tolerances argued in
// check_derivatives.hpp), the dot-product test ⟨u, J v⟩ = ⟨Jᵀu, v⟩ (≤ 1e-12
// relative), and batched tangents = single tangents.
//
// conv2d and its two adjoints are also checked on non-square images with
// non-square kernels, stride and padding (an H/W swap anywhere changes a
// shape or a value), with the forward pass against a direct loop over the
// definition; avg_pool2d with overlapping (stride < kernel) and truncated
// (input not tiled exactly) windows likewise. Conv2dParams has one stride
// and one padding for both axes and no dilation, so there is none to test.
#include "tests/autodiff/check_derivatives.hpp"

using namespace fluxion;
using fluxion::testing::check_op;
using fluxion::testing::random_tensor;
using fluxion::testing::distinct_values;
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
  CAPTURE(e.jvp_entrywise);
  CAPTURE(e.vjp_entrywise);
  CAPTURE(e.dot_test);
  CAPTURE(e.batched);
  require_exact_derivatives(e);
#ifdef FLUXION_FD_REPORT
  MESSAGE(std::string(name) << ": entrywise jvp " << e.jvp_entrywise << " vjp " << e.vjp_entrywise << "; normwise " << e.jvp_vs_fd
               << " " << e.vjp_vs_fd);
#endif
}

Tensor<double> rnd(const Shape& s, std::uint64_t seed, double lo = -1, double hi = 1) {
  return random_tensor(s, seed, lo, hi);
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
  check("relu", [](const Vs& v) { return relu(v[0]); }, {distinct_values({3, 5}, 6)});
  check("softplus beta=1", [](const Vs& v) { return softplus(v[0], 1.0); }, {x});
  check("softplus beta=10", [](const Vs& v) { return softplus(v[0], 10.0); }, {x});
  check("pow 2", [](const Vs& v) { return pow(v[0], 2.0); }, {x});
  check("pow 3", [](const Vs& v) { return pow(v[0], 3.0); }, {x});
  check("pow 2.5", [](const Vs& v) { return pow(v[0], 2.5); }, {rnd({3, 5}, 7, 0.2, 2.0)});
  check("pow -1", [](const Vs& v) { return pow(v[0], -1.0); }, {rnd({3, 5}, 8, 0.5, 2.0)});
  check("pow 1", [](const Vs& v) { return pow(v[0], 1.0); }, {x});
  // x⁰ = 1 everywhere, 0⁰ included: J = 0 exactly, also at the zero entries.
  Tensor<double> with_zeros = x;
  with_zeros(0, 0) = 0.0;
  with_zeros(2, 4) = 0.0;
  check("pow 0", [](const Vs& v) { return pow(v[0], 0.0); }, {with_zeros});
  CHECK(pow(V(with_zeros), 0.0).value() == filled<double>({3, 5}, 1.0));
}

TEST_CASE("matmul: plain, transposed and batched") {
  check("matmul A B", [](const Vs& v) { return matmul(v[0], v[1]); }, {rnd({3, 4}, 1), rnd({4, 5}, 2)});
  check("matmul Aᵀ B", [](const Vs& v) { return matmul(v[0], v[1], true, false); }, {rnd({4, 3}, 1), rnd({4, 5}, 2)});
  check("matmul A Bᵀ", [](const Vs& v) { return matmul(v[0], v[1], false, true); }, {rnd({3, 4}, 1), rnd({5, 4}, 2)});
  check("matmul Aᵀ Bᵀ", [](const Vs& v) { return matmul(v[0], v[1], true, true); }, {rnd({4, 3}, 1), rnd({5, 4}, 2)});
  check("matmul batched A, plain B", [](const Vs& v) { return matmul(v[0], v[1]); }, {rnd({2, 3, 4}, 1), rnd({4, 5}, 2)});
  check("matmul plain A, batched B", [](const Vs& v) { return matmul(v[0], v[1]); }, {rnd({3, 4}, 1), rnd({2, 4, 5}, 2)});
  check("matmul broadcast batches", [](const Vs& v) { return matmul(v[0], v[1], true, false); },
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

namespace {

// y[b, o, i, j] = Σ_{c,u,v} w[o, c, u, v] · x[b, c, i·s − p + u, j·s − p + v]  (0 outside): the definition.
Tensor<double> conv2d_by_definition(const Tensor<double>& x, const Tensor<double>& w, kernels::Conv2dParams p) {
  const std::size_t B = x.shape()[0], C = x.shape()[1], H = x.shape()[2], W = x.shape()[3];
  const std::size_t O = w.shape()[0], kh = w.shape()[2], kw = w.shape()[3];
  const std::size_t Ho = (H + 2 * p.padding - kh) / p.stride + 1, Wo = (W + 2 * p.padding - kw) / p.stride + 1;
  Tensor<double> y = filled<double>({B, O, Ho, Wo}, 0.0);
  for (std::size_t b = 0; b < B; ++b)
    for (std::size_t o = 0; o < O; ++o)
      for (std::size_t i = 0; i < Ho; ++i)
        for (std::size_t j = 0; j < Wo; ++j)
          for (std::size_t c = 0; c < C; ++c)
            for (std::size_t u = 0; u < kh; ++u)
              for (std::size_t v = 0; v < kw; ++v) {
                const std::ptrdiff_t r = std::ptrdiff_t(i * p.stride + u) - std::ptrdiff_t(p.padding);
                const std::ptrdiff_t q = std::ptrdiff_t(j * p.stride + v) - std::ptrdiff_t(p.padding);
                if (r >= 0 && q >= 0 && r < std::ptrdiff_t(H) && q < std::ptrdiff_t(W))
                  y(b, o, i, j) += w(o, c, u, v) * x(b, c, std::size_t(r), std::size_t(q));
              }
  return y;
}

// y[q, i, j] = (1/k²) Σ_{u,v < k} x[q, i·s + u, j·s + v] over planes q: the definition.
Tensor<double> avg_pool_by_definition(const Tensor<double>& x, kernels::PoolParams p) {
  const std::size_t N = x.shape()[0], C = x.shape()[1], H = x.shape()[2], W = x.shape()[3];
  const std::size_t Ho = (H - p.kernel) / p.stride + 1, Wo = (W - p.kernel) / p.stride + 1;
  Tensor<double> y = filled<double>({N, C, Ho, Wo}, 0.0);
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t c = 0; c < C; ++c)
      for (std::size_t i = 0; i < Ho; ++i)
        for (std::size_t j = 0; j < Wo; ++j) {
          double s = 0;
          for (std::size_t u = 0; u < p.kernel; ++u)
            for (std::size_t v = 0; v < p.kernel; ++v) s += x(n, c, i * p.stride + u, j * p.stride + v);
          y(n, c, i, j) = s / double(p.kernel * p.kernel);
        }
  return y;
}

double largest_difference(const Tensor<double>& a, const Tensor<double>& b) {
  REQUIRE(shape_of(a) == shape_of(b));
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(a.data()[i] - b.data()[i]));
  return worst;
}

}  // namespace

TEST_CASE("conv2d and its two adjoints on non-square images and kernels") {
  struct Case {
    Shape x, w;
    kernels::Conv2dParams p;
  };
  // Height ≠ width everywhere (image, kernel, output), wide and tall.
  for (const Case& c : std::vector<Case>{{{2, 2, 5, 7}, {3, 2, 2, 3}, {1, 0}},
                                         {{2, 2, 5, 7}, {3, 2, 2, 3}, {1, 1}},
                                         {{2, 2, 5, 7}, {3, 2, 2, 3}, {2, 1}},
                                         {{2, 2, 5, 7}, {3, 2, 2, 3}, {3, 2}},
                                         {{1, 1, 7, 4}, {2, 1, 3, 1}, {2, 0}},
                                         {{1, 3, 6, 5}, {2, 3, 1, 4}, {2, 2}}}) {
    const std::size_t H = c.x[2], W = c.x[3], kh = c.w[2], kw = c.w[3];
    const kernels::Conv2dParams p = c.p;
    CAPTURE(shape_str(c.x));
    CAPTURE(shape_str(c.w));
    CAPTURE(p.stride);
    CAPTURE(p.padding);
    const Tensor<double> x = rnd(c.x, 21), w = rnd(c.w, 22);
    const Shape out = {c.x[0], c.w[0], kernels::conv_output_size(H, kh, p), kernels::conv_output_size(W, kw, p)};
    // The forward pass against the definition: ≤ 12 products of terms ≤ 1,
    // summed in another order: ≤ 12·eps·Σ|terms| ≈ 12·1.1e-16·12 ≈ 1.6e-14.
    const Tensor<double> y = conv2d(V(x), V(w), p).value();
    REQUIRE(shape_of(y) == out);
    CHECK(largest_difference(y, conv2d_by_definition(x, w, p)) <= 2e-14);
    check("conv2d", [p](const Vs& v) { return conv2d(v[0], v[1], p); }, {x, w});
    check("conv2d_input_grad", [p, H, W](const Vs& v) { return conv2d_input_grad(v[0], v[1], H, W, p); },
          {rnd(out, 23), w});
    check("conv2d_weight_grad", [p, kh, kw](const Vs& v) { return conv2d_weight_grad(v[0], v[1], kh, kw, p); },
          {x, rnd(out, 24)});
    // The adjoint identities ⟨conv(x, w), g⟩ = ⟨x, convᵀ(g, w)⟩ = ⟨w, Σ g ⋆ x⟩,
    // between the three kernels directly.
    const Tensor<double> g = rnd(out, 25);
    const double through_output = fluxion::testing::dot(y, g);
    const double through_input = fluxion::testing::dot(x, conv2d_input_grad(V(g), V(w), H, W, p).value());
    const double through_weight = fluxion::testing::dot(w, conv2d_weight_grad(V(x), V(g), kh, kw, p).value());
    CHECK(std::abs(through_input - through_output) <= 1e-13 * std::max(1.0, std::abs(through_output)));
    CHECK(std::abs(through_weight - through_output) <= 1e-13 * std::max(1.0, std::abs(through_output)));
  }
}

TEST_CASE("avg_pool2d with overlapping and truncated windows") {
  struct Case {
    Shape x;
    kernels::PoolParams p;
  };
  // {3,2} on 7×6: overlapping rows and columns, column 5 in no window.
  // {2,1} on 5×4: every interior entry in four windows.
  // {3,3} on 7×8: no overlap, row 6 and columns 6-7 in no window.
  for (const Case& c : std::vector<Case>{{{2, 2, 7, 6}, {3, 2}}, {{1, 2, 5, 4}, {2, 1}}, {{1, 2, 7, 8}, {3, 3}}}) {
    const kernels::PoolParams p = c.p;
    const std::size_t H = c.x[2], W = c.x[3];
    CAPTURE(shape_str(c.x));
    CAPTURE(p.kernel);
    CAPTURE(p.stride);
    const Tensor<double> x = rnd(c.x, 31);
    const Tensor<double> y = avg_pool2d(V(x), p).value();
    // The same ≤ 9 additions in the same order and one division or multiplication: ≤ 1e-15.
    CHECK(largest_difference(y, avg_pool_by_definition(x, p)) <= 1e-15);
    check("avg_pool2d", [p](const Vs& v) { return avg_pool2d(v[0], p); }, {x});
    check("avg_pool2d_adjoint", [p, H, W](const Vs& v) { return avg_pool2d_adjoint(v[0], H, W, p); },
          {rnd(shape_of(y), 32)});
    check("max_pool2d", [p](const Vs& v) { return max_pool2d(v[0], p); }, {distinct_values(c.x, 33)});
  }
}

TEST_CASE("pooling") {
  auto x = distinct_values({2, 3, 4, 6}, 9);
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

// step is a constant (no rule to check against differences): by value.
TEST_CASE("step: 1[x > 0] is a constant with zero derivative") {
  const Tensor<double> x = {-1.0, 0.0, 1e-300, 3.0};
  V xv(x, true);
  V s = step(xv);
  CHECK(s.value() == Tensor<double>{0.0, 0.0, 1.0, 1.0});  // step(0) = 0, like relu'(0)
  CHECK_FALSE(s.requires_grad());                           // it cuts the graph
  // Σ step(x) does not depend on x (a.e.): gradient 0.
  CHECK(grad(Function<double>([](const V& v) { return step(v); }), x) == filled<double>({4}, 0.0));
  // d/dx Σ step(x)·x = step(x): the step factor is treated as a constant.
  CHECK(grad(Function<double>([](const V& v) { return mul(step(v), v); }), x) == Tensor<double>{0.0, 0.0, 1.0, 1.0});
  // Forward mode agrees: no tangent flows through step.
  CHECK(jvp(Function<double>([](const V& v) { return step(v); }), x, filled<double>({4}, 1.0)) ==
        filled<double>({4}, 0.0));
}
