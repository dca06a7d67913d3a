#include "autodiff/pool_kernels.hpp"

#include "autodiff/errors.hpp"

namespace fluxion::kernels {

PoolParams PoolParams::make(std::array<std::size_t, 2> kernels, std::array<std::size_t, 2> strides,
                            std::array<std::size_t, 4> pads, std::array<std::size_t, 2> dilations, bool ceil_mode,
                            bool count_include_pad) {
  PoolParams p;
  p.general = true;
  p.kernels = kernels;
  p.strides = strides;
  p.pads = pads;
  p.dilations = dilations;
  p.ceil_mode = ceil_mode;
  p.count_include_pad = count_include_pad;
  return p;
}

PoolParams PoolParams::resolved() const {
  if (general) return *this;
  return make({kernel, kernel}, {stride, stride}, {0, 0, 0, 0}, {1, 1}, false, false);
}

namespace {

std::size_t output_size(std::size_t n, const PoolParams& p, std::size_t axis, const char* op) {
  const std::size_t k = p.kernels[axis], s = p.strides[axis], d = p.dilations[axis];
  if (k == 0 || s == 0 || d == 0) throw ShapeError(std::string(op) + ": kernel, stride and dilation must be >= 1");
  const std::size_t begin = p.pads[axis], padded = n + begin + p.pads[axis + 2], extent = d * (k - 1) + 1;
  if (padded < extent)
    throw ShapeError(std::string(op) + ": window " + std::to_string(extent) + " larger than input " +
                     std::to_string(n) + (padded > n ? " padded to " + std::to_string(padded) : std::string()));
  std::size_t out = (padded - extent + (p.ceil_mode ? s - 1 : 0)) / s + 1;
  if (p.ceil_mode && (out - 1) * s >= n + begin) --out;  // the last window starts in the end padding
  return out;
}

// One axis of the windows: for output i, the real (in-image) taps, which are
// first[i], first[i] + step, … (count[i] of them), and the count of taps
// inside the padded image.
struct Axis {
  std::vector<std::size_t> first, count;  // the real taps of window i
  std::size_t step = 1;                   // the dilation
  std::vector<std::size_t> padded_count;  // |window i ∩ [−p₀, n + p₁)|
};

Axis axis_windows(std::size_t n, std::size_t out, const PoolParams& p, std::size_t axis, const char* op) {
  const auto k = static_cast<std::ptrdiff_t>(p.kernels[axis]), s = static_cast<std::ptrdiff_t>(p.strides[axis]);
  const auto d = static_cast<std::ptrdiff_t>(p.dilations[axis]), begin = static_cast<std::ptrdiff_t>(p.pads[axis]);
  const auto end = static_cast<std::ptrdiff_t>(n) + static_cast<std::ptrdiff_t>(p.pads[axis + 2]);
  Axis a;
  a.step = p.dilations[axis];
  a.first.assign(out, 0);
  a.count.assign(out, 0);
  a.padded_count.assign(out, 0);
  for (std::size_t i = 0; i < out; ++i) {
    for (std::ptrdiff_t u = 0; u < k; ++u) {
      const std::ptrdiff_t at = static_cast<std::ptrdiff_t>(i) * s - begin + u * d;
      if (at < end) ++a.padded_count[i];
      if (at >= 0 && at < static_cast<std::ptrdiff_t>(n)) {
        if (a.count[i] == 0) a.first[i] = static_cast<std::size_t>(at);
        ++a.count[i];
      }
    }
    if (a.count[i] == 0)
      throw ShapeError(std::string(op) + ": window " + std::to_string(i) + " along the " + (axis == 0 ? "height" : "width") +
                       " lies entirely in the padding");
  }
  return a;
}

struct Planes {
  std::size_t count, h, w, out_h, out_w;
  Axis rows, cols;
  // Every window whole inside the image, no dilation (the plain form, and
  // any padding-free floor-mode pooling): the kernels take the simple loops
  // x[i·sh + u, j·sw + v] (as fast as before the general form existed).
  bool simple = false;
  std::size_t kh = 0, kw = 0, sh = 0, sw = 0;
};

Planes planes_of(const Shape& s, const PoolParams& p, const char* op) {
  if (s.size() < 2) throw ShapeError(std::string(op) + ": input must be [..., H, W], got " + shape_str(s));
  Planes q{};
  q.h = s[s.size() - 2];
  q.w = s.back();
  q.count = numel_of(Shape(s.begin(), s.end() - 2));
  try {
    q.out_h = output_size(q.h, p, 0, op);
    q.out_w = output_size(q.w, p, 1, op);
  } catch (const ShapeError& e) {
    throw ShapeError(std::string(e.what()) + " (input " + shape_str(s) + ")");
  }
  q.rows = axis_windows(q.h, q.out_h, p, 0, op);
  q.cols = axis_windows(q.w, q.out_w, p, 1, op);
  q.kh = p.kernels[0];
  q.kw = p.kernels[1];
  q.sh = p.strides[0];
  q.sw = p.strides[1];
  q.simple = p.pads == std::array<std::size_t, 4>{0, 0, 0, 0} && p.dilations[0] == 1 && p.dilations[1] == 1 &&
             (q.out_h - 1) * q.sh + q.kh <= q.h && (q.out_w - 1) * q.sw + q.kw <= q.w;
  return q;
}

Shape with_last2(const Shape& s, std::size_t h, std::size_t w) {
  Shape out(s.begin(), s.end() - 2);
  out.push_back(h);
  out.push_back(w);
  return out;
}

// Number of planes of `s` ([..., h, w]); checks it is a multiple of the map's.
std::size_t checked_planes(const Shape& s, std::size_t h, std::size_t w, std::size_t map_planes, const char* op) {
  if (s.size() < 2 || s[s.size() - 2] != h || s.back() != w)
    throw ShapeError(std::string(op) + ": expected [..., " + std::to_string(h) + ", " + std::to_string(w) +
                     "], got " + shape_str(s));
  std::size_t planes = numel_of(Shape(s.begin(), s.end() - 2));
  if (map_planes == 0 || planes % map_planes != 0)
    throw ShapeError(std::string(op) + ": " + shape_str(s) + " is not a stack of the pooled planes");
  return planes;
}

// 1/divisor of every window (i, j), row-major: 1/(real entries) or, with
// count_include_pad, 1/(entries inside the padded image).
template <class T>
std::vector<T> window_weights(const Planes& q, const PoolParams& p, const char* op) {
  if (p.dilations[0] != 1 || p.dilations[1] != 1) throw ShapeError(std::string(op) + ": dilation must be 1");
  std::vector<T> weights(q.out_h * q.out_w);
  for (std::size_t i = 0; i < q.out_h; ++i)
    for (std::size_t j = 0; j < q.out_w; ++j) {
      const std::size_t n = p.count_include_pad ? q.rows.padded_count[i] * q.cols.padded_count[j]
                                                : q.rows.count[i] * q.cols.count[j];
      weights[i * q.out_w + j] = T(1) / T(n);
    }
  return weights;
}

}  // namespace

std::size_t pool_output_size(std::size_t n, PoolParams p, std::size_t axis) {
  return output_size(n, p.resolved(), axis, "pool");
}

template <class T>
Tensor<T> max_pool2d(const Tensor<T>& x, PoolParams params, ArgmaxMap& argmax) {
  const PoolParams p = params.resolved();
  Shape s = shape_of(x);
  Planes q = planes_of(s, p, "max_pool2d");
  Tensor<T> y(with_last2(s, q.out_h, q.out_w));
  argmax.out_shape = shape_of(y);
  argmax.in_h = q.h;
  argmax.in_w = q.w;
  argmax.index.assign(y.size(), 0);
  // Raw, non-aliasing pointers: the index map and the windows' tables are
  // both size_t, and without __restrict every store to one reloads the other.
  std::size_t* __restrict index = argmax.index.data();
  T* __restrict out = y.data();
  const std::size_t* __restrict col_first = q.cols.first.data();
  const std::size_t* __restrict col_count = q.cols.count.data();
  const std::size_t w = q.w, dr = q.rows.step, dc = q.cols.step;
  if (q.simple) {
    for (std::size_t c = 0; c < q.count; ++c) {
      const T* __restrict plane = x.data() + c * q.h * q.w;
      for (std::size_t i = 0; i < q.out_h; ++i)
        for (std::size_t j = 0; j < q.out_w; ++j) {
          std::size_t best = (i * q.sh) * w + j * q.sw;
          for (std::size_t u = 0; u < q.kh; ++u)
            for (std::size_t v = 0; v < q.kw; ++v) {
              const std::size_t at = (i * q.sh + u) * w + (j * q.sw + v);
              if (plane[at] > plane[best]) best = at;
            }
          const std::size_t o = (c * q.out_h + i) * q.out_w + j;
          index[o] = best;
          out[o] = plane[best];
        }
    }
    return y;
  }
  for (std::size_t c = 0; c < q.count; ++c) {
    const T* __restrict plane = x.data() + c * q.h * q.w;
    for (std::size_t i = 0; i < q.out_h; ++i) {
      const std::size_t r0 = q.rows.first[i], nr = q.rows.count[i];
      for (std::size_t j = 0; j < q.out_w; ++j) {
        const std::size_t c0 = col_first[j], nc = col_count[j];
        std::size_t best = r0 * w + c0;  // padding (−∞) never wins: real taps only
        for (std::size_t a = 0, r = r0; a < nr; ++a, r += dr)
          for (std::size_t b = 0, at = r * w + c0; b < nc; ++b, at += dc)
            if (plane[at] > plane[best]) best = at;
        const std::size_t o = (c * q.out_h + i) * q.out_w + j;
        index[o] = best;
        out[o] = plane[best];
      }
    }
  }
  return y;
}

template <class T>
Tensor<T> pool_gather(const Tensor<T>& x, const ArgmaxMap& m) {
  std::size_t oh = m.out_shape[m.out_shape.size() - 2], ow = m.out_shape.back();
  std::size_t map_planes = m.index.size() / (oh * ow);
  Shape s = shape_of(x);
  std::size_t planes = checked_planes(s, m.in_h, m.in_w, map_planes, "pool_gather");
  Tensor<T> y(with_last2(s, oh, ow));
  for (std::size_t c = 0; c < planes; ++c) {
    const T* plane = x.data() + c * m.in_h * m.in_w;
    const std::size_t* idx = m.index.data() + (c % map_planes) * oh * ow;
    T* out = y.data() + c * oh * ow;
    for (std::size_t o = 0; o < oh * ow; ++o) out[o] = plane[idx[o]];
  }
  return y;
}

template <class T>
Tensor<T> pool_scatter(const Tensor<T>& g, const ArgmaxMap& m) {
  std::size_t oh = m.out_shape[m.out_shape.size() - 2], ow = m.out_shape.back();
  std::size_t map_planes = m.index.size() / (oh * ow);
  Shape s = shape_of(g);
  std::size_t planes = checked_planes(s, oh, ow, map_planes, "pool_scatter");
  Tensor<T> x = filled<T>(with_last2(s, m.in_h, m.in_w), T(0));
  for (std::size_t c = 0; c < planes; ++c) {
    T* plane = x.data() + c * m.in_h * m.in_w;
    const std::size_t* idx = m.index.data() + (c % map_planes) * oh * ow;
    const T* in = g.data() + c * oh * ow;
    for (std::size_t o = 0; o < oh * ow; ++o) plane[idx[o]] += in[o];
  }
  return x;
}

template <class T>
Tensor<T> avg_pool2d(const Tensor<T>& x, PoolParams params) {
  const PoolParams p = params.resolved();
  Shape s = shape_of(x);
  Planes q = planes_of(s, p, "avg_pool2d");
  const std::vector<T> weight = window_weights<T>(q, p, "avg_pool2d");
  Tensor<T> y(with_last2(s, q.out_h, q.out_w));
  T* __restrict out = y.data();  // (the weights are T as well: no reloads after each store)
  const T* __restrict weights = weight.data();
  const std::size_t* __restrict col_first = q.cols.first.data();
  const std::size_t* __restrict col_count = q.cols.count.data();
  const std::size_t w = q.w;
  if (q.simple) {
    const T scale = weights[0];  // 1/(kh·kw) for every window
    for (std::size_t c = 0; c < q.count; ++c) {
      const T* __restrict plane = x.data() + c * q.h * q.w;
      for (std::size_t i = 0; i < q.out_h; ++i)
        for (std::size_t j = 0; j < q.out_w; ++j) {
          T acc = 0;
          for (std::size_t u = 0; u < q.kh; ++u)
            for (std::size_t v = 0; v < q.kw; ++v) acc += plane[(i * q.sh + u) * w + j * q.sw + v];
          out[(c * q.out_h + i) * q.out_w + j] = acc * scale;
        }
    }
    return y;
  }
  for (std::size_t c = 0; c < q.count; ++c) {
    const T* __restrict plane = x.data() + c * q.h * q.w;
    for (std::size_t i = 0; i < q.out_h; ++i) {
      const std::size_t r0 = q.rows.first[i], nr = q.rows.count[i];
      for (std::size_t j = 0; j < q.out_w; ++j) {
        T acc = 0;
        const std::size_t c0 = col_first[j], nc = col_count[j];
        for (std::size_t r = r0; r < r0 + nr; ++r)
          for (std::size_t v = c0; v < c0 + nc; ++v) acc += plane[r * w + v];
        out[(c * q.out_h + i) * q.out_w + j] = acc * weights[i * q.out_w + j];
      }
    }
  }
  return y;
}

template <class T>
Tensor<T> avg_pool2d_adjoint(const Tensor<T>& g, std::size_t height, std::size_t width, PoolParams params) {
  const PoolParams p = params.resolved();
  Shape s = shape_of(g);
  if (s.size() < 2) throw ShapeError("avg_pool2d_adjoint: cotangent must be [..., Ho, Wo], got " + shape_str(s));
  Shape image = with_last2(s, height, width);
  Planes q = planes_of(image, p, "avg_pool2d_adjoint");
  if (s[s.size() - 2] != q.out_h || s.back() != q.out_w)
    throw ShapeError("avg_pool2d_adjoint: cotangent " + shape_str(s) + " does not fit image " + shape_str(image));
  const std::vector<T> weight = window_weights<T>(q, p, "avg_pool2d_adjoint");
  Tensor<T> x = filled<T>(image, T(0));
  for (std::size_t c = 0; c < q.count; ++c) {
    T* plane = x.data() + c * q.h * q.w;
    for (std::size_t i = 0; i < q.out_h; ++i)
      for (std::size_t j = 0; j < q.out_w; ++j) {
        T v0 = g.data()[(c * q.out_h + i) * q.out_w + j] * weight[i * q.out_w + j];
        const std::size_t r0 = q.rows.first[i], nr = q.rows.count[i], c0 = q.cols.first[j], nc = q.cols.count[j];
        for (std::size_t r = r0; r < r0 + nr; ++r)
          for (std::size_t v = c0; v < c0 + nc; ++v) plane[r * q.w + v] += v0;
      }
  }
  return x;
}

#define FLUXION_INSTANTIATE(T)                                                              \
  template Tensor<T> max_pool2d(const Tensor<T>&, PoolParams, ArgmaxMap&);                  \
  template Tensor<T> pool_gather(const Tensor<T>&, const ArgmaxMap&);                       \
  template Tensor<T> pool_scatter(const Tensor<T>&, const ArgmaxMap&);                      \
  template Tensor<T> avg_pool2d(const Tensor<T>&, PoolParams);                              \
  template Tensor<T> avg_pool2d_adjoint(const Tensor<T>&, std::size_t, std::size_t, PoolParams);
FLUXION_INSTANTIATE(float)
FLUXION_INSTANTIATE(double)
#undef FLUXION_INSTANTIATE

}  // namespace fluxion::kernels
