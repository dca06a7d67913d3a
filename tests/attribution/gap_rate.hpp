// Empirical convergence rates by least squares on a log–log scale, written
// once for every attribution test that claims an order:
//   * log_log_slope(n, gap): the slope of log(gap) against log(n) — for a
//     Monte Carlo estimate with n samples, −½ when it is unbiased;
//   * convergence_order(h, error): the order p of error ≈ C·hᵖ, the slope of
//     log(error) against log(h) over at least 3 step sizes h.
//
// Why a fitted slope and not a ratio with doctest::Approx: Approx(2).epsilon(e)
// accepts |r − 2| < e·(1 + 2) (its hidden scale of 1), so a "15 %" window is
// really ±45 %, and one ratio of two resolutions says nothing about whether
// the error follows a power law at all. With ≥ 3 resolutions the fitted slope
// uses every point, and the tests state their band [p − δ, p + δ] on the
// order itself (first order: [0.8, 1.2]; second: [1.8, 2.2] unless argued
// otherwise where used), which no other order can enter.
#pragma once

#include <cmath>
#include <stdexcept>
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

/// The least-squares order p of error ≈ C·hᵖ from ≥ 3 pairs (h_i, error_i),
/// all positive (throws std::invalid_argument otherwise: a zero error has no
/// logarithm, and two points always fit a line exactly).
inline double convergence_order(const std::vector<double>& h, const std::vector<double>& error) {
  if (h.size() != error.size() || h.size() < 3)
    throw std::invalid_argument("convergence_order: need at least 3 (h, error) pairs");
  for (std::size_t i = 0; i < h.size(); ++i)
    if (!(h[i] > 0) || !(error[i] > 0)) throw std::invalid_argument("convergence_order: h and error must be > 0");
  return log_log_slope(h, error);
}

/// √(mean of squares).
inline double root_mean_square(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x * x;
  return std::sqrt(s / double(v.size()));
}

}  // namespace fluxion::attribution_testing
