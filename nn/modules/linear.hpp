// Linear (fully connected) layer, as torch.nn.Linear:
//
//     y = x Wᵀ + b,   x: [N, in],  W: [out, in],  b: [out],  y: [N, out]
//
// Parameters "weight" [out, in] and "bias" [out] (PyTorch layout), initialised
// like PyTorch (see init.hpp).
#pragma once

#include <random>

#include "nn/modules/module.hpp"

namespace fluxion {

template <class T>
class Linear : public Module<T> {
 public:
  /// Seeded PyTorch-default initialisation; `bias = false` drops b.
  Linear(std::size_t in_features, std::size_t out_features, std::mt19937_64& rng, bool bias = true);

  Var<T> forward(const Var<T>& x) override;
  std::string type() const override { return "linear"; }
  nlohmann::json describe() const override;
  Shape output_shape(const Shape& input) const override;
  std::vector<NamedParameter<T>> named_parameters() const override;

  std::size_t in_features() const { return in_; }
  std::size_t out_features() const { return out_; }
  bool has_bias() const { return bias_.defined(); }
  const Var<T>& weight() const { return weight_; }
  const Var<T>& bias() const { return bias_; }

 private:
  std::size_t in_, out_;
  Var<T> weight_, bias_;
};

}  // namespace fluxion
