#include "nn/graph/sequential_graph.hpp"

#include <nlohmann/json.hpp>

#include "autodiff/errors.hpp"
#include "nn/modules/batchnorm.hpp"
#include "nn/modules/residual.hpp"

namespace fluxion {

namespace {

GraphAttribute ints_attribute(std::vector<std::int64_t> v) {
  GraphAttribute a;
  a.kind = GraphAttribute::Kind::integers;
  a.ints = std::move(v);
  return a;
}
GraphAttribute int_attribute(std::int64_t v) {
  GraphAttribute a;
  a.kind = GraphAttribute::Kind::integer;
  a.i = v;
  return a;
}
GraphAttribute real_attribute(double v) {
  GraphAttribute a;
  a.kind = GraphAttribute::Kind::real;
  a.f = v;
  return a;
}


/// Appends the nodes of `layers` (a Sequential's, or a residual path's) reading
/// value `input`; parameter names and value names start with `prefix`
/// ("" at the top, "3.body." inside layer 3's body). The last layer writes
/// `output`. Returns the name of the value the layers produce (`input` itself
/// for no layers: the identity shortcut).
template <class T>
std::string append_layers(const std::vector<std::shared_ptr<Module<T>>>& layers, const std::string& input,
                          const std::string& prefix, const std::string& output,
                          const std::map<std::string, GraphValue<T>>& constants, std::vector<GraphNode>& nodes,
                          const std::string& source) {
  std::string previous = input;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const Module<T>& layer = *layers[i];
    const nlohmann::json d = layer.describe();
    const std::string type = d.at("type").get<std::string>();
    const std::string at = prefix + std::to_string(i) + ".";
    const std::string result = i + 1 == layers.size() ? output : prefix + "h" + std::to_string(i);
    GraphNode n;
    n.name = at + type;
    n.inputs = {previous};
    n.outputs = {result};
    auto with_bias = [&] {
      if (constants.count(at + "bias")) n.inputs.push_back(at + "bias");
    };
    if (type == "residual") {  // y = body(x) + shortcut(x)
      const auto& block = dynamic_cast<const Residual<T>&>(layer);
      const std::string through_body =
          append_layers(block.body().layers(), previous, at + "body.", at + "body", constants, nodes, source);
      const std::string around =
          append_layers(block.shortcut().layers(), previous, at + "shortcut.", at + "shortcut", constants, nodes, source);
      n.op = "Add";
      n.inputs = {through_body, around};
    } else if (type == "linear") {
      n.op = "Gemm";
      n.inputs.push_back(at + "weight");
      with_bias();
      n.attributes["transB"] = int_attribute(1);
    } else if (type == "conv2d") {
      n.op = "Conv";
      n.inputs.push_back(at + "weight");
      with_bias();
      const auto k = d.at("kernel").get<std::int64_t>(), s = d.at("stride").get<std::int64_t>(),
                 p = d.at("padding").get<std::int64_t>();
      n.attributes["kernel_shape"] = ints_attribute({k, k});
      n.attributes["strides"] = ints_attribute({s, s});
      n.attributes["pads"] = ints_attribute({p, p, p, p});
      if (d.contains("groups")) n.attributes["group"] = int_attribute(d.at("groups").get<std::int64_t>());
    } else if (type == "batchnorm2d") {  // inference form: the running statistics
      n.op = "BatchNormalization";
      for (const char* name : {"weight", "bias", "running_mean", "running_var"}) n.inputs.push_back(at + name);
      n.attributes["epsilon"] = real_attribute(dynamic_cast<const BatchNorm2d<T>&>(layer).eps());
    } else if (type == "global_avgpool2d") {  // [N, C, H, W] → [N, C, 1, 1] → [N, C]
      GraphNode pool;
      pool.op = "GlobalAveragePool";
      pool.name = at + "global_average_pool";
      pool.inputs = {previous};
      pool.outputs = {at + "pooled"};
      nodes.push_back(std::move(pool));
      n.op = "Flatten";
      n.inputs = {at + "pooled"};
    } else if (type == "maxpool2d" || type == "avgpool2d") {
      n.op = type == "maxpool2d" ? "MaxPool" : "AveragePool";
      const auto k = d.at("kernel").get<std::int64_t>(), s = d.at("stride").get<std::int64_t>();
      n.attributes["kernel_shape"] = ints_attribute({k, k});
      n.attributes["strides"] = ints_attribute({s, s});
    } else if (type == "flatten") {
      n.op = "Flatten";
    } else if (type == "relu") {
      n.op = "Relu";
    } else if (type == "softplus") {
      n.op = "Softplus";
      n.attributes["beta"] = real_attribute(d.at("beta").get<double>());
    } else if (type == "tanh") {
      n.op = "Tanh";
    } else if (type == "sigmoid") {
      n.op = "Sigmoid";
    } else if (type == "dropout") {
      n.op = "Identity";  // inference
    } else {
      throw InputError(source + ": layer " + at.substr(0, at.size() - 1) + " (" + type + ") has no graph form");
    }
    previous = result;
    nodes.push_back(std::move(n));
  }
  return previous;
}

}  // namespace

template <class T>
Graph<T> to_graph(const Sequential<T>& model, const std::string& source) {
  std::map<std::string, GraphValue<T>> constants;
  for (const NamedParameter<T>& p : named_state(model))  // weights and running statistics
    constants.emplace(p.name, GraphValue<T>::of(Var<T>(p.value.value())));
  std::vector<GraphNode> nodes;
  append_layers(model.layers(), "input", "", "logits", constants, nodes, source);
  if (nodes.empty()) {  // the identity model
    GraphNode n;
    n.op = "Identity";
    n.inputs = {"input"};
    n.outputs = {"logits"};
    nodes.push_back(n);
  }
  return Graph<T>(source, "input", model.input_shape(), "logits", std::move(nodes), std::move(constants), GraphEvaluation{});
}

template Graph<float> to_graph(const Sequential<float>&, const std::string&);
template Graph<double> to_graph(const Sequential<double>&, const std::string&);

}  // namespace fluxion
