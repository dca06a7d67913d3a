// Var: a differentiable value. The graph node behind it, and the list of ops.
//
// A `Var<T>` is a handle (shared pointer) to a `Node<T>`. A node holds
//   - its value (a Tensor) and the primitive that made it (`Op`, one
//     enumerator per line of autodiff/primitives.def),
//   - if it requires a gradient: the input Vars and the op's VJP rule,
//   - if forward mode is active: its tangent, itself a Var with one extra
//     leading axis of k directions: shape [k, ...value shape].
//
// Nodes are numbered in creation order. Because an op's inputs always exist
// before the op's output, creation order is a topological order of the graph:
// reverse mode walks it backwards (see backward.cpp), no recursion needed.
//
// Every primitive op is created through `make_op` (autodiff/make_op.hpp)
// from one formula per input: it records the VJP terms (for reverse mode)
// and at once evaluates the JVP terms of the inputs that carry a tangent
// (forward mode). The terms are written with Var ops, so the derivative
// computations are themselves differentiable: that is what makes
// grad-of-grad and forward-over-reverse Hessian-vector products exact.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "autodiff/tensor.hpp"

namespace fluxion {

template <class T>
struct Node;

/// What made a node: a leaf, a dual (make_dual), a primitive of the table
/// autodiff/primitives.def (Op::mul, Op::tanh, …), or an op written outside
/// the table (a test's deliberately wrong rule).
enum class Op : std::uint8_t {
  leaf,
  dual,
#define FLUXION_PRIMITIVE(name, parameters) name,
#include "autodiff/primitives.def"
#undef FLUXION_PRIMITIVE
  custom,
};

/// The op's name as the table spells it: "mul", "tanh", …; "leaf", "dual", "custom".
const std::string& op_name(Op op);

template <class T>
class Var {
 public:
  Var() = default;
  /// A leaf: a constant (requires_grad = false) or a variable to differentiate.
  explicit Var(Tensor<T> value, bool requires_grad = false);
  /// A handle to an existing node (shares it).
  explicit Var(std::shared_ptr<Node<T>> node) : node_(std::move(node)) {}

  /// False for a default-constructed Var ("no value", e.g. no gradient).
  bool defined() const { return node_ != nullptr; }
  /// The node's value (computed when the op was created).
  const Tensor<T>& value() const;
  /// The value's shape.
  const Shape& shape() const;
  /// Number of axes of the value.
  std::size_t rank() const { return shape().size(); }
  /// Number of elements of the value (1 for a scalar).
  std::size_t numel() const;
  /// The value of a one-element tensor.
  T item() const;

  /// Does reverse mode propagate to this node (a leaf variable, or an op on one)?
  bool requires_grad() const;
  /// True for nodes made by the Var(value) constructor (no inputs, no VJP rule).
  bool is_leaf() const;
  /// Forward-mode tangent, shape [k, ...shape()], or an undefined Var.
  Var<T> tangent() const;
  /// Does this node carry a forward-mode tangent?
  bool has_tangent() const;
  /// Gradient accumulated by `backward` on a leaf that requires grad.
  const Tensor<T>& grad() const;
  /// Has `backward` accumulated a gradient into this leaf?
  bool has_grad() const;
  /// Forget the accumulated gradient (has_grad() becomes false).
  void zero_grad();
  /// Replace a leaf's value in place (optimizers). Throws if not a leaf.
  void assign(Tensor<T> value);
  /// Set (or clear) the requires_grad flag of a leaf.
  void set_requires_grad(bool on);
  /// The same value, cut off from the graph and from tangents.
  Var<T> detach() const;

  /// The primitive that made this node (Op::mul, …; Op::leaf for leaves).
  Op op() const;
  /// Its name: "mul", "tanh", …; "leaf" for leaves.
  const std::string& op_name() const;
  /// Creation number: inputs always have smaller ids (a topological order).
  std::uint64_t id() const;
  /// The node behind the handle (its inputs, rules, tangent).
  const std::shared_ptr<Node<T>>& node() const { return node_; }
  /// Give up this handle's reference (used by the iterative node destructor).
  std::shared_ptr<Node<T>> release_node() { return std::move(node_); }

 private:
  std::shared_ptr<Node<T>> node_;
};

/// The VJP rule a node keeps for the reverse sweep: given input i, the inputs,
/// the output y and its cotangent ḡ, the term ā_i = ḡ · ∂y/∂a_i in the
/// output's shape; the sweep sums it over broadcast axes to the input's shape
/// (make_op.hpp builds it from one formula per input).
template <class T>
using VjpRule = std::function<Var<T>(std::size_t input, const std::vector<Var<T>>& inputs, const Var<T>& output,
                                     const Var<T>& grad)>;

template <class T>
struct Node {
  Tensor<T> value;
  Shape shape;
  bool requires_grad = false;
  std::uint64_t id = 0;
  Op op = Op::leaf;
  std::vector<Var<T>> inputs;   // kept only when requires_grad
  VjpRule<T> vjp;               // empty for leaves
  Var<T> tangent;               // forward mode
  std::unique_ptr<Tensor<T>> grad;  // leaves: accumulated by backward()

  /// A node holding value v; rg = requires_grad. Gets the next id.
  Node(Tensor<T> v, bool rg);
  ~Node();  // iterative: a 100k-node chain must not overflow the stack
};

/// A new leaf equal to `primal` whose tangent is `tangent` ([k, ...shape]).
/// Gradients flow through to `primal` (it is an identity op).
template <class T>
Var<T> make_dual(const Var<T>& primal, const Var<T>& tangent);

// ---- modes ---------------------------------------------------------------

/// Is the graph being recorded on this thread? (default: yes)
bool grad_mode_enabled();
/// Are JVP rules evaluated on this thread? (default: yes)
bool forward_mode_enabled();

/// Inside this scope no graph is recorded (inference, optimizer updates).
class NoGradGuard {
 public:
  /// Turns grad mode off until the guard is destroyed (then restores it).
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

/// Turn grad mode on inside a scope (backward with create_graph).
class EnableGradGuard {
 public:
  /// Sets grad mode to `on` until the guard is destroyed (then restores it).
  explicit EnableGradGuard(bool on);
  ~EnableGradGuard();
  EnableGradGuard(const EnableGradGuard&) = delete;
  EnableGradGuard& operator=(const EnableGradGuard&) = delete;

 private:
  bool previous_;
};

/// Inside this scope no tangents are propagated. JVP rules run in such a
/// scope, so that recomputing a primal inside a rule does not recurse.
class NoForwardGuard {
 public:
  /// Turns tangent propagation off until the guard is destroyed (then restores it).
  NoForwardGuard();
  ~NoForwardGuard();
  NoForwardGuard(const NoForwardGuard&) = delete;
  NoForwardGuard& operator=(const NoForwardGuard&) = delete;

 private:
  bool previous_;
};

}  // namespace fluxion
