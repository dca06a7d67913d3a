// The differentiable ops of Fluxion.
//
// Primitives: one line each in the table autodiff/primitives.def, which is
// expanded below into their declarations (each with its own doc comment
// there); their forward kernels, JVP terms and VJP terms live in rules.cpp,
// one entry each. Composites are built from primitives (composite.cpp) and
// get every derivative from them. Every op works for T = float and T = double,
// on any rank unless stated. Axes may be negative (counted from the end), as
// in NumPy.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "autodiff/conv_kernels.hpp"
#include "autodiff/pool_kernels.hpp"
#include "autodiff/var.hpp"

namespace fluxion {

// ---- primitives (the table autodiff/primitives.def; rules in rules.cpp) --
// For each entry FLUXION_PRIMITIVE(name, (parameters)):
//   template <class T> Var<T> name(parameters);
// The last section of the table holds the adjoint primitives (public so
// tests can gradcheck them): conv2d_input_grad, conv2d_weight_grad,
// pool_gather, pool_scatter, avg_pool2d_adjoint, slice_adjoint,
// take_adjoint, step.

#define FLUXION_PRIMITIVE(name, parameters) \
  template <class T>                        \
  Var<T> name parameters;
#include "autodiff/primitives.def"
#undef FLUXION_PRIMITIVE

// ---- composites (composite.cpp) ------------------------------------------

/// A constant (no gradient) holding `value`.
template <class T> Var<T> constant(Tensor<T> value);
/// A constant of rank 0 (shape []), which broadcasts against any tensor.
template <class T> Var<T> scalar(T value);
/// x ⊙ x.
template <class T> Var<T> square(const Var<T>& x);
/// mean over axes (all if empty); an axis out of range is a ShapeError.
template <class T> Var<T> mean(const Var<T>& x, std::vector<int> axes = {}, bool keepdims = false);
/// log_softmax(x) = x − logsumexp(x) over the last axis.
template <class T> Var<T> log_softmax(const Var<T>& x);
/// softmax(x)_j = e^{x_j} / Σ_i e^{x_i} over the last axis.
template <class T> Var<T> softmax(const Var<T>& x);
/// log_softmax along any axis (ONNX LogSoftmax, opset ≥ 13): the axis moved last, log_softmax, moved back.
template <class T> Var<T> log_softmax(const Var<T>& x, int axis);
/// softmax along any axis (ONNX Softmax, opset ≥ 13): the axis moved last, softmax, moved back.
template <class T> Var<T> softmax(const Var<T>& x, int axis);
/// gelu(x) = x·Φ(x), Φ(x) = ½(1 + erf(x/√2)): the exact form (ONNX Gelu, torch approximate='none').
template <class T> Var<T> gelu(const Var<T>& x);
/// clip(x, lo, hi) = minimum(maximum(x, lo), hi) with constant bounds (ONNX Clip; lo ≤ hi).
template <class T> Var<T> clip(const Var<T>& x, T lo, T hi);
/// ONNX ConvTranspose: x [..., C, H, W], w [C, O/groups, kh, kw] → [..., O, Ho, Wo] with
/// Ho = sh·(H − 1) + output_padding[0] + dh·(kh − 1) + 1 − pt − pb (likewise Wo):
/// conv2d_input_grad(x, w, Ho, Wo, p), the adjoint of conv2d. output_padding < stride.
template <class T>
Var<T> conv_transpose2d(const Var<T>& x, const Var<T>& w, kernels::Conv2dParams p = {},
                        std::array<std::size_t, 2> output_padding = {0, 0});
/// Mean cross-entropy of logits [N, C] against integer labels: −(1/N) Σ_n log_softmax(z)[n, y_n].
template <class T> Var<T> cross_entropy(const Var<T>& logits, const std::vector<std::size_t>& labels);
/// Mean squared error: mean((a − b)²).
template <class T> Var<T> mse(const Var<T>& a, const Var<T>& b);
/// Swap the last two axes.
template <class T> Var<T> transpose(const Var<T>& x);
/// [N, ...] → [N, Π ...]
template <class T> Var<T> flatten(const Var<T>& x);

// ---- operators: the math's notation ----------------------------------------

/// a + b = add(a, b).
template <class T> Var<T> operator+(const Var<T>& a, const Var<T>& b) { return add(a, b); }
/// a − b = sub(a, b).
template <class T> Var<T> operator-(const Var<T>& a, const Var<T>& b) { return sub(a, b); }
/// a * b = mul(a, b), the element-wise product a ⊙ b.
template <class T> Var<T> operator*(const Var<T>& a, const Var<T>& b) { return mul(a, b); }
/// a / b = div(a, b), the element-wise quotient a ⊘ b.
template <class T> Var<T> operator/(const Var<T>& a, const Var<T>& b) { return div(a, b); }
/// −a = neg(a).
template <class T> Var<T> operator-(const Var<T>& a) { return neg(a); }
/// a·c = scale(a, c) for a constant scalar c.
template <class T> Var<T> operator*(const Var<T>& a, T c) { return scale(a, c); }
/// c·a = scale(a, c) for a constant scalar c.
template <class T> Var<T> operator*(T c, const Var<T>& a) { return scale(a, c); }
/// a + c, with c a constant broadcast as scalar(c).
template <class T> Var<T> operator+(const Var<T>& a, T c) { return add(a, scalar<T>(c)); }
/// c + a, with c a constant broadcast as scalar(c).
template <class T> Var<T> operator+(T c, const Var<T>& a) { return add(scalar<T>(c), a); }
/// a − c, with c a constant broadcast as scalar(c).
template <class T> Var<T> operator-(const Var<T>& a, T c) { return sub(a, scalar<T>(c)); }
/// c − a, with c a constant broadcast as scalar(c).
template <class T> Var<T> operator-(T c, const Var<T>& a) { return sub(scalar<T>(c), a); }

}  // namespace fluxion
