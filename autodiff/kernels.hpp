// Forward kernels: plain Tensor -> Tensor computations with no autodiff.
//
// The rule table (rules.cpp) calls these to compute values; it never touches
// raw buffers itself. GEMMs go through Eigen maps over the row-major buffers.
#pragma once

#include <vector>

#include "autodiff/tensor.hpp"

namespace fluxion::kernels {

/// NumPy broadcasting: the shape of a ⊕ b (right-aligned, 1 stretches).
/// Throws ShapeError naming both shapes if they do not broadcast.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

/// C = op(A) @ op(B) over the last two axes, where op(M) = Mᵀ if the flag is
/// set; leading (batch) axes broadcast like NumPy's matmul.
template <class T>
Tensor<T> matmul(const Tensor<T>& a, const Tensor<T>& b, bool transpose_a, bool transpose_b);

/// The broadcasting binary ops: the four arithmetic ones, max and min, and
/// the tie masks of max/min (1[a > b] + ½·1[a = b], 1[a < b] + ½·1[a = b]).
enum class BinaryOp { add, sub, mul, div, maximum, minimum, max_mask, min_mask };

/// a ⊕ b with NumPy broadcasting (⊕ = +, −, ×, ÷, max, min, a mask); `name` is the op named in
/// the ShapeError if the shapes do not broadcast. Runs contiguous loops over
/// merged axes (fast for a batched tangent [k, ...s] against [...s]).
template <class T>
Tensor<T> binary(const Tensor<T>& a, const Tensor<T>& b, BinaryOp op, const char* name);

/// y[i] = f(x[i]) element by element: one plain loop over the contiguous
/// buffer (xtensor's lazy expressions step through every element with an
/// index iterator, several times slower for the element-wise rules).
template <class T, class F>
Tensor<T> map(const Tensor<T>& x, F f) {
  Tensor<T> y = Tensor<T>::from_shape(x.shape());
  const T* in = x.data();
  T* out = y.data();
  const std::size_t n = x.size();
  for (std::size_t i = 0; i < n; ++i) out[i] = f(in[i]);
  return y;
}

/// x broadcast to `shape` (materialised).
template <class T>
Tensor<T> broadcast_to(const Tensor<T>& x, const Shape& shape);

/// The adjoint of broadcast_to: sum x over the axes that broadcasting to
/// x's shape from `shape` would have stretched; result has shape `shape`.
template <class T>
Tensor<T> sum_to(const Tensor<T>& x, const Shape& shape);

/// Σ over the given (non-negative, sorted, unique) axes.
template <class T>
Tensor<T> sum_axes(const Tensor<T>& x, const std::vector<std::size_t>& axes, bool keepdims);

/// y = permute(x, perm): y[i_perm[0], ...] = x[i_0, ...]; y.shape[k] = x.shape[perm[k]].
template <class T>
Tensor<T> permute(const Tensor<T>& x, const std::vector<std::size_t>& perm);

/// log Σ_j exp(x[..., j]) over the last axis, keeping it as size 1 (stable).
template <class T>
Tensor<T> logsumexp_last(const Tensor<T>& x);

/// y[..., n] = x[..., n, index[n]]   (x: [..., N, C], index: N entries)
template <class T>
Tensor<T> select_rows(const Tensor<T>& x, const std::vector<std::size_t>& index);

/// y[..., n, c] = g[..., n] if c == index[n] else 0   (adjoint of select_rows)
template <class T>
Tensor<T> scatter_rows(const Tensor<T>& g, const std::vector<std::size_t>& index, std::size_t classes);

}  // namespace fluxion::kernels
