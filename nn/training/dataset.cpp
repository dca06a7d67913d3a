#include "nn/training/dataset.hpp"

#include <algorithm>
#include <cmath>

#include "autodiff/errors.hpp"
#include "nn/data/idx.hpp"

namespace fluxion {

template <class T>
Dataset<T> load_mnist_dataset(const std::filesystem::path& dir, const std::string& split) {
  MnistSplit raw = load_mnist(dir, split);
  const std::size_t n = raw.images.shape()[0], h = raw.images.shape()[1], w = raw.images.shape()[2];
  Dataset<T> data;
  data.inputs = Tensor<T>(Shape{n, 1, h, w});
  std::copy(raw.images.begin(), raw.images.end(), data.inputs.begin());
  data.labels.assign(raw.labels.begin(), raw.labels.end());
  return data;
}

template <class T>
void validate_dataset(const Dataset<T>& data, const std::string& name, std::size_t classes) {
  if (data.inputs.dimension() < 1 || data.inputs.shape()[0] != data.labels.size())
    throw InputError(name + ": " + std::to_string(data.labels.size()) + " labels for inputs of shape " +
                     shape_str(shape_of(data.inputs)));
  if (data.labels.empty()) throw InputError(name + ": the dataset is empty");
  const std::size_t per_example = data.inputs.size() / data.labels.size();
  for (std::size_t i = 0; i < data.inputs.size(); ++i)
    if (!std::isfinite(data.inputs.data()[i]))
      throw InputError(name + ": example " + std::to_string(i / per_example) + " contains " +
                       (std::isnan(data.inputs.data()[i]) ? "NaN" : "an infinite value"));
  for (std::size_t n = 0; n < data.labels.size(); ++n)
    if (data.labels[n] >= classes)
      throw InputError(name + ": label " + std::to_string(data.labels[n]) + " of example " + std::to_string(n) +
                       " is not a class index below " + std::to_string(classes));
}

template <class T>
Tensor<T> gather_examples(const Tensor<T>& inputs, const std::vector<std::size_t>& index) {
  Shape s = shape_of(inputs);
  const std::size_t n = s.at(0), per_example = n ? inputs.size() / n : 0;
  s[0] = index.size();
  Tensor<T> out(s);
  for (std::size_t b = 0; b < index.size(); ++b) {
    if (index[b] >= n) throw ShapeError("gather_examples: index " + std::to_string(index[b]) + " >= " + std::to_string(n));
    std::copy_n(inputs.data() + index[b] * per_example, per_example, out.data() + b * per_example);
  }
  return out;
}

template <class T>
Dataset<T> head_of(const Dataset<T>& data, std::size_t count) {
  count = std::min(count, data.size());
  std::vector<std::size_t> index(count);
  for (std::size_t i = 0; i < count; ++i) index[i] = i;
  return {gather_examples(data.inputs, index), std::vector<std::size_t>(data.labels.begin(), data.labels.begin() + count)};
}

#define FLUXION_INSTANTIATE(T)                                                                        \
  template struct Dataset<T>;                                                                         \
  template Dataset<T> load_mnist_dataset(const std::filesystem::path&, const std::string&);           \
  template void validate_dataset(const Dataset<T>&, const std::string&, std::size_t);                 \
  template Tensor<T> gather_examples(const Tensor<T>&, const std::vector<std::size_t>&);              \
  template Dataset<T> head_of(const Dataset<T>&, std::size_t);
FLUXION_INSTANTIATE(float)
FLUXION_INSTANTIATE(double)
#undef FLUXION_INSTANTIATE

}  // namespace fluxion
