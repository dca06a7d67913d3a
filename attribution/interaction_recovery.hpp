// Does an interaction method find the planted interaction? (Janizek, Sturmfels
// & Lee, "Explaining Explanations: Axiomatic Feature Interactions for Deep
// Networks", JMLR 2021, the synthetic planted-pair experiments.)
//
// For one example with an interaction matrix Γ ∈ ℝ^{d×d} (Integrated or
// Expected Hessians, or any other), the strength of the pair {i, j} is the
// symmetrised magnitude
//
//     S_ij = |Γ_ij + Γ_ji| / 2 ,   i ≠ j      (the diagonal, self-interaction, is ignored)
//
// and the method's strongest pair is argmax_{i<j} S_ij (ties: the first in
// row-major order). Top-1 recovery over N examples is the fraction whose
// strongest pair equals the planted one (for a dataset with several planted
// pairs: the one with the largest |term| in that example,
// strongest_planted_pair in nn/data/synthetic.hpp), reported as mean ±
// standard error of the 0/1 hits.
//
// Rank correlation: with several planted pairs p = 1 … P and their true
// strengths |term_p(x)|, Spearman's ρ between S at the planted pairs and the
// true strengths says whether the method orders the interactions correctly.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

#include "attribution/statistics.hpp"
#include "autodiff/tensor.hpp"

namespace fluxion {

/// argmax over i < j of |Γ_ij + Γ_ji| / 2 for one row-major d×d matrix (d ≥ 2).
template <class T>
std::pair<int, int> strongest_interaction(const T* gamma, std::size_t d);

struct InteractionRecovery {
  std::vector<std::pair<int, int>> found;  // [N]: the strongest pair of each Γ, i < j
  std::vector<double> hits;                // [N]: 1 where found == planted, else 0
  MeanAndError top1;                       // mean ± s.e. of the hits
};

/// gammas: [N, d, d]; planted: N pairs (either order, i ≠ j, both < d).
template <class T>
InteractionRecovery top1_interaction_recovery(const Tensor<T>& gammas,
                                              const std::vector<std::pair<int, int>>& planted);

/// Spearman's ρ per example between S at the P ≥ 2 planted pairs and the
/// true strengths. gammas: [N, d, d]; pairs: P pairs shared by all examples;
/// true_strengths: [N, P] (e.g. |pair_terms| of the synthetic dataset).
/// An example whose values are all tied on either side gets NaN.
template <class T>
std::vector<double> planted_strength_rank_correlation(const Tensor<T>& gammas,
                                                      const std::vector<std::pair<int, int>>& pairs,
                                                      const Tensor<double>& true_strengths);

}  // namespace fluxion
