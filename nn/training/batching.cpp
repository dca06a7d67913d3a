#include "nn/training/batching.hpp"

#include <algorithm>
#include <stdexcept>

#include "autodiff/errors.hpp"

namespace fluxion {

std::vector<std::size_t> shuffled_indices(std::size_t n, std::mt19937_64& rng) {
  std::vector<std::size_t> order(n);
  for (std::size_t i = 0; i < n; ++i) order[i] = i;
  for (std::size_t i = n; i-- > 1;) {
    std::size_t j = static_cast<std::size_t>(rng() % (i + 1));
    std::swap(order[i], order[j]);
  }
  return order;
}

std::vector<std::vector<std::size_t>> shuffled_batches(std::size_t n, std::size_t batch_size, std::mt19937_64& rng) {
  if (batch_size == 0) throw ArgumentError("shuffled_batches: batch_size must be >= 1");
  std::vector<std::size_t> order = shuffled_indices(n, rng);
  std::vector<std::vector<std::size_t>> batches;
  for (std::size_t start = 0; start < n; start += batch_size)
    batches.emplace_back(order.begin() + start, order.begin() + std::min(n, start + batch_size));
  return batches;
}

}  // namespace fluxion
