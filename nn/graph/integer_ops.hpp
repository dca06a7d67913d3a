// Exact integer tensor ops for a graph's shape arithmetic (Shape → Gather →
// Unsqueeze → Concat → Reshape, as torch.onnx.export writes x.view(x.size(0), -1)).
// They carry no derivative: shapes, indices and axes are constants to the
// autodiff engine. Each follows the ONNX op of the same name.
#pragma once

#include <string>
#include <vector>

#include "nn/graph/graph_value.hpp"

namespace fluxion {

enum class IntegerBinary { add, sub, mul, div };

/// NumPy broadcasting of two shapes; InputError naming `where` if they do not broadcast.
Shape broadcast_shape(const Shape& a, const Shape& b, const std::string& where);

/// a ∘ b element-wise with broadcasting (div truncates towards zero, as C and ONNX do; b = 0 is an error).
IntTensor integer_binary(const IntTensor& a, const IntTensor& b, IntegerBinary op, const std::string& where);
IntTensor integer_negate(const IntTensor& a, const std::string& where);
/// The axes of `a` permuted: result axis i is a's axis perm[i].
IntTensor integer_permute(const IntTensor& a, const std::vector<std::size_t>& perm);
/// The parts joined along `axis` (all other extents equal).
IntTensor integer_concat(const std::vector<IntTensor>& parts, std::size_t axis, const std::string& where);
/// ONNX Slice (axes already normalised to [0, rank)).
IntTensor integer_slice(const IntTensor& a, const std::vector<std::int64_t>& starts, const std::vector<std::int64_t>& ends,
                        const std::vector<std::int64_t>& axes, const std::vector<std::int64_t>& steps);
/// ONNX Gather with indices already in [0, extent).
IntTensor integer_take(const IntTensor& a, const IntTensor& indices, std::size_t axis);

/// One axis of an ONNX Slice, resolved: the first index and how many
/// elements `count` are taken with `step` (negative indices counted from the
/// end, then clamped as the specification says).
struct SliceRange {
  std::int64_t first = 0, step = 1;
  std::size_t count = 0;
};
SliceRange resolve_slice(std::int64_t start, std::int64_t end, std::int64_t step, std::size_t extent);

}  // namespace fluxion
