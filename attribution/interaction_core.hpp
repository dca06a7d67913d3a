// The engine of Integrated Hessians and Expected Hessians.
//
// Both methods sum terms of one form (integrated_hessians.hpp derives it):
//     Γ += w [ t D H(p) D + diag(Δ ⊙ ∇f(p)) ],   Δ = x − x',  p = x' + tΔ,  D = diag(Δ),
// IH with the nodes (t_k, w_k) of a rule for ∫(−ln t) g(t) dt on one
// baseline, EH with Monte Carlo draws (t_s = α_s β_s, w = 1/n) over
// reference baselines. A method only says which terms to sum (next_term);
// this engine generates the points in chunks (chunked_evaluation.hpp),
// evaluates ∇f and the Hessian products of each chunk in forward-over-reverse
// sweeps, and adds the terms up in one of three forms:
//   full      Γ [N, d, d]: H e_a for every direction a (directions_per_sweep at a time);
//   row       Γ_{i,:}: one HVP per point, tangent e_i;
//   row_sums  Σ_j Γ_ij = w Δ_i (t (HΔ)_i + ∂_i f): one HVP per point, tangent Δ.
// Completeness (Σ_ij Γ_ij = f(x) − f(x')) is measured with the path core's
// completeness_gaps (path_integral.hpp).
#pragma once
#include <functional>
#include <vector>

#include "attribution/explained_output.hpp"

namespace fluxion {

/// Full matrices and their completeness: interactions [N, d, d] (d = size of one
/// example, features in row-major order), output_changes[n] = f(x_n) − f(x'_n)
/// (or − E f(x') for Expected Hessians), completeness_gaps[n] = |Σ_ij Γ_ij − change|.
template <class T>
struct InteractionAttributions {
  Tensor<T> interactions;
  std::vector<double> output_changes;
  std::vector<double> completeness_gaps;
};

/// One term w·[t D H(p) D + diag(Δ ⊙ ∇f(p))] of example `example`'s sum, with
/// Δ = x_example − references[reference] and p = references[reference] + tΔ.
///
/// With an inner reference x'' = references[inner_reference] (path_explain's
/// torch Expected Hessians, which draws a fresh baseline for the inner
/// Expected Gradients), the term is the derivative of the inner EG at
/// p = x' + tΔ, times R = Δ:
///     Γ_ab += w [ s L_a R_b ∂²_ab f(q) + δ_ab R_a ∂_a f(q) ],  q = x'' + s (p − x''),  L = p − x'',  s = inner_t,
/// whose samples are not symmetric in a, b.
struct InteractionTerm {
  static constexpr std::size_t none = static_cast<std::size_t>(-1);
  std::size_t example = 0, reference = 0;
  double t = 0, weight = 0;
  std::size_t inner_reference = none;
  double inner_t = 0;
};

enum class InteractionPart { full, row, row_sums };

/// Σ of `terms` terms drawn in order from next_term(), evaluated out.batch_size
/// points per sweep. part = full → [N, d, d]; row (row_index) or row_sums → shape of x.
template <class T>
Tensor<T> interaction_sum(const ExplainedOutput<T>& out, const Tensor<T>& x, const std::vector<std::size_t>& classes,
                          const Tensor<T>& references, std::size_t terms,
                          const std::function<InteractionTerm()>& next_term, InteractionPart part,
                          std::size_t row_index = 0, std::size_t directions_per_sweep = 64);

}  // namespace fluxion
