// 2-D pooling kernels over the last two axes of [..., H, W] ("planes"), with
// ONNX MaxPool / AveragePool (and torch.nn.MaxPool2d / AvgPool2d) semantics.
// Window (i, j) covers rows i·sh − pt + u·dh (u < kh) and columns
// j·sw − pl + v·dw (v < kw); rows and columns outside the image are padding.
//
//   max-pool:  y[q, i, j] = max over the window's real entries (padding is −∞:
//              it never wins); its derivative is a gather at the argmax
//              positions, so the forward kernel also returns them (`argmax`).
//   avg-pool:  y[q, i, j] = Σ over the window's real entries / divisor, where
//              divisor = the number of real entries, or with count_include_pad
//              the number of entries inside the padded image [−pt, H + pb) ×
//              [−pl, W + pr) (so a ceil_mode overhang beyond the pads never
//              counts: PyTorch's avg_pool2d, ONNX AveragePool).
//
// Output size along an axis (n, k, s, pads p₀ + p₁, dilation d):
//   ⌊(n + p₀ + p₁ − d(k − 1) − 1) / s⌋ + 1, with ceil_mode ⌈…⌉ + 1, and then a
//   last window that would start at or beyond n + p₀ (in the end padding) is
//   dropped (PyTorch's pooling_output_shape, the ONNX reference).
// Every window must hold at least one real entry (else ShapeError).
//
// gather/scatter and avg_pool/avg_pool_adjoint are adjoint pairs of linear
// maps; each is the other's VJP. A tensor with more planes than the index
// map (a batched tangent [k, N, C, H, W]) reuses the map plane by plane
// modulo its size.
#pragma once

#include <array>
#include <vector>

#include "autodiff/tensor.hpp"

namespace fluxion::kernels {

/// The geometry of a pooling. The plain form {kernel, stride}: square
/// windows, one stride, no padding, floor mode. The general form (ONNX
/// MaxPool/AveragePool attributes), used when `general` is set (by make()).
struct PoolParams {
  std::size_t kernel = 2;
  std::size_t stride = 2;
  bool general = false;
  std::array<std::size_t, 2> kernels{2, 2};     // (h, w)
  std::array<std::size_t, 2> strides{2, 2};     // (h, w)
  std::array<std::size_t, 4> pads{0, 0, 0, 0};  // (top, left, bottom, right)
  std::array<std::size_t, 2> dilations{1, 1};   // max-pool only
  bool ceil_mode = false;
  bool count_include_pad = false;               // average-pool only
  /// The general form (ONNX: kernel_shape, strides, pads = (top, left, bottom, right), dilations, ceil_mode,
  /// count_include_pad).
  static PoolParams make(std::array<std::size_t, 2> kernels, std::array<std::size_t, 2> strides,
                         std::array<std::size_t, 4> pads, std::array<std::size_t, 2> dilations, bool ceil_mode,
                         bool count_include_pad);
  /// Either form as the general one.
  PoolParams resolved() const;
};

/// Output size along axis 0 (height) or 1 (width) of an input of size n (the
/// rule in the header comment). Throws ShapeError if the window does not fit.
std::size_t pool_output_size(std::size_t n, PoolParams p, std::size_t axis);

/// Positions (flat index within an H×W plane) of each output's maximum.
struct ArgmaxMap {
  Shape out_shape;                 // [..., Ho, Wo]
  std::size_t in_h = 0, in_w = 0;  // plane size of the input
  std::vector<std::size_t> index;  // one entry per output element
};

/// Max-pool; fills `argmax` (ties: the first maximum in row-major order).
template <class T>
Tensor<T> max_pool2d(const Tensor<T>& x, PoolParams p, ArgmaxMap& argmax);

/// y[..., o] = x[..., plane(o), argmax[o]] : [..., H, W] → [..., Ho, Wo]
template <class T>
Tensor<T> pool_gather(const Tensor<T>& x, const ArgmaxMap& argmax);

/// Adjoint of pool_gather: x̄[..., argmax[o]] += ȳ[..., o] : [..., Ho, Wo] → [..., H, W]
template <class T>
Tensor<T> pool_scatter(const Tensor<T>& g, const ArgmaxMap& argmax);

/// y[..., i, j] = Σ over window (i, j) of x / divisor(i, j) : [..., H, W] → [..., Ho, Wo] (dilation 1 only)
template <class T>
Tensor<T> avg_pool2d(const Tensor<T>& x, PoolParams p);

/// Adjoint of avg_pool2d: spread each ȳ over its window's real entries with weight 1/divisor.
template <class T>
Tensor<T> avg_pool2d_adjoint(const Tensor<T>& g, std::size_t height, std::size_t width, PoolParams p);

}  // namespace fluxion::kernels
