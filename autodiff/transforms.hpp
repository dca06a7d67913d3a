// Transforms that read like the math. f is a function of one tensor.
//
// Var level: functions in, functions out, so they compose.
//   gradient_of(f)      x ↦ ∇f(x)                 (reverse mode, f scalar; Σ f otherwise)
// Tensor level: thin wrappers that evaluate at a point.
//   grad(f, x)          ∇f(x)                     (reverse mode)
//   vjp(f, x, u)        Jᵀu                       (reverse mode)
//   jvp(f, x, v)        J v                       (forward mode)
//   jvp_batched(f,x,V)  [J v₁, …, J v_k]          (forward mode, k tangents at once)
//   hvp(f, x, v)        H v = jvp(gradient_of(f), x, v)            (forward-over-reverse)
//   hvp_reverse(f,x,v)  H v = grad(x ↦ ⟨gradient_of(f)(x), v⟩, x)  (reverse-over-reverse)
//   hessian(f, x)       H = jacobian(gradient_of(f), x)   (d×d, identity tangents, chunked)
//   jacobian(f, x)      J  (m×d)                  (forward mode with identity tangents, chunked)
//   gradcheck           central finite differences for tests and teaching
// jvp records no tape for f: forward mode needs none. A function that needs
// one for itself, like gradient_of(f), turns recording back on inside.
#pragma once

#include <functional>

#include "autodiff/backward.hpp"
#include "autodiff/function.hpp"
#include "autodiff/ops.hpp"

namespace fluxion {

/// x ↦ ∇f(x) for scalar-valued f (of Σ f otherwise), as a Function again:
/// gradient_of(f) can be given to jvp (H v), jacobian (H) or gradient_of.
/// The gradient is recorded (differentiable in x) exactly when the caller
/// records, as any op's output is; its tangent, if x carries one, is H ẋ.
template <class T>
Function<T> gradient_of(Function<T> f);

template <class T>
struct ValueAndGrad {
  Tensor<T> value;
  Tensor<T> grad;
};

/// f(x) and ∇f(x) for scalar-valued f (one element); gradients of non-scalar
/// f are of Σ f.
template <class T>
ValueAndGrad<T> value_and_grad(const Function<T>& f, const Tensor<T>& x);
/// ∇f(x) (the .grad of value_and_grad): one reverse sweep.
template <class T>
Tensor<T> grad(const Function<T>& f, const Tensor<T>& x);
/// Jᵀu, u of f(x)'s shape.
template <class T>
Tensor<T> vjp(const Function<T>& f, const Tensor<T>& x, const Tensor<T>& u);
/// J v, v of x's shape; result has f(x)'s shape.
template <class T>
Tensor<T> jvp(const Function<T>& f, const Tensor<T>& x, const Tensor<T>& v);
/// V: [k, ...x.shape] → [k, ...f(x).shape], one forward sweep.
template <class T>
Tensor<T> jvp_batched(const Function<T>& f, const Tensor<T>& x, const Tensor<T>& V);

template <class T>
struct ValueAndTangents {
  Tensor<T> value;     // f(x)
  Tensor<T> tangents;  // [k, ...f(x).shape]: J v₁, …, J v_k
};

/// f(x) and [J v₁, …, J v_k] from the same forward sweep (jvp_batched's sweep).
template <class T>
ValueAndTangents<T> value_and_jvp_batched(const Function<T>& f, const Tensor<T>& x, const Tensor<T>& V);
/// H v for scalar f: jvp(gradient_of(f), x, v) (forward-over-reverse).
template <class T>
Tensor<T> hvp(const Function<T>& f, const Tensor<T>& x, const Tensor<T>& v);
/// [H v₁, …, H v_k] for V: [k, ...x.shape]: jvp_batched(gradient_of(f), x, V), one sweep.
template <class T>
Tensor<T> hvp_batched(const Function<T>& f, const Tensor<T>& x, const Tensor<T>& V);
/// H v by reverse-over-reverse: ∇_x ⟨∇f(x), v⟩.
template <class T>
Tensor<T> hvp_reverse(const Function<T>& f, const Tensor<T>& x, const Tensor<T>& v);
/// Full Hessian [d, d] (d = x.size()) of scalar f: jacobian(gradient_of(f), x),
/// H_ij = ∂(∇f)_i/∂x_j, `chunk` identity tangents per sweep (0 = all at once).
template <class T>
Tensor<T> hessian(const Function<T>& f, const Tensor<T>& x, std::size_t chunk = 0);
/// Jacobian [m, d] of f (m = f(x).size()) from batched identity tangents.
template <class T>
Tensor<T> jacobian(const Function<T>& f, const Tensor<T>& x, std::size_t chunk = 0);

/// Central differences: ∂f/∂x_i ≈ (f(x + h e_i) − f(x − h e_i)) / 2h for scalar f.
Tensor<double> numerical_grad(const std::function<double(const Tensor<double>&)>& f, const Tensor<double>& x,
                              double h = 1e-6);
/// max_i |a_i − b_i| / max(max_i |b_i|, floor)  — the relative error used in tests;
/// +∞ if an entry of a or b is NaN or infinite. Throws ShapeError if the shapes differ.
double max_relative_error(const Tensor<double>& a, const Tensor<double>& b, double floor = 1e-12);
/// The same for float tensors (default floor 1e-6).
double max_relative_error(const Tensor<float>& a, const Tensor<float>& b, double floor = 1e-6);

/// Compares the reverse-mode gradient of scalar f with central differences;
/// returns the relative error.
double gradcheck(const Function<double>& f, const Tensor<double>& x, double h = 1e-6);

}  // namespace fluxion
