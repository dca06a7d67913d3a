#include "nn/training/checkpoint.hpp"

#include <type_traits>

#include <nlohmann/json.hpp>

#include "autodiff/errors.hpp"
#include "nn/io/safetensors.hpp"
#include "nn/models/architecture.hpp"
#include "nn/models/model_io.hpp"

namespace fluxion {

namespace {
const std::string kOptimizerPrefix = "optimizer.";
}

template <class T>
void save_checkpoint(const std::filesystem::path& path, const Sequential<T>& model, const Optimizer<T>& optimizer,
                     const std::string& progress) {
  std::map<std::string, Tensor<double>> tensors = parameter_tensors(model);
  OptimizerState<T> state = optimizer.state();
  for (const auto& [name, tensor] : state.slots) tensors[kOptimizerPrefix + name] = xt::cast<double>(tensor);
  std::map<std::string, std::string> metadata{
      {"architecture", describe_model(model)},
      {"optimizer", nlohmann::json{{"name", optimizer.name()}, {"steps", state.steps}}.dump()},
      {"progress", progress}};
  write_safetensors(path, tensors, metadata, std::is_same_v<T, float> ? StorageDtype::F32 : StorageDtype::F64);
}

template <class T>
std::string load_checkpoint(const std::filesystem::path& path, Sequential<T>& model, Optimizer<T>& optimizer) {
  const std::string where = path.string() + ": ";
  SafetensorsFile file = read_safetensors(path);
  for (const char* key : {"architecture", "optimizer", "progress"})
    if (!file.metadata.count(key)) throw InputError(where + "not a training checkpoint (no \"" + key + "\" metadata)");
  if (file.metadata.at("architecture") != describe_model(model))
    throw InputError(where + "the checkpoint was written for a different architecture: " + file.metadata.at("architecture"));
  auto info = nlohmann::json::parse(file.metadata.at("optimizer"), nullptr, false);
  if (!info.is_object() || !info.contains("name") || !info.contains("steps") || !info["steps"].is_number_unsigned())
    throw InputError(where + "the \"optimizer\" metadata is malformed");
  if (info["name"] != optimizer.name())
    throw InputError(where + "the checkpoint holds " + info["name"].dump() + " optimizer state, not \"" +
                     optimizer.name() + "\"");
  OptimizerState<T> state;
  state.steps = info["steps"].get<std::uint64_t>();
  for (const auto& [name, tensor] : file.tensors)
    if (name.compare(0, kOptimizerPrefix.size(), kOptimizerPrefix) == 0)
      state.slots[name.substr(kOptimizerPrefix.size())] = xt::cast<T>(tensor);
  // Check the optimizer state on a throwaway copy of the slots first, so a bad
  // file leaves both model and optimizer untouched.
  OptimizerState<T> before = optimizer.state();
  try {
    optimizer.load_state(state);
  } catch (const InputError& e) {
    throw InputError(where + e.what());
  }
  try {
    assign_parameters(model, file, path, kOptimizerPrefix);
  } catch (...) {
    optimizer.load_state(before);
    throw;
  }
  return file.metadata.at("progress");
}

template void save_checkpoint(const std::filesystem::path&, const Sequential<float>&, const Optimizer<float>&,
                              const std::string&);
template void save_checkpoint(const std::filesystem::path&, const Sequential<double>&, const Optimizer<double>&,
                              const std::string&);
template std::string load_checkpoint(const std::filesystem::path&, Sequential<float>&, Optimizer<float>&);
template std::string load_checkpoint(const std::filesystem::path&, Sequential<double>&, Optimizer<double>&);

}  // namespace fluxion
