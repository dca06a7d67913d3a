// PyTorch's default initialisation of Linear and Conv2d, seeded.
//
// torch.nn.Linear / Conv2d call kaiming_uniform_(weight, a = √5), which for
// fan_in = in_features (Linear) or in_channels·kh·kw (Conv2d) draws
//
//     w ~ U(−b, b),  b = gain·√(3 / fan_in),  gain = √(2 / (1 + a²)) = √(1/3)
//       ⇒ b = 1/√fan_in,
//
// and the bias from the same U(−1/√fan_in, 1/√fan_in)
// (He et al. 2015, "Delving Deep into Rectifiers", with PyTorch's a = √5).
#pragma once

#include <cstdint>
#include <random>

#include "autodiff/tensor.hpp"

namespace fluxion {

/// A tensor of `shape` with entries drawn uniformly from [−bound, bound).
/// Same rng state → same tensor on every platform (uses only rng() bits).
template <class T>
Tensor<T> uniform_tensor(const Shape& shape, T bound, std::mt19937_64& rng);

/// The bound 1/√fan_in of PyTorch's default Linear/Conv2d init.
double default_init_bound(std::size_t fan_in);

}  // namespace fluxion
