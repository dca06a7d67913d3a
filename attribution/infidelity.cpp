// Infidelity of an attribution under Gaussian or square-removal
// perturbations (Yeh et al. 2019). See infidelity.hpp for the math.
#include "attribution/infidelity.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <random>

#include "autodiff/errors.hpp"

namespace fluxion {

InfidelityPerturbation parse_infidelity_perturbation(const std::string& name) {
  if (name == "gaussian") return InfidelityPerturbation::gaussian;
  if (name == "square") return InfidelityPerturbation::square_removal;
  throw ArgumentError("infidelity: unknown perturbation '" + name + "' (expected gaussian or square)");
}

namespace {

/// Seeded draws from one std::mt19937_64 (whose sequence the standard fixes),
/// with our own transforms so results do not depend on the standard library.
class Draws {
 public:
  explicit Draws(std::uint64_t seed) : rng_(seed) {}
  /// Uniform in [0, 1) from the top 53 bits.
  double uniform() { return static_cast<double>(rng_() >> 11) * 0x1.0p-53; }
  /// Uniform integer in [0, bound): reject the top 2⁶⁴ mod bound raw values
  /// so every residue is equally likely.
  std::size_t below(std::size_t bound) {
    const std::uint64_t excess = (std::numeric_limits<std::uint64_t>::max() % bound + 1) % bound;
    std::uint64_t r = rng_();
    while (r > std::numeric_limits<std::uint64_t>::max() - excess) r = rng_();
    return static_cast<std::size_t>(r % bound);
  }
  /// N(0, 1) by Box–Muller (one value per pair of uniforms, no cached spare).
  double normal() {
    const double u1 = 1.0 - uniform(), u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
  }

 private:
  std::mt19937_64 rng_;
};

/// Height and width the square moves over: the last two axes of one
/// example, or (1, d) for flat examples.
std::pair<std::size_t, std::size_t> plane_of(const Shape& batch) {
  if (batch.size() == 2) return {1, batch[1]};
  return {batch[batch.size() - 2], batch[batch.size() - 1]};
}

template <class T>
void check_arguments(const Tensor<T>& x, const Tensor<T>& attributions, const std::vector<std::size_t>& targets,
                     const InfidelityOptions& options) {
  const Shape shape = shape_of(x);
  if (shape.size() < 2 || shape[0] == 0 || numel_of(shape) == 0)
    throw ShapeError("infidelity: x must be a non-empty batch [N, ...] of examples, got " + shape_str(shape));
  if (shape_of(attributions) != shape)
    throw ShapeError("infidelity: attributions have shape " + shape_str(shape_of(attributions)) + " but x has " +
                     shape_str(shape));
  if (!targets.empty() && targets.size() != shape[0])
    throw ArgumentError("infidelity: " + std::to_string(targets.size()) + " targets given for " +
                        std::to_string(shape[0]) + " examples");
  if (options.samples == 0) throw ArgumentError("infidelity: samples must be at least 1");
  if (options.perturbation == InfidelityPerturbation::gaussian &&
      !(options.noise_std > 0 && std::isfinite(options.noise_std)))
    throw ArgumentError("infidelity: noise_std must be a finite number > 0");
  if (options.perturbation == InfidelityPerturbation::square_removal) {
    const auto [height, width] = plane_of(shape);
    const std::size_t side_h = shape.size() == 2 ? 1 : options.square_size;  // flat examples: a window
    if (options.square_size == 0 || side_h > height || options.square_size > width)
      throw ArgumentError("infidelity: square_size " + std::to_string(options.square_size) +
                          " does not fit examples of shape " + shape_str(Shape(shape.begin() + 1, shape.end())));
  }
}

}  // namespace

template <class T>
InfidelityResult infidelity(const ExplainedOutput<T>& out, const Tensor<T>& x, const Tensor<T>& attributions,
                            const std::vector<std::size_t>& targets_in, const InfidelityOptions& options) {
  check_arguments(x, attributions, targets_in, options);
  const Shape shape = shape_of(x);
  const std::size_t examples = shape[0], d = x.size() / examples, samples = options.samples;
  const auto [height, width] = plane_of(shape);
  const std::size_t planes = d / (height * width);  // channels share the square
  const std::size_t side_h = shape.size() == 2 ? 1 : options.square_size, side_w = options.square_size;

  const std::vector<std::size_t> targets =
      targets_in.empty() ? predicted_classes(out.model, x, out.batch_size) : targets_in;
  const Tensor<T> f_x = output_values(out, x, targets);

  Draws draws(options.seed);
  const double b = options.baseline_value;
  std::vector<double> predicted(examples * samples), actual(examples * samples);
  const std::size_t rows = examples * samples, chunk = std::max<std::size_t>(out.batch_size, 1);
  std::vector<double> perturbation(d);
  for (std::size_t first = 0; first < rows; first += chunk) {
    const std::size_t count = std::min(chunk, rows - first);
    Shape chunk_shape = shape;
    chunk_shape[0] = count;
    Tensor<T> batch = Tensor<T>::from_shape(chunk_shape);
    std::vector<std::size_t> chunk_targets(count);
    for (std::size_t r = 0; r < count; ++r) {
      const std::size_t n = (first + r) / samples;
      const T* xn = x.data() + n * d;
      // Draw I (rows are visited in the fixed order (n, s), so the draws do
      // not depend on the batch size).
      if (options.perturbation == InfidelityPerturbation::gaussian) {
        for (double& v : perturbation) v = options.noise_std * draws.normal();
      } else {
        std::fill(perturbation.begin(), perturbation.end(), 0.0);
        const std::size_t top = draws.below(height - side_h + 1), left = draws.below(width - side_w + 1);
        for (std::size_t c = 0; c < planes; ++c)
          for (std::size_t h = top; h < top + side_h; ++h)
            for (std::size_t w = left; w < left + side_w; ++w) {
              const std::size_t i = (c * height + h) * width + w;
              perturbation[i] = static_cast<double>(xn[i]) - b;
            }
      }
      // x − I goes to the model; Iᵀφ (or (I ⊘ (x − b))ᵀφ) is the claim.
      T* row = batch.data() + r * d;
      const T* phi = attributions.data() + n * d;
      double claim = 0;
      for (std::size_t i = 0; i < d; ++i) {
        row[i] = static_cast<T>(static_cast<double>(xn[i]) - perturbation[i]);
        if (!options.multiply_by_inputs) {
          claim += perturbation[i] * static_cast<double>(phi[i]);
        } else if (static_cast<double>(xn[i]) != b) {
          claim += perturbation[i] / (static_cast<double>(xn[i]) - b) * static_cast<double>(phi[i]);
        }
      }
      predicted[first + r] = claim;
      chunk_targets[r] = targets[n];
    }
    const Tensor<T> f_perturbed = output_values(out, batch, chunk_targets);
    for (std::size_t r = 0; r < count; ++r)
      actual[first + r] = static_cast<double>(f_x((first + r) / samples)) - static_cast<double>(f_perturbed(r));
  }

  InfidelityResult result;
  for (std::size_t n = 0; n < examples; ++n) {
    const double* claim = predicted.data() + n * samples;
    const double* change = actual.data() + n * samples;
    double beta = 1;
    if (options.optimal_scaling) {
      double cross = 0, square = 0;
      for (std::size_t s = 0; s < samples; ++s) {
        cross += claim[s] * change[s];
        square += claim[s] * claim[s];
      }
      beta = square > 0 ? cross / square : 1.0;  // φ predicts no change at all: any β is as good
    }
    double error = 0;
    for (std::size_t s = 0; s < samples; ++s) error += (beta * claim[s] - change[s]) * (beta * claim[s] - change[s]);
    result.infidelity.push_back(error / static_cast<double>(samples));
    result.scale.push_back(beta);
  }
  return result;
}

template InfidelityResult infidelity(const ExplainedOutput<float>&, const Tensor<float>&, const Tensor<float>&,
                                     const std::vector<std::size_t>&, const InfidelityOptions&);
template InfidelityResult infidelity(const ExplainedOutput<double>&, const Tensor<double>&, const Tensor<double>&,
                                     const std::vector<std::size_t>&, const InfidelityOptions&);

}  // namespace fluxion
