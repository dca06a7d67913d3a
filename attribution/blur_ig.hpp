// Blur IG: integrate the gradient along a path in scale space.
//
// Xu, Venugopalan & Sundararajan, "Attribution in Scale and Space", CVPR 2020.
//
// Instead of a straight line from a baseline, the path runs through ever
// less blurred copies of the input, from a heavily blurred image to x itself:
//     γ(σ) = L(x, σ) = G_σ * x,          σ from σ_max down to 0,
//     A_i  = ∫_{σ_max}^{0} ∂_i f(L(x, σ)) · ∂L_i(x, σ)/∂σ dσ.
// Discretised as a polyline through the S + 1 images p_s = L(x, σ_s),
//     σ_s = σ_max · (1 − s/S)          (linear spacing), or
//     σ_s = σ_max · √(1 − s/S)         (spacing even in σ², the paper's "sqrt" option),
// so that A = Σ_s ĝ_s ⊙ (p_{s+1} − p_s) with ĝ_s the gradient rule of
// integrate_polyline (left point, midpoint or trapezoid). Completeness:
//     Σ_i A_i ≈ f(x) − f(L(x, σ_max)),
// exact in the limit S → ∞; the gap reported is the discretisation error.
// The blur is gaussian_blur (reflect border, kernel truncated at 3σ), over the
// last two axes of each example, or of `image_shape` for flat inputs.
#pragma once

#include <vector>

#include "attribution/path_integral.hpp"

namespace fluxion {

struct BlurIGOptions {
  double max_sigma = 5.0;     // σ_max in pixels; ~5 makes a 28×28 digit a faint blob
  int steps = 64;             // S segments (S + 1 blurred images, ≥ 1)
  bool sqrt_spacing = false;  // σ_s even in σ² instead of in σ
  SegmentRule rule = SegmentRule::trapezoid;
  /// Shape each example is viewed as for blurring (e.g. {1, 28, 28} for an MLP
  /// taking 784 flat pixels). Empty: the example's own shape (rank ≥ 2).
  Shape image_shape = {};
};

/// σ_0 = σ_max > σ_1 > … > σ_S = 0, the scales the path visits.
std::vector<double> blur_ig_sigmas(const BlurIGOptions& options);

/// A = Σ_s ĝ_s ⊙ (L(x, σ_{s+1}) − L(x, σ_s)),  L(x, σ) = G_σ * x,  σ_s from σ_max down to 0.
/// Blur IG of every example of x[N, ...] for classes `targets` (size N, or
/// empty for the predicted classes). Reference point of example n: its blur
/// at σ_max. Returns attributions [N, ...], output changes and gaps.
template <class T>
PathAttributions<T> blur_ig(const ExplainedOutput<T>& out, const Tensor<T>& x,
                            const std::vector<std::size_t>& targets, const BlurIGOptions& options = {});

}  // namespace fluxion
