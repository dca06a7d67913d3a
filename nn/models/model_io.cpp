#include "nn/models/model_io.hpp"

#include <cmath>
#include <limits>
#include <type_traits>

#include <nlohmann/json.hpp>

#include "autodiff/errors.hpp"
#include "nn/models/architecture.hpp"

namespace fluxion {

namespace {

template <class T>
const char* dtype_name() {
  return std::is_same_v<T, float> ? "float32" : "float64";
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return !prefix.empty() && s.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace

template <class T>
std::map<std::string, Tensor<double>> parameter_tensors(const Sequential<T>& model) {
  std::map<std::string, Tensor<double>> out;
  for (const auto& p : named_state(model)) out[p.name] = xt::cast<double>(p.value.value());  // + buffers
  return out;
}

template <class T>
void save_model(const std::filesystem::path& path, const Sequential<T>& model,
                const std::map<std::string, std::string>& extra_metadata) {
  nlohmann::json arch = model.describe();
  arch["dtype"] = dtype_name<T>();
  std::map<std::string, std::string> metadata = extra_metadata;
  metadata["architecture"] = arch.dump();
  write_safetensors(path, parameter_tensors(model), metadata,
                    std::is_same_v<T, float> ? StorageDtype::F32 : StorageDtype::F64);
}

namespace {

/// The storage dtype ("F32"/"F64") the architecture metadata promises, or "".
std::string promised_dtype(const SafetensorsFile& file) {
  auto arch_it = file.metadata.find("architecture");
  if (arch_it == file.metadata.end()) return "";
  auto arch = nlohmann::json::parse(arch_it->second, nullptr, false);
  if (!arch.is_object() || !arch.contains("dtype") || !arch["dtype"].is_string()) return "";
  return arch["dtype"] == "float32" ? "F32" : arch["dtype"] == "float64" ? "F64" : "";
}

/// Checks that `file` holds exactly the parameters `wanted`: each present
/// with its shape, in the promised dtype and representable as T, and no
/// other tensor (except names starting with `ignore_prefix`).
template <class T>
void check_parameters(const std::vector<ParameterSpec>& wanted, const SafetensorsFile& file,
                      const std::string& source, const std::string& ignore_prefix) {
  const std::string where = source + ": ";
  const std::string promised = promised_dtype(file);
  for (const auto& p : wanted) {
    auto it = file.tensors.find(p.name);
    if (it == file.tensors.end())
      throw InputError(where + "parameter \"" + p.name + "\" required by the architecture is missing");
    Shape stored = shape_of(it->second);
    if (stored != p.shape)
      throw InputError(where + "parameter \"" + p.name + "\" has shape " + shape_str(stored) +
                       " but the architecture needs " + shape_str(p.shape));
    const std::string& dtype = file.dtypes.at(p.name);
    if (!promised.empty() && dtype != promised)
      throw InputError(where + "parameter \"" + p.name + "\" is stored as " + dtype + " but the architecture says " +
                       (promised == "F32" ? "float32" : "float64"));
    if (std::is_same_v<T, float>)
      for (double v : it->second)
        if (std::isfinite(v) && std::abs(v) > static_cast<double>(std::numeric_limits<float>::max()))
          throw InputError(where + "parameter \"" + p.name + "\" holds " + std::to_string(v) +
                           ", beyond the range of float");
  }
  for (const auto& [name, tensor] : file.tensors) {
    if (starts_with(name, ignore_prefix)) continue;
    bool known = false;
    for (const auto& p : wanted) known = known || p.name == name;
    if (!known) throw InputError(where + "tensor \"" + name + "\" is not a parameter of the architecture");
  }
}

/// The model a file describes: checked against the described parameters
/// first, built and filled only if they match.
template <class T>
Sequential<T> model_from_file(const SafetensorsFile& file, const std::string& source) {
  auto it = file.metadata.find("architecture");
  if (it == file.metadata.end())
    throw InputError(source +
                     ": no \"architecture\" entry in __metadata__ (add the model's JSON description, see "
                     "nn/models/architecture.hpp)");
  check_parameters<T>(described_parameters(it->second, source), file, source, "");
  Sequential<T> model = build_model<T>(it->second, 0, source);
  assign_parameters(model, file, source);
  return model;
}

}  // namespace

template <class T>
void assign_parameters(Sequential<T>& model, const SafetensorsFile& file, const std::filesystem::path& path,
                       const std::string& ignore_prefix) {
  auto params = named_state(model);  // parameters and buffers (running statistics)
  std::vector<ParameterSpec> wanted;
  for (const auto& p : params) wanted.push_back({p.name, p.value.shape()});
  // Validate everything first, assign afterwards: a bad file changes nothing.
  check_parameters<T>(wanted, file, path.string(), ignore_prefix);
  for (auto& p : params) p.value.assign(xt::cast<T>(file.tensors.at(p.name)));
}

template <class T>
Sequential<T> load_model(const std::filesystem::path& path) {
  return model_from_file<T>(read_safetensors(path), path.string());
}

template <class T>
Sequential<T> parse_model(std::string_view bytes, const std::string& source) {
  return model_from_file<T>(parse_safetensors(bytes, source), source);
}

std::map<std::string, std::string> read_model_metadata(const std::filesystem::path& path) {
  return read_safetensors(path).metadata;
}

std::map<std::string, std::string> parse_model_metadata(std::string_view bytes, const std::string& source) {
  return parse_safetensors(bytes, source).metadata;
}

#define FLUXION_INSTANTIATE(T)                                                                               \
  template void save_model(const std::filesystem::path&, const Sequential<T>&,                               \
                           const std::map<std::string, std::string>&);                                       \
  template Sequential<T> load_model(const std::filesystem::path&);                                           \
  template Sequential<T> parse_model(std::string_view, const std::string&);                                  \
  template void assign_parameters(Sequential<T>&, const SafetensorsFile&, const std::filesystem::path&,      \
                                  const std::string&);                                                       \
  template std::map<std::string, Tensor<double>> parameter_tensors(const Sequential<T>&);
FLUXION_INSTANTIATE(float)
FLUXION_INSTANTIATE(double)
#undef FLUXION_INSTANTIATE

}  // namespace fluxion
