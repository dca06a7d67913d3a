#include "nn/modules/residual.hpp"

#include <nlohmann/json.hpp>

#include "autodiff/errors.hpp"
#include "autodiff/ops.hpp"

namespace fluxion {

template <class T>
Residual<T>::Residual(Sequential<T> body, Sequential<T> shortcut) : body_(std::move(body)), shortcut_(std::move(shortcut)) {
  if (body_.size() == 0) throw ArgumentError("residual: the body needs at least one layer");
  this->training_ = body_.training() || shortcut_.training();
}

// y = body(x) + shortcut(x)
template <class T>
Var<T> Residual<T>::forward(const Var<T>& x) {
  const Var<T> around = shortcut_.size() == 0 ? x : shortcut_.forward(x);
  return body_.forward(x) + around;
}

template <class T>
nlohmann::json Residual<T>::describe() const {
  return {{"type", "residual"}, {"body", body_.describe().at("layers")}, {"shortcut", shortcut_.describe().at("layers")}};
}

template <class T>
Shape Residual<T>::output_shape(const Shape& input) const {
  Shape through_body, around;
  try {
    through_body = body_.output_shape(input);
  } catch (const ShapeError& e) {
    throw ShapeError(std::string("residual: body: ") + e.what());
  }
  try {
    around = shortcut_.output_shape(input);
  } catch (const ShapeError& e) {
    throw ShapeError(std::string("residual: shortcut: ") + e.what());
  }
  if (through_body != around)
    throw ShapeError("residual: the body gives " + shape_str(through_body) + " but the shortcut gives " +
                     shape_str(around) + "; the two are added, so they must agree");
  return through_body;
}

namespace {
template <class T>
void append_prefixed(std::vector<NamedParameter<T>>& all, const std::string& prefix,
                     std::vector<NamedParameter<T>> items) {
  for (auto& p : items) all.push_back({prefix + p.name, p.value});
}
}  // namespace

template <class T>
std::vector<NamedParameter<T>> Residual<T>::named_parameters() const {
  std::vector<NamedParameter<T>> all;
  append_prefixed(all, "body.", body_.named_parameters());
  append_prefixed(all, "shortcut.", shortcut_.named_parameters());
  return all;
}

template <class T>
std::vector<NamedParameter<T>> Residual<T>::named_buffers() const {
  std::vector<NamedParameter<T>> all;
  append_prefixed(all, "body.", body_.named_buffers());
  append_prefixed(all, "shortcut.", shortcut_.named_buffers());
  return all;
}

template <class T>
void Residual<T>::train(bool on) {
  this->training_ = on;
  body_.train(on);
  shortcut_.train(on);
}

template class Residual<float>;
template class Residual<double>;

}  // namespace fluxion
