#include "autodiff/conv_kernels.hpp"

#include <algorithm>
#include <memory>
#include <vector>

#include <Eigen/Core>

#include "autodiff/errors.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace fluxion::kernels {

namespace {

#ifdef _OPENMP
int thread_count() { return omp_get_num_threads(); }
int thread_index() { return omp_get_thread_num(); }
#else
int thread_count() { return 1; }
int thread_index() { return 0; }
#endif

template <class T>
using RowMat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Per-thread scratch space that every kernel below overwrites completely
// before reading it, so it is left uninitialised (a std::vector would first
// zero it: measurable at these sizes).
template <class T>
std::unique_ptr<T[]> scratch(std::size_t n) {
  return std::unique_ptr<T[]>(new T[n]);
}

// Geometry of one convolution, with the leading axes folded into `batch`.
// `channels` counts all input channels; a group's are `channels / groups`.
struct Geometry {
  std::size_t batch, channels, height, width;  // input
  std::size_t out_channels, kh, kw, out_h, out_w;
  std::size_t sh, sw, pt, pl, dh, dw, groups;  // strides, top/left pads, dilations, groups
  std::size_t patch() const { return channels * kh * kw; }      // rows of the column matrix
  std::size_t group_patch() const { return patch() / groups; }  // the rows one group's weights read
  std::size_t group_out() const { return out_channels / groups; }
  std::size_t positions() const { return batch * out_h * out_w; }  // its columns
};

Geometry make_geometry(const Shape& image, std::size_t out_channels, std::size_t kh, std::size_t kw,
                       Conv2dParams params, const char* op) {
  if (image.size() < 3) throw ShapeError(std::string(op) + ": images must be [..., C, H, W], got " + shape_str(image));
  const Conv2dParams p = params.resolved();
  if (p.strides[0] == 0 || p.strides[1] == 0) throw ShapeError(std::string(op) + ": stride must be >= 1");
  if (p.dilations[0] == 0 || p.dilations[1] == 0) throw ShapeError(std::string(op) + ": dilation must be >= 1");
  if (p.groups == 0) throw ShapeError(std::string(op) + ": groups must be >= 1");
  Geometry g{};
  g.channels = image[image.size() - 3];
  g.height = image[image.size() - 2];
  g.width = image.back();
  g.batch = numel_of(Shape(image.begin(), image.end() - 3));
  g.out_channels = out_channels;
  g.kh = kh;
  g.kw = kw;
  g.sh = p.strides[0];
  g.sw = p.strides[1];
  g.pt = p.pads[0];
  g.pl = p.pads[1];
  g.dh = p.dilations[0];
  g.dw = p.dilations[1];
  g.groups = p.groups;
  if (g.channels % g.groups != 0 || out_channels % g.groups != 0)
    throw ShapeError(std::string(op) + ": " + std::to_string(g.channels) + " input and " +
                     std::to_string(out_channels) + " output channels do not split into " + std::to_string(g.groups) +
                     " groups");
  g.out_h = conv_output_size(g.height, kh, p, 0);
  g.out_w = conv_output_size(g.width, kw, p, 1);
  return g;
}

// The column matrix of a GROUP of images b0 … b0+G−1, image g in columns
// [g·Ho·Wo, (g+1)·Ho·Wo):
//   cols[(c·kh + u)·kw + v, g·Ho·Wo + i·Wo + j] = x[b0+g, c, i·sh − pt + u·dh, j·sw − pl + v·dw]   (0 outside)
// (The rows of channel group q are the contiguous block [q·C/G·kh·kw, (q+1)·C/G·kh·kw).)
// so a convolution of the whole group is ONE matrix product W · cols with a
// long inner dimension (small per-image GEMMs waste most of the GEMM kernel's
// time in packing). im2col_image fills one image's columns of such a matrix;
// `ld` is the matrix's row length (G·Ho·Wo).
template <class T>
void im2col_image(const T* image, const Geometry& g, T* cols, std::size_t ld) {
  const std::ptrdiff_t pt = static_cast<std::ptrdiff_t>(g.pt), pl = static_cast<std::ptrdiff_t>(g.pl);
  const std::ptrdiff_t dh = static_cast<std::ptrdiff_t>(g.dh), dw = static_cast<std::ptrdiff_t>(g.dw);
  const std::ptrdiff_t H = static_cast<std::ptrdiff_t>(g.height), W = static_cast<std::ptrdiff_t>(g.width);
  const std::ptrdiff_t sh = static_cast<std::ptrdiff_t>(g.sh), s = static_cast<std::ptrdiff_t>(g.sw);
  const std::ptrdiff_t Wo = static_cast<std::ptrdiff_t>(g.out_w);
  for (std::size_t row = 0; row < g.patch(); ++row) {
    const std::size_t c = row / (g.kh * g.kw), u = (row / g.kw) % g.kh, v = row % g.kw;
    const T* plane = image + c * g.height * g.width;
    // Columns j whose source x = j·sw + off, off = v·dw − pl, lies inside [0, W): j ∈ [j0, j1).
    const std::ptrdiff_t off = static_cast<std::ptrdiff_t>(v) * dw - pl;
    const std::ptrdiff_t j0 = std::min(Wo, off >= 0 ? 0 : (-off + s - 1) / s);
    const std::ptrdiff_t j1 = std::max(j0, std::min(Wo, W - off > 0 ? (W - off + s - 1) / s : 0));
    T* out = cols + row * ld;
    for (std::size_t i = 0; i < g.out_h; ++i, out += Wo) {
      const std::ptrdiff_t y = static_cast<std::ptrdiff_t>(i) * sh + static_cast<std::ptrdiff_t>(u) * dh - pt;
      if (y < 0 || y >= H) {
        std::fill(out, out + Wo, T(0));
        continue;
      }
      const T* src = plane + y * W;  // source row; column j reads src[j·s + off]
      std::fill(out, out + j0, T(0));
      if (s == 1) std::copy(src + j0 + off, src + j1 + off, out + j0);
      else
        for (std::ptrdiff_t j = j0; j < j1; ++j) out[j] = src[j * s + off];
      std::fill(out + j1, out + Wo, T(0));
    }
  }
}

// The adjoint of im2col_image: scatter-add one image's columns into it.
template <class T>
void col2im_image(const T* cols, std::size_t ld, const Geometry& g, T* image) {
  const std::ptrdiff_t pt = static_cast<std::ptrdiff_t>(g.pt), pl = static_cast<std::ptrdiff_t>(g.pl);
  const std::ptrdiff_t dh = static_cast<std::ptrdiff_t>(g.dh), dw = static_cast<std::ptrdiff_t>(g.dw);
  const std::ptrdiff_t H = static_cast<std::ptrdiff_t>(g.height), W = static_cast<std::ptrdiff_t>(g.width);
  const std::ptrdiff_t sh = static_cast<std::ptrdiff_t>(g.sh), s = static_cast<std::ptrdiff_t>(g.sw);
  const std::ptrdiff_t Wo = static_cast<std::ptrdiff_t>(g.out_w);
  std::fill(image, image + g.channels * g.height * g.width, T(0));
  for (std::size_t row = 0; row < g.patch(); ++row) {
    const std::size_t c = row / (g.kh * g.kw), u = (row / g.kw) % g.kh, v = row % g.kw;
    T* plane = image + c * g.height * g.width;
    const std::ptrdiff_t off = static_cast<std::ptrdiff_t>(v) * dw - pl;
    const std::ptrdiff_t j0 = std::min(Wo, off >= 0 ? 0 : (-off + s - 1) / s);
    const std::ptrdiff_t j1 = std::max(j0, std::min(Wo, W - off > 0 ? (W - off + s - 1) / s : 0));
    const T* in = cols + row * ld;
    for (std::size_t i = 0; i < g.out_h; ++i, in += Wo) {
      const std::ptrdiff_t y = static_cast<std::ptrdiff_t>(i) * sh + static_cast<std::ptrdiff_t>(u) * dh - pt;
      if (y < 0 || y >= H) continue;
      T* dst = plane + y * W;
      if (s == 1) {  // contiguous: a loop the compiler vectorises
        T* d = dst + off;
        for (std::ptrdiff_t j = j0; j < j1; ++j) d[j] += in[j];
      } else {
        for (std::ptrdiff_t j = j0; j < j1; ++j) dst[j * s + off] += in[j];
      }
    }
  }
}

// Images per group: as many as keep the column matrix near 512 KiB (so it
// stays in cache), at least one.
template <class T>
std::size_t group_size(const Geometry& g) {
  const std::size_t per_image = g.patch() * g.out_h * g.out_w * sizeof(T);
  return std::clamp<std::size_t>((std::size_t{512} << 10) / std::max<std::size_t>(per_image, 1), 1, g.batch);
}

// Groups [first, first + count) of images, numbered 0 … groups − 1.
struct Group {
  std::size_t first, count;
};
Group group_at(std::size_t index, std::size_t size, std::size_t batch) {
  const std::size_t first = index * size;
  return {first, std::min(size, batch - first)};
}

// Parallelise over groups only when there is enough work per call to pay for
// waking the threads.
bool worth_threads(const Geometry& g) { return g.batch * g.patch() * g.out_h * g.out_w > 65536; }

// Calls work(first, last, thread) once per thread, which then handles groups
// [first, last) (contiguous blocks: deterministic for a given thread count).
// Without `parallel` everything runs on the calling thread OUTSIDE any OpenMP
// region. (A region switched off with `if (false)` is still a region: Eigen's
// GEMM inside it opens a nested team, and libgomp creates fresh threads for
// every nested team -- Integrated Gradients on the cnn ran 3x slower on two
// threads than on one because of that.)
template <class Work>
void split_groups(std::size_t groups, bool parallel, Work&& work) {
  if (!parallel) {
    work(std::size_t{0}, groups, std::size_t{0});
    return;
  }
#pragma omp parallel
  {
    const auto thread = static_cast<std::size_t>(thread_index()), threads = static_cast<std::size_t>(thread_count());
    work(groups * thread / threads, groups * (thread + 1) / threads, thread);
  }
}

int max_threads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

Shape with_last3(const Shape& s, std::size_t c, std::size_t h, std::size_t w) {
  Shape out(s.begin(), s.end() - 3);
  out.insert(out.end(), {c, h, w});
  return out;
}

}  // namespace

Conv2dParams Conv2dParams::make(std::array<std::size_t, 2> strides, std::array<std::size_t, 4> pads,
                                std::array<std::size_t, 2> dilations, std::size_t groups) {
  Conv2dParams p;
  p.general = true;
  p.strides = strides;
  p.pads = pads;
  p.dilations = dilations;
  p.groups = groups;
  return p;
}

Conv2dParams Conv2dParams::resolved() const {
  if (general) return *this;
  return make({stride, stride}, {padding, padding, padding, padding}, {1, 1}, 1);
}

std::size_t conv_output_size(std::size_t n, std::size_t k, Conv2dParams params, std::size_t axis) {
  const Conv2dParams p = params.resolved();
  const std::size_t padded = n + p.pads[axis] + p.pads[axis + 2];
  const std::size_t extent = p.dilations[axis] * (k == 0 ? 0 : k - 1) + 1;  // the dilated kernel's span
  if (k == 0 || padded < extent)
    throw ShapeError("conv2d: kernel of size " + std::to_string(k) + (p.dilations[axis] > 1 ? " dilated " + std::to_string(p.dilations[axis]) : std::string()) +
                     " does not fit an input of size " + std::to_string(n) + " with padding " +
                     std::to_string(p.pads[axis]) + "+" + std::to_string(p.pads[axis + 2]));
  if (p.strides[axis] == 0) throw ShapeError("conv2d: stride must be >= 1");
  return (padded - extent) / p.strides[axis] + 1;
}

std::size_t conv_output_size(std::size_t n, std::size_t k, Conv2dParams p) { return conv_output_size(n, k, p, 0); }

// y_b = W · cols_b for every image b, a group of images per product (with
// channel groups: one product per channel group, W_q · cols_b[rows of q]).
template <class T>
Tensor<T> conv2d(const Tensor<T>& x, const Tensor<T>& w, Conv2dParams p) {
  Shape sw = shape_of(w), sx = shape_of(x);
  if (sw.size() != 4) throw ShapeError("conv2d: weight must be [O, C, kh, kw], got " + shape_str(sw));
  Geometry g = make_geometry(sx, sw[0], sw[2], sw[3], p, "conv2d");
  if (sw[1] * g.groups != g.channels)
    throw ShapeError("conv2d: input " + shape_str(sx) + " has " + std::to_string(g.channels) +
                     " channels but weight " + shape_str(sw) + " expects " + std::to_string(sw[1] * g.groups) +
                     (g.groups > 1 ? " (" + std::to_string(g.groups) + " groups)" : std::string()));
  Eigen::Map<const RowMat<T>> W(w.data(), g.out_channels, g.group_patch());
  Tensor<T> out = Tensor<T>::from_shape(with_last3(sx, g.out_channels, g.out_h, g.out_w));
  const std::size_t hw = g.out_h * g.out_w, in_size = g.channels * g.height * g.width;
  const std::size_t size = group_size<T>(g), groups = (g.batch + size - 1) / size;
  split_groups(groups, worth_threads(g), [&](std::size_t first, std::size_t last, std::size_t) {
    auto cols_buffer = scratch<T>(g.patch() * size * hw), y_buffer = scratch<T>(g.out_channels * size * hw);
    for (std::size_t k = first; k < last; ++k) {
      const Group group = group_at(k, size, g.batch);
      const std::size_t ld = group.count * hw;
      Eigen::Map<RowMat<T>> cols(cols_buffer.get(), g.patch(), ld), Y(y_buffer.get(), g.out_channels, ld);
      for (std::size_t i = 0; i < group.count; ++i)
        im2col_image(x.data() + (group.first + i) * in_size, g, cols.data() + i * hw, ld);
      if (g.groups == 1) Y.noalias() = W * cols;  // [O, G·Ho·Wo]
      else  // channel group q: its output channels from its block of rows
        for (std::size_t q = 0; q < g.groups; ++q)
          Y.middleRows(q * g.group_out(), g.group_out()).noalias() =
              W.middleRows(q * g.group_out(), g.group_out()) * cols.middleRows(q * g.group_patch(), g.group_patch());
      for (std::size_t i = 0; i < group.count; ++i)  // image i's [O, Ho·Wo] block
        Eigen::Map<RowMat<T>>(out.data() + (group.first + i) * g.out_channels * hw, g.out_channels, hw) =
            Y.middleCols(i * hw, hw);
    }
  });
  return out;
}

// x̄_b = col2im(Wᵀ · ḡ_b), a group of images per product.
template <class T>
Tensor<T> conv2d_input_grad(const Tensor<T>& gy, const Tensor<T>& w, std::size_t height, std::size_t width,
                            Conv2dParams p) {
  Shape sw = shape_of(w), sg = shape_of(gy);
  if (sw.size() != 4) throw ShapeError("conv2d_input_grad: weight must be [O, C, kh, kw], got " + shape_str(sw));
  if (sg.size() < 3 || sg[sg.size() - 3] != sw[0])
    throw ShapeError("conv2d_input_grad: cotangent " + shape_str(sg) + " does not match weight " + shape_str(sw));
  Shape image = with_last3(sg, sw[1] * p.resolved().groups, height, width);
  Geometry g = make_geometry(image, sw[0], sw[2], sw[3], p, "conv2d_input_grad");
  if (g.out_h != sg[sg.size() - 2] || g.out_w != sg.back())
    throw ShapeError("conv2d_input_grad: cotangent " + shape_str(sg) + " does not fit image size " +
                     std::to_string(height) + "x" + std::to_string(width));
  Eigen::Map<const RowMat<T>> W(w.data(), g.out_channels, g.group_patch());
  Tensor<T> out = Tensor<T>::from_shape(image);
  const std::size_t hw = g.out_h * g.out_w, in_size = g.channels * g.height * g.width;
  const std::size_t size = group_size<T>(g), groups = (g.batch + size - 1) / size;
  split_groups(groups, worth_threads(g), [&](std::size_t first, std::size_t last, std::size_t) {
    auto gathered_buffer = scratch<T>(g.out_channels * size * hw), cols_buffer = scratch<T>(g.patch() * size * hw);
    for (std::size_t k = first; k < last; ++k) {
      const Group group = group_at(k, size, g.batch);
      const std::size_t ld = group.count * hw;
      Eigen::Map<RowMat<T>> gathered(gathered_buffer.get(), g.out_channels, ld), cols(cols_buffer.get(), g.patch(), ld);
      for (std::size_t i = 0; i < group.count; ++i)  // ḡ of the group as [O, G·Ho·Wo]
        gathered.middleCols(i * hw, hw) =
            Eigen::Map<const RowMat<T>>(gy.data() + (group.first + i) * g.out_channels * hw, g.out_channels, hw);
      if (g.groups == 1) cols.noalias() = W.transpose() * gathered;  // [C·kh·kw, G·Ho·Wo]
      else
        for (std::size_t q = 0; q < g.groups; ++q)
          cols.middleRows(q * g.group_patch(), g.group_patch()).noalias() =
              W.middleRows(q * g.group_out(), g.group_out()).transpose() *
              gathered.middleRows(q * g.group_out(), g.group_out());
      for (std::size_t i = 0; i < group.count; ++i)
        col2im_image(cols.data() + i * hw, ld, g, out.data() + (group.first + i) * in_size);
    }
  });
  return out;
}

// w̄ = Σ_b ḡ_b · cols_bᵀ: one product per group; each thread sums its own
// groups and the per-thread sums are added in thread order (deterministic
// for a given thread count).
template <class T>
Tensor<T> conv2d_weight_grad(const Tensor<T>& x, const Tensor<T>& gy, std::size_t kh, std::size_t kw,
                             Conv2dParams p) {
  Shape sx = shape_of(x), sg = shape_of(gy);
  if (sg.size() < 3) throw ShapeError("conv2d_weight_grad: cotangent must be [..., O, Ho, Wo], got " + shape_str(sg));
  Geometry g = make_geometry(sx, sg[sg.size() - 3], kh, kw, p, "conv2d_weight_grad");
  if (with_last3(sx, g.out_channels, g.out_h, g.out_w) != sg)
    throw ShapeError("conv2d_weight_grad: input " + shape_str(sx) + " and cotangent " + shape_str(sg) +
                     " do not fit a " + std::to_string(kh) + "x" + std::to_string(kw) + " kernel");
  const std::size_t hw = g.out_h * g.out_w, in_size = g.channels * g.height * g.width;
  const std::size_t size = group_size<T>(g), groups = (g.batch + size - 1) / size;
  Tensor<T> out = Tensor<T>::from_shape({g.out_channels, g.channels / g.groups, kh, kw});
  Eigen::Map<RowMat<T>> Wg(out.data(), g.out_channels, g.group_patch());
  Wg.setZero();
  // One sum per thread (a team never has more than max_threads threads).
  std::vector<RowMat<T>> partial(static_cast<std::size_t>(max_threads()),
                                 RowMat<T>::Zero(g.out_channels, g.group_patch()));
  split_groups(groups, worth_threads(g), [&](std::size_t first, std::size_t last, std::size_t thread) {
    RowMat<T>& mine = partial[thread];
    auto gathered_buffer = scratch<T>(g.out_channels * size * hw), cols_buffer = scratch<T>(g.patch() * size * hw);
    for (std::size_t k = first; k < last; ++k) {
      const Group group = group_at(k, size, g.batch);
      const std::size_t ld = group.count * hw;
      Eigen::Map<RowMat<T>> gathered(gathered_buffer.get(), g.out_channels, ld), cols(cols_buffer.get(), g.patch(), ld);
      for (std::size_t i = 0; i < group.count; ++i) {
        im2col_image(x.data() + (group.first + i) * in_size, g, cols.data() + i * hw, ld);
        gathered.middleCols(i * hw, hw) =
            Eigen::Map<const RowMat<T>>(gy.data() + (group.first + i) * g.out_channels * hw, g.out_channels, hw);
      }
      if (g.groups == 1) mine.noalias() += gathered * cols.transpose();
      else
        for (std::size_t q = 0; q < g.groups; ++q)
          mine.middleRows(q * g.group_out(), g.group_out()).noalias() +=
              gathered.middleRows(q * g.group_out(), g.group_out()) *
              cols.middleRows(q * g.group_patch(), g.group_patch()).transpose();
    }
  });
  for (const auto& sum : partial) Wg += sum;
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
