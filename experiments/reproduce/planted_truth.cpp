// The exact Shapley interaction index of a planted pair (see planted_truth.hpp).
#include "experiments/reproduce/planted_truth.hpp"

#include <cmath>

namespace fluxion::experiments {

double planted_pair_shapley_index(InteractionKind kind, double a, double b) {
  return interaction_term(kind, a, b) - interaction_term(kind, a, 0) - interaction_term(kind, 0, b) +
         interaction_term(kind, 0, 0);
}

std::pair<int, int> strongest_planted_pair_by_shapley(const InteractionDataset& data, InteractionKind kind,
                                                       int sample) {
  std::size_t best = 0;
  double best_size = -1;
  for (std::size_t p = 0; p < data.pairs.size(); ++p) {
    const auto [i, j] = data.pairs[p];
    const double size = std::abs(planted_pair_shapley_index(kind, data.x(sample, i), data.x(sample, j)));
    if (size > best_size) best = p, best_size = size;
  }
  return data.pairs[best];
}

}  // namespace fluxion::experiments
