// Deletion / insertion curves and their trapezoid AUCs (Petsiuk et al. 2018).
// See faithfulness.hpp for the definitions and conventions.
#include "attribution/faithfulness.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "attribution/gaussian_blur.hpp"
#include "autodiff/errors.hpp"

namespace fluxion {

std::vector<std::size_t> features_changed_per_point(std::size_t d, std::size_t features_per_step,
                                                    double fraction_per_step) {
  if (d == 0) throw ShapeError("deletion/insertion: an example has no features");
  std::vector<std::size_t> counts{0};
  if (features_per_step > 0) {
    for (std::size_t k = features_per_step; k < d; k += features_per_step) counts.push_back(k);
    counts.push_back(d);
    return counts;
  }
  if (!(fraction_per_step > 0 && fraction_per_step <= 1))
    throw ArgumentError("deletion/insertion: fraction_per_step must lie in (0, 1], got " +
                        std::to_string(fraction_per_step));
  // Steps of less than one feature reach every count 0 … d: do exactly that.
  if (fraction_per_step * static_cast<double>(d) < 1) {
    for (std::size_t k = 1; k <= d; ++k) counts.push_back(k);
    return counts;
  }
  // S = ⌈1/p⌉ steps; the small slack keeps 1/0.1 = 10 from becoming 11.
  const auto steps = static_cast<std::size_t>(std::ceil(1.0 / fraction_per_step - 1e-9));
  for (std::size_t s = 1; s < steps; ++s) {
    const auto k = static_cast<std::size_t>(std::llround(static_cast<double>(s) * fraction_per_step * d));
    if (k > counts.back() && k < d) counts.push_back(k);
  }
  counts.push_back(d);
  return counts;
}

template <class T>
std::vector<std::size_t> rank_features(const T* attribution, std::size_t d, bool by_absolute_value) {
  std::vector<std::size_t> order(d);
  std::iota(order.begin(), order.end(), std::size_t{0});
  auto key = [&](std::size_t i) { return by_absolute_value ? std::abs(attribution[i]) : attribution[i]; };
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return key(a) > key(b); });
  return order;
}

double trapezoid_area(const std::vector<double>& t, const std::vector<double>& v) {
  if (t.size() != v.size() || t.size() < 2)
    throw ArgumentError("trapezoid_area: needs at least two points and as many values as abscissae");
  double area = 0;
  for (std::size_t s = 0; s + 1 < t.size(); ++s) area += (t[s + 1] - t[s]) * 0.5 * (v[s] + v[s + 1]);
  return area;
}

namespace {

enum class Direction { deletion, insertion };

const char* name_of(Direction direction) { return direction == Direction::deletion ? "deletion" : "insertion"; }

Shape shape_of_one_example(const Shape& batch) { return Shape(batch.begin() + 1, batch.end()); }

/// A default-constructed Tensor is a rank-0 scalar: that means "no image".
template <class T>
bool has_image(const ReplacementBaseline<T>& baseline) {
  return baseline.image.dimension() > 0;
}

/// Every check before anything large is allocated.
template <class T>
void check_arguments(const Tensor<T>& x, const Tensor<T>& attributions, const std::vector<std::size_t>& targets,
                     const FaithfulnessOptions<T>& options, const ReplacementBaseline<T>& baseline,
                     Direction direction) {
  const std::string where = name_of(direction);
  const Shape shape = shape_of(x);
  if (shape.size() < 2 || shape[0] == 0 || numel_of(shape) == 0)
    throw ShapeError(where + ": x must be a non-empty batch [N, ...] of examples, got " + shape_str(shape));
  if (shape_of(attributions) != shape)
    throw ShapeError(where + ": attributions have shape " + shape_str(shape_of(attributions)) + " but x has " +
                     shape_str(shape));
  for (T a : attributions)
    if (!std::isfinite(static_cast<double>(a)))
      throw ArgumentError(where + ": the attributions contain a non-finite value, so features cannot be ranked");
  if (!targets.empty() && targets.size() != shape[0])
    throw ArgumentError(where + ": " + std::to_string(targets.size()) + " targets given for " +
                        std::to_string(shape[0]) + " examples");
  if (options.features_per_step == 0 && !(options.fraction_per_step > 0 && options.fraction_per_step <= 1))
    throw ArgumentError(where + ": fraction_per_step must lie in (0, 1], got " +
                        std::to_string(options.fraction_per_step));
  if (baseline.blur_sigma < 0 || !std::isfinite(baseline.blur_sigma))
    throw ArgumentError(where + ": the baseline's blur_sigma must be a finite number >= 0");
  if (baseline.blur_sigma > 0 && shape.size() < 3)
    throw ShapeError(where + ": a blurred baseline needs images [N, ..., H, W], got " + shape_str(shape));
  if (baseline.blur_sigma == 0 && has_image(baseline)) {
    const Shape b = shape_of(baseline.image);
    if (b != shape && b != shape_of_one_example(shape))
      throw ShapeError(where + ": the baseline image has shape " + shape_str(b) + "; expected " +
                       shape_str(shape_of_one_example(shape)) + " (shared) or " + shape_str(shape) +
                       " (one per example)");
  }
}

/// The baseline of every example, stacked like x.
template <class T>
Tensor<T> baseline_batch(const ReplacementBaseline<T>& baseline, const Tensor<T>& x) {
  if (baseline.blur_sigma > 0) return gaussian_blur(x, baseline.blur_sigma);
  if (!has_image(baseline)) return filled(shape_of(x), static_cast<T>(baseline.value));
  if (baseline.image.dimension() == x.dimension()) return baseline.image;
  Tensor<T> stacked = Tensor<T>::from_shape(shape_of(x));
  const std::size_t d = baseline.image.size();
  for (std::size_t n = 0; n < x.shape()[0]; ++n)
    std::copy(baseline.image.begin(), baseline.image.end(), stacked.data() + n * d);
  return stacked;
}

template <class T>
PerturbationCurve<T> perturbation_curve(const ExplainedOutput<T>& out, const Tensor<T>& x,
                                        const Tensor<T>& attributions, const std::vector<std::size_t>& targets_in,
                                        const FaithfulnessOptions<T>& options, Direction direction) {
  const ReplacementBaseline<T>& spec =
      direction == Direction::deletion ? options.deletion_baseline : options.insertion_baseline;
  check_arguments(x, attributions, targets_in, options, spec, direction);
  const Shape shape = shape_of(x);
  const std::size_t examples = shape[0], d = x.size() / examples;
  const std::vector<std::size_t> counts =
      features_changed_per_point(d, options.features_per_step, options.fraction_per_step);
  const std::size_t points = counts.size();

  const std::vector<std::size_t> targets =
      targets_in.empty() ? predicted_classes(out.model, x, out.batch_size) : targets_in;
  const Tensor<T> baseline = baseline_batch(spec, x);
  std::vector<std::vector<std::size_t>> order(examples);
  for (std::size_t n = 0; n < examples; ++n)
    order[n] = rank_features(attributions.data() + n * d, d, options.rank_by_absolute_value);

  // Deletion starts at x and copies baseline values in; insertion the reverse.
  const T* start_image = direction == Direction::deletion ? x.data() : baseline.data();
  const T* source_image = direction == Direction::deletion ? baseline.data() : x.data();

  PerturbationCurve<T> curve;
  curve.values = Tensor<T>::from_shape({examples, points});
  const std::size_t rows = examples * points, chunk = std::max<std::size_t>(out.batch_size, 1);
  for (std::size_t first = 0; first < rows; first += chunk) {
    const std::size_t count = std::min(chunk, rows - first);
    Shape chunk_shape = shape;
    chunk_shape[0] = count;
    Tensor<T> batch = Tensor<T>::from_shape(chunk_shape);
    std::vector<std::size_t> chunk_targets(count);
    for (std::size_t r = 0; r < count; ++r) {
      const std::size_t n = (first + r) / points, s = (first + r) % points;
      T* row = batch.data() + r * d;
      std::copy(start_image + n * d, start_image + (n + 1) * d, row);
      for (std::size_t k = 0; k < counts[s]; ++k) row[order[n][k]] = source_image[n * d + order[n][k]];
      chunk_targets[r] = targets[n];
    }
    const Tensor<T> values = output_values(out, batch, chunk_targets);
    std::copy(values.begin(), values.end(), curve.values.data() + first);
  }

  for (std::size_t k : counts) curve.fractions.push_back(static_cast<double>(k) / static_cast<double>(d));
  for (std::size_t n = 0; n < examples; ++n) {
    std::vector<double> row(curve.values.data() + n * points, curve.values.data() + (n + 1) * points);
    curve.auc.push_back(trapezoid_area(curve.fractions, row));
  }
  return curve;
}

}  // namespace

template <class T>
PerturbationCurve<T> deletion_curve(const ExplainedOutput<T>& out, const Tensor<T>& x, const Tensor<T>& attributions,
                                    const std::vector<std::size_t>& targets, const FaithfulnessOptions<T>& options) {
  return perturbation_curve(out, x, attributions, targets, options, Direction::deletion);
}

template <class T>
PerturbationCurve<T> insertion_curve(const ExplainedOutput<T>& out, const Tensor<T>& x,
                                     const Tensor<T>& attributions, const std::vector<std::size_t>& targets,
                                     const FaithfulnessOptions<T>& options) {
  return perturbation_curve(out, x, attributions, targets, options, Direction::insertion);
}

template <class T>
DeletionInsertion<T> deletion_insertion(const ExplainedOutput<T>& out, const Tensor<T>& x,
                                        const Tensor<T>& attributions, const std::vector<std::size_t>& targets,
                                        const FaithfulnessOptions<T>& options) {
  // Resolve the predicted classes once so both curves explain the same class.
  const std::vector<std::size_t> fixed =
      targets.empty() && x.dimension() >= 2 && x.size() > 0 ? predicted_classes(out.model, x, out.batch_size)
                                                             : targets;
  DeletionInsertion<T> result;
  result.deletion = deletion_curve(out, x, attributions, fixed, options);
  result.insertion = insertion_curve(out, x, attributions, fixed, options);
  for (std::size_t n = 0; n < result.deletion.auc.size(); ++n)
    result.difference.push_back(result.insertion.auc[n] - result.deletion.auc[n]);
  return result;
}

#define FLUXION_INSTANTIATE(T)                                                                                \
  template std::vector<std::size_t> rank_features(const T*, std::size_t, bool);                              \
  template PerturbationCurve<T> deletion_curve(const ExplainedOutput<T>&, const Tensor<T>&, const Tensor<T>&, \
                                               const std::vector<std::size_t>&, const FaithfulnessOptions<T>&); \
  template PerturbationCurve<T> insertion_curve(const ExplainedOutput<T>&, const Tensor<T>&, const Tensor<T>&, \
                                                const std::vector<std::size_t>&, const FaithfulnessOptions<T>&); \
  template DeletionInsertion<T> deletion_insertion(const ExplainedOutput<T>&, const Tensor<T>&, const Tensor<T>&, \
                                                   const std::vector<std::size_t>&, const FaithfulnessOptions<T>&);
FLUXION_INSTANTIATE(float)
FLUXION_INSTANTIATE(double)
#undef FLUXION_INSTANTIATE

}  // namespace fluxion
