#include "nn/graph/graph.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <set>

#include "autodiff/errors.hpp"
#include "autodiff/ops.hpp"
#include "nn/graph/graph_ops.hpp"

namespace fluxion {

std::string GraphNode::describe(std::size_t index) const {
  return (name.empty() ? "node " + std::to_string(index) : "node '" + name + "'") + " (" + op + ")";
}

namespace {

template <class T>
using ValueMap = std::map<std::string, GraphValue<T>>;

/// Indices of the nodes needed to compute `target` when the values in
/// `given` are supplied (the walk stops at them), in graph order; the values
/// the needed nodes read that nobody supplies are returned in `missing`.
template <class T>
std::vector<std::size_t> needed_nodes(const std::vector<GraphNode>& nodes, const std::string& target,
                                      const std::set<std::string>& given, const ValueMap<T>& constants,
                                      std::set<std::string>& missing) {
  std::set<std::string> need{target};
  std::vector<std::size_t> order;
  for (std::size_t i = nodes.size(); i-- > 0;) {
    const GraphNode& n = nodes[i];
    const bool wanted = std::any_of(n.outputs.begin(), n.outputs.end(),
                                    [&](const std::string& o) { return !o.empty() && need.count(o) && !given.count(o); });
    if (!wanted) continue;
    order.push_back(i);
    for (const std::string& o : n.outputs) need.erase(o);
    for (const std::string& in : n.inputs)
      if (!in.empty() && !given.count(in) && !constants.count(in)) need.insert(in);
  }
  for (const std::string& v : need)
    if (!given.count(v) && !constants.count(v)) missing.insert(v);
  std::reverse(order.begin(), order.end());
  return order;
}

/// Runs `order`'s nodes over `values` (which holds the constants and the supplied inputs).
template <class T>
void run_nodes(const std::vector<GraphNode>& nodes, const std::vector<std::size_t>& order, const GraphEvaluation& evaluation,
               const std::string& source, ValueMap<T>& values) {
  for (std::size_t i : order) {
    const GraphNode& n = nodes[i];
    OpCall<T> call{n, {}, evaluation, source + ": " + n.describe(i)};
    for (const std::string& in : n.inputs) {
      if (in.empty()) {
        call.inputs.push_back(nullptr);
        continue;
      }
      auto it = values.find(in);
      if (it == values.end()) call.fail("reads value '" + in + "', which is not computed before it");
      call.inputs.push_back(&it->second);
    }
    std::vector<GraphValue<T>> out;
    try {
      out = run_graph_op(call);
    } catch (const InputError&) {
      throw;
    } catch (const std::exception& e) {  // a kernel's ShapeError etc.: name the node
      call.fail(e.what());
    }
    for (std::size_t k = 0; k < n.outputs.size(); ++k) {
      if (n.outputs[k].empty()) continue;
      if (k >= out.size()) call.fail("output " + std::to_string(k) + " ('" + n.outputs[k] + "') is not supported");
      values[n.outputs[k]] = std::move(out[k]);
    }
  }
}

Shape batched(std::size_t n, const Shape& example) {
  Shape s{n};
  s.insert(s.end(), example.begin(), example.end());
  return s;
}

template <class T>
Shape example_of(const Shape& s) {
  return Shape(s.begin() + 1, s.end());
}

/// fn applied to slices of `slice` rows of x, the results joined along the batch axis.
template <class T>
Var<T> in_slices(const std::function<Var<T>(const Var<T>&)>& fn, const Var<T>& x, std::size_t slice_rows,
                 const std::string& source) {
  const std::size_t n = x.shape()[0];
  if (n == slice_rows) return fn(x);
  if (n % slice_rows != 0)
    throw InputError(source + ": the model fixes its batch axis to " + std::to_string(slice_rows) + ", and a batch of " +
                     std::to_string(n) + " is not a multiple of it");
  std::vector<Var<T>> parts;
  for (std::size_t start = 0; start < n; start += slice_rows)
    parts.push_back(fn(slice(x, {std::int64_t(start)}, {std::int64_t(start + slice_rows)}, {0}, {1})));
  return concat(parts, 0);
}

}  // namespace

template <class T>
Graph<T>::Graph(std::string source, std::string input_name, Shape example_shape, std::string output_name,
                std::vector<GraphNode> nodes, std::map<std::string, GraphValue<T>> constants, GraphEvaluation evaluation,
                std::size_t fixed_batch)
    : source_(std::move(source)),
      input_name_(std::move(input_name)),
      output_name_(std::move(output_name)),
      example_shape_(std::move(example_shape)),
      nodes_(std::make_shared<const std::vector<GraphNode>>(std::move(nodes))),
      constants_(std::make_shared<const ValueMap<T>>(std::move(constants))),
      evaluation_(evaluation),
      fixed_batch_(fixed_batch) {
  // Structure: every input defined before use, every value written once.
  std::set<std::string> defined{input_name_};
  for (const auto& [name, value] : *constants_) defined.insert(name);
  for (std::size_t i = 0; i < nodes_->size(); ++i) {
    const GraphNode& n = (*nodes_)[i];
    std::string why;
    if (!graph_op_supported(n.op, evaluation_.opset, why)) throw InputError(source_ + ": " + n.describe(i) + ": " + why);
    for (const std::string& in : n.inputs)
      if (!in.empty() && !defined.count(in))
        throw InputError(source_ + ": " + n.describe(i) + " reads value '" + in +
                         "', which neither the graph input, a constant nor an earlier node defines");
    for (const std::string& out : n.outputs) {
      if (out.empty()) continue;
      if (defined.count(out)) throw InputError(source_ + ": " + n.describe(i) + " writes value '" + out + "' a second time");
      defined.insert(out);
    }
  }
  if (!defined.count(output_name_)) throw InputError(source_ + ": no node computes the graph output '" + output_name_ + "'");

  // One trial evaluation gives the output shape (and a clear error now, not mid-explanation).
  const std::size_t trial_rows = fixed_batch_ > 0 ? fixed_batch_ : 1;
  const Var<T> trial = forward_whole(Var<T>(filled<T>(batched(trial_rows, example_shape_), T(0))));
  if (trial.rank() < 1 || trial.shape()[0] != trial_rows)
    throw InputError(source_ + ": the output '" + output_name_ + "' has shape " + shape_str(trial.shape()) +
                     ", which does not keep the batch axis of the input");
  output_shape_ = example_of<T>(trial.shape());

  // A file that fixes the batch size may still compute each example on its
  // own (Flatten, Conv, Gemm do); if a batch of two distinct examples gives
  // the rows of two single ones, whole batches are evaluated at once.
  if (fixed_batch_ == 1) {
    std::mt19937_64 rng(12345);
    std::normal_distribution<double> normal;
    Tensor<T> two(batched(2, example_shape_));
    for (std::size_t i = 0; i < two.size(); ++i) two.data()[i] = T(normal(rng));
    try {
      const Var<T> both_var = forward_whole(Var<T>(two));
      const Tensor<T>& both = both_var.value();
      const std::size_t per = numel_of(output_shape_);
      bool same = both_var.shape() == batched(2, output_shape_);
      for (std::size_t row = 0; row < 2 && same; ++row) {
        Tensor<T> one_row(batched(1, example_shape_));
        std::copy(two.data() + row * numel_of(example_shape_), two.data() + (row + 1) * numel_of(example_shape_), one_row.data());
        const Tensor<T> single = forward_whole(Var<T>(one_row)).value();
        for (std::size_t k = 0; k < per && same; ++k) {
          const double a = both.data()[row * per + k], b = single.data()[k];
          same = std::abs(a - b) <= 1e-4 * (1 + std::abs(b));
        }
      }
      if (same) fixed_batch_ = 0;
    } catch (const std::exception&) {
      // keeps evaluating one example at a time
    }
  }
}

template <class T>
std::map<std::string, GraphValue<T>> evaluate_nodes(const std::vector<GraphNode>& nodes,
                                                    std::map<std::string, GraphValue<T>> values,
                                                    const GraphEvaluation& evaluation, const std::string& source) {
  std::vector<std::size_t> order(nodes.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  run_nodes(nodes, order, evaluation, source, values);
  return values;
}

template <class T>
Var<T> Graph<T>::forward_whole(const Var<T>& x) const {
  ValueMap<T> values = *constants_;
  values[input_name_] = GraphValue<T>::of(x);
  std::set<std::string> missing;
  const auto order = needed_nodes(*nodes_, output_name_, {input_name_}, *constants_, missing);
  if (!missing.empty()) throw InputError(source_ + ": value '" + *missing.begin() + "' is needed but never computed");
  run_nodes(*nodes_, order, evaluation_, source_, values);
  const GraphValue<T>& y = values.at(output_name_);
  if (y.is_integer) throw InputError(source_ + ": the graph output '" + output_name_ + "' is an integer tensor");
  return y.real;
}

template <class T>
Var<T> Graph<T>::forward(const Var<T>& x) const {
  if (x.rank() != example_shape_.size() + 1 || example_of<T>(x.shape()) != example_shape_)
    throw ShapeError(source_ + ": the model takes a batch [N, " + shape_str(example_shape_).substr(1) + ", got " +
                     shape_str(x.shape()));
  if (fixed_batch_ == 0) return forward_whole(x);
  return in_slices<T>([this](const Var<T>& part) { return forward_whole(part); }, x, fixed_batch_, source_);
}

template <class T>
std::vector<std::pair<std::string, Tensor<T>>> Graph<T>::parameters() const {
  std::vector<std::pair<std::string, Tensor<T>>> out;
  for (const auto& [name, value] : *constants_)
    if (!value.is_integer) out.emplace_back(name, value.real.value());
  return out;
}

template <class T>
Graph<T> Graph<T>::with_relu_as_softplus(T beta) const {
  if (!(beta > 0) || !std::isfinite(double(beta))) throw ArgumentError("the SoftPlus β of a smoothed graph must be > 0");
  Graph<T> g = *this;
  g.evaluation_.relu_softplus_beta = double(beta);
  return g;
}

template <class T>
std::string Graph<T>::default_representation() const {
  for (std::size_t i = nodes_->size(); i-- > 0;) {
    const GraphNode& n = (*nodes_)[i];
    if ((n.op == "Gemm" || n.op == "MatMul") && n.inputs.size() >= 2 && constants_->count(n.inputs[1]))
      return n.inputs[0];
  }
  // Constant weights may also come from Constant nodes
  for (std::size_t i = nodes_->size(); i-- > 0;) {
    const GraphNode& n = (*nodes_)[i];
    if (n.op == "Gemm" || n.op == "MatMul") return n.inputs.at(0);
  }
  throw InputError(source_ + ": the graph has no Gemm or MatMul node, so it has no default representation layer " +
                   "(name one with --representation)");
}

template <class T>
typename Graph<T>::Split Graph<T>::split_at(const std::string& representation) const {
  bool known = representation == input_name_;
  for (const GraphNode& n : *nodes_)
    known = known || std::count(n.outputs.begin(), n.outputs.end(), representation) > 0;
  if (!known) throw InputError(source_ + ": no value of the graph is named '" + representation + "'");
  if (representation == output_name_ || representation == input_name_)
    throw InputError(source_ + ": the representation must lie strictly between the input and the output");
  std::set<std::string> missing;
  const auto head_order = needed_nodes(*nodes_, output_name_, {representation}, *constants_, missing);
  if (!missing.empty())
    throw InputError(source_ + ": the output depends on the input other than through '" + representation +
                     "' (value '" + *missing.begin() + "' bypasses it), so the model is not head ∘ features there");
  std::set<std::string> features_missing;
  const auto features_order = needed_nodes(*nodes_, representation, {input_name_}, *constants_, features_missing);

  const Graph<T> self = *this;
  auto features_whole = [self, features_order, representation](const Var<T>& x) {
    ValueMap<T> values = *self.constants_;
    values[self.input_name_] = GraphValue<T>::of(x);
    run_nodes(*self.nodes_, features_order, self.evaluation_, self.source_, values);
    const GraphValue<T>& h = values.at(representation);
    if (h.is_integer) throw InputError(self.source_ + ": the representation '" + representation + "' is an integer tensor");
    return h.real;
  };
  auto head_whole = [self, head_order, representation](const Var<T>& h) {
    ValueMap<T> values = *self.constants_;
    values[representation] = GraphValue<T>::of(h);
    run_nodes(*self.nodes_, head_order, self.evaluation_, self.source_, values);
    return values.at(self.output_name_).real;
  };
  Split split;
  const std::size_t rows = fixed_batch_ > 0 ? fixed_batch_ : 1;
  split.representation_shape =
      example_of<T>(features_whole(Var<T>(filled<T>(batched(rows, example_shape_), T(0)))).shape());
  const std::size_t slice_rows = fixed_batch_;
  const std::string source = source_;
  if (slice_rows == 0) {
    split.features = features_whole;
    split.head = head_whole;
  } else {
    split.features = [features_whole, slice_rows, source](const Var<T>& x) {
      return in_slices<T>(features_whole, x, slice_rows, source);
    };
    split.head = [head_whole, slice_rows, source](const Var<T>& h) { return in_slices<T>(head_whole, h, slice_rows, source); };
  }
  return split;
}

template <class T>
Function<T> as_function(const Graph<T>& graph) {
  return [graph](const Var<T>& x) { return graph.forward(x); };
}

template class Graph<float>;
template class Graph<double>;
template Function<float> as_function(const Graph<float>&);
template std::map<std::string, GraphValue<float>> evaluate_nodes(const std::vector<GraphNode>&, std::map<std::string, GraphValue<float>>,
                                                                 const GraphEvaluation&, const std::string&);
template std::map<std::string, GraphValue<double>> evaluate_nodes(const std::vector<GraphNode>&, std::map<std::string, GraphValue<double>>,
                                                                  const GraphEvaluation&, const std::string&);
template Function<double> as_function(const Graph<double>&);

}  // namespace fluxion
