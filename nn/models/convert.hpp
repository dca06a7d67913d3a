// Precision conversion of a model: the same architecture with every
// parameter cast to another scalar type. float → double is exact; double →
// float rounds each weight to nearest. Attribution axiom checks typically
// train in float and explain in double.
#pragma once

#include "nn/modules/sequential.hpp"

namespace fluxion {

/// A new model (its own parameters, eval mode) of scalar type To.
template <class To, class From>
Sequential<To> convert_model(const Sequential<From>& model);

}  // namespace fluxion
