// Batch normalisation over the channels of [N, C, H, W], as torch.nn.BatchNorm2d
// (Ioffe & Szegedy, "Batch Normalization", ICML 2015, Algorithm 1):
//
//   training:  μ_c  = (1/m) Σ_{n,i,j} x[n,c,i,j],      m = N·H·W
//              σ²_c = (1/m) Σ_{n,i,j} (x[n,c,i,j] − μ_c)²       (biased: the batch's own spread)
//              y    = γ_c · (x − μ_c) / √(σ²_c + ε) + β_c
//              running_mean ← (1 − α)·running_mean + α·μ_c
//              running_var  ← (1 − α)·running_var  + α·σ²_c · m/(m − 1)   (unbiased estimate)
//   eval:      y    = γ_c · (x − running_mean_c) / √(running_var_c + ε) + β_c   (affine in x)
//
// PyTorch's defaults: momentum α = 0.1, ε = 1e-5, γ = 1, β = 0, running
// mean 0 and variance 1. In training mode every example's output depends on
// the whole batch through μ and σ², and the derivatives (first and second
// order, forward and reverse) are those of this formula, because it is
// written with autodiff ops (mean, sub, mul, sqrt, div) — no rule of its own.
// A batch with m = 1 value per channel is refused in training (its variance
// estimate would divide by m − 1 = 0), as PyTorch refuses it.
//
// Parameters "weight" (γ) and "bias" (β); buffers "running_mean",
// "running_var" (module.hpp). PyTorch's num_batches_tracked counter is not
// kept: it matters only for momentum = None (a cumulative average), which
// Fluxion does not offer.
#pragma once

#include "nn/modules/module.hpp"

namespace fluxion {

template <class T>
class BatchNorm2d : public Module<T> {
 public:
  explicit BatchNorm2d(std::size_t channels, double eps = 1e-5, double momentum = 0.1);

  Var<T> forward(const Var<T>& x) override;
  std::string type() const override { return "batchnorm2d"; }
  nlohmann::json describe() const override;
  Shape output_shape(const Shape& input) const override;
  std::vector<NamedParameter<T>> named_parameters() const override;
  std::vector<NamedParameter<T>> named_buffers() const override;

  std::size_t channels() const { return channels_; }
  double eps() const { return eps_; }
  double momentum() const { return momentum_; }
  const Var<T>& weight() const { return weight_; }
  const Var<T>& bias() const { return bias_; }
  const Var<T>& running_mean() const { return running_mean_; }
  const Var<T>& running_var() const { return running_var_; }

 private:
  std::size_t channels_;
  double eps_, momentum_;
  Var<T> weight_, bias_, running_mean_, running_var_;

  Var<T> normalise_with_batch_statistics(const Var<T>& x);
  Var<T> normalise_with_running_statistics(const Var<T>& x) const;
};

}  // namespace fluxion
