// Max-sensitivity of an attribution method by seeded uniform sampling of the
// L∞ ball (Yeh et al. 2019). See sensitivity.hpp for the math.
#include "attribution/sensitivity.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <string>

#include "autodiff/errors.hpp"

namespace fluxion {

namespace {

/// ‖a − b‖₂ over one example's d entries.
template <class T>
double distance(const T* a, const T* b, std::size_t d) {
  double sum = 0;
  for (std::size_t i = 0; i < d; ++i) {
    const double diff = static_cast<double>(a[i]) - static_cast<double>(b[i]);
    sum += diff * diff;
  }
  return std::sqrt(sum);
}

template <class T>
double norm(const T* a, std::size_t d) {
  double sum = 0;
  for (std::size_t i = 0; i < d; ++i) sum += static_cast<double>(a[i]) * static_cast<double>(a[i]);
  return std::sqrt(sum);
}

template <class T>
void check_attribution_shape(const Tensor<T>& attribution, const Shape& expected, const char* at) {
  if (shape_of(attribution) != expected)
    throw ShapeError(std::string("max_sensitivity: the attribution method returned shape ") +
                     shape_str(shape_of(attribution)) + " at " + at + ", expected " + shape_str(expected));
}

}  // namespace

template <class T>
std::vector<double> max_sensitivity(const BatchAttributionMethod<T>& method, const Tensor<T>& x,
                                    const std::vector<std::size_t>& targets, const MaxSensitivityOptions& options) {
  const Shape shape = shape_of(x);
  if (shape.size() < 2 || shape[0] == 0 || numel_of(shape) == 0)
    throw ShapeError("max_sensitivity: x must be a non-empty batch [N, ...] of examples, got " + shape_str(shape));
  if (targets.size() != shape[0])
    throw ArgumentError("max_sensitivity: " + std::to_string(targets.size()) + " targets given for " +
                        std::to_string(shape[0]) + " examples");
  if (!(options.radius >= 0 && std::isfinite(options.radius)))
    throw ArgumentError("max_sensitivity: radius must be a finite number >= 0");
  if (options.samples == 0) throw ArgumentError("max_sensitivity: samples must be at least 1");
  if (!(options.clip_min <= options.clip_max))
    throw ArgumentError("max_sensitivity: clip_min must not exceed clip_max");
  if (!method) throw ArgumentError("max_sensitivity: no attribution method given");

  const std::size_t examples = shape[0], d = x.size() / examples;
  const Tensor<T> reference = method(x, targets);
  check_attribution_shape(reference, shape, "x");
  std::vector<double> reference_norm(examples);
  for (std::size_t n = 0; n < examples; ++n) reference_norm[n] = norm(reference.data() + n * d, d);

  std::mt19937_64 rng(options.seed);
  std::vector<double> worst(examples, 0.0);
  Tensor<T> moved = Tensor<T>::from_shape(shape);
  for (std::size_t s = 0; s < options.samples; ++s) {
    // δ_i = r (2u − 1), u uniform in [0, 1) from the top 53 bits of one draw.
    for (std::size_t i = 0; i < x.size(); ++i) {
      const double u = static_cast<double>(rng() >> 11) * 0x1.0p-53;
      const double value = static_cast<double>(x.data()[i]) + options.radius * (2 * u - 1);
      moved.data()[i] = static_cast<T>(std::clamp(value, options.clip_min, options.clip_max));
    }
    const Tensor<T> attribution = method(moved, targets);
    check_attribution_shape(attribution, shape, "x + δ");
    for (std::size_t n = 0; n < examples; ++n) {
      double change = distance(attribution.data() + n * d, reference.data() + n * d, d);
      if (options.relative && reference_norm[n] > 0) change /= reference_norm[n];
      worst[n] = std::max(worst[n], change);
    }
  }
  return worst;
}

template std::vector<double> max_sensitivity(const BatchAttributionMethod<float>&, const Tensor<float>&,
                                             const std::vector<std::size_t>&, const MaxSensitivityOptions&);
template std::vector<double> max_sensitivity(const BatchAttributionMethod<double>&, const Tensor<double>&,
                                             const std::vector<std::size_t>&, const MaxSensitivityOptions&);

}  // namespace fluxion
