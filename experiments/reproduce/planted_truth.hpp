// A ground truth for interaction recovery that favours no explainer: the exact
// Shapley interaction index (Grabisch & Roubens 1999; Lundberg et al. 2020's
// SHAP interaction values use the same index) of the *true* function
// y(x) = Σ_p term(x_{i_p}, x_{j_p}) with the zero baseline.
//
// With v(S) = y(x_S, 0_{N∖S}) the index of pair (i, j) is
//     Φ_ij = Σ_{S ⊆ N∖{i,j}} |S|! (d−|S|−2)! / (d−1)! · Δ_ij v(S),
//     Δ_ij v(S) = v(S∪{i,j}) − v(S∪{i}) − v(S∪{j}) + v(S).
// A planted term that does not involve both i and j cancels in Δ_ij, so for a
// planted pair (i, j) (pairs disjoint, or distinct: each pair appears once)
// Δ_ij v(S) is the same for every S and the weights sum to 1:
//     Φ_ij = term(a, b) − term(a, 0) − term(0, b) + term(0, 0),  a = x_i, b = x_j.
// For a product this is ab; for cos(a + b) it is cos(a+b) − cos a − cos b + 1,
// which is not the |term| the old yardstick used (|cos(a+b)|, the size of the
// term's own second derivative that the input Hessian reports).
#pragma once
#include <utility>

#include "nn/data/synthetic.hpp"

namespace fluxion::experiments {

/// Φ_ij of one planted term at (a, b), by the closed form above.
double planted_pair_shapley_index(InteractionKind kind, double a, double b);

/// The planted pair with the largest |Φ_ij| at `sample` (the first on ties).
std::pair<int, int> strongest_planted_pair_by_shapley(const InteractionDataset& data, InteractionKind kind,
                                                       int sample);

}  // namespace fluxion::experiments
