// One example at a time, each with its own random stream: the rule that makes
// an attribution of example i independent of the batch, chunk, resume point
// or MPI rank it is computed in (the CLI's streaming, issue 19), and that the
// Python package follows too, so both give the same numbers for one --seed.
//
//     seed_i = SplitMix64(seed + (i + 1)·0x9E3779B97F4A7C15)
//
// (SplitMix64: Steele, Lea & Flood 2014, "Fast splittable pseudorandom number
// generators"; the constant is 2^64/φ.)
#pragma once

#include <cstdint>

#include "attribution/method_registry.hpp"

namespace fluxion {

/// The seed of example i's random streams.
inline std::uint64_t example_seed(std::uint64_t seed, std::size_t index) {
  std::uint64_t z = seed + (std::uint64_t(index) + 1) * 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/// run_method on each example of x alone, seeded with example_seed(settings.seed, i)
/// (a baseline with one row per example gives each its row), the results joined.
template <class T>
MethodOutput<T> run_method_per_example(const MethodSpec<T>& method, const ExplainedOutput<T>& out, const Tensor<T>& x,
                                       const std::vector<std::size_t>& targets, const MethodSettings<T>& settings);

}  // namespace fluxion
