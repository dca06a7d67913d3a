// Dropout (Srivastava et al. 2014, "Dropout: A Simple Way to Prevent Neural
// Networks from Overfitting"), inverted as in torch.nn.Dropout:
//
//     train:  y = x ⊙ m / (1 − p),   m_i ~ Bernoulli(1 − p) independently
//     eval:   y = x
//
// The mask is a constant for autodiff, so the derivative is m / (1 − p).
// Masks come from the layer's own std::mt19937_64; the training loop reseeds
// it every epoch from its own generator (`reseed`), so a run is a function
// of its seed alone.
#pragma once

#include <random>

#include "nn/modules/module.hpp"

namespace fluxion {

template <class T>
class Dropout : public Module<T> {
 public:
  explicit Dropout(double p = 0.5, std::uint64_t seed = 0);
  Var<T> forward(const Var<T>& x) override;
  std::string type() const override { return "dropout"; }
  nlohmann::json describe() const override;
  Shape output_shape(const Shape& input) const override { return input; }
  double p() const { return p_; }
  void reseed(std::uint64_t seed) { rng_.seed(seed); }

 private:
  double p_;
  std::mt19937_64 rng_;
};

}  // namespace fluxion
