#include "nn/modules/flatten.hpp"

#include <nlohmann/json.hpp>

#include "autodiff/ops.hpp"

namespace fluxion {

template <class T>
Var<T> Flatten<T>::forward(const Var<T>& x) {
  return flatten(x);
}

template <class T>
nlohmann::json Flatten<T>::describe() const {
  return {{"type", "flatten"}};
}

template class Flatten<float>;
template class Flatten<double>;

}  // namespace fluxion
