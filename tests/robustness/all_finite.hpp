// True when every number in `values` (a Tensor or a std::vector) is finite.
#pragma once

#include <cmath>

template <class Range>
bool all_finite(const Range& values) {
  for (const auto v : values)
    if (!std::isfinite(v)) return false;
  return true;
}
