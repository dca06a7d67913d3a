// The two MNIST-sized networks the engine benchmarks time, built from raw ops
// (so the benchmark measures the engine, not the nn layers):
//
//   MLP  784 → 256 → 256 → 10, softplus_β between layers
//   CNN  [1, 28, 28] → conv 5×5, 16 ch → softplus → max-pool 2
//                    → conv 5×5, 32 ch → softplus → max-pool 2   ([32, 4, 4] = 512)
//                    → linear 512 → 128 → softplus → linear 128 → 10
//
// Weights are uniform in ±1/√fan_in from a seeded std::mt19937_64 (the
// numbers do not matter for timing, only that pre-activations stay O(1)).
// The scalar that is differentiated is Σ_n z[n, c_n]: one logit per image.
// Images do not interact, so its gradient with respect to a batch of inputs
// is the stack of the per-image gradients of one logit each.
#pragma once

#include <cmath>
#include <random>
#include <string>

#include "autodiff/autodiff.hpp"

namespace fluxion::bench {

template <class T>
Tensor<T> uniform(const Shape& shape, double bound, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(-bound, bound);
  Tensor<T> t = Tensor<T>::from_shape(shape);
  for (auto& e : t) e = static_cast<T>(u(rng));
  return t;
}

/// A model: its name, input shape per image, and logits [N, 10] of a batch.
template <class T>
struct Model {
  std::string name;
  Shape image_shape;
  std::function<Var<T>(const Var<T>&)> logits;

  /// A batch [N, ...image_shape] of inputs in [0, 1) (pixel-like).
  Tensor<T> batch(std::size_t n, std::uint64_t seed) const {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    Shape s = image_shape;
    s.insert(s.begin(), n);
    Tensor<T> x = Tensor<T>::from_shape(s);
    for (auto& e : x) e = static_cast<T>(u(rng));
    return x;
  }

  /// x ↦ Σ_n z[n, c_n] with c_n = n mod 10.
  Function<T> one_logit_per_image() const {
    auto f = logits;
    return [f](const Var<T>& x) {
      std::vector<std::size_t> classes(x.shape()[0]);
      for (std::size_t n = 0; n < classes.size(); ++n) classes[n] = n % 10;
      return sum(select(f(x), classes));
    };
  }
};

template <class T>
Var<T> dense(const Var<T>& x, const Var<T>& w, const Var<T>& b) {
  return add(matmul(x, w, false, true), b);
}

template <class T>
Model<T> mnist_mlp(std::uint64_t seed, T beta = T(1)) {
  std::mt19937_64 rng(seed);
  Var<T> w1(uniform<T>({256, 784}, 1 / std::sqrt(784.0), rng)), b1(uniform<T>({256}, 0.05, rng));
  Var<T> w2(uniform<T>({256, 256}, 1 / std::sqrt(256.0), rng)), b2(uniform<T>({256}, 0.05, rng));
  Var<T> w3(uniform<T>({10, 256}, 1 / std::sqrt(256.0), rng)), b3(uniform<T>({10}, 0.05, rng));
  return {"mlp", {784}, [=](const Var<T>& x) {
            Var<T> h = softplus(dense(x, w1, b1), beta);
            h = softplus(dense(h, w2, b2), beta);
            return dense(h, w3, b3);
          }};
}

template <class T>
Model<T> mnist_cnn(std::uint64_t seed, T beta = T(1)) {
  std::mt19937_64 rng(seed);
  Var<T> c1(uniform<T>({16, 1, 5, 5}, 1 / 5.0, rng)), cb1(uniform<T>({16, 1, 1}, 0.05, rng));
  Var<T> c2(uniform<T>({32, 16, 5, 5}, 1 / 20.0, rng)), cb2(uniform<T>({32, 1, 1}, 0.05, rng));
  Var<T> w3(uniform<T>({128, 512}, 1 / std::sqrt(512.0), rng)), b3(uniform<T>({128}, 0.05, rng));
  Var<T> w4(uniform<T>({10, 128}, 1 / std::sqrt(128.0), rng)), b4(uniform<T>({10}, 0.05, rng));
  return {"cnn", {1, 28, 28}, [=](const Var<T>& x) {
            Var<T> h = max_pool2d(softplus(add(conv2d(x, c1), cb1), beta), {2, 2});  // [N, 16, 12, 12]
            h = max_pool2d(softplus(add(conv2d(h, c2), cb2), beta), {2, 2});        // [N, 32, 4, 4]
            h = softplus(dense(flatten(h), w3, b3), beta);                            // [N, 128]
            return dense(h, w4, b4);                                                  // [N, 10]
          }};
}

}  // namespace fluxion::bench
