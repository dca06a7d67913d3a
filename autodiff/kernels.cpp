#include "autodiff/kernels.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <Eigen/Core>
#include <xtensor/xbroadcast.hpp>
#include <xtensor/xmanipulation.hpp>

#include "autodiff/errors.hpp"

namespace fluxion::kernels {

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  std::size_t r = std::max(a.size(), b.size());
  Shape out(r);
  for (std::size_t i = 0; i < r; ++i) {
    std::size_t da = i < r - a.size() ? 1 : a[i - (r - a.size())];
    std::size_t db = i < r - b.size() ? 1 : b[i - (r - b.size())];
    if (da != db && da != 1 && db != 1)
      throw ShapeError(std::string(op) + ": shapes " + shape_str(a) + " and " + shape_str(b) +
                       " do not broadcast");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

namespace {

template <class T>
using RowMat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using ConstMap = Eigen::Map<const RowMat<T>>;
template <class T>
using MutMap = Eigen::Map<RowMat<T>>;

// C (m×p) = op(A) op(B), A stored rows_a×cols_a, B stored rows_b×cols_b.
template <class T>
void gemm(const T* a, std::size_t rows_a, std::size_t cols_a, bool ta, const T* b, std::size_t rows_b,
          std::size_t cols_b, bool tb, T* c) {
  ConstMap<T> A(a, rows_a, cols_a);
  ConstMap<T> B(b, rows_b, cols_b);
  std::size_t m = ta ? cols_a : rows_a;
  std::size_t p = tb ? rows_b : cols_b;
  MutMap<T> C(c, m, p);
  if (!ta && !tb) C.noalias() = A * B;
  else if (ta && !tb) C.noalias() = A.transpose() * B;
  else if (!ta && tb) C.noalias() = A * B.transpose();
  else C.noalias() = A.transpose() * B.transpose();
}

// Offset (in elements) into a tensor with `shape` (batch part only) for the
// broadcast batch index `idx` of the output batch shape.
std::size_t batch_offset(const Shape& batch, const Shape& out_batch, const std::vector<std::size_t>& idx,
                         std::size_t matrix_size) {
  std::size_t off = 0;
  std::size_t r = out_batch.size();
  std::size_t shift = r - batch.size();
  for (std::size_t i = 0; i < batch.size(); ++i) {
    std::size_t e = batch[i] == 1 ? 0 : idx[i + shift];
    off = off * batch[i] + e;
  }
  return off * matrix_size;
}

// Broadcasting loops. An operand of shape s, right-aligned against the
// output shape, is read with stride 0 along the axes where it has extent 1
// (or is missing). Adjacent axes along which every operand is contiguous
// are merged, so [k, 1, C, H, W] ⊙ [1, C, H, W] runs as k passes of one
// C·H·W-long loop — no per-element index arithmetic. (xtensor's generic
// broadcasting assignment steps a multi-index per element: ~30× slower on
// such batched-tangent shapes.)
class StridedLoop {
 public:
  StridedLoop(const Shape& out, const std::vector<const Shape*>& operands) : steps_(operands.size()) {
    const std::size_t r = out.size();
    std::vector<std::vector<std::size_t>> strides(operands.size(), std::vector<std::size_t>(r, 0));
    for (std::size_t k = 0; k < operands.size(); ++k) {
      const Shape& s = *operands[k];
      std::size_t stride = 1;
      for (std::size_t i = s.size(); i-- > 0;) {
        strides[k][i + r - s.size()] = s[i] == 1 ? 0 : stride;
        stride *= s[i];
      }
    }
    // Merge axis i into the (merged) axis before it when, for every operand,
    // one step along that outer axis equals extent(i) steps along axis i.
    for (std::size_t i = 0; i < r; ++i) {
      if (out[i] == 1) continue;  // a unit axis changes nothing
      bool merge = !dims_.empty();
      for (std::size_t k = 0; merge && k < operands.size(); ++k)
        merge = steps_[k].back() == strides[k][i] * out[i];
      if (merge) {
        // the previous (outer) axis disappears into this one
        for (std::size_t k = 0; k < operands.size(); ++k) steps_[k].back() = strides[k][i];
        dims_.back() *= out[i];
      } else {
        dims_.push_back(out[i]);
        for (std::size_t k = 0; k < operands.size(); ++k) steps_[k].push_back(strides[k][i]);
      }
    }
    if (dims_.empty()) {  // a scalar, or only unit axes: one element
      dims_.push_back(1);
      for (auto& st : steps_) st.push_back(0);
    }
  }

  // Calls body(n, offsets, steps) for each contiguous run of n output
  // elements, in row-major output order; operand k starts at offsets[k] and
  // advances by steps[k] (0 or 1) per element.
  template <class Body>
  void run(Body&& body) const {
    const std::size_t m = steps_.size(), r = dims_.size();
    std::vector<std::size_t> offset(m, 0), step(m), idx(r, 0);
    for (std::size_t k = 0; k < m; ++k) step[k] = steps_[k][r - 1];
    const std::size_t inner = dims_[r - 1];
    std::size_t outer = 1;
    for (std::size_t i = 0; i + 1 < r; ++i) outer *= dims_[i];
    for (std::size_t run = 0; run < outer; ++run) {
      body(inner, offset.data(), step.data());
      for (std::size_t i = r - 1; i-- > 0;) {  // odometer over the outer axes
        for (std::size_t k = 0; k < m; ++k) offset[k] += steps_[k][i];
        if (++idx[i] < dims_[i]) break;
        for (std::size_t k = 0; k < m; ++k) offset[k] -= steps_[k][i] * dims_[i];
        idx[i] = 0;
      }
    }
  }

 private:
  Shape dims_;                                // merged extents
  std::vector<std::vector<std::size_t>> steps_;  // per operand, per merged axis (elements)
};

// o[j] = f(a[j·sa], b[j·sb]) with sa, sb ∈ {0, 1}; the four cases are
// spelled out so that the compiler vectorises the common ones.
template <class T, class F>
void elementwise(T* o, const T* a, std::size_t sa, const T* b, std::size_t sb, std::size_t n, F f) {
  if (sa == 1 && sb == 1)
    for (std::size_t j = 0; j < n; ++j) o[j] = f(a[j], b[j]);
  else if (sa == 1)
    for (std::size_t j = 0; j < n; ++j) o[j] = f(a[j], *b);
  else if (sb == 1)
    for (std::size_t j = 0; j < n; ++j) o[j] = f(*a, b[j]);
  else
    std::fill(o, o + n, f(*a, *b));
}

}  // namespace

template <class T>
Tensor<T> matmul(const Tensor<T>& a, const Tensor<T>& b, bool ta, bool tb) {
  Shape sa = shape_of(a), sb = shape_of(b);
  if (sa.size() < 2 || sb.size() < 2)
    throw ShapeError("matmul needs tensors of rank >= 2, got " + shape_str(sa) + " and " + shape_str(sb));
  std::size_t ra = sa[sa.size() - 2], ca = sa.back(), rb = sb[sb.size() - 2], cb = sb.back();
  std::size_t m = ta ? ca : ra, n = ta ? ra : ca;
  std::size_t n2 = tb ? cb : rb, p = tb ? rb : cb;
  if (n != n2)
    throw ShapeError("matmul: inner dimensions differ for shapes " + shape_str(sa) + (ta ? "ᵀ" : "") +
                     " and " + shape_str(sb) + (tb ? "ᵀ" : ""));
  Shape ba(sa.begin(), sa.end() - 2), bb(sb.begin(), sb.end() - 2);
  Shape batch = broadcast_shapes(ba, bb, "matmul (batch axes)");
  Shape out_shape = batch;
  out_shape.push_back(m);
  out_shape.push_back(p);
  Tensor<T> c(out_shape);
  std::size_t nbatch = numel_of(batch);
  if (nbatch == 0 || m == 0 || p == 0) return c;
  if (n == 0) {
    c.fill(T(0));
    return c;
  }
  // Fast path: B is one matrix and A is not transposed, so all of A's batch
  // rows stack into one tall matrix: a single GEMM.
  if (bb.empty() && !ta) {
    gemm(a.data(), numel_of(ba) * ra, ca, false, b.data(), rb, cb, tb, c.data());
    return c;
  }
  std::vector<std::size_t> idx(batch.size(), 0);
  for (std::size_t t = 0; t < nbatch; ++t) {
    const T* pa = a.data() + batch_offset(ba, batch, idx, ra * ca);
    const T* pb = b.data() + batch_offset(bb, batch, idx, rb * cb);
    gemm(pa, ra, ca, ta, pb, rb, cb, tb, c.data() + t * m * p);
    for (std::size_t i = batch.size(); i-- > 0;) {
      if (++idx[i] < batch[i]) break;
      idx[i] = 0;
    }
  }
  return c;
}

template <class T>
Tensor<T> broadcast_to(const Tensor<T>& x, const Shape& shape) {
  Shape s = shape_of(x);
  if (broadcast_shapes(s, shape, "broadcast_to") != shape)
    throw ShapeError("broadcast_to: cannot broadcast " + shape_str(s) + " to " + shape_str(shape));
  if (s == shape) return x;
  Tensor<T> out = Tensor<T>::from_shape(shape);
  StridedLoop loop(shape, {&s});
  T* o = out.data();
  loop.run([&](std::size_t n, const std::size_t* offset, const std::size_t* step) {
    const T* in = x.data() + offset[0];
    if (step[0] == 0) std::fill(o, o + n, *in);
    else std::copy(in, in + n, o);
    o += n;
  });
  return out;
}

template <class T>
Tensor<T> binary(const Tensor<T>& a, const Tensor<T>& b, BinaryOp op, const char* name) {
  auto apply = [op](T* o, std::size_t n, const T* pa, std::size_t step_a, const T* pb, std::size_t step_b) {
    switch (op) {
      case BinaryOp::add: elementwise(o, pa, step_a, pb, step_b, n, [](T u, T v) { return u + v; }); break;
      case BinaryOp::sub: elementwise(o, pa, step_a, pb, step_b, n, [](T u, T v) { return u - v; }); break;
      case BinaryOp::mul: elementwise(o, pa, step_a, pb, step_b, n, [](T u, T v) { return u * v; }); break;
      case BinaryOp::div: elementwise(o, pa, step_a, pb, step_b, n, [](T u, T v) { return u / v; }); break;
      case BinaryOp::maximum: elementwise(o, pa, step_a, pb, step_b, n, [](T u, T v) { return u < v ? v : u; }); break;
      case BinaryOp::minimum: elementwise(o, pa, step_a, pb, step_b, n, [](T u, T v) { return v < u ? v : u; }); break;
      case BinaryOp::max_mask:
        elementwise(o, pa, step_a, pb, step_b, n, [](T u, T v) { return u > v ? T(1) : u == v ? T(0.5) : T(0); });
        break;
      case BinaryOp::min_mask:
        elementwise(o, pa, step_a, pb, step_b, n, [](T u, T v) { return u < v ? T(1) : u == v ? T(0.5) : T(0); });
        break;
    }
  };
  // Same shapes (the common case, and all of a tiny op's cost): one run, no
  // loop planning and so no allocation beyond the result.
  if (a.shape() == b.shape()) {
    Tensor<T> out = Tensor<T>::from_shape(a.shape());
    apply(out.data(), out.size(), a.data(), 1, b.data(), 1);
    return out;
  }
  Shape sa = shape_of(a), sb = shape_of(b);
  Shape shape = broadcast_shapes(sa, sb, name);
  Tensor<T> out = Tensor<T>::from_shape(shape);
  T* o = out.data();
  StridedLoop(shape, {&sa, &sb}).run([&](std::size_t n, const std::size_t* offset, const std::size_t* step) {
    apply(o, n, a.data() + offset[0], step[0], b.data() + offset[1], step[1]);
    o += n;
  });
  return out;
}

template <class T>
Tensor<T> sum_to(const Tensor<T>& x, const Shape& shape) {
  Shape s = shape_of(x);
  if (s == shape) return x;
  if (shape.size() > s.size() || broadcast_shapes(shape, s, "sum_to") != s)
    throw ShapeError("sum_to: cannot reduce " + shape_str(s) + " to " + shape_str(shape));
  std::size_t lead = s.size() - shape.size();
  std::vector<std::size_t> axes;
  for (std::size_t i = 0; i < s.size(); ++i)
    if (i < lead || (shape[i - lead] == 1 && s[i] != 1)) axes.push_back(i);
  Tensor<T> r = sum_axes(x, axes, true);
  r.reshape(shape);
  return r;
}

template <class T>
Tensor<T> sum_axes(const Tensor<T>& x, const std::vector<std::size_t>& axes, bool keepdims) {
  if (axes.empty()) return x;
  Shape s = shape_of(x);
  Shape kept = s;
  for (auto a : axes) kept[a] = 1;
  // Output strides over the input's index space: a summed axis has stride 0.
  std::vector<std::size_t> out_stride(s.size(), 0);
  std::size_t stride = 1;
  for (std::size_t i = s.size(); i-- > 0;) {
    out_stride[i] = kept[i] == 1 ? 0 : stride;
    stride *= kept[i];
  }
  Tensor<T> r = filled<T>(kept, T(0));
  std::vector<std::size_t> idx(s.size(), 0);
  std::size_t out = 0;
  const std::size_t inner = s.empty() ? 1 : s.back();
  const std::size_t inner_stride = s.empty() ? 0 : out_stride.back();
  for (std::size_t flat = 0; flat < x.size(); flat += inner) {
    const T* in = x.data() + flat;
    if (inner_stride == 0) {
      T acc = 0;
      for (std::size_t j = 0; j < inner; ++j) acc += in[j];
      r.data()[out] += acc;
    } else {
      for (std::size_t j = 0; j < inner; ++j) r.data()[out + j] += in[j];
    }
    // advance the multi-index over all axes but the last
    for (std::size_t i = s.size() - 1; i-- > 0;) {
      out += out_stride[i];
      if (++idx[i] < s[i]) break;
      out -= out_stride[i] * s[i];
      idx[i] = 0;
    }
  }
  if (!keepdims) {
    Shape dropped;
    for (std::size_t i = 0; i < s.size(); ++i)
      if (std::find(axes.begin(), axes.end(), i) == axes.end()) dropped.push_back(s[i]);
    r.reshape(dropped);
  }
  return r;
}

template <class T>
Tensor<T> permute(const Tensor<T>& x, const std::vector<std::size_t>& perm) {
  return Tensor<T>(xt::transpose(x, perm));
}

template <class T>
Tensor<T> logsumexp_last(const Tensor<T>& x) {
  Shape s = shape_of(x);
  if (s.empty()) throw ShapeError("logsumexp needs rank >= 1, got a scalar");
  std::size_t c = s.back(), rows = c ? x.size() / c : 0;
  Shape out_shape = s;
  out_shape.back() = 1;
  Tensor<T> out(out_shape);
  for (std::size_t r = 0; r < rows; ++r) {
    const T* row = x.data() + r * c;
    T m = -std::numeric_limits<T>::infinity();
    for (std::size_t j = 0; j < c; ++j) m = std::max(m, row[j]);
    if (!std::isfinite(m)) {
      out.data()[r] = m;
      continue;
    }
    T acc = 0;
    for (std::size_t j = 0; j < c; ++j) acc += std::exp(row[j] - m);
    out.data()[r] = m + std::log(acc);
  }
  return out;
}

template <class T>
Tensor<T> select_rows(const Tensor<T>& x, const std::vector<std::size_t>& index) {
  Shape s = shape_of(x);
  if (s.size() < 2 || s[s.size() - 2] != index.size())
    throw ShapeError("select: expected [..., " + std::to_string(index.size()) + ", C], got " + shape_str(s));
  std::size_t n = index.size(), c = s.back();
  for (auto i : index)
    if (i >= c) throw ShapeError("select: class index " + std::to_string(i) + " out of range for " + shape_str(s));
  Shape out_shape(s.begin(), s.end() - 1);
  Tensor<T> y(out_shape);
  std::size_t blocks = n ? y.size() / n : 0;
  for (std::size_t b = 0; b < blocks; ++b)
    for (std::size_t r = 0; r < n; ++r) y.data()[b * n + r] = x.data()[(b * n + r) * c + index[r]];
  return y;
}

template <class T>
Tensor<T> scatter_rows(const Tensor<T>& g, const std::vector<std::size_t>& index, std::size_t classes) {
  Shape s = shape_of(g);
  if (s.empty() || s.back() != index.size())
    throw ShapeError("scatter: expected [..., " + std::to_string(index.size()) + "], got " + shape_str(s));
  Shape out_shape = s;
  out_shape.push_back(classes);
  Tensor<T> y = filled<T>(out_shape, T(0));
  std::size_t n = index.size();
  std::size_t blocks = n ? g.size() / n : 0;
  for (std::size_t b = 0; b < blocks; ++b)
    for (std::size_t r = 0; r < n; ++r) y.data()[(b * n + r) * classes + index[r]] = g.data()[b * n + r];
  return y;
}

#define FLUXION_INSTANTIATE(T)                                                                  \
  template Tensor<T> matmul(const Tensor<T>&, const Tensor<T>&, bool, bool);                    \
  template Tensor<T> broadcast_to(const Tensor<T>&, const Shape&);                              \
  template Tensor<T> binary(const Tensor<T>&, const Tensor<T>&, BinaryOp, const char*);         \
  template Tensor<T> sum_to(const Tensor<T>&, const Shape&);                                    \
  template Tensor<T> sum_axes(const Tensor<T>&, const std::vector<std::size_t>&, bool);         \
  template Tensor<T> permute(const Tensor<T>&, const std::vector<std::size_t>&);                \
  template Tensor<T> logsumexp_last(const Tensor<T>&);                                          \
  template Tensor<T> select_rows(const Tensor<T>&, const std::vector<std::size_t>&);            \
  template Tensor<T> scatter_rows(const Tensor<T>&, const std::vector<std::size_t>&, std::size_t);
FLUXION_INSTANTIATE(float)
FLUXION_INSTANTIATE(double)
#undef FLUXION_INSTANTIATE

}  // namespace fluxion::kernels
