// Graph<T>: a model as a directed acyclic graph of nodes over named values,
// the shape every exported model has (ONNX, torch.onnx.export, tf2onnx):
//
//     value "x" ──Conv──▶ "c1" ──Relu──▶ "r1" ──Add(r1, x)──▶ "s1" ── … ──▶ "logits"
//
// A node reads any values computed before it (residual additions,
// concatenations) and writes one or more new ones; the nodes are stored in
// an order where every input is ready (topological order, checked when the
// graph is built). Evaluating the graph walks the nodes once, each node's op
// (nn/graph/graph_ops.hpp, one table of ONNX semantics) turning input
// values into output values with autodiff ops — so gradients, HVPs and
// Hessians through any graph are the engine's exact ones.
//
// Values are of two kinds (GraphValue): differentiable tensors (Var<T>: the
// input, activations, parameters) and integer tensors (shapes, indices,
// axes — ONNX's "shape arithmetic": Shape → Gather → Concat → Reshape),
// which are computed exactly and carry no derivative.
//
// A Sequential is the simple case of a graph: to_graph(sequential) gives the
// chain of the same ops with the same weights (nn/graph/sequential_graph.hpp).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "autodiff/function.hpp"
#include "nn/graph/graph_value.hpp"

namespace fluxion {

/// One node attribute (ONNX AttributeProto, the kinds Fluxion reads).
struct GraphAttribute {
  enum class Kind { integer, real, text, integers, reals, tensor } kind = Kind::integer;
  std::int64_t i = 0;
  double f = 0;
  std::string s;
  std::vector<std::int64_t> ints;
  std::vector<double> floats;
  std::shared_ptr<const ConstantTensor> t;  // Kind::tensor
};

/// One node: op(inputs) → outputs. An empty input name is an omitted
/// optional input (ONNX's convention).
struct GraphNode {
  std::string op;                      // ONNX op type: "Conv", "Relu", "Gemm", ...
  std::string name;                    // the node's name (for messages; may be empty)
  std::vector<std::string> inputs;
  std::vector<std::string> outputs;
  std::map<std::string, GraphAttribute> attributes;

  /// "node 'conv1' (Conv)" or "node 3 (Conv)" — how every message names it.
  std::string describe(std::size_t index) const;
};

/// Settings that change how ops evaluate without changing the graph.
struct GraphEvaluation {
  double relu_softplus_beta = 0;  // > 0: every Relu evaluates as SoftPlus(β) (smooth(graph, β))
  int opset = 17;                 // the default-domain opset the ops follow
  // The largest value (elements) an op may create; a larger one is an InputError
  // before it is allocated. 2^31 as for every layer (nn/modules/size_limits.hpp).
  std::uint64_t max_value_elements = std::uint64_t{1} << 31;
};

template <class T>
class Graph {
 public:
  Graph() = default;
  /// Checks the structure: every node's inputs are defined before it (by the
  /// graph input, a constant or an earlier node), no value is written twice,
  /// the output is produced; `example_shape` is one example's shape
  /// (without the batch axis). `fixed_batch` > 0: the file fixes the batch
  /// axis to that size (forward then evaluates in slices of that many).
  /// Throws InputError naming `source` and the node.
  Graph(std::string source, std::string input_name, Shape example_shape, std::string output_name,
        std::vector<GraphNode> nodes, std::map<std::string, GraphValue<T>> constants, GraphEvaluation evaluation,
        std::size_t fixed_batch = 0);

  /// f(x) for a batch x [N, example...] → the output value [N, ...].
  Var<T> forward(const Var<T>& x) const;

  const Shape& input_shape() const { return example_shape_; }
  /// One example's output shape (found by evaluating a batch of one zero example when built).
  const Shape& output_shape() const { return output_shape_; }
  const std::string& input_name() const { return input_name_; }
  const std::string& output_name() const { return output_name_; }
  const std::string& source() const { return source_; }
  const std::vector<GraphNode>& nodes() const { return *nodes_; }
  const std::map<std::string, GraphValue<T>>& constants() const { return *constants_; }
  const GraphEvaluation& evaluation() const { return evaluation_; }
  std::size_t fixed_batch() const { return fixed_batch_; }

  /// The floating-point constants (weights, biases, BatchNorm statistics) by name.
  std::vector<std::pair<std::string, Tensor<T>>> parameters() const;

  /// A graph sharing this one's nodes and weights whose Relu nodes evaluate as SoftPlus(β).
  Graph with_relu_as_softplus(T beta) const;

  /// The value IG2 and the representation methods use by default: the input of
  /// the last Gemm/MatMul node whose other operand is a constant (the logit layer).
  /// Throws InputError if there is none.
  std::string default_representation() const;

  /// model = head ∘ features with features(x) = the value `representation`
  /// and head(h) = the output computed from h alone. Throws InputError if the
  /// output depends on the input other than through `representation` (a
  /// residual path around it), or if no value has that name.
  struct Split {
    Function<T> features, head;
    Shape representation_shape;  // one example's
  };
  Split split_at(const std::string& representation) const;

 private:
  std::string source_, input_name_, output_name_;
  Shape example_shape_, output_shape_;
  std::shared_ptr<const std::vector<GraphNode>> nodes_;
  std::shared_ptr<const std::map<std::string, GraphValue<T>>> constants_;
  GraphEvaluation evaluation_;
  std::size_t fixed_batch_ = 0;

  Var<T> forward_whole(const Var<T>& x) const;
};

/// Runs `nodes` in order over `values` (the constants and the inputs, by
/// name) and returns every value, for graphs of several inputs and outputs
/// (ONNX's node tests); Graph<T> is the one-input, one-output case.
template <class T>
std::map<std::string, GraphValue<T>> evaluate_nodes(const std::vector<GraphNode>& nodes,
                                                    std::map<std::string, GraphValue<T>> values,
                                                    const GraphEvaluation& evaluation, const std::string& source);

/// The graph as an autodiff Function x ↦ graph.forward(x) (it holds a
/// weight-sharing copy), for grad / jvp / hvp / hessian and every method.
template <class T>
Function<T> as_function(const Graph<T>& graph);

}  // namespace fluxion
