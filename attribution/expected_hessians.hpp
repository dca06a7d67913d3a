// Expected Hessians (Janizek, Sturmfels & Lee, "Explaining Explanations:
// Axiomatic Feature Interactions for Deep Networks", JMLR 2021, §4) —
// Integrated Hessians averaged over baselines from a reference data set D:
//
//     Γ_ij = E_{x'~D, α,β~U(0,1)} [ αβ Δ_i Δ_j ∂²_ij f(x' + αβΔ) + δ_ij Δ_i ∂_i f(x' + αβΔ) ],  Δ = x − x'
//          ≈ (1/n) Σ_s [ t_s D_s H(p_s) D_s + diag(Δ_s ⊙ ∇f(p_s)) ],   t_s = α_s β_s,  p_s = x'_s + t_s Δ_s
//
// One (x'_s, α_s, β_s) triple per Monte Carlo sample; the same x'_s serves the
// inner and the outer integral, as in the paper and path_explain's TF code.
//
// Reference-compatible setting (never the default): fresh_inner_baseline
// matches path_explain PathExplainerTorch.interactions(use_expectation=True),
// whose inner Expected Gradients call draws its own baseline x''_s:
//     Γ_ab = E[ Δ_b ∂/∂p_b { (p_a − x''_a) ∂_a f(x'' + β(p − x'')) } ],  p = x' + αΔ,
//          ≈ (1/n) Σ_s [ β_s L_s,a Δ_s,b ∂²_ab f(q_s) + δ_ab Δ_s,a ∂_a f(q_s) ],  L_s = p_s − x''_s.
// This changes the expectation of each entry, not only the noise: for
// quadratic f (constant H) the off-diagonal entries lose ½ H_ab Cov_D(x'_a, x'_b)
// and the diagonal gains ½ Σ_{c≠a} H_ac Cov_D(x'_a, x'_c), so the total is
// unchanged; each sample (hence the estimate) is no longer symmetric. torch's k outer × k inner draws
// (k = round(√n)) are here n independent (x', α, x'', β) draws: the same
// expectation.
// Completeness holds in expectation: Σ_ij Γ_ij ≈ f(x) − E_D f(x'), with a
// Monte Carlo gap falling like 1/√n.
//
// Sampling uses one seeded mt19937_64 in the order (example, sample), so
// results depend on the seed only. As for Integrated Hessians, explain a ReLU
// network by passing its softplus-smoothed version as out.model.
#pragma once

#include <cstdint>

#include "attribution/interaction_core.hpp"
#include "attribution/path_integral.hpp"

namespace fluxion {

struct ExpectedHessiansOptions {
  std::size_t samples = 200;              // Monte Carlo samples per example
  std::uint64_t seed = 0;
  std::size_t directions_per_sweep = 64;  // identity tangents per sweep (full matrix); 0 = all d
  bool fresh_inner_baseline = false;      // path_explain torch: the inner integral draws its own x''
};

/// Γ ≈ (1/n) Σ_s [t_s D_s H(p_s) D_s + diag(Δ_s ⊙ ∇f(p_s))],  t_s = α_s β_s, p_s = x'_s + t_s Δ_s, D_s = diag(x − x'_s).
/// Full Γ [N, d, d]; output_changes[n] = f(x_n) − E_D f(x'), gaps |Σ Γ − change|.
template <class T>
InteractionAttributions<T> expected_hessians(const ExplainedOutput<T>& out, const Tensor<T>& x,
                                             const Tensor<T>& references, const std::vector<std::size_t>& targets = {},
                                             const ExpectedHessiansOptions& options = {});

/// Γ_ij ≈ (1/n) Σ_s [t_s Δ_s,i Δ_s,j ∂²_ij f(p_s) + δ_ij Δ_s,i ∂_i f(p_s)] for j = 1 … d (one HVP per sample).
/// Row Γ_{i,:} (shape of x), i = interaction_index.
template <class T>
Tensor<T> expected_hessians_row(const ExplainedOutput<T>& out, const Tensor<T>& x, const Tensor<T>& references,
                                std::size_t interaction_index, const std::vector<std::size_t>& targets = {},
                                const ExpectedHessiansOptions& options = {});

/// Σ_j Γ_ij ≈ (1/n) Σ_s Δ_s,i [t_s (H(p_s) Δ_s)_i + ∂_i f(p_s)].
/// Row sums Σ_j Γ_ij (shape of x; one HVP per sample) with completeness gaps.
template <class T>
PathAttributions<T> expected_hessians_row_sums(const ExplainedOutput<T>& out, const Tensor<T>& x,
                                               const Tensor<T>& references, const std::vector<std::size_t>& targets = {},
                                               const ExpectedHessiansOptions& options = {});

}  // namespace fluxion
