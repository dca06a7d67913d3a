// Two small smooth networks built from raw ops (there is no nn module in the
// engine tests on purpose: they test the engine, not the layers).
//
//   MLP  6 → 8 → 8 → 3:   z = W₃ s(W₂ s(W₁ x + b₁) + b₂) + b₃,   s = softplus_β
//   CNN  [1, 6, 6] → conv 3×3 (2 channels, padding/stride configurable) + bias
//        → softplus_β → avg- or max-pool 2×2 → flatten → linear → 3 logits
//
// Layouts follow PyTorch: Linear weights [out, in], conv weights [O, C, kh, kw],
// images NCHW. The scalar under test is ⟨c, z⟩ for a fixed vector c, so all
// three logits (and every layer) contribute to the Hessian.
//
// Every parameter is drawn from a seeded std::mt19937_64, so a model is a pure
// function of (seed, T). With the same seed, the float and the double model
// hold the same numbers rounded to float, which is what the float32 suite
// needs to compare a float computation with its double twin.
#pragma once

#include <random>

#include "autodiff/autodiff.hpp"

namespace fluxion::testing {

/// Uniform values in [lo, hi), drawn in double and rounded to T (so that the
/// float tensor is exactly the float rounding of the double one).
template <class T>
Tensor<T> uniform_tensor(const Shape& shape, std::uint64_t seed, double lo = -1.0, double hi = 1.0) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(lo, hi);
  Tensor<T> t = Tensor<T>::from_shape(shape);
  for (auto& e : t) e = static_cast<T>(static_cast<float>(u(rng)));
  return t;
}

/// y = x Wᵀ + b for x [N, in], W [out, in], b [out].
template <class T>
Var<T> linear(const Var<T>& x, const Var<T>& w, const Var<T>& b) {
  return add(matmul(x, w, false, true), b);
}

template <class T>
struct SmallMlp {
  Var<T> w1, b1, w2, b2, w3, b3;
  T beta = T(2);

  explicit SmallMlp(std::uint64_t seed, T beta_ = T(2)) : beta(beta_) {
    // Scale ~ 1/√fan_in keeps pre-activations O(1), where softplus curves.
    w1 = Var<T>(uniform_tensor<T>({8, 6}, seed + 1, -0.8, 0.8));
    b1 = Var<T>(uniform_tensor<T>({8}, seed + 2, -0.3, 0.3));
    w2 = Var<T>(uniform_tensor<T>({8, 8}, seed + 3, -0.7, 0.7));
    b2 = Var<T>(uniform_tensor<T>({8}, seed + 4, -0.3, 0.3));
    w3 = Var<T>(uniform_tensor<T>({3, 8}, seed + 5, -0.7, 0.7));
    b3 = Var<T>(uniform_tensor<T>({3}, seed + 6, -0.3, 0.3));
  }

  /// Logits [N, 3] for x [N, 6], with the first-layer weight given explicitly
  /// (so the same code serves "function of the input" and "of the parameters").
  Var<T> logits(const Var<T>& x, const Var<T>& first_weight) const {
    Var<T> h1 = softplus(linear(x, first_weight, b1), beta);
    Var<T> h2 = softplus(linear(h1, w2, b2), beta);
    return linear(h2, w3, b3);
  }
  Var<T> logits(const Var<T>& x) const { return logits(x, w1); }
};

struct CnnShape {
  kernels::Conv2dParams conv{1, 1};  // stride, padding
  bool max_pool = false;             // else average pool
};

template <class T>
struct SmallCnn {
  CnnShape shape;
  Var<T> w_conv, b_conv, w_head, b_head;
  T beta = T(2);

  SmallCnn(std::uint64_t seed, CnnShape s, T beta_ = T(2)) : shape(s), beta(beta_) {
    std::size_t side = kernels::conv_output_size(6, 3, s.conv);     // after conv
    std::size_t pooled = (side - 2) / 2 + 1;                         // after 2×2 pool
    std::size_t features = 2 * pooled * pooled;
    w_conv = Var<T>(uniform_tensor<T>({2, 1, 3, 3}, seed + 1, -0.6, 0.6));
    b_conv = Var<T>(uniform_tensor<T>({2, 1, 1}, seed + 2, -0.2, 0.2));
    w_head = Var<T>(uniform_tensor<T>({3, features}, seed + 3, -0.6, 0.6));
    b_head = Var<T>(uniform_tensor<T>({3}, seed + 4, -0.2, 0.2));
  }

  /// Logits [N, 3] for images x [N, 1, 6, 6] and conv weight [2, 1, 3, 3].
  Var<T> logits(const Var<T>& x, const Var<T>& conv_weight) const {
    Var<T> a = softplus(add(conv2d(x, conv_weight, shape.conv), b_conv), beta);
    Var<T> p = shape.max_pool ? max_pool2d(a, {2, 2}) : avg_pool2d(a, {2, 2});
    return linear(flatten(p), w_head, b_head);
  }
  Var<T> logits(const Var<T>& x) const { return logits(x, w_conv); }
};

/// ⟨c, z⟩: the scalar whose Hessian is tested (c fixed, [N, 3]).
template <class T>
Var<T> weighted_sum(const Var<T>& logits, const Tensor<T>& c) {
  return sum(mul(logits, Var<T>(c)));
}

}  // namespace fluxion::testing
