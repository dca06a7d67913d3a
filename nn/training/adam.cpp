#include "nn/training/adam.hpp"

#include <cmath>

#include "autodiff/errors.hpp"

namespace fluxion {

template <class T>
Adam<T>::Adam(std::vector<NamedParameter<T>> parameters, double lr, double weight_decay, double beta1, double beta2,
              double eps)
    : Optimizer<T>(std::move(parameters), lr),
      weight_decay_(weight_decay),
      beta1_(beta1),
      beta2_(beta2),
      eps_(eps),
      m_(this->add_slot("exp_avg")),
      v_(this->add_slot("exp_avg_sq")) {
  if (weight_decay < 0 || !(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1) || !(eps > 0))
    throw ArgumentError("adam: need weight_decay >= 0, 0 <= beta1, beta2 < 1 and eps > 0");
}

template <class T>
void Adam<T>::step() {
  const double t = static_cast<double>(this->steps_ + 1);
  const T b1 = static_cast<T>(beta1_), b2 = static_cast<T>(beta2_), wd = static_cast<T>(weight_decay_);
  const T correction1 = static_cast<T>(1 - std::pow(beta1_, t));
  const T sqrt_correction2 = static_cast<T>(std::sqrt(1 - std::pow(beta2_, t)));
  const T step_size = static_cast<T>(this->lr_) / correction1;
  const T eps = static_cast<T>(eps_);
  for (std::size_t i = 0; i < this->parameters_.size(); ++i) {
    Var<T>& w = this->parameters_[i].value;
    if (!w.has_grad()) continue;
    Tensor<T> value = w.value();
    const T* grad = w.grad().data();
    T* x = value.data();
    T* m = m_[i].data();
    T* v = v_[i].data();
    for (std::size_t j = 0; j < value.size(); ++j) {
      T g = grad[j] + wd * x[j];
      m[j] = b1 * m[j] + (T(1) - b1) * g;
      v[j] = b2 * v[j] + (T(1) - b2) * g * g;
      // m̂ / (√v̂ + ε) = (m / c₁) / (√v / √c₂ + ε), as PyTorch computes it
      x[j] -= step_size * m[j] / (std::sqrt(v[j]) / sqrt_correction2 + eps);
    }
    w.assign(std::move(value));
  }
  ++this->steps_;
}

template class Adam<float>;
template class Adam<double>;

}  // namespace fluxion
