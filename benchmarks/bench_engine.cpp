// Google Benchmark figures for the autodiff engine.
//
// 1. Per-op overhead on tiny tensors ([2, 2]): what one node of the graph
//    costs when the arithmetic is negligible (allocation of the value and the
//    node, recording the VJP rule, the reverse sweep's bookkeeping). Reported
//    as the counter `per_op` (seconds per op; Google Benchmark prints µs/ns).
//      forward   the op with graph recording on (inputs require grad)
//      no_grad   the op inside a NoGradGuard (nothing recorded)
//      fwd+bwd   the op, then grad of its output with respect to its inputs
// 2. The MNIST MLP and CNN (benchmarks/engine_models.hpp) at batch 1 and 64,
//    float and double: gradient of one logit per image w.r.t. the input, one
//    forward-over-reverse HVP, and (batch 1) the full 784×784 input Hessian
//    with a given chunk of tangent directions per sweep.
// The ratios HVP/grad and Hessian/(784·HVP) are printed in one run by
// engine_ratios (same folder), which is easier to read than two rows here.
#include <benchmark/benchmark.h>

#include "benchmarks/engine_models.hpp"

using namespace fluxion;

namespace {

enum class Mode { forward, no_grad, forward_backward };

template <class T>
Var<T> apply(int op, const Var<T>& a, const Var<T>& b) {
  switch (op) {
    case 0: return add(a, b);
    case 1: return mul(a, b);
    case 2: return matmul(a, b);
    default: return exp(a);
  }
}

const char* op_names[] = {"add", "mul", "matmul", "exp"};

// state.range(0): op index (0 add, 1 mul, 2 matmul 2×2, 3 exp)
template <class T, Mode mode>
void BM_TinyOp(benchmark::State& state) {
  const int op = static_cast<int>(state.range(0));
  state.SetLabel(op_names[op]);
  Var<T> a(filled<T>({2, 2}, T(0.5)), true), b(filled<T>({2, 2}, T(0.25)), true);
  Var<T> seed(filled<T>({2, 2}, T(1)));
  for (auto _ : state) {
    if constexpr (mode == Mode::no_grad) {
      NoGradGuard no_graph;
      benchmark::DoNotOptimize(apply(op, a, b));
    } else if constexpr (mode == Mode::forward) {
      benchmark::DoNotOptimize(apply(op, a, b));
    } else {
      Var<T> y = apply(op, a, b);
      benchmark::DoNotOptimize(grad<T>({y}, {a, b}, {seed}));
    }
  }
  state.counters["per_op"] =
      benchmark::Counter(double(state.iterations()), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

template <class T>
const bench::Model<T>& model(int which) {
  static const bench::Model<T> mlp = bench::mnist_mlp<T>(1), cnn = bench::mnist_cnn<T>(2);
  return which == 0 ? mlp : cnn;
}

// state.range(0): 0 = MLP, 1 = CNN; state.range(1): batch size
template <class T>
void BM_Grad(benchmark::State& state) {
  const auto& m = model<T>(static_cast<int>(state.range(0)));
  state.SetLabel(m.name);
  Function<T> f = m.one_logit_per_image();
  Tensor<T> x = m.batch(static_cast<std::size_t>(state.range(1)), 7);
  for (auto _ : state) benchmark::DoNotOptimize(grad(f, x));
}

template <class T>
void BM_Hvp(benchmark::State& state) {
  const auto& m = model<T>(static_cast<int>(state.range(0)));
  state.SetLabel(m.name);
  Function<T> f = m.one_logit_per_image();
  Tensor<T> x = m.batch(static_cast<std::size_t>(state.range(1)), 7);
  Tensor<T> v = m.batch(static_cast<std::size_t>(state.range(1)), 8);
  for (auto _ : state) benchmark::DoNotOptimize(hvp(f, x, v));
}

// state.range(1): directions per forward-over-reverse sweep (batch 1)
template <class T>
void BM_Hessian(benchmark::State& state) {
  const auto& m = model<T>(static_cast<int>(state.range(0)));
  state.SetLabel(m.name);
  Function<T> f = m.one_logit_per_image();
  Tensor<T> x = m.batch(1, 7);
  for (auto _ : state) benchmark::DoNotOptimize(hessian(f, x, static_cast<std::size_t>(state.range(1))));
}

void tiny_ops(benchmark::internal::Benchmark* b) { b->DenseRange(0, 3)->ArgName("op"); }
void models_and_batches(benchmark::internal::Benchmark* b) {
  b->ArgNames({"model", "batch"})->Args({0, 1})->Args({0, 64})->Args({1, 1})->Args({1, 64})->Unit(
      benchmark::kMillisecond);
}
void models_and_chunks(benchmark::internal::Benchmark* b) {
  b->ArgNames({"model", "chunk"})->Args({0, 784})->Args({0, 196})->Args({1, 196})->Unit(benchmark::kMillisecond);
}

}  // namespace

BENCHMARK_TEMPLATE(BM_TinyOp, double, Mode::forward)->Apply(tiny_ops);
BENCHMARK_TEMPLATE(BM_TinyOp, double, Mode::no_grad)->Apply(tiny_ops);
BENCHMARK_TEMPLATE(BM_TinyOp, double, Mode::forward_backward)->Apply(tiny_ops);
BENCHMARK_TEMPLATE(BM_TinyOp, float, Mode::forward)->Apply(tiny_ops);
BENCHMARK_TEMPLATE(BM_TinyOp, float, Mode::forward_backward)->Apply(tiny_ops);

BENCHMARK_TEMPLATE(BM_Grad, double)->Apply(models_and_batches);
BENCHMARK_TEMPLATE(BM_Grad, float)->Apply(models_and_batches);
BENCHMARK_TEMPLATE(BM_Hvp, double)->Apply(models_and_batches);
BENCHMARK_TEMPLATE(BM_Hvp, float)->Apply(models_and_batches);
BENCHMARK_TEMPLATE(BM_Hessian, double)->Apply(models_and_chunks)->Iterations(2);
BENCHMARK_TEMPLATE(BM_Hessian, float)->Apply(models_and_chunks)->Iterations(2);

BENCHMARK_MAIN();
