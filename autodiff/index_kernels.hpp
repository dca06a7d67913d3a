// Indexing kernels behind the structural primitives slice, pad, concat and
// take (ONNX Slice, Pad, Concat, Gather with constant indices), and their
// adjoints. All of them are linear maps that copy entries; each adjoint
// scatters (adds) them back.
//
// A strided box of a tensor of shape S is described by a SliceSpec: for every
// axis a, a start, a (non-zero) step and a count, so that box entry i reads
//   x[start[0] + i[0]·step[0], …, start[r−1] + i[r−1]·step[r−1]].
#pragma once

#include <cstdint>
#include <vector>

#include "autodiff/tensor.hpp"

namespace fluxion::kernels {

struct SliceSpec {
  Shape in_shape;                    // the tensor the box lies in
  Shape out_shape;                   // the box: out_shape[a] = count along axis a
  std::vector<std::ptrdiff_t> start; // per axis, in [0, in_shape[a]) when the count is > 0
  std::vector<std::ptrdiff_t> step;  // per axis, ≠ 0
};

/// ONNX Slice's box in a tensor of shape `in`: along axes[i] (all of
/// 0 … starts.size() − 1 if axes is empty; negative axes count from the end)
/// from starts[i] towards ends[i] (exclusive) in steps of steps[i] (1 if steps
/// is empty). Negative starts/ends count from the end; then starts and ends
/// are clamped to [0, n] (step > 0) or to [0, n − 1] and [−1, n − 1]
/// (step < 0), as ONNX specifies. Axes not named are taken whole. Throws
/// ShapeError (naming `op`) for mismatched lengths, a bad or repeated axis, or a zero step.
SliceSpec onnx_slice_spec(const Shape& in, const std::vector<std::int64_t>& starts,
                          const std::vector<std::int64_t>& ends, const std::vector<std::int64_t>& axes,
                          const std::vector<std::int64_t>& steps, const char* op);

/// The box [begin, begin + inner) with unit steps in a tensor of shape `outer` (pad's region).
SliceSpec box_spec(const Shape& outer, const std::vector<std::size_t>& begin, const Shape& inner);

/// y = x[box] : in_shape → out_shape.
template <class T>
Tensor<T> gather_box(const Tensor<T>& x, const SliceSpec& box);

/// The adjoint: y = `fill` everywhere, then y[box] = g : out_shape → in_shape
/// (a box holds each entry once). fill = 0: slice's adjoint; fill = the pad value: pad itself.
template <class T>
Tensor<T> scatter_box(const Tensor<T>& g, const SliceSpec& box, T fill);

/// The parts joined along `axis` (non-negative); the other axes must agree.
template <class T>
Tensor<T> concat(const std::vector<const Tensor<T>*>& parts, std::size_t axis);

/// y[o, j, i] = x[o, indices[j], i] with x viewed as [outer, n, inner]
/// (n = x.shape[axis]) and y as [outer, indices.size(), inner]; y's shape is
/// x.shape[:axis] + index_shape + x.shape[axis + 1:]. Indices are in [0, n).
template <class T>
Tensor<T> take(const Tensor<T>& x, const std::vector<std::size_t>& indices, const Shape& index_shape,
               std::size_t axis);

/// The adjoint: y = 0 of shape g.shape[:axis] + [size] + g.shape[axis + rank(index_shape):],
/// y[o, indices[j], i] += g[o, j, i].
template <class T>
Tensor<T> take_adjoint(const Tensor<T>& g, const std::vector<std::size_t>& indices, const Shape& index_shape,
                       std::size_t axis, std::size_t size);

}  // namespace fluxion::kernels
