// Module: one layer (or a stack of layers) of a neural network.
//
// A module maps a batch x of shape [N, ...] to a batch y = f_θ(x) of shape
// [N, ...]. Its parameters θ are autodiff leaves (Var<T>) that the module
// owns; `named_parameters()` lists them under PyTorch's state_dict names
// ("weight", "bias"; a Sequential prefixes its layer index: "0.weight").
//
// Train / eval mode. A module is in eval mode unless `train()` was called:
//   eval   parameters are constants for autodiff (requires_grad = false), so
//          d(output)/d(input) never builds weight gradients — what an
//          explanation method wants; Dropout is the identity.
//   train  parameters require grad, `backward(loss)` fills their .grad();
//          Dropout drops units.
// Models built from a description or loaded from a file start in eval mode.
//
// Buffers. Some layers keep state that is not trained by gradients but is
// part of the model (BatchNorm's running mean and variance): `named_buffers()`
// lists it under PyTorch's state_dict names ("running_mean"). Buffers never
// require grad; they are saved, loaded and checkpointed with the parameters
// (named_state), and only the optimizer ignores them.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "autodiff/var.hpp"

namespace fluxion {

/// One parameter and its state_dict name.
template <class T>
struct NamedParameter {
  std::string name;
  Var<T> value;
};

template <class T>
class Module {
 public:
  virtual ~Module() = default;

  /// y = f_θ(x) for a batch x [N, ...].
  virtual Var<T> forward(const Var<T>& x) = 0;

  /// The layer type as written in architecture descriptions ("linear", "relu", ...).
  virtual std::string type() const = 0;

  /// This layer's entry of an architecture description, e.g.
  /// {"type": "linear", "in": 784, "out": 256} (see nn/models/architecture.hpp).
  virtual nlohmann::json describe() const = 0;

  /// The shape of one output example for one input example (batch axis
  /// excluded). Throws ShapeError if the layer cannot take that input.
  virtual Shape output_shape(const Shape& input) const = 0;

  /// Parameters with their state_dict names (none for parameter-free layers).
  virtual std::vector<NamedParameter<T>> named_parameters() const { return {}; }

  /// Non-trained state with its state_dict names (none for most layers).
  virtual std::vector<NamedParameter<T>> named_buffers() const { return {}; }

  /// Switch between training and evaluation mode (see the file comment).
  virtual void train(bool on = true) {
    training_ = on;
    for (auto& p : named_parameters()) p.value.set_requires_grad(on);
  }
  void eval() { train(false); }
  bool training() const { return training_; }

 protected:
  bool training_ = false;
};

/// Everything a model file holds: the parameters, then the buffers — the
/// keys of PyTorch's state_dict (without num_batches_tracked, see batchnorm.hpp).
template <class T>
std::vector<NamedParameter<T>> named_state(const Module<T>& module) {
  std::vector<NamedParameter<T>> all = module.named_parameters();
  for (auto& b : module.named_buffers()) all.push_back(std::move(b));
  return all;
}

}  // namespace fluxion
