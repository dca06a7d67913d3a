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

namespace {
/// model = head ∘ features with head starting at layer `at` (both share the layers).
template <class T>
SplitSequential<T> split_at_layer(const Sequential<T>& model, std::size_t at) {
  const auto& layers = model.layers();
  std::vector<std::shared_ptr<Module<T>>> front(layers.begin(), layers.begin() + std::ptrdiff_t(at));
  std::vector<std::shared_ptr<Module<T>>> back(layers.begin() + std::ptrdiff_t(at), layers.end());
  Shape representation = model.input_shape().empty() ? Shape{} : Sequential<T>(front, model.input_shape()).output_shape();
  return {Sequential<T>(std::move(front), model.input_shape()), Sequential<T>(std::move(back), representation)};
}

/// Indices of the model's Linear layers, in order.
template <class T>
std::vector<std::size_t> linear_layers(const Sequential<T>& model, const std::string& who) {
  std::vector<std::size_t> found;
  const auto& layers = model.layers();
  for (std::size_t i = 0; i < layers.size(); ++i)
    if (dynamic_cast<const Linear<T>*>(layers[i].get())) found.push_back(i);
  if (found.empty()) throw ShapeError(who + ": the model has no linear layer");
  return found;
}
}  // namespace

template <class T>
SplitSequential<T> split_at_last_linear(const Sequential<T>& model) {
  return split_at_layer(model, linear_layers(model, "split_at_last_linear").back());
}

template <class T>
SplitSequential<T> split_at_first_linear(const Sequential<T>& model) {
  return split_at_layer(model, linear_layers(model, "split_at_first_linear").front());
}

template Sequential<float> smooth(const Sequential<float>&, float);
template Sequential<double> smooth(const Sequential<double>&, double);
template SplitSequential<float> split_at_last_linear(const Sequential<float>&);
template SplitSequential<double> split_at_last_linear(const Sequential<double>&);
template SplitSequential<float> split_at_first_linear(const Sequential<float>&);
template SplitSequential<double> split_at_first_linear(const Sequential<double>&);

}  // namespace fluxion
