// Small smooth models for the attribution tests, built from raw ops (the
// attribution layer works on any Function<T>, so its tests do not use nn/).
//
//   SoftplusMlp  d → h → h → C:   z = W₃ s(W₂ s(W₁ x + b₁) + b₂) + b₃,   s = softplus_β
//   SoftplusCnn  [1, 6, 6] → conv 3×3 (3 channels, padding 1) + bias → s
//                → avg-pool 2×2 → flatten (27) → linear → C logits
//
// Weights are uniform, scaled ~1/√fan_in, drawn from a seeded mt19937_64, so a
// model is a pure function of its seed. Helpers build functionally identical
// twins (hidden units permuted) and models that ignore chosen input features,
// for the implementation-invariance and dummy-feature axioms.
#pragma once

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "autodiff/autodiff.hpp"

namespace fluxion::attribution_testing {

/// Uniform values in [lo, hi) from a seeded generator (drawn in double).
template <class T>
Tensor<T> seeded_uniform(const Shape& shape, std::uint64_t seed, double lo = -1.0, double hi = 1.0) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(lo, hi);
  Tensor<T> t = Tensor<T>::from_shape(shape);
  for (auto& e : t) e = static_cast<T>(u(rng));
  return t;
}

/// y = x Wᵀ + b for x [N, in], W [out, in], b [out].
template <class T>
Var<T> affine(const Var<T>& x, const Tensor<T>& w, const Tensor<T>& b) {
  return add(matmul(x, Var<T>(w), false, true), Var<T>(b));
}

template <class T>
struct SoftplusMlp {
  Tensor<T> w1, b1, w2, b2, w3, b3;
  T beta = T(10);

  static SoftplusMlp random(std::size_t d, std::size_t h, std::size_t classes, std::uint64_t seed, T beta = T(10)) {
    SoftplusMlp m;
    m.beta = beta;
    const double s1 = 1.5 / std::sqrt(double(d)), s2 = 1.5 / std::sqrt(double(h));
    m.w1 = seeded_uniform<T>({h, d}, seed + 1, -s1, s1);
    m.b1 = seeded_uniform<T>({h}, seed + 2, -0.3, 0.3);
    m.w2 = seeded_uniform<T>({h, h}, seed + 3, -s2, s2);
    m.b2 = seeded_uniform<T>({h}, seed + 4, -0.3, 0.3);
    m.w3 = seeded_uniform<T>({classes, h}, seed + 5, -s2, s2);
    m.b3 = seeded_uniform<T>({classes}, seed + 6, -0.3, 0.3);
    return m;
  }

  Function<T> function() const {
    SoftplusMlp m = *this;
    return [m](const Var<T>& x) {
      Var<T> h1 = softplus(affine(x, m.w1, m.b1), m.beta);
      Var<T> h2 = softplus(affine(h1, m.w2, m.b2), m.beta);
      return affine(h2, m.w3, m.b3);
    };
  }

  /// The same function with the first hidden layer's units reordered by a
  /// seeded permutation π: rows of W₁, b₁ and columns of W₂ move together.
  SoftplusMlp permuted_hidden(std::uint64_t seed) const {
    const std::size_t h = w1.shape()[0], d = w1.shape()[1];
    std::vector<std::size_t> pi(h);
    std::iota(pi.begin(), pi.end(), 0);
    std::mt19937_64 rng(seed);
    std::shuffle(pi.begin(), pi.end(), rng);
    SoftplusMlp m = *this;
    for (std::size_t u = 0; u < h; ++u) {
      for (std::size_t i = 0; i < d; ++i) m.w1(u, i) = w1(pi[u], i);
      m.b1(u) = b1(pi[u]);
      for (std::size_t r = 0; r < h; ++r) m.w2(r, u) = w2(r, pi[u]);
    }
    return m;
  }

  /// The same model with input feature i disconnected (column i of W₁ = 0).
  SoftplusMlp ignoring(std::size_t i) const {
    SoftplusMlp m = *this;
    for (std::size_t u = 0; u < w1.shape()[0]; ++u) m.w1(u, i) = T(0);
    return m;
  }
};

template <class T>
struct SoftplusCnn {
  Tensor<T> w_conv, b_conv, w_head, b_head;
  T beta = T(10);

  static SoftplusCnn random(std::size_t classes, std::uint64_t seed, T beta = T(10)) {
    SoftplusCnn m;
    m.beta = beta;
    m.w_conv = seeded_uniform<T>({3, 1, 3, 3}, seed + 1, -0.6, 0.6);
    m.b_conv = seeded_uniform<T>({3, 1, 1}, seed + 2, -0.2, 0.2);
    m.w_head = seeded_uniform<T>({classes, 27}, seed + 3, -0.5, 0.5);
    m.b_head = seeded_uniform<T>({classes}, seed + 4, -0.2, 0.2);
    return m;
  }

  /// x [N, 1, 6, 6] → logits [N, C].
  Function<T> function() const {
    SoftplusCnn m = *this;
    return [m](const Var<T>& x) {
      Var<T> c = add(conv2d(x, Var<T>(m.w_conv), kernels::Conv2dParams{1, 1}), Var<T>(m.b_conv));
      Var<T> pooled = avg_pool2d(softplus(c, m.beta), kernels::PoolParams{2, 2});
      return affine(flatten(pooled), m.w_head, m.b_head);
    };
  }
};

/// Wraps a model to count its calls and the largest batch it was given.
template <class T>
struct CallCounter {
  std::shared_ptr<std::size_t> calls = std::make_shared<std::size_t>(0);
  std::shared_ptr<std::size_t> largest_batch = std::make_shared<std::size_t>(0);
  std::shared_ptr<std::size_t> rows = std::make_shared<std::size_t>(0);

  Function<T> wrap(Function<T> model) const {
    auto c = calls, l = largest_batch, r = rows;
    return [model, c, l, r](const Var<T>& x) {
      ++*c;
      *l = std::max(*l, x.shape()[0]);
      *r += x.shape()[0];
      return model(x);
    };
  }
};

}  // namespace fluxion::attribution_testing
