// Tensor storage for Fluxion: an xtensor row-major n-d array.
//
// Every value in the engine is a `Tensor<T>` (T = float or double). xtensor
// does the element-wise work and broadcasting; GEMMs go through Eigen maps
// over the same contiguous row-major buffer (see kernels.hpp).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <xtensor/xarray.hpp>

namespace fluxion {

template <class T>
using Tensor = xt::xarray<T, xt::layout_type::row_major>;

using Shape = std::vector<std::size_t>;

/// "[2, 3, 4]" — used in every shape error message.
std::string shape_str(const Shape& shape);

/// The shape of a tensor as a plain std::vector.
template <class T>
Shape shape_of(const Tensor<T>& t) {
  return Shape(t.shape().begin(), t.shape().end());
}

/// Product of the extents (1 for a scalar).
std::size_t numel_of(const Shape& shape);

/// A tensor of the given shape filled with `fill`.
template <class T>
Tensor<T> filled(const Shape& shape, T fill) {
  Tensor<T> t(shape);
  t.fill(fill);
  return t;
}

}  // namespace fluxion
