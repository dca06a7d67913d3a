// Tests for attribution/gaussian_blur: the identity at σ = 0, the closed-form
// impulse response, a brute-force 2-D convolution with explicitly mirrored
// borders, conservation of constants and of total mass, independent planes.
#include <doctest/doctest.h>

#include <cmath>

#include "attribution/gaussian_blur.hpp"
#include "attribution_models.hpp"
#include "autodiff/errors.hpp"

using namespace fluxion;
using namespace fluxion::attribution_testing;

namespace {

// Pad by mirroring about the pixel edge, written as the textbook case split
// (independent of the library's modular formula). Valid for |overhang| ≤ n.
long mirror(long i, long n) {
  if (i < 0) return -i - 1;
  if (i >= n) return 2 * n - 1 - i;
  return i;
}

// Direct 2-D sum with the 2-D Gaussian e^{−(a²+b²)/2σ²}, normalised over the
// (2r+1)² window: O(r²) per pixel, no separability used.
Tensor<double> brute_force_blur(const Tensor<double>& img, double sigma) {
  const long h = long(img.shape()[0]), w = long(img.shape()[1]), r = long(std::ceil(3 * sigma));
  double norm = 0;
  for (long a = -r; a <= r; ++a)
    for (long b = -r; b <= r; ++b) norm += std::exp(-(a * a + b * b) / (2 * sigma * sigma));
  Tensor<double> out = filled<double>({std::size_t(h), std::size_t(w)}, 0.0);
  for (long y = 0; y < h; ++y)
    for (long x = 0; x < w; ++x)
      for (long a = -r; a <= r; ++a)
        for (long b = -r; b <= r; ++b)
          out(y, x) += std::exp(-(a * a + b * b) / (2 * sigma * sigma)) / norm * img(mirror(y - a, h), mirror(x - b, w));
  return out;
}

}  // namespace

TEST_CASE("gaussian blur: sigma 0 is the identity; bad input is rejected") {
  const Tensor<double> img = seeded_uniform<double>({2, 5, 4}, 1);
  CHECK(gaussian_blur(img, 0.0) == img);
  CHECK_THROWS_AS(gaussian_blur(img, -1.0), ArgumentError);
  CHECK_THROWS_AS(gaussian_blur(img, std::nan("")), ArgumentError);
  CHECK_THROWS_AS(gaussian_blur(seeded_uniform<double>({5}, 2), 1.0), ShapeError);
}

TEST_CASE("gaussian blur: impulse response is the normalised separable Gaussian") {
  // A unit impulse far from the border (r = ⌈3·1.2⌉ = 4 < 15 − 7) blurs into
  // g_a g_b with g_a = e^{−a²/2σ²} / Σ_{|a'|≤4} e^{−a'²/2σ²}.
  const double sigma = 1.2;
  Tensor<double> img = filled<double>({15, 15}, 0.0);
  img(7, 7) = 1.0;
  const Tensor<double> out = gaussian_blur(img, sigma);
  double norm = 0;
  for (int a = -4; a <= 4; ++a) norm += std::exp(-a * a / (2 * sigma * sigma));
  for (int y = 0; y < 15; ++y)
    for (int x = 0; x < 15; ++x) {
      const int a = y - 7, b = x - 7;
      const double expected =
          (std::abs(a) <= 4 && std::abs(b) <= 4)
              ? std::exp(-a * a / (2 * sigma * sigma)) * std::exp(-b * b / (2 * sigma * sigma)) / (norm * norm)
              : 0.0;
      CHECK(std::fabs(out(y, x) - expected) <= 1e-16);  // a handful of roundings of O(0.1) values
    }
}

TEST_CASE("gaussian blur: matches a brute-force 2-D convolution with mirrored borders") {
  for (double sigma : {0.4, 0.9, 1.7}) {
    CAPTURE(sigma);
    const Tensor<double> img = seeded_uniform<double>({7, 9}, 3);
    // Separable vs direct sums differ only in summation order: ~1e-16 per term.
    CHECK(max_relative_error(gaussian_blur(img, sigma), brute_force_blur(img, sigma)) <= 1e-14);
  }
}

TEST_CASE("gaussian blur: constants stay constant, mass is conserved, planes are independent") {
  // A symmetric kernel with mirrored borders gives a symmetric, doubly
  // stochastic blur matrix: constants are fixed points and Σ pixels is kept,
  // even when the kernel (r = 12) is wider than the image (5×6).
  const Tensor<double> constant_img = filled<double>({5, 6}, 0.37);
  for (double sigma : {0.5, 2.0, 4.0}) {
    CAPTURE(sigma);
    const Tensor<double> c = gaussian_blur(constant_img, sigma);
    for (double v : c) CHECK(std::fabs(v - 0.37) <= 1e-15);
    const Tensor<double> img = seeded_uniform<double>({5, 6}, 4);
    double before = 0, after = 0;
    for (double v : img) before += v;
    for (double v : gaussian_blur(img, sigma)) after += v;
    CHECK(std::fabs(after - before) <= 1e-13);
  }
  // [2, 3, 5, 6]: each of the 6 planes blurs on its own.
  const Tensor<double> stack = seeded_uniform<double>({2, 3, 5, 6}, 5);
  const Tensor<double> blurred = gaussian_blur(stack, 0.8);
  for (std::size_t a = 0; a < 2; ++a)
    for (std::size_t b = 0; b < 3; ++b) {
      Tensor<double> plane = Tensor<double>::from_shape({5, 6});
      for (std::size_t y = 0; y < 5; ++y)
        for (std::size_t x = 0; x < 6; ++x) plane(y, x) = stack(a, b, y, x);
      const Tensor<double> expected = gaussian_blur(plane, 0.8);
      for (std::size_t y = 0; y < 5; ++y)
        for (std::size_t x = 0; x < 6; ++x) CHECK(blurred(a, b, y, x) == expected(y, x));
    }
  // float works too, and agrees with double to float precision.
  const Tensor<float> img_f = seeded_uniform<float>({5, 6}, 6);
  const Tensor<double> img_d = seeded_uniform<double>({5, 6}, 6);
  const Tensor<float> out_f = gaussian_blur(img_f, 1.0);
  const Tensor<double> out_d = gaussian_blur(img_d, 1.0);
  for (std::size_t i = 0; i < out_f.size(); ++i) CHECK(std::fabs(out_f.data()[i] - out_d.data()[i]) <= 1e-6);
}
