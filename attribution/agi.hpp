// AGI — Adversarial Gradient Integration.
//
// Pan, Li & Zhu, "Explaining Deep Neural Network Models with Adversarial
// Gradient Integration", IJCAI 2021.
//
// No baseline: the path runs from x towards an adversarial example of each
// false class j. Walk by signed-gradient steps that raise the probability
// of class j, kept inside the input box [lo, hi]:
//     x_0 = x,   x_{k+1} = clip(x_k + ε · sign(∇ softmax_j(x_k)), lo, hi),
// stopping as soon as the model predicts j (or after max_iter steps), and
// integrate the gradient of the true class's output f along the walk:
//     A_j = − Σ_k ∇f(x_k) ⊙ (x_{k+1} − x_k).
// The attribution averages over the chosen false classes: A = mean_j A_j.
// The walk lowers f, so by the fundamental theorem of line integrals
//     Σ_i A_i ≈ f(x) − mean_j f(x_end_j),
// with a left-point error O(ε); that is the completeness gap reported.
// A feature whose gradient for class j is exactly zero never moves
// (sign(0) = 0), so a feature the model ignores gets exactly 0.
//
// Reference-compatible settings (never defaults), matching the authors' code
// (pd90506/AGI, AGI_main.py):
//   false_class_list     an explicit list of false classes, walked for every
//                        example; the explained class is skipped where it is
//                        in the list (AGI_main's selected_ids and `continue`);
//   AGIAggregate::sum_over_classes
//                        A = Σ_j A_j (the reference sums: its `/ topk` is
//                        commented out), J times the mean, complete against
//                        J f(x) − Σ_j f(x_end_j).
// The mean is the default because it keeps Σ A on the scale of one output
// change, whatever J is; the sample is the default because a fixed list of
// ids only makes sense for one data set's class order.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "attribution/path_integral.hpp"

namespace fluxion {

enum class AGIAggregate { mean, sum_over_classes };

struct AGIOptions {
  double epsilon = 0.05;           // ε, the L∞ size of one step
  int max_iter = 20;               // steps per walk at most (≥ 1)
  std::size_t false_classes = 20;  // walks per example; capped at C − 1 (all other classes)
  double lo = 0.0, hi = 1.0;       // the input box the walk stays in (lo < hi; ±inf = no clip)
  std::uint64_t seed = 0;          // which false classes, when fewer than C − 1 are used
  /// The false classes to walk, for every example (the explained class is
  /// skipped): replaces false_classes and the seeded sample. Empty: sample.
  std::vector<std::size_t> false_class_list = {};
  AGIAggregate aggregate = AGIAggregate::mean;
  /// The integrated output f: the paper integrates the softmax probability of
  /// the true class. std::nullopt: use out.kind. The walk always follows the
  /// probability of class j.
  std::optional<OutputKind> integrand = OutputKind::probability;
};

/// A = mean_j −Σ_k ∇f(x_k) ⊙ (x_{k+1} − x_k),  x_{k+1} = clip(x_k + ε·sign(∇softmax_j(x_k)), lo, hi).
/// AGI of every example of x[N, ...] for true classes `targets` (size N, or
/// empty for the predicted classes). All N·J walks advance together: each
/// step is one prediction, and two gradient calls batched over the walks
/// still running. Reference point: the walk ends (output_changes uses their
/// mean output).
template <class T>
PathAttributions<T> agi(const ExplainedOutput<T>& out, const Tensor<T>& x, const std::vector<std::size_t>& targets,
                        const AGIOptions& options = {});

}  // namespace fluxion
