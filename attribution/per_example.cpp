#include "attribution/per_example.hpp"

#include <algorithm>

namespace fluxion {

template <class T>
MethodOutput<T> run_method_per_example(const MethodSpec<T>& method, const ExplainedOutput<T>& out, const Tensor<T>& x,
                                       const std::vector<std::size_t>& targets, const MethodSettings<T>& settings) {
  const std::size_t n = x.shape()[0], per = x.size() / n;
  Shape one = shape_of(x);
  one[0] = 1;
  auto row = [&](const Tensor<T>& batch, std::size_t i) {
    Tensor<T> r = Tensor<T>::from_shape(one);
    std::copy(batch.data() + i * per, batch.data() + (i + 1) * per, r.data());
    return r;
  };
  MethodOutput<T> all;
  for (std::size_t i = 0; i < n; ++i) {
    MethodSettings<T> si = settings;
    si.seed = example_seed(settings.seed, i);
    if (settings.baseline.values && settings.baseline.values->size() == x.size() && n > 1)
      si.baseline.values = row(*settings.baseline.values, i);
    MethodOutput<T> r = run_method(method, out, row(x, i), {targets.at(i)}, si);
    if (i == 0) {
      Shape shape = shape_of(r.values);
      shape[0] = n;
      all = r;
      all.values = Tensor<T>::from_shape(shape);
      all.output_changes.clear();
      all.completeness_gaps.clear();
    }
    std::copy(r.values.data(), r.values.data() + r.values.size(), all.values.data() + i * r.values.size());
    all.output_changes.insert(all.output_changes.end(), r.output_changes.begin(), r.output_changes.end());
    all.completeness_gaps.insert(all.completeness_gaps.end(), r.completeness_gaps.begin(), r.completeness_gaps.end());
  }
  return all;
}

template MethodOutput<float> run_method_per_example(const MethodSpec<float>&, const ExplainedOutput<float>&,
                                                    const Tensor<float>&, const std::vector<std::size_t>&,
                                                    const MethodSettings<float>&);
template MethodOutput<double> run_method_per_example(const MethodSpec<double>&, const ExplainedOutput<double>&,
                                                     const Tensor<double>&, const std::vector<std::size_t>&,
                                                     const MethodSettings<double>&);

}  // namespace fluxion
