#include "autodiff/backward.hpp"

#include <algorithm>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

#include "autodiff/errors.hpp"
#include "autodiff/ops.hpp"

namespace fluxion {

namespace {

// All nodes that require grad and are reachable from the roots, in creation
// (= topological) order. Iterative depth-first search.
template <class T>
std::vector<std::shared_ptr<Node<T>>> reachable_in_topological_order(const std::vector<Var<T>>& roots) {
  std::vector<std::shared_ptr<Node<T>>> order;
  std::unordered_set<Node<T>*> seen;
  std::vector<std::shared_ptr<Node<T>>> stack;
  for (const auto& r : roots)
    if (r.requires_grad() && seen.insert(r.node().get()).second) stack.push_back(r.node());
  while (!stack.empty()) {
    std::shared_ptr<Node<T>> n = std::move(stack.back());
    stack.pop_back();
    for (const auto& in : n->inputs)
      if (in.requires_grad() && seen.insert(in.node().get()).second) stack.push_back(in.node());
    order.push_back(std::move(n));
  }
  std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a->id < b->id; });
  return order;
}

// The reverse sweep. `wanted(node)` says whether a node's cotangent must be
// kept; `on_leaf` receives the cotangent of each leaf reached.
template <class T, class Keep>
void reverse_sweep(const std::vector<Var<T>>& roots, const std::vector<Var<T>>& root_grads,
                   const std::unordered_set<Node<T>*>& targets, bool create_graph, Keep&& keep) {
  std::vector<std::shared_ptr<Node<T>>> order = reachable_in_topological_order(roots);
  // A node matters if it is a target or one of its inputs matters
  // (ascending order visits inputs first). Targets empty = every leaf.
  std::unordered_set<Node<T>*> matters;
  for (const auto& node : order) {
    Node<T>* n = node.get();
    bool m = targets.empty() ? !n->vjp : targets.count(n) > 0;
    for (const auto& in : n->inputs) m = m || matters.count(in.node().get()) > 0;
    if (m) matters.insert(n);
  }
  std::unordered_map<Node<T>*, Var<T>> cotangent;
  for (std::size_t i = 0; i < roots.size(); ++i) {
    if (!roots[i].requires_grad()) continue;
    auto [it, fresh] = cotangent.try_emplace(roots[i].node().get(), root_grads[i]);
    if (!fresh) it->second = add(it->second, root_grads[i]);
  }
  EnableGradGuard mode(create_graph);
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    Node<T>* n = it->get();
    auto found = cotangent.find(n);
    if (found == cotangent.end() || !matters.count(n)) continue;
    Var<T> g = found->second;
    if (targets.count(n) || (targets.empty() && !n->vjp)) keep(n, g);
    cotangent.erase(found);
    if (!n->vjp) continue;
    std::vector<Var<T>> in_grads = n->vjp(n->inputs, Var<T>(*it), g);
    for (std::size_t i = 0; i < n->inputs.size(); ++i) {
      const Var<T>& in = n->inputs[i];
      if (i >= in_grads.size() || !in_grads[i].defined() || !in.requires_grad()) continue;
      Node<T>* target = in.node().get();
      if (!matters.count(target)) continue;
      if (in_grads[i].shape() != in.shape())
        throw std::logic_error("VJP rule of " + n->op + " returned a cotangent of shape " +
                               shape_str(in_grads[i].shape()) + " for an input of shape " + shape_str(in.shape()));
      auto [slot, fresh] = cotangent.try_emplace(target, in_grads[i]);
      if (!fresh) slot->second = add(slot->second, in_grads[i]);
    }
  }
}

template <class T>
Var<T> ones_like(const Var<T>& v) {
  return Var<T>(filled<T>(v.shape(), T(1)));
}

}  // namespace

template <class T>
std::vector<Var<T>> grad(const std::vector<Var<T>>& outputs, const std::vector<Var<T>>& inputs,
                         const std::vector<Var<T>>& output_grads, bool create_graph) {
  std::vector<Var<T>> seeds = output_grads;
  if (seeds.empty())
    for (const auto& o : outputs) seeds.push_back(ones_like(o));
  if (seeds.size() != outputs.size()) throw std::invalid_argument("grad: one output gradient per output is needed");
  for (std::size_t i = 0; i < outputs.size(); ++i)
    if (seeds[i].shape() != outputs[i].shape())
      throw ShapeError("grad: output gradient of shape " + shape_str(seeds[i].shape()) + " for an output of shape " +
                       shape_str(outputs[i].shape()));
  std::unordered_set<Node<T>*> targets;
  for (const auto& x : inputs) {
    if (!x.requires_grad()) throw std::invalid_argument("grad: an input does not require grad");
    targets.insert(x.node().get());
  }
  std::unordered_map<Node<T>*, Var<T>> found;
  reverse_sweep<T>(outputs, seeds, targets, create_graph, [&](Node<T>* n, const Var<T>& g) { found[n] = g; });
  std::vector<Var<T>> result;
  for (const auto& x : inputs) {
    auto it = found.find(x.node().get());
    result.push_back(it != found.end() ? it->second : Var<T>(filled<T>(x.shape(), T(0))));
  }
  return result;
}

template <class T>
void backward(const Var<T>& loss) {
  if (loss.numel() != 1) throw ShapeError("backward: loss must hold one element, got shape " + shape_str(loss.shape()));
  NoForwardGuard no_tangents;
  reverse_sweep<T>({loss}, {ones_like(loss)}, {}, false, [](Node<T>* n, const Var<T>& g) {
    if (!n->requires_grad) return;
    if (n->grad) *n->grad += g.value();
    else n->grad = std::make_unique<Tensor<T>>(g.value());
  });
}

template std::vector<Var<float>> grad(const std::vector<Var<float>>&, const std::vector<Var<float>>&,
                                      const std::vector<Var<float>>&, bool);
template std::vector<Var<double>> grad(const std::vector<Var<double>>&, const std::vector<Var<double>>&,
                                       const std::vector<Var<double>>&, bool);
template void backward(const Var<float>&);
template void backward(const Var<double>&);

}  // namespace fluxion
