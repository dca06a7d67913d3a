// Saliency, gradient × input, SmoothGrad, SmoothGrad², VarGrad
// (see gradient_methods.hpp for the formulas and papers).
#include "attribution/gradient_methods.hpp"

#include <algorithm>
#include <cmath>
#include <random>

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
  if (options.samples == 0) throw InputError("smoothgrad: samples must be at least 1");
  if (!(options.noise_fraction >= 0) || !std::isfinite(options.noise_fraction))
    throw InputError("smoothgrad: noise_fraction must be >= 0 and finite");
  const std::vector<std::size_t> classes = resolve_targets(out, x, targets);
  const std::size_t d = x.size() / n, m = options.samples;

  std::vector<double> sigma(n);
  for (std::size_t e = 0; e < n; ++e) {
    const auto [lo, hi] = std::minmax_element(x.data() + e * d, x.data() + (e + 1) * d);
    sigma[e] = options.noise_fraction * (static_cast<double>(*hi) - static_cast<double>(*lo));
  }

  std::vector<double> mean(n * d, 0.0), m2(n * d, 0.0), mean_square(n * d, 0.0);
  std::mt19937_64 rng(options.seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  const std::size_t points = n * m, chunk = std::max<std::size_t>(out.batch_size, 1);
  Shape chunk_shape = example_shape(x);
  chunk_shape.insert(chunk_shape.begin(), 0);
  for (std::size_t start = 0; start < points; start += chunk) {
    const std::size_t count = std::min(chunk, points - start);
    chunk_shape[0] = count;
    Tensor<T> noisy = Tensor<T>::from_shape(chunk_shape);
    std::vector<std::size_t> chunk_targets(count);
    for (std::size_t p = 0; p < count; ++p) {
      const std::size_t e = (start + p) / m;
      for (std::size_t i = 0; i < d; ++i)
        noisy.data()[p * d + i] = static_cast<T>(static_cast<double>(x.data()[e * d + i]) + sigma[e] * normal(rng));
      chunk_targets[p] = classes[e];
    }
    const Tensor<T> g = output_gradients(out, noisy, chunk_targets);
    for (std::size_t p = 0; p < count; ++p) {
      const std::size_t e = (start + p) / m, s = (start + p) % m;
      for (std::size_t i = 0; i < d; ++i) {
        const double v = static_cast<double>(g.data()[p * d + i]);
        double& mu = mean[e * d + i];
        const double delta = v - mu;
        mu += delta / double(s + 1);
        m2[e * d + i] += delta * (v - mu);
        mean_square[e * d + i] += (v * v - mean_square[e * d + i]) / double(s + 1);
      }
    }
  }

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
