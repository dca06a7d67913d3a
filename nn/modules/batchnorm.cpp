#include "nn/modules/batchnorm.hpp"

#include <cmath>

#include <nlohmann/json.hpp>

#include "autodiff/errors.hpp"
#include "autodiff/ops.hpp"
#include "nn/modules/size_limits.hpp"

namespace fluxion {

template <class T>
BatchNorm2d<T>::BatchNorm2d(std::size_t channels, double eps, double momentum)
    : channels_(channels), eps_(eps), momentum_(momentum) {
  if (channels_ == 0) throw ArgumentError("batchnorm2d: channels must be >= 1");
  if (!(eps_ > 0 && std::isfinite(eps_))) throw ArgumentError("batchnorm2d: eps must be a finite number > 0");
  if (!(momentum_ >= 0 && momentum_ <= 1)) throw ArgumentError("batchnorm2d: momentum must be in [0, 1]");
  checked_element_count({channels_}, "batchnorm2d: the weight");
  weight_ = Var<T>(Tensor<T>(xt::ones<T>({channels_})));
  bias_ = Var<T>(Tensor<T>(xt::zeros<T>({channels_})));
  running_mean_ = Var<T>(Tensor<T>(xt::zeros<T>({channels_})));
  running_var_ = Var<T>(Tensor<T>(xt::ones<T>({channels_})));
}

// y = γ (x − μ)/√(σ² + ε) + β with the batch's μ, σ² (biased); updates the running statistics.
template <class T>
Var<T> BatchNorm2d<T>::normalise_with_batch_statistics(const Var<T>& x) {
  const Shape& s = x.shape();
  const std::size_t m = s[0] * s[2] * s[3];
  if (m < 2)
    throw ShapeError("batchnorm2d: training needs more than one value per channel, got input " + shape_str(s));
  const Var<T> mu = mean(x, {0, 2, 3}, true);                // [1, C, 1, 1]
  const Var<T> centred = x - mu;
  const Var<T> variance = mean(square(centred), {0, 2, 3}, true);  // biased
  const Var<T> y = centred / sqrt(variance + static_cast<T>(eps_));
  // The running estimates follow the batch's statistics, without gradient.
  const T a = static_cast<T>(momentum_), bessel = static_cast<T>(m) / static_cast<T>(m - 1);
  Tensor<T> mean_now = running_mean_.value(), var_now = running_var_.value();
  for (std::size_t c = 0; c < channels_; ++c) {
    mean_now.data()[c] = (T(1) - a) * mean_now.data()[c] + a * mu.value().data()[c];
    var_now.data()[c] = (T(1) - a) * var_now.data()[c] + a * variance.value().data()[c] * bessel;
  }
  running_mean_.assign(std::move(mean_now));
  running_var_.assign(std::move(var_now));
  return y * reshape(weight_, {channels_, 1, 1}) + reshape(bias_, {channels_, 1, 1});
}

// y = γ (x − running_mean)/√(running_var + ε) + β, folded to y = a·x + b with
// a = γ/√(running_var + ε) and b = β − running_mean·a computed in double
// (ONNX's BatchNormalization in nn/graph/graph_ops.cpp folds alike, so a
// model and its graph agree bit for bit). In eval mode γ and β are constants.
template <class T>
Var<T> BatchNorm2d<T>::normalise_with_running_statistics(const Var<T>& x) const {
  Tensor<T> a(Shape{channels_, 1, 1}), b(Shape{channels_, 1, 1});
  for (std::size_t k = 0; k < channels_; ++k) {
    const double gamma = weight_.value().data()[k], beta = bias_.value().data()[k];
    const double mu = running_mean_.value().data()[k], var = running_var_.value().data()[k];
    const double scale_k = gamma / std::sqrt(var + eps_);
    a.data()[k] = T(scale_k);
    b.data()[k] = T(beta - mu * scale_k);
  }
  return x * constant(std::move(a)) + constant(std::move(b));
}

template <class T>
Var<T> BatchNorm2d<T>::forward(const Var<T>& x) {
  if (x.rank() != 4 || x.shape()[1] != channels_)
    throw ShapeError("batchnorm2d: expected input [N, " + std::to_string(channels_) + ", H, W], got " +
                     shape_str(x.shape()));
  return this->training() ? normalise_with_batch_statistics(x) : normalise_with_running_statistics(x);
}

template <class T>
nlohmann::json BatchNorm2d<T>::describe() const {
  nlohmann::json j{{"type", "batchnorm2d"}, {"channels", channels_}};
  if (eps_ != 1e-5) j["eps"] = eps_;
  if (momentum_ != 0.1) j["momentum"] = momentum_;
  return j;
}

template <class T>
Shape BatchNorm2d<T>::output_shape(const Shape& input) const {
  if (input.size() != 3 || input[0] != channels_)
    throw ShapeError("batchnorm2d: takes examples of shape [" + std::to_string(channels_) + ", H, W], got " +
                     shape_str(input));
  return input;
}

template <class T>
std::vector<NamedParameter<T>> BatchNorm2d<T>::named_parameters() const {
  return {{"weight", weight_}, {"bias", bias_}};
}

template <class T>
std::vector<NamedParameter<T>> BatchNorm2d<T>::named_buffers() const {
  return {{"running_mean", running_mean_}, {"running_var", running_var_}};
}

template class BatchNorm2d<float>;
template class BatchNorm2d<double>;

}  // namespace fluxion
