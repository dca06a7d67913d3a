// Max-sensitivity (Yeh, Hsieh, Suggala, Inouye & Ravikumar, "On the
// (In)fidelity and Sensitivity of Explanations", NeurIPS 2019), in the
// relative form of Captum's `sensitivity_max` and the notes:
//
//     SENS_max(φ, x) = max_{‖δ‖_∞ ≤ r}  ‖φ(x + δ) − φ(x)‖₂ / ‖φ(x)‖₂
//
// The maximum is estimated by Monte Carlo: `samples` perturbations δ drawn
// uniformly from the L∞ ball of radius r (each δ_i ~ U(−r, r), seeded), so the
// estimate is a lower bound of the true maximum that grows with `samples`.
// Lower is better: a stable explanation barely moves when x barely moves.
//
// The attribution method is any function from a batch and its targets to a
// batch of attributions. The targets are those of x and stay fixed at x + δ
// (the explained class must not switch under the perturbation). Each sample
// is one call of the method on the whole batch x + δ_s.
//
// ‖·‖₂ is the Frobenius norm over all features of one example. When φ(x) = 0
// the ratio is undefined; then the absolute change ‖φ(x + δ) − φ(x)‖₂ is
// reported (Captum's safe division by 1). `relative = false` gives Yeh et
// al.'s absolute form everywhere.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <vector>

#include "autodiff/tensor.hpp"

namespace fluxion {

/// x[N, ...] and N targets → attributions of x's shape.
template <class T>
using BatchAttributionMethod =
    std::function<Tensor<T>(const Tensor<T>& x, const std::vector<std::size_t>& targets)>;

struct MaxSensitivityOptions {
  double radius = 0.02;       // r of the L∞ ball (Captum and the notes)
  std::size_t samples = 10;   // perturbations per example (Captum default)
  bool relative = true;       // divide by ‖φ(x)‖₂
  double clip_min = -std::numeric_limits<double>::infinity();  // keep x + δ inside the data range,
  double clip_max = std::numeric_limits<double>::infinity();   // e.g. [0, 1] for MNIST
  std::uint64_t seed = 0;
};

/// SENS = max_s ‖φ(x + δ_s) − φ(x)‖₂ / ‖φ(x)‖₂,  δ_s ~ U([−r, r]^d)  (no division when relative = false).
/// Max-sensitivity of every example: x [N, ...], targets of size N. Returns [N].
template <class T>
std::vector<double> max_sensitivity(const BatchAttributionMethod<T>& method, const Tensor<T>& x,
                                    const std::vector<std::size_t>& targets, const MaxSensitivityOptions& options = {});

}  // namespace fluxion
