// Composite ops: built only from primitives, so every derivative (any order,
// forward or reverse) comes from the rule table with no extra code.
#include <string>

#include "autodiff/errors.hpp"
#include "autodiff/ops.hpp"

namespace fluxion {

template <class T>
Var<T> constant(Tensor<T> value) {
  return Var<T>(std::move(value), false);
}

template <class T>
Var<T> scalar(T value) {
  Tensor<T> t = Tensor<T>::from_shape({});
  t() = value;
  return Var<T>(std::move(t), false);
}

// x² (one pow node)
template <class T>
Var<T> square(const Var<T>& x) {
  return pow(x, T(2));
}

// mean = Σ_axes x / (number of summed elements)
template <class T>
Var<T> mean(const Var<T>& x, std::vector<int> axes, bool keepdims) {
  const int rank = static_cast<int>(x.rank());
  std::size_t count = axes.empty() ? x.numel() : 1;
  for (int a : axes) {
    if (a < -rank || a >= rank)
      throw ShapeError("mean: axis " + std::to_string(a) + " out of range for rank " + std::to_string(rank));
    count *= x.shape()[static_cast<std::size_t>(a < 0 ? a + rank : a)];
  }
  return scale(sum(x, axes, keepdims), T(1) / static_cast<T>(count));
}

// log_softmax(x) = x − logsumexp(x)
template <class T>
Var<T> log_softmax(const Var<T>& x) {
  return sub(x, logsumexp(x));
}

// softmax(x) = exp(x − logsumexp(x))
template <class T>
Var<T> softmax(const Var<T>& x) {
  return exp(log_softmax(x));
}

namespace {

// The permutation that moves axis a of a rank-r tensor last, and its inverse.
std::vector<std::size_t> axis_last(std::size_t a, std::size_t r) {
  std::vector<std::size_t> perm;
  for (std::size_t i = 0; i < r; ++i)
    if (i != a) perm.push_back(i);
  perm.push_back(a);
  return perm;
}
std::vector<std::size_t> inverse_of(const std::vector<std::size_t>& perm) {
  std::vector<std::size_t> inv(perm.size());
  for (std::size_t i = 0; i < perm.size(); ++i) inv[perm[i]] = i;
  return inv;
}

// f applied along `axis`: moved last, f, moved back (nothing moved for the last axis).
template <class T, class F>
Var<T> along_axis(const Var<T>& x, int axis, F f, const char* op) {
  const int r = static_cast<int>(x.rank());
  if (axis < -r || axis >= r)
    throw ShapeError(std::string(op) + ": axis " + std::to_string(axis) + " out of range for rank " + std::to_string(r));
  const auto a = static_cast<std::size_t>(axis < 0 ? axis + r : axis);
  if (a + 1 == x.rank()) return f(x);
  const std::vector<std::size_t> perm = axis_last(a, x.rank());
  return permute(f(permute(x, perm)), inverse_of(perm));
}

}  // namespace

// log_softmax along `axis` = the last-axis one with the axis moved last and back
template <class T>
Var<T> log_softmax(const Var<T>& x, int axis) {
  return along_axis(x, axis, [](const Var<T>& v) { return log_softmax(v); }, "log_softmax");
}

// softmax along `axis` = the last-axis one with the axis moved last and back
template <class T>
Var<T> softmax(const Var<T>& x, int axis) {
  return along_axis(x, axis, [](const Var<T>& v) { return softmax(v); }, "softmax");
}

// gelu(x) = x·Φ(x), Φ(x) = ½(1 + erf(x/√2))   (Hendrycks & Gimpel 2016; ONNX Gelu, torch approximate='none')
template <class T>
Var<T> gelu(const Var<T>& x) {
  const T inv_sqrt2 = T(0.70710678118654752440);
  return mul(x, scale(erf(scale(x, inv_sqrt2)) + T(1), T(0.5)));
}

// clip(x, lo, hi) = minimum(maximum(x, lo), hi)   (ONNX Clip)
template <class T>
Var<T> clip(const Var<T>& x, T lo, T hi) {
  if (!(lo <= hi)) throw ArgumentError("clip: lo (" + std::to_string(lo) + ") must be <= hi (" + std::to_string(hi) + ")");
  return minimum(maximum(x, scalar<T>(lo)), scalar<T>(hi));
}

// ONNX ConvTranspose = conv2d_input_grad(x, w, Ho, Wo, p) with
// Ho = sh·(H − 1) + output_padding + dh·(kh − 1) + 1 − pt − pb: the conv2d whose
// input-gradient this is maps [Ho, Wo] back to exactly [H, W] when output_padding < stride.
template <class T>
Var<T> conv_transpose2d(const Var<T>& x, const Var<T>& w, kernels::Conv2dParams params,
                        std::array<std::size_t, 2> output_padding) {
  if (x.rank() < 3 || w.rank() != 4)
    throw ShapeError("conv_transpose2d: x must be [..., C, H, W] and w [C, O/groups, kh, kw], got " +
                     shape_str(x.shape()) + " and " + shape_str(w.shape()));
  const kernels::Conv2dParams p = params.resolved();
  std::array<std::size_t, 2> out{};
  for (std::size_t axis = 0; axis < 2; ++axis) {
    const std::size_t n = x.shape()[x.rank() - 2 + axis], k = w.shape()[2 + axis];
    if (output_padding[axis] >= p.strides[axis])
      throw ShapeError("conv_transpose2d: output_padding " + std::to_string(output_padding[axis]) +
                       " must be smaller than the stride " + std::to_string(p.strides[axis]));
    const std::size_t full = p.strides[axis] * (n - 1) + output_padding[axis] + p.dilations[axis] * (k - 1) + 1;
    const std::size_t cut = p.pads[axis] + p.pads[axis + 2];
    if (n == 0 || k == 0 || full <= cut)
      throw ShapeError("conv_transpose2d: pads " + std::to_string(cut) + " leave no output of input " +
                       shape_str(x.shape()) + " and kernel " + shape_str(w.shape()));
    out[axis] = full - cut;
  }
  return conv2d_input_grad(x, w, out[0], out[1], p);
}

// CE = −(1/N) Σ_n log_softmax(z)[n, y_n]
template <class T>
Var<T> cross_entropy(const Var<T>& logits, const std::vector<std::size_t>& labels) {
  if (logits.rank() != 2 || logits.shape()[0] != labels.size())
    throw ShapeError("cross_entropy: logits " + shape_str(logits.shape()) + " do not match " +
                     std::to_string(labels.size()) + " labels");
  return neg(mean(select(log_softmax(logits), labels)));
}

// MSE = mean((a − b)²)
template <class T>
Var<T> mse(const Var<T>& a, const Var<T>& b) {
  return mean(square(sub(a, b)));
}

template <class T>
Var<T> transpose(const Var<T>& x) {
  if (x.rank() < 2) throw ShapeError("transpose needs rank >= 2, got " + shape_str(x.shape()));
  std::vector<std::size_t> perm;
  for (std::size_t i = 0; i < x.rank(); ++i) perm.push_back(i);
  std::swap(perm[x.rank() - 1], perm[x.rank() - 2]);
  return permute(x, perm);
}

template <class T>
Var<T> flatten(const Var<T>& x) {
  if (x.rank() < 1) throw ShapeError("flatten needs rank >= 1, got a scalar");
  std::size_t n = x.shape()[0];
  return reshape(x, {n, n ? x.numel() / n : 0});
}

#define FLUXION_INSTANTIATE(T)                                                        \
  template Var<T> constant(Tensor<T>);                                                \
  template Var<T> scalar(T);                                                          \
  template Var<T> square(const Var<T>&);                                              \
  template Var<T> mean(const Var<T>&, std::vector<int>, bool);                        \
  template Var<T> log_softmax(const Var<T>&);                                         \
  template Var<T> softmax(const Var<T>&);                                             \
  template Var<T> cross_entropy(const Var<T>&, const std::vector<std::size_t>&);      \
  template Var<T> mse(const Var<T>&, const Var<T>&);                                  \
  template Var<T> transpose(const Var<T>&);                                           \
  template Var<T> flatten(const Var<T>&);                                             \
  template Var<T> log_softmax(const Var<T>&, int);                                    \
  template Var<T> softmax(const Var<T>&, int);                                        \
  template Var<T> gelu(const Var<T>&);                                                \
  template Var<T> clip(const Var<T>&, T, T);                                          \
  template Var<T> conv_transpose2d(const Var<T>&, const Var<T>&, kernels::Conv2dParams, std::array<std::size_t, 2>);
FLUXION_INSTANTIATE(float)
FLUXION_INSTANTIATE(double)
#undef FLUXION_INSTANTIATE

}  // namespace fluxion
