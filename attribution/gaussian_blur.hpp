// Gaussian blur over the last two axes (height, width) of a tensor.
//
//     (G_σ * x)[h, w] = Σ_{a,b} g_a g_b x[h − a, w − b],   g_a = e^{−a²/2σ²} / Σ_{|a'|≤r} e^{−a'²/2σ²}
//
// The 2-D Gaussian factorises, so the blur is two 1-D passes (rows, then
// columns), each costing O(r) per pixel instead of O(r²). The kernel is
// truncated at r = ⌈3σ⌉ pixels and renormalised, so a constant image stays
// exactly constant. Border: **reflect** about the pixel edge (half-sample
// symmetric, scipy.ndimage's "reflect": … c b a | a b c … | … x y z | z y x …),
// repeated as often as needed when r exceeds the image size.
//
// Reference-compatible settings (never defaults), matching PAIR saliency's
// Blur IG blur, scipy.ndimage.gaussian_filter(mode="constant") (truncate = 4):
//   BlurBorder::zeros     pixels outside the image are 0 (the blur darkens
//                         towards the border; a constant image does not stay constant);
//   KernelRadius::scipy   r = int(4σ + 0.5) (scipy's radius), kernel renormalised.
//
// Used for the blurred baseline of Integrated Gradients (Sundararajan et al.
// 2017) and for the path of Blur IG (Xu, Venugopalan & Sundararajan,
// "Attribution in Scale and Space", CVPR 2020).
#pragma once

#include <vector>

#include "autodiff/tensor.hpp"

namespace fluxion {

enum class BlurBorder { reflect, zeros };
enum class KernelRadius { three_sigma, scipy };  // r = ⌈3σ⌉ | r = int(4σ + 0.5)

/// The truncated, normalised 1-D kernel g_{−r} … g_r, r = ⌈3σ⌉ (or scipy's int(4σ + 0.5)), σ > 0.
std::vector<double> gaussian_kernel(double sigma, KernelRadius radius = KernelRadius::three_sigma);

/// Blur `image` [..., H, W] over its last two axes with standard deviation
/// `sigma` pixels. sigma = 0 returns the image unchanged. Throws ShapeError
/// for rank < 2 and ArgumentError for a negative or non-finite sigma.
template <class T>
Tensor<T> gaussian_blur(const Tensor<T>& image, double sigma, BlurBorder border = BlurBorder::reflect,
                        KernelRadius radius = KernelRadius::three_sigma);

}  // namespace fluxion
