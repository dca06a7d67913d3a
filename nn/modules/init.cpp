#include "nn/modules/init.hpp"

#include <cmath>

#include "nn/modules/size_limits.hpp"

namespace fluxion {

template <class T>
Tensor<T> uniform_tensor(const Shape& shape, T bound, std::mt19937_64& rng) {
  checked_element_count(shape, "a parameter");  // before allocating (layers check first, with their name)
  Tensor<T> t(shape);
  // u = (top 53 bits of rng()) / 2^53 ∈ [0, 1): portable, unlike the
  // implementation-defined std::uniform_real_distribution.
  for (auto& v : t) {
    double u = static_cast<double>(rng() >> 11) * 0x1.0p-53;
    v = static_cast<T>((2.0 * u - 1.0) * static_cast<double>(bound));
  }
  return t;
}

double default_init_bound(std::size_t fan_in) { return fan_in == 0 ? 0.0 : 1.0 / std::sqrt(static_cast<double>(fan_in)); }

template Tensor<float> uniform_tensor(const Shape&, float, std::mt19937_64&);
template Tensor<double> uniform_tensor(const Shape&, double, std::mt19937_64&);

}  // namespace fluxion
