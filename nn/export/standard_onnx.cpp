#include "nn/export/standard_onnx.hpp"

#include <algorithm>
#include <set>

#include "autodiff/errors.hpp"

namespace fluxion {

namespace {

// ONNX TensorProto.DataType codes the rewrites name.
constexpr std::int64_t kFloat = 1, kInt64 = 7, kBool = 9, kFloat16 = 10, kDouble = 11, kBfloat16 = 16;

bool is_real_code(std::int64_t code) { return code == kFloat || code == kFloat16 || code == kDouble || code == kBfloat16; }
bool is_integer_code(std::int64_t code) {
  switch (code) {
    case 2: case 3: case 4: case 5: case 6: case 7: case 9: case 12: case 13: return true;
    default: return false;
  }
}

GraphAttribute integer_attribute(std::int64_t v) {
  GraphAttribute a;
  a.kind = GraphAttribute::Kind::integer;
  a.i = v;
  return a;
}

/// A real tensor attribute (written in the graph's precision T, like every real value).
GraphAttribute real_tensor_attribute(Shape shape, std::vector<double> values) {
  GraphAttribute a;
  a.kind = GraphAttribute::Kind::tensor;
  ConstantTensor c;
  c.shape = std::move(shape);
  c.reals = std::move(values);
  a.t = std::make_shared<const ConstantTensor>(std::move(c));
  return a;
}

/// Names nobody uses yet: `stem` itself if it is free, else stem_1, stem_2, ...
class FreshNames {
 public:
  explicit FreshNames(std::set<std::string> taken) : taken_(std::move(taken)) {}
  std::string make(const std::string& stem) {
    std::string name = stem;
    for (std::size_t k = 1; taken_.count(name); ++k) name = stem + "_" + std::to_string(k);
    taken_.insert(name);
    return name;
  }

 private:
  std::set<std::string> taken_;
};

template <class T>
std::set<std::string> value_names(const Graph<T>& g) {
  std::set<std::string> names{g.input_name(), g.output_name()};
  for (const auto& [name, value] : g.constants()) names.insert(name);
  for (const GraphNode& n : g.nodes()) {
    names.insert(n.inputs.begin(), n.inputs.end());
    names.insert(n.outputs.begin(), n.outputs.end());
  }
  return names;
}

template <class T>
std::set<std::string> node_names(const Graph<T>& g) {
  std::set<std::string> names;
  for (const GraphNode& n : g.nodes()) names.insert(n.name);
  return names;
}

/// Walks the graph's nodes once, appending each one's standard form.
template <class T>
class StandardFormBuilder {
 public:
  explicit StandardFormBuilder(const Graph<T>& graph)
      : graph_(graph), values_(value_names(graph)), node_names_(node_names(graph)) {}

  StandardOnnxGraph<T> build() {
    const double smoothing = graph_.evaluation().relu_softplus_beta;
    for (std::size_t i = 0; i < graph_.nodes().size(); ++i) {
      const GraphNode& n = graph_.nodes()[i];
      if (n.op == "Softplus")
        softplus(n, i, softplus_beta_of(n, i));
      else if (n.op == "Relu" && smoothing > 0)
        softplus(n, i, T(smoothing));  // evaluated as softplus(x, T(β)) (nn/graph/graph_ops.cpp)
      else if (n.op == "Cast")
        cast(n, i);
      else if (n.op == "Constant")
        constant(n);
      else if (n.op == "ConstantOfShape")
        constant_of_shape(n);
      else if (n.op == "Dropout")
        dropout(n, i);
      else
        out_.nodes.push_back(n);
    }
    return std::move(out_);
  }

 private:
  const Graph<T>& graph_;
  FreshNames values_, node_names_;
  StandardOnnxGraph<T> out_;
  std::map<T, std::string> beta_constants_;  // one scalar initializer per distinct β

  [[noreturn]] void fail(const GraphNode& n, std::size_t index, const std::string& problem) const {
    throw InputError(graph_.source() + ": " + n.describe(index) + ": " + problem);
  }

  /// The name of a new node derived from `n`, e.g. "3.softplus/scale_by_beta".
  std::string derived_name(const GraphNode& n, std::size_t index, const std::string& role) {
    return node_names_.make((n.name.empty() ? n.op + "_" + std::to_string(index) : n.name) + "/" + role);
  }

  GraphNode derived(const GraphNode& n, std::size_t index, const std::string& role, std::string op,
                    std::vector<std::string> inputs, std::string output) {
    GraphNode d;
    d.op = std::move(op);
    d.name = derived_name(n, index, role);
    d.inputs = std::move(inputs);
    d.outputs = {std::move(output)};
    // Opset 6 broadcasts a Mul/Div operand only when asked (opset 7 made it implicit).
    if ((d.op == "Mul" || d.op == "Div") && graph_.evaluation().opset < 7) d.attributes["broadcast"] = integer_attribute(1);
    return d;
  }

  /// Fluxion's Softplus reads an optional "beta" (a real, or an integer) as T(β).
  T softplus_beta_of(const GraphNode& n, std::size_t index) const {
    auto it = n.attributes.find("beta");
    if (it == n.attributes.end()) return T(1);
    const GraphAttribute& a = it->second;
    if (a.kind == GraphAttribute::Kind::real) return T(a.f);
    if (a.kind == GraphAttribute::Kind::integer) return T(a.i);
    fail(n, index, "attribute 'beta' must be a number");
  }

  /// The scalar initializer holding β (shared by every node with the same β).
  std::string beta_constant(T beta) {
    auto it = beta_constants_.find(beta);
    if (it != beta_constants_.end()) return it->second;
    const std::string name = values_.make("softplus_beta");
    Tensor<T> value(Shape{});
    value.data()[0] = beta;
    out_.added_constants.emplace(name, GraphValue<T>::of(Var<T>(std::move(value))));
    beta_constants_.emplace(beta, name);
    return name;
  }

  // SoftPlus_β(x) = ln(1 + e^{βx})/β = Softplus(β·x)/β   (ONNX's Softplus is the β = 1 case)
  void softplus(const GraphNode& n, std::size_t index, T beta) {
    if (n.inputs.size() != 1 || n.outputs.size() != 1) fail(n, index, "Softplus takes one input and gives one output");
    if (beta == T(1)) {
      GraphNode plain = n;
      plain.op = "Softplus";
      plain.attributes.clear();
      out_.nodes.push_back(std::move(plain));
      return;
    }
    const std::string b = beta_constant(beta), y = n.outputs[0];
    const std::string scaled = values_.make(y + "/beta_x"), soft = values_.make(y + "/softplus_beta_x");
    out_.nodes.push_back(derived(n, index, "scale_by_beta", "Mul", {n.inputs[0], b}, scaled));
    out_.nodes.push_back(derived(n, index, "softplus", "Softplus", {scaled}, soft));
    out_.nodes.push_back(derived(n, index, "divide_by_beta", "Div", {soft, b}, y));
  }

  /// A Cast node reading `input` into `output`, converting to `to`.
  GraphNode cast_node(const GraphNode& n, std::size_t index, const std::string& role, std::string input,
                      std::string output, std::int64_t to) {
    GraphNode c = derived(n, index, role, "Cast", {std::move(input)}, std::move(output));
    c.attributes["to"] = integer_attribute(to);
    return c;
  }

  // Real targets stay in T (half and bfloat16 round first); integer targets are
  // int64 (truncation towards zero, no wrap-around); bool is (int64 x) ≠ 0.
  void cast(const GraphNode& n, std::size_t index) {
    auto it = n.attributes.find("to");
    if (it == n.attributes.end() || it->second.kind != GraphAttribute::Kind::integer || n.inputs.empty() ||
        n.outputs.size() != 1) {
      out_.nodes.push_back(n);  // Fluxion refuses it on evaluation; nothing to rewrite
      return;
    }
    const std::int64_t to = it->second.i;
    const std::string& x = n.inputs[0];
    const std::string& y = n.outputs[0];
    if (to == kFloat16 || to == kBfloat16) {
      const std::string rounded = values_.make(y + "/rounded");
      out_.nodes.push_back(cast_node(n, index, "round", x, rounded, to));
      out_.nodes.push_back(cast_node(n, index, "widen", rounded, y, onnx_element_type<T>()));
    } else if (to == kBool) {
      const std::string whole = values_.make(y + "/truncated"), truth = values_.make(y + "/nonzero");
      out_.nodes.push_back(cast_node(n, index, "truncate", x, whole, kInt64));
      out_.nodes.push_back(cast_node(n, index, "nonzero", whole, truth, kBool));
      out_.nodes.push_back(cast_node(n, index, "as_int64", truth, y, kInt64));
    } else {
      GraphNode c = n;
      if (is_real_code(to)) c.attributes["to"] = integer_attribute(onnx_element_type<T>());
      if (is_integer_code(to)) c.attributes["to"] = integer_attribute(kInt64);
      out_.nodes.push_back(std::move(c));
    }
  }

  // value_float / value_floats are float32 by the standard: a value tensor of T instead.
  void constant(const GraphNode& n) {
    GraphNode c = n;
    if (auto it = c.attributes.find("value_float"); it != c.attributes.end()) {
      const double v = it->second.kind == GraphAttribute::Kind::integer ? double(it->second.i) : it->second.f;
      c.attributes.erase(it);
      c.attributes["value"] = real_tensor_attribute({}, {v});
    } else if (auto fs = c.attributes.find("value_floats"); fs != c.attributes.end()) {
      const std::vector<double> v = fs->second.floats;
      c.attributes.erase(fs);
      c.attributes["value"] = real_tensor_attribute({v.size()}, v);
    }
    out_.nodes.push_back(std::move(c));
  }

  // Without a value the standard fills float32 zeros; Fluxion fills zeros of T.
  void constant_of_shape(const GraphNode& n) {
    GraphNode c = n;
    if (!c.attributes.count("value")) c.attributes["value"] = real_tensor_attribute({1}, {0.0});
    out_.nodes.push_back(std::move(c));
  }

  // Inference dropout is the identity (Fluxion refuses training_mode = true);
  // its mask (all ones) is dropped when nothing reads it.
  void dropout(const GraphNode& n, std::size_t index) {
    if (n.inputs.empty() || n.inputs[0].empty() || n.outputs.empty()) fail(n, index, "Dropout needs its data input and output");
    if (n.outputs.size() > 1 && !n.outputs[1].empty()) {
      const std::string& mask = n.outputs[1];
      if (mask == graph_.output_name())
        fail(n, index, "its mask output '" + mask + "' is the graph output, and an inference export writes Dropout as Identity");
      for (std::size_t j = index + 1; j < graph_.nodes().size(); ++j) {
        const GraphNode& reader = graph_.nodes()[j];
        if (std::find(reader.inputs.begin(), reader.inputs.end(), mask) != reader.inputs.end())
          fail(n, index, "its mask output '" + mask + "' is read by " + reader.describe(j) +
                             ", and an inference export writes Dropout as Identity");
      }
    }
    GraphNode identity;
    identity.op = "Identity";
    identity.name = n.name;
    identity.inputs = {n.inputs[0]};
    identity.outputs = {n.outputs[0]};
    out_.nodes.push_back(std::move(identity));
  }
};

}  // namespace

template <class T>
StandardOnnxGraph<T> standard_onnx_form(const Graph<T>& graph) {
  return StandardFormBuilder<T>(graph).build();
}

template StandardOnnxGraph<float> standard_onnx_form(const Graph<float>&);
template StandardOnnxGraph<double> standard_onnx_form(const Graph<double>&);

}  // namespace fluxion
