// Integrated Hessians (Janizek, Sturmfels & Lee, "Explaining Explanations:
// Axiomatic Feature Interactions for Deep Networks", JMLR 2021) — IG applied
// to IG. With Δ = x − x' and the path p(t) = x' + tΔ:
//
//     Γ_ij = Δ_i Δ_j ∫₀¹∫₀¹ αβ ∂²_ij f(x' + αβΔ) dα dβ  +  δ_ij Δ_i ∫₀¹∫₀¹ ∂_i f(x' + αβΔ) dα dβ
//
// The integrands depend on α, β only through t = αβ, whose density on (0,1)
// is −ln t, so (shared/papers/integrated-hessians.md)
//
//     Γ = D ( ∫₀¹ t (−ln t) H(p(t)) dt ) D + diag( Δ ⊙ ∫₀¹ (−ln t) ∇f(p(t)) dt ),   D = diag(Δ)
//       ≈ Σ_k w_k [ t_k D H(p_k) D + diag(Δ ⊙ ∇f(p_k)) ]
//
// with any rule (t_k, w_k) for ∫∫ g(αβ) dα dβ = ∫ (−ln t) g(t) dt:
//   "log_weighted"  Gauss rule for the weight −ln t (accurate: exact for
//                   polynomial g of degree 2n − 1), n nodes on one path;
//   "paper_grid"    path_explain's equal-weight k×k grid of products αβ
//                   (endpoints included, biased at O(1/k)), k² nodes;
//   "path_explain_tf_grid"  matches path_explain PathExplainerTF.interactions
//                   (use_expectation=False, num_samples = n): n of the
//                   ⌈√n⌉² grid products (quadrature.hpp), n nodes.
//
// Three outputs, by cost:
//   full matrix   Γ [d, d]: a full Hessian per path point, from batched
//                 identity tangents (out.batch_size points × directions_per_sweep
//                 directions per forward-over-reverse sweep — GEMMs, not d sweeps);
//   one row i     Γ_i,: (path_explain's interaction_index): one HVP per point, tangent e_i;
//   row sums      Σ_j Γ_ij = Δ_i Σ_k w_k [t_k (H(p_k) Δ)_i + ∂_i f(p_k)]: one HVP per
//                 point, tangent Δ. Integration by parts shows these equal IG_i
//                 (row completeness), and Σ_i of them equals f(x) − f(x').
//
// Smoothing: ReLU networks have zero Hessian almost everywhere. To explain a
// ReLU network, pass the smoothed model (every ReLU replaced by softplus_β,
// e.g. nn's smooth(model, β) with β = 10) as out.model — this file never
// changes the model it is given.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "attribution/interaction_core.hpp"
#include "attribution/path_integral.hpp"

namespace fluxion {

template <class T>
struct IntegratedHessiansOptions {
  std::optional<Tensor<T>> baseline;      // none = zeros; else one example or [N, ...]
  std::string rule = "log_weighted";      // "log_weighted" | "paper_grid" | "path_explain_tf_grid"
  int points = 32;                        // log_weighted, path_explain_tf_grid: nodes; paper_grid: k per axis (k² nodes)
  std::size_t directions_per_sweep = 64;  // identity tangents per sweep (full matrix); 0 = all d
};

/// The ∫∫ g(αβ) dα dβ rule the options name (ArgumentError for a bad name or count).
Quadrature interaction_rule(const std::string& name, int points);

/// Γ ≈ Σ_k w_k [t_k D H(x' + t_kΔ) D + diag(Δ ⊙ ∇f(x' + t_kΔ))],  Δ = x − x', D = diag(Δ), (t_k, w_k) for ∫(−ln t)g.
/// Full Γ for every example of x[N, ...]; targets empty = predicted classes.
template <class T>
InteractionAttributions<T> integrated_hessians(const ExplainedOutput<T>& out, const Tensor<T>& x,
                                               const std::vector<std::size_t>& targets = {},
                                               const IntegratedHessiansOptions<T>& options = {});

/// Γ_ij ≈ Σ_k w_k [t_k Δ_i Δ_j ∂²_ij f(p_k) + δ_ij Δ_i ∂_i f(p_k)] for j = 1 … d,  p_k = x' + t_kΔ.
/// Row Γ_{i,:} (i = interaction_index, flat feature index) for every example;
/// result has the shape of x.
template <class T>
Tensor<T> integrated_hessians_row(const ExplainedOutput<T>& out, const Tensor<T>& x, std::size_t interaction_index,
                                  const std::vector<std::size_t>& targets = {},
                                  const IntegratedHessiansOptions<T>& options = {});

/// Σ_j Γ_ij ≈ Δ_i Σ_k w_k [t_k (H(p_k) Δ)_i + ∂_i f(p_k)]  (= IG_i: row completeness).
/// Row sums Σ_j Γ_ij (shape of x) with the interaction-completeness gaps.
template <class T>
PathAttributions<T> integrated_hessians_row_sums(const ExplainedOutput<T>& out, const Tensor<T>& x,
                                                 const std::vector<std::size_t>& targets = {},
                                                 const IntegratedHessiansOptions<T>& options = {});

}  // namespace fluxion
