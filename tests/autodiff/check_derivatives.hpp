// Shared test helpers: random tensors and the three derivative checks
// (finite differences, forward vs reverse dot-product test, batched tangents).
#pragma once

#include <cmath>
#include <functional>
#include <random>
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

inline double dot(const Tensor<double>& a, const Tensor<double>& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += a.data()[i] * b.data()[i];
  return s;
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
  double dot_test = 0;    // |⟨u, J v⟩ − Σ_i ⟨J_iᵀu, v_i⟩| / scale
  double batched = 0;     // k = 3 batched tangents vs one-at-a-time
};

/// Checks a multi-input op three ways at the given inputs.
inline DerivativeErrors check_op(const MultiFn& f, const std::vector<Tensor<double>>& xs, std::uint64_t seed,
                                 double h = 1e-6) {
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

/// The tolerances for double precision.
inline void require_exact_derivatives(const DerivativeErrors& e) {
  CHECK(e.jvp_vs_fd <= 1e-6);
  CHECK(e.vjp_vs_fd <= 1e-6);
  CHECK(e.dot_test <= 1e-12);
  CHECK(e.batched <= 1e-13);
}

}  // namespace fluxion::testing
