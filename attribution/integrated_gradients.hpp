// Integrated Gradients (Sundararajan, Taly & Yan, "Axiomatic Attribution for
// Deep Networks", ICML 2017):
//
//     IG_i(x) = (x_i − x'_i) ∫₀¹ ∂_i f(x' + t (x − x')) dt
//             ≈ (x_i − x'_i) Σ_k w_k ∂_i f(x' + t_k (x − x'))
//
// for a baseline x' and any quadrature rule (t_k, w_k) on [0, 1]. Completeness
// Σ_i IG_i = f(x) − f(x') holds for the exact integral; the per-example gap
// between the two sides is returned as the honest measure of quadrature error.
//
// Baselines: black (all zeros), blurred (the input blurred by a Gaussian of
// `blur_sigma` pixels over its last two axes — images only), or a user tensor
// (one example shared by all, or one per example).
#pragma once

#include <string>

#include "attribution/path_integral.hpp"

namespace fluxion {

enum class BaselineKind { black, blurred, user };

/// "black" | "zeros" | "blur" | "blurred" | "user" (ArgumentError otherwise).
BaselineKind parse_baseline_kind(const std::string& name);

template <class T>
struct IntegratedGradientsOptions {
  BaselineKind baseline = BaselineKind::black;
  double blur_sigma = 5.0;         // pixels, for BaselineKind::blurred
  Tensor<T> user_baseline;         // for BaselineKind::user: one example or [N, ...]
  std::string rule = "gauss_legendre";  // any name make_quadrature accepts
  int steps = 50;                  // quadrature nodes (Captum's default is 50 Gauss–Legendre)
};

/// The baseline(s) the options describe for inputs x[N, ...]: one example
/// (black) or [N, ...] (blurred, or a per-example user baseline).
template <class T>
Tensor<T> make_baseline(const Tensor<T>& x, const IntegratedGradientsOptions<T>& options);

/// IG_i = (x_i − x'_i) Σ_k w_k ∂_i f(x' + t_k (x − x'))  ≈ (x_i − x'_i) ∫₀¹ ∂_i f(x' + t(x − x')) dt.
/// IG for every example of x[N, ...]; targets: N classes or empty (= predicted).
/// attributions has the shape of x; completeness_gaps[n] = |Σ IG_n − (f(x_n) − f(x'_n))|.
template <class T>
PathAttributions<T> integrated_gradients(const ExplainedOutput<T>& out, const Tensor<T>& x,
                                         const std::vector<std::size_t>& targets = {},
                                         const IntegratedGradientsOptions<T>& options = {});

}  // namespace fluxion
