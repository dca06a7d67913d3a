// Flatten, as torch.nn.Flatten(): [N, d1, d2, ...] → [N, d1·d2·…].
// Row-major, so a flattened NCHW image lists channel 0's rows first, exactly
// like PyTorch — which keeps exported Linear weights valid.
#pragma once

#include "nn/modules/module.hpp"

namespace fluxion {

template <class T>
class Flatten : public Module<T> {
 public:
  Var<T> forward(const Var<T>& x) override;
  std::string type() const override { return "flatten"; }
  nlohmann::json describe() const override;
  Shape output_shape(const Shape& input) const override { return {numel_of(input)}; }
};

}  // namespace fluxion
