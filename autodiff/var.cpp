#include "autodiff/var.hpp"

#include <atomic>
#include <stdexcept>

#include "autodiff/errors.hpp"
#include "autodiff/memory_policy.hpp"

namespace fluxion {

namespace {
std::atomic<std::uint64_t> next_node_id{1};
thread_local bool grad_mode = true;
thread_local bool forward_mode = true;
// Every program that makes graph nodes links this file, so this is where the
// tensor memory policy is installed (memory_policy.hpp).
[[maybe_unused]] const bool tensor_memory_policy_installed = install_tensor_memory_policy();
}  // namespace

// The names, in the order of enum class Op (var.hpp).
const std::string& op_name(Op op) {
  static const std::string names[] = {
      "leaf",
      "dual",
#define FLUXION_PRIMITIVE(name, parameters) #name,
#include "autodiff/primitives.def"
#undef FLUXION_PRIMITIVE
      "custom",
  };
  return names[static_cast<std::size_t>(op)];
}

bool grad_mode_enabled() { return grad_mode; }
bool forward_mode_enabled() { return forward_mode; }

NoGradGuard::NoGradGuard() : previous_(grad_mode) { grad_mode = false; }
NoGradGuard::~NoGradGuard() { grad_mode = previous_; }
EnableGradGuard::EnableGradGuard(bool on) : previous_(grad_mode) { grad_mode = on; }
EnableGradGuard::~EnableGradGuard() { grad_mode = previous_; }
NoForwardGuard::NoForwardGuard() : previous_(forward_mode) { forward_mode = false; }
NoForwardGuard::~NoForwardGuard() { forward_mode = previous_; }

// ---- Node ----------------------------------------------------------------

template <class T>
Node<T>::Node(Tensor<T> v, bool rg)
    : value(std::move(v)), shape(shape_of(value)), requires_grad(rg), id(next_node_id++) {}

// Destroying the last handle of a long chain would recurse once per node
// through shared_ptr destructors. Instead, nodes about to die are moved to a
// thread-local work list and released one at a time by the outermost call.
template <class T>
Node<T>::~Node() {
  thread_local std::vector<std::shared_ptr<Node<T>>> pending;
  thread_local bool draining = false;
  auto defer = [](Var<T>& v) {
    if (v.node() && v.node().use_count() == 1) pending.push_back(v.release_node());
  };
  for (auto& in : inputs) defer(in);
  defer(tangent);
  if (draining) return;
  draining = true;
  while (!pending.empty()) {
    auto last = std::move(pending.back());
    pending.pop_back();
    last.reset();  // may push that node's inputs onto `pending`
  }
  draining = false;
}

// ---- Var -----------------------------------------------------------------

template <class T>
Var<T>::Var(Tensor<T> value, bool requires_grad)
    : node_(std::make_shared<Node<T>>(std::move(value), requires_grad)) {}

template <class T>
const Tensor<T>& Var<T>::value() const {
  if (!node_) throw std::logic_error("use of an undefined Var");
  return node_->value;
}

template <class T>
const Shape& Var<T>::shape() const {
  if (!node_) throw std::logic_error("use of an undefined Var");
  return node_->shape;
}

template <class T>
std::size_t Var<T>::numel() const {
  return numel_of(shape());
}

template <class T>
T Var<T>::item() const {
  if (numel() != 1)
    throw ShapeError("item() needs a one-element tensor, got shape " + shape_str(shape()));
  return *value().data();
}

template <class T>
bool Var<T>::requires_grad() const {
  return node_ && node_->requires_grad;
}

template <class T>
bool Var<T>::is_leaf() const {
  return node_ && !node_->vjp;
}

template <class T>
Var<T> Var<T>::tangent() const {
  return node_ ? node_->tangent : Var<T>();
}

template <class T>
bool Var<T>::has_tangent() const {
  return node_ && node_->tangent.defined();
}

template <class T>
const Tensor<T>& Var<T>::grad() const {
  if (!node_ || !node_->grad) throw std::logic_error("this Var has no accumulated gradient");
  return *node_->grad;
}

template <class T>
bool Var<T>::has_grad() const {
  return node_ && node_->grad != nullptr;
}

template <class T>
void Var<T>::zero_grad() {
  if (node_) node_->grad.reset();
}

template <class T>
void Var<T>::assign(Tensor<T> value) {
  if (!is_leaf()) throw std::logic_error("assign() is only allowed on leaves");
  if (shape_of(value) != node_->shape)
    throw ShapeError("assign: new value has shape " + shape_str(shape_of(value)) +
                     ", the Var has shape " + shape_str(node_->shape));
  node_->value = std::move(value);
}

template <class T>
void Var<T>::set_requires_grad(bool on) {
  if (!is_leaf()) throw std::logic_error("set_requires_grad() is only allowed on leaves");
  node_->requires_grad = on;
}

template <class T>
Var<T> Var<T>::detach() const {
  return Var<T>(value(), false);
}

template <class T>
Op Var<T>::op() const {
  if (!node_) throw std::logic_error("use of an undefined Var");
  return node_->op;
}

template <class T>
const std::string& Var<T>::op_name() const {
  return fluxion::op_name(op());
}

template <class T>
std::uint64_t Var<T>::id() const {
  if (!node_) throw std::logic_error("use of an undefined Var");
  return node_->id;
}

// ---- make_dual -----------------------------------------------------------

template <class T>
Var<T> make_dual(const Var<T>& primal, const Var<T>& tangent) {
  Shape expected = primal.shape();
  expected.insert(expected.begin(), tangent.shape().empty() ? 0 : tangent.shape()[0]);
  if (tangent.shape() != expected)
    throw ShapeError("make_dual: tangent shape " + shape_str(tangent.shape()) +
                     " does not match [k] + primal shape " + shape_str(primal.shape()));
  bool needs_grad = primal.requires_grad() && grad_mode_enabled();
  auto node = std::make_shared<Node<T>>(primal.value(), needs_grad);
  node->op = Op::dual;
  node->tangent = tangent;
  if (needs_grad) {
    node->inputs = {primal};
    node->vjp = [](std::size_t, const std::vector<Var<T>>&, const Var<T>&, const Var<T>& g) { return g; };
  }
  return Var<T>(std::move(node));
}

template class Var<float>;
template class Var<double>;
template struct Node<float>;
template struct Node<double>;
template Var<float> make_dual(const Var<float>&, const Var<float>&);
template Var<double> make_dual(const Var<double>&, const Var<double>&);

}  // namespace fluxion
