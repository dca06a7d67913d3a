#include "nn/export/onnx_writer.hpp"

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include <bit>
#include <cmath>
#include <sstream>

#include "autodiff/errors.hpp"
#include "nn/export/standard_onnx.hpp"
#include "nn/io/atomic_file.hpp"

namespace fluxion {

namespace {

// TensorProto.raw_data is little-endian; the bytes below are the host's.
static_assert(std::endian::native == std::endian::little, "the ONNX writer assumes a little-endian host");

void set_dims(onnx::TensorProto* t, const Shape& shape) {
  for (std::size_t d : shape) t->add_dims(std::int64_t(d));
}

/// A real tensor in T: data type FLOAT or DOUBLE, the values' bytes as raw_data.
template <class T>
void write_real_tensor(onnx::TensorProto* t, const std::string& name, const Shape& shape, const T* data, std::size_t count) {
  t->set_name(name);
  t->set_data_type(onnx_element_type<T>());
  set_dims(t, shape);
  t->set_raw_data(std::string(reinterpret_cast<const char*>(data), count * sizeof(T)));
}

/// An integer tensor: data type INT64 (every integer value of a graph is an int64).
void write_integer_tensor(onnx::TensorProto* t, const std::string& name, const Shape& shape,
                          const std::vector<std::int64_t>& values) {
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::INT64);
  set_dims(t, shape);
  t->set_raw_data(std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(std::int64_t)));
}

/// A graph constant as an initializer.
template <class T>
void write_constant(onnx::TensorProto* t, const std::string& name, const GraphValue<T>& v) {
  if (v.is_integer)
    write_integer_tensor(t, name, v.integer.shape, v.integer.data);
  else
    write_real_tensor(t, name, v.real.shape(), v.real.value().data(), v.real.value().size());
}

/// A tensor attribute (Constant's value, ConstantOfShape's fill): reals rounded
/// to T, as Fluxion evaluates them (GraphValue<T>::of).
template <class T>
void write_attribute_tensor(onnx::TensorProto* t, const ConstantTensor& c) {
  if (c.integer) {
    write_integer_tensor(t, "", c.shape, c.ints);
    return;
  }
  std::vector<T> values(c.reals.size());
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<T>(c.reals[i]);
  write_real_tensor(t, "", c.shape, values.data(), values.size());
}

std::string exact(double v) {
  std::ostringstream s;
  s.precision(17);
  s << v;
  return s.str();
}

/// ONNX's float attributes are float32: v rounded, noting it when that changes it.
float float_attribute(double v, const std::string& what, std::vector<std::string>& rounded) {
  const float f = static_cast<float>(v);
  if (double(f) != v && !std::isnan(v)) rounded.push_back(what + " " + exact(v) + " -> " + exact(f));
  return f;
}

template <class T>
void write_attribute(onnx::AttributeProto* p, const std::string& name, const GraphAttribute& a, const std::string& where,
                     std::vector<std::string>& rounded) {
  p->set_name(name);
  const std::string what = where + ": " + name;
  switch (a.kind) {
    case GraphAttribute::Kind::integer:
      p->set_type(onnx::AttributeProto::INT);
      p->set_i(a.i);
      break;
    case GraphAttribute::Kind::real:
      p->set_type(onnx::AttributeProto::FLOAT);
      p->set_f(float_attribute(a.f, what, rounded));
      break;
    case GraphAttribute::Kind::text:
      p->set_type(onnx::AttributeProto::STRING);
      p->set_s(a.s);
      break;
    case GraphAttribute::Kind::integers:
      p->set_type(onnx::AttributeProto::INTS);
      for (std::int64_t v : a.ints) p->add_ints(v);
      break;
    case GraphAttribute::Kind::reals:
      p->set_type(onnx::AttributeProto::FLOATS);
      for (double v : a.floats) p->add_floats(float_attribute(v, what, rounded));
      break;
    case GraphAttribute::Kind::tensor:
      if (!a.t) throw InputError(where + ": tensor attribute '" + name + "' holds no tensor");
      p->set_type(onnx::AttributeProto::TENSOR);
      write_attribute_tensor<T>(p->mutable_t(), *a.t);
      break;
  }
}

/// A graph input or output: element type T, shape [batch, extents...].
template <class T>
void write_value_info(onnx::ValueInfoProto* v, const std::string& name, const Shape& example, std::size_t fixed_batch,
                      const std::string& batch_name) {
  v->set_name(name);
  auto* tensor = v->mutable_type()->mutable_tensor_type();
  tensor->set_elem_type(onnx_element_type<T>());
  auto* shape = tensor->mutable_shape();
  if (fixed_batch > 0)
    shape->add_dim()->set_dim_value(std::int64_t(fixed_batch));
  else
    shape->add_dim()->set_dim_param(batch_name);
  for (std::size_t d : example) shape->add_dim()->set_dim_value(std::int64_t(d));
}

/// ONNX's own verdict: the checker, then shape inference with type checks in
/// strict mode (Python's onnx.checker.check_model(model, full_check=True)).
void check_with_onnx(const onnx::ModelProto& model, const std::string& source) {
  try {
    onnx::checker::check_model(model);
    onnx::ModelProto inferred = model;
    onnx::shape_inference::InferShapes(inferred, onnx::OpSchemaRegistry::Instance(),
                                       onnx::ShapeInferenceOptions(/*check_type=*/true, /*strict_mode=*/1));
  } catch (const std::exception& e) {
    std::string why;  // one line: the checker's message may span several
    for (char ch : std::string(e.what())) {
      if (ch == '\n') ch = ' ';
      if (!(ch == ' ' && (why.empty() || why.back() == ' '))) why += ch;
    }
    while (!why.empty() && why.back() == ' ') why.pop_back();
    throw InputError(source + ": the ONNX export does not pass ONNX's checker (" + why + ")");
  }
}

}  // namespace

template <class T>
OnnxExport export_onnx(const Graph<T>& graph, const OnnxExportOptions& options) {
  const StandardOnnxGraph<T> standard = standard_onnx_form(graph);
  OnnxExport result;
  result.opset = graph.evaluation().opset;
  result.element_type = onnx_element_type<T>();

  onnx::ModelProto model;
  model.set_ir_version(8);
  model.set_producer_name("fluxion");
  if (!options.doc_string.empty()) model.set_doc_string(options.doc_string);
  auto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(result.opset);

  onnx::GraphProto& g = *model.mutable_graph();
  g.set_name(options.graph_name);
  write_value_info<T>(g.add_input(), graph.input_name(), graph.input_shape(), graph.fixed_batch(), options.batch_name);
  for (const auto& [name, value] : graph.constants()) write_constant(g.add_initializer(), name, value);
  for (const auto& [name, value] : standard.added_constants) write_constant(g.add_initializer(), name, value);
  for (std::size_t i = 0; i < standard.nodes.size(); ++i) {
    const GraphNode& n = standard.nodes[i];
    onnx::NodeProto* p = g.add_node();
    p->set_op_type(n.op);
    p->set_name(n.name);
    for (const std::string& in : n.inputs) p->add_input(in);
    for (const std::string& out : n.outputs) p->add_output(out);
    const std::string where = graph.source() + ": " + n.describe(i) + ": attribute";
    for (const auto& [name, a] : n.attributes) write_attribute<T>(p->add_attribute(), name, a, where, result.rounded_attributes);
  }
  write_value_info<T>(g.add_output(), graph.output_name(), graph.output_shape(), graph.fixed_batch(), options.batch_name);

  check_with_onnx(model, graph.source());
  result.nodes = std::size_t(g.node_size());
  result.initializers = std::size_t(g.initializer_size());
  if (!model.SerializeToString(&result.bytes))
    throw InputError(graph.source() + ": the ONNX model does not serialize (above protobuf's 2 GiB?)");
  return result;
}

template <class T>
std::string onnx_model_bytes(const Graph<T>& graph, const OnnxExportOptions& options) {
  return export_onnx(graph, options).bytes;
}

template <class T>
OnnxExport write_onnx(const std::filesystem::path& path, const Graph<T>& graph, const OnnxExportOptions& options) {
  OnnxExport e = export_onnx(graph, options);
  write_bytes_atomically(path, e.bytes);
  return e;
}

template OnnxExport export_onnx(const Graph<float>&, const OnnxExportOptions&);
template OnnxExport export_onnx(const Graph<double>&, const OnnxExportOptions&);
template std::string onnx_model_bytes(const Graph<float>&, const OnnxExportOptions&);
template std::string onnx_model_bytes(const Graph<double>&, const OnnxExportOptions&);
template OnnxExport write_onnx(const std::filesystem::path&, const Graph<float>&, const OnnxExportOptions&);
template OnnxExport write_onnx(const std::filesystem::path&, const Graph<double>&, const OnnxExportOptions&);

}  // namespace fluxion
