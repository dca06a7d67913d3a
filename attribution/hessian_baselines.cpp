// Input Hessian and Hessian × input interactions (see hessian_baselines.hpp).
#include "attribution/hessian_baselines.hpp"

#include "attribution/baselines.hpp"
#include "attribution/hessian_sweep.hpp"
#include "autodiff/errors.hpp"

namespace fluxion {

template <class T>
Tensor<T> input_hessian(const ExplainedOutput<T>& out, const Tensor<T>& x, const std::vector<std::size_t>& targets,
                        const InputHessianOptions& options) {
  return batched_hessians(out, x, targets, options.directions_per_sweep);
}

template <class T>
Tensor<T> hessian_times_input(const ExplainedOutput<T>& out, const Tensor<T>& x,
                              const std::vector<std::size_t>& targets, const std::optional<Tensor<T>>& baseline,
                              const InputHessianOptions& options) {
  const std::size_t n = example_count(x, "hessian_times_input: x");
  const std::size_t d = x.size() / n;
  const Baselines<T> base(x, baseline, "hessian_times_input");
  Tensor<T> gamma = batched_hessians(out, x, targets, options.directions_per_sweep);
  std::vector<T> delta(d);
  for (std::size_t e = 0; e < n; ++e) {
    for (std::size_t i = 0; i < d; ++i)
      delta[i] = x.data()[e * d + i] - base.row(e)[i];
    T* g = gamma.data() + e * d * d;
    for (std::size_t i = 0; i < d; ++i)
      for (std::size_t j = 0; j < d; ++j) g[i * d + j] *= delta[i] * delta[j];
  }
  return gamma;
}

#define FLUXION_INSTANTIATE(T)                                                                                   \
  template Tensor<T> input_hessian(const ExplainedOutput<T>&, const Tensor<T>&, const std::vector<std::size_t>&, \
                                   const InputHessianOptions&);                                                  \
  template Tensor<T> hessian_times_input(const ExplainedOutput<T>&, const Tensor<T>&,                            \
                                         const std::vector<std::size_t>&, const std::optional<Tensor<T>>&,       \
                                         const InputHessianOptions&);
FLUXION_INSTANTIATE(float)
FLUXION_INSTANTIATE(double)
#undef FLUXION_INSTANTIATE

}  // namespace fluxion
