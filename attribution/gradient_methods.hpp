// The gradient family: attributions read off the gradient of the explained
// output at (or around) the input.
//
//   saliency            S_i = |∂_i f(x)|     (or the signed gradient)
//                        — Simonyan, Vedaldi & Zisserman, "Deep Inside
//                          Convolutional Networks", 2014
//   gradient × input     A_i = x_i ∂_i f(x)
//                        — Shrikumar et al., "Not Just a Black Box", 2016
//   SmoothGrad           A = (1/n) Σ_s ∇f(x + ε_s),   ε_s ~ N(0, σ² I)
//                        — Smilkov et al., "SmoothGrad", 2017
//   SmoothGrad²          A = (1/n) Σ_s ∇f(x + ε_s)²   (element-wise square)
//   VarGrad              A = (1/n) Σ_s (∇f(x + ε_s) − SmoothGrad)²
//                        — both from Adebayo et al., "Local Explanation
//                          Methods for Deep Neural Networks Lack Sensitivity
//                          to Parameter Perturbations", 2018
//
// SmoothGrad's noise level follows the paper: σ = noise_fraction·(max x − min x)
// per example, 15 % by default, n = 50 samples. Two reference-compatible
// settings reproduce Captum's NoiseTunnel(Saliency(model)) (never defaults):
//   noise_sigma         an absolute σ, the same for every example (Captum's
//                       `stdevs`; the relative σ adapts to each input's range);
//   absolute_gradients  the statistic of |∇f(x + ε_s)| instead of ∇f(x + ε_s),
//                       as Captum's Saliency (abs=True) feeds NoiseTunnel:
//                       SmoothGrad (1/n) Σ_s |∇f(x + ε_s)|, VarGrad the
//                       variance of |∇f|; SmoothGrad² is unchanged (|g|² = g²).
// Signed averaging is the paper's definition: where the gradient's sign flips
// under noise it cancels, which |∇f| cannot. The noise is drawn from one
// seeded mt19937_64 in the fixed order (example, sample, element), so the result
// depends on the seed but not on batch_size. All n·N noisy points go through
// the model out.batch_size at a time.
#pragma once

#include <cstdint>
#include <optional>

#include "attribution/explained_output.hpp"

namespace fluxion {

struct SaliencyOptions {
  bool absolute = true;  // |∇f| (Simonyan et al.); false keeps the sign
};

/// ∇f or |∇f| for every example of x[N, ...]; targets empty = predicted classes.
template <class T>
Tensor<T> saliency(const ExplainedOutput<T>& out, const Tensor<T>& x, const std::vector<std::size_t>& targets = {},
                   const SaliencyOptions& options = {});

/// x ⊙ ∇f(x).
template <class T>
Tensor<T> gradient_times_input(const ExplainedOutput<T>& out, const Tensor<T>& x,
                               const std::vector<std::size_t>& targets = {});

enum class SmoothGradKind { mean, squared, variance };

struct SmoothGradOptions {
  std::size_t samples = 50;     // n noisy copies per example
  double noise_fraction = 0.15; // σ = noise_fraction · (max x_n − min x_n)
  std::uint64_t seed = 0;
  /// An absolute σ for every example, replacing noise_fraction (matches Captum
  /// NoiseTunnel's `stdevs`). std::nullopt: the relative σ above.
  std::optional<double> noise_sigma = std::nullopt;
  /// Take the statistic of |∇f| (matches Captum NoiseTunnel over Saliency, abs=True).
  bool absolute_gradients = false;
};

/// (1/n) Σ_s ∇f(x + ε_s).
template <class T>
Tensor<T> smoothgrad(const ExplainedOutput<T>& out, const Tensor<T>& x, const std::vector<std::size_t>& targets = {},
                     const SmoothGradOptions& options = {});
/// (1/n) Σ_s ∇f(x + ε_s)².
template <class T>
Tensor<T> smoothgrad_squared(const ExplainedOutput<T>& out, const Tensor<T>& x,
                             const std::vector<std::size_t>& targets = {}, const SmoothGradOptions& options = {});
/// The (biased, 1/n) sample variance of ∇f(x + ε_s) over s.
template <class T>
Tensor<T> vargrad(const ExplainedOutput<T>& out, const Tensor<T>& x, const std::vector<std::size_t>& targets = {},
                  const SmoothGradOptions& options = {});

/// The engine behind the three: one statistic (chosen by `kind`) of the noisy gradients.
template <class T>
Tensor<T> noisy_gradient_statistic(const ExplainedOutput<T>& out, const Tensor<T>& x,
                                   const std::vector<std::size_t>& targets, const SmoothGradOptions& options,
                                   SmoothGradKind kind);

}  // namespace fluxion
