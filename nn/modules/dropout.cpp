#include "nn/modules/dropout.hpp"

#include <nlohmann/json.hpp>

#include "autodiff/errors.hpp"
#include "autodiff/ops.hpp"

namespace fluxion {

template <class T>
Dropout<T>::Dropout(double p, std::uint64_t seed) : p_(p), rng_(seed) {
  if (!(p >= 0.0 && p < 1.0)) throw ArgumentError("dropout: p must be in [0, 1), got " + std::to_string(p));
}

template <class T>
Var<T> Dropout<T>::forward(const Var<T>& x) {
  if (!this->training() || p_ == 0.0) return x;
  Tensor<T> mask(x.shape());
  const T keep_scale = static_cast<T>(1.0 / (1.0 - p_));
  for (auto& m : mask) {
    double u = static_cast<double>(rng_() >> 11) * 0x1.0p-53;  // uniform [0, 1), portable
    m = u < p_ ? T(0) : keep_scale;
  }
  return mul(x, constant(std::move(mask)));
}

template <class T>
nlohmann::json Dropout<T>::describe() const {
  return {{"type", "dropout"}, {"p", p_}};
}

template class Dropout<float>;
template class Dropout<double>;

}  // namespace fluxion
