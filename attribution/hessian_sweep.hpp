// One forward-over-reverse sweep of the explained output over a batch of
// points, carrying k tangent directions at once:
//
//     gradients[p]            = ∇f_p(x_p)
//     hessian_products[j, p]  = H_p(x_p) v_{j,p}          (H_p = ∇²f_p)
//
// The input is a dual number x + ε V with V [k, P, ...]; the reverse sweep is
// made of differentiable ops, so the gradient comes out with a tangent, and
// that tangent is H V (Pearlmutter 1994, "Fast exact multiplication by the
// Hessian"). Because the examples of a batch are independent, H of Σ_p f_p is
// block diagonal and one sweep serves P points × k directions with GEMMs of
// width k·P — the batched-tangent trick (JAX's vmap(jvp(grad f))).
//
// batched_hessians stacks identity directions to get full d×d Hessians,
// `directions_per_sweep` at a time, out.batch_size points at a time.
#pragma once

#include "attribution/explained_output.hpp"

namespace fluxion {

template <class T>
struct GradientAndHessianProducts {
  Tensor<T> gradients;          // [P, ...]
  Tensor<T> hessian_products;   // [k, P, ...]
};

/// One sweep over all of `points` [P, ...] (no chunking here — the caller
/// chooses P and k); directions V: [k, P, ...]; targets: P classes.
template <class T>
GradientAndHessianProducts<T> gradient_and_hessian_products(const ExplainedOutput<T>& out, const Tensor<T>& points,
                                                            const std::vector<std::size_t>& targets,
                                                            const Tensor<T>& directions);

/// Full Hessians [N, d, d] of f_n at x_n (d = size of one example), from
/// identity tangents: out.batch_size points × directions_per_sweep directions
/// per sweep (0 = all d directions at once).
template <class T>
Tensor<T> batched_hessians(const ExplainedOutput<T>& out, const Tensor<T>& x, const std::vector<std::size_t>& targets,
                           std::size_t directions_per_sweep = 64);

}  // namespace fluxion
