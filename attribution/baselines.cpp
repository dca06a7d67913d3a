// One shape check for every baseline (see baselines.hpp).
#include "attribution/baselines.hpp"

#include <algorithm>

#include "attribution/explained_output.hpp"
#include "autodiff/errors.hpp"

namespace fluxion {

template <class T>
Baselines<T>::Baselines(const Tensor<T>& x, const Tensor<T>& given, const std::string& where) {
  examples_ = example_count(x, where + ": x");
  const Shape one = example_shape(x);
  example_size_ = numel_of(one);
  shared_ = shape_of(given) == one;
  if (!shared_ && shape_of(given) != shape_of(x))
    throw ShapeError(where + ": baseline " + shape_str(shape_of(given)) + " must be one example " + shape_str(one) +
                     " or match the inputs " + shape_str(shape_of(x)));
  values_ = given;
  if (shared_) {
    Shape single = one;
    single.insert(single.begin(), 1);
    values_.reshape(single);
  }
}

template <class T>
Baselines<T>::Baselines(const Tensor<T>& x, const std::optional<Tensor<T>>& given, const std::string& where)
    : Baselines(x, given ? *given : filled<T>(example_shape(x), T(0)), where) {}

template <class T>
Tensor<T> Baselines<T>::rows() const {
  if (!shared_) return values_;
  Shape s = shape_of(values_);
  s[0] = examples_;
  Tensor<T> all = Tensor<T>::from_shape(s);
  for (std::size_t e = 0; e < examples_; ++e)
    std::copy(values_.data(), values_.data() + example_size_, all.data() + e * example_size_);
  return all;
}

template class Baselines<float>;
template class Baselines<double>;

}  // namespace fluxion
