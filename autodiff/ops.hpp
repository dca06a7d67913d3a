// The differentiable ops of Fluxion.
//
// Primitives (their forward kernels, JVP rules and VJP rules all live in
// rules.cpp, one entry each) and composites built from them (composite.cpp).
// Every op works for T = float and T = double, on any rank unless stated.
// Axes may be negative (counted from the end), as in NumPy.
#pragma once

#include <memory>
#include <vector>

#include "autodiff/conv_kernels.hpp"
#include "autodiff/pool_kernels.hpp"
#include "autodiff/var.hpp"

namespace fluxion {

// ---- primitives (rules.cpp) ----------------------------------------------

/// a + b, a − b, a ⊙ b, a ⊘ b with NumPy broadcasting.
template <class T> Var<T> add(const Var<T>& a, const Var<T>& b);
/// a − b (broadcasting).
template <class T> Var<T> sub(const Var<T>& a, const Var<T>& b);
/// a ⊙ b, element-wise product (broadcasting).
template <class T> Var<T> mul(const Var<T>& a, const Var<T>& b);
/// a ⊘ b, element-wise quotient (broadcasting).
template <class T> Var<T> div(const Var<T>& a, const Var<T>& b);
/// −x
template <class T> Var<T> neg(const Var<T>& x);
/// c·x for a constant scalar c.
template <class T> Var<T> scale(const Var<T>& x, T c);
/// eˣ, ln x, tanh x, σ(x) = 1/(1+e⁻ˣ), element-wise.
template <class T> Var<T> exp(const Var<T>& x);
/// ln x; derivative 1/x.
template <class T> Var<T> log(const Var<T>& x);
/// tanh x; derivative 1 − tanh² x.
template <class T> Var<T> tanh(const Var<T>& x);
/// σ(x) = 1/(1 + e⁻ˣ), computed stably; derivative σ(1 − σ).
template <class T> Var<T> sigmoid(const Var<T>& x);
/// max(x, 0). Derivative convention: relu'(0) = 0 (as PyTorch).
template <class T> Var<T> relu(const Var<T>& x);
/// Heaviside step 1[x > 0] as a constant (its derivative is 0 a.e.).
template <class T> Var<T> step(const Var<T>& x);
/// softplus_β(x) = (1/β) ln(1 + e^{βx}), computed stably as
/// max(x, 0) + (1/β) log1p(e^{−β|x|}); derivative σ(βx).
template <class T> Var<T> softplus(const Var<T>& x, T beta = T(1));
/// xᵖ for a constant exponent p.
template <class T> Var<T> pow(const Var<T>& x, T p);

/// op(A) @ op(B) over the last two axes (op = transpose if the flag is set);
/// leading axes broadcast.
template <class T> Var<T> matmul(const Var<T>& a, const Var<T>& b, bool transpose_a = false,
                                 bool transpose_b = false);

/// 2-D cross-correlation: x [..., C, H, W], w [O, C, kh, kw] → [..., O, Ho, Wo].
template <class T> Var<T> conv2d(const Var<T>& x, const Var<T>& w, kernels::Conv2dParams p = {});
/// Adjoint of conv2d in x (the transposed convolution) → [..., C, height, width].
template <class T> Var<T> conv2d_input_grad(const Var<T>& g, const Var<T>& w, std::size_t height,
                                            std::size_t width, kernels::Conv2dParams p);
/// Adjoint of conv2d in w: Σ over images of ḡ ⋆ x → [O, C, kh, kw].
template <class T> Var<T> conv2d_weight_grad(const Var<T>& x, const Var<T>& g, std::size_t kh,
                                             std::size_t kw, kernels::Conv2dParams p);

/// Max-pool over the last two axes. Derivative: gather at the argmax.
template <class T> Var<T> max_pool2d(const Var<T>& x, kernels::PoolParams p = {});
/// Gather/scatter at fixed positions (the linear maps behind max-pool).
template <class T> Var<T> pool_gather(const Var<T>& x, std::shared_ptr<const kernels::ArgmaxMap> map);
/// Adjoint of pool_gather: adds g[o] at position argmax[o] of a zero image.
template <class T> Var<T> pool_scatter(const Var<T>& g, std::shared_ptr<const kernels::ArgmaxMap> map);
/// Average-pool over the last two axes, and its adjoint.
template <class T> Var<T> avg_pool2d(const Var<T>& x, kernels::PoolParams p = {});
/// Adjoint of avg_pool2d: each g spread over its window with weight 1/k² → [..., height, width].
template <class T> Var<T> avg_pool2d_adjoint(const Var<T>& g, std::size_t height, std::size_t width,
                                             kernels::PoolParams p);

/// Same data, new shape (same number of elements).
template <class T> Var<T> reshape(const Var<T>& x, const Shape& shape);
/// y.shape[i] = x.shape[perm[i]].
template <class T> Var<T> permute(const Var<T>& x, const std::vector<std::size_t>& perm);
/// Σ over the given axes (all axes if empty).
template <class T> Var<T> sum(const Var<T>& x, std::vector<int> axes = {}, bool keepdims = false);
/// x stretched to `shape` by NumPy broadcasting; sum_to is its adjoint.
template <class T> Var<T> broadcast_to(const Var<T>& x, const Shape& shape);
/// Σ over the axes that broadcasting `shape` to x.shape stretched → `shape`.
template <class T> Var<T> sum_to(const Var<T>& x, const Shape& shape);
/// y[..., n] = x[..., n, index[n]]   (pick one class per row)
template <class T> Var<T> select(const Var<T>& x, const std::vector<std::size_t>& index);
/// Adjoint of select: y[..., n, c] = g[..., n]·1[c = index[n]].
template <class T> Var<T> scatter(const Var<T>& g, const std::vector<std::size_t>& index, std::size_t classes);
/// log Σ_j e^{x[..., j]} over the last axis, kept as size 1 (stable).
template <class T> Var<T> logsumexp(const Var<T>& x);

// ---- composites (composite.cpp) ------------------------------------------

/// A constant (no gradient) from a tensor or a scalar.
template <class T> Var<T> constant(Tensor<T> value);
/// A constant of rank 0 (shape []), which broadcasts against any tensor.
template <class T> Var<T> scalar(T value);
/// x ⊙ x.
template <class T> Var<T> square(const Var<T>& x);
/// mean over axes (all if empty).
template <class T> Var<T> mean(const Var<T>& x, std::vector<int> axes = {}, bool keepdims = false);
/// log softmax and softmax over the last axis: x − logsumexp(x), e^{log_softmax}.
template <class T> Var<T> log_softmax(const Var<T>& x);
/// softmax(x)_j = e^{x_j} / Σ_i e^{x_i} over the last axis.
template <class T> Var<T> softmax(const Var<T>& x);
/// Mean cross-entropy of logits [N, C] against integer labels: −(1/N) Σ_n log_softmax(z)[n, y_n].
template <class T> Var<T> cross_entropy(const Var<T>& logits, const std::vector<std::size_t>& labels);
/// Mean squared error: mean((a − b)²).
template <class T> Var<T> mse(const Var<T>& a, const Var<T>& b);
/// Swap the last two axes.
template <class T> Var<T> transpose(const Var<T>& x);
/// [N, ...] → [N, Π ...]
template <class T> Var<T> flatten(const Var<T>& x);

// Operators read like the math.
/// a + b, a − b, a * b (⊙), a / b (⊘), −a for Vars; with a constant scalar c: c·a = scale, a ± c broadcasts scalar(c).
template <class T> Var<T> operator+(const Var<T>& a, const Var<T>& b) { return add(a, b); }
template <class T> Var<T> operator-(const Var<T>& a, const Var<T>& b) { return sub(a, b); }
template <class T> Var<T> operator*(const Var<T>& a, const Var<T>& b) { return mul(a, b); }
template <class T> Var<T> operator/(const Var<T>& a, const Var<T>& b) { return div(a, b); }
template <class T> Var<T> operator-(const Var<T>& a) { return neg(a); }
template <class T> Var<T> operator*(const Var<T>& a, T c) { return scale(a, c); }
template <class T> Var<T> operator*(T c, const Var<T>& a) { return scale(a, c); }
template <class T> Var<T> operator+(const Var<T>& a, T c) { return add(a, scalar<T>(c)); }
template <class T> Var<T> operator+(T c, const Var<T>& a) { return add(scalar<T>(c), a); }
template <class T> Var<T> operator-(const Var<T>& a, T c) { return sub(a, scalar<T>(c)); }
template <class T> Var<T> operator-(T c, const Var<T>& a) { return sub(scalar<T>(c), a); }

}  // namespace fluxion
