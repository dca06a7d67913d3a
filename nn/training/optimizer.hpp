// Optimizer: updates parameters from their accumulated gradients.
//
//   for each step:  zero_grad();  backward(loss);  step();
//
// Its state (momentum buffers, Adam moments, the step count) is exposed as
// named tensors so that a training checkpoint can store it and a resumed run
// continues bit-for-bit (nn/training/checkpoint.hpp). Slot names are
// "<slot>.<parameter name>", e.g. "exp_avg.1.weight".
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "nn/modules/module.hpp"

namespace fluxion {

template <class T>
struct OptimizerState {
  std::uint64_t steps = 0;
  std::map<std::string, Tensor<T>> slots;
};

template <class T>
class Optimizer {
 public:
  Optimizer(std::vector<NamedParameter<T>> parameters, double lr);
  virtual ~Optimizer() = default;

  /// One update of every parameter that has a gradient.
  virtual void step() = 0;
  /// Short name: "sgd", "adam".
  virtual std::string name() const = 0;
  /// Forget accumulated gradients.
  void zero_grad();

  double lr() const { return lr_; }
  void set_lr(double lr) { lr_ = lr; }
  std::uint64_t steps() const { return steps_; }

  OptimizerState<T> state() const;
  /// Restores a state produced by state() for the same parameters; throws
  /// InputError naming the missing or mis-shaped slot.
  void load_state(const OptimizerState<T>& state);

 protected:
  /// Creates a state slot ("momentum_buffer", "exp_avg", ...): one zero
  /// tensor per parameter, same order as parameters_. The reference stays valid.
  std::vector<Tensor<T>>& add_slot(const std::string& slot);

  std::vector<NamedParameter<T>> parameters_;
  double lr_;
  std::uint64_t steps_ = 0;
  std::map<std::string, std::vector<Tensor<T>>> slots_;
};

}  // namespace fluxion
