#include "nn/onnx/onnx_reader.hpp"

#include <onnx/onnx_pb.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <fstream>
#include <set>

#include "autodiff/errors.hpp"
#include "nn/graph/graph_ops.hpp"
#include "nn/io/checked_reading.hpp"
#include "nn/modules/size_limits.hpp"

namespace fluxion {

namespace {

// ---- tensors ----------------------------------------------------------------

/// Bytes per element of an ONNX data type Fluxion reads; 0 for the others.
std::size_t element_bytes(int type) {
  switch (type) {
    case onnx::TensorProto::FLOAT: case onnx::TensorProto::INT32: case onnx::TensorProto::UINT32: return 4;
    case onnx::TensorProto::DOUBLE: case onnx::TensorProto::INT64: case onnx::TensorProto::UINT64: return 8;
    case onnx::TensorProto::FLOAT16: case onnx::TensorProto::BFLOAT16: case onnx::TensorProto::INT16:
    case onnx::TensorProto::UINT16: return 2;
    case onnx::TensorProto::INT8: case onnx::TensorProto::UINT8: case onnx::TensorProto::BOOL: return 1;
    default: return 0;
  }
}

bool is_real_type(int type) {
  return type == onnx::TensorProto::FLOAT || type == onnx::TensorProto::DOUBLE || type == onnx::TensorProto::FLOAT16 ||
         type == onnx::TensorProto::BFLOAT16;
}

/// IEEE half (binary16) bits → double, exactly.
double half_to_double(std::uint16_t h) {
  const int sign = (h >> 15) & 1, exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
  double v;
  if (exponent == 0)
    v = std::ldexp(double(mantissa), -24);
  else if (exponent == 31)
    v = mantissa ? std::nan("") : INFINITY;
  else
    v = std::ldexp(double(mantissa | 0x400), exponent - 25);
  return sign ? -v : v;
}

/// Element k of little-endian raw bytes of `type`, as double or int64.
double raw_real(const char* p, int type) {
  switch (type) {
    case onnx::TensorProto::FLOAT: { float f; std::memcpy(&f, p, 4); return f; }
    case onnx::TensorProto::DOUBLE: { double d; std::memcpy(&d, p, 8); return d; }
    case onnx::TensorProto::FLOAT16: { std::uint16_t h; std::memcpy(&h, p, 2); return half_to_double(h); }
    default: {  // BFLOAT16: the top half of a float
      std::uint16_t b; std::memcpy(&b, p, 2);
      const std::uint32_t bits = std::uint32_t(b) << 16;
      float f; std::memcpy(&f, &bits, 4); return f;
    }
  }
}
std::int64_t raw_integer(const char* p, int type) {
  switch (type) {
    case onnx::TensorProto::INT8: return std::int8_t(*p);
    case onnx::TensorProto::UINT8: case onnx::TensorProto::BOOL: return std::uint8_t(*p);
    case onnx::TensorProto::INT16: { std::int16_t v; std::memcpy(&v, p, 2); return v; }
    case onnx::TensorProto::UINT16: { std::uint16_t v; std::memcpy(&v, p, 2); return v; }
    case onnx::TensorProto::INT32: { std::int32_t v; std::memcpy(&v, p, 4); return v; }
    case onnx::TensorProto::UINT32: { std::uint32_t v; std::memcpy(&v, p, 4); return v; }
    case onnx::TensorProto::UINT64: { std::uint64_t v; std::memcpy(&v, p, 8); return std::int64_t(v); }
    default: { std::int64_t v; std::memcpy(&v, p, 8); return v; }
  }
}

/// A TensorProto → ConstantTensor, checking its declared shape against the
/// data it holds before anything of that size is allocated.
ConstantTensor read_tensor(const onnx::TensorProto& t, const std::string& where) {
  if (t.data_location() == onnx::TensorProto::EXTERNAL || t.external_data_size() > 0)
    throw InputError(where + ": tensor '" + t.name() + "' keeps its data in an external file; Fluxion reads only " +
                     "self-contained models (save with onnx.save(model, path, save_as_external_data=False))");
  if (t.has_segment()) throw InputError(where + ": tensor '" + t.name() + "' is segmented, which is not supported");
  const int type = t.data_type();
  const std::size_t bytes = element_bytes(type);
  if (bytes == 0)
    throw InputError(where + ": tensor '" + t.name() + "' has data type " + std::to_string(type) +
                     ", which Fluxion does not read (it reads float, double, float16, bfloat16, integers and bool)");
  Shape shape;
  for (int i = 0; i < t.dims_size(); ++i) {
    if (t.dims(i) < 0) throw InputError(where + ": tensor '" + t.name() + "' has a negative extent");
    shape.push_back(std::size_t(t.dims(i)));
  }
  std::size_t count;
  try {
    count = checked_element_count(shape, where + ": tensor '" + t.name() + "'");
  } catch (const ShapeError& e) {
    throw InputError(e.what());
  }
  ConstantTensor c;
  c.shape = shape;
  c.integer = !is_real_type(type);
  auto fail_count = [&](std::size_t have) {
    throw InputError(where + ": tensor '" + t.name() + "' of shape " + shape_str(shape) + " holds " + std::to_string(have) +
                     " values instead of " + std::to_string(count));
  };
  if (t.has_raw_data()) {
    const std::string& raw = t.raw_data();
    if (raw.size() != count * bytes) fail_count(raw.size() / bytes);
    if (c.integer) {
      c.ints.resize(count);
      for (std::size_t k = 0; k < count; ++k) c.ints[k] = raw_integer(raw.data() + k * bytes, type);
    } else {
      c.reals.resize(count);
      for (std::size_t k = 0; k < count; ++k) c.reals[k] = raw_real(raw.data() + k * bytes, type);
    }
    return c;
  }
  // typed fields
  switch (type) {
    case onnx::TensorProto::FLOAT:
      if (std::size_t(t.float_data_size()) != count) fail_count(std::size_t(t.float_data_size()));
      c.reals.assign(t.float_data().begin(), t.float_data().end());
      break;
    case onnx::TensorProto::DOUBLE:
      if (std::size_t(t.double_data_size()) != count) fail_count(std::size_t(t.double_data_size()));
      c.reals.assign(t.double_data().begin(), t.double_data().end());
      break;
    case onnx::TensorProto::INT64:
      if (std::size_t(t.int64_data_size()) != count) fail_count(std::size_t(t.int64_data_size()));
      c.ints.assign(t.int64_data().begin(), t.int64_data().end());
      break;
    case onnx::TensorProto::UINT32: case onnx::TensorProto::UINT64:
      if (std::size_t(t.uint64_data_size()) != count) fail_count(std::size_t(t.uint64_data_size()));
      for (std::uint64_t v : t.uint64_data()) c.ints.push_back(std::int64_t(v));
      break;
    default:  // int32_data holds int8/16/32, uint8/16, bool, and float16/bfloat16 bits
      if (std::size_t(t.int32_data_size()) != count) fail_count(std::size_t(t.int32_data_size()));
      for (std::int32_t v : t.int32_data()) {
        if (type == onnx::TensorProto::FLOAT16) {
          c.reals.push_back(half_to_double(std::uint16_t(v)));
        } else if (type == onnx::TensorProto::BFLOAT16) {
          const std::uint32_t bits = std::uint32_t(std::uint16_t(v)) << 16;
          float f;
          std::memcpy(&f, &bits, 4);
          c.reals.push_back(f);
        } else {
          c.ints.push_back(v);
        }
      }
  }
  return c;
}

// ---- attributes and nodes -------------------------------------------------------

GraphAttribute read_attribute(const onnx::AttributeProto& a, const std::string& where) {
  GraphAttribute g;
  switch (a.type()) {
    case onnx::AttributeProto::INT: g.kind = GraphAttribute::Kind::integer; g.i = a.i(); break;
    case onnx::AttributeProto::FLOAT: g.kind = GraphAttribute::Kind::real; g.f = a.f(); break;
    case onnx::AttributeProto::STRING: g.kind = GraphAttribute::Kind::text; g.s = a.s(); break;
    case onnx::AttributeProto::INTS:
      g.kind = GraphAttribute::Kind::integers;
      g.ints.assign(a.ints().begin(), a.ints().end());
      break;
    case onnx::AttributeProto::FLOATS:
      g.kind = GraphAttribute::Kind::reals;
      g.floats.assign(a.floats().begin(), a.floats().end());
      break;
    case onnx::AttributeProto::TENSOR:
      g.kind = GraphAttribute::Kind::tensor;
      g.t = std::make_shared<const ConstantTensor>(read_tensor(a.t(), where + ": attribute '" + a.name() + "'"));
      break;
    default:
      throw InputError(where + ": attribute '" + a.name() + "' is of a kind Fluxion does not read (type " +
                       std::to_string(int(a.type())) + ": graphs, sparse tensors, lists of strings or tensors)");
  }
  return g;
}

OnnxValueInfo read_value_info(const onnx::ValueInfoProto& v) {
  OnnxValueInfo info;
  info.name = v.name();
  if (v.type().has_tensor_type()) {
    const auto& tt = v.type().tensor_type();
    info.element_type = tt.elem_type();
    if (tt.has_shape()) {
      info.has_shape = true;
      for (const auto& d : tt.shape().dim()) info.dims.push_back(d.has_dim_value() ? d.dim_value() : -1);
    }
  }
  return info;
}

bool default_domain(const std::string& domain) { return domain.empty() || domain == "ai.onnx"; }

}  // namespace

bool looks_like_onnx(std::string_view head) { return !head.empty() && head[0] == 0x08; }

ConstantTensor parse_onnx_tensor(std::string_view bytes, const std::string& source) {
  onnx::TensorProto t;
  if (bytes.size() > kMaxOnnxBytes || !t.ParseFromArray(bytes.data(), int(bytes.size())))
    throw InputError(source + ": not a serialized ONNX TensorProto");
  return read_tensor(t, source);
}

OnnxModel parse_onnx(std::string_view bytes, const std::string& source) {
  if (bytes.size() > kMaxOnnxBytes)
    throw InputError(source + ": " + std::to_string(bytes.size()) + " bytes is above the 2 GiB that an ONNX file can hold");
  onnx::ModelProto proto;
  if (!proto.ParseFromArray(bytes.data(), int(bytes.size())))
    throw InputError(source + ": not an ONNX model (the protobuf ModelProto does not parse)");
  if (!proto.has_graph()) throw InputError(source + ": the ONNX model has no graph");

  OnnxModel m;
  m.source = source;
  for (const auto& op : proto.opset_import())
    if (default_domain(op.domain())) m.opset = int(op.version());
  if (m.opset == 0) throw InputError(source + ": the model imports no opset of the default ONNX domain");

  const onnx::GraphProto& g = proto.graph();
  for (const auto& t : g.initializer()) {
    if (t.name().empty()) throw InputError(source + ": an initializer has no name");
    if (m.initializers.count(t.name())) throw InputError(source + ": initializer '" + t.name() + "' is defined twice");
    m.initializers.emplace(t.name(), read_tensor(t, source));
  }
  if (g.sparse_initializer_size() > 0) throw InputError(source + ": sparse initializers are not supported");
  for (const auto& v : g.input())
    if (!m.initializers.count(v.name())) m.inputs.push_back(read_value_info(v));
  for (const auto& v : g.output()) m.outputs.push_back(read_value_info(v));
  if (m.outputs.empty()) throw InputError(source + ": the graph has no output");

  for (int i = 0; i < g.node_size(); ++i) {
    const onnx::NodeProto& n = g.node(i);
    GraphNode node;
    node.op = n.op_type();
    node.name = n.name();
    const std::string where = source + ": " + node.describe(std::size_t(i));
    if (!default_domain(n.domain()))
      throw InputError(where + ": op '" + n.domain() + "." + n.op_type() + "' is not in the default ONNX domain (opset " +
                       std::to_string(m.opset) + "), which is all Fluxion reads");
    std::string why;
    if (!graph_op_supported(node.op, m.opset, why)) throw InputError(where + ": " + why);
    node.inputs.assign(n.input().begin(), n.input().end());
    node.outputs.assign(n.output().begin(), n.output().end());
    for (const auto& a : n.attribute()) {
      if (!a.ref_attr_name().empty()) throw InputError(where + ": attribute references (functions) are not supported");
      node.attributes[a.name()] = read_attribute(a, where);
    }
    m.nodes.push_back(std::move(node));
  }
  return m;
}

OnnxModel read_onnx(const std::filesystem::path& path) {
  const std::uint64_t size = reading::existing_file_size(path);
  if (size > kMaxOnnxBytes)
    throw InputError(path.string() + ": " + std::to_string(size) + " bytes is above the 2 GiB that an ONNX file can hold");
  std::ifstream in = reading::open_for_reading(path);
  std::string bytes(size, '\0');
  reading::read_exact(in, bytes.data(), size, path.string());
  return parse_onnx(bytes, path.string());
}

template <class T>
Graph<T> onnx_graph(const OnnxModel& m, std::uint64_t max_value_elements) {
  if (m.inputs.size() != 1) {
    std::string names;
    for (const auto& v : m.inputs) names += (names.empty() ? "'" : ", '") + v.name + "'";
    throw InputError(m.source + ": the model has " + std::to_string(m.inputs.size()) + " inputs (" + names +
                     "); Fluxion explains models of one input tensor");
  }
  const OnnxValueInfo& in = m.inputs[0];
  if (!is_real_type(int(in.element_type)))
    throw InputError(m.source + ": the input '" + in.name + "' is not a real tensor (element type " +
                     std::to_string(in.element_type) + ")");
  if (!in.has_shape || in.dims.size() < 2)
    throw InputError(m.source + ": the input '" + in.name + "' must declare its shape [batch, ...]");
  Shape example;
  for (std::size_t i = 1; i < in.dims.size(); ++i) {
    if (in.dims[i] <= 0)
      throw InputError(m.source + ": axis " + std::to_string(i) + " of the input '" + in.name +
                       "' is dynamic; Fluxion needs a fixed example shape (only the batch axis may vary)");
    example.push_back(std::size_t(in.dims[i]));
  }
  try {
    checked_element_count(example, m.source + ": the input example");
  } catch (const ShapeError& e) {
    throw InputError(e.what());
  }
  std::map<std::string, GraphValue<T>> constants;
  for (const auto& [name, c] : m.initializers) constants.emplace(name, GraphValue<T>::of(c));
  GraphEvaluation evaluation;
  evaluation.opset = m.opset;
  evaluation.max_value_elements = max_value_elements;
  const std::size_t fixed_batch = in.dims[0] > 0 ? std::size_t(in.dims[0]) : 0;
  return Graph<T>(m.source, in.name, example, m.outputs[0].name, m.nodes, std::move(constants), evaluation, fixed_batch);
}

template Graph<float> onnx_graph(const OnnxModel&, std::uint64_t);
template Graph<double> onnx_graph(const OnnxModel&, std::uint64_t);

}  // namespace fluxion
