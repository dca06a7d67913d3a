// libFuzzer harness for model files (nn/models/model_io.hpp): every input is
// a .safetensors file whose __metadata__["architecture"] describes the model.
// It is read as metadata only, as a float model and as a double model; a
// loaded model is exercised (parameters, description round trip, forward)
// and must survive the round trip save -> load with the same description
// and parameter bits (saved in memory the way save_model writes a file).
// A file can only describe a model whose parameters it holds, so no size
// budget is needed here: the input size bounds the model.
#include <cstdint>
#include <cstring>
#include <sstream>
#include <string>
#include <type_traits>

#include "nn/models/architecture.hpp"
#include "nn/models/model_io.hpp"
#include "tests/fuzz/exercise_model.hpp"
#include "tests/fuzz/fuzz_support.hpp"

using namespace fluxion;

namespace {

/// The bytes save_model would write for `model` (its description plus
/// "dtype" in __metadata__["architecture"], the other metadata kept,
/// parameters stored as T), without the file: save_model syncs every file
/// it writes, far too slow for thousands of runs per second.
template <class T>
std::string saved_bytes(const Sequential<T>& model, std::map<std::string, std::string> metadata) {
  nlohmann::json architecture = model.describe();
  architecture["dtype"] = std::is_same_v<T, float> ? "float32" : "float64";
  metadata["architecture"] = architecture.dump();
  std::ostringstream out;
  const std::string destination = "fuzz-saved.safetensors";
  if (!fuzz::accepts(destination, [&] {
        write_safetensors(out, destination, parameter_tensors(model), metadata,
                          std::is_same_v<T, float> ? StorageDtype::F32 : StorageDtype::F64);
      }))
    fuzz::finding("saving rejects a model parse_model loaded");
  return out.str();
}

template <class T>
void check_save_round_trip(const Sequential<T>& model, const std::map<std::string, std::string>& metadata) {
  const std::string source = "fuzz-saved.safetensors";
  const std::string bytes = saved_bytes(model, metadata);
  Sequential<T> again;
  if (!fuzz::accepts(source, [&] { again = parse_model<T>(bytes, source); }))
    fuzz::finding("parse_model rejects the file saving a loaded model produced");
  if (describe_model(again) != describe_model(model)) fuzz::finding("the save round trip changed the description");
  const auto before = model.named_parameters();
  const auto after = again.named_parameters();
  if (before.size() != after.size()) fuzz::finding("the save round trip changed the parameter count");
  for (std::size_t i = 0; i < before.size(); ++i) {
    const auto& a = before[i].value.value();
    const auto& b = after[i].value.value();
    if (before[i].name != after[i].name || a.shape() != b.shape() ||
        (a.size() != 0 && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) != 0))
      fuzz::finding("the save round trip changed parameter " + before[i].name);
  }
}

template <class T>
void load_as(std::string_view bytes, const std::string& source) {
  Sequential<T> model;
  if (!fuzz::accepts(source, [&] { model = parse_model<T>(bytes, source); })) return;
  const auto metadata = parse_model_metadata(bytes, source);
  const auto described = described_parameters(metadata.at("architecture"), source);
  fuzz::exercise_model(model, described, source);
  check_save_round_trip(model, metadata);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto bytes = fuzz::bytes_of(data, size);
  const std::string source = "fuzz-model.safetensors";
  std::map<std::string, std::string> metadata;
  if (!fuzz::accepts(source, [&] { metadata = parse_model_metadata(bytes, source); })) return 0;
  load_as<float>(bytes, source);
  load_as<double>(bytes, source);
  return 0;
}
