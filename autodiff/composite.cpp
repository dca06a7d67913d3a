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
  template Var<T> flatten(const Var<T>&);
FLUXION_INSTANTIATE(float)
FLUXION_INSTANTIATE(double)
#undef FLUXION_INSTANTIATE

}  // namespace fluxion
