// A Fluxion graph as plain ONNX: the few things a Graph<T> may carry that
// the ONNX standard does not have, rewritten into standard ops that compute
// the same function (nn/export/onnx_writer.hpp then serializes the result).
//
//   Softplus with Fluxion's "beta" (a Sequential's softplus(β) layer):
//       SoftPlus_β(x) = ln(1 + e^{βx})/β = Softplus(β·x)/β
//       → Mul(x, β) → Softplus → Div(·, β), β a scalar initializer
//         (β = 1: a plain Softplus, the attribute dropped)
//   Relu in a smoothed graph (evaluation().relu_softplus_beta = β > 0,
//   Graph::with_relu_as_softplus, `--smooth-beta`): every Relu is SoftPlus_β,
//       → the same Mul → Softplus → Div
//   Cast: Fluxion keeps every real value in the graph's precision T and every
//   integer in int64 (nn/graph/graph_value.hpp), truncating towards zero
//   without wrapping to the narrower type; the file says the same:
//       Cast(to = float/double)          → Cast(to = T)
//       Cast(to = float16/bfloat16)      → Cast(to = that) → Cast(to = T)   (rounded, then widened)
//       Cast(to = int8 … uint64)         → Cast(to = int64)
//       Cast(to = bool)   (x ≠ 0 after truncation) → Cast(int64) → Cast(bool) → Cast(int64)
//   Constant value_float(s) (float32 by the standard) → a value tensor of T;
//   ConstantOfShape without a value (float32 0 by the standard) → a value tensor of T holding 0;
//   Dropout (inference: the identity; its training_mode input is a bool,
//   which Fluxion keeps as an integer) → Identity; a Dropout whose mask
//   output is used is refused, naming the node.
//
// Every other node is already standard and is kept as it is (the writer is
// generic: BatchNormalization, Add, GlobalAveragePool, ... need nothing).
//
// Values: outside the two β rewrites every node is the one Fluxion reads back,
// so a round trip gives bit-identical outputs and gradients. The β rewrite is
// the same function with different rounding: Fluxion evaluates SoftPlus_β as
//     max(x, 0) + log1p(e^{−β|x|})/β
// and the file as (max(βx, 0) + log1p(e^{−|βx|}))/β — bit-identical for x ≤ 0
// and for β a power of two, at most 1.2 ulp apart otherwise (measured on
// [−3, 3] for β = 10 and 0.3, float and double: tests/nn/test_onnx_export.cpp).
#pragma once

#include <map>
#include <string>
#include <type_traits>
#include <vector>

#include "nn/graph/graph.hpp"

namespace fluxion {

/// The nodes of a graph in standard ONNX form, and the constants the rewrites add.
template <class T>
struct StandardOnnxGraph {
  std::vector<GraphNode> nodes;                             // in evaluation order
  std::map<std::string, GraphValue<T>> added_constants;     // β initializers, by name
};

/// ONNX TensorProto data type of T: 1 (FLOAT) for float, 11 (DOUBLE) for double.
template <class T>
constexpr int onnx_element_type() {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "graphs are float or double");
  return std::is_same_v<T, float> ? 1 : 11;
}

/// `graph`'s nodes with every non-standard construct rewritten (see above).
/// Throws InputError naming the graph's source and the node it cannot write.
template <class T>
StandardOnnxGraph<T> standard_onnx_form(const Graph<T>& graph);

}  // namespace fluxion
