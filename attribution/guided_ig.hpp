// Guided Integrated Gradients: an adaptive path that avoids steep regions.
//
// Kapishnikov, Venugopalan, Avci, Wedin, Terry & Birdwell, "Guided Integrated
// Gradients: an Adaptive Path Method for Removing Noise", CVPR 2021.
//
// Straight-line IG crosses regions where the gradient is large but says
// little about x. Guided IG walks from the baseline x' to x in K steps; at
// step k (α = k/K) it must cut the L1 distance to x down to (1 − α)·‖x − x'‖₁,
// and it does so by moving, among the features not yet at this step's
// ceiling, the `fraction` with the smallest |∂_i f| first — all the way to
// the ceiling x' + min(α + max_dist, 1)(x − x') if that is not enough, or by
// the fraction γ that hits the L1 target exactly. Features lagging behind
// x' + max(α − max_dist, 0)(x − x') are first pulled up to that floor, so the
// path stays within max_dist (in α) of the straight line. Each move Δz is
// charged with the gradient at the start of the step:
//     A += ∇f(z_k) ⊙ Δz.
// The last step ends exactly at x, so completeness holds up to the left-point
// error of the path:   Σ_i A_i ≈ f(x) − f(x').
// With fraction = 1 every feature moves together and the path is the straight
// line: Guided IG = IG with the left Riemann rule of K points.
#pragma once

#include "attribution/path_integral.hpp"

namespace fluxion {

struct GuidedIGOptions {
  int steps = 128;          // K gradient evaluations per example (≥ 1)
  double fraction = 0.1;    // share of the movable features moved per sub-step, in (0, 1]
  double max_dist = 0.02;   // how far (in α) a feature may lead or lag the straight line, in [0, 1]
};

/// A = Σ_k ∇f(z_k) ⊙ (z_{k+1} − z_k) along the adaptive path z_0 = x' … z_K = x (smallest |∂_i f| move first).
/// Guided IG of every example of x[N, ...] for classes `targets` (size N, or
/// empty for the predicted classes). `baselines` has the shape of x, or of
/// one example (shared by all). All N paths advance in lockstep, so each
/// step costs one batched gradient call. Reference point: the baseline.
template <class T>
PathAttributions<T> guided_ig(const ExplainedOutput<T>& out, const Tensor<T>& x, const Tensor<T>& baselines,
                              const std::vector<std::size_t>& targets, const GuidedIGOptions& options = {});

/// Guided IG with x' = 0: A = Σ_k ∇f(z_k) ⊙ (z_{k+1} − z_k) from 0 to x.
/// The same with the black (all-zero) baseline.
template <class T>
PathAttributions<T> guided_ig(const ExplainedOutput<T>& out, const Tensor<T>& x,
                              const std::vector<std::size_t>& targets, const GuidedIGOptions& options = {});

}  // namespace fluxion
