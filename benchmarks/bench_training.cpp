// Training throughput (images/s) of the two presets, float, Adam:
// one step = forward + cross-entropy + backward + optimizer update on a
// batch of MNIST-shaped images [B, 1, 28, 28] (random pixels and labels;
// the cost does not depend on the values).
//
//   ./bench_training                      (items_per_second = images/s)
//   OMP_NUM_THREADS=1 ./bench_training    single-core numbers
//
// Also: the cost of an input gradient of the cnn in eval mode (what
// explanation methods do) against the same gradient with parameters that
// require grad — the difference is the weight-gradient work eval mode avoids.
#include <benchmark/benchmark.h>

#include <random>

#include "autodiff/backward.hpp"
#include "autodiff/ops.hpp"
#include "nn/models/architecture.hpp"
#include "nn/training/adam.hpp"
#include "nn/training/losses.hpp"

namespace {

using namespace fluxion;

void train_step(benchmark::State& state, const std::string& arch) {
  const std::size_t batch = static_cast<std::size_t>(state.range(0));
  Sequential<float> model = build_model<float>(arch, 1);
  model.train();
  Adam<float> adam(model.named_parameters(), 1e-3);
  std::mt19937_64 rng(2);
  Tensor<float> images(Shape{batch, 1, 28, 28});
  for (auto& v : images) v = static_cast<float>(rng() % 256) / 255.0f;
  std::vector<std::size_t> labels(batch);
  for (auto& l : labels) l = rng() % 10;
  for (auto _ : state) {
    adam.zero_grad();
    Var<float> loss = cross_entropy(model.forward(Var<float>(images)), labels);
    backward(loss);
    adam.step();
    benchmark::DoNotOptimize(loss.item());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * batch));
  state.SetLabel(arch + " batch " + std::to_string(batch));
}

// Explaining needs d(logit)/d(input) only. In eval mode the parameters are
// constants, so no weight cotangent is computed; in train mode the same
// input gradient also pays for every weight gradient. Compare the two.
void input_gradient(benchmark::State& state, bool parameters_require_grad) {
  const std::size_t batch = static_cast<std::size_t>(state.range(0));
  Sequential<float> model = build_model<float>("cnn", 1);
  model.train(parameters_require_grad);
  std::mt19937_64 rng(3);
  Tensor<float> images(Shape{batch, 1, 28, 28});
  for (auto& v : images) v = static_cast<float>(rng() % 256) / 255.0f;
  for (auto _ : state) {
    Var<float> x(images, true);
    Var<float> logits = model.forward(x);
    auto g = grad(std::vector<Var<float>>{sum(select(logits, std::vector<std::size_t>(batch, 0)))},
                  std::vector<Var<float>>{x});
    benchmark::DoNotOptimize(g[0].value().data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * batch));
}

void BM_input_grad_cnn_eval(benchmark::State& state) { input_gradient(state, false); }
void BM_input_grad_cnn_params_require_grad(benchmark::State& state) { input_gradient(state, true); }

void BM_train_mlp(benchmark::State& state) { train_step(state, "mlp"); }
void BM_train_cnn(benchmark::State& state) { train_step(state, "cnn"); }

}  // namespace

BENCHMARK(BM_train_mlp)->Arg(64)->Arg(128)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_train_cnn)->Arg(64)->Arg(128)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_input_grad_cnn_eval)->Arg(128)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_input_grad_cnn_params_require_grad)->Arg(128)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
