// Separable Gaussian blur with reflecting (or zero) borders (see gaussian_blur.hpp).
#include "attribution/gaussian_blur.hpp"

#include <cmath>
#include <string>

#include "autodiff/errors.hpp"

namespace fluxion {

std::vector<double> gaussian_kernel(double sigma, KernelRadius kernel_radius) {
  if (!(sigma > 0) || !std::isfinite(sigma))
    throw ArgumentError("gaussian_kernel: sigma must be positive and finite, got " + std::to_string(sigma));
  const long radius = kernel_radius == KernelRadius::scipy ? static_cast<long>(4 * sigma + 0.5)
                                                           : static_cast<long>(std::ceil(3 * sigma));
  std::vector<double> g(2 * radius + 1);
  double total = 0;
  for (long a = -radius; a <= radius; ++a) total += g[a + radius] = std::exp(-0.5 * a * a / (sigma * sigma));
  for (double& w : g) w /= total;
  return g;
}

namespace {

// Index i (any integer) mirrored into 0 … n−1 about the pixel edges:
// −1 → 0, −2 → 1, n → n−1; period 2n.
std::size_t reflect(long i, long n) {
  long m = i % (2 * n);
  if (m < 0) m += 2 * n;
  return static_cast<std::size_t>(m < n ? m : 2 * n - 1 - m);
}

// One 1-D pass over `count` lines of length n; element j of a line sits at
// base + j·stride. Reads `src`, writes `dst`.
// With zeros, taps outside 0 … n−1 read 0.
template <class T>
void blur_lines(const T* src, T* dst, std::size_t lines, std::size_t n, std::size_t stride,
                const std::vector<std::size_t>& line_starts, const std::vector<double>& g, BlurBorder border) {
  const long radius = static_cast<long>(g.size() / 2);
  const long length = static_cast<long>(n);
  for (std::size_t l = 0; l < lines; ++l) {
    const std::size_t base = line_starts[l];
    for (std::size_t j = 0; j < n; ++j) {
      double acc = 0;
      for (long a = -radius; a <= radius; ++a) {
        const long i = static_cast<long>(j) - a;
        if (border == BlurBorder::zeros && (i < 0 || i >= length)) continue;
        acc += g[a + radius] * static_cast<double>(src[base + reflect(i, length) * stride]);
      }
      dst[base + j * stride] = static_cast<T>(acc);
    }
  }
}

}  // namespace

template <class T>
Tensor<T> gaussian_blur(const Tensor<T>& image, double sigma, BlurBorder border, KernelRadius radius) {
  if (image.dimension() < 2)
    throw ShapeError("gaussian_blur: image must be [..., H, W], got " + shape_str(shape_of(image)));
  if (!(sigma >= 0) || !std::isfinite(sigma))
    throw ArgumentError("gaussian_blur: sigma must be >= 0 and finite, got " + std::to_string(sigma));
  if (sigma == 0) return image;
  const std::vector<double> g = gaussian_kernel(sigma, radius);
  const std::size_t r = image.dimension();
  const std::size_t height = image.shape()[r - 2], width = image.shape()[r - 1];
  if (height == 0 || width == 0) return image;
  const std::size_t planes = image.size() / (height * width);

  // Rows (along width): lines start at every (plane, h); columns: at every (plane, w).
  std::vector<std::size_t> row_starts, column_starts;
  for (std::size_t p = 0; p < planes; ++p) {
    for (std::size_t h = 0; h < height; ++h) row_starts.push_back((p * height + h) * width);
    for (std::size_t w = 0; w < width; ++w) column_starts.push_back(p * height * width + w);
  }
  Tensor<T> along_rows = Tensor<T>::from_shape(shape_of(image));
  Tensor<T> blurred = Tensor<T>::from_shape(shape_of(image));
  blur_lines(image.data(), along_rows.data(), row_starts.size(), width, 1, row_starts, g, border);
  blur_lines(along_rows.data(), blurred.data(), column_starts.size(), height, width, column_starts, g, border);
  return blurred;
}

template Tensor<float> gaussian_blur(const Tensor<float>&, double, BlurBorder, KernelRadius);
template Tensor<double> gaussian_blur(const Tensor<double>&, double, BlurBorder, KernelRadius);

}  // namespace fluxion
