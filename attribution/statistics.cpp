// Mean ± standard error and Spearman's rank correlation. See statistics.hpp.
#include "attribution/statistics.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>

#include "autodiff/errors.hpp"

namespace fluxion {

MeanAndError mean_and_standard_error(const std::vector<double>& values) {
  if (values.empty()) throw ArgumentError("mean_and_standard_error: the list of values is empty");
  for (double v : values)
    if (!std::isfinite(v)) throw ArgumentError("mean_and_standard_error: the values contain a non-finite number");
  const double n = static_cast<double>(values.size());
  const double mean = std::accumulate(values.begin(), values.end(), 0.0) / n;
  MeanAndError m;
  m.mean = mean;
  m.count = values.size();
  if (values.size() == 1) {
    m.standard_error = std::numeric_limits<double>::quiet_NaN();
    return m;
  }
  // Two-pass variance: subtract the mean first so large offsets do not cancel.
  double squares = 0;
  for (double v : values) squares += (v - mean) * (v - mean);
  m.standard_error = std::sqrt(squares / (n - 1) / n);
  return m;
}

std::string to_string(const MeanAndError& m, int digits) {
  char buffer[128];
  std::snprintf(buffer, sizeof buffer, "%.*f ± %.*f (n = %zu)", digits, m.mean, digits, m.standard_error, m.count);
  return buffer;
}

std::vector<double> average_ranks(const std::vector<double>& values) {
  const std::size_t n = values.size();
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return values[a] < values[b]; });
  std::vector<double> ranks(n);
  // Each run of equal values [start, end) shares the mean of ranks start+1 … end.
  for (std::size_t start = 0; start < n;) {
    std::size_t end = start + 1;
    while (end < n && values[order[end]] == values[order[start]]) ++end;
    const double shared = 0.5 * static_cast<double>(start + 1 + end);
    for (std::size_t k = start; k < end; ++k) ranks[order[k]] = shared;
    start = end;
  }
  return ranks;
}

double spearman_correlation(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size())
    throw ArgumentError("spearman_correlation: the lists have different lengths (" + std::to_string(a.size()) +
                        " and " + std::to_string(b.size()) + ")");
  if (a.size() < 2) throw ArgumentError("spearman_correlation: needs at least 2 pairs of values");
  const std::vector<double> ra = average_ranks(a), rb = average_ranks(b);
  const double mean = 0.5 * static_cast<double>(a.size() + 1);  // mean rank, ties included
  double cov = 0, va = 0, vb = 0;
  for (std::size_t k = 0; k < a.size(); ++k) {
    cov += (ra[k] - mean) * (rb[k] - mean);
    va += (ra[k] - mean) * (ra[k] - mean);
    vb += (rb[k] - mean) * (rb[k] - mean);
  }
  if (va == 0 || vb == 0) return std::numeric_limits<double>::quiet_NaN();
  return cov / std::sqrt(va * vb);
}

}  // namespace fluxion
