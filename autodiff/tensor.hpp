// Tensor storage for Fluxion: an xtensor row-major n-d array.
//
// Every value in the engine is a `Tensor<T>` (T = float or double). xtensor
// does the element-wise work and broadcasting; GEMMs go through Eigen maps
// over the same contiguous row-major buffer (see kernels.hpp).
#pragma once

#include <cstddef>
#include <limits>
#include <new>
#include <string>
#include <vector>

#include <xtensor/xarray.hpp>

namespace fluxion {

/// Allocates every tensor buffer on a 64-byte boundary (a cache line, and
/// the width of an AVX-512 register). Vectorised reductions (Eigen's sums and
/// dot products) peel scalar elements until the data is aligned, so with
/// malloc's 16-byte alignment their rounding would depend on where a buffer
/// happened to land: aligned buffers make every result reproducible bit for
/// bit, whatever instruction set the build uses.
template <class T>
struct AlignedAllocator {
  using value_type = T;
  static constexpr std::size_t alignment = 64;

  AlignedAllocator() noexcept = default;
  template <class U>
  AlignedAllocator(const AlignedAllocator<U>&) noexcept {}

  T* allocate(std::size_t n) {
    if (n > std::numeric_limits<std::size_t>::max() / sizeof(T) - alignment) throw std::bad_array_new_length();
    return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t{alignment}));
  }
  void deallocate(T* p, std::size_t) noexcept { ::operator delete(p, std::align_val_t{alignment}); }

  template <class U>
  bool operator==(const AlignedAllocator<U>&) const noexcept {
    return true;
  }
};

template <class T>
using Tensor = xt::xarray<T, xt::layout_type::row_major, AlignedAllocator<T>>;

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
