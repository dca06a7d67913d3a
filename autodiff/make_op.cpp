// The steps of make_op that do not depend on an op's formulas (make_op.hpp).
#include "autodiff/make_op.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "autodiff/errors.hpp"
#include "autodiff/ops.hpp"

namespace fluxion::engine {

template <class T>
bool records_gradient(const Vars<T>& inputs) {
  if (!grad_mode_enabled()) return false;
  for (const auto& in : inputs)
    if (in.requires_grad()) return true;
  return false;
}

template <class T>
std::size_t tangent_directions(Op op, const Vars<T>& inputs) {
  if (!forward_mode_enabled()) return 0;
  std::size_t k = 0;
  for (const auto& in : inputs) {
    if (!in.has_tangent()) continue;
    const std::size_t ki = in.tangent().shape()[0];
    if (k != 0 && ki != k)
      throw ShapeError(op_name(op) + ": inputs carry different numbers of tangent directions (" + std::to_string(k) +
                       " and " + std::to_string(ki) + ")");
    k = ki;
  }
  return k;
}

template <class T>
Var<T> output_seen_by_tangent_terms(const std::shared_ptr<Node<T>>& node, const Vars<T>& inputs) {
  bool recorded = node->requires_grad;
  for (const auto& in : inputs) recorded = recorded || (in.has_tangent() && in.tangent().requires_grad());
  if (!grad_mode_enabled() || !recorded) return Var<T>(node);
  auto twin = std::make_shared<Node<T>>(node->value, node->requires_grad);
  twin->op = node->op;
  twin->inputs = node->inputs;
  twin->vjp = node->vjp;
  return Var<T>(std::move(twin));
}

template <class T>
Var<T> lift(const Var<T>& t, std::size_t out_rank) {
  const Shape& s = t.shape();
  if (s.size() >= out_rank + 1) return t;
  Shape lifted{s[0]};
  lifted.insert(lifted.end(), out_rank + 1 - s.size(), 1);
  lifted.insert(lifted.end(), s.begin() + 1, s.end());
  return reshape(t, lifted);
}

namespace {

// Is s exactly [k, ...out]? (compared in place: this runs for every tangent term)
bool is_tangent_shape(const Shape& s, std::size_t k, const Shape& out) {
  return s.size() == out.size() + 1 && s[0] == k && std::equal(out.begin(), out.end(), s.begin() + 1);
}

Shape tangent_shape(std::size_t k, const Shape& out) {
  Shape s{k};
  s.insert(s.end(), out.begin(), out.end());
  return s;
}

}  // namespace

template <class T>
Var<T> add_tangent_term(const Var<T>& sum, const Var<T>& term, const Shape& out, Op op, std::size_t input) {
  const Var<T> lifted = lift(term, out.size());
  const Shape& s = lifted.shape();
  Var<T> fitted = lifted;
  if (!is_tangent_shape(s, s[0], out)) {
    bool broadcasts = s.size() == out.size() + 1;
    for (std::size_t a = 0; broadcasts && a < out.size(); ++a) broadcasts = s[a + 1] == out[a] || s[a + 1] == 1;
    if (!broadcasts)
      throw std::logic_error("JVP term " + std::to_string(input) + " of " + op_name(op) + " returned shape " +
                             shape_str(term.shape()) + ", which does not broadcast to " +
                             shape_str(tangent_shape(s[0], out)));
    fitted = broadcast_to(lifted, tangent_shape(s[0], out));
  }
  return sum.defined() ? add(sum, fitted) : fitted;
}

template <class T>
void set_tangent(Node<T>& node, Var<T> tangent, std::size_t k) {
  if (!tangent.defined() || !is_tangent_shape(tangent.shape(), k, node.shape))
    throw std::logic_error("JVP rule of " + op_name(node.op) + " returned shape " +
                           (tangent.defined() ? shape_str(tangent.shape()) : std::string("(none)")) + ", expected " +
                           shape_str(tangent_shape(k, node.shape)));
  node.tangent = std::move(tangent);
}

void check_term_count(Op op, const char* kind, std::size_t terms, std::size_t inputs) {
  if (terms != inputs)
    throw std::logic_error(op_name(op) + ": the rule has " + std::to_string(terms) + " " + kind + " terms for " +
                           std::to_string(inputs) + " inputs");
}

#define FLUXION_INSTANTIATE(T)                                                                       \
  template bool records_gradient(const Vars<T>&);                                                    \
  template std::size_t tangent_directions(Op, const Vars<T>&);                                       \
  template Var<T> output_seen_by_tangent_terms(const std::shared_ptr<Node<T>>&, const Vars<T>&);    \
  template Var<T> lift(const Var<T>&, std::size_t);                                                  \
  template Var<T> add_tangent_term(const Var<T>&, const Var<T>&, const Shape&, Op, std::size_t);     \
  template void set_tangent(Node<T>&, Var<T>, std::size_t);
FLUXION_INSTANTIATE(float)
FLUXION_INSTANTIATE(double)
#undef FLUXION_INSTANTIATE

}  // namespace fluxion::engine
