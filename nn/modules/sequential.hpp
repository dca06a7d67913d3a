// Sequential: a stack of layers applied in order, as torch.nn.Sequential.
//
//     f(x) = f_{L−1}( … f_1( f_0(x) ) … )
//
// Parameter names are "<layer index>.<name>" ("0.weight", "3.bias", …),
// counting parameter-free layers too — exactly PyTorch's state_dict keys.
//
// A Sequential holds its layers through shared pointers, and copying a
// Sequential copies the pointers: the copy SHARES the layers (and so the
// weights). That is how smooth(), split_at_last_linear() and as_function()
// produce views of one trained model without duplicating it.
//
// `input_shape()` is the shape of one example ([1, 28, 28] for MNIST); it is
// part of the architecture description and lets every layer's output shape be
// checked before any data flows.
#pragma once

#include <memory>
#include <vector>

#include "autodiff/function.hpp"
#include "nn/modules/module.hpp"

namespace fluxion {

template <class T>
class Sequential : public Module<T> {
 public:
  using Layer = std::shared_ptr<Module<T>>;

  Sequential() = default;
  /// Checks that the layers fit together for `input_shape` (if not empty).
  Sequential(std::vector<Layer> layers, Shape input_shape);

  Var<T> forward(const Var<T>& x) override;
  std::string type() const override { return "sequential"; }
  /// The full architecture description {"input_shape": [...], "layers": [...]}.
  nlohmann::json describe() const override;
  Shape output_shape(const Shape& input) const override;
  std::vector<NamedParameter<T>> named_parameters() const override;
  std::vector<NamedParameter<T>> named_buffers() const override;
  void train(bool on = true) override;

  std::size_t size() const { return layers_.size(); }
  Module<T>& layer(std::size_t i) const { return *layers_.at(i); }
  const std::vector<Layer>& layers() const { return layers_; }
  const Shape& input_shape() const { return input_shape_; }
  /// Shape of one output example (for the stored input shape).
  Shape output_shape() const { return output_shape(input_shape_); }

 private:
  std::vector<Layer> layers_;
  Shape input_shape_;
};

/// The model as an autodiff Function, x ↦ model.forward(x) (batch → logits),
/// for grad / jvp / hvp / hessian (autodiff/transforms.hpp) and every
/// attribution method. The function holds a (weight-sharing) copy of the model.
template <class T>
Function<T> as_function(const Sequential<T>& model);

}  // namespace fluxion
