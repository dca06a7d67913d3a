// The path-integration core shared by every path method.
//
// A path method attributes
//     A_i = ∫₀¹ ∂_i f(γ(t)) γ_i'(t) dt
// along a path γ from a reference point γ(0) to the input γ(1). Completeness
// (the fundamental theorem of calculus for line integrals) says
//     Σ_i A_i = f(γ(1)) − f(γ(0)),
// and the difference between the two sides is the completeness gap, which
// measures the quadrature error of the path discretisation.
//
// What the core offers, and who uses it:
//   * completeness_gaps / with_completeness: the gap |Σ_i A_ni − (f(x_n) − f(ref_n))|,
//     computed here once for IG, Blur IG, Guided IG, AGI, IG2, Expected
//     Gradients, the interaction methods (IH, EH) and axioms::completeness_gap;
//   * mean_reference_outputs: E_D f(x') over a reference set (EG, EH);
//   * a straight line baseline → x with a quadrature rule (IG; IH is the same
//     path with Hessians, interaction_core.hpp):
//         A = (x − x') ⊙ Σ_k w_k ∇f(x' + t_k (x − x'));
//   * a polyline of points p_0 … p_S known in advance (Blur IG):
//         A = Σ_s ĝ_s ⊙ (p_{s+1} − p_s)
//     with the gradient at p_s (left), at the segment midpoint, or averaged
//     over both ends (trapezoid).
// Paths that are discovered step by step (Guided IG, AGI, IG2) are walks:
// walk_integral.hpp. Baselines (one example or [N, ...]) are baselines.hpp;
// the chunked evaluation of generated points is chunked_evaluation.hpp.
#pragma once
#include <vector>

#include "attribution/explained_output.hpp"
#include "attribution/quadrature.hpp"

namespace fluxion {

template <class T>
struct PathAttribution {
  Tensor<T> attribution;   // shape of one input
  double output_change;    // f(end) − f(start)
  double completeness_gap; // |Σ attribution − output_change|
  std::size_t gradient_evaluations = 0;
};

/// Attributions of a batch and their completeness against each example's reference point.
template <class T>
struct PathAttributions {
  Tensor<T> attributions;               // shape of x: [N, ...]
  std::vector<double> output_changes;   // f(x_n) − f(reference_n)
  std::vector<double> completeness_gaps;// |Σ_i A_ni − output_changes[n]|
  std::size_t gradient_evaluations = 0; // gradients the method evaluated
};

/// gap_n = |Σ_i values_n,i − changes_n| per example (summed in double):
/// values [N, ...] are attributions [N, d] or interactions [N, d, d].
template <class T>
std::vector<double> completeness_gaps(const Tensor<T>& values, const std::vector<double>& changes);

/// Δ_n = f(x_n) − reference_outputs[n] and gap_n = |Σ_i A_ni − Δ_n|: the
/// completeness of `attributions` [N, ...] for inputs x explained at `classes`.
template <class T>
PathAttributions<T> with_completeness(const ExplainedOutput<T>& out, const Tensor<T>& x,
                                      const std::vector<std::size_t>& classes, Tensor<T> attributions,
                                      const std::vector<double>& reference_outputs);

/// f_n(x_n) for every row, in double.
template <class T>
std::vector<double> output_values_in_double(const ExplainedOutput<T>& out, const Tensor<T>& x,
                                            const std::vector<std::size_t>& classes);

/// E_D f(x') = (1/R) Σ_r f(x'_r) over all rows of references[R, ...], for the
/// class of each example in `classes` (one value per example; one pass over
/// D per distinct class, out.batch_size rows at a time).
template <class T>
std::vector<double> mean_reference_outputs(const ExplainedOutput<T>& out, const Tensor<T>& references,
                                           const std::vector<std::size_t>& classes);

/// A_n = (x_n − x'_n) ⊙ Σ_k w_k ∇f(x'_n + t_k (x_n − x'_n)),  gap_n = |Σ_i A_ni − (f(x_n) − f(x'_n))|.
/// The batch version: one straight line baselines[n] → x[n] per example,
/// explained class targets[n] (size N, no default here — see resolve_targets).
/// All N·K path points are evaluated in chunks of out.batch_size, so a small
/// K still fills the batch. baselines has the shape of x, or of one example
/// (shared by all).
template <class T>
PathAttributions<T> integrate_straight_lines(const ExplainedOutput<T>& out, const Tensor<T>& x,
                                             const Tensor<T>& baselines, const std::vector<std::size_t>& targets,
                                             const Quadrature& rule);

/// A = (x − x') ⊙ Σ_k w_k ∇f(x' + t_k (x − x')) for one example.
/// Straight line from `baseline` to `x` (both one example, no batch axis),
/// explained class `target`, quadrature `rule`.
template <class T>
PathAttribution<T> integrate_straight_line(const ExplainedOutput<T>& out, const Tensor<T>& x,
                                           const Tensor<T>& baseline, std::size_t target,
                                           const Quadrature& rule);

enum class SegmentRule { left, midpoint, trapezoid };

/// A = Σ_s ĝ_s ⊙ (p_{s+1} − p_s), ĝ_s = ∇f(p_s) (left), ∇f((p_s + p_{s+1})/2) (midpoint) or the mean of both ends (trapezoid).
/// Polyline p_0 … p_S stacked as points[S+1, ...] (one example each).
template <class T>
PathAttribution<T> integrate_polyline(const ExplainedOutput<T>& out, const Tensor<T>& points,
                                      std::size_t target, SegmentRule rule = SegmentRule::trapezoid);

}  // namespace fluxion
