// Blur IG (Xu, Venugopalan & Sundararajan, CVPR 2020) — see blur_ig.hpp.
// Each example's path is a polyline of blurred images, integrated by the
// shared core (integrate_polyline), which batches the S + 1 gradients.
#include "attribution/blur_ig.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "attribution/gaussian_blur.hpp"
#include "autodiff/errors.hpp"

namespace fluxion {

namespace {

void check_options(const BlurIGOptions& o) {
  if (!(o.max_sigma >= 0) || !std::isfinite(o.max_sigma))
    throw ArgumentError("blur_ig: max_sigma must be a finite number >= 0, got " + std::to_string(o.max_sigma));
  if (o.steps < 1) throw ArgumentError("blur_ig: steps must be >= 1, got " + std::to_string(o.steps));
  if (!(o.grad_step > 0) || !std::isfinite(o.grad_step))
    throw ArgumentError("blur_ig: grad_step must be a finite number > 0, got " + std::to_string(o.grad_step));
}

/// The shape an example is blurred in; ShapeError if it cannot hold the example.
Shape blur_shape(const Shape& example, const Shape& image_shape) {
  if (image_shape.empty()) {
    if (example.size() < 2)
      throw ShapeError("blur_ig: an example of shape " + shape_str(example) +
                       " has no height and width; pass image_shape (e.g. {1, 28, 28})");
    return example;
  }
  if (image_shape.size() < 2 || numel_of(image_shape) != numel_of(example))
    throw ShapeError("blur_ig: image_shape " + shape_str(image_shape) + " must have rank >= 2 and hold the " +
                     std::to_string(numel_of(example)) + " values of an example " + shape_str(example));
  return image_shape;
}

}  // namespace

std::vector<double> blur_ig_sigmas(const BlurIGOptions& options) {
  check_options(options);
  const int S = options.steps;
  std::vector<double> sigmas(S + 1);
  for (int s = 0; s <= S; ++s) {
    const double remaining = 1.0 - static_cast<double>(s) / S;  // 1 → 0
    switch (options.schedule) {
      case BlurSchedule::linear: sigmas[s] = options.max_sigma * remaining; break;
      case BlurSchedule::sqrt: sigmas[s] = options.max_sigma * std::sqrt(remaining); break;
      case BlurSchedule::pair_sqrt:  // PAIR's √(i σ_max / S) with i = S − s
        sigmas[s] = std::sqrt(static_cast<double>(S - s) * options.max_sigma / static_cast<double>(S));
        break;
    }
  }
  sigmas[S] = 0.0;  // the path ends exactly at x
  return sigmas;
}

namespace {

/// PAIR's sum for one example (see blur_ig.hpp), with σ_i = sigmas[S − i]:
/// A = −Σ_{i<S} (σ_{i+1} − σ_i) [(L(σ_i + h) − L(σ_i))/h] ⊙ ∇f(L(σ_i)); all S gradients in one call.
template <class T>
Tensor<T> pair_finite_difference_sum(const ExplainedOutput<T>& out, const Tensor<T>& picture, const Shape& example,
                                     std::size_t target, const std::vector<double>& sigmas,
                                     const BlurIGOptions& options) {
  const std::size_t S = sigmas.size() - 1, d = picture.size();
  Shape batch_shape = example;
  batch_shape.insert(batch_shape.begin(), S);
  Tensor<T> points = Tensor<T>::from_shape(batch_shape);
  std::vector<double> directions(S * d);
  for (std::size_t i = 0; i < S; ++i) {
    const double sigma = sigmas[S - i], next = sigmas[S - i - 1];
    const Tensor<T> blurred = gaussian_blur(picture, sigma, options.border, options.kernel_radius);
    const Tensor<T> nudged = gaussian_blur(picture, sigma + options.grad_step, options.border, options.kernel_radius);
    std::copy(blurred.data(), blurred.data() + d, points.data() + i * d);
    for (std::size_t k = 0; k < d; ++k)
      directions[i * d + k] = -(next - sigma) *
                              (static_cast<double>(nudged.data()[k]) - static_cast<double>(blurred.data()[k])) /
                              options.grad_step;
  }
  const Tensor<T> g = output_gradients(out, points, std::vector<std::size_t>(S, target));
  std::vector<double> sum(d, 0.0);
  for (std::size_t i = 0; i < S; ++i)
    for (std::size_t k = 0; k < d; ++k) sum[k] += directions[i * d + k] * static_cast<double>(g.data()[i * d + k]);
  Tensor<T> a = Tensor<T>::from_shape(example);
  for (std::size_t k = 0; k < d; ++k) a.data()[k] = static_cast<T>(sum[k]);
  return a;
}

}  // namespace

template <class T>
PathAttributions<T> blur_ig(const ExplainedOutput<T>& out, const Tensor<T>& x, const std::vector<std::size_t>& targets,
                            const BlurIGOptions& options) {
  const std::size_t n = example_count(x, "blur_ig: x");
  const Shape example = example_shape(x);
  const Shape image = blur_shape(example, options.image_shape);
  const std::vector<double> sigmas = blur_ig_sigmas(options);
  const std::vector<std::size_t> classes = resolve_targets(out, x, targets);

  const std::size_t d = numel_of(example), S = sigmas.size() - 1;
  Shape path_shape = example;
  path_shape.insert(path_shape.begin(), S + 1);

  PathAttributions<T> result;
  result.attributions = Tensor<T>::from_shape(shape_of(x));
  if (options.integrand == BlurIGIntegrand::pair_finite_difference) {
    Shape most_blurred_shape = example;
    most_blurred_shape.insert(most_blurred_shape.begin(), n);
    Tensor<T> most_blurred = Tensor<T>::from_shape(most_blurred_shape);
    for (std::size_t e = 0; e < n; ++e) {
      Tensor<T> picture = take_examples(x, e, 1);
      picture.reshape(image);
      const Tensor<T> a = pair_finite_difference_sum(out, picture, example, classes[e], sigmas, options);
      const Tensor<T> end = gaussian_blur(picture, sigmas[0], options.border, options.kernel_radius);
      std::copy(a.data(), a.data() + d, result.attributions.data() + e * d);
      std::copy(end.data(), end.data() + d, most_blurred.data() + e * d);
    }
    PathAttributions<T> complete = with_completeness(out, x, classes, std::move(result.attributions),
                                                     output_values_in_double(out, most_blurred, classes));
    complete.gradient_evaluations = n * S;
    return complete;
  }
  for (std::size_t e = 0; e < n; ++e) {
    Tensor<T> picture = take_examples(x, e, 1);
    picture.reshape(image);
    Tensor<T> points = Tensor<T>::from_shape(path_shape);
    for (std::size_t s = 0; s <= S; ++s) {
      const Tensor<T> blurred = gaussian_blur(picture, sigmas[s], options.border, options.kernel_radius);
      std::copy(blurred.data(), blurred.data() + d, points.data() + s * d);
    }
    const PathAttribution<T> one = integrate_polyline(out, points, classes[e], options.rule);
    std::copy(one.attribution.data(), one.attribution.data() + d, result.attributions.data() + e * d);
    result.output_changes.push_back(one.output_change);
    result.completeness_gaps.push_back(one.completeness_gap);
    result.gradient_evaluations += one.gradient_evaluations;
  }
  return result;
}

template PathAttributions<float> blur_ig(const ExplainedOutput<float>&, const Tensor<float>&,
                                         const std::vector<std::size_t>&, const BlurIGOptions&);
template PathAttributions<double> blur_ig(const ExplainedOutput<double>&, const Tensor<double>&,
                                          const std::vector<std::size_t>&, const BlurIGOptions&);

}  // namespace fluxion
