// The engine's two cost ratios, measured in one run and printed as a table.
//
//   HVP / grad           time of one Hessian-vector product (forward-over-
//                        reverse) over the time of one gradient. Goal ≤ 3:
//                        an HVP is one reverse sweep carrying one tangent,
//                        so it should cost a small constant times a gradient
//                        (Pearlmutter 1994; Griewank & Walther, "Evaluating
//                        Derivatives", ch. 5: cost(Hv) ≤ ~4-5 × cost(f)).
//   Hessian / (d · HVP)  time of the full d×d input Hessian (d = 784, batch 1,
//                        batched identity tangents, chunked) over d separate
//                        HVPs. Goal ≤ 0.15: batching the tangents turns d
//                        matrix-vector products into matrix-matrix products.
//
// Every time is the median of repeated runs. By default the clock is the
// process's CPU time, which a shared, busy machine disturbs much less than
// wall time; run with OMP_NUM_THREADS=1 so that CPU time is also the time of
// one core (with more threads it is their sum). --wall uses wall time.
// Usage: engine_ratios [--quick] [--wall]   (--quick: fewer repeats and chunks)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <random>
#include <ctime>
#include <vector>

#include "benchmarks/engine_models.hpp"

using namespace fluxion;
using fluxion::bench::Model;

namespace {

bool quick = false;
bool wall_clock = false;

double now_seconds() {
  if (wall_clock) return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

// Median time in seconds of `work`, repeated until ~`budget` seconds
// were spent (at least 3, at most 30 runs), after one warm-up run.
double median_seconds(const std::function<void()>& work, double budget) {
  work();
  std::vector<double> times;
  double spent = 0;
  while (times.size() < 3 || (spent < budget && times.size() < 30)) {
    double start = now_seconds();
    work();
    double t = now_seconds() - start;
    times.push_back(t);
    spent += t;
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

template <class T>
const char* type_name() {
  return sizeof(T) == 4 ? "float" : "double";
}

template <class T>
void measure(const Model<T>& model, std::size_t batch) {
  Function<T> f = model.one_logit_per_image();
  Tensor<T> x = model.batch(batch, 7);
  Tensor<T> v = model.batch(batch, 8);
  double budget = quick ? 0.3 : 1.5;
  double t_forward = median_seconds(
      [&] {
        NoGradGuard no_graph;
        f(Var<T>(x));
      },
      budget);
  double t_grad = median_seconds([&] { grad(f, x); }, budget);
  double t_hvp = median_seconds([&] { hvp(f, x, v); }, budget);
  double t_hvp_rr = median_seconds([&] { hvp_reverse(f, x, v); }, budget);
  std::printf("| %s | %-6s | %5zu | %9.3f | %9.3f | %9.3f | %9.3f | %6.2f | %6.2f |\n", model.name.c_str(),
              type_name<T>(), batch, t_forward * 1e3, t_grad * 1e3, t_hvp * 1e3, t_hvp_rr * 1e3, t_hvp / t_grad,
              t_hvp_rr / t_grad);
  std::fflush(stdout);
}

template <class T>
void measure_hessian(const Model<T>& model, const std::vector<std::size_t>& chunks) {
  Function<T> f = model.one_logit_per_image();
  Tensor<T> x = model.batch(1, 7);
  Tensor<T> v = model.batch(1, 8);
  const std::size_t d = x.size();
  double t_hvp = median_seconds([&] { hvp(f, x, v); }, quick ? 0.3 : 1.5);
  for (std::size_t chunk : chunks) {
    double t_hessian = median_seconds([&] { hessian(f, x, chunk); }, quick ? 0.0 : 3.0);
    std::printf("| %s | %-6s | %5zu | %9.3f | %10.1f | %10.1f | %6.3f |\n", model.name.c_str(), type_name<T>(), chunk,
                t_hvp * 1e3, t_hessian * 1e3, d * t_hvp * 1e3, t_hessian / (d * t_hvp));
    std::fflush(stdout);
  }
}

template <class T>
void all_ratios() {
  Model<T> mlp = bench::mnist_mlp<T>(1), cnn = bench::mnist_cnn<T>(2);
  for (const Model<T>* m : {&mlp, &cnn})
    for (std::size_t batch : {1, 64}) measure(*m, batch);
}

template <class T>
void all_hessians() {
  Model<T> mlp = bench::mnist_mlp<T>(1), cnn = bench::mnist_cnn<T>(2);
  std::vector<std::size_t> chunks = quick ? std::vector<std::size_t>{196} : std::vector<std::size_t>{784, 196, 49};
  measure_hessian(mlp, chunks);
  measure_hessian(cnn, chunks);
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) quick = true;
    else if (std::strcmp(argv[i], "--wall") == 0) wall_clock = true;
    else {
      std::fprintf(stderr, "engine_ratios: unknown argument '%s' (accepted: --quick, --wall)\n", argv[i]);
      return 2;
    }
  }
  std::printf("Times in ms (medians) of %s.\n\n", wall_clock ? "wall time" : "process CPU time");
  std::printf("## HVP / grad  (goal ≤ 3)\n\n");
  std::printf("| model | type | batch | forward | grad | HVP f-o-r | HVP r-o-r | HVP/grad | r-o-r/grad |\n");
  std::printf("|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
  all_ratios<double>();
  all_ratios<float>();
  std::printf("\n## Full 784×784 input Hessian / (784 × HVP)  (goal ≤ 0.15; batch 1)\n\n");
  std::printf("| model | type | chunk | HVP ms | Hessian ms | 784×HVP ms | ratio |\n");
  std::printf("|---|---|---:|---:|---:|---:|---:|\n");
  all_hessians<double>();
  all_hessians<float>();
  return 0;
}
