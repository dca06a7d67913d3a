// Element-wise activation layers (no parameters, shape preserved):
//
//     relu(x)        = max(x, 0)
//     softplus_β(x)  = (1/β) ln(1 + e^{βx})     → relu as β → ∞; |softplus_β − relu| ≤ ln2/β
//     tanh(x)
//     sigmoid(x)     = 1 / (1 + e^{−x})
//
// SoftPlus(β) is what `smooth(model, β)` puts in place of every ReLU
// (nn/models/smoothing.hpp). PyTorch's Softplus switches to the identity
// above βx > 20; Fluxion always uses the exact stable formula (the two
// differ by less than e^{−20}/β).
#pragma once

#include "nn/modules/module.hpp"

namespace fluxion {

template <class T>
class ReLU : public Module<T> {
 public:
  Var<T> forward(const Var<T>& x) override;
  std::string type() const override { return "relu"; }
  nlohmann::json describe() const override;
  Shape output_shape(const Shape& input) const override { return input; }
};

template <class T>
class SoftPlus : public Module<T> {
 public:
  explicit SoftPlus(T beta = T(1));
  Var<T> forward(const Var<T>& x) override;
  std::string type() const override { return "softplus"; }
  nlohmann::json describe() const override;
  Shape output_shape(const Shape& input) const override { return input; }
  T beta() const { return beta_; }

 private:
  T beta_;
};

template <class T>
class Tanh : public Module<T> {
 public:
  Var<T> forward(const Var<T>& x) override;
  std::string type() const override { return "tanh"; }
  nlohmann::json describe() const override;
  Shape output_shape(const Shape& input) const override { return input; }
};

template <class T>
class Sigmoid : public Module<T> {
 public:
  Var<T> forward(const Var<T>& x) override;
  std::string type() const override { return "sigmoid"; }
  nlohmann::json describe() const override;
  Shape output_shape(const Shape& input) const override { return input; }
};

}  // namespace fluxion
