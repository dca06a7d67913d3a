// Integrated Gradients on the shared path core (see integrated_gradients.hpp).
#include "attribution/integrated_gradients.hpp"

#include "attribution/gaussian_blur.hpp"
#include "autodiff/errors.hpp"

namespace fluxion {

BaselineKind parse_baseline_kind(const std::string& name) {
  if (name == "black" || name == "zeros") return BaselineKind::black;
  if (name == "blur" || name == "blurred") return BaselineKind::blurred;
  if (name == "user") return BaselineKind::user;
  throw ArgumentError("integrated gradients: unknown baseline '" + name + "' (expected black, blurred or user)");
}

template <class T>
Tensor<T> make_baseline(const Tensor<T>& x, const IntegratedGradientsOptions<T>& options) {
  example_count(x, "integrated gradients: x");
  const Shape one = example_shape(x);
  switch (options.baseline) {
    case BaselineKind::black:
      return filled<T>(one, T(0));
    case BaselineKind::blurred:
      if (one.size() < 2)
        throw ShapeError("integrated gradients: a blurred baseline needs image inputs [N, ..., H, W], got " +
                         shape_str(shape_of(x)));
      return gaussian_blur(x, options.blur_sigma);  // blurs each example's planes separately
    case BaselineKind::user:
      return options.user_baseline;  // its shape is checked once, by the path core
  }
  throw ArgumentError("integrated gradients: unknown baseline kind");
}

template <class T>
PathAttributions<T> integrated_gradients(const ExplainedOutput<T>& out, const Tensor<T>& x,
                                         const std::vector<std::size_t>& targets,
                                         const IntegratedGradientsOptions<T>& options) {
  const Quadrature rule = make_quadrature(options.rule, options.steps);  // validates before any work
  const Tensor<T> baseline = make_baseline(x, options);
  return integrate_straight_lines(out, x, baseline, resolve_targets(out, x, targets), rule);
}

#define FLUXION_INSTANTIATE(T)                                                                         \
  template Tensor<T> make_baseline(const Tensor<T>&, const IntegratedGradientsOptions<T>&);           \
  template PathAttributions<T> integrated_gradients(const ExplainedOutput<T>&, const Tensor<T>&,       \
                                                    const std::vector<std::size_t>&,                   \
                                                    const IntegratedGradientsOptions<T>&);
FLUXION_INSTANTIATE(float)
FLUXION_INSTANTIATE(double)
#undef FLUXION_INSTANTIATE

}  // namespace fluxion
