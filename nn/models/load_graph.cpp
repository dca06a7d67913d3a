#include "nn/models/load_graph.hpp"

#include <fstream>

#include "autodiff/errors.hpp"
#include "nn/graph/sequential_graph.hpp"
#include "nn/io/checked_reading.hpp"
#include "nn/models/model_io.hpp"
#include "nn/onnx/onnx_reader.hpp"

namespace fluxion {

ModelFormat model_format(const std::filesystem::path& path) {
  const std::uint64_t size = reading::existing_file_size(path);
  std::ifstream in = reading::open_for_reading(path);
  std::string head(std::min<std::uint64_t>(size, 9), '\0');
  reading::read_exact(in, head.data(), head.size(), path.string());
  // safetensors: a little-endian u64 header length, then the JSON header
  if (head.size() == 9 && head[8] == '{') return ModelFormat::safetensors;
  if (looks_like_onnx(head)) return ModelFormat::onnx;
  return ModelFormat::unknown;
}

template <class T>
Graph<T> load_graph(const std::filesystem::path& path) {
  switch (model_format(path)) {
    case ModelFormat::safetensors:
      return to_graph(load_model<T>(path), path.string());
    case ModelFormat::onnx:
      return onnx_graph<T>(read_onnx(path));
    default:
      throw InputError(path.string() + ": neither a safetensors model nor an ONNX model (by its first bytes)");
  }
}

template Graph<float> load_graph(const std::filesystem::path&);
template Graph<double> load_graph(const std::filesystem::path&);

}  // namespace fluxion
