// Shared test helpers: random tensors and the three derivative checks
// (finite differences, forward vs reverse dot-product test, batched tangents).
//
// Finite differences are compared two ways:
//   normwise    max_i |a_i − b_i| / max_i |b_i| ≤ 1e-6 (max_relative_error);
//   per entry   |a_i − b_i| ≤ fd_atol + fd_rtol·|b_i| for EVERY i, so that an
//               error confined to small entries is not hidden by the largest.
// The step of the central difference (f(x + h v) − f(x − h v)) / 2h balances
//   truncation  h²/6 · |f‴| (the first neglected Taylor term), and
//   rounding    ≈ eps·|f|/h per entry (eps = 2.2e-16; |f| = O(1) here;
//               the sums ⟨u, f⟩ are accumulated in long double, so their
//               own rounding does not add to it).
// With h = 1e-5 both are ≈ 1e-11 to 1e-10 for the O(1) data of the tests
// (f‴ up to ≈ 250: log near 0.2, pow −1 near 0.5), where h = 1e-6 would make
// rounding 10× larger and h = 1e-4 truncation 100× larger. Per entry the
// tolerance is fd_atol = fd_rtol = 1e-9; the worst entry measured over
// test_primitives.cpp uses 0.27 of it (log near 0.2, truncation; the conv
// adjoints, rounding, 0.23). Define FLUXION_FD_REPORT there to print them.
#pragma once

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <xtensor/xview.hpp>

#include "autodiff/autodiff.hpp"

namespace fluxion::testing {

using MultiFn = std::function<Var<double>(const std::vector<Var<double>>&)>;

/// Uniform values in [lo, hi), deterministic for a seed.
template <class T = double>
Tensor<T> random_tensor(const Shape& shape, std::uint64_t seed, double lo = -1.0, double hi = 1.0) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(lo, hi);
  Tensor<T> t(shape);
  for (auto& e : t) e = static_cast<T>(u(rng));
  return t;
}

/// A shuffled ladder of distinct magnitudes 0.05, 0.06, … with random signs:
/// no entry within 0.01 of a kink (relu, step, |x|) or of another entry (no
/// near-ties in max-pool), ≫ every finite-difference step used here.
inline Tensor<double> distinct_values(const Shape& s, std::uint64_t seed) {
  Tensor<double> t = random_tensor(s, seed);
  std::vector<std::size_t> order(t.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::mt19937_64 rng(seed);
  std::shuffle(order.begin(), order.end(), rng);
  for (std::size_t i = 0; i < t.size(); ++i)
    t.data()[order[i]] = (t.data()[order[i]] < 0 ? -1.0 : 1.0) * (0.05 + 0.01 * double(i));
  return t;
}

/// The message of the ShapeError thrown by `make`, or "" if none was thrown.
template <class F>
std::string shape_error_message(F make) {
  try {
    make();
  } catch (const ShapeError& e) {
    return e.what();
  }
  return "";
}

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// ⟨a, b⟩, accumulated in long double (its rounding stays far below the
/// finite-difference noise it is used in).
inline double dot(const Tensor<double>& a, const Tensor<double>& b) {
  long double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += static_cast<long double>(a.data()[i]) * b.data()[i];
  return static_cast<double>(s);
}

/// The central-difference step and per-entry tolerances argued above.
inline constexpr double fd_step = 1e-5;
inline constexpr double fd_atol = 1e-9;
inline constexpr double fd_rtol = 1e-9;

/// max_i |a_i − b_i| / (atol + rtol·|b_i|): ≤ 1 means every entry passes.
/// +∞ for a NaN anywhere or different shapes (never passes).
inline double worst_entry_ratio(const Tensor<double>& a, const Tensor<double>& b, double atol = fd_atol,
                                double rtol = fd_rtol) {
  if (shape_of(a) != shape_of(b)) return std::numeric_limits<double>::infinity();
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double r = std::abs(a.data()[i] - b.data()[i]) / (atol + rtol * std::abs(b.data()[i]));
    if (!(r <= worst)) worst = std::isnan(r) ? std::numeric_limits<double>::infinity() : r;
  }
  return worst;
}

inline Tensor<double> eval(const MultiFn& f, const std::vector<Tensor<double>>& xs) {
  NoGradGuard no_graph;
  std::vector<Var<double>> vs;
  for (const auto& x : xs) vs.push_back(Var<double>(x));
  return f(vs).value();
}

struct DerivativeErrors {
  double jvp_vs_fd = 0;   // relative error of J v (all inputs perturbed at once)
  double vjp_vs_fd = 0;   // relative error of Jᵀu per input vs central differences
  double jvp_entrywise = 0;  // worst_entry_ratio of J v against the differences (≤ 1 passes)
  double vjp_entrywise = 0;  // the same for every Jᵀu entry
  double dot_test = 0;    // |⟨u, J v⟩ − Σ_i ⟨J_iᵀu, v_i⟩| / scale
  double batched = 0;     // k = 3 batched tangents vs one-at-a-time
};

/// Checks a multi-input op three ways at the given inputs.
inline DerivativeErrors check_op(const MultiFn& f, const std::vector<Tensor<double>>& xs, std::uint64_t seed,
                                 double h = fd_step) {
  DerivativeErrors e;
  const std::size_t n = xs.size();
  std::vector<Tensor<double>> vs;
  for (std::size_t i = 0; i < n; ++i) vs.push_back(random_tensor(shape_of(xs[i]), seed + 17 * i + 1));
  Tensor<double> y0 = eval(f, xs);
  Tensor<double> u = random_tensor(shape_of(y0), seed + 999);

  // Forward mode, all inputs carrying a tangent: J v = Σ_i J_i v_i.
  auto forward = [&](const std::vector<Tensor<double>>& dirs) {
    NoGradGuard no_graph;
    std::vector<Var<double>> duals;
    for (std::size_t i = 0; i < n; ++i) duals.push_back(make_dual(Var<double>(xs[i]), Var<double>(dirs[i])));
    Var<double> y = f(duals);
    return y.has_tangent() ? y.tangent().value() : filled<double>(Shape{dirs[0].shape()[0]}, 0.0);
  };
  std::vector<Tensor<double>> one;
  for (auto& v : vs) {
    Tensor<double> t = v;
    Shape s = shape_of(v);
    s.insert(s.begin(), 1);
    t.reshape(s);
    one.push_back(t);
  }
  Tensor<double> jv = forward(one);
  jv.reshape(shape_of(y0));

  // Finite differences along v: (f(x + h v) − f(x − h v)) / 2h
  std::vector<Tensor<double>> xp = xs, xm = xs;
  for (std::size_t i = 0; i < n; ++i) {
    xp[i] = xs[i] + h * vs[i];
    xm[i] = xs[i] - h * vs[i];
  }
  Tensor<double> fd = (eval(f, xp) - eval(f, xm)) / (2 * h);
  e.jvp_vs_fd = max_relative_error(jv, fd, 1e-8);
  e.jvp_entrywise = worst_entry_ratio(jv, fd);

  // Reverse mode: Jᵀu for every input at once.
  std::vector<Var<double>> leaves;
  for (const auto& x : xs) leaves.push_back(Var<double>(x, true));
  Var<double> y = f(leaves);
  std::vector<Var<double>> grads = grad<double>({y}, leaves, {Var<double>(u)});
  double reverse_dot = 0;
  for (std::size_t i = 0; i < n; ++i) {
    reverse_dot += dot(grads[i].value(), vs[i]);
    // central differences of ⟨u, f⟩ with respect to input i
    Tensor<double> num = numerical_grad(
        [&](const Tensor<double>& z) {
          std::vector<Tensor<double>> zs = xs;
          zs[i] = z;
          return dot(u, eval(f, zs));
        },
        xs[i], h);
    e.vjp_vs_fd = std::max(e.vjp_vs_fd, max_relative_error(grads[i].value(), num, 1e-8));
    e.vjp_entrywise = std::max(e.vjp_entrywise, worst_entry_ratio(grads[i].value(), num));
  }
  double forward_dot = dot(u, jv);
  e.dot_test = std::abs(forward_dot - reverse_dot) / std::max({std::abs(forward_dot), std::abs(reverse_dot), 1e-300});

  // Batched tangents: k = 3 directions in one sweep equal three single sweeps.
  std::vector<Tensor<double>> three;
  for (std::size_t i = 0; i < n; ++i) {
    Shape s = shape_of(xs[i]);
    s.insert(s.begin(), 3);
    three.push_back(random_tensor(s, seed + 31 * i + 7));
  }
  Tensor<double> batched = forward(three);
  for (std::size_t k = 0; k < 3; ++k) {
    std::vector<Tensor<double>> single;
    for (std::size_t i = 0; i < n; ++i) {
      Tensor<double> t = xt::view(three[i], xt::range(k, k + 1));
      single.push_back(t);
    }
    Tensor<double> s = forward(single);
    Tensor<double> b = xt::view(batched, xt::range(k, k + 1));
    e.batched = std::max(e.batched, max_relative_error(b, s, 1e-12));
  }
  return e;
}

/// The tolerances for double precision: normwise 1e-6 (as before) and every
/// entry within fd_atol + fd_rtol·|reference|.
inline void require_exact_derivatives(const DerivativeErrors& e) {
  CHECK(e.jvp_vs_fd <= 1e-6);
  CHECK(e.vjp_vs_fd <= 1e-6);
  CHECK(e.jvp_entrywise <= 1.0);
  CHECK(e.vjp_entrywise <= 1.0);
  CHECK(e.dot_test <= 1e-12);
  CHECK(e.batched <= 1e-13);
}

}  // namespace fluxion::testing
