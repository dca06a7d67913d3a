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
    sigmas[s] = options.max_sigma * (options.sqrt_spacing ? std::sqrt(remaining) : remaining);
  }
  sigmas[S] = 0.0;  // the path ends exactly at x
  return sigmas;
}

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
  for (std::size_t e = 0; e < n; ++e) {
    Tensor<T> picture = take_examples(x, e, 1);
    picture.reshape(image);
    Tensor<T> points = Tensor<T>::from_shape(path_shape);
    for (std::size_t s = 0; s <= S; ++s) {
      const Tensor<T> blurred = gaussian_blur(picture, sigmas[s]);
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
