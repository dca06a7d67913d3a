// Batched-tangent Hessian sweeps (see hessian_sweep.hpp).
#include "attribution/hessian_sweep.hpp"

#include <algorithm>

#include "autodiff/errors.hpp"

namespace fluxion {

template <class T>
GradientAndHessianProducts<T> gradient_and_hessian_products(const ExplainedOutput<T>& out, const Tensor<T>& points,
                                                            const std::vector<std::size_t>& targets,
                                                            const Tensor<T>& directions) {
  Shape expected = shape_of(points);
  expected.insert(expected.begin(), directions.dimension() == 0 ? 0 : directions.shape()[0]);
  if (shape_of(directions) != expected)
    throw ShapeError("gradient_and_hessian_products: directions " + shape_str(shape_of(directions)) +
                     " must be [k] + points " + shape_str(shape_of(points)));
  // f(x) = Σ_p f_p(x_p); the jvp of x ↦ ∇f(x) in directions V gives ∇f and H V
  // (zeros for a model linear in x) from one forward-over-reverse sweep.
  const Function<T> total = [&](const Var<T>& x) { return sum(explained_output(out, x, targets)); };
  ValueAndTangents<T> sweep = value_and_jvp_batched(gradient_of(total), points, directions);
  return {std::move(sweep.value), std::move(sweep.tangents)};
}

template <class T>
Tensor<T> batched_hessians(const ExplainedOutput<T>& out, const Tensor<T>& x, const std::vector<std::size_t>& targets,
                           std::size_t directions_per_sweep) {
  const std::size_t n = example_count(x, "batched_hessians: x");
  const std::vector<std::size_t> classes = resolve_targets(out, x, targets);
  const std::size_t d = x.size() / n;
  const std::size_t point_chunk = std::max<std::size_t>(out.batch_size, 1);
  const std::size_t direction_chunk = directions_per_sweep == 0 ? d : std::min(directions_per_sweep, d);
  Tensor<T> hessians = Tensor<T>::from_shape({n, d, d});
  for (std::size_t start = 0; start < n; start += point_chunk) {
    const std::size_t count = std::min(point_chunk, n - start);
    const Tensor<T> points = take_examples(x, start, count);
    const std::vector<std::size_t> part(classes.begin() + start, classes.begin() + start + count);
    for (std::size_t first = 0; first < d; first += direction_chunk) {
      const std::size_t k = std::min(direction_chunk, d - first);
      Shape v_shape = shape_of(points);
      v_shape.insert(v_shape.begin(), k);
      Tensor<T> V = filled<T>(v_shape, T(0));
      for (std::size_t j = 0; j < k; ++j)
        for (std::size_t p = 0; p < count; ++p) V.data()[(j * count + p) * d + first + j] = T(1);
      const Tensor<T> HV = gradient_and_hessian_products(out, points, part, V).hessian_products;
      // HV[j, p] = H_p e_{first+j}: column first+j of H_p, i.e. row first+j (H symmetric).
      for (std::size_t j = 0; j < k; ++j)
        for (std::size_t p = 0; p < count; ++p)
          std::copy(HV.data() + (j * count + p) * d, HV.data() + (j * count + p + 1) * d,
                    hessians.data() + ((start + p) * d + first + j) * d);
    }
  }
  return hessians;
}

#define FLUXION_INSTANTIATE(T)                                                                                \
  template GradientAndHessianProducts<T> gradient_and_hessian_products(                                       \
      const ExplainedOutput<T>&, const Tensor<T>&, const std::vector<std::size_t>&, const Tensor<T>&);        \
  template Tensor<T> batched_hessians(const ExplainedOutput<T>&, const Tensor<T>&, const std::vector<std::size_t>&, \
                                      std::size_t);
FLUXION_INSTANTIATE(float)
FLUXION_INSTANTIATE(double)
#undef FLUXION_INSTANTIATE

}  // namespace fluxion
