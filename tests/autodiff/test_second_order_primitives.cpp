// Second order, one row per primitive of the rule table (autodiff/rules.cpp)
// and per composite (autodiff/composite.cpp), in double.
//
// Each row is a scalar f(x) of one flat vector x built around the primitive:
//   * nonlinear ops directly, f = ⟨u, op(x)⟩ (u fixed random weights);
//   * bilinear ops (mul, div, matmul in its 4 transpose combinations, conv2d
//     and its two adjoints, mse) with BOTH operands taken from x, so the
//     Hessian holds the mixed term ∂²f/∂a∂b (x is split into operands by
//     constant 0/1 selection matrices, which are linear);
//   * linear ops (add, sub, neg, permute, broadcast_to, sum_to, pooling, …)
//     as f = ⟨u, op(x)²⟩, so that H = 2 Jᵀ diag(u) J ≠ 0 goes through the op's
//     JVP rule and the JVP of its VJP rule.
//
// Three checks per row, at a random point along random directions v:
//   (a) forward-over-reverse (hvp) against reverse-over-reverse (hvp_reverse):
//       both exact, they differ by rounding only: ≤ 1e-12 normwise.
//   (b) hvp against central differences of the engine's gradient,
//       (∇f(x + h v) − ∇f(x − h v)) / 2h with h = 1e-5, ENTRY BY ENTRY:
//       |Hv − fd| ≤ 1e-9 + 1e-9·|fd|. Truncation is h²/6·|∂⁴f[v,v,v]|, at
//       most 1.7e-11·|f⁗| (f⁗ ≤ 125 for softplus β = 10: ≤ 2e-9), rounding
//       ≈ eps·|∇f|/h ≈ 2e-11·|∇f| per entry; measured worst 2.3e-10 (a
//       rounding-dominated conv row), so a margin of about 4.
//   (c) the full Hessian against second differences of f ITSELF (no
//       derivative rule involved), per entry,
//         H_ij ≈ [f(x+he_i+he_j) − f(x+he_i−he_j) − f(x−he_i+he_j) + f(x−he_i−he_j)] / 4h²
//       with h = 1e-4: |H − D| ≤ 1e-6·(1 + max|f|) + 1e-6·|D|, f taken at
//       all the points used. Rounding ≈ eps·|f|/h² ≈ 2e-8·|f|, truncation
//       ≈ h²/3·|f⁗| ≈ 3e-9·|f⁗| (the diagonal uses steps of 2h); measured
//       worst 0.13 of the bound (pow −1 near 0.5, where f⁗ = 24/x⁵ ≈ 770).
//       (a) and (b) compare the engine with itself and cannot see a wrong
//       FIRST derivative (a wrong VJP gives a consistently wrong Hessian in
//       all three); (c) can, and so can the first-order checks of
//       test_primitives.cpp.
// Every row also asserts that H v is not trivially zero (max |Hv| > 1e-3):
// where an op's own Hessian vanishes (relu, step, pow 0 and 1, the linear
// ops) it is combined with a curved factor so that f's does not.
// Define FLUXION_SECOND_ORDER_REPORT to print every row's measured ratios.
#include <functional>
#include <string>

#include <xtensor/xview.hpp>

#include "tests/autodiff/check_derivatives.hpp"

using namespace fluxion;
using fluxion::testing::random_tensor;
using fluxion::testing::distinct_values;
using fluxion::testing::worst_entry_ratio;

namespace {

using V = Var<double>;
using Vs = std::vector<V>;

// ---- how the rows are built ----------------------------------------------------

enum class Values { uniform, distinct };  // distinct: |x| ≥ 0.05 and well separated (relu, max-pool)

struct Operand {
  Shape shape;
  double lo = -1, hi = 1;
  Values values = Values::uniform;
};

struct Row {
  std::string name;
  std::vector<Operand> operands;
  std::function<V(const Vs&)> f;  // scalar, of the operands
};

// Fixed weights of a given shape (the same every call: f must be a function).
V weights(const Shape& s) { return constant(random_tensor(s, 4242, -1.0, 1.0)); }
// ⟨u, y⟩ and ⟨u, y²⟩.
V weighted(const V& y) { return sum(mul(y, weights(y.shape()))); }
V weighted_square(const V& y) { return sum(mul(square(y), weights(y.shape()))); }


std::size_t total_size(const Row& r) {
  std::size_t n = 0;
  for (const auto& o : r.operands) n += numel_of(o.shape);
  return n;
}

// The point: the operands' values one after the other in a flat vector.
Tensor<double> point(const Row& r, std::uint64_t seed) {
  Tensor<double> x = Tensor<double>::from_shape({total_size(r)});
  std::size_t at = 0;
  for (std::size_t k = 0; k < r.operands.size(); ++k) {
    const Operand& o = r.operands[k];
    Tensor<double> v = o.values == Values::distinct ? distinct_values(o.shape, seed + k)
                                                     : random_tensor(o.shape, seed + k, o.lo, o.hi);
    std::copy(v.begin(), v.end(), x.begin() + at);
    at += v.size();
  }
  return x;
}

// Entries [offset, offset + Π shape) of the flat x as an operand of `shape`:
// a product with a constant 0/1 selection matrix (linear, so it adds nothing
// to the Hessian), or a plain reshape for a single operand.
V operand(const V& x, std::size_t offset, const Shape& shape) {
  const std::size_t n = x.numel(), m = numel_of(shape);
  if (offset == 0 && m == n) return reshape(x, shape);
  Tensor<double> select_rows = filled<double>({m, n}, 0.0);
  for (std::size_t i = 0; i < m; ++i) select_rows(i, offset + i) = 1.0;
  return reshape(matmul(constant(select_rows), reshape(x, {n, 1})), shape);
}

Function<double> as_function(const Row& r) {
  return [r](const V& x) {
    Vs parts;
    std::size_t at = 0;
    for (const auto& o : r.operands) {
      parts.push_back(operand(x, at, o.shape));
      at += numel_of(o.shape);
    }
    return r.f(parts);
  };
}

double value_of(const Function<double>& f, const Tensor<double>& x) {
  NoGradGuard no_graph;
  return f(V(x)).item();
}

// ---- the tolerances argued in the header ------------------------------------------

constexpr double exact_vs_exact = 1e-12;               // (a) normwise
constexpr double gradient_fd_step = 1e-5;              // (b)
constexpr double gradient_fd_atol = 1e-9, gradient_fd_rtol = 1e-9;
constexpr double second_difference_step = 1e-4;        // (c)
constexpr double second_difference_tol = 1e-6;         // times (1 + max |f|) absolute, and relative

struct RowResult {
  double forward_vs_reverse = 0, vs_gradient_fd = 0, vs_second_differences = 0, largest_hv = 0;
};

RowResult check_row(const Row& row, std::uint64_t seed) {
  RowResult res;
  const Function<double> f = as_function(row);
  const Tensor<double> x = point(row, seed);
  const std::size_t d = x.size();
  for (std::uint64_t k = 0; k < 2; ++k) {
    const Tensor<double> v = random_tensor({d}, seed + 100 + k);
    const Tensor<double> forward_over_reverse = hvp(f, x, v);
    const Tensor<double> reverse_over_reverse = hvp_reverse(f, x, v);
    res.forward_vs_reverse =
        std::max(res.forward_vs_reverse, max_relative_error(forward_over_reverse, reverse_over_reverse));
    const double h = gradient_fd_step;
    const Tensor<double> fd = (grad(f, Tensor<double>(x + h * v)) - grad(f, Tensor<double>(x - h * v))) / (2 * h);
    res.vs_gradient_fd = std::max(res.vs_gradient_fd,
                                  worst_entry_ratio(forward_over_reverse, fd, gradient_fd_atol, gradient_fd_rtol));
    for (double e : forward_over_reverse) res.largest_hv = std::max(res.largest_hv, std::abs(e));
  }
  // (c) the whole Hessian against second differences of f.
  const Tensor<double> H = hessian(f, x);
  const double h = second_difference_step;
  Tensor<double> D = filled<double>({d, d}, 0.0);
  double magnitude = std::abs(value_of(f, x));
  Tensor<double> z = x;
  auto at = [&](std::size_t i, double si, std::size_t j, double sj) {
    z = x;
    z(i) += si * h;
    z(j) += sj * h;
    const double fz = value_of(f, z);
    magnitude = std::max(magnitude, std::abs(fz));
    return fz;
  };
  for (std::size_t i = 0; i < d; ++i)
    for (std::size_t j = i; j < d; ++j) {
      D(i, j) = D(j, i) = (at(i, 1, j, 1) - at(i, 1, j, -1) - at(i, -1, j, 1) + at(i, -1, j, -1)) / (4 * h * h);
    }
  res.vs_second_differences =
      worst_entry_ratio(H, D, second_difference_tol * (1 + magnitude), second_difference_tol);
  return res;
}

// ---- the table ----------------------------------------------------------------------

kernels::Conv2dParams conv(std::size_t stride, std::size_t padding) { return {stride, padding}; }

std::vector<Row> primitive_rows() {
  std::vector<Row> rows;
  // element-wise binary, broadcasting, both operands from x
  rows.push_back({"add [2,3] + [3]", {{{2, 3}}, {{3}}}, [](const Vs& v) { return weighted_square(add(v[0], v[1])); }});
  rows.push_back({"sub [2,3] - [2,1]", {{{2, 3}}, {{2, 1}}}, [](const Vs& v) { return weighted_square(sub(v[0], v[1])); }});
  rows.push_back({"mul [2,3] * [3] (mixed term)", {{{2, 3}}, {{3}}}, [](const Vs& v) { return weighted(mul(v[0], v[1])); }});
  rows.push_back({"div [2,3] / [3] (mixed term)", {{{2, 3}}, {{3}, 0.5, 2.0}}, [](const Vs& v) { return weighted(div(v[0], v[1])); }});
  rows.push_back({"div [3] / [2,3]", {{{3}}, {{2, 3}, 0.5, 2.0}}, [](const Vs& v) { return weighted(div(v[0], v[1])); }});
  // element-wise unary
  rows.push_back({"neg", {{{2, 3}}}, [](const Vs& v) { return weighted_square(neg(v[0])); }});
  rows.push_back({"scale", {{{2, 3}}}, [](const Vs& v) { return weighted_square(scale(v[0], -1.75)); }});
  rows.push_back({"exp", {{{2, 3}}}, [](const Vs& v) { return weighted(exp(v[0])); }});
  rows.push_back({"log", {{{2, 3}, 0.3, 2.0}}, [](const Vs& v) { return weighted(log(v[0])); }});
  rows.push_back({"tanh", {{{2, 3}, -2, 2}}, [](const Vs& v) { return weighted(tanh(v[0])); }});
  rows.push_back({"sigmoid", {{{2, 3}, -4, 4}}, [](const Vs& v) { return weighted(sigmoid(v[0])); }});
  rows.push_back({"softplus beta=1", {{{2, 3}, -2, 2}}, [](const Vs& v) { return weighted(softplus(v[0], 1.0)); }});
  rows.push_back({"softplus beta=10", {{{2, 3}, -0.3, 0.3}}, [](const Vs& v) { return weighted(softplus(v[0], 10.0)); }});
  rows.push_back({"relu (away from 0)", {{{2, 3}, -1, 1, Values::distinct}},
                  [](const Vs& v) { return weighted_square(relu(v[0])); }});
  rows.push_back({"step (a constant) times x^2", {{{2, 3}, -1, 1, Values::distinct}},
                  [](const Vs& v) { return weighted(mul(step(v[0]), square(v[0]))); }});
  rows.push_back({"pow 2", {{{2, 3}}}, [](const Vs& v) { return weighted(pow(v[0], 2.0)); }});
  rows.push_back({"pow 3", {{{2, 3}}}, [](const Vs& v) { return weighted(pow(v[0], 3.0)); }});
  rows.push_back({"pow 2.5", {{{2, 3}, 0.3, 2.0}}, [](const Vs& v) { return weighted(pow(v[0], 2.5)); }});
  rows.push_back({"pow -1", {{{2, 3}, 0.5, 2.0}}, [](const Vs& v) { return weighted(pow(v[0], -1.0)); }});
  rows.push_back({"pow 1 (squared)", {{{2, 3}}}, [](const Vs& v) { return weighted_square(pow(v[0], 1.0)); }});
  // x⁰ = 1 has zero derivatives of every order; the factor tanh x keeps H ≠ 0
  // and makes a wrong rule for x⁰ (a NaN from 0·x⁻¹, a non-zero slope) visible.
  rows.push_back({"pow 0 times tanh", {{{2, 3}}}, [](const Vs& v) { return weighted(mul(pow(v[0], 0.0), tanh(v[0]))); }});
  // matmul: all four transpose combinations, both operands from x (H = the mixed term)
  rows.push_back({"matmul A B", {{{2, 3}}, {{3, 4}}}, [](const Vs& v) { return weighted(matmul(v[0], v[1])); }});
  rows.push_back({"matmul A^T B", {{{3, 2}}, {{3, 4}}}, [](const Vs& v) { return weighted(matmul(v[0], v[1], true, false)); }});
  rows.push_back({"matmul A B^T", {{{2, 3}}, {{4, 3}}}, [](const Vs& v) { return weighted(matmul(v[0], v[1], false, true)); }});
  rows.push_back({"matmul A^T B^T", {{{3, 2}}, {{4, 3}}}, [](const Vs& v) { return weighted(matmul(v[0], v[1], true, true)); }});
  rows.push_back({"matmul A^T B^T squared (all blocks)", {{{3, 2}}, {{4, 3}}},
                  [](const Vs& v) { return weighted_square(matmul(v[0], v[1], true, true)); }});
  rows.push_back({"matmul batched A [2,2,3], broadcast B [3,2]", {{{2, 2, 3}}, {{3, 2}}},
                  [](const Vs& v) { return weighted_square(matmul(v[0], v[1])); }});
  // conv2d and its adjoints: non-square images and kernels, both operands from x
  rows.push_back({"conv2d x [1,2,3,4], w [2,2,2,3], stride 1 (mixed term)", {{{1, 2, 3, 4}}, {{2, 2, 2, 3}}},
                  [](const Vs& v) { return weighted(conv2d(v[0], v[1], conv(1, 0))); }});
  rows.push_back({"conv2d x [1,2,3,5], w [1,2,2,3], stride 2 padding 1 (mixed term)", {{{1, 2, 3, 5}}, {{1, 2, 2, 3}}},
                  [](const Vs& v) { return weighted(conv2d(v[0], v[1], conv(2, 1))); }});
  rows.push_back({"conv2d squared x [1,1,4,3], w [2,1,3,2], padding 1", {{{1, 1, 4, 3}}, {{2, 1, 3, 2}}},
                  [](const Vs& v) { return weighted_square(conv2d(v[0], v[1], conv(1, 1))); }});
  // conv2d_input_grad(g [1,2,2,2], w [2,2,2,3]) → [1,2,3,4] with stride 2, padding 1
  rows.push_back({"conv2d_input_grad g, w (mixed term)", {{{1, 2, 2, 2}}, {{2, 2, 2, 3}}},
                  [](const Vs& v) { return weighted(conv2d_input_grad(v[0], v[1], 3, 4, conv(2, 1))); }});
  // conv2d_weight_grad(x [1,2,3,4], g [1,2,2,2]) → [2,2,2,3] with stride 2, padding 1
  rows.push_back({"conv2d_weight_grad x, g (mixed term)", {{{1, 2, 3, 4}}, {{1, 2, 2, 2}}},
                  [](const Vs& v) { return weighted(conv2d_weight_grad(v[0], v[1], 2, 3, conv(2, 1))); }});
  // pooling (linear given the argmax): overlapping and truncated windows
  rows.push_back({"max_pool2d 3/2 on 5x4", {{{1, 2, 5, 4}, -1, 1, Values::distinct}},
                  [](const Vs& v) { return weighted_square(max_pool2d(v[0], {3, 2})); }});
  rows.push_back({"avg_pool2d 3/2 on 5x4 (overlapping, truncated)", {{{1, 2, 5, 4}}},
                  [](const Vs& v) { return weighted_square(avg_pool2d(v[0], {3, 2})); }});
  rows.push_back({"avg_pool2d_adjoint 2/1 to 3x4", {{{1, 2, 2, 3}}},
                  [](const Vs& v) { return weighted_square(avg_pool2d_adjoint(v[0], 3, 4, {2, 1})); }});
  {
    auto map = std::make_shared<kernels::ArgmaxMap>();
    kernels::max_pool2d(distinct_values({1, 2, 4, 3}, 5), {2, 1}, *map);
    std::shared_ptr<const kernels::ArgmaxMap> m = map;
    rows.push_back({"pool_gather", {{{1, 2, 4, 3}}}, [m](const Vs& v) { return weighted_square(pool_gather(v[0], m)); }});
    rows.push_back({"pool_scatter", {{{1, 2, 3, 2}}}, [m](const Vs& v) { return weighted_square(pool_scatter(v[0], m)); }});
  }
  // shape ops, reductions, gather/scatter
  rows.push_back({"reshape", {{{2, 3, 2}}}, [](const Vs& v) { return weighted_square(reshape(v[0], {3, 4})); }});
  rows.push_back({"permute (2,0,1)", {{{2, 3, 2}}}, [](const Vs& v) { return weighted_square(permute(v[0], {2, 0, 1})); }});
  rows.push_back({"sum axis 1 keepdims", {{{2, 3, 2}}}, [](const Vs& v) { return weighted_square(sum(v[0], {1}, true)); }});
  rows.push_back({"broadcast_to [3,1] -> [2,3,4]", {{{3, 1}}},
                  [](const Vs& v) { return weighted_square(broadcast_to(v[0], {2, 3, 4})); }});
  rows.push_back({"sum_to [2,3,4] -> [3,1]", {{{2, 3, 4}}}, [](const Vs& v) { return weighted_square(sum_to(v[0], {3, 1})); }});
  rows.push_back({"select", {{{2, 3, 4}}}, [](const Vs& v) { return weighted_square(select(v[0], {2, 0, 3})); }});
  rows.push_back({"scatter", {{{2, 3}}}, [](const Vs& v) { return weighted_square(scatter(v[0], {2, 0, 3}, 4)); }});
  rows.push_back({"logsumexp", {{{3, 4}, -3, 3}}, [](const Vs& v) { return weighted(logsumexp(v[0])); }});
  // ---- the ONNX primitives
  // maximum/minimum: b is shifted by 0.005 off a's ladder (no ties within the steps); the product
  // with a keeps a mixed term in H (max itself is piecewise linear).
  rows.push_back({"maximum [2,3] vs [3] times a", {{{2, 3}, -1, 1, Values::distinct}, {{3}, -1, 1, Values::distinct}},
                  [](const Vs& v) { return weighted(mul(maximum(v[0], v[1] + 0.005), v[0])); }});
  rows.push_back({"minimum [3] vs [2,3] squared", {{{3}, -1, 1, Values::distinct}, {{2, 3}, -1, 1, Values::distinct}},
                  [](const Vs& v) { return weighted_square(minimum(v[0], v[1] + 0.005)); }});
  rows.push_back({"erf", {{{2, 3}, -2, 2}}, [](const Vs& v) { return weighted(erf(v[0])); }});
  rows.push_back({"sqrt", {{{2, 3}, 0.3, 2.0}}, [](const Vs& v) { return weighted(sqrt(v[0])); }});
  rows.push_back({"abs squared (away from 0)", {{{2, 3}, -1, 1, Values::distinct}},
                  [](const Vs& v) { return weighted(mul(abs(v[0]), tanh(v[0]))); }});
  rows.push_back({"leaky_relu squared (away from 0)", {{{2, 3}, -1, 1, Values::distinct}},
                  [](const Vs& v) { return weighted_square(leaky_relu(v[0], 0.2)); }});
  rows.push_back({"elu (away from 0)", {{{2, 3}, -1, 1, Values::distinct}},
                  [](const Vs& v) { return weighted(elu(v[0], 0.7)); }});
  rows.push_back({"concat axis 1 squared", {{{2, 1}}, {{2, 2}}},
                  [](const Vs& v) { return weighted_square(concat(v, 1)); }});
  rows.push_back({"slice with negative step squared", {{{3, 4}}},
                  [](const Vs& v) { return weighted_square(slice(v[0], {-1, 0}, {0, 4}, {1, 0}, {-2, 2})); }});
  rows.push_back({"slice_adjoint squared", {{{2, 2}}},
                  [](const Vs& v) { return weighted_square(slice_adjoint(v[0], {3, 4}, {-1, 0}, {0, 4}, {1, 0}, {-2, 2})); }});
  rows.push_back({"pad squared", {{{2, 2}}}, [](const Vs& v) { return weighted_square(pad(v[0], {1, 0}, {0, 2}, 0.5)); }});
  rows.push_back({"take with repeats squared", {{{3, 2}}},
                  [](const Vs& v) { return weighted_square(take(v[0], {2, -3, 2}, {3}, 0)); }});
  rows.push_back({"take_adjoint with repeats squared", {{{3, 2}}},
                  [](const Vs& v) { return weighted_square(take_adjoint(v[0], {2, -3, 2}, {3}, 0, 3)); }});
  {  // conv2d general form: 2 groups, dilation, asymmetric pads, strides (2, 1)
    const auto p = kernels::Conv2dParams::make({2, 1}, {1, 0, 0, 1}, {1, 2}, 2);
    // x [1,2,4,4], w [2,1,2,2] → y [1,2,2,3]
    rows.push_back({"conv2d general x, w (mixed term)", {{{1, 2, 4, 4}}, {{2, 1, 2, 2}}},
                    [p](const Vs& v) { return weighted(conv2d(v[0], v[1], p)); }});
    rows.push_back({"conv2d general squared", {{{1, 2, 4, 4}}, {{2, 1, 2, 2}}},
                    [p](const Vs& v) { return weighted_square(conv2d(v[0], v[1], p)); }});
    rows.push_back({"conv2d_input_grad general g, w (mixed term)", {{{1, 2, 2, 3}}, {{2, 1, 2, 2}}},
                    [p](const Vs& v) { return weighted(conv2d_input_grad(v[0], v[1], 4, 4, p)); }});
    rows.push_back({"conv2d_weight_grad general x, g (mixed term)", {{{1, 2, 4, 4}}, {{1, 2, 2, 3}}},
                    [p](const Vs& v) { return weighted(conv2d_weight_grad(v[0], v[1], 2, 2, p)); }});
  }
  {  // pooling general form: pads, ceil_mode, count_include_pad, dilation
    const auto avg = kernels::PoolParams::make({2, 3}, {2, 2}, {1, 0, 0, 1}, {1, 1}, true, true);
    const auto mx = kernels::PoolParams::make({2, 2}, {2, 1}, {1, 1, 0, 0}, {1, 2}, true, false);
    rows.push_back({"avg_pool2d general squared", {{{1, 2, 3, 4}}},
                    [avg](const Vs& v) { return weighted_square(avg_pool2d(v[0], avg)); }});
    rows.push_back({"avg_pool2d_adjoint general squared", {{{1, 2, 2, 2}}},
                    [avg](const Vs& v) { return weighted_square(avg_pool2d_adjoint(v[0], 3, 4, avg)); }});
    rows.push_back({"max_pool2d general squared", {{{1, 2, 4, 4}, -1, 1, Values::distinct}},
                    [mx](const Vs& v) { return weighted_square(max_pool2d(v[0], mx)); }});
  }
  return rows;
}

std::vector<Row> composite_rows() {
  std::vector<Row> rows;
  const std::vector<std::size_t> labels{0, 3, 2};
  rows.push_back({"log_softmax", {{{3, 4}, -3, 3}}, [](const Vs& v) { return weighted(log_softmax(v[0])); }});
  rows.push_back({"softmax", {{{3, 4}, -3, 3}}, [](const Vs& v) { return weighted(softmax(v[0])); }});
  rows.push_back({"cross_entropy", {{{3, 4}, -3, 3}}, [labels](const Vs& v) { return cross_entropy(v[0], labels); }});
  rows.push_back({"mse (both arguments from x)", {{{3, 4}}, {{3, 4}}}, [](const Vs& v) { return mse(v[0], v[1]); }});
  rows.push_back({"mse of tanh against x", {{{3, 4}}, {{3, 4}}},
                  [](const Vs& v) { return mse(tanh(v[0]), v[1]); }});
  rows.push_back({"mean axis 0", {{{3, 4}}}, [](const Vs& v) { return weighted_square(mean(v[0], {0})); }});
  rows.push_back({"transpose", {{{3, 4}}}, [](const Vs& v) { return weighted_square(transpose(v[0])); }});
  rows.push_back({"square", {{{3, 4}}}, [](const Vs& v) { return weighted(square(v[0])); }});
  rows.push_back({"gelu", {{{2, 3}, -2, 2}}, [](const Vs& v) { return weighted(gelu(v[0])); }});
  rows.push_back({"clip of x times x (away from the bounds)", {{{2, 3}, -1, 1, Values::distinct}},
                  [](const Vs& v) { return weighted(mul(clip(v[0], -0.115, 0.125), v[0])); }});
  rows.push_back({"softmax axis 0", {{{3, 4}, -3, 3}}, [](const Vs& v) { return weighted(softmax(v[0], 0)); }});
  rows.push_back({"log_softmax axis 0", {{{3, 4}, -3, 3}}, [](const Vs& v) { return weighted(log_softmax(v[0], 0)); }});
  rows.push_back({"conv_transpose2d x, w (mixed term)", {{{1, 2, 2, 2}}, {{2, 1, 2, 2}}}, [](const Vs& v) {
                    return weighted(conv_transpose2d(v[0], v[1], kernels::Conv2dParams::make({2, 1}, {0, 1, 1, 0}, {1, 1}, 2), {1, 0}));
                  }});
  return rows;
}

void check_rows(const std::vector<Row>& rows) {
  std::uint64_t seed = 1;
  for (const Row& row : rows) {
    CAPTURE(row.name);
    const RowResult r = check_row(row, seed += 10);
    CAPTURE(r.forward_vs_reverse);
    CAPTURE(r.vs_gradient_fd);
    CAPTURE(r.vs_second_differences);
    CAPTURE(r.largest_hv);
    CHECK(r.forward_vs_reverse <= exact_vs_exact);
    CHECK(r.vs_gradient_fd <= 1.0);
    CHECK(r.vs_second_differences <= 1.0);
    CHECK(r.largest_hv > 1e-3);
#ifdef FLUXION_SECOND_ORDER_REPORT
    MESSAGE(row.name << ": fwd/rev " << r.forward_vs_reverse << ", grad fd " << r.vs_gradient_fd << ", 2nd diff "
                     << r.vs_second_differences << ", |Hv| " << r.largest_hv);
#endif
  }
}

}  // namespace

TEST_CASE("second order per primitive: HVPs two ways, against the gradient's and f's finite differences") {
  check_rows(primitive_rows());
}

TEST_CASE("second order per composite: log_softmax, softmax, cross_entropy, mse, mean, transpose, square, gelu, clip, conv_transpose2d") {
  check_rows(composite_rows());
}

TEST_CASE("second order: x^0 has zero gradient and zero Hessian, at 0 as well") {
  // f = ⟨u, x⁰⟩ is the constant Σ u: every derivative is exactly 0 (no NaN
  // from 0·0⁻¹ at the zero entries).
  Tensor<double> x = random_tensor({2, 3}, 3);
  x(0, 0) = 0.0;
  x(1, 2) = 0.0;
  const Function<double> f = [](const V& z) { return weighted(pow(z, 0.0)); };
  const Tensor<double> zeros = filled<double>({2, 3}, 0.0), v = random_tensor({2, 3}, 4);
  CHECK(std::abs(value_of(f, x) - xt::sum(weights({2, 3}).value())()) <= 1e-15);  // 6 terms, maybe reordered
  CHECK(grad(f, x) == zeros);
  CHECK(hvp(f, x, v) == zeros);
  CHECK(hvp_reverse(f, x, v) == zeros);
  CHECK(jvp(Function<double>([](const V& z) { return pow(z, 0.0); }), x, v) == zeros);
}
