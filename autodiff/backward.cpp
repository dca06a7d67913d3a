#include "autodiff/backward.hpp"

#include <algorithm>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

#include "autodiff/errors.hpp"
#include "autodiff/ops.hpp"

namespace fluxion {

namespace {

// The part of the graph a reverse sweep walks: every node that requires grad
// and is reachable from the roots, in creation (= topological) order, and
// each node's position in that order (so that per-node state can live in
// plain vectors indexed by position instead of one hash map per quantity).
template <class T>
struct SweepGraph {
  std::vector<std::shared_ptr<Node<T>>> order;
  std::unordered_map<Node<T>*, std::size_t> position;

  std::size_t at(Node<T>* n) const { return position.at(n); }
};

// Iterative depth-first search from the roots, then a sort by creation id.
template <class T>
SweepGraph<T> reachable_in_topological_order(const std::vector<Var<T>>& roots) {
  SweepGraph<T> graph;
  std::vector<std::shared_ptr<Node<T>>> stack;
  for (const auto& r : roots)
    if (r.requires_grad() && graph.position.emplace(r.node().get(), 0).second) stack.push_back(r.node());
  while (!stack.empty()) {
    std::shared_ptr<Node<T>> n = std::move(stack.back());
    stack.pop_back();
    for (const auto& in : n->inputs)
      if (in.requires_grad() && graph.position.emplace(in.node().get(), 0).second) stack.push_back(in.node());
    graph.order.push_back(std::move(n));
  }
  std::sort(graph.order.begin(), graph.order.end(), [](const auto& a, const auto& b) { return a->id < b->id; });
  for (std::size_t i = 0; i < graph.order.size(); ++i) graph.position[graph.order[i].get()] = i;
  return graph;
}

// A VJP term has the output's shape; where broadcasting stretched the input,
// its cotangent is the term summed over the stretched axes. A term that no
// input shape could have broadcast to is returned as it is (the caller's
// shape check then names the rule).
template <class T>
Var<T> summed_to_input(const Var<T>& term, const Shape& input) {
  const Shape& s = term.shape();
  if (s == input || s.size() < input.size()) return term;
  for (std::size_t a = 0; a < input.size(); ++a) {
    const std::size_t d = input[input.size() - 1 - a];
    if (d != 1 && d != s[s.size() - 1 - a]) return term;
  }
  return sum_to(term, input);
}

// The reverse sweep. `keep(node, cotangent)` receives the cotangent of each
// target reached (targets empty = every leaf).
template <class T, class Keep>
void reverse_sweep(const std::vector<Var<T>>& roots, const std::vector<Var<T>>& root_grads,
                   const std::unordered_set<Node<T>*>& targets, bool create_graph, Keep&& keep) {
  const SweepGraph<T> graph = reachable_in_topological_order(roots);
  const std::size_t count = graph.order.size();
  auto is_target = [&](Node<T>* n) { return targets.empty() ? !n->vjp : targets.count(n) > 0; };
  // A node matters if it is a target or one of its inputs matters
  // (ascending order visits inputs first).
  std::vector<char> matters(count, 0);
  for (std::size_t i = 0; i < count; ++i) {
    Node<T>* n = graph.order[i].get();
    bool m = is_target(n);
    for (const auto& in : n->inputs) m = m || (in.requires_grad() && matters[graph.at(in.node().get())]);
    matters[i] = m;
  }
  std::vector<Var<T>> cotangent(count);  // undefined = nothing has arrived yet
  auto accumulate = [&](std::size_t i, const Var<T>& g) {
    cotangent[i] = cotangent[i].defined() ? add(cotangent[i], g) : g;
  };
  for (std::size_t i = 0; i < roots.size(); ++i)
    if (roots[i].requires_grad()) accumulate(graph.at(roots[i].node().get()), root_grads[i]);
  EnableGradGuard mode(create_graph);
  for (std::size_t i = count; i-- > 0;) {
    if (!cotangent[i].defined() || !matters[i]) continue;
    Node<T>* n = graph.order[i].get();
    const Var<T> g = std::move(cotangent[i]);
    cotangent[i] = Var<T>();
    if (is_target(n)) keep(n, g);
    if (!n->vjp) continue;
    const Var<T> output(graph.order[i]);
    for (std::size_t j = 0; j < n->inputs.size(); ++j) {
      const Var<T>& in = n->inputs[j];
      if (!in.requires_grad()) continue;
      const std::size_t target = graph.at(in.node().get());
      if (!matters[target]) continue;
      const Var<T> term = n->vjp(j, n->inputs, output, g);  // ḡ · ∂y/∂a_j, the output's shape
      if (!term.defined()) continue;                         // the rule says: no gradient
      const Var<T> in_grad = summed_to_input(term, in.shape());
      if (in_grad.shape() != in.shape())
        throw std::logic_error("VJP rule of " + op_name(n->op) + " returned a cotangent of shape " +
                               shape_str(term.shape()) + " for an input of shape " + shape_str(in.shape()));
      accumulate(target, in_grad);
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
