#include "autodiff/tensor.hpp"

namespace fluxion {

std::string shape_str(const Shape& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

std::size_t numel_of(const Shape& shape) {
  std::size_t n = 1;
  for (auto e : shape) n *= e;
  return n;
}

}  // namespace fluxion
