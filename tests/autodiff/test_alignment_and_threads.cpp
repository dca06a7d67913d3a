// Reproducibility guarantees of the storage and the parallel kernels:
//  * every tensor buffer starts on a 64-byte boundary (AlignedAllocator), so
//    vectorised reductions round the same way wherever a buffer lands;
//  * a convolution gives the same bits whether its image groups are split
//    over threads or run on the calling thread. Without OpenMP there is
//    nothing to compare and the test case is reported as SKIPPED (never as
//    passed). With OpenMP it first makes sure the runtime really forms a
//    team of two threads when asked (OMP_THREAD_LIMIT=1 or a dynamic team
//    would make the comparison vacuous). Whether the kernels' own region
//    splits the 40 images is not observable from outside the kernels (they
//    expose no hook), so that is not asserted.
#include <doctest/doctest.h>

#include <cstdint>
#include <random>

#include "autodiff/autodiff.hpp"
#include "autodiff/conv_kernels.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

using namespace fluxion;

namespace {

bool aligned_64(const void* p) { return reinterpret_cast<std::uintptr_t>(p) % 64 == 0; }

template <class T>
Tensor<T> random_tensor(const Shape& shape, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  Tensor<T> t = Tensor<T>::from_shape(shape);
  for (auto& v : t) v = static_cast<T>(u(rng));
  return t;
}

#ifdef _OPENMP
constexpr bool built_without_openmp = false;
#else
constexpr bool built_without_openmp = true;
#endif

}  // namespace

TEST_CASE_TEMPLATE("tensors: every buffer is 64-byte aligned, whatever its size and origin", T, float, double) {
  for (std::size_t n : {1, 3, 7, 16, 17, 1000, 4097}) {
    INFO("n = " << n);
    Tensor<T> made = Tensor<T>::from_shape({n});
    CHECK(aligned_64(made.data()));
    Tensor<T> filled_with = filled<T>({n, 2}, T(1));
    CHECK(aligned_64(filled_with.data()));
    Tensor<T> copy = made;  // copies allocate too
    CHECK(aligned_64(copy.data()));
    // Results of ops, forward and backward.
    Var<T> x(random_tensor<T>({n}, n), true);
    Var<T> y = tanh(mul(x, x));
    CHECK(aligned_64(y.value().data()));
    CHECK(aligned_64(grad<T>({sum(y)}, {x})[0].value().data()));
  }
}

TEST_CASE("conv2d: the same bits on the calling thread and split over threads" *
          doctest::skip(built_without_openmp)) {
#ifdef _OPENMP
  // 40 images of 3×12×12, 8 output channels: enough work for the kernels to
  // use threads (and several image groups). The forward, input-gradient and
  // weight-gradient kernels are compared with the run on one thread.
  const Tensor<double> x = random_tensor<double>({40, 3, 12, 12}, 1);
  const Tensor<double> w = random_tensor<double>({8, 3, 3, 3}, 2);
  const kernels::Conv2dParams p{1, 1};
  int team = 0;
#pragma omp parallel num_threads(2)
  {
#pragma omp single
    team = omp_get_num_threads();
  }
  REQUIRE(team == 2);  // else "split over two threads" below would be one thread
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  const Tensor<double> y1 = kernels::conv2d(x, w, p);
  const Tensor<double> gx1 = kernels::conv2d_input_grad(y1, w, 12, 12, p);
  const Tensor<double> gw1 = kernels::conv2d_weight_grad(x, y1, 3, 3, p);
  omp_set_num_threads(2);
  const Tensor<double> y2 = kernels::conv2d(x, w, p);
  const Tensor<double> gx2 = kernels::conv2d_input_grad(y2, w, 12, 12, p);
  const Tensor<double> gw2 = kernels::conv2d_weight_grad(x, y2, 3, 3, p);
  omp_set_num_threads(threads);
  CHECK(y1 == y2);    // each image's output is one GEMM column block: thread-independent
  CHECK(gx1 == gx2);  // likewise for each image's input gradient
  // The weight gradient adds per-thread partial sums, so the rounding may
  // differ between thread counts; the sums agree to rounding.
  double worst = 0;
  for (std::size_t i = 0; i < gw1.size(); ++i) worst = std::max(worst, std::abs(gw1.data()[i] - gw2.data()[i]));
  CHECK(worst <= 1e-12);
#endif
}
