// Expected Gradients by Monte Carlo over (reference, α) pairs
// (see expected_gradients.hpp).
#include "attribution/expected_gradients.hpp"

#include <random>

#include "attribution/chunked_evaluation.hpp"
#include "autodiff/errors.hpp"

namespace fluxion {

template <class T>
PathAttributions<T> expected_gradients(const ExplainedOutput<T>& out, const Tensor<T>& x,
                                       const Tensor<T>& references, const std::vector<std::size_t>& targets,
                                       const ExpectedGradientsOptions& options) {
  const std::size_t n = example_count(x, "expected gradients: x");
  const std::size_t r = example_count(references, "expected gradients: references");
  if (example_shape(references) != example_shape(x))
    throw ShapeError("expected gradients: references " + shape_str(shape_of(references)) +
                     " must hold examples shaped like the inputs " + shape_str(shape_of(x)));
  if (options.samples == 0) throw ArgumentError("expected gradients: samples must be at least 1");
  const std::vector<std::size_t> classes = resolve_targets(out, x, targets);
  const std::size_t d = x.size() / n, m = options.samples;

  std::mt19937_64 rng(options.seed);
  std::uniform_int_distribution<std::size_t> pick(0, r - 1);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);

  // Point p is sample p % m of example p / m: x'_s + α_s (x − x'_s), drawn in order.
  std::vector<const T*> reference_of(n * m);
  auto point = [&](std::size_t p, T* dst) {
    const std::size_t e = p / m;
    const T* ref = reference_of[p] = references.data() + pick(rng) * d;
    const T alpha = static_cast<T>(uniform(rng));
    for (std::size_t i = 0; i < d; ++i) dst[i] = ref[i] + alpha * (x.data()[e * d + i] - ref[i]);
    return classes[e];
  };
  Tensor<T> sums = filled<T>(shape_of(x), T(0));  // Σ_s Δ_s ⊙ ∇f(point_s)
  auto accumulate = [&](std::size_t p, const T* g) {
    const std::size_t e = p / m;
    const T* ref = reference_of[p];
    for (std::size_t i = 0; i < d; ++i) sums.data()[e * d + i] += (x.data()[e * d + i] - ref[i]) * g[i];
  };
  gradients_in_chunks<T>(out, example_shape(x), n * m, point, accumulate);

  Tensor<T> attributions = sums / static_cast<T>(m);
  PathAttributions<T> result =
      with_completeness(out, x, classes, std::move(attributions), mean_reference_outputs(out, references, classes));
  result.gradient_evaluations = n * m;
  return result;
}

#define FLUXION_INSTANTIATE(T)                                                                                    \
  template PathAttributions<T> expected_gradients(const ExplainedOutput<T>&, const Tensor<T>&, const Tensor<T>&, \
                                                  const std::vector<std::size_t>&, const ExpectedGradientsOptions&);
FLUXION_INSTANTIATE(float)
FLUXION_INSTANTIATE(double)
#undef FLUXION_INSTANTIATE

}  // namespace fluxion
