// Model files: a Sequential's parameters in .safetensors (PyTorch state_dict
// names and layouts), its architecture description (architecture.hpp) in
// __metadata__["architecture"]. A PyTorch user exports a model with
//
//     save_file(model.state_dict(), "m.safetensors",
//               metadata={"architecture": json.dumps({"input_shape": [1, 28, 28], "layers": [...]})})
//
// and loads it here in float or double. Loading validates the file against
// its architecture before the model is even built (so a tiny file cannot make
// it allocate a huge model): every parameter must be present with the
// architecture's shape, no tensor may be left over, and if the description
// states a "dtype" every tensor must be stored in it. Each problem is one
// InputError naming the file.
//
// Models are saved with the description plus "dtype" (float32 for T = float,
// stored F32; float64 for double, stored F64) and any extra metadata (the
// training tool adds "test_accuracy", "epochs", ...). Writes are atomic.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <string_view>

#include "nn/io/safetensors.hpp"
#include "nn/modules/sequential.hpp"

namespace fluxion {

/// Saves `model` to `path` (atomically) with its architecture and `extra_metadata`.
template <class T>
void save_model(const std::filesystem::path& path, const Sequential<T>& model,
                const std::map<std::string, std::string>& extra_metadata = {});

/// Loads a model file into a model of scalar type T (F32 files load as double
/// exactly; F64 files load as float rounded to nearest). Eval mode.
template <class T>
Sequential<T> load_model(const std::filesystem::path& path);

/// The __metadata__ of a model file (architecture, test_accuracy, ...).
std::map<std::string, std::string> read_model_metadata(const std::filesystem::path& path);

/// The same two readers for model bytes already in memory; `source` names
/// them in errors the way the path does for files ("<source>: <problem>").
template <class T>
Sequential<T> parse_model(std::string_view bytes, const std::string& source);
std::map<std::string, std::string> parse_model_metadata(std::string_view bytes, const std::string& source);

/// Overwrites `model`'s parameters and buffers with the tensors of `file` (read from
/// `path`, named in errors). Tensors whose name starts with `ignore_prefix`
/// (non-empty) are skipped, e.g. the optimizer state in a checkpoint.
template <class T>
void assign_parameters(Sequential<T>& model, const SafetensorsFile& file, const std::filesystem::path& path,
                       const std::string& ignore_prefix = "");

/// Parameter and buffer tensors of `model` (named_state) by state_dict name, widened to double
/// (exactly) for write_safetensors.
template <class T>
std::map<std::string, Tensor<double>> parameter_tensors(const Sequential<T>& model);

}  // namespace fluxion
