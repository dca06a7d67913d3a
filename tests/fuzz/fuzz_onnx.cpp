// libFuzzer harness for ONNX models (nn/onnx/onnx_reader.hpp and the graph it
// builds, nn/graph/*): every input is read as a ModelProto; a model that
// parses is built into an explainable graph in float and double (which
// evaluates it once on zeros), and a built graph is evaluated on a batch of
// two examples and differentiated (the gradient of the output's sum must
// have the input's shape). Values are capped at 2^20 elements
// (GraphEvaluation::max_value_elements; the default is 2^31), so a tiny file
// cannot ask for a huge activation inside the fuzzer's memory limit: the cap
// is the check under test, not a way around it.
#include <cstdint>
#include <string>

#include "autodiff/autodiff.hpp"
#include "nn/onnx/onnx_reader.hpp"
#include "tests/fuzz/fuzz_support.hpp"

using namespace fluxion;

namespace {

constexpr std::uint64_t kFuzzMaxValueElements = std::uint64_t{1} << 20;

template <class T>
void exercise(const OnnxModel& model, const std::string& source) {
  Graph<T> graph;
  if (!fuzz::accepts(source, [&] { graph = onnx_graph<T>(model, kFuzzMaxValueElements); })) return;
  Shape batch{2};
  batch.insert(batch.end(), graph.input_shape().begin(), graph.input_shape().end());
  if (numel_of(batch) > kFuzzMaxValueElements) return;
  Tensor<T> x(batch);
  for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = T(0.25) * T(int(i % 7) - 3);
  fuzz::accepts(source, [&] {
    const Var<T> y = graph.forward(Var<T>(x));
    if (y.rank() < 1 || y.shape()[0] != 2) fuzz::finding("the output lost the batch axis");
    Shape example(y.shape().begin() + 1, y.shape().end());
    if (example != graph.output_shape()) fuzz::finding("the output shape differs from the one found when the graph was built");
    const Tensor<T> g = grad(Function<T>([&](const Var<T>& v) { return sum(graph.forward(v)); }), x);
    if (shape_of(g) != batch) fuzz::finding("the gradient does not have the input's shape");
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string source = "fuzz.onnx";
  OnnxModel model;
  if (!fuzz::accepts(source, [&] { model = parse_onnx(fuzz::bytes_of(data, size), source); })) return 0;
  exercise<double>(model, source);
  exercise<float>(model, source);
  return 0;
}
