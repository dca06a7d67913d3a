// Infidelity (Yeh, Hsieh, Suggala, Inouye & Ravikumar, "On the (In)fidelity
// and Sensitivity of Explanations", NeurIPS 2019):
//
//     INFD(φ, f, x) = E_I [ (Iᵀφ − (f(x) − f(x − I)))² ]
//
// An attribution φ claims that moving the input by −I changes f by about Iᵀφ;
// infidelity is the mean squared error of that claim over random
// perturbations I (lower is better, 0 = every claim exact). The expectation
// is a Monte Carlo mean over `samples` seeded draws per example.
//
// Perturbations I:
//   * gaussian:        I ~ N(0, σ² Id) (Yeh et al.'s "noisy baseline"; Captum's
//                      usual choice, 10 samples);
//   * square_removal:  a random s×s square over the last two axes (all
//                      channels; for flat inputs [N, d] a window of s
//                      features) is set to the baseline value b, i.e.
//                      I = (x − b) ⊙ 1_square.
//
// Attributions that already contain the factor (x − b) — Integrated
// Gradients, gradient × input — predict the change of f as Σ_i φ_i · I_i/(x_i − b)
// (Captum's `multiply_by_inputs`): for square removal that is Σ over the square
// of φ_i. Features with x_i = b contribute 0 in that mode.
//
// Optimal scaling (Captum's `normalize` option): infidelity of the
// best multiple βφ, with β = E[Iᵀφ · Δf] / E[(Iᵀφ)²] (least squares), so
// the score ignores the overall scale of φ.
//
// f is the explained output (logit by default, see explained_output.hpp);
// the target defaults to the class predicted at x and is kept for x − I.
// Perturbed inputs go through the model in chunks of out.batch_size.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "attribution/explained_output.hpp"

namespace fluxion {

enum class InfidelityPerturbation { gaussian, square_removal };

/// "gaussian" | "square" (ArgumentError otherwise).
InfidelityPerturbation parse_infidelity_perturbation(const std::string& name);

struct InfidelityOptions {
  InfidelityPerturbation perturbation = InfidelityPerturbation::gaussian;
  std::size_t samples = 10;        // Monte Carlo draws of I per example (Captum default)
  double noise_std = 0.1;          // gaussian: σ of I (inputs in [0, 1])
  std::size_t square_size = 4;     // square_removal: side s of the square (Quantus' patch size)
  double baseline_value = 0.0;     // square_removal: value b the square is set to; reference of multiply_by_inputs
  bool multiply_by_inputs = false; // φ already includes (x − b): use I ⊘ (x − b) in the dot product
  bool optimal_scaling = false;    // score βφ with the least-squares β instead of φ
  std::uint64_t seed = 0;
};

struct InfidelityResult {
  std::vector<double> infidelity;  // [N]
  std::vector<double> scale;       // [N]: β used (1 without optimal_scaling)
};

/// INFD = (1/S) Σ_s (β I_sᵀφ − (f(x) − f(x − I_s)))²  (β = 1, or the least-squares β with optimal_scaling).
/// x: [N, ...], attributions: same shape, targets: N classes or empty (= predicted).
template <class T>
InfidelityResult infidelity(const ExplainedOutput<T>& out, const Tensor<T>& x, const Tensor<T>& attributions,
                            const std::vector<std::size_t>& targets = {}, const InfidelityOptions& options = {});

}  // namespace fluxion
