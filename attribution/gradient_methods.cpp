// Saliency, gradient × input, SmoothGrad, SmoothGrad², VarGrad
// (see gradient_methods.hpp for the formulas and papers).
#include "attribution/gradient_methods.hpp"

#include <algorithm>
#include <cmath>
#include <random>

#include "attribution/chunked_evaluation.hpp"
#include "autodiff/errors.hpp"

namespace fluxion {

template <class T>
Tensor<T> saliency(const ExplainedOutput<T>& out, const Tensor<T>& x, const std::vector<std::size_t>& targets,
                   const SaliencyOptions& options) {
  Tensor<T> g = output_gradients(out, x, resolve_targets(out, x, targets));
  if (options.absolute)
    for (T& v : g) v = std::abs(v);
  return g;
}

template <class T>
Tensor<T> gradient_times_input(const ExplainedOutput<T>& out, const Tensor<T>& x,
                               const std::vector<std::size_t>& targets) {
  Tensor<T> g = output_gradients(out, x, resolve_targets(out, x, targets));
  for (std::size_t i = 0; i < g.size(); ++i) g.data()[i] *= x.data()[i];
  return g;
}

// Welford's running mean and sum of squared deviations per element, so the
// variance does not suffer the cancellation of E[g²] − E[g]².
template <class T>
Tensor<T> noisy_gradient_statistic(const ExplainedOutput<T>& out, const Tensor<T>& x,
                                   const std::vector<std::size_t>& targets, const SmoothGradOptions& options,
                                   SmoothGradKind kind) {
  const std::size_t n = example_count(x, "smoothgrad: x");
  if (options.samples == 0) throw ArgumentError("smoothgrad: samples must be at least 1");
  if (!(options.noise_fraction >= 0) || !std::isfinite(options.noise_fraction))
    throw ArgumentError("smoothgrad: noise_fraction must be >= 0 and finite");
  if (options.noise_sigma && (!(*options.noise_sigma >= 0) || !std::isfinite(*options.noise_sigma)))
    throw ArgumentError("smoothgrad: noise_sigma must be >= 0 and finite, got " + std::to_string(*options.noise_sigma));
  const std::vector<std::size_t> classes = resolve_targets(out, x, targets);
  const std::size_t d = x.size() / n, m = options.samples;

  std::vector<double> sigma(n);
  for (std::size_t e = 0; e < n; ++e) {
    const auto [lo, hi] = std::minmax_element(x.data() + e * d, x.data() + (e + 1) * d);
    sigma[e] = options.noise_sigma ? *options.noise_sigma
                                   : options.noise_fraction * (static_cast<double>(*hi) - static_cast<double>(*lo));
  }

  std::mt19937_64 rng(options.seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  // Point p is noisy copy s = p % m of example e = p / m: x_e + ε, drawn in order.
  auto point = [&](std::size_t p, T* dst) {
    const std::size_t e = p / m;
    for (std::size_t i = 0; i < d; ++i)
      dst[i] = static_cast<T>(static_cast<double>(x.data()[e * d + i]) + sigma[e] * normal(rng));
    return classes[e];
  };
  std::vector<double> mean(n * d, 0.0), m2(n * d, 0.0), mean_square(n * d, 0.0);
  auto accumulate = [&](std::size_t p, const T* g) {
    const std::size_t e = p / m, s = p % m;
    for (std::size_t i = 0; i < d; ++i) {
      const double v = options.absolute_gradients ? std::abs(static_cast<double>(g[i])) : static_cast<double>(g[i]);
      double& mu = mean[e * d + i];
      const double delta = v - mu;
      mu += delta / double(s + 1);
      m2[e * d + i] += delta * (v - mu);
      mean_square[e * d + i] += (v * v - mean_square[e * d + i]) / double(s + 1);
    }
  };
  gradients_in_chunks<T>(out, example_shape(x), n * m, point, accumulate);

  Tensor<T> result = Tensor<T>::from_shape(shape_of(x));
  for (std::size_t i = 0; i < n * d; ++i) {
    double v = kind == SmoothGradKind::mean ? mean[i] : kind == SmoothGradKind::squared ? mean_square[i] : m2[i] / m;
    result.data()[i] = static_cast<T>(v);
  }
  return result;
}

template <class T>
Tensor<T> smoothgrad(const ExplainedOutput<T>& out, const Tensor<T>& x, const std::vector<std::size_t>& targets,
                     const SmoothGradOptions& options) {
  return noisy_gradient_statistic(out, x, targets, options, SmoothGradKind::mean);
}
template <class T>
Tensor<T> smoothgrad_squared(const ExplainedOutput<T>& out, const Tensor<T>& x,
                             const std::vector<std::size_t>& targets, const SmoothGradOptions& options) {
  return noisy_gradient_statistic(out, x, targets, options, SmoothGradKind::squared);
}
template <class T>
Tensor<T> vargrad(const ExplainedOutput<T>& out, const Tensor<T>& x, const std::vector<std::size_t>& targets,
                  const SmoothGradOptions& options) {
  return noisy_gradient_statistic(out, x, targets, options, SmoothGradKind::variance);
}

#define FLUXION_INSTANTIATE(T)                                                                                  \
  template Tensor<T> saliency(const ExplainedOutput<T>&, const Tensor<T>&, const std::vector<std::size_t>&,     \
                              const SaliencyOptions&);                                                          \
  template Tensor<T> gradient_times_input(const ExplainedOutput<T>&, const Tensor<T>&,                          \
                                          const std::vector<std::size_t>&);                                     \
  template Tensor<T> noisy_gradient_statistic(const ExplainedOutput<T>&, const Tensor<T>&,                      \
                                              const std::vector<std::size_t>&, const SmoothGradOptions&,        \
                                              SmoothGradKind);                                                  \
  template Tensor<T> smoothgrad(const ExplainedOutput<T>&, const Tensor<T>&, const std::vector<std::size_t>&,   \
                                const SmoothGradOptions&);                                                      \
  template Tensor<T> smoothgrad_squared(const ExplainedOutput<T>&, const Tensor<T>&,                            \
                                        const std::vector<std::size_t>&, const SmoothGradOptions&);             \
  template Tensor<T> vargrad(const ExplainedOutput<T>&, const Tensor<T>&, const std::vector<std::size_t>&,      \
                             const SmoothGradOptions&);
FLUXION_INSTANTIATE(float)
FLUXION_INSTANTIATE(double)
#undef FLUXION_INSTANTIATE

}  // namespace fluxion
