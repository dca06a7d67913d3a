#include "nn/training/sgd.hpp"

#include "autodiff/errors.hpp"

namespace fluxion {

template <class T>
SGD<T>::SGD(std::vector<NamedParameter<T>> parameters, double lr, double momentum, double weight_decay)
    : Optimizer<T>(std::move(parameters), lr),
      momentum_(momentum),
      weight_decay_(weight_decay),
      buffer_(this->add_slot("momentum_buffer")) {
  if (momentum < 0 || weight_decay < 0) throw ArgumentError("sgd: momentum and weight decay must be >= 0");
}

template <class T>
void SGD<T>::step() {
  const bool first = this->steps_ == 0;
  const T lr = static_cast<T>(this->lr_), mu = static_cast<T>(momentum_), wd = static_cast<T>(weight_decay_);
  for (std::size_t i = 0; i < this->parameters_.size(); ++i) {
    Var<T>& w = this->parameters_[i].value;
    if (!w.has_grad()) continue;
    Tensor<T> value = w.value();
    const T* grad = w.grad().data();
    T* x = value.data();
    T* b = buffer_[i].data();
    for (std::size_t j = 0; j < value.size(); ++j) {
      T g = grad[j] + wd * x[j];
      if (mu != T(0)) {
        b[j] = first ? g : mu * b[j] + g;
        g = b[j];
      }
      x[j] -= lr * g;
    }
    w.assign(std::move(value));
  }
  ++this->steps_;
}

template class SGD<float>;
template class SGD<double>;

}  // namespace fluxion
