// The convolution kernels process images in groups (one GEMM per group, the
// last group usually partial) and split groups over threads. Whatever the
// grouping, a batch must give exactly what each image gives alone:
//   conv2d(x)[b] = conv2d(x[b]),   convᵀ(ḡ)[b] = convᵀ(ḡ[b]),   w̄ = Σ_b w̄(x[b], ḡ[b]).
#include <doctest/doctest.h>

#include <cmath>
#include <random>

#include "autodiff/conv_kernels.hpp"

namespace {

using namespace fluxion;

Tensor<double> random_tensor(const Shape& shape, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  Tensor<double> t = Tensor<double>::from_shape(shape);
  for (auto& v : t) v = u(rng);
  return t;
}

Tensor<double> image_of(const Tensor<double>& batch, std::size_t b) {
  Shape s = shape_of(batch);
  const std::size_t size = s[1] * s[2] * s[3];
  Tensor<double> one = Tensor<double>::from_shape({1, s[1], s[2], s[3]});
  std::copy(batch.data() + b * size, batch.data() + (b + 1) * size, one.data());
  return one;
}

double max_diff_at(const Tensor<double>& batch, std::size_t b, const Tensor<double>& one) {
  double worst = 0;
  for (std::size_t i = 0; i < one.size(); ++i)
    worst = std::max(worst, std::fabs(batch.data()[b * one.size() + i] - one.data()[i]));
  return worst;
}

}  // namespace

TEST_CASE("conv kernels: a batch split into groups equals image-by-image (forward, input and weight adjoints)") {
  // 3 channels 9×9, 4 filters 3×3, stride 2, padding 1 → 5×5 outputs. 700
  // images: several groups of images with a partial last one.
  const kernels::Conv2dParams p{2, 1};
  const std::size_t batch = 700;
  const Tensor<double> x = random_tensor({batch, 3, 9, 9}, 1), w = random_tensor({4, 3, 3, 3}, 2);
  const Tensor<double> y = kernels::conv2d(x, w, p);
  const Tensor<double> gy = random_tensor(shape_of(y), 3);
  const Tensor<double> gx = kernels::conv2d_input_grad(gy, w, 9, 9, p);
  const Tensor<double> gw = kernels::conv2d_weight_grad(x, gy, 3, 3, p);

  double forward = 0, input_adjoint = 0;
  Tensor<double> gw_sum = Tensor<double>::from_shape({4, 3, 3, 3});
  std::fill(gw_sum.begin(), gw_sum.end(), 0.0);
  for (std::size_t b = 0; b < batch; ++b) {
    const Tensor<double> xb = image_of(x, b), gb = image_of(gy, b);
    forward = std::max(forward, max_diff_at(y, b, kernels::conv2d(xb, w, p)));
    input_adjoint = std::max(input_adjoint, max_diff_at(gx, b, kernels::conv2d_input_grad(gb, w, 9, 9, p)));
    const Tensor<double> gwb = kernels::conv2d_weight_grad(xb, gb, 3, 3, p);
    for (std::size_t i = 0; i < gw_sum.size(); ++i) gw_sum.data()[i] += gwb.data()[i];
  }
  double weight_adjoint = 0, scale = 0;
  for (std::size_t i = 0; i < gw.size(); ++i) {
    weight_adjoint = std::max(weight_adjoint, std::fabs(gw.data()[i] - gw_sum.data()[i]));
    scale = std::max(scale, std::fabs(gw_sum.data()[i]));
  }
  CHECK(forward <= 1e-13);
  CHECK(input_adjoint <= 1e-13);
  CHECK(weight_adjoint <= 1e-12 * scale);  // sums of 700 terms in another order
}
