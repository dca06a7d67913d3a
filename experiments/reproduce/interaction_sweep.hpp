// The claims of the Integrated Hessians paper (Janizek et al. 2021, JMLR) as
// interaction_recovery.cpp judges them, and their robustness sweep (issue 20,
// item 3).
//
// Per scope (pooled, or one interaction kind) and ground truth there are
// three claims on per-sample top-1 hits h ∈ {0, 1}:
//   IH better than the input Hessian:      d_k = h_IH,k − h_H,k,    interval above 0;
//   IH better than Hessian × input:        d_k = h_IH,k − h_HxI,k,  interval above 0;
//   IH on par with Shapley interactions:   d_k = h_IH,k − h_SI,k,   interval inside ±0.05
// (paired Student-t intervals, verdict.hpp). A sweep point judges the same
// claim on the hits of another setting — the SoftPlus β of the explained model
// (every method recomputed) or IH's number of nodes (only IH recomputed).
#pragma once
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "autodiff/tensor.hpp"
#include "experiments/reproduce/verdict.hpp"

namespace fluxion::experiments {

/// Per-sample 0/1 hits by method name ("integrated_hessians",
/// "input_hessian", "hessian_x_input", "shapley_interaction"), aligned across
/// methods (entry k of every list is the same test sample).
using MethodHits = std::map<std::string, std::vector<double>>;

/// The margin of the on-par claim: 5 points of top-1 recovery.
constexpr double kShapleyParMargin = 0.05;

/// What a sweep setting recomputes: nothing (the main setting on the sweep's
/// samples), only Integrated Hessians (the other methods' hits are the main
/// setting's on the same samples), or every method (the explained model changes).
enum class Recomputed { nothing, integrated_hessians, every_method };

/// "nothing" | "integrated_hessians" | "every method"
std::string recomputed_name(Recomputed r);

/// One explanation setting of the sweep.
struct InteractionSetting {
  std::string label;   // e.g. "SoftPlus β = 3"
  double beta = 10;    // SoftPlus β of the explained (smoothed) model
  int ih_points = 32;  // nodes of IH's log-weighted rule
  Recomputed recomputed = Recomputed::every_method;
};

/// The three claims on `hits` (order: vs input Hessian, vs Hessian × input,
/// on par with Shapley interaction), with measures naming scope and truth.
/// ArgumentError when a method's hits are missing.
std::vector<Verdict> interaction_claims(const MethodHits& hits, const std::string& scope,
                                        const std::string& yardstick);

/// Adds to each of the three verdicts of one scope (as interaction_claims
/// returns them) the sweep point `setting` judged on that setting's hits.
/// ArgumentError unless there are exactly three verdicts and every method's
/// hits are present.
void add_interaction_sweep_points(std::vector<Verdict>& claims_of_scope, const std::string& setting,
                                  const MethodHits& hits);

/// The measure without its ", top-1 hits" phrase, e.g.
/// "IH − input Hessian (cos; truth: largest |term|)".
std::string short_measure(const Verdict& v);

/// The verdicts sorted by how they fare across their sweep (verdicts without
/// a sweep are left out), each entry a short_measure:
///   survive:        disagrees, and disagrees under every setting;
///   change:         disagrees, but not under some settings, listed as
///                   "<measure> (<setting>: <result>, …)";
///   only_elsewhere: does not disagree, but disagrees under some settings,
///                   "<measure> (here <result>; disagrees under <setting>, …)".
struct DisagreementRobustness {
  std::vector<std::string> survive, change, only_elsewhere;
};
DisagreementRobustness classify_disagreements(const std::vector<Verdict>& verdicts);

/// "**Disagreements across the sweep.** Survive every setting: A; B. Change
/// with the setting: C (…). Disagree only under another setting: none."
std::string disagreement_robustness_text(const DisagreementRobustness& r);

/// For each sweep setting (in order of first appearance), how many of the
/// verdicts have a different result under it than the verdict itself — or,
/// given a `reference` setting, than under that setting (the reference itself
/// is then left out; a verdict without the reference point counts against its
/// own result).
std::vector<std::pair<std::string, int>> changes_by_setting(const std::vector<Verdict>& verdicts,
                                                            const std::string& reference = "");

/// How far IH's Γ moves under another node count, relative to its size:
///     max_n  max_ij |a_nij − b_nij| / max_ij |b_nij|
/// for a [N', d, d] and b [N, d, d], N' ≤ N (a compared with the first N'
/// samples of b; a sample with b_n = 0 is skipped). ArgumentError for other
/// shapes.
double max_relative_change(const Tensor<double>& a, const Tensor<double>& b);

/// One row per verdict: measure, its verdict, then per sweep setting (the
/// first verdict's settings, in order) "<result> (<effect>)", a result that
/// differs from the verdict's in bold. ArgumentError when the verdicts'
/// sweeps name different settings.
Table sweep_grid(const std::vector<Verdict>& verdicts);

}  // namespace fluxion::experiments
