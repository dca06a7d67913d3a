// 2-D convolution kernels (cross-correlation, as in PyTorch), by im2col + GEMM.
//
//   y[b, o, i, j] = Σ_{c, u, v} w[o, c, u, v] · x[b, c, i·s − p + u, j·s − p + v]
//
// Images may carry any number of leading axes ([..., C, H, W]); they are
// folded into one batch axis B. That is what lets a batched tangent
// [k, N, C, H, W] go through the same kernel as a batch of images.
//
// The three kernels are the three faces of one bilinear map y = conv(x, w):
//   conv2d              y  = conv(x, w)
//   conv2d_input_grad   x̄  = convᵀ(ȳ, w)        (adjoint in x; "transposed conv")
//   conv2d_weight_grad  w̄  = Σ_b ȳ ⋆ x          (adjoint in w)
#pragma once

#include "autodiff/tensor.hpp"

namespace fluxion::kernels {

struct Conv2dParams {
  std::size_t stride = 1;
  std::size_t padding = 0;
};

/// Output spatial size: ⌊(n + 2p − k) / s⌋ + 1. Throws if the kernel does not fit.
std::size_t conv_output_size(std::size_t n, std::size_t k, Conv2dParams p);

/// x: [..., C, H, W], w: [O, C, kh, kw] → [..., O, Ho, Wo]
template <class T>
Tensor<T> conv2d(const Tensor<T>& x, const Tensor<T>& w, Conv2dParams p);

/// g: [..., O, Ho, Wo], w: [O, C, kh, kw] → [..., C, H, W] with H, W = image_hw
template <class T>
Tensor<T> conv2d_input_grad(const Tensor<T>& g, const Tensor<T>& w, std::size_t height, std::size_t width,
                            Conv2dParams p);

/// x: [..., C, H, W], g: [..., O, Ho, Wo] (same leading axes) → [O, C, kh, kw]
template <class T>
Tensor<T> conv2d_weight_grad(const Tensor<T>& x, const Tensor<T>& g, std::size_t kh, std::size_t kw,
                             Conv2dParams p);

}  // namespace fluxion::kernels
