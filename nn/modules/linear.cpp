#include "nn/modules/linear.hpp"

#include <nlohmann/json.hpp>

#include "autodiff/errors.hpp"
#include "autodiff/ops.hpp"
#include "nn/modules/init.hpp"
#include "nn/modules/size_limits.hpp"

namespace fluxion {

template <class T>
Linear<T>::Linear(std::size_t in_features, std::size_t out_features, std::mt19937_64& rng, bool bias)
    : in_(in_features), out_(out_features) {
  if (in_ == 0 || out_ == 0) throw ArgumentError("linear: in and out features must be >= 1");
  checked_element_count({out_, in_}, "linear: the weight");
  T bound = static_cast<T>(default_init_bound(in_));
  weight_ = Var<T>(uniform_tensor<T>({out_, in_}, bound, rng));
  if (bias) bias_ = Var<T>(uniform_tensor<T>({out_}, bound, rng));
}

template <class T>
Var<T> Linear<T>::forward(const Var<T>& x) {
  if (x.rank() != 2 || x.shape()[1] != in_)
    throw ShapeError("linear: expected input [N, " + std::to_string(in_) + "], got " + shape_str(x.shape()));
  Var<T> y = matmul(x, weight_, false, true);  // x Wᵀ
  return bias_.defined() ? add(y, bias_) : y;
}

template <class T>
nlohmann::json Linear<T>::describe() const {
  nlohmann::json j{{"type", "linear"}, {"in", in_}, {"out", out_}};
  if (!has_bias()) j["bias"] = false;
  return j;
}

template <class T>
Shape Linear<T>::output_shape(const Shape& input) const {
  if (input.size() != 1 || input[0] != in_)
    throw ShapeError("linear: takes examples of shape [" + std::to_string(in_) + "], got " + shape_str(input) +
                     " (add a flatten layer before it?)");
  return {out_};
}

template <class T>
std::vector<NamedParameter<T>> Linear<T>::named_parameters() const {
  std::vector<NamedParameter<T>> p{{"weight", weight_}};
  if (has_bias()) p.push_back({"bias", bias_});
  return p;
}

template class Linear<float>;
template class Linear<double>;

}  // namespace fluxion
