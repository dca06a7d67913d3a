// Writing Fluxion graphs as ONNX models — the reverse of nn/onnx/onnx_reader.hpp:
//
//     Graph<double> g = to_graph(build_model<double>("cnn", 7));   // or load_graph, onnx_graph, smoothing
//     write_onnx("cnn.onnx", g, {});                               // any ONNX runtime, Netron, PyTorch
//
// The file is a ModelProto of IR version 8 importing the graph's opset of the
// default domain (17 for a Sequential), producer "fluxion":
//   - one graph input of element type T (float → FLOAT, double → DOUBLE) and
//     shape [N, example...], N a dim_param (or the batch the graph fixes);
//   - one graph output of shape [N, output...];
//   - every constant as an initializer (reals in T, integers in int64, raw
//     little-endian bytes);
//   - every node with its op, name, inputs, outputs and attributes, after the
//     rewrites of nn/export/standard_onnx.hpp (Softplus(β), smoothed Relu,
//     Cast, Constant, ConstantOfShape, Dropout) so that it is standard ONNX.
// Before anything is returned the model is run through ONNX's own checker and
// strict shape inference (onnx::checker::check_model and onnx::shape_inference
// with type checks, what Python's check_model(..., full_check=True) runs); a
// model it refuses is an InputError with the checker's sentence.
//
// ONNX keeps float attributes (Gemm's α, BatchNormalization's ε, ...) in
// float32: a real attribute that float32 cannot hold exactly is rounded, and
// the export lists it (OnnxExport::rounded_attributes) so nobody is surprised
// that the file computes with ε = 9.99999975e-06 instead of 1e-5.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "nn/graph/graph.hpp"

namespace fluxion {

struct OnnxExportOptions {
  std::string graph_name = "fluxion_graph";  // GraphProto.name
  std::string batch_name = "N";              // dim_param of the batch axis (unless the graph fixes the batch)
  std::string doc_string;                    // ModelProto.doc_string, e.g. where the model came from
};

/// A serialized model and what it holds.
struct OnnxExport {
  std::string bytes;                            // the ModelProto
  std::size_t nodes = 0, initializers = 0;
  int opset = 0;
  int element_type = 0;                         // 1 FLOAT or 11 DOUBLE
  std::vector<std::string> rounded_attributes;  // "node 'bn1' (BatchNormalization): epsilon 1e-05 → 9.99999975e-06"
};

/// The model as ONNX (see above). Throws InputError naming the graph's source
/// and the node when a node has no standard form, or when ONNX's checker refuses the result.
template <class T>
OnnxExport export_onnx(const Graph<T>& graph, const OnnxExportOptions& options = {});

/// export_onnx(...).bytes.
template <class T>
std::string onnx_model_bytes(const Graph<T>& graph, const OnnxExportOptions& options = {});

/// Writes the model to `path` atomically (nn/io/atomic_file.hpp) and returns what was written.
template <class T>
OnnxExport write_onnx(const std::filesystem::path& path, const Graph<T>& graph, const OnnxExportOptions& options = {});

}  // namespace fluxion
