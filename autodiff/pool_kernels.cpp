#include "autodiff/pool_kernels.hpp"

#include "autodiff/errors.hpp"

namespace fluxion::kernels {

namespace {

struct Planes {
  std::size_t count, h, w, out_h, out_w;
};

Planes planes_of(const Shape& s, PoolParams p, const char* op) {
  if (s.size() < 2) throw ShapeError(std::string(op) + ": input must be [..., H, W], got " + shape_str(s));
  if (p.kernel == 0 || p.stride == 0) throw ShapeError(std::string(op) + ": kernel and stride must be >= 1");
  Planes q{};
  q.h = s[s.size() - 2];
  q.w = s.back();
  if (q.h < p.kernel || q.w < p.kernel)
    throw ShapeError(std::string(op) + ": window " + std::to_string(p.kernel) + " larger than input " + shape_str(s));
  q.count = numel_of(Shape(s.begin(), s.end() - 2));
  q.out_h = (q.h - p.kernel) / p.stride + 1;
  q.out_w = (q.w - p.kernel) / p.stride + 1;
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

}  // namespace

template <class T>
Tensor<T> max_pool2d(const Tensor<T>& x, PoolParams p, ArgmaxMap& argmax) {
  Shape s = shape_of(x);
  Planes q = planes_of(s, p, "max_pool2d");
  Tensor<T> y(with_last2(s, q.out_h, q.out_w));
  argmax.out_shape = shape_of(y);
  argmax.in_h = q.h;
  argmax.in_w = q.w;
  argmax.index.assign(y.size(), 0);
  for (std::size_t c = 0; c < q.count; ++c) {
    const T* plane = x.data() + c * q.h * q.w;
    for (std::size_t i = 0; i < q.out_h; ++i)
      for (std::size_t j = 0; j < q.out_w; ++j) {
        std::size_t best = (i * p.stride) * q.w + j * p.stride;
        for (std::size_t u = 0; u < p.kernel; ++u)
          for (std::size_t v = 0; v < p.kernel; ++v) {
            std::size_t at = (i * p.stride + u) * q.w + (j * p.stride + v);
            if (plane[at] > plane[best]) best = at;
          }
        std::size_t o = (c * q.out_h + i) * q.out_w + j;
        argmax.index[o] = best;
        y.data()[o] = plane[best];
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
Tensor<T> avg_pool2d(const Tensor<T>& x, PoolParams p) {
  Shape s = shape_of(x);
  Planes q = planes_of(s, p, "avg_pool2d");
  Tensor<T> y(with_last2(s, q.out_h, q.out_w));
  const T scale = T(1) / T(p.kernel * p.kernel);
  for (std::size_t c = 0; c < q.count; ++c) {
    const T* plane = x.data() + c * q.h * q.w;
    for (std::size_t i = 0; i < q.out_h; ++i)
      for (std::size_t j = 0; j < q.out_w; ++j) {
        T acc = 0;
        for (std::size_t u = 0; u < p.kernel; ++u)
          for (std::size_t v = 0; v < p.kernel; ++v) acc += plane[(i * p.stride + u) * q.w + j * p.stride + v];
        y.data()[(c * q.out_h + i) * q.out_w + j] = acc * scale;
      }
  }
  return y;
}

template <class T>
Tensor<T> avg_pool2d_adjoint(const Tensor<T>& g, std::size_t height, std::size_t width, PoolParams p) {
  Shape s = shape_of(g);
  Shape image = with_last2(s, height, width);
  Planes q = planes_of(image, p, "avg_pool2d_adjoint");
  if (s[s.size() - 2] != q.out_h || s.back() != q.out_w)
    throw ShapeError("avg_pool2d_adjoint: cotangent " + shape_str(s) + " does not fit image " + shape_str(image));
  Tensor<T> x = filled<T>(image, T(0));
  const T scale = T(1) / T(p.kernel * p.kernel);
  for (std::size_t c = 0; c < q.count; ++c) {
    T* plane = x.data() + c * q.h * q.w;
    for (std::size_t i = 0; i < q.out_h; ++i)
      for (std::size_t j = 0; j < q.out_w; ++j) {
        T v0 = g.data()[(c * q.out_h + i) * q.out_w + j] * scale;
        for (std::size_t u = 0; u < p.kernel; ++u)
          for (std::size_t v = 0; v < p.kernel; ++v) plane[(i * p.stride + u) * q.w + j * p.stride + v] += v0;
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
