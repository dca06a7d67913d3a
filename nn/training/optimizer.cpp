#include "nn/training/optimizer.hpp"

#include "autodiff/errors.hpp"

namespace fluxion {

template <class T>
Optimizer<T>::Optimizer(std::vector<NamedParameter<T>> parameters, double lr) : parameters_(std::move(parameters)), lr_(lr) {
  if (!(lr > 0)) throw ArgumentError("optimizer: the learning rate must be > 0");
}

template <class T>
void Optimizer<T>::zero_grad() {
  for (auto& p : parameters_) p.value.zero_grad();
}

template <class T>
OptimizerState<T> Optimizer<T>::state() const {
  OptimizerState<T> s;
  s.steps = steps_;
  for (const auto& [slot, buffers] : slots_)
    for (std::size_t i = 0; i < parameters_.size(); ++i) s.slots[slot + "." + parameters_[i].name] = buffers[i];
  return s;
}

template <class T>
void Optimizer<T>::load_state(const OptimizerState<T>& state) {
  for (const auto& [slot, buffers] : slots_)
    for (std::size_t i = 0; i < parameters_.size(); ++i) {
      std::string key = slot + "." + parameters_[i].name;
      auto it = state.slots.find(key);
      if (it == state.slots.end()) throw InputError("optimizer state: slot \"" + key + "\" is missing");
      if (shape_of(it->second) != parameters_[i].value.shape())
        throw InputError("optimizer state: slot \"" + key + "\" has shape " + shape_str(shape_of(it->second)) +
                         ", the parameter has " + shape_str(parameters_[i].value.shape()));
    }
  for (auto& [slot, buffers] : slots_)
    for (std::size_t i = 0; i < parameters_.size(); ++i) buffers[i] = state.slots.at(slot + "." + parameters_[i].name);
  steps_ = state.steps;
}

template <class T>
std::vector<Tensor<T>>& Optimizer<T>::add_slot(const std::string& slot) {
  std::vector<Tensor<T>>& buffers = slots_[slot];
  buffers.clear();
  for (const auto& p : parameters_) buffers.push_back(filled<T>(p.value.shape(), T(0)));
  return buffers;
}

template class Optimizer<float>;
template class Optimizer<double>;

}  // namespace fluxion
