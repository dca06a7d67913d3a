// Size limits of layers. An architecture comes from outside (a model file, a
// flag), so its sizes are checked before anything is allocated: no parameter
// tensor and no per-example activation may exceed 2^31 elements (16 GiB in
// double; the .npy reader has the same limit). Larger sizes are a typo or a
// hostile file, and without the check they overflow or abort in the
// allocator instead of failing with a sentence.
#pragma once

#include <cstdint>
#include <string>

#include "autodiff/tensor.hpp"

namespace fluxion {

constexpr std::uint64_t kMaxLayerElements = std::uint64_t{1} << 31;

/// The number of elements of `shape`; ShapeError naming `what` if the count
/// overflows or is above kMaxLayerElements.
std::size_t checked_element_count(const Shape& shape, const std::string& what);

}  // namespace fluxion
