// libFuzzer harness for architecture descriptions (nn/models/architecture.hpp):
// every input is a description string. described_parameters must accept or
// reject it without allocating the model; build_model must agree with it;
// the built model is exercised (parameters, description round trip, forward).
#include <cstdint>
#include <string>

#include "nn/models/architecture.hpp"
#include "tests/fuzz/exercise_model.hpp"
#include "tests/fuzz/fuzz_support.hpp"

using namespace fluxion;

namespace {

/// Models above this many parameters are valid (the limit is 2^31) but far
/// too slow to build on every run; their size checks run in
/// described_parameters, which sees every input.
constexpr std::uint64_t kBuildBudget = 1 << 20;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string description(fuzz::bytes_of(data, size));
  const std::string source = "fuzz.json";

  std::vector<ParameterSpec> described;
  if (!fuzz::accepts(source, [&] { described = described_parameters(description, source); })) {
    // Whatever described_parameters rejects, build_model must reject too
    // (it runs the same checks first, so this is cheap).
    if (fuzz::accepts(source, [&] { build_model<float>(description, 0, source); }))
      fuzz::finding("build_model accepts a description described_parameters rejects");
    return 0;
  }
  std::uint64_t parameters = 0;
  for (const auto& p : described) parameters += fuzz::element_count(p.shape);
  if (parameters > kBuildBudget) return 0;

  Sequential<float> model;
  if (!fuzz::accepts(source, [&] { model = build_model<float>(description, 0, source); })) return 0;
  fuzz::exercise_model(model, described, source);
  return 0;
}
