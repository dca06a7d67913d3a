// Residual block: the sum of two paths over the same input (He, Zhang, Ren &
// Sun, "Deep Residual Learning for Image Recognition", CVPR 2016, eq. 1–2):
//
//     y = body(x) + shortcut(x)          shortcut = identity when it has no layers
//
// body and shortcut are Sequentials (a projection shortcut is a 1×1 conv with
// stride, usually with BatchNorm). The ReLU after the addition is the next
// layer of the enclosing Sequential, so the block itself is linear in its
// two paths. Parameter names nest as PyTorch's would: "body.0.weight",
// "shortcut.1.running_mean"; the enclosing Sequential prefixes its index.
// Description: {"type": "residual", "body": [layers...], "shortcut": [layers...]}.
#pragma once

#include "nn/modules/sequential.hpp"

namespace fluxion {

template <class T>
class Residual : public Module<T> {
 public:
  Residual(Sequential<T> body, Sequential<T> shortcut);

  Var<T> forward(const Var<T>& x) override;
  std::string type() const override { return "residual"; }
  nlohmann::json describe() const override;
  /// Both paths must give the same shape (ShapeError naming the two).
  Shape output_shape(const Shape& input) const override;
  std::vector<NamedParameter<T>> named_parameters() const override;
  std::vector<NamedParameter<T>> named_buffers() const override;
  void train(bool on = true) override;

  const Sequential<T>& body() const { return body_; }
  const Sequential<T>& shortcut() const { return shortcut_; }

 private:
  Sequential<T> body_, shortcut_;
};

}  // namespace fluxion
