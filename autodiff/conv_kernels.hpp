// 2-D convolution kernels (cross-correlation, as in PyTorch and ONNX Conv), by
// im2col + GEMM.
//
//   y[b, o, i, j] = Σ_{c ∈ group(o), u, v} w[o, c − c₀(o), u, v] · x[b, c, i·sh − pt + u·dh, j·sw − pl + v·dw]
//
// (zero outside the image) with strides (sh, sw), pads (pt, pl, pb, pr),
// dilations (dh, dw) and G groups: output channel o reads the C/G input
// channels of its group, c₀(o) = ⌊o / (O/G)⌋·C/G (ONNX Conv / torch.nn.Conv2d).
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

#include <array>

#include "autodiff/tensor.hpp"

namespace fluxion::kernels {

/// The geometry of a convolution. The plain form {stride, padding} has one
/// stride and one (symmetric) padding for both axes, no dilation, one group.
/// The general form (ONNX Conv's attributes), used when `general` is set (by
/// make()), has per-axis strides, pads (top, left, bottom, right), dilations
/// and a number of groups.
struct Conv2dParams {
  std::size_t stride = 1;
  std::size_t padding = 0;
  bool general = false;
  std::array<std::size_t, 2> strides{1, 1};     // (h, w)
  std::array<std::size_t, 4> pads{0, 0, 0, 0};  // (top, left, bottom, right), zero padding
  std::array<std::size_t, 2> dilations{1, 1};   // (h, w)
  std::size_t groups = 1;
  /// The general form (ONNX Conv: strides, pads = (top, left, bottom, right), dilations, group).
  static Conv2dParams make(std::array<std::size_t, 2> strides, std::array<std::size_t, 4> pads,
                           std::array<std::size_t, 2> dilations, std::size_t groups);
  /// Either form as the general one (the plain one: strides = stride, pads = padding, no dilation, one group).
  Conv2dParams resolved() const;
};

/// Output size along axis 0 (height) or 1 (width):
/// ⌊(n + p_begin + p_end − d·(k − 1) − 1) / s⌋ + 1. Throws ShapeError if the
/// dilated kernel does not fit the padded input.
std::size_t conv_output_size(std::size_t n, std::size_t k, Conv2dParams p, std::size_t axis);
/// The same along the height axis (for the plain form, both axes alike).
std::size_t conv_output_size(std::size_t n, std::size_t k, Conv2dParams p);

/// x: [..., C, H, W], w: [O, C/groups, kh, kw] → [..., O, Ho, Wo]
template <class T>
Tensor<T> conv2d(const Tensor<T>& x, const Tensor<T>& w, Conv2dParams p);

/// g: [..., O, Ho, Wo], w: [O, C/groups, kh, kw] → [..., C, H, W] with C = groups·w.shape[1]
template <class T>
Tensor<T> conv2d_input_grad(const Tensor<T>& g, const Tensor<T>& w, std::size_t height, std::size_t width,
                            Conv2dParams p);

/// x: [..., C, H, W], g: [..., O, Ho, Wo] (same leading axes) → [O, C/groups, kh, kw]
template <class T>
Tensor<T> conv2d_weight_grad(const Tensor<T>& x, const Tensor<T>& g, std::size_t kh, std::size_t kw,
                             Conv2dParams p);

}  // namespace fluxion::kernels
