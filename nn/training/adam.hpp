// Adam (Kingma & Ba 2015, "Adam: A Method for Stochastic Optimization"),
// exactly as torch.optim.Adam (L2 weight decay added to the gradient):
//
//   g ← ∇L(w) + λ w
//   m ← β₁ m + (1 − β₁) g            v ← β₂ v + (1 − β₂) g²
//   m̂ = m / (1 − β₁ᵗ)                v̂ = v / (1 − β₂ᵗ)            (t = step count)
//   w ← w − η m̂ / (√v̂ + ε)
//
// Defaults β₁ = 0.9, β₂ = 0.999, ε = 1e−8.
#pragma once

#include "nn/training/optimizer.hpp"

namespace fluxion {

template <class T>
class Adam : public Optimizer<T> {
 public:
  Adam(std::vector<NamedParameter<T>> parameters, double lr, double weight_decay = 0.0, double beta1 = 0.9,
       double beta2 = 0.999, double eps = 1e-8);
  void step() override;
  std::string name() const override { return "adam"; }

 private:
  double weight_decay_, beta1_, beta2_, eps_;
  std::vector<Tensor<T>>& m_;  // first moment estimates (slot "exp_avg")
  std::vector<Tensor<T>>& v_;  // second moment estimates (slot "exp_avg_sq")
};

}  // namespace fluxion
