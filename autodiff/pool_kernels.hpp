// 2-D pooling kernels over the last two axes of [..., H, W] ("planes").
//
//   max-pool:  y[q, i, j] = max_{u,v < k} x[q, i·s + u, j·s + v]
//              its derivative is a gather at the argmax positions, so the
//              forward kernel also returns those positions (`argmax`).
//   avg-pool:  y[q, i, j] = (1/k²) Σ_{u,v < k} x[q, i·s + u, j·s + v]
//
// gather/scatter and avg_pool/avg_pool_adjoint are adjoint pairs of linear
// maps; each is the other's VJP. A tensor with more planes than the index
// map (a batched tangent [k, N, C, H, W]) reuses the map plane by plane
// modulo its size.
#pragma once

#include <vector>

#include "autodiff/tensor.hpp"

namespace fluxion::kernels {

struct PoolParams {
  std::size_t kernel = 2;
  std::size_t stride = 2;
};

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

/// y[..., i, j] = (1/k²) Σ_{u,v < k} x[..., i·s + u, j·s + v] : [..., H, W] → [..., Ho, Wo]
template <class T>
Tensor<T> avg_pool2d(const Tensor<T>& x, PoolParams p);

/// Adjoint of avg_pool2d: spread each ȳ over its window with weight 1/k².
template <class T>
Tensor<T> avg_pool2d_adjoint(const Tensor<T>& g, std::size_t height, std::size_t width, PoolParams p);

}  // namespace fluxion::kernels
