// Var: a differentiable value. The graph node behind it, and how ops are made.
//
// A `Var<T>` is a handle (shared pointer) to a `Node<T>`. A node holds
//   - its value (a Tensor),
//   - if it requires a gradient: the input Vars and the op's VJP rule,
//   - if forward mode is active: its tangent, itself a Var with one extra
//     leading axis of k directions: shape [k, ...value shape].
//
// Nodes are numbered in creation order. Because an op's inputs always exist
// before the op's output, creation order is a topological order of the graph:
// reverse mode walks it backwards (see backward.cpp), no recursion needed.
//
// Every primitive op is created through `make_op`, which records the VJP rule
// (for reverse mode) and immediately evaluates the JVP rule (forward mode)
// when an input carries a tangent. Both rules are written with Var ops, so the
// derivative computations are themselves differentiable: that is what makes
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

  /// The primitive that made this node ("mul", "tanh", …; "leaf" for leaves).
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

/// JVP rule: given the op's inputs and their tangents (undefined Var where an
/// input has none; every defined tangent has shape [k, ...input shape]),
/// return the output's tangent [k, ...output shape].
template <class T>
using JvpRule = std::function<Var<T>(const std::vector<Var<T>>& inputs,
                                     const std::vector<Var<T>>& tangents)>;

/// VJP rule: given the inputs, the output and the output's cotangent ḡ,
/// return one cotangent per input (undefined Var for "no gradient").
template <class T>
using VjpRule = std::function<std::vector<Var<T>>(const std::vector<Var<T>>& inputs,
                                                  const Var<T>& output, const Var<T>& grad)>;

template <class T>
struct Node {
  Tensor<T> value;
  Shape shape;
  bool requires_grad = false;
  std::uint64_t id = 0;
  std::string op = "leaf";
  std::vector<Var<T>> inputs;   // kept only when requires_grad
  VjpRule<T> vjp;               // empty for leaves
  Var<T> tangent;               // forward mode
  std::unique_ptr<Tensor<T>> grad;  // leaves: accumulated by backward()

  /// A node holding value v; rg = requires_grad. Gets the next id.
  Node(Tensor<T> v, bool rg);
  ~Node();  // iterative: a 100k-node chain must not overflow the stack
};

/// Create the node of a primitive op: value already computed by the forward
/// kernel; the VJP rule is recorded if grad mode is on and an input requires
/// grad; the JVP rule runs now if forward mode is on and an input has a tangent.
template <class T>
Var<T> make_op(const char* name, std::vector<Var<T>> inputs, Tensor<T> value,
               const JvpRule<T>& jvp, VjpRule<T> vjp);

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
