#include "nn/modules/activations.hpp"

#include <cmath>

#include <nlohmann/json.hpp>

#include "autodiff/errors.hpp"
#include "autodiff/ops.hpp"

namespace fluxion {

template <class T>
Var<T> ReLU<T>::forward(const Var<T>& x) {
  return relu(x);
}

template <class T>
nlohmann::json ReLU<T>::describe() const {
  return {{"type", "relu"}};
}

template <class T>
SoftPlus<T>::SoftPlus(T beta) : beta_(beta) {
  if (!(beta > T(0)) || !std::isfinite(beta))
    throw ArgumentError("softplus: beta must be a finite number > 0, got " + std::to_string(beta));
}

template <class T>
Var<T> SoftPlus<T>::forward(const Var<T>& x) {
  return softplus(x, beta_);
}

template <class T>
nlohmann::json SoftPlus<T>::describe() const {
  return {{"type", "softplus"}, {"beta", static_cast<double>(beta_)}};
}

template <class T>
Var<T> Tanh<T>::forward(const Var<T>& x) {
  return tanh(x);
}

template <class T>
nlohmann::json Tanh<T>::describe() const {
  return {{"type", "tanh"}};
}

template <class T>
Var<T> Sigmoid<T>::forward(const Var<T>& x) {
  return sigmoid(x);
}

template <class T>
nlohmann::json Sigmoid<T>::describe() const {
  return {{"type", "sigmoid"}};
}

template class ReLU<float>;
template class ReLU<double>;
template class SoftPlus<float>;
template class SoftPlus<double>;
template class Tanh<float>;
template class Tanh<double>;
template class Sigmoid<float>;
template class Sigmoid<double>;

}  // namespace fluxion
