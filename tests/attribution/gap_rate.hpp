// Least-squares slope of log(gap) against log(n): the empirical convergence
// order of a Monte Carlo estimate (−½ for an unbiased one).
#pragma once

#include <cmath>
#include <vector>

namespace fluxion::attribution_testing {

inline double log_log_slope(const std::vector<double>& n, const std::vector<double>& gap) {
  double mx = 0, my = 0;
  for (std::size_t i = 0; i < n.size(); ++i) mx += std::log(n[i]), my += std::log(gap[i]);
  mx /= double(n.size());
  my /= double(n.size());
  double sxy = 0, sxx = 0;
  for (std::size_t i = 0; i < n.size(); ++i) {
    sxy += (std::log(n[i]) - mx) * (std::log(gap[i]) - my);
    sxx += (std::log(n[i]) - mx) * (std::log(n[i]) - mx);
  }
  return sxy / sxx;
}

/// √(mean of squares).
inline double root_mean_square(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x * x;
  return std::sqrt(s / double(v.size()));
}

}  // namespace fluxion::attribution_testing
