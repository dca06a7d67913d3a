// Reading ONNX models (the protobuf format every framework exports:
// torch.onnx.export, tf2onnx, jax2onnx) into Fluxion graphs.
//
//     OnnxModel m = parse_onnx(bytes, "model.onnx");   // validated pieces
//     Graph<double> g = onnx_graph<double>(m);         // one input, one output: explainable
//
// The file is untrusted: it is size-checked before it is parsed, every
// initializer's declared shape and data type are checked against its bytes
// before a tensor is allocated, tensors kept as external data are refused
// (Fluxion reads one self-contained file), and every problem is one
// InputError sentence naming the file — and the node, op and opset when a
// node is the problem. Ops follow nn/graph/graph_ops.hpp (opsets 6–17).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "nn/graph/graph.hpp"

namespace fluxion {

/// The largest ONNX file read: protobuf's own limit of 2 GiB (larger models
/// keep their weights as external data, which Fluxion refuses).
inline constexpr std::uint64_t kMaxOnnxBytes = (std::uint64_t{1} << 31) - 1;

/// One graph input or output: its name, element type (ONNX TensorProto
/// code: 1 float, 11 double, 7 int64, ...) and extents (−1: dynamic, named by dim_param).
struct OnnxValueInfo {
  std::string name;
  std::int64_t element_type = 0;
  std::vector<std::int64_t> dims;
  bool has_shape = false;
};

/// A parsed, validated ONNX model: what a Graph is built from.
struct OnnxModel {
  std::string source;  // the file, for messages
  int opset = 0;       // of the default domain
  std::vector<GraphNode> nodes;
  std::map<std::string, ConstantTensor> initializers;
  std::vector<OnnxValueInfo> inputs;   // the graph inputs that are not initializers
  std::vector<OnnxValueInfo> outputs;
};

/// Parses ONNX model bytes; `source` names them in messages.
OnnxModel parse_onnx(std::string_view bytes, const std::string& source);
/// Reads and parses an ONNX file.
OnnxModel read_onnx(const std::filesystem::path& path);

/// The explainable graph of a model with one real input [batch, example...]
/// (the batch axis dynamic or fixed) and its first output. Ops refuse to
/// create values of more than `max_value_elements` elements.
template <class T>
Graph<T> onnx_graph(const OnnxModel& model, std::uint64_t max_value_elements = std::uint64_t{1} << 31);

/// A serialized TensorProto (ONNX's test-data .pb files), validated like an initializer.
ConstantTensor parse_onnx_tensor(std::string_view bytes, const std::string& source);

/// Does `head` (a file's first bytes) look like an ONNX ModelProto? (field 1,
/// ir_version, as a varint — the first byte every exporter writes is 0x08).
bool looks_like_onnx(std::string_view head);

}  // namespace fluxion
