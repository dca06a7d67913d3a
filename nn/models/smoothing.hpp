// Views of a trained model that share its weights.
//
// smooth(model, β): every ReLU replaced by SoftPlus(β),
//
//     softplus_β(x) = (1/β) ln(1 + e^{βx}),   0 ≤ softplus_β(x) − relu(x) ≤ ln 2 / β,
//
// a smooth (C^∞) network whose gradients and Hessians exist everywhere and
// which converges to the ReLU network as β → ∞ (Dombrowski et al. 2019,
// "Explanations can be manipulated and geometry is to blame", use this
// β-smoothing to make explanations robust; Janizek et al. 2021, Integrated
// Hessians, need it because a ReLU net's Hessian is 0 almost everywhere).
// No retraining: the Linear/Conv2d layers are the same objects.
//
// split_at_last_linear(model) = (features, head) with model = head ∘ features:
// `head` starts at the LAST Linear layer (the logit layer and anything after
// it), `features` is everything before it. IG2 (GradPath) works in that
// representation space. split_at_first_linear(model) is its sibling: `head`
// starts at the FIRST Linear layer (e.g. the cnn's 512 flattened conv features
// are the representation), `features` is everything before it.
//
// as_function(model), the model as an autodiff Function, lives with
// Sequential (nn/modules/sequential.hpp).
#pragma once

#include "autodiff/transforms.hpp"
#include "nn/modules/sequential.hpp"

namespace fluxion {

/// A model sharing `model`'s layers, with every ReLU swapped for SoftPlus(β).
template <class T>
Sequential<T> smooth(const Sequential<T>& model, T beta);

/// features ∘ head split; both share the model's layers.
template <class T>
struct SplitSequential {
  Sequential<T> features;  // layers before the last Linear (may be empty: the identity)
  Sequential<T> head;      // the last Linear and everything after it
};

/// Splits at the input of the last Linear layer. Throws ShapeError if the
/// model has no Linear layer.
template <class T>
SplitSequential<T> split_at_last_linear(const Sequential<T>& model);

/// Splits at the input of the first Linear layer. Throws ShapeError if the
/// model has no Linear layer.
template <class T>
SplitSequential<T> split_at_first_linear(const Sequential<T>& model);

}  // namespace fluxion
