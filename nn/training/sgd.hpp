// Stochastic gradient descent with momentum and weight decay, exactly as
// torch.optim.SGD (dampening 0, no Nesterov):
//
//   g ← ∇L(w) + λ w                      (weight decay λ, i.e. L2 penalty λ/2 ‖w‖²)
//   b ← g            on the first step,  b ← μ b + g  afterwards   (momentum μ)
//   w ← w − η b                          (learning rate η; b = g when μ = 0)
//
// (Sutskever et al. 2013, "On the importance of initialization and momentum".)
#pragma once

#include "nn/training/optimizer.hpp"

namespace fluxion {

template <class T>
class SGD : public Optimizer<T> {
 public:
  SGD(std::vector<NamedParameter<T>> parameters, double lr, double momentum = 0.0, double weight_decay = 0.0);
  void step() override;
  std::string name() const override { return "sgd"; }

 private:
  double momentum_, weight_decay_;
  std::vector<Tensor<T>>& buffer_;  // momentum buffers b (slot "momentum_buffer")
};

}  // namespace fluxion
