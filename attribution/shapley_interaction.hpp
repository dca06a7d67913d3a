// Exact Shapley values and the Shapley interaction index by enumerating all
// 2^d coalitions (Grabisch & Roubens, "An axiomatic approach to the concept
// of interaction among players in cooperative games", 1999; used as the
// brute-force reference in Janizek, Sturmfels & Lee, JMLR 2021).
//
// The game: v(S) = f(z_S) where z_S takes x on the features in S and the
// baseline x' elsewhere. Then
//
//   φ_i  = Σ_{S ⊆ N∖{i}}   |S|! (d − |S| − 1)! / d!       [v(S ∪ i) − v(S)]
//   I_ij = Σ_{S ⊆ N∖{i,j}} |S|! (d − |S| − 2)! / (d − 1)!  [v(S ∪ ij) − v(S ∪ i) − v(S ∪ j) + v(S)]
//
// Efficiency: Σ_i φ_i = f(x) − f(x'). For a monomial c·Π_{m∈K} x_m with x = 1
// and x' = 0, φ_i = c/|K| and I_ij = c/(|K| − 1) for i, j ∈ K.
//
// Cost: 2^d model evaluations per example (in batches of out.batch_size), so
// d is capped at kMaxShapleyFeatures.
#pragma once

#include <optional>

#include "attribution/explained_output.hpp"

namespace fluxion {

inline constexpr std::size_t kMaxShapleyFeatures = 10;

template <class T>
struct ShapleyInteractions {
  Tensor<T> interactions;    // [N, d, d], I_ij off the diagonal, 0 on it
  Tensor<T> shapley_values;  // shape of x: φ_i
  std::vector<double> output_changes;  // f(x_n) − f(x'_n) = Σ_i φ_i
};

/// φ_i = Σ_{S∌i} |S|!(d−|S|−1)!/d! [v(S∪i) − v(S)],  I_ij = Σ_{S∌i,j} |S|!(d−|S|−2)!/(d−1)! [v(S∪ij) − v(S∪i) − v(S∪j) + v(S)].
/// Enumerates every coalition for each example of x[N, ...] (d = size of one
/// example ≤ kMaxShapleyFeatures, ArgumentError otherwise). baseline none = zeros,
/// else one example or [N, ...] (pass a std::optional<Tensor<T>>). targets empty
/// = predicted classes.
template <class T>
ShapleyInteractions<T> shapley_interactions(const ExplainedOutput<T>& out, const Tensor<T>& x,
                                            const std::vector<std::size_t>& targets = {},
                                            const std::optional<Tensor<T>>& baseline = std::nullopt);

}  // namespace fluxion
