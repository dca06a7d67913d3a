// Hessian-vector products three ways, full Hessians and Jacobians on a small
// softplus MLP and a small softplus CNN (double precision).
//
// For a scalar f: ℝᵈ → ℝ with gradient g(x) = ∇f(x) and Hessian H = ∇²f(x):
//
//   forward-over-reverse   H v = d/dε g(x + ε v)|₀   (tangent of the reverse sweep: hvp)
//   reverse-over-reverse   H v = ∇ₓ ⟨g(x), v⟩        (gradient of a gradient: hvp_reverse)
//   finite differences     H v ≈ (g(x + h v) − g(x − h v)) / 2h,  error O(h²)
//
// The first two are exact up to rounding, so they must agree to ≤ 1e-12
// (relative to max |H v|); the third has truncation error ~h²·|f⁗| and
// rounding error ~ε·|g|/h, both ≪ 1e-6 with h = 1e-5.
//
// The full Hessian comes from batched identity tangents (k directions per
// sweep, chunked). Its row i must equal hvp(e_i) computed one at a time, it
// must be symmetric (a mixed partial does not depend on the order), and it
// must not depend on the chunk size. Jacobians of the logits are checked
// against forward-mode columns (J e_j), reverse-mode rows (e_iᵀ J) and
// central differences.
//
// References: Pearlmutter, "Fast exact multiplication by the Hessian" (1994)
// for forward-over-reverse; JAX autodiff cookbook for hvp compositions.
#include <string>

#include <xtensor/xmanipulation.hpp>
#include <xtensor/xmath.hpp>

#include "tests/autodiff/check_derivatives.hpp"
#include "tests/autodiff/small_models.hpp"

using namespace fluxion;
using fluxion::testing::SmallCnn;
using fluxion::testing::SmallMlp;
using fluxion::testing::uniform_tensor;
using fluxion::testing::weighted_sum;

namespace {

using F = Function<double>;

// Central differences of the gradient along v.
Tensor<double> finite_difference_hvp(const F& f, const Tensor<double>& x, const Tensor<double>& v, double h) {
  Tensor<double> xp = x + h * v, xm = x - h * v;
  return (grad(f, xp) - grad(f, xm)) / (2 * h);
}

Tensor<double> unit_vector(const Shape& shape, std::size_t i) {
  Tensor<double> e = filled<double>(shape, 0.0);
  e.data()[i] = 1.0;
  return e;
}

Tensor<double> flat(Tensor<double> t) {
  t.reshape({t.size()});
  return t;
}

// H v by forward-over-reverse, reverse-over-reverse and finite differences,
// for three random directions; also one batched sweep = three single sweeps.
void check_hvp_three_ways(const F& f, const Tensor<double>& x, std::uint64_t seed) {
  Shape three = shape_of(x);
  three.insert(three.begin(), 3);
  Tensor<double> V = uniform_tensor<double>(three, seed);
  Tensor<double> batched = hvp_batched(f, x, V);
  for (std::size_t k = 0; k < 3; ++k) {
    Tensor<double> v = xt::view(V, k);
    Tensor<double> forward_over_reverse = hvp(f, x, v);
    Tensor<double> reverse_over_reverse = hvp_reverse(f, x, v);
    Tensor<double> finite_diff = finite_difference_hvp(f, x, v, 1e-5);
    Tensor<double> from_batch = xt::view(batched, k);
    CAPTURE(k);
    // Both are exact: they differ only by rounding (~1e-15 relative).
    CHECK(max_relative_error(forward_over_reverse, reverse_over_reverse) <= 1e-12);
    // Truncation ~1e-10 and rounding ~1e-11 relative, see the file header.
    CHECK(max_relative_error(forward_over_reverse, finite_diff) <= 1e-6);
    // Same arithmetic, k = 3 stacked directions instead of one.
    CHECK(max_relative_error(from_batch, forward_over_reverse) <= 1e-13);
    // A non-trivial direction: H v must not vanish for these models.
    CHECK(xt::amax(xt::abs(forward_over_reverse))() > 1e-3);
  }
}

// Full Hessian: chunk sizes agree, rows = single HVPs, symmetric, and
// columns ≈ finite differences of the gradient (an independent check).
void check_full_hessian(const F& f, const Tensor<double>& x) {
  const std::size_t d = x.size();
  Tensor<double> H = hessian(f, x);  // all d directions in one sweep
  REQUIRE(shape_of(H) == Shape{d, d});
  for (std::size_t chunk : {std::size_t(1), std::size_t(3), d}) {
    CAPTURE(chunk);
    // Same products, grouped differently in the GEMMs: rounding only.
    CHECK(max_relative_error(hessian(f, x, chunk), H) <= 1e-13);
  }
  double worst_row = 0, worst_fd = 0;
  for (std::size_t i = 0; i < d; ++i) {
    Tensor<double> e = unit_vector(shape_of(x), i);
    Tensor<double> row = xt::view(H, i);
    worst_row = std::max(worst_row, max_relative_error(row, flat(hvp(f, x, e)), 1.0));
    worst_fd = std::max(worst_fd, max_relative_error(row, flat(finite_difference_hvp(f, x, e, 1e-5)), 1.0));
  }
  double scale = xt::amax(xt::abs(H))();
  // floor 1.0 above: rows where H is tiny are compared absolutely; H is O(1) here.
  CHECK(scale > 1e-2);
  CHECK(worst_row <= 1e-12);
  CHECK(worst_fd <= 1e-6);
  double asymmetry = xt::amax(xt::abs(H - xt::transpose(H)))() / scale;
  // ∂²f/∂xᵢ∂xⱼ = ∂²f/∂xⱼ∂xᵢ; the two are computed by different sweeps.
  CHECK(asymmetry <= 1e-10);
}

std::string describe(const fluxion::testing::CnnShape& s) {
  return "stride " + std::to_string(s.conv.stride) + " padding " + std::to_string(s.conv.padding) +
         (s.max_pool ? " max-pool" : " avg-pool");
}

const std::vector<fluxion::testing::CnnShape> cnn_variants = {
    {{1, 1}, false},  // 6×6 → conv same → 6×6 → avg → 3×3
    {{1, 1}, true},   // same with max-pool
    {{1, 0}, true},   // valid conv → 4×4 → max → 2×2
    {{2, 1}, false},  // strided conv → 3×3 → avg → 1×1
};

}  // namespace

TEST_CASE("hessians: softplus MLP as a function of its input") {
  SmallMlp<double> mlp(11);
  Tensor<double> c = uniform_tensor<double>({2, 3}, 12);
  F f = [&](const Var<double>& x) { return weighted_sum(mlp.logits(x), c); };
  Tensor<double> x = uniform_tensor<double>({2, 6}, 13, -1.5, 1.5);
  check_hvp_three_ways(f, x, 14);
  check_full_hessian(f, x);
}

TEST_CASE("hessians: softplus MLP as a function of its first-layer weights") {
  SmallMlp<double> mlp(21, 3.0);
  Tensor<double> c = uniform_tensor<double>({2, 3}, 22);
  Var<double> x(uniform_tensor<double>({2, 6}, 23, -1.5, 1.5));
  F f = [&](const Var<double>& w1) { return weighted_sum(mlp.logits(x, w1), c); };
  Tensor<double> w1 = mlp.w1.value();
  check_hvp_three_ways(f, w1, 24);
  check_full_hessian(f, w1);
}

TEST_CASE("hessians: softplus CNN as a function of its input") {
  for (const auto& variant : cnn_variants) {
    CAPTURE(describe(variant));
    SmallCnn<double> cnn(31, variant);
    Tensor<double> c = uniform_tensor<double>({2, 3}, 32);
    F f = [&](const Var<double>& x) { return weighted_sum(cnn.logits(x), c); };
    Tensor<double> x = uniform_tensor<double>({2, 1, 6, 6}, 33, -1.5, 1.5);
    check_hvp_three_ways(f, x, 34);
    check_full_hessian(f, x);
  }
}

TEST_CASE("hessians: softplus CNN as a function of its conv weights") {
  for (const auto& variant : {cnn_variants[0], cnn_variants[2]}) {
    CAPTURE(describe(variant));
    SmallCnn<double> cnn(41, variant);
    Tensor<double> c = uniform_tensor<double>({2, 3}, 42);
    Var<double> x(uniform_tensor<double>({2, 1, 6, 6}, 43, -1.5, 1.5));
    F f = [&](const Var<double>& w) { return weighted_sum(cnn.logits(x, w), c); };
    Tensor<double> w = cnn.w_conv.value();
    check_hvp_three_ways(f, w, 44);
    check_full_hessian(f, w);
  }
}

TEST_CASE("hessians: jacobian columns are jvps, rows are vjps, and match finite differences") {
  SmallMlp<double> mlp(51);
  SmallCnn<double> cnn(52, cnn_variants[1]);
  std::vector<std::pair<std::string, F>> cases = {
      {"mlp", [&](const Var<double>& x) { return mlp.logits(reshape(x, {2, 6})); }},
      {"cnn", [&](const Var<double>& x) { return cnn.logits(reshape(x, {2, 1, 6, 6})); }},
  };
  Tensor<double> x_mlp = uniform_tensor<double>({12}, 53, -1.5, 1.5);
  Tensor<double> x_cnn = uniform_tensor<double>({72}, 54, -1.5, 1.5);
  for (auto& [name, f] : cases) {
    CAPTURE(name);
    const Tensor<double>& x = name == "mlp" ? x_mlp : x_cnn;
    const std::size_t d = x.size(), m = 6;  // 2 rows × 3 logits
    Tensor<double> J = jacobian(f, x);
    REQUIRE(shape_of(J) == Shape{m, d});
    for (std::size_t chunk : {std::size_t(1), std::size_t(5)})
      CHECK(max_relative_error(jacobian(f, x, chunk), J) <= 1e-13);  // regrouped GEMMs only
    double scale = xt::amax(xt::abs(J))();
    double worst_col = 0, worst_row = 0, worst_fd = 0;
    for (std::size_t j = 0; j < d; ++j) {
      Tensor<double> col = xt::view(J, xt::all(), j);
      worst_col = std::max(worst_col, xt::amax(xt::abs(col - flat(jvp(f, x, unit_vector({d}, j)))))() / scale);
      // central differences of f along e_j (truncation ~h², h = 1e-5)
      Tensor<double> e = unit_vector({d}, j);
      Tensor<double> fd;
      {
        NoGradGuard no_graph;
        fd = (f(Var<double>(x + 1e-5 * e)).value() - f(Var<double>(x - 1e-5 * e)).value()) / 2e-5;
      }
      worst_fd = std::max(worst_fd, xt::amax(xt::abs(col - flat(fd)))() / scale);
    }
    for (std::size_t i = 0; i < m; ++i) {
      Tensor<double> row = xt::view(J, i);
      Tensor<double> u = unit_vector({2, 3}, i);
      worst_row = std::max(worst_row, xt::amax(xt::abs(row - vjp(f, x, u)))() / scale);
    }
    CHECK(scale > 1e-2);
    CHECK(worst_col <= 1e-13);  // the same forward sweep, one direction at a time
    CHECK(worst_row <= 1e-12);  // reverse mode: different arithmetic, rounding only
    CHECK(worst_fd <= 1e-6);
  }
}
