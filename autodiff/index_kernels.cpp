#include "autodiff/index_kernels.hpp"

#include <algorithm>
#include <string>

#include "autodiff/errors.hpp"

namespace fluxion::kernels {

namespace {

// Row-major strides of a shape.
std::vector<std::size_t> strides_of(const Shape& s) {
  std::vector<std::size_t> st(s.size(), 1);
  for (std::size_t a = s.size(); a-- > 1;) st[a - 1] = st[a] * s[a];
  return st;
}

// Calls f(offset into the big tensor, index into the box) for every box
// entry in row-major order of the box, the last axis innermost.
template <class F>
void for_each_box_entry(const SliceSpec& box, F f) {
  const std::size_t r = box.out_shape.size();
  const std::size_t n = numel_of(box.out_shape);
  if (n == 0) return;
  if (r == 0) {
    f(std::size_t{0}, std::size_t{0});
    return;
  }
  const std::vector<std::size_t> st = strides_of(box.in_shape);
  std::vector<std::ptrdiff_t> step(r);
  std::ptrdiff_t base = 0;
  for (std::size_t a = 0; a < r; ++a) {
    step[a] = box.step[a] * static_cast<std::ptrdiff_t>(st[a]);
    base += box.start[a] * static_cast<std::ptrdiff_t>(st[a]);
  }
  std::vector<std::size_t> idx(r, 0);
  std::ptrdiff_t offset = base;
  const std::size_t inner = box.out_shape[r - 1];
  for (std::size_t o = 0; o < n; o += inner) {
    std::ptrdiff_t at = offset;
    for (std::size_t i = 0; i < inner; ++i, at += step[r - 1]) f(static_cast<std::size_t>(at), o + i);
    // odometer over the outer axes
    for (std::size_t a = r - 1; a-- > 0;) {
      offset += step[a];
      if (++idx[a] < box.out_shape[a]) break;
      offset -= step[a] * static_cast<std::ptrdiff_t>(idx[a]);
      idx[a] = 0;
    }
  }
}

}  // namespace

SliceSpec onnx_slice_spec(const Shape& in, const std::vector<std::int64_t>& starts,
                          const std::vector<std::int64_t>& ends, const std::vector<std::int64_t>& axes,
                          const std::vector<std::int64_t>& steps, const char* op) {
  const std::size_t m = starts.size();
  const auto rank = static_cast<std::int64_t>(in.size());
  if (ends.size() != m || (!axes.empty() && axes.size() != m) || (!steps.empty() && steps.size() != m))
    throw ShapeError(std::string(op) + ": starts, ends, axes and steps must have the same length (got " +
                     std::to_string(m) + ", " + std::to_string(ends.size()) + ", " + std::to_string(axes.size()) +
                     ", " + std::to_string(steps.size()) + ")");
  SliceSpec box;
  box.in_shape = in;
  box.out_shape = in;
  box.start.assign(in.size(), 0);
  box.step.assign(in.size(), 1);
  std::vector<bool> seen(in.size(), false);
  for (std::size_t i = 0; i < m; ++i) {
    std::int64_t a = axes.empty() ? static_cast<std::int64_t>(i) : axes[i];
    if (a < -rank || a >= rank)
      throw ShapeError(std::string(op) + ": axis " + std::to_string(a) + " out of range for shape " + shape_str(in));
    if (a < 0) a += rank;
    const auto ax = static_cast<std::size_t>(a);
    if (seen[ax]) throw ShapeError(std::string(op) + ": axis " + std::to_string(a) + " repeated");
    seen[ax] = true;
    const std::int64_t step = steps.empty() ? 1 : steps[i];
    if (step == 0) throw ShapeError(std::string(op) + ": step 0 along axis " + std::to_string(a));
    const auto n = static_cast<std::int64_t>(in[ax]);
    std::int64_t s = starts[i], e = ends[i];
    if (s < 0) s += n;
    if (e < 0) e += n;
    std::int64_t count = 0;
    if (step > 0) {
      s = std::clamp<std::int64_t>(s, 0, n);
      e = std::clamp<std::int64_t>(e, 0, n);
      count = e > s ? (e - s - 1) / step + 1 : 0;
    } else if (n > 0) {
      s = std::clamp<std::int64_t>(s, 0, n - 1);
      e = std::clamp<std::int64_t>(e, -1, n - 1);
      count = s > e ? (s - e - 1) / (-step) + 1 : 0;
    }
    box.start[ax] = count > 0 ? static_cast<std::ptrdiff_t>(s) : 0;
    box.step[ax] = static_cast<std::ptrdiff_t>(step);
    box.out_shape[ax] = static_cast<std::size_t>(count);
  }
  return box;
}

SliceSpec box_spec(const Shape& outer, const std::vector<std::size_t>& begin, const Shape& inner) {
  SliceSpec box;
  box.in_shape = outer;
  box.out_shape = inner;
  box.start.assign(begin.begin(), begin.end());
  box.step.assign(outer.size(), 1);
  return box;
}

template <class T>
Tensor<T> gather_box(const Tensor<T>& x, const SliceSpec& box) {
  if (shape_of(x) != box.in_shape)
    throw ShapeError("slice: expected " + shape_str(box.in_shape) + ", got " + shape_str(shape_of(x)));
  Tensor<T> y = Tensor<T>::from_shape(box.out_shape);
  const T* in = x.data();
  T* out = y.data();
  for_each_box_entry(box, [&](std::size_t at, std::size_t o) { out[o] = in[at]; });
  return y;
}

template <class T>
Tensor<T> scatter_box(const Tensor<T>& g, const SliceSpec& box, T fill) {
  if (shape_of(g) != box.out_shape)
    throw ShapeError("slice_adjoint: expected " + shape_str(box.out_shape) + ", got " + shape_str(shape_of(g)));
  Tensor<T> y = filled<T>(box.in_shape, fill);
  const T* in = g.data();
  T* out = y.data();
  for_each_box_entry(box, [&](std::size_t at, std::size_t o) { out[at] = in[o]; });  // a box never repeats an entry
  return y;
}

template <class T>
Tensor<T> concat(const std::vector<const Tensor<T>*>& parts, std::size_t axis) {
  Shape out = shape_of(*parts[0]);
  out[axis] = 0;
  for (const Tensor<T>* p : parts) out[axis] += p->shape()[axis];
  Tensor<T> y = Tensor<T>::from_shape(out);
  std::size_t outer = numel_of(Shape(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(axis)));
  std::size_t inner = numel_of(Shape(out.begin() + static_cast<std::ptrdiff_t>(axis) + 1, out.end()));
  const std::size_t row = out[axis] * inner;
  std::size_t at = 0;  // where the current part starts within a row
  for (const Tensor<T>* p : parts) {
    const std::size_t chunk = p->shape()[axis] * inner;
    for (std::size_t o = 0; o < outer; ++o) std::copy(p->data() + o * chunk, p->data() + (o + 1) * chunk, y.data() + o * row + at);
    at += chunk;
  }
  return y;
}

template <class T>
Tensor<T> take(const Tensor<T>& x, const std::vector<std::size_t>& indices, const Shape& index_shape,
               std::size_t axis) {
  const Shape s = shape_of(x);
  const std::size_t n = s[axis];
  const std::size_t outer = numel_of(Shape(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(axis)));
  const std::size_t inner = numel_of(Shape(s.begin() + static_cast<std::ptrdiff_t>(axis) + 1, s.end()));
  Shape out(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(axis));
  out.insert(out.end(), index_shape.begin(), index_shape.end());
  out.insert(out.end(), s.begin() + static_cast<std::ptrdiff_t>(axis) + 1, s.end());
  Tensor<T> y = Tensor<T>::from_shape(out);
  const std::size_t m = indices.size();
  for (std::size_t o = 0; o < outer; ++o)
    for (std::size_t j = 0; j < m; ++j) {
      const T* src = x.data() + (o * n + indices[j]) * inner;
      std::copy(src, src + inner, y.data() + (o * m + j) * inner);
    }
  return y;
}

template <class T>
Tensor<T> take_adjoint(const Tensor<T>& g, const std::vector<std::size_t>& indices, const Shape& index_shape,
                       std::size_t axis, std::size_t size) {
  const Shape s = shape_of(g);
  const std::size_t q = index_shape.size(), m = indices.size();
  Shape out(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(axis));
  out.push_back(size);
  out.insert(out.end(), s.begin() + static_cast<std::ptrdiff_t>(axis + q), s.end());
  const std::size_t outer = numel_of(Shape(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(axis)));
  const std::size_t inner = numel_of(Shape(s.begin() + static_cast<std::ptrdiff_t>(axis + q), s.end()));
  Tensor<T> y = filled<T>(out, T(0));
  for (std::size_t o = 0; o < outer; ++o)
    for (std::size_t j = 0; j < m; ++j) {
      const T* src = g.data() + (o * m + j) * inner;
      T* dst = y.data() + (o * size + indices[j]) * inner;
      for (std::size_t i = 0; i < inner; ++i) dst[i] += src[i];
    }
  return y;
}

#define FLUXION_INSTANTIATE(T)                                                                                 \
  template Tensor<T> gather_box(const Tensor<T>&, const SliceSpec&);                                           \
  template Tensor<T> scatter_box(const Tensor<T>&, const SliceSpec&, T);                                       \
  template Tensor<T> concat(const std::vector<const Tensor<T>*>&, std::size_t);                                \
  template Tensor<T> take(const Tensor<T>&, const std::vector<std::size_t>&, const Shape&, std::size_t);       \
  template Tensor<T> take_adjoint(const Tensor<T>&, const std::vector<std::size_t>&, const Shape&, std::size_t, \
                                  std::size_t);
FLUXION_INSTANTIATE(float)
FLUXION_INSTANTIATE(double)
#undef FLUXION_INSTANTIATE

}  // namespace fluxion::kernels
