#include "nn/training/evaluate.hpp"

#include <algorithm>
#include <cmath>

#include "autodiff/errors.hpp"

namespace fluxion {

template <class T>
Tensor<T> predict_logits(const Function<T>& model, const Tensor<T>& inputs, std::size_t batch_size) {
  if (batch_size == 0) throw ArgumentError("predict_logits: batch_size must be >= 1");
  NoGradGuard no_graph;
  const std::size_t n = inputs.shape()[0];
  Tensor<T> outputs;
  std::size_t per_example = 0;
  for (std::size_t start = 0; start < n; start += batch_size) {
    std::vector<std::size_t> index;
    for (std::size_t i = start; i < std::min(n, start + batch_size); ++i) index.push_back(i);
    Var<T> z = model(Var<T>(gather_examples(inputs, index)));
    if (start == 0) {
      Shape shape = z.shape();
      shape[0] = n;
      outputs = Tensor<T>::from_shape(shape);
      per_example = z.value().size() / index.size();
    }
    std::copy(z.value().begin(), z.value().end(), outputs.data() + start * per_example);
  }
  return outputs;
}

template <class T>
Tensor<T> predict_logits(Sequential<T>& model, const Tensor<T>& inputs, std::size_t batch_size) {
  const bool was_training = model.training();
  model.eval();
  Tensor<T> logits;
  try {
    logits = predict_logits(Function<T>([&model](const Var<T>& x) { return model.forward(x); }), inputs, batch_size);
  } catch (...) {
    model.train(was_training);
    throw;
  }
  model.train(was_training);
  if (logits.dimension() != 2)
    throw ShapeError("predict_logits: the model must output [N, classes], got " + shape_str(shape_of(logits)));
  return logits;
}

template <class T>
std::vector<std::size_t> argmax_rows(const Tensor<T>& logits) {
  const std::size_t n = logits.shape()[0], c = logits.shape()[1];
  std::vector<std::size_t> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    const T* row = logits.data() + i * c;
    out[i] = static_cast<std::size_t>(std::max_element(row, row + c) - row);
  }
  return out;
}

template <class T>
Evaluation evaluate(Sequential<T>& model, const Dataset<T>& data, std::size_t batch_size) {
  Tensor<T> logits = predict_logits(model, data.inputs, batch_size);
  const std::size_t n = data.size(), c = logits.shape()[1];
  std::vector<std::size_t> predicted = argmax_rows(logits);
  double loss = 0;
  std::size_t correct = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const T* row = logits.data() + i * c;
    double top = *std::max_element(row, row + c), total = 0;
    for (std::size_t j = 0; j < c; ++j) total += std::exp(static_cast<double>(row[j]) - top);
    loss += top + std::log(total) - static_cast<double>(row[data.labels[i]]);
    correct += predicted[i] == data.labels[i];
  }
  return {loss / static_cast<double>(n), static_cast<double>(correct) / static_cast<double>(n)};
}

#define FLUXION_INSTANTIATE(T)                                                               \
  template Tensor<T> predict_logits(Sequential<T>&, const Tensor<T>&, std::size_t);          \
  template Tensor<T> predict_logits(const Function<T>&, const Tensor<T>&, std::size_t);     \
  template std::vector<std::size_t> argmax_rows(const Tensor<T>&);                           \
  template Evaluation evaluate(Sequential<T>&, const Dataset<T>&, std::size_t);
FLUXION_INSTANTIATE(float)
FLUXION_INSTANTIATE(double)
#undef FLUXION_INSTANTIATE

}  // namespace fluxion
