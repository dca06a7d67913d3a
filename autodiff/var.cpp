#include "autodiff/var.hpp"

#include <atomic>
#include <stdexcept>

#include "autodiff/errors.hpp"

namespace fluxion {

namespace {
std::atomic<std::uint64_t> next_node_id{1};
thread_local bool grad_mode = true;
thread_local bool forward_mode = true;
}  // namespace

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
const std::string& Var<T>::op_name() const {
  return node_->op;
}

template <class T>
std::uint64_t Var<T>::id() const {
  return node_->id;
}

// ---- make_op -------------------------------------------------------------

template <class T>
Var<T> make_op(const char* name, std::vector<Var<T>> inputs, Tensor<T> value,
               const JvpRule<T>& jvp, VjpRule<T> vjp) {
  bool needs_grad = false;
  bool has_tangent = false;
  for (const auto& in : inputs) {
    needs_grad = needs_grad || in.requires_grad();
    has_tangent = has_tangent || in.has_tangent();
  }
  needs_grad = needs_grad && grad_mode_enabled();
  auto node = std::make_shared<Node<T>>(std::move(value), needs_grad);
  node->op = name;

  if (has_tangent && forward_mode_enabled()) {
    std::vector<Var<T>> tangents;
    tangents.reserve(inputs.size());
    std::size_t k = 0;
    for (const auto& in : inputs) {
      tangents.push_back(in.tangent());
      if (in.has_tangent()) {
        std::size_t ki = in.tangent().shape()[0];
        if (k != 0 && ki != k)
          throw ShapeError(std::string(name) + ": inputs carry different numbers of tangent directions (" +
                           std::to_string(k) + " and " + std::to_string(ki) + ")");
        k = ki;
      }
    }
    NoForwardGuard no_nested_tangents;
    node->tangent = jvp(inputs, tangents);
    Shape expected = node->shape;
    expected.insert(expected.begin(), k);
    if (node->tangent.shape() != expected)
      throw std::logic_error(std::string("JVP rule of ") + name + " returned shape " +
                             shape_str(node->tangent.shape()) + ", expected " + shape_str(expected));
  }
  if (needs_grad) {
    node->inputs = std::move(inputs);
    node->vjp = std::move(vjp);
  }
  return Var<T>(std::move(node));
}

template <class T>
Var<T> make_dual(const Var<T>& primal, const Var<T>& tangent) {
  Shape expected = primal.shape();
  expected.insert(expected.begin(), tangent.shape().empty() ? 0 : tangent.shape()[0]);
  if (tangent.shape() != expected)
    throw ShapeError("make_dual: tangent shape " + shape_str(tangent.shape()) +
                     " does not match [k] + primal shape " + shape_str(primal.shape()));
  bool needs_grad = primal.requires_grad() && grad_mode_enabled();
  auto node = std::make_shared<Node<T>>(primal.value(), needs_grad);
  node->op = "dual";
  node->tangent = tangent;
  if (needs_grad) {
    node->inputs = {primal};
    node->vjp = [](const std::vector<Var<T>>&, const Var<T>&, const Var<T>& g) {
      return std::vector<Var<T>>{g};
    };
  }
  return Var<T>(std::move(node));
}

template class Var<float>;
template class Var<double>;
template struct Node<float>;
template struct Node<double>;
template Var<float> make_op(const char*, std::vector<Var<float>>, Tensor<float>, const JvpRule<float>&,
                            VjpRule<float>);
template Var<double> make_op(const char*, std::vector<Var<double>>, Tensor<double>,
                             const JvpRule<double>&, VjpRule<double>);
template Var<float> make_dual(const Var<float>&, const Var<float>&);
template Var<double> make_dual(const Var<double>&, const Var<double>&);

}  // namespace fluxion
