#include "autodiff/conv_kernels.hpp"

#include <Eigen/Core>

#include "autodiff/errors.hpp"

namespace fluxion::kernels {

namespace {

template <class T>
using RowMat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Geometry of one convolution, with the leading axes folded into `batch`.
struct Geometry {
  std::size_t batch, channels, height, width;  // input
  std::size_t out_channels, kh, kw, out_h, out_w;
  Conv2dParams p;
  std::size_t patch() const { return channels * kh * kw; }      // rows of the column matrix
  std::size_t positions() const { return batch * out_h * out_w; }  // its columns
};

Geometry make_geometry(const Shape& image, std::size_t out_channels, std::size_t kh, std::size_t kw,
                       Conv2dParams p, const char* op) {
  if (image.size() < 3) throw ShapeError(std::string(op) + ": images must be [..., C, H, W], got " + shape_str(image));
  if (p.stride == 0) throw ShapeError(std::string(op) + ": stride must be >= 1");
  Geometry g{};
  g.channels = image[image.size() - 3];
  g.height = image[image.size() - 2];
  g.width = image.back();
  g.batch = numel_of(Shape(image.begin(), image.end() - 3));
  g.out_channels = out_channels;
  g.kh = kh;
  g.kw = kw;
  g.p = p;
  g.out_h = conv_output_size(g.height, kh, p);
  g.out_w = conv_output_size(g.width, kw, p);
  return g;
}

// cols[(c·kh + u)·kw + v, (b·Ho + i)·Wo + j] = x[b, c, i·s − p + u, j·s − p + v] (0 outside)
template <class T>
RowMat<T> im2col(const T* x, const Geometry& g) {
  RowMat<T> cols(g.patch(), g.positions());
  const std::ptrdiff_t pad = static_cast<std::ptrdiff_t>(g.p.padding);
#pragma omp parallel for if (g.patch() * g.positions() > 65536)
  for (std::ptrdiff_t row = 0; row < static_cast<std::ptrdiff_t>(g.patch()); ++row) {
    std::size_t c = row / (g.kh * g.kw), u = (row / g.kw) % g.kh, v = row % g.kw;
    T* out = cols.data() + row * g.positions();
    for (std::size_t b = 0; b < g.batch; ++b) {
      const T* plane = x + (b * g.channels + c) * g.height * g.width;
      for (std::size_t i = 0; i < g.out_h; ++i) {
        std::ptrdiff_t y = static_cast<std::ptrdiff_t>(i * g.p.stride + u) - pad;
        bool row_in = y >= 0 && y < static_cast<std::ptrdiff_t>(g.height);
        for (std::size_t j = 0; j < g.out_w; ++j) {
          std::ptrdiff_t xx = static_cast<std::ptrdiff_t>(j * g.p.stride + v) - pad;
          *out++ = (row_in && xx >= 0 && xx < static_cast<std::ptrdiff_t>(g.width)) ? plane[y * g.width + xx] : T(0);
        }
      }
    }
  }
  return cols;
}

// The adjoint of im2col: scatter-add columns back into images.
template <class T>
void col2im(const RowMat<T>& cols, const Geometry& g, T* x) {
  const std::ptrdiff_t pad = static_cast<std::ptrdiff_t>(g.p.padding);
  std::fill(x, x + g.batch * g.channels * g.height * g.width, T(0));
  // Parallel over channels: rows of different channels write disjoint planes.
#pragma omp parallel for if (g.patch() * g.positions() > 65536)
  for (std::ptrdiff_t c = 0; c < static_cast<std::ptrdiff_t>(g.channels); ++c) {
    for (std::size_t u = 0; u < g.kh; ++u)
      for (std::size_t v = 0; v < g.kw; ++v) {
        std::size_t row = (c * g.kh + u) * g.kw + v;
        const T* in = cols.data() + row * g.positions();
        for (std::size_t b = 0; b < g.batch; ++b) {
          T* plane = x + (b * g.channels + c) * g.height * g.width;
          for (std::size_t i = 0; i < g.out_h; ++i) {
            std::ptrdiff_t y = static_cast<std::ptrdiff_t>(i * g.p.stride + u) - pad;
            bool row_in = y >= 0 && y < static_cast<std::ptrdiff_t>(g.height);
            for (std::size_t j = 0; j < g.out_w; ++j, ++in) {
              std::ptrdiff_t xx = static_cast<std::ptrdiff_t>(j * g.p.stride + v) - pad;
              if (row_in && xx >= 0 && xx < static_cast<std::ptrdiff_t>(g.width)) plane[y * g.width + xx] += *in;
            }
          }
        }
      }
  }
}

// [B, O, Ho·Wo] (image layout) <-> [O, B·Ho·Wo] (column layout)
template <class T>
RowMat<T> images_to_columns(const T* y, std::size_t batch, std::size_t channels, std::size_t hw) {
  RowMat<T> m(channels, batch * hw);
  for (std::size_t b = 0; b < batch; ++b)
    for (std::size_t o = 0; o < channels; ++o)
      std::copy(y + (b * channels + o) * hw, y + (b * channels + o + 1) * hw, m.data() + o * batch * hw + b * hw);
  return m;
}

template <class T>
void columns_to_images(const RowMat<T>& m, std::size_t batch, std::size_t channels, std::size_t hw, T* y) {
  for (std::size_t b = 0; b < batch; ++b)
    for (std::size_t o = 0; o < channels; ++o)
      std::copy(m.data() + o * batch * hw + b * hw, m.data() + o * batch * hw + (b + 1) * hw,
                y + (b * channels + o) * hw);
}

Shape with_last3(const Shape& s, std::size_t c, std::size_t h, std::size_t w) {
  Shape out(s.begin(), s.end() - 3);
  out.insert(out.end(), {c, h, w});
  return out;
}

}  // namespace

std::size_t conv_output_size(std::size_t n, std::size_t k, Conv2dParams p) {
  if (n + 2 * p.padding < k)
    throw ShapeError("conv2d: kernel of size " + std::to_string(k) + " does not fit an input of size " +
                     std::to_string(n) + " with padding " + std::to_string(p.padding));
  return (n + 2 * p.padding - k) / p.stride + 1;
}

template <class T>
Tensor<T> conv2d(const Tensor<T>& x, const Tensor<T>& w, Conv2dParams p) {
  Shape sw = shape_of(w), sx = shape_of(x);
  if (sw.size() != 4) throw ShapeError("conv2d: weight must be [O, C, kh, kw], got " + shape_str(sw));
  Geometry g = make_geometry(sx, sw[0], sw[2], sw[3], p, "conv2d");
  if (sw[1] != g.channels)
    throw ShapeError("conv2d: input " + shape_str(sx) + " has " + std::to_string(g.channels) +
                     " channels but weight " + shape_str(sw) + " expects " + std::to_string(sw[1]));
  RowMat<T> cols = im2col(x.data(), g);
  Eigen::Map<const RowMat<T>> W(w.data(), g.out_channels, g.patch());
  RowMat<T> y = W * cols;  // [O, B·Ho·Wo]
  Tensor<T> out(with_last3(sx, g.out_channels, g.out_h, g.out_w));
  columns_to_images(y, g.batch, g.out_channels, g.out_h * g.out_w, out.data());
  return out;
}

template <class T>
Tensor<T> conv2d_input_grad(const Tensor<T>& gy, const Tensor<T>& w, std::size_t height, std::size_t width,
                            Conv2dParams p) {
  Shape sw = shape_of(w), sg = shape_of(gy);
  if (sw.size() != 4) throw ShapeError("conv2d_input_grad: weight must be [O, C, kh, kw], got " + shape_str(sw));
  if (sg.size() < 3 || sg[sg.size() - 3] != sw[0])
    throw ShapeError("conv2d_input_grad: cotangent " + shape_str(sg) + " does not match weight " + shape_str(sw));
  Shape image = with_last3(sg, sw[1], height, width);
  Geometry g = make_geometry(image, sw[0], sw[2], sw[3], p, "conv2d_input_grad");
  if (g.out_h != sg[sg.size() - 2] || g.out_w != sg.back())
    throw ShapeError("conv2d_input_grad: cotangent " + shape_str(sg) + " does not fit image size " +
                     std::to_string(height) + "x" + std::to_string(width));
  RowMat<T> G = images_to_columns(gy.data(), g.batch, g.out_channels, g.out_h * g.out_w);
  Eigen::Map<const RowMat<T>> W(w.data(), g.out_channels, g.patch());
  RowMat<T> cols = W.transpose() * G;  // [C·kh·kw, B·Ho·Wo]
  Tensor<T> out(image);
  col2im(cols, g, out.data());
  return out;
}

template <class T>
Tensor<T> conv2d_weight_grad(const Tensor<T>& x, const Tensor<T>& gy, std::size_t kh, std::size_t kw,
                             Conv2dParams p) {
  Shape sx = shape_of(x), sg = shape_of(gy);
  if (sg.size() < 3) throw ShapeError("conv2d_weight_grad: cotangent must be [..., O, Ho, Wo], got " + shape_str(sg));
  Geometry g = make_geometry(sx, sg[sg.size() - 3], kh, kw, p, "conv2d_weight_grad");
  if (with_last3(sx, g.out_channels, g.out_h, g.out_w) != sg)
    throw ShapeError("conv2d_weight_grad: input " + shape_str(sx) + " and cotangent " + shape_str(sg) +
                     " do not fit a " + std::to_string(kh) + "x" + std::to_string(kw) + " kernel");
  RowMat<T> cols = im2col(x.data(), g);
  RowMat<T> G = images_to_columns(gy.data(), g.batch, g.out_channels, g.out_h * g.out_w);
  Tensor<T> out(Shape{g.out_channels, g.channels, kh, kw});
  Eigen::Map<RowMat<T>> Wg(out.data(), g.out_channels, g.patch());
  Wg.noalias() = G * cols.transpose();
  return out;
}

#define FLUXION_INSTANTIATE(T)                                                                            \
  template Tensor<T> conv2d(const Tensor<T>&, const Tensor<T>&, Conv2dParams);                            \
  template Tensor<T> conv2d_input_grad(const Tensor<T>&, const Tensor<T>&, std::size_t, std::size_t,      \
                                       Conv2dParams);                                                     \
  template Tensor<T> conv2d_weight_grad(const Tensor<T>&, const Tensor<T>&, std::size_t, std::size_t,     \
                                        Conv2dParams);
FLUXION_INSTANTIATE(float)
FLUXION_INSTANTIATE(double)
#undef FLUXION_INSTANTIATE

}  // namespace fluxion::kernels
