// Two interaction baselines the Integrated Hessians paper compares against
// (Janizek, Sturmfels & Lee, JMLR 2021, §5):
//
//   input Hessian         Γ_ij = ∂²_ij f(x)
//   Hessian × input       Γ_ij = Δ_i ∂²_ij f(x) Δ_j,   Δ = x − x'  (x' = 0 by default, so x_i H_ij x_j)
//
// Both are local (one point, no path) and so need only one full Hessian per
// example, computed with batched identity tangents (hessian_sweep.hpp).
#pragma once

#include <optional>

#include "attribution/explained_output.hpp"

namespace fluxion {

struct InputHessianOptions {
  std::size_t directions_per_sweep = 64;  // identity tangents per sweep; 0 = all d
};

/// H_n = ∇²f_n(x_n) as [N, d, d]; targets empty = predicted classes.
template <class T>
Tensor<T> input_hessian(const ExplainedOutput<T>& out, const Tensor<T>& x, const std::vector<std::size_t>& targets = {},
                        const InputHessianOptions& options = {});

/// Δ_i H_ij Δ_j as [N, d, d]; baseline none = zeros, else one example or [N, ...]
/// (pass it as std::optional<Tensor<T>>: template deduction does not convert).
template <class T>
Tensor<T> hessian_times_input(const ExplainedOutput<T>& out, const Tensor<T>& x,
                              const std::vector<std::size_t>& targets = {},
                              const std::optional<Tensor<T>>& baseline = std::nullopt,
                              const InputHessianOptions& options = {});

}  // namespace fluxion
