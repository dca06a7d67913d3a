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
// (input not tiled exactly) windows likewise. The general forms
// (Conv2dParams::make, PoolParams::make: ONNX Conv/MaxPool/AveragePool) are
// checked against naive loops written here from the ONNX definitions (groups,
// dilations, asymmetric pads, ceil_mode, count_include_pad) and against
// values PyTorch gives for the corner cases (worked by hand in the comments).
#include <cstdint>
#include <limits>

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

// ---- the ONNX primitives: element-wise -------------------------------------

TEST_CASE("ONNX element-wise primitives: erf, sqrt, abs, leaky_relu, elu, maximum, minimum") {
  const Tensor<double> x = rnd({3, 5}, 51, -2, 2), away = distinct_values({3, 5}, 52);
  check("erf", [](const Vs& v) { return erf(v[0]); }, {x});
  check("sqrt", [](const Vs& v) { return sqrt(v[0]); }, {rnd({3, 5}, 53, 0.3, 3.0)});
  check("abs", [](const Vs& v) { return abs(v[0]); }, {away});
  check("leaky_relu alpha=0.1", [](const Vs& v) { return leaky_relu(v[0], 0.1); }, {away});
  check("leaky_relu alpha=-0.5 (negative slope)", [](const Vs& v) { return leaky_relu(v[0], -0.5); }, {away});
  check("elu alpha=1", [](const Vs& v) { return elu(v[0], 1.0); }, {away});
  check("elu alpha=0.3", [](const Vs& v) { return elu(v[0], 0.3); }, {away});
  // Binary, broadcasting; b = another ladder shifted by 0.005, so |a − b| ≥ 0.005 ≫ the FD step (no ties).
  for (auto shapes : std::vector<std::pair<Shape, Shape>>{{{3, 4}, {3, 4}}, {{3, 4}, {4}}, {{2, 1, 3}, {4, 1}}, {{5}, {}}}) {
    const Tensor<double> a = distinct_values(shapes.first, 54);
    const Tensor<double> b = distinct_values(shapes.second, 55) + 0.005;
    check("maximum", [](const Vs& v) { return maximum(v[0], v[1]); }, {a, b});
    check("minimum", [](const Vs& v) { return minimum(v[0], v[1]); }, {a, b});
  }
}

TEST_CASE("ONNX element-wise primitives by value") {
  // erf at tabulated points (Abramowitz & Stegun 7.1; erf(−x) = −erf(x)).
  const Tensor<double> e = erf(V(Tensor<double>{0.0, 0.5, 1.0, -2.0})).value();
  CHECK(e(0) == 0.0);
  CHECK(std::abs(e(1) - 0.5204998778130465) <= 1e-15);
  CHECK(std::abs(e(2) - 0.8427007929497149) <= 1e-15);
  CHECK(std::abs(e(3) + 0.9953222650189527) <= 1e-15);
  CHECK(sqrt(V(Tensor<double>{0.0, 4.0, 2.25})).value() == Tensor<double>{0.0, 2.0, 1.5});
  CHECK(abs(V(Tensor<double>{-3.0, 0.0, 2.5})).value() == Tensor<double>{3.0, 0.0, 2.5});
  CHECK(leaky_relu(V(Tensor<double>{-2.0, 0.0, 3.0}), 0.25).value() == Tensor<double>{-0.5, 0.0, 3.0});
  CHECK(leaky_relu(V(Tensor<double>{-100.0})).value()(0) == -1.0);  // ONNX default α = 0.01
  const Tensor<double> el = elu(V(Tensor<double>{-1.0, 0.0, 2.0, -800.0}), 2.0).value();
  CHECK(std::abs(el(0) - 2.0 * (std::exp(-1.0) - 1.0)) <= 1e-15);
  CHECK(el(1) == 0.0);
  CHECK(el(2) == 2.0);
  CHECK(el(3) == -2.0);
  // maximum/minimum broadcast [2,1] against [3] like NumPy: out[i, j] = max(a[i], b[j]).
  Tensor<double> a = {1.0, -1.0};
  a.reshape({2, 1});
  const Tensor<double> b = {-2.0, 0.0, 3.0};
  CHECK(maximum(V(a), V(b)).value() == Tensor<double>{{1.0, 1.0, 3.0}, {-1.0, 0.0, 3.0}});
  CHECK(minimum(V(a), V(b)).value() == Tensor<double>{{-2.0, 0.0, 1.0}, {-2.0, -1.0, -1.0}});
  // Derivative conventions at the kinks: |x|'(0) = 0, leaky_relu'(0) = α, elu'(0) = α (PyTorch's).
  const Tensor<double> zero = {0.0};
  CHECK(grad(Function<double>([](const V& v) { return abs(v); }), zero) == Tensor<double>{0.0});
  CHECK(grad(Function<double>([](const V& v) { return leaky_relu(v, 0.25); }), zero) == Tensor<double>{0.25});
  CHECK(grad(Function<double>([](const V& v) { return elu(v, 0.75); }), zero) == Tensor<double>{0.75});
  // elu' far right stays 1 (no e^x overflow: 0·∞ would be NaN).
  CHECK(grad(Function<double>([](const V& v) { return elu(v, 1.0); }), Tensor<double>{800.0}) == Tensor<double>{1.0});
}

TEST_CASE("maximum and minimum split the gradient at ties half and half") {
  const Tensor<double> a = {1.0, 2.0, 3.0}, b = {1.0, 5.0, 3.0};  // ties at entries 0 and 2
  for (bool take_max : {true, false}) {
    CAPTURE(take_max);
    V av(a, true), bv(b, true);
    V y = take_max ? maximum(av, bv) : minimum(av, bv);
    auto g = grad<double>({sum(y)}, {av, bv});
    CHECK(g[0].value() == (take_max ? Tensor<double>{0.5, 0.0, 0.5} : Tensor<double>{0.5, 1.0, 0.5}));
    CHECK(g[1].value() == (take_max ? Tensor<double>{0.5, 1.0, 0.5} : Tensor<double>{0.5, 0.0, 0.5}));
  }
  // Forward mode agrees: ẏ = ½(ȧ + ḃ) at a tie.
  const Tensor<double> y_dot = jvp(Function<double>([](const V& v) { return maximum(v, constant(Tensor<double>{1.0})); }),
                                   Tensor<double>{1.0}, Tensor<double>{4.0});
  CHECK(y_dot == Tensor<double>{2.0});
  // A broadcast operand collects its cotangent over the stretched axis: max([2,1], [3]).
  Tensor<double> column = {0.0, 10.0}, column_grad = {1.5, 3.0};
  column.reshape({2, 1});
  column_grad.reshape({2, 1});
  V col(column, true), row(Tensor<double>{-1.0, 0.0, 1.0}, true);
  auto g = grad<double>({sum(maximum(col, row))}, {col, row});
  CHECK(g[0].value() == column_grad);  // row 0: −1 < 0 (1), 0 = 0 (½), 1 > 0 (0)
  CHECK(g[1].value() == Tensor<double>{0.0, 0.5, 1.0});
}

// ---- composites: gelu, clip, softmax/log_softmax along an axis, conv_transpose2d

TEST_CASE("gelu, clip, softmax and log_softmax along an axis: values and derivatives") {
  // Φ(1) = 0.8413447460685429, Φ(−1) = 1 − Φ(1), Φ(0) = ½ (the normal CDF).
  const Tensor<double> g = gelu(V(Tensor<double>{1.0, -1.0, 0.0, 2.0})).value();
  CHECK(std::abs(g(0) - 0.8413447460685429) <= 1e-15);
  CHECK(std::abs(g(1) + 0.15865525393145707) <= 1e-15);
  CHECK(g(2) == 0.0);
  CHECK(std::abs(g(3) - 2.0 * 0.9772498680518208) <= 2e-15);
  check("gelu", [](const Vs& v) { return gelu(v[0]); }, {rnd({3, 5}, 61, -3, 3)});
  // clip: below, inside, above; derivative 1 inside, 0 outside.
  CHECK(clip(V(Tensor<double>{-3.0, 0.25, 7.0}), -1.0, 2.0).value() == Tensor<double>{-1.0, 0.25, 2.0});
  CHECK(grad(Function<double>([](const V& v) { return clip(v, -1.0, 2.0); }), Tensor<double>{-3.0, 0.25, 7.0}) ==
        Tensor<double>{0.0, 1.0, 0.0});
  check("clip", [](const Vs& v) { return clip(v[0], -0.3, 0.4); }, {distinct_values({3, 5}, 62)});
  bool threw = false;
  try {
    clip(V(Tensor<double>{0.0}), 1.0, -1.0);
  } catch (const ArgumentError& e) {
    threw = fluxion::testing::contains(e.what(), "clip: lo");
  }
  CHECK(threw);
  // softmax along axis a of [2, 3, 4]: by the definition e^{x}/Σ_a e^{x}, one slice at a time.
  const Tensor<double> x = rnd({2, 3, 4}, 63, -3, 3);
  for (int axis : {0, 1, 2, -3, -2}) {
    CAPTURE(axis);
    const std::size_t a = static_cast<std::size_t>(axis < 0 ? axis + 3 : axis);
    const Tensor<double> sm = softmax(V(x), axis).value(), lsm = log_softmax(V(x), axis).value();
    double worst = 0;
    for (std::size_t i = 0; i < 2; ++i)
      for (std::size_t j = 0; j < 3; ++j)
        for (std::size_t k = 0; k < 4; ++k) {
          std::size_t idx[3] = {i, j, k};
          double total = 0;
          for (std::size_t m = 0; m < x.shape()[a]; ++m) {
            std::size_t other[3] = {i, j, k};
            other[a] = m;
            total += std::exp(x(other[0], other[1], other[2]));
          }
          const double expected = std::exp(x(idx[0], idx[1], idx[2])) / total;
          worst = std::max(worst, std::abs(sm(i, j, k) - expected) / expected);
          worst = std::max(worst, std::abs(lsm(i, j, k) - std::log(expected)));
        }
    CHECK(worst <= 1e-14);
  }
  check("softmax axis 0", [](const Vs& v) { return softmax(v[0], 0); }, {x});
  check("log_softmax axis 1", [](const Vs& v) { return log_softmax(v[0], 1); }, {x});
  check("log_softmax axis -1", [](const Vs& v) { return log_softmax(v[0], -1); }, {x});
  CHECK(fluxion::testing::contains(fluxion::testing::shape_error_message([&] { softmax(V(x), 3); }),
                                   "softmax: axis 3 out of range"));
}

// ---- the ONNX primitives: structural ---------------------------------------

namespace {

Tensor<double> arange(std::size_t n) {
  Tensor<double> t = Tensor<double>::from_shape({n});
  for (std::size_t i = 0; i < n; ++i) t(i) = double(i);
  return t;
}

Tensor<double> slice_of(const Tensor<double>& x, std::vector<std::int64_t> s, std::vector<std::int64_t> e,
                        std::vector<std::int64_t> axes = {}, std::vector<std::int64_t> steps = {}) {
  return slice(V(x), s, e, axes, steps).value();
}

constexpr std::int64_t int64_max = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t int64_min = std::numeric_limits<std::int64_t>::min();

}  // namespace

TEST_CASE("slice follows ONNX Slice: negative indices, clamping, negative steps") {
  const Tensor<double> x = arange(10);
  // Expected entries worked out from the ONNX rule by hand (the same as NumPy's x[s:e:k]).
  CHECK(slice_of(x, {2}, {5}) == Tensor<double>{2, 3, 4});
  CHECK(slice_of(x, {-3}, {100}) == Tensor<double>{7, 8, 9});              // x[-3:100]
  CHECK(slice_of(x, {1}, {int64_max}, {0}, {3}) == Tensor<double>{1, 4, 7});  // x[1::3]
  CHECK(slice_of(x, {8}, {1}, {0}, {-3}) == Tensor<double>{8, 5, 2});       // x[8:1:-3]
  CHECK(slice_of(x, {-1}, {int64_min}, {0}, {-1}) == Tensor<double>{9, 8, 7, 6, 5, 4, 3, 2, 1, 0});  // x[::-1]
  CHECK(slice_of(x, {20}, {-20}, {0}, {-4}) == Tensor<double>{9, 5, 1});    // start clamped to 9, end to −1
  CHECK(slice_of(x, {5}, {2}).size() == 0);                                 // empty
  CHECK(slice_of(x, {-100}, {2}) == Tensor<double>{0, 1});
  // 2-D: axes named, negative axis, the other axis whole.
  Tensor<double> m = arange(12);
  m.reshape({3, 4});
  CHECK(slice_of(m, {1, -1}, {3, 0}, {0, -1}, {1, -2}) == Tensor<double>{{7, 5}, {11, 9}});
  CHECK(slice_of(m, {1}, {3}, {1}) == Tensor<double>{{1, 2}, {5, 6}, {9, 10}});
  CHECK(slice_of(m, {0, 1}, {2, 3}) == Tensor<double>{{1, 2}, {5, 6}});  // axes omitted: 0, 1
  using fluxion::testing::contains;
  using fluxion::testing::shape_error_message;
  CHECK(contains(shape_error_message([&] { slice_of(m, {0}, {1}, {0}, {0}); }), "slice: step 0"));
  CHECK(contains(shape_error_message([&] { slice_of(m, {0}, {1}, {2}); }), "slice: axis 2 out of range"));
  CHECK(contains(shape_error_message([&] { slice_of(m, {0, 0}, {1}); }), "same length"));
  CHECK(contains(shape_error_message([&] { slice_of(m, {0, 0}, {1, 1}, {1, -1}); }), "slice: axis 1 repeated"));
  // derivatives: slice and its adjoint, including negative steps and a batched-tangent-like rank
  const Tensor<double> x3 = rnd({3, 5, 4}, 71);
  check("slice", [](const Vs& v) { return slice(v[0], {1, -1}, {3, 0}, {0, 2}, {1, -2}); }, {x3});
  check("slice strided", [](const Vs& v) { return slice(v[0], {0, 4}, {int64_max, -6}, {-1, 1}, {2, -3}); }, {x3});
  const Shape box = shape_of(slice_of(x3, {1, -1}, {3, 0}, {0, 2}, {1, -2}));
  check("slice_adjoint", [](const Vs& v) { return slice_adjoint(v[0], {3, 5, 4}, {1, -1}, {3, 0}, {0, 2}, {1, -2}); },
        {rnd(box, 72)});
  // slice_adjoint by value: zeros with g in the slice's entries
  CHECK(slice_adjoint(V(Tensor<double>{1.0, 2.0}), {5}, {3}, {0}, {0}, {-2}).value() ==
        Tensor<double>{0, 2, 0, 1, 0});
}

TEST_CASE("concat, pad and take (ONNX Concat, Pad, Gather)") {
  // concat along axis 1 (and −2) of [2,1,3], [2,3,3], [2,2,3]: entries by position.
  const Tensor<double> a = rnd({2, 1, 3}, 81), b = rnd({2, 3, 3}, 82), c = rnd({2, 2, 3}, 83);
  for (int axis : {1, -2}) {
    const Tensor<double> y = concat<double>({V(a), V(b), V(c)}, axis).value();
    REQUIRE(shape_of(y) == Shape{2, 6, 3});
    bool same = true;
    for (std::size_t i = 0; i < 2; ++i)
      for (std::size_t k = 0; k < 3; ++k) {
        same = same && y(i, 0, k) == a(i, 0, k);
        for (std::size_t j = 0; j < 3; ++j) same = same && y(i, 1 + j, k) == b(i, j, k);
        for (std::size_t j = 0; j < 2; ++j) same = same && y(i, 4 + j, k) == c(i, j, k);
      }
    CHECK(same);
  }
  check("concat axis 1", [](const Vs& v) { return concat(v, 1); }, {a, b, c});
  check("concat axis 0", [](const Vs& v) { return concat(v, 0); }, {rnd({1, 4}, 84), rnd({3, 4}, 85)});
  check("concat axis -1 (last)", [](const Vs& v) { return concat(v, -1); }, {rnd({2, 2}, 86), rnd({2, 3}, 87)});
  // one input without gradient or tangent: its part contributes zeros
  check("concat with a constant part", [c](const Vs& v) { return concat<double>({v[0], constant(c)}, 1); }, {b});
  using fluxion::testing::contains;
  using fluxion::testing::shape_error_message;
  CHECK(contains(shape_error_message([&] { concat<double>({V(a), V(rnd({3, 1, 3}, 1))}, 1); }), "concat: part [3, 1, 3]"));
  CHECK(contains(shape_error_message([&] { concat<double>({}, 0); }), "concat: no parts"));

  // pad [2, 3] by (1, 0) before and (0, 2) after with 9: by value.
  const Tensor<double> p = {{1, 2, 3}, {4, 5, 6}};
  CHECK(pad(V(p), {1, 0}, {0, 2}, 9.0).value() ==
        Tensor<double>{{9, 9, 9, 9, 9}, {1, 2, 3, 9, 9}, {4, 5, 6, 9, 9}});
  check("pad", [](const Vs& v) { return pad(v[0], {1, 0, 2}, {0, 3, 1}, 0.5); }, {rnd({2, 3, 2}, 88)});
  CHECK(contains(shape_error_message([&] { pad(V(p), {1}, {0}); }), "pad: 1 begin and 1 end pads for shape [2, 3]"));

  // take: ONNX Gather, axis 0 and 1, negative and repeated indices, a 2-D and a scalar index shape.
  Tensor<double> m = arange(12);
  m.reshape({3, 4});
  CHECK(take(V(m), {2, -3}, {2}, 0).value() == Tensor<double>{{8, 9, 10, 11}, {0, 1, 2, 3}});
  CHECK(take(V(m), {3, 0, 0, -1}, {2, 2}, 1).value() ==
        Tensor<double>{{{3, 0}, {0, 3}}, {{7, 4}, {4, 7}}, {{11, 8}, {8, 11}}});
  CHECK(take(V(m), {1}, {}, -1).value() == Tensor<double>{1, 5, 9});  // scalar index: the axis goes
  CHECK(contains(shape_error_message([&] { take(V(m), {4}, {1}, 1); }), "take: index 4 out of range"));
  CHECK(contains(shape_error_message([&] { take(V(m), {0, 1}, {3}, 1); }), "2 indices do not fill"));
  const Tensor<double> t3 = rnd({3, 4, 2}, 89);
  check("take axis 1, repeated indices", [](const Vs& v) { return take(v[0], {3, 0, 0, -1, 2, 1}, {2, 3}, 1); }, {t3});
  check("take scalar index", [](const Vs& v) { return take(v[0], {-1}, {}, 0); }, {t3});
  check("take_adjoint", [](const Vs& v) { return take_adjoint(v[0], {3, 0, 0, -1, 2, 1}, {2, 3}, 1, 4); },
        {rnd({3, 2, 3, 2}, 90)});
  // take_adjoint by value: repeated indices add
  CHECK(take_adjoint(V(Tensor<double>{1.0, 2.0, 4.0}), {1, 1, -1}, {3}, 0, 3).value() == Tensor<double>{0, 3, 4});
}

// ---- conv2d general form: groups, dilations, asymmetric pads ---------------

namespace {

// The ONNX Conv definition, seven nested loops:
//   y[b, o, i, j] = Σ_{c < C/G, u, v} w[o, c, u, v] · x[b, q·C/G + c, i·sh − pt + u·dh, j·sw − pl + v·dw],
//   q = o / (O/G), zero outside, Ho = ⌊(H + pt + pb − dh·(kh − 1) − 1) / sh⌋ + 1.
Tensor<double> onnx_conv(const Tensor<double>& x, const Tensor<double>& w, std::array<std::size_t, 2> s,
                         std::array<std::size_t, 4> pads, std::array<std::size_t, 2> d, std::size_t groups) {
  const std::size_t B = x.shape()[0], H = x.shape()[2], W = x.shape()[3];
  const std::size_t O = w.shape()[0], Cg = w.shape()[1], kh = w.shape()[2], kw = w.shape()[3];
  const std::size_t Ho = (H + pads[0] + pads[2] - d[0] * (kh - 1) - 1) / s[0] + 1;
  const std::size_t Wo = (W + pads[1] + pads[3] - d[1] * (kw - 1) - 1) / s[1] + 1;
  const std::size_t Og = O / groups;
  Tensor<double> y = filled<double>({B, O, Ho, Wo}, 0.0);
  for (std::size_t b = 0; b < B; ++b)
    for (std::size_t o = 0; o < O; ++o)
      for (std::size_t i = 0; i < Ho; ++i)
        for (std::size_t j = 0; j < Wo; ++j)
          for (std::size_t c = 0; c < Cg; ++c)
            for (std::size_t u = 0; u < kh; ++u)
              for (std::size_t v = 0; v < kw; ++v) {
                const std::ptrdiff_t r = std::ptrdiff_t(i * s[0] + u * d[0]) - std::ptrdiff_t(pads[0]);
                const std::ptrdiff_t q = std::ptrdiff_t(j * s[1] + v * d[1]) - std::ptrdiff_t(pads[1]);
                if (r >= 0 && q >= 0 && r < std::ptrdiff_t(H) && q < std::ptrdiff_t(W))
                  y(b, o, i, j) += w(o, c, u, v) * x(b, (o / Og) * Cg + c, std::size_t(r), std::size_t(q));
              }
  return y;
}

// ONNX ConvTranspose by its scatter definition: each input entry x[b, c, h, w]
// adds x·w[c, m, u, v] to y[b, q·O/G + m, h·sh − pt + u·dh, w·sw − pl + v·dw] (q = c / (C/G)).
Tensor<double> onnx_conv_transpose(const Tensor<double>& x, const Tensor<double>& w, std::array<std::size_t, 2> s,
                                   std::array<std::size_t, 4> pads, std::array<std::size_t, 2> d, std::size_t groups,
                                   std::array<std::size_t, 2> out_pad) {
  const std::size_t B = x.shape()[0], C = x.shape()[1], H = x.shape()[2], W = x.shape()[3];
  const std::size_t Og = w.shape()[1], kh = w.shape()[2], kw = w.shape()[3], Cg = C / groups;
  const std::size_t Ho = s[0] * (H - 1) + out_pad[0] + d[0] * (kh - 1) + 1 - pads[0] - pads[2];
  const std::size_t Wo = s[1] * (W - 1) + out_pad[1] + d[1] * (kw - 1) + 1 - pads[1] - pads[3];
  Tensor<double> y = filled<double>({B, Og * groups, Ho, Wo}, 0.0);
  for (std::size_t b = 0; b < B; ++b)
    for (std::size_t c = 0; c < C; ++c)
      for (std::size_t h = 0; h < H; ++h)
        for (std::size_t ww = 0; ww < W; ++ww)
          for (std::size_t m = 0; m < Og; ++m)
            for (std::size_t u = 0; u < kh; ++u)
              for (std::size_t v = 0; v < kw; ++v) {
                const std::ptrdiff_t r = std::ptrdiff_t(h * s[0] + u * d[0]) - std::ptrdiff_t(pads[0]);
                const std::ptrdiff_t q = std::ptrdiff_t(ww * s[1] + v * d[1]) - std::ptrdiff_t(pads[1]);
                if (r >= 0 && q >= 0 && r < std::ptrdiff_t(Ho) && q < std::ptrdiff_t(Wo))
                  y(b, (c / Cg) * Og + m, std::size_t(r), std::size_t(q)) += x(b, c, h, ww) * w(c, m, u, v);
              }
  return y;
}

struct GeneralConv {
  Shape x, w;
  std::array<std::size_t, 2> s;
  std::array<std::size_t, 4> pads;
  std::array<std::size_t, 2> d;
  std::size_t groups;
};

// Groups (2, depthwise 4), dilations, asymmetric pads, per-axis strides, and
// the plain case through make(): each alone and combined.
const std::vector<GeneralConv> general_convs = {
    {{2, 4, 5, 6}, {6, 2, 3, 2}, {1, 1}, {0, 0, 0, 0}, {1, 1}, 2},   // 2 groups
    {{1, 4, 5, 5}, {4, 1, 3, 3}, {1, 1}, {1, 1, 1, 1}, {1, 1}, 4},   // depthwise
    {{2, 2, 7, 6}, {3, 2, 2, 3}, {1, 1}, {0, 0, 0, 0}, {2, 2}, 1},   // dilation
    {{1, 2, 5, 7}, {3, 2, 3, 2}, {2, 1}, {1, 0, 2, 3}, {1, 1}, 1},   // asymmetric pads, strides (2, 1)
    {{2, 6, 6, 7}, {4, 3, 2, 3}, {2, 3}, {0, 2, 1, 1}, {2, 1}, 2},   // all at once
    {{1, 3, 5, 5}, {2, 3, 3, 3}, {1, 1}, {1, 1, 1, 1}, {1, 1}, 1},   // plain, through make()
};

}  // namespace

TEST_CASE("conv2d general form (ONNX Conv): against the seven-loop definition, derivatives, adjoints") {
  for (const GeneralConv& c : general_convs) {
    const kernels::Conv2dParams p = kernels::Conv2dParams::make(c.s, c.pads, c.d, c.groups);
    CAPTURE(shape_str(c.x));
    CAPTURE(shape_str(c.w));
    CAPTURE(c.groups);
    const Tensor<double> x = rnd(c.x, 91), w = rnd(c.w, 92);
    const Tensor<double> y = conv2d(V(x), V(w), p).value();
    const Tensor<double> ref = onnx_conv(x, w, c.s, c.pads, c.d, c.groups);
    REQUIRE(shape_of(y) == shape_of(ref));
    CHECK(largest_difference(y, ref) <= 2e-14);  // ≤ 18 products of terms ≤ 1, another order
    CHECK(kernels::conv_output_size(c.x[2], c.w[2], p, 0) == y.shape()[2]);
    CHECK(kernels::conv_output_size(c.x[3], c.w[3], p, 1) == y.shape()[3]);
    const std::size_t H = c.x[2], W = c.x[3], kh = c.w[2], kw = c.w[3];
    check("conv2d general", [p](const Vs& v) { return conv2d(v[0], v[1], p); }, {x, w});
    check("conv2d_input_grad general", [p, H, W](const Vs& v) { return conv2d_input_grad(v[0], v[1], H, W, p); },
          {rnd(shape_of(y), 93), w});
    check("conv2d_weight_grad general", [p, kh, kw](const Vs& v) { return conv2d_weight_grad(v[0], v[1], kh, kw, p); },
          {x, rnd(shape_of(y), 94)});
    const Tensor<double> g = rnd(shape_of(y), 95);
    const double through_output = fluxion::testing::dot(y, g);
    const double through_input = fluxion::testing::dot(x, conv2d_input_grad(V(g), V(w), H, W, p).value());
    const double through_weight = fluxion::testing::dot(w, conv2d_weight_grad(V(x), V(g), kh, kw, p).value());
    CHECK(std::abs(through_input - through_output) <= 1e-13 * std::max(1.0, std::abs(through_output)));
    CHECK(std::abs(through_weight - through_output) <= 1e-13 * std::max(1.0, std::abs(through_output)));
  }
  // extra leading axes with groups (what a batched tangent of a grouped conv looks like)
  const kernels::Conv2dParams p2 = kernels::Conv2dParams::make({1, 2}, {1, 0, 0, 1}, {2, 1}, 2);
  check("conv2d general rank 5", [p2](const Vs& v) { return conv2d(v[0], v[1], p2); },
        {rnd({2, 1, 4, 5, 5}, 96), rnd({4, 2, 2, 2}, 97)});
  // the plain form and make() agree exactly
  const Tensor<double> x = rnd({2, 3, 6, 5}, 98), w = rnd({4, 3, 3, 2}, 99);
  CHECK(conv2d(V(x), V(w), {2, 1}).value() ==
        conv2d(V(x), V(w), kernels::Conv2dParams::make({2, 2}, {1, 1, 1, 1}, {1, 1}, 1)).value());
  using fluxion::testing::contains;
  using fluxion::testing::shape_error_message;
  CHECK(contains(shape_error_message([&] { conv2d(V(rnd({1, 3, 5, 5}, 1)), V(rnd({4, 1, 3, 3}, 2)), kernels::Conv2dParams::make({1, 1}, {0, 0, 0, 0}, {1, 1}, 2)); }),
                 "do not split into 2 groups"));
  CHECK(contains(shape_error_message([&] { conv2d(V(rnd({1, 4, 5, 5}, 1)), V(rnd({4, 1, 3, 3}, 2)), kernels::Conv2dParams::make({1, 1}, {0, 0, 0, 0}, {1, 1}, 2)); }),
                 "expects 2 (2 groups)"));
  CHECK(contains(shape_error_message([&] { conv2d(V(rnd({1, 1, 4, 4}, 1)), V(rnd({1, 1, 3, 3}, 2)), kernels::Conv2dParams::make({1, 1}, {0, 0, 0, 0}, {2, 2}, 1)); }),
                 "does not fit an input of size 4"));
}

TEST_CASE("conv_transpose2d (ONNX ConvTranspose) against its scatter definition") {
  struct Case {
    Shape x, w;
    std::array<std::size_t, 2> s;
    std::array<std::size_t, 4> pads;
    std::array<std::size_t, 2> d;
    std::size_t groups;
    std::array<std::size_t, 2> out_pad;
  };
  for (const Case& c : std::vector<Case>{{{2, 3, 4, 5}, {3, 2, 3, 3}, {1, 1}, {0, 0, 0, 0}, {1, 1}, 1, {0, 0}},
                                         {{1, 2, 3, 4}, {2, 3, 3, 2}, {2, 2}, {1, 0, 1, 1}, {1, 1}, 1, {1, 0}},
                                         {{1, 4, 3, 3}, {4, 1, 2, 3}, {2, 3}, {0, 1, 1, 0}, {2, 1}, 2, {1, 2}}}) {
    const kernels::Conv2dParams p = kernels::Conv2dParams::make(c.s, c.pads, c.d, c.groups);
    CAPTURE(shape_str(c.x));
    const Tensor<double> x = rnd(c.x, 101), w = rnd(c.w, 102);
    const Tensor<double> y = conv_transpose2d(V(x), V(w), p, c.out_pad).value();
    const Tensor<double> ref = onnx_conv_transpose(x, w, c.s, c.pads, c.d, c.groups, c.out_pad);
    REQUIRE(shape_of(y) == shape_of(ref));
    CHECK(largest_difference(y, ref) <= 2e-14);
    const auto op = c.out_pad;
    check("conv_transpose2d", [p, op](const Vs& v) { return conv_transpose2d(v[0], v[1], p, op); }, {x, w});
  }
  CHECK(fluxion::testing::contains(fluxion::testing::shape_error_message([] {
          conv_transpose2d(V(rnd({1, 1, 3, 3}, 1)), V(rnd({1, 1, 2, 2}, 2)), kernels::Conv2dParams{2, 0}, {2, 0});
        }),
        "output_padding 2 must be smaller than the stride 2"));
}

// ---- pooling general form: pads, dilations, ceil_mode, count_include_pad ---

namespace {

// Pooling by the definition (PyTorch's pooling_output_shape and avg_pool2d, ONNX MaxPool/AveragePool):
// window (i, j) has taps r = i·sh − pt + u·dh, c = j·sw − pl + v·dw; max over the taps inside the
// image; average = Σ inside / (count inside, or with count_include_pad the count of taps with
// r < H + pb and c < W + pr).
std::size_t pooled_size(std::size_t n, std::size_t k, std::size_t s, std::size_t p0, std::size_t p1, std::size_t d,
                        bool ceil_mode) {
  const double span = double(n + p0 + p1) - double(d * (k - 1) + 1);
  std::size_t out = std::size_t(ceil_mode ? std::ceil(span / double(s)) : std::floor(span / double(s))) + 1;
  if (ceil_mode && (out - 1) * s >= n + p0) --out;
  return out;
}

Tensor<double> pool_by_definition(const Tensor<double>& x, kernels::PoolParams p, bool is_max) {
  const std::size_t N = x.shape()[0], C = x.shape()[1], H = x.shape()[2], W = x.shape()[3];
  const std::size_t Ho = pooled_size(H, p.kernels[0], p.strides[0], p.pads[0], p.pads[2], p.dilations[0], p.ceil_mode);
  const std::size_t Wo = pooled_size(W, p.kernels[1], p.strides[1], p.pads[1], p.pads[3], p.dilations[1], p.ceil_mode);
  Tensor<double> y = filled<double>({N, C, Ho, Wo}, 0.0);
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t c = 0; c < C; ++c)
      for (std::size_t i = 0; i < Ho; ++i)
        for (std::size_t j = 0; j < Wo; ++j) {
          double best = -std::numeric_limits<double>::infinity(), total = 0;
          std::size_t inside = 0, inside_padded = 0;
          for (std::size_t u = 0; u < p.kernels[0]; ++u)
            for (std::size_t v = 0; v < p.kernels[1]; ++v) {
              const std::ptrdiff_t r = std::ptrdiff_t(i * p.strides[0] + u * p.dilations[0]) - std::ptrdiff_t(p.pads[0]);
              const std::ptrdiff_t q = std::ptrdiff_t(j * p.strides[1] + v * p.dilations[1]) - std::ptrdiff_t(p.pads[1]);
              if (r < std::ptrdiff_t(H + p.pads[2]) && q < std::ptrdiff_t(W + p.pads[3])) ++inside_padded;
              if (r < 0 || q < 0 || r >= std::ptrdiff_t(H) || q >= std::ptrdiff_t(W)) continue;
              ++inside;
              const double e = x(n, c, std::size_t(r), std::size_t(q));
              best = std::max(best, e);
              total += e;
            }
          y(n, c, i, j) = is_max ? best : total / double(p.count_include_pad ? inside_padded : inside);
        }
  return y;
}

kernels::PoolParams pool(std::array<std::size_t, 2> k, std::array<std::size_t, 2> s, std::array<std::size_t, 4> pads,
                         std::array<std::size_t, 2> d = {1, 1}, bool ceil_mode = false, bool include_pad = false) {
  return kernels::PoolParams::make(k, s, pads, d, ceil_mode, include_pad);
}

}  // namespace

TEST_CASE("pooling general form: PyTorch's numbers at the ONNX corner cases") {
  // Worked by hand from the rule and confirmed with torch.nn.functional (2.x):
  // [1..6], window 3, stride 2, ceil: 3 windows, the last [5, 6, (pad)] is 2 entries
  // inside the padded image, so also with count_include_pad 5.5 = (5 + 6)/2.
  const Tensor<double> six = {{{{1, 2, 3, 4, 5, 6}}}};
  for (bool include : {false, true})
    CHECK(avg_pool2d(V(six), pool({1, 3}, {1, 2}, {0, 0, 0, 0}, {1, 1}, true, include)).value() ==
          Tensor<double>{{{{2, 4, 5.5}}}});
  // [3,1,4,1,5], window 2, stride 2, pads 1 and 1, ceil: the 4th window would start at 6 = W + pl
  // (in the end padding) and is dropped: 3 windows [−1,0], [1,2], [3,4].
  const Tensor<double> five = {{{{3, 1, 4, 1, 5}}}};
  CHECK(max_pool2d(V(five), pool({1, 2}, {1, 2}, {0, 1, 0, 1}, {1, 1}, true)).value() == Tensor<double>{{{{3, 4, 5}}}});
  CHECK(avg_pool2d(V(five), pool({1, 2}, {1, 2}, {0, 1, 0, 1}, {1, 1}, true, true)).value() ==
        Tensor<double>{{{{1.5, 2.5, 3}}}});
  CHECK(avg_pool2d(V(five), pool({1, 2}, {1, 2}, {0, 1, 0, 1}, {1, 1}, true, false)).value() ==
        Tensor<double>{{{{3, 2.5, 3}}}});
  // window 3, pads 1: the last window [3, 4, pad] counts the pad entry with count_include_pad: (1 + 5)/3.
  const Tensor<double> third = avg_pool2d(V(five), pool({1, 3}, {1, 2}, {0, 1, 0, 1}, {1, 1}, true, true)).value();
  CHECK(std::abs(third(0, 0, 0, 0) - 4.0 / 3.0) <= 1e-15);
  CHECK(third(0, 0, 0, 1) == 2.0);
  CHECK(third(0, 0, 0, 2) == 2.0);
  // max-pool, dilation 2, pads 1: taps (−1, 1), (1, 3), (3, 5 = pad): padding never wins, also over 1 < 0? no: −∞.
  const Tensor<double> neg = {{{{-3, -1, -4, -1, -5}}}};
  CHECK(max_pool2d(V(neg), pool({1, 2}, {1, 2}, {0, 1, 0, 1}, {1, 2})).value() == Tensor<double>{{{{-1, -1, -1}}}});
  using fluxion::testing::contains;
  using fluxion::testing::shape_error_message;
  CHECK(contains(shape_error_message([&] { max_pool2d(V(five), pool({1, 2}, {1, 1}, {0, 2, 0, 0})); }),
                 "lies entirely in the padding"));
  CHECK(contains(shape_error_message([&] { avg_pool2d(V(five), pool({1, 2}, {1, 1}, {0, 0, 0, 0}, {1, 2})); }),
                 "avg_pool2d: dilation must be 1"));
  CHECK(contains(shape_error_message([&] { max_pool2d(V(five), pool({2, 2}, {1, 1}, {0, 0, 0, 0})); }),
                 "max_pool2d: window 2 larger than input 1"));
}

TEST_CASE("pooling general form against the definition, and its derivatives") {
  struct Case {
    Shape x;
    kernels::PoolParams p;
  };
  const std::vector<Case> cases = {
      {{2, 2, 5, 7}, pool({2, 3}, {2, 2}, {1, 0, 0, 1})},                       // asymmetric pads
      {{1, 2, 5, 5}, pool({2, 2}, {2, 2}, {1, 1, 1, 1}, {1, 1}, true)},          // ceil, last window dropped
      {{1, 2, 6, 7}, pool({3, 3}, {2, 2}, {0, 1, 0, 1}, {1, 1}, true)},          // ceil, overhang beyond pads
      {{1, 3, 6, 7}, pool({3, 2}, {2, 3}, {1, 1, 1, 0}, {1, 1}, true, true)},    // ceil + count_include_pad
      {{2, 1, 7, 6}, pool({3, 3}, {1, 2}, {1, 1, 1, 1}, {1, 1}, false, true)},   // count_include_pad, overlapping
      {{1, 2, 4, 6}, pool({2, 2}, {2, 2}, {0, 0, 0, 0})},                        // the plain case through make()
  };
  for (const Case& c : cases) {
    const kernels::PoolParams p = c.p;
    CAPTURE(shape_str(c.x));
    CAPTURE(p.ceil_mode);
    CAPTURE(p.count_include_pad);
    const Tensor<double> x = rnd(c.x, 111);
    const Tensor<double> y = avg_pool2d(V(x), p).value();
    CHECK(largest_difference(y, pool_by_definition(x, p, false)) <= 1e-15);
    const Tensor<double> distinct = distinct_values(c.x, 112);
    CHECK(max_pool2d(V(distinct), p).value() == pool_by_definition(distinct, p, true));
    CHECK(kernels::pool_output_size(c.x[2], p, 0) == y.shape()[2]);
    CHECK(kernels::pool_output_size(c.x[3], p, 1) == y.shape()[3]);
    const std::size_t H = c.x[2], W = c.x[3];
    check("avg_pool2d general", [p](const Vs& v) { return avg_pool2d(v[0], p); }, {x});
    check("avg_pool2d_adjoint general", [p, H, W](const Vs& v) { return avg_pool2d_adjoint(v[0], H, W, p); },
          {rnd(shape_of(y), 113)});
    check("max_pool2d general", [p](const Vs& v) { return max_pool2d(v[0], p); }, {distinct});
  }
  // max-pool with dilation (ONNX MaxPool dilations), pads and ceil
  for (const kernels::PoolParams& p : {pool({2, 2}, {1, 1}, {1, 0, 0, 1}, {2, 3}), pool({2, 3}, {2, 2}, {1, 1, 1, 1}, {2, 2}, true)}) {
    const Tensor<double> x = distinct_values({1, 2, 6, 7}, 114);
    CHECK(max_pool2d(V(x), p).value() == pool_by_definition(x, p, true));
    check("max_pool2d dilated", [p](const Vs& v) { return max_pool2d(v[0], p); }, {x});
  }
  // the plain form and make() agree exactly
  const Tensor<double> x = rnd({2, 3, 7, 6}, 115);
  CHECK(avg_pool2d(V(x), {3, 2}).value() == avg_pool2d(V(x), pool({3, 3}, {2, 2}, {0, 0, 0, 0})).value());
}
