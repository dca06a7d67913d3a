#include "nn/modules/conv2d.hpp"

#include <nlohmann/json.hpp>

#include "autodiff/errors.hpp"
#include "autodiff/ops.hpp"
#include "nn/modules/init.hpp"
#include "nn/modules/size_limits.hpp"

namespace fluxion {

template <class T>
Conv2d<T>::Conv2d(std::size_t in_channels, std::size_t out_channels, std::size_t kernel, std::mt19937_64& rng,
                  std::size_t stride, std::size_t padding, bool bias, std::size_t groups)
    : in_(in_channels), out_(out_channels), kernel_(kernel), stride_(stride), padding_(padding), groups_(groups),
      params_{stride, padding} {
  if (in_ == 0 || out_ == 0 || kernel_ == 0 || stride == 0 || groups_ == 0)
    throw ArgumentError("conv2d: in, out, kernel, stride and groups must be >= 1");
  if (padding > kMaxLayerElements) throw ArgumentError("conv2d: padding " + std::to_string(padding) + " is above 2^31");
  if (in_ % groups_ != 0 || out_ % groups_ != 0)
    throw ArgumentError("conv2d: groups " + std::to_string(groups_) + " must divide both in (" + std::to_string(in_) +
                        ") and out (" + std::to_string(out_) + ")");
  // One group keeps the plain form (its kernels are the tuned ones); more use the general one.
  if (groups_ > 1) params_ = kernels::Conv2dParams::make({stride, stride}, {padding, padding, padding, padding}, {1, 1}, groups_);
  const std::size_t in_per_group = in_ / groups_;
  checked_element_count({out_, in_per_group, kernel_, kernel_}, "conv2d: the weight");
  T bound = static_cast<T>(default_init_bound(in_per_group * kernel_ * kernel_));
  weight_ = Var<T>(uniform_tensor<T>({out_, in_per_group, kernel_, kernel_}, bound, rng));
  if (bias) bias_ = Var<T>(uniform_tensor<T>({out_}, bound, rng));
}

template <class T>
Var<T> Conv2d<T>::forward(const Var<T>& x) {
  if (x.rank() != 4 || x.shape()[1] != in_)
    throw ShapeError("conv2d: expected input [N, " + std::to_string(in_) + ", H, W], got " + shape_str(x.shape()));
  Var<T> y = conv2d(x, weight_, params_);
  if (!bias_.defined()) return y;
  return add(y, reshape(bias_, {out_, 1, 1}));  // b[o] broadcast over n, i, j
}

template <class T>
nlohmann::json Conv2d<T>::describe() const {
  nlohmann::json j{{"type", "conv2d"},          {"in", in_},
                   {"out", out_},               {"kernel", kernel_},
                   {"stride", stride_},         {"padding", padding_}};
  if (!has_bias()) j["bias"] = false;
  if (groups_ > 1) j["groups"] = groups_;
  return j;
}

template <class T>
Shape Conv2d<T>::output_shape(const Shape& input) const {
  if (input.size() != 3 || input[0] != in_)
    throw ShapeError("conv2d: takes examples of shape [" + std::to_string(in_) + ", H, W], got " + shape_str(input));
  return {out_, kernels::conv_output_size(input[1], kernel_, params_),
          kernels::conv_output_size(input[2], kernel_, params_)};
}

template <class T>
std::vector<NamedParameter<T>> Conv2d<T>::named_parameters() const {
  std::vector<NamedParameter<T>> p{{"weight", weight_}};
  if (has_bias()) p.push_back({"bias", bias_});
  return p;
}

template class Conv2d<float>;
template class Conv2d<double>;

}  // namespace fluxion
