// Function<T>: a differentiable function of one tensor, x ↦ f(x), written
// with Var ops. The transforms (transforms.hpp) take and return these; a
// model is one (nn's as_function), and so is an attribution method's target.
#pragma once

#include <functional>

#include "autodiff/var.hpp"

namespace fluxion {

template <class T>
using Function = std::function<Var<T>(const Var<T>&)>;

}  // namespace fluxion
