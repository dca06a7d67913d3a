#include "nn/modules/size_limits.hpp"

#include "autodiff/errors.hpp"

namespace fluxion {

std::size_t checked_element_count(const Shape& shape, const std::string& what) {
  std::uint64_t count = 1;
  for (std::size_t extent : shape) {
    if (__builtin_mul_overflow(count, std::uint64_t{extent}, &count) || count > kMaxLayerElements) {
      throw ShapeError(what + " of shape " + shape_str(shape) + " has more than 2^31 elements (the size limit)");
    }
  }
  return static_cast<std::size_t>(count);
}

}  // namespace fluxion
