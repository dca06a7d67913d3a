// Reverse mode: push cotangents from outputs back to inputs.
//
// The graph's nodes are numbered in creation order, which is a topological
// order (inputs are created before the ops that use them). So reverse mode
// is one loop over the reachable nodes sorted by decreasing number: each
// node's cotangent ḡ is complete when it is reached; for every input that
// requires grad (and leads to a wanted gradient) the rule's VJP term turns ḡ
// into ḡ · ∂y/∂a_i, which the sweep sums over the axes broadcasting
// stretched, down to the input's shape; the cotangents arriving at a node are
// added up (a node used twice gets the sum). No recursion: a 100,000-node
// chain costs 100,000 iterations.
#pragma once

#include <vector>

#include "autodiff/var.hpp"

namespace fluxion {

/// ∂(Σ_i ⟨output_grads_i, outputs_i⟩)/∂inputs. `output_grads` defaults to
/// ones (so for a scalar output this is the gradient). With create_graph the
/// returned cotangents are themselves differentiable (grad of grad).
/// An input that does not influence the outputs gets zeros.
template <class T>
std::vector<Var<T>> grad(const std::vector<Var<T>>& outputs, const std::vector<Var<T>>& inputs,
                         const std::vector<Var<T>>& output_grads = {}, bool create_graph = false);

/// Accumulate ∂loss/∂leaf into `leaf.grad()` for every leaf that requires
/// grad (training). `loss` must hold one element.
template <class T>
void backward(const Var<T>& loss);

}  // namespace fluxion
