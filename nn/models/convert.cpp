#include "nn/models/convert.hpp"

#include "nn/models/architecture.hpp"

namespace fluxion {

template <class To, class From>
Sequential<To> convert_model(const Sequential<From>& model) {
  Sequential<To> out = build_model<To>(describe_model(model), 0, "convert_model");
  auto src = named_state(model);  // parameters and buffers (running statistics)
  auto dst = named_state(out);
  for (std::size_t i = 0; i < src.size(); ++i) dst[i].value.assign(xt::cast<To>(src[i].value.value()));
  return out;
}

template Sequential<double> convert_model<double, float>(const Sequential<float>&);
template Sequential<float> convert_model<float, double>(const Sequential<double>&);
template Sequential<float> convert_model<float, float>(const Sequential<float>&);
template Sequential<double> convert_model<double, double>(const Sequential<double>&);

}  // namespace fluxion
