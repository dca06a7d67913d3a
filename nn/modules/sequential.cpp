#include "nn/modules/sequential.hpp"

#include <nlohmann/json.hpp>

#include "autodiff/errors.hpp"
#include "nn/modules/size_limits.hpp"

namespace fluxion {

template <class T>
Sequential<T>::Sequential(std::vector<Layer> layers, Shape input_shape)
    : layers_(std::move(layers)), input_shape_(std::move(input_shape)) {
  for (const auto& l : layers_)
    if (!l) throw ArgumentError("Sequential: a layer is null");
  if (!input_shape_.empty()) output_shape(input_shape_);  // throws if the layers do not fit together
  bool any_training = false;
  for (const auto& l : layers_) any_training = any_training || l->training();
  this->training_ = any_training;
}

template <class T>
Var<T> Sequential<T>::forward(const Var<T>& x) {
  if (!input_shape_.empty()) {
    Shape example(x.shape().begin() + (x.rank() > 0 ? 1 : 0), x.shape().end());
    if (x.rank() == 0 || example != input_shape_)
      throw ShapeError("model: expected a batch [N, " + shape_str(input_shape_).substr(1) + ", got " +
                       shape_str(x.shape()));
  }
  Var<T> h = x;
  for (const auto& l : layers_) h = l->forward(h);
  return h;
}

template <class T>
nlohmann::json Sequential<T>::describe() const {
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& l : layers_) layers.push_back(l->describe());
  return {{"input_shape", input_shape_}, {"layers", layers}};
}

template <class T>
Shape Sequential<T>::output_shape(const Shape& input) const {
  Shape s = input;
  checked_element_count(s, "the input example");
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    try {
      s = layers_[i]->output_shape(s);
      checked_element_count(s, "its output");
    } catch (const ShapeError& e) {
      throw ShapeError("layer " + std::to_string(i) + " (" + layers_[i]->type() + ") does not fit: " + e.what());
    }
  }
  return s;
}

template <class T>
std::vector<NamedParameter<T>> Sequential<T>::named_parameters() const {
  std::vector<NamedParameter<T>> all;
  for (std::size_t i = 0; i < layers_.size(); ++i)
    for (auto& p : layers_[i]->named_parameters()) all.push_back({std::to_string(i) + "." + p.name, p.value});
  return all;
}

template <class T>
std::vector<NamedParameter<T>> Sequential<T>::named_buffers() const {
  std::vector<NamedParameter<T>> all;
  for (std::size_t i = 0; i < layers_.size(); ++i)
    for (auto& b : layers_[i]->named_buffers()) all.push_back({std::to_string(i) + "." + b.name, b.value});
  return all;
}

template <class T>
void Sequential<T>::train(bool on) {
  this->training_ = on;
  for (auto& l : layers_) l->train(on);
}

template class Sequential<float>;
template class Sequential<double>;

template <class T>
Function<T> as_function(const Sequential<T>& model) {
  return [m = model](const Var<T>& x) mutable { return m.forward(x); };
}

template Function<float> as_function(const Sequential<float>&);
template Function<double> as_function(const Sequential<double>&);

}  // namespace fluxion
