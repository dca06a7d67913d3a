// Quadrature rules on [0, 1]: nodes t_i and weights w_i with
//     ∫₀¹ g(t) dt ≈ Σ_i w_i g(t_i)          (or ∫₀¹ (−ln t) g(t) dt for log_weighted).
//
// Path attributions integrate a gradient along a path t ∈ [0, 1]; the rule
// chosen here decides how many gradient evaluations buy how much accuracy:
//
//   rule               exact for degree   error on smooth g
//   riemann_left/right 0                  O(1/n)
//   riemann_midpoint   1                  O(1/n²)
//   trapezoid          1                  O(1/n²)   (n points incl. both ends)
//   gauss_legendre     2n − 1             exponential
//   log_weighted       2n − 1 (weight −ln t)
//
// Every rule's weights sum to 1 (up to one rounding per weight), so a
// constant integrand is integrated exactly — a trapezoid whose weights sum
// to (n−1)/n would silently break IG's completeness. Two reference-compatible
// rules exist only to reproduce other libraries' numbers (never a default):
//   captum_trapezoid    Captum's riemann_trapezoid: weights 1/n, ends 1/(2n),
//                       summing to (n−1)/n, so it is trapezoid × (n−1)/n;
//   inclusive_linspace  PAIR saliency's and path_explain's IG: linspace(0, 1, n)
//                       with equal weights 1/n (both ends at full weight), so
//                       it is ((n−1)/n)·trapezoid + (g(0) + g(1))/(2n).
//
// Integrated Hessians reduction (see shared/papers/integrated-hessians.md):
// for α, β independent U(0,1) the product t = αβ has density −ln t on (0,1), so
//     ∫₀¹∫₀¹ g(αβ) dα dβ      = ∫₀¹ (−ln t) g(t) dt,
//     ∫₀¹∫₀¹ αβ g(αβ) dα dβ   = ∫₀¹ t (−ln t) g(t) dt.
// Hence IH needs gradients/Hessians at the n nodes of log_weighted(n) on a
// single path (multiply the integrand by t yourself for the second form),
// not at the k² points of the paper's grid; ih_paper_grid(k) reproduces that
// grid for comparison with path_explain (it is biased at O(1/k)).
#pragma once

#include <string>
#include <vector>

namespace fluxion {

/// Nodes in [0, 1] and their weights; `name` says which rule made them.
struct Quadrature {
  std::vector<double> nodes, weights;
  std::string name;
};

/// Largest number of nodes any rule accepts (larger n throws ArgumentError).
/// The Gauss rules cost O(n²): ~0.1 s (Legendre) and ~0.3 s (log) at n = 2000.
inline constexpr int kMaxQuadratureNodes = 100000;

/// t_i = i/n, w_i = 1/n, i = 0..n−1.
Quadrature riemann_left(int n);
/// t_i = (i+1)/n, w_i = 1/n, i = 0..n−1.
Quadrature riemann_right(int n);
/// t_i = (i+½)/n, w_i = 1/n, i = 0..n−1.
Quadrature riemann_midpoint(int n);
/// n ≥ 2 points t_i = i·h, h = 1/(n−1); weights h/2, h, …, h, h/2.
Quadrature trapezoid(int n);
/// Captum riemann_trapezoid (captum/attr/_utils/approximation_methods.py):
/// n ≥ 2 points t_i = i/(n−1), weights 1/(2n), 1/n, …, 1/n, 1/(2n) (sum (n−1)/n).
Quadrature captum_trapezoid(int n);
/// PAIR saliency IntegratedGradients.GetMask and path_explain
/// attributions(use_expectation=False): n ≥ 2 points t_i = i/(n−1), w_i = 1/n.
Quadrature inclusive_linspace(int n);
/// Gauss–Legendre mapped to [0,1]: t_i = (1 + x_i)/2, w_i = 1/((1 − x_i²) P_n'(x_i)²)
/// where x_i are the roots of the Legendre polynomial P_n (Newton, long double).
/// Nodes ascending; exact for polynomials of degree ≤ 2n − 1.
Quadrature gauss_legendre(int n);
/// Gauss rule for ∫₀¹ (−ln t) g(t) dt: exact for polynomials g of degree ≤ 2n − 1
/// (moments ∫₀¹ (−ln t) tᵏ dt = 1/(k+1)²); weights sum to 1 = ∫₀¹ −ln t dt.
/// Nodes ascending. Recurrence coefficients by the modified Chebyshev algorithm
/// with shifted-Legendre modified moments, then Golub–Welsch.
Quadrature log_weighted(int n);
/// path_explain's grid for ∫∫ g(αβ) dα dβ: α, β each linspace(0, 1, k) with both
/// endpoints, all k² products t = αβ as nodes (unsorted), weights 1/k². k ≥ 2.
/// Biased: exact for g of degree ≤ 1 only, error O(1/k) on smooth g.
Quadrature ih_paper_grid(int k);
/// path_explain's TF grid for ∫∫ g(αβ) dα dβ (PathExplainerTF.interactions with
/// use_expectation=False, num_samples = n): k = ⌈√n⌉, α, β each linspace(0, 1, k),
/// the k² products flattened row-major (index a·k + b ↦ α_a·α_b) and n of them
/// kept at indices round(linspace(0, k² − 1, n)) (round half to even, as
/// numpy), weights 1/n. For a square n it is ih_paper_grid(√n). n ≥ 2.
Quadrature path_explain_tf_grid(int n);
/// Rule by name: "riemann_left" | "riemann_right" | "riemann_midpoint" |
/// "trapezoid" | "gauss_legendre" | "log_weighted" | "captum_trapezoid" |
/// "inclusive_linspace". Throws ArgumentError for an
/// unknown name or a bad n (n < 1, n < 2 for the trapezoids and inclusive_linspace, n > kMaxQuadratureNodes).
/// Each (name, n) is built once and then served from a cache (thread-safe).
Quadrature make_quadrature(const std::string& name, int n);

}  // namespace fluxion
