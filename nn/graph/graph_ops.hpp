// THE GRAPH OP TABLE: what each ONNX operator computes, written with
// Fluxion's autodiff ops (autodiff/ops.hpp) — so every op here is
// differentiable to any order without a rule of its own. One row per op, in
// graph_ops.cpp: its name, the opsets it is read for, and its meaning, e.g.
//
//     Gemm   Y = α·op(A)·op(B) + β·C        (op = transpose if transA/transB)
//     Conv   Y = conv(X, W; strides, pads, dilations, group) + B
//     Relu   Y = max(X, 0)   (SoftPlus(β) when the graph is smoothed)
//
// following the ONNX operator specification (onnx/docs/Operators.md) for
// opsets 6–17, attribute by attribute; ops whose meaning changed between
// opsets (Softmax's axis, Clip/Pad/Slice/Squeeze reading inputs instead of
// attributes) read the graph's opset.
#pragma once

#include <string>
#include <vector>

#include "nn/graph/graph.hpp"

namespace fluxion {

/// One node about to be evaluated: its inputs (nullptr: an omitted optional
/// input), its attributes and how to name it in a message.
template <class T>
struct OpCall {
  const GraphNode& node;
  std::vector<const GraphValue<T>*> inputs;
  const GraphEvaluation& evaluation;
  std::string where;  // "<file>: node 'conv1' (Conv)"

  bool has_input(std::size_t i) const { return i < inputs.size() && inputs[i] != nullptr; }
  /// Input i as a real (differentiable) value; InputError if absent or integer.
  const Var<T>& real(std::size_t i) const;
  /// Input i as an integer tensor; InputError if absent or not integer (a real
  /// constant holding whole numbers is accepted: exported graphs do that).
  IntTensor integer(std::size_t i) const;
  const GraphAttribute* attribute(const std::string& name) const;
  std::int64_t attr_int(const std::string& name, std::int64_t fallback) const;
  double attr_float(const std::string& name, double fallback) const;
  std::string attr_string(const std::string& name, const std::string& fallback) const;
  std::vector<std::int64_t> attr_ints(const std::string& name, std::vector<std::int64_t> fallback = {}) const;
  /// InputError "<where>: <problem>".
  [[noreturn]] void fail(const std::string& problem) const;
};

/// Evaluates one node; its result has one value per node output (an output
/// the op does not produce is refused by graph_op_check first).
template <class T>
std::vector<GraphValue<T>> run_graph_op(const OpCall<T>& call);

/// Whether `op` is in the table for `opset`; if not, `why` says so in words
/// ("unsupported op 'If'", "Softmax is read for opsets 1–17, the model uses 18").
bool graph_op_supported(const std::string& op, int opset, std::string& why);

/// Every op of the table, in its order (for documentation and the tests).
std::vector<std::string> graph_op_names();

}  // namespace fluxion
