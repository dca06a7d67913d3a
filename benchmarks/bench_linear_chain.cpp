// Google Benchmark: the gradient of a linear chain y = cⁿ x of n scale nodes
// (build the chain, one reverse sweep, destroy the graph), for n = 12.5k,
// 25k, 50k, 100k and 200k. Reverse mode walks the tape in a loop, so the time must grow
// linearly in n: Google Benchmark fits the complexity (the `_BigO` and
// `_RMS` rows; a quadratic walk would fit O(N²) badly as O(N)) and the
// counter `per_node` (seconds per chain node) must stay flat across n. The
// ratio of the n:100000 and n:50000 rows is the one the engine tests used to
// assert on wall clock (< 3); here it is measured where timing belongs
// (expect ≈ 2; a quadratic walk gives 4).
//
// The unit test (tests/autodiff/test_engine_behaviour.cpp) checks the same
// property without a clock: the sweep creates exactly one node per chain node.
#include <benchmark/benchmark.h>

#include "autodiff/autodiff.hpp"

using namespace fluxion;

namespace {

double chain_gradient(std::size_t n) {
  Var<double> x(Tensor<double>{1.5}, true);
  Var<double> y = x;
  for (std::size_t i = 0; i < n; ++i) y = scale(y, 1.0);
  return grad<double>({sum(y)}, {x})[0].value()(0);
}

void BM_LinearChainGradient(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(chain_gradient(n));
  state.SetComplexityN(state.range(0));
  state.counters["per_node"] = benchmark::Counter(double(state.iterations()) * double(n),
                                                  benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

}  // namespace

BENCHMARK(BM_LinearChainGradient)
    ->ArgName("n")
    ->Arg(12500)
    ->Arg(25000)
    ->Arg(50000)
    ->Arg(100000)
    ->Arg(200000)
    ->Unit(benchmark::kMillisecond)
    ->Complexity(benchmark::oN);

BENCHMARK_MAIN();
