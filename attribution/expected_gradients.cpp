// Expected Gradients by Monte Carlo over (reference, α) pairs
// (see expected_gradients.hpp).
#include "attribution/expected_gradients.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>

#include "autodiff/errors.hpp"

namespace fluxion {

template <class T>
std::vector<double> mean_reference_outputs(const ExplainedOutput<T>& out, const Tensor<T>& references,
                                           const std::vector<std::size_t>& targets) {
  const std::size_t r = example_count(references, "expected gradients: references");
  std::map<std::size_t, double> mean_of_class;  // one pass over D per distinct class
  for (std::size_t c : targets) {
    if (mean_of_class.count(c)) continue;
    const Tensor<T> f = output_values(out, references, std::vector<std::size_t>(r, c));
    double total = 0;
    for (std::size_t i = 0; i < r; ++i) total += static_cast<double>(f(i));
    mean_of_class[c] = total / double(r);
  }
  std::vector<double> means;
  for (std::size_t c : targets) means.push_back(mean_of_class[c]);
  return means;
}

template <class T>
PathAttributions<T> expected_gradients(const ExplainedOutput<T>& out, const Tensor<T>& x,
                                       const Tensor<T>& references, const std::vector<std::size_t>& targets,
                                       const ExpectedGradientsOptions& options) {
  const std::size_t n = example_count(x, "expected gradients: x");
  const std::size_t r = example_count(references, "expected gradients: references");
  if (example_shape(references) != example_shape(x))
    throw ShapeError("expected gradients: references " + shape_str(shape_of(references)) +
                     " must hold examples shaped like the inputs " + shape_str(shape_of(x)));
  if (options.samples == 0) throw InputError("expected gradients: samples must be at least 1");
  const std::vector<std::size_t> classes = resolve_targets(out, x, targets);
  const std::size_t d = x.size() / n, m = options.samples;

  std::mt19937_64 rng(options.seed);
  std::uniform_int_distribution<std::size_t> pick(0, r - 1);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);

  Tensor<T> sums = filled<T>(shape_of(x), T(0));  // Σ_s Δ_s ⊙ ∇f(point_s)
  const std::size_t points = n * m, chunk = std::max<std::size_t>(out.batch_size, 1);
  Shape chunk_shape = example_shape(x);
  chunk_shape.insert(chunk_shape.begin(), 0);
  for (std::size_t start = 0; start < points; start += chunk) {
    const std::size_t count = std::min(chunk, points - start);
    chunk_shape[0] = count;
    Tensor<T> path = Tensor<T>::from_shape(chunk_shape), delta = Tensor<T>::from_shape(chunk_shape);
    std::vector<std::size_t> chunk_targets(count);
    for (std::size_t p = 0; p < count; ++p) {
      const std::size_t e = (start + p) / m;
      const T* ref = references.data() + pick(rng) * d;
      const T alpha = static_cast<T>(uniform(rng));
      for (std::size_t i = 0; i < d; ++i) {
        const T step = x.data()[e * d + i] - ref[i];
        delta.data()[p * d + i] = step;
        path.data()[p * d + i] = ref[i] + alpha * step;
      }
      chunk_targets[p] = classes[e];
    }
    const Tensor<T> g = output_gradients(out, path, chunk_targets);
    for (std::size_t p = 0; p < count; ++p) {
      const std::size_t e = (start + p) / m;
      for (std::size_t i = 0; i < d; ++i) sums.data()[e * d + i] += delta.data()[p * d + i] * g.data()[p * d + i];
    }
  }

  PathAttributions<T> result;
  result.attributions = sums / static_cast<T>(m);
  const Tensor<T> f_x = output_values(out, x, classes);
  const std::vector<double> f_ref = mean_reference_outputs(out, references, classes);
  for (std::size_t e = 0; e < n; ++e) {
    double total = 0;
    for (std::size_t i = 0; i < d; ++i) total += static_cast<double>(result.attributions.data()[e * d + i]);
    const double change = static_cast<double>(f_x(e)) - f_ref[e];
    result.output_changes.push_back(change);
    result.completeness_gaps.push_back(std::fabs(total - change));
  }
  result.gradient_evaluations = points;
  return result;
}

#define FLUXION_INSTANTIATE(T)                                                                                    \
  template std::vector<double> mean_reference_outputs(const ExplainedOutput<T>&, const Tensor<T>&,               \
                                                      const std::vector<std::size_t>&);                          \
  template PathAttributions<T> expected_gradients(const ExplainedOutput<T>&, const Tensor<T>&, const Tensor<T>&, \
                                                  const std::vector<std::size_t>&, const ExpectedGradientsOptions&);
FLUXION_INSTANTIATE(float)
FLUXION_INSTANTIATE(double)
#undef FLUXION_INSTANTIATE

}  // namespace fluxion
