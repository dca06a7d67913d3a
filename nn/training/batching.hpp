// Seeded, shuffled mini-batches. Each epoch visits every example exactly
// once in a random order (Fisher–Yates shuffle), cut into batches of
// `batch_size` (the last one may be smaller):
//
//   for i = n−1 … 1:  j = uniform{0, …, i};  swap(π_i, π_j)
//
// Randomness uses only raw std::mt19937_64 output (j = rng() mod (i+1),
// bias < 2⁻⁴⁰ for n < 2²⁴), so the same seed gives the same batches with
// every compiler — std::shuffle's algorithm is implementation-defined.
#pragma once

#include <random>
#include <vector>

namespace fluxion {

/// A random permutation of 0 … n−1.
std::vector<std::size_t> shuffled_indices(std::size_t n, std::mt19937_64& rng);

/// The permutation cut into consecutive batches of `batch_size` (>= 1).
std::vector<std::vector<std::size_t>> shuffled_batches(std::size_t n, std::size_t batch_size, std::mt19937_64& rng);

}  // namespace fluxion
