#include "nn/modules/pooling.hpp"

#include <nlohmann/json.hpp>

#include "autodiff/errors.hpp"
#include "autodiff/ops.hpp"

namespace fluxion {

namespace {

kernels::PoolParams make_params(std::size_t kernel, std::size_t stride, const char* layer) {
  if (kernel == 0) throw ArgumentError(std::string(layer) + ": kernel must be >= 1");
  return {kernel, stride == 0 ? kernel : stride};
}

Shape pooled_shape(const Shape& input, kernels::PoolParams p, const char* layer) {
  if (input.size() != 3)
    throw ShapeError(std::string(layer) + ": takes examples of shape [C, H, W], got " + shape_str(input));
  if (input[1] < p.kernel || input[2] < p.kernel)
    throw ShapeError(std::string(layer) + ": window " + std::to_string(p.kernel) + " larger than input " +
                     shape_str(input));
  return {input[0], (input[1] - p.kernel) / p.stride + 1, (input[2] - p.kernel) / p.stride + 1};
}

nlohmann::json pool_json(const char* type, kernels::PoolParams p) {
  return {{"type", type}, {"kernel", p.kernel}, {"stride", p.stride}};
}

}  // namespace

template <class T>
MaxPool2d<T>::MaxPool2d(std::size_t kernel, std::size_t stride) : params_(make_params(kernel, stride, "maxpool2d")) {}

template <class T>
Var<T> MaxPool2d<T>::forward(const Var<T>& x) {
  return max_pool2d(x, params_);
}

template <class T>
nlohmann::json MaxPool2d<T>::describe() const {
  return pool_json("maxpool2d", params_);
}

template <class T>
Shape MaxPool2d<T>::output_shape(const Shape& input) const {
  return pooled_shape(input, params_, "maxpool2d");
}

template <class T>
AvgPool2d<T>::AvgPool2d(std::size_t kernel, std::size_t stride) : params_(make_params(kernel, stride, "avgpool2d")) {}

template <class T>
Var<T> AvgPool2d<T>::forward(const Var<T>& x) {
  return avg_pool2d(x, params_);
}

template <class T>
nlohmann::json AvgPool2d<T>::describe() const {
  return pool_json("avgpool2d", params_);
}

template <class T>
Shape AvgPool2d<T>::output_shape(const Shape& input) const {
  return pooled_shape(input, params_, "avgpool2d");
}

template class MaxPool2d<float>;
template class MaxPool2d<double>;
template class AvgPool2d<float>;
template <class T>
Var<T> GlobalAvgPool2d<T>::forward(const Var<T>& x) {
  if (x.rank() != 4) throw ShapeError("global_avgpool2d: expected input [N, C, H, W], got " + shape_str(x.shape()));
  return mean(x, {2, 3});  // [N, C]
}

template <class T>
nlohmann::json GlobalAvgPool2d<T>::describe() const {
  return {{"type", "global_avgpool2d"}};
}

template <class T>
Shape GlobalAvgPool2d<T>::output_shape(const Shape& input) const {
  if (input.size() != 3)
    throw ShapeError("global_avgpool2d: takes examples of shape [C, H, W], got " + shape_str(input));
  return {input[0]};
}

template class AvgPool2d<double>;
template class GlobalAvgPool2d<float>;
template class GlobalAvgPool2d<double>;

}  // namespace fluxion
