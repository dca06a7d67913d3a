// The attribution axioms as numbers: each function returns the gap (0 when
// the axiom holds exactly), so tests, the CLI and experiments share one check.
//
//   completeness              |Σ_i A_i − (f(x) − f(reference))|, the reference being the
//                             method's own (baseline, mean baseline, counterfactual)
//                             — Sundararajan et al. 2017
//   interaction completeness  |Σ_ij Γ_ij − (f(x) − f(x'))|        — Janizek et al. 2021
//   row completeness          max_i |Σ_j Γ_ij − IG_i|              — Janizek et al. 2021
//   interaction symmetry      max_ij |Γ_ij − Γ_ji|
//   self-completeness         x, x' differing in feature i only: max(|A_i − (f(x) − f(x'))|, max_{j≠i} |A_j|)
//   dummy feature             max |A_i| over features the model ignores (for interactions:
//                             their rows and columns)             — "sensitivity (b)"
//   implementation invariance max |A(f₁) − A(f₂)| for two functionally identical networks
//   linearity                 max |A(a f + b g) − (a A(f) + b A(g))|
//
// Gaps are absolute and the maximum over the examples of the batch; divide by
// the scale of your outputs for a relative figure.
#pragma once

#include <functional>

#include "attribution/explained_output.hpp"

namespace fluxion {

/// Any attribution method: batch x[N, ...] and N target classes in, a tensor
/// with leading axis N out ([N, ...] for attributions, [N, d, d] for interactions).
template <class T>
using AttributionMethod =
    std::function<Tensor<T>(const ExplainedOutput<T>&, const Tensor<T>&, const std::vector<std::size_t>&)>;

/// max_n |Σ_i A_ni − output_changes[n]|.
template <class T>
double completeness_gap(const Tensor<T>& attributions, const std::vector<double>& output_changes);

/// max_n |Σ_ij Γ_nij − output_changes[n]| for Γ [N, d, d].
template <class T>
double interaction_completeness_gap(const Tensor<T>& interactions, const std::vector<double>& output_changes);

/// max_{n,i} |Σ_j Γ_nij − A_ni| for Γ [N, d, d] and attributions A [N, ...] (d entries each).
template <class T>
double row_completeness_gap(const Tensor<T>& interactions, const Tensor<T>& attributions);

/// max_{n,i,j} |Γ_nij − Γ_nji|.
template <class T>
double interaction_symmetry_gap(const Tensor<T>& interactions);

/// Runs `method` (whose reference point is `baseline`) on the input x̃ that
/// equals `baseline` except feature i = x_i; returns
/// max(|A_i − (f(x̃) − f(baseline))|, max_{j≠i} |A_j|). x, baseline: one example each.
template <class T>
double self_completeness_gap(const AttributionMethod<T>& method, const ExplainedOutput<T>& out, const Tensor<T>& x,
                             const Tensor<T>& baseline, std::size_t target, std::size_t feature);

/// max |A_ni| over n and the flat feature indices in `ignored` (which the model
/// must not use); for interactions [N, d, d], over their rows and columns.
template <class T>
double dummy_feature_gap(const AttributionMethod<T>& method, const ExplainedOutput<T>& out, const Tensor<T>& x,
                         const std::vector<std::size_t>& targets, const std::vector<std::size_t>& ignored);

/// max |A(first) − A(second)| for two explained outputs of functionally identical models.
template <class T>
double implementation_invariance_gap(const AttributionMethod<T>& method, const ExplainedOutput<T>& first,
                                     const ExplainedOutput<T>& second, const Tensor<T>& x,
                                     const std::vector<std::size_t>& targets);

/// max |A(a f + b g) − (a A(f) + b A(g))| where a f + b g combines the logits
/// of f and g. Needs OutputKind::logit (softmax is not linear) and explicit
/// targets (the predicted class of the mix may differ) — ArgumentError otherwise.
template <class T>
double linearity_gap(const AttributionMethod<T>& method, const ExplainedOutput<T>& f, const ExplainedOutput<T>& g,
                     double a, double b, const Tensor<T>& x, const std::vector<std::size_t>& targets);

}  // namespace fluxion
