#include "nn/graph/sequential_graph.hpp"

#include <nlohmann/json.hpp>

#include "autodiff/errors.hpp"

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

}  // namespace

template <class T>
Graph<T> to_graph(const Sequential<T>& model, const std::string& source) {
  std::map<std::string, GraphValue<T>> constants;
  for (const NamedParameter<T>& p : model.named_parameters())
    constants.emplace(p.name, GraphValue<T>::of(Var<T>(p.value.value())));
  std::vector<GraphNode> nodes;
  std::string previous = "input";
  for (std::size_t i = 0; i < model.size(); ++i) {
    const nlohmann::json d = model.layer(i).describe();
    const std::string type = d.at("type").get<std::string>();
    const std::string prefix = std::to_string(i) + ".";
    GraphNode n;
    n.name = prefix + type;
    n.inputs = {previous};
    n.outputs = {i + 1 == model.size() ? std::string("logits") : "h" + std::to_string(i)};
    auto with_bias = [&] {
      if (constants.count(prefix + "bias")) n.inputs.push_back(prefix + "bias");
    };
    if (type == "linear") {
      n.op = "Gemm";
      n.inputs.push_back(prefix + "weight");
      with_bias();
      n.attributes["transB"] = int_attribute(1);
    } else if (type == "conv2d") {
      n.op = "Conv";
      n.inputs.push_back(prefix + "weight");
      with_bias();
      const auto k = d.at("kernel").get<std::int64_t>(), s = d.at("stride").get<std::int64_t>(),
                 p = d.at("padding").get<std::int64_t>();
      n.attributes["kernel_shape"] = ints_attribute({k, k});
      n.attributes["strides"] = ints_attribute({s, s});
      n.attributes["pads"] = ints_attribute({p, p, p, p});
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
      throw InputError(source + ": layer " + std::to_string(i) + " (" + type + ") has no graph form");
    }
    previous = n.outputs[0];
    nodes.push_back(std::move(n));
  }
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
