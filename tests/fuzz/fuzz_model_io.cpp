// libFuzzer harness for model files (nn/models/model_io.hpp): every input is
// a .safetensors file whose __metadata__["architecture"] describes the model.
// It is read as metadata only, as a float model and as a double model; a
// loaded model is exercised (parameters, description round trip, forward).
// A file can only describe a model whose parameters it holds, so no size
// budget is needed here: the input size bounds the model.
#include <cstdint>
#include <string>

#include "nn/models/architecture.hpp"
#include "nn/models/model_io.hpp"
#include "tests/fuzz/exercise_model.hpp"
#include "tests/fuzz/fuzz_support.hpp"

using namespace fluxion;

namespace {

template <class T>
void load_as(std::string_view bytes, const std::string& source) {
  Sequential<T> model;
  if (!fuzz::accepts(source, [&] { model = parse_model<T>(bytes, source); })) return;
  const auto metadata = parse_model_metadata(bytes, source);
  const auto described = described_parameters(metadata.at("architecture"), source);
  fuzz::exercise_model(model, described, source);
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
