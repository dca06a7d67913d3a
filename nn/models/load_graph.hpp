// Loading any model file Fluxion explains, chosen by its content, not its name:
//
//   - a safetensors model (8-byte header length, then '{'): the Sequential
//     of its architecture metadata (model_io.hpp), as a graph;
//   - an ONNX model (a protobuf ModelProto, first byte 0x08): its graph
//     (nn/onnx/onnx_reader.hpp).
//
// Anything else is one InputError naming the file.
#pragma once

#include <filesystem>

#include "nn/graph/graph.hpp"

namespace fluxion {

/// The kinds of model file.
enum class ModelFormat { safetensors, onnx, unknown };

/// What the file's first bytes say it is (InputError if it cannot be read).
ModelFormat model_format(const std::filesystem::path& path);

/// The model in `path` as a graph of scalar type T.
template <class T>
Graph<T> load_graph(const std::filesystem::path& path);

}  // namespace fluxion
