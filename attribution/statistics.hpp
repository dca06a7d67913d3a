// Summary statistics for reporting metrics over a set of explained examples.
//
// Every metric is reported as mean ± standard error over the n examples
// (shared/papers/baselines-and-metrics.md):
//     mean  x̄ = (1/n) Σ_k x_k
//     s²      = (1/(n−1)) Σ_k (x_k − x̄)²        (unbiased sample variance)
//     s.e.    = s / √n
// For 0/1 outcomes (top-1 hits) this is √(p(1−p)/(n−1)) with p the hit rate.
//
// Spearman's rank correlation ρ (used for "rank correlation with the
// ground-truth pair strength", Janizek et al. 2021) is the Pearson
// correlation of the ranks, ties getting the average of the ranks they span.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace fluxion {

struct MeanAndError {
  double mean = 0;
  double standard_error = 0;  // NaN when count == 1 (no spread to estimate)
  std::size_t count = 0;
};

/// Mean and standard error of the mean (ArgumentError on an empty list or a
/// non-finite value).
MeanAndError mean_and_standard_error(const std::vector<double>& values);

/// "0.1234 ± 0.0056 (n = 10)" with `digits` digits after the decimal point.
std::string to_string(const MeanAndError& m, int digits = 4);

/// Ranks 1 … n of the values, ties sharing the average rank (e.g. 1, 2.5, 2.5, 4).
std::vector<double> average_ranks(const std::vector<double>& values);

/// Spearman's ρ of two equally long lists (n ≥ 2). If either list is
/// constant the correlation is undefined and NaN is returned.
double spearman_correlation(const std::vector<double>& a, const std::vector<double>& b);

}  // namespace fluxion
