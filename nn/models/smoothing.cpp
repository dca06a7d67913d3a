#include "nn/models/smoothing.hpp"

#include "autodiff/errors.hpp"
#include "nn/modules/activations.hpp"
#include "nn/modules/linear.hpp"
#include "nn/modules/residual.hpp"

namespace fluxion {

template <class T>
Sequential<T> smooth(const Sequential<T>& model, T beta) {
  std::vector<std::shared_ptr<Module<T>>> layers;
  for (const auto& l : model.layers()) {
    if (dynamic_cast<const ReLU<T>*>(l.get())) {
      auto soft = std::make_shared<SoftPlus<T>>(beta);
      soft->train(l->training());
      layers.push_back(soft);
    } else if (const auto* block = dynamic_cast<const Residual<T>*>(l.get())) {
      // smooth both paths (the ReLUs inside a block too), sharing their weights
      layers.push_back(std::make_shared<Residual<T>>(smooth(block->body(), beta), smooth(block->shortcut(), beta)));
    } else {
      layers.push_back(l);  // shared: same weights
    }
  }
  return Sequential<T>(std::move(layers), model.input_shape());
}

template <class T>
SplitSequential<T> split_at_last_linear(const Sequential<T>& model) {
  const auto& layers = model.layers();
  std::size_t last = layers.size();
  for (std::size_t i = 0; i < layers.size(); ++i)
    if (dynamic_cast<const Linear<T>*>(layers[i].get())) last = i;
  if (last == layers.size()) throw ShapeError("split_at_last_linear: the model has no linear layer");
  std::vector<std::shared_ptr<Module<T>>> front(layers.begin(), layers.begin() + last);
  std::vector<std::shared_ptr<Module<T>>> back(layers.begin() + last, layers.end());
  Shape representation = model.input_shape().empty() ? Shape{} : Sequential<T>(front, model.input_shape()).output_shape();
  return {Sequential<T>(std::move(front), model.input_shape()), Sequential<T>(std::move(back), representation)};
}

template Sequential<float> smooth(const Sequential<float>&, float);
template Sequential<double> smooth(const Sequential<double>&, double);
template SplitSequential<float> split_at_last_linear(const Sequential<float>&);
template SplitSequential<double> split_at_last_linear(const Sequential<double>&);

}  // namespace fluxion
