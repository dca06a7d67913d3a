// Top-1 recovery of planted interactions and rank correlation with their
// true strengths (Janizek et al. 2021). See interaction_recovery.hpp.
#include "attribution/interaction_recovery.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "autodiff/errors.hpp"

namespace fluxion {

namespace {

/// S_ij = |Γ_ij + Γ_ji| / 2.
template <class T>
double pair_strength(const T* gamma, std::size_t d, std::size_t i, std::size_t j) {
  return std::fabs(static_cast<double>(gamma[i * d + j]) + static_cast<double>(gamma[j * d + i])) / 2;
}

/// The size d of the matrices in gammas [N, d, d].
template <class T>
std::size_t matrix_size(const Tensor<T>& gammas, const char* where) {
  const Shape shape = shape_of(gammas);
  if (shape.size() != 3 || shape[0] == 0 || shape[1] != shape[2] || shape[1] < 2)
    throw ShapeError(std::string(where) + ": interaction matrices must be [N, d, d] with N >= 1 and d >= 2, got " +
                     shape_str(shape));
  return shape[1];
}

void check_pair(const std::pair<int, int>& pair, std::size_t d, const char* where) {
  const auto [i, j] = pair;
  if (i < 0 || j < 0 || static_cast<std::size_t>(i) >= d || static_cast<std::size_t>(j) >= d || i == j)
    throw ArgumentError(std::string(where) + ": the pair (" + std::to_string(i) + ", " + std::to_string(j) +
                        ") is not two different features of " + std::to_string(d));
}

std::pair<int, int> ordered(const std::pair<int, int>& pair) {
  return {std::min(pair.first, pair.second), std::max(pair.first, pair.second)};
}

}  // namespace

template <class T>
std::pair<int, int> strongest_interaction(const T* gamma, std::size_t d) {
  if (d < 2) throw ShapeError("strongest_interaction: a pair needs d >= 2 features");
  std::pair<int, int> best{0, 1};
  double best_strength = -1;
  for (std::size_t i = 0; i < d; ++i)
    for (std::size_t j = i + 1; j < d; ++j) {
      const double s = pair_strength(gamma, d, i, j);
      if (std::isnan(s)) throw ArgumentError("strongest_interaction: the interaction matrix contains NaN");
      if (s > best_strength) {
        best_strength = s;
        best = {static_cast<int>(i), static_cast<int>(j)};
      }
    }
  return best;
}

template <class T>
InteractionRecovery top1_interaction_recovery(const Tensor<T>& gammas,
                                              const std::vector<std::pair<int, int>>& planted) {
  const std::size_t d = matrix_size(gammas, "top1_interaction_recovery"), examples = gammas.shape()[0];
  if (planted.size() != examples)
    throw ArgumentError("top1_interaction_recovery: " + std::to_string(planted.size()) + " planted pairs given for " +
                        std::to_string(examples) + " interaction matrices");
  for (const auto& pair : planted) check_pair(pair, d, "top1_interaction_recovery");
  InteractionRecovery result;
  for (std::size_t n = 0; n < examples; ++n) {
    result.found.push_back(strongest_interaction(gammas.data() + n * d * d, d));
    result.hits.push_back(result.found.back() == ordered(planted[n]) ? 1.0 : 0.0);
  }
  result.top1 = mean_and_standard_error(result.hits);
  return result;
}

template <class T>
std::vector<double> planted_strength_rank_correlation(const Tensor<T>& gammas,
                                                      const std::vector<std::pair<int, int>>& pairs,
                                                      const Tensor<double>& true_strengths) {
  const std::size_t d = matrix_size(gammas, "planted_strength_rank_correlation"), examples = gammas.shape()[0];
  if (pairs.size() < 2)
    throw ArgumentError("planted_strength_rank_correlation: a rank correlation needs at least 2 planted pairs");
  for (const auto& pair : pairs) check_pair(pair, d, "planted_strength_rank_correlation");
  if (shape_of(true_strengths) != Shape{examples, pairs.size()})
    throw ShapeError("planted_strength_rank_correlation: true strengths have shape " +
                     shape_str(shape_of(true_strengths)) + ", expected " + shape_str({examples, pairs.size()}));
  std::vector<double> rho;
  for (std::size_t n = 0; n < examples; ++n) {
    std::vector<double> found, truth;
    for (std::size_t p = 0; p < pairs.size(); ++p) {
      found.push_back(pair_strength(gammas.data() + n * d * d, d, static_cast<std::size_t>(pairs[p].first),
                                    static_cast<std::size_t>(pairs[p].second)));
      truth.push_back(true_strengths(n, p));
    }
    rho.push_back(spearman_correlation(found, truth));
  }
  return rho;
}

#define FLUXION_INSTANTIATE(T)                                                                                 \
  template std::pair<int, int> strongest_interaction(const T*, std::size_t);                                   \
  template InteractionRecovery top1_interaction_recovery(const Tensor<T>&, const std::vector<std::pair<int, int>>&); \
  template std::vector<double> planted_strength_rank_correlation(                                              \
      const Tensor<T>&, const std::vector<std::pair<int, int>>&, const Tensor<double>&);
FLUXION_INSTANTIATE(float)
FLUXION_INSTANTIATE(double)
#undef FLUXION_INSTANTIATE

}  // namespace fluxion
