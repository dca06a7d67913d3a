// Losses for training. Both are composites of autodiff primitives (defined in
// autodiff/composite.cpp), so all their derivatives come from the rule table:
//
//   cross_entropy(z, y) = −(1/N) Σ_n log_softmax(z_n)[y_n]
//                       = (1/N) Σ_n ( logsumexp(z_n) − z_n[y_n] )
//   mse(a, b)           = mean((a − b)²)
//
// This header is the nn-side name for them; there is deliberately no second
// implementation.
#pragma once

#include "autodiff/ops.hpp"

namespace fluxion {

using fluxion::cross_entropy;
using fluxion::mse;

}  // namespace fluxion
