// Sampling without replacement, as AGI draws its false classes and IG2 its
// references of other classes.
#pragma once
#include <cstddef>
#include <random>
#include <utility>
#include <vector>

namespace fluxion {

/// Partial Fisher–Yates: for i = 0 … count−1, swap items[i] with a uniform pick
/// of items[i …]; the first `count` items are then a uniform sample without
/// replacement, in draw order, and only they are kept (count ≤ items.size()).
inline void keep_random_sample(std::vector<std::size_t>& items, std::size_t count, std::mt19937_64& rng) {
  for (std::size_t i = 0; i < count; ++i) {
    std::uniform_int_distribution<std::size_t> pick(i, items.size() - 1);
    std::swap(items[i], items[pick(rng)]);
  }
  items.resize(count);
}

}  // namespace fluxion
