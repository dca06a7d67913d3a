// Quadrature rules on [0, 1] (see quadrature.hpp for the table of rules).
//
// Gauss rules are built in long double and rounded once at the end:
//  * Gauss–Legendre: Newton on the Legendre three-term recurrence.
//  * log-weighted Gauss: recurrence coefficients of the measure −ln t dt by
//    Gautschi's modified Chebyshev algorithm (well conditioned, unlike
//    ordinary moments), nodes = eigenvalues of the Jacobi matrix
//    (Golub–Welsch, Eigen), polished by Newton, weights = Christoffel numbers.
#include "attribution/quadrature.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <mutex>
#include <numbers>
#include <stdexcept>
#include <utility>

#include <Eigen/Eigenvalues>

#include "autodiff/errors.hpp"

namespace fluxion {
namespace {

using Real = long double;

/// Throws ArgumentError unless min_n ≤ n ≤ kMaxQuadratureNodes.
void check_count(const std::string& rule, int n, int min_n) {
  if (n < min_n || n > kMaxQuadratureNodes) {
    throw ArgumentError("quadrature '" + rule + "' needs between " + std::to_string(min_n) +
                        " and " + std::to_string(kMaxQuadratureNodes) + " nodes, got " +
                        std::to_string(n));
  }
}

/// n equal weights 1/n at nodes (i + offset)/n — the three Riemann sums.
Quadrature equal_weight_rule(std::string name, int n, double offset) {
  check_count(name, n, 1);
  Quadrature q{std::vector<double>(n), std::vector<double>(n, 1.0 / n), std::move(name)};
  for (int i = 0; i < n; ++i) q.nodes[i] = (i + offset) / n;
  return q;
}

// ---------------------------------------------------------------- Gauss–Legendre

/// (P_n(x), P_n'(x)) from (k+1) P_{k+1} = (2k+1) x P_k − k P_{k−1} and
/// P_n'(x) = n (x P_n − P_{n−1}) / (x² − 1).
std::pair<Real, Real> legendre_with_derivative(int n, Real x) {
  Real previous = 1, current = x;
  for (int k = 1; k < n; ++k) {
    const Real next = ((2 * k + 1) * x * current - k * previous) / (k + 1);
    previous = current;
    current = next;
  }
  return {current, n * (x * current - previous) / (x * x - 1)};
}

/// The k-th largest root of P_n (k = 1..n), Newton from x ≈ cos(π (k − ¼)/(n + ½)).
Real legendre_root(int n, int k) {
  Real x = std::cos(std::numbers::pi_v<Real> * (k - Real(0.25)) / (n + Real(0.5)));
  for (int iteration = 0; iteration < 100; ++iteration) {
    const auto [p, dp] = legendre_with_derivative(n, x);
    const Real step = p / dp;
    x -= step;
    if (std::fabs(step) <= 4 * std::numeric_limits<Real>::epsilon()) break;
  }
  return x;
}

// ---------------------------------------------------------------- log-weighted Gauss

/// Monic recurrence p_{k+1}(t) = (t − α_k) p_k(t) − β_k p_{k−1}(t), β_0 = ∫ dλ.
struct Recurrence {
  std::vector<Real> alpha, beta;
};

/// Monic shifted Legendre on [0,1]: a_l = ½, b_l = l² / (4 (4l² − 1)).
Real shifted_legendre_b(int l) { return Real(l) * l / (4 * (4 * Real(l) * l - 1)); }

/// Scaled modified moments m̃_l = 4^l ∫₀¹ (−ln t) p_l(t) dt for monic shifted
/// Legendre p_l:  m̃_0 = 1,  m̃_l = (−1)^l c_l / (l (l+1)),  c_l = 4^l (l!)² / (2l)!.
std::vector<Real> log_weight_modified_moments(int count) {
  std::vector<Real> moments(count);
  moments[0] = 1;
  Real c = 1;
  for (int l = 1; l < count; ++l) {
    c *= Real(2 * l) / (2 * l - 1);
    moments[l] = (l % 2 ? -c : c) / (Real(l) * (l + 1));
  }
  return moments;
}

/// Gautschi's modified Chebyshev algorithm for dλ = −ln t dt on (0,1), run on
/// σ̃_{k,l} = 4^{k+l} ∫ π_k p_l dλ (the scaling keeps every entry O(1)):
///   σ̃_{k,l} = σ̃_{k−1,l+1} − 4(α_{k−1} − ½) σ̃_{k−1,l} − 16 β_{k−1} σ̃_{k−2,l} + 16 b_l σ̃_{k−1,l−1}
///   α_k = ½ + σ̃_{k,k+1}/(4 σ̃_{k,k}) − σ̃_{k−1,k}/(4 σ̃_{k−1,k−1}),   β_k = σ̃_{k,k}/(16 σ̃_{k−1,k−1}).
Recurrence log_weight_recurrence(int n) {
  const int width = 2 * n;
  std::vector<Real> before(width + 1, 0), previous = log_weight_modified_moments(width);
  previous.push_back(0);
  std::vector<Real> current(width + 1, 0);
  Recurrence r{std::vector<Real>(n), std::vector<Real>(n)};
  r.alpha[0] = Real(0.5) + previous[1] / (4 * previous[0]);
  r.beta[0] = previous[0];
  for (int k = 1; k < n; ++k) {
    for (int l = k; l < width - k; ++l) {
      current[l] = previous[l + 1] - 4 * (r.alpha[k - 1] - Real(0.5)) * previous[l] -
                   16 * r.beta[k - 1] * before[l] + 16 * shifted_legendre_b(l) * previous[l - 1];
    }
    r.alpha[k] = Real(0.5) + current[k + 1] / (4 * current[k]) - previous[k] / (4 * previous[k - 1]);
    r.beta[k] = current[k] / (16 * previous[k - 1]);
    std::swap(before, previous);
    std::swap(previous, current);
  }
  return r;
}

/// Golub–Welsch, first half: the nodes are the eigenvalues of the Jacobi matrix
/// J = tridiag(√β_k, α_k, √β_k) (ascending, double precision).
std::vector<Real> jacobi_eigenvalues(const Recurrence& r) {
  const int n = static_cast<int>(r.alpha.size());
  Eigen::VectorXd diagonal(n), offdiagonal(std::max(n - 1, 0));
  for (int k = 0; k < n; ++k) diagonal[k] = static_cast<double>(r.alpha[k]);
  for (int k = 1; k < n; ++k) offdiagonal[k - 1] = static_cast<double>(std::sqrt(r.beta[k]));
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver;
  solver.computeFromTridiagonal(diagonal, offdiagonal, Eigen::EigenvaluesOnly);
  if (solver.info() != Eigen::Success) throw std::runtime_error("log_weighted: Jacobi eigenvalues did not converge");
  std::vector<Real> eigenvalues(n);
  for (int k = 0; k < n; ++k) eigenvalues[k] = solver.eigenvalues()[k];
  return eigenvalues;
}

/// Orthonormal polynomials p̂_k at t:  √β_{k+1} p̂_{k+1} = (t − α_k) p̂_k − √β_k p̂_{k−1},
/// p̂_0 = 1/√β_0. Returns q = √β_n p̂_n (∝ p_n), q', and Σ_{k<n} p̂_k(t)².
struct OrthonormalValues {
  Real q, dq, sum_of_squares;
};
OrthonormalValues orthonormal_at(const Recurrence& r, Real t) {
  const int n = static_cast<int>(r.alpha.size());
  Real p_prev = 0, dp_prev = 0, p = 1 / std::sqrt(r.beta[0]), dp = 0, sum = 0;
  for (int k = 0; k < n; ++k) {
    sum += p * p;
    const Real scale = k + 1 < n ? 1 / std::sqrt(r.beta[k + 1]) : Real(1);
    const Real root_beta = k > 0 ? std::sqrt(r.beta[k]) : Real(0);
    const Real p_next = ((t - r.alpha[k]) * p - root_beta * p_prev) * scale;
    const Real dp_next = (p + (t - r.alpha[k]) * dp - root_beta * dp_prev) * scale;
    p_prev = p, dp_prev = dp, p = p_next, dp = dp_next;
  }
  return {p, dp, sum};
}

/// Gauss rule of a measure from its recurrence: Jacobi eigenvalues polished by
/// Newton on p_n, weights = Christoffel numbers w_i = 1 / Σ_{k<n} p̂_k(t_i)²
/// (identical to Golub–Welsch's β_0 v_{0,i}², but accurate for tiny weights).
Quadrature gauss_from_recurrence(const Recurrence& r, std::string name) {
  const std::vector<Real> guesses = jacobi_eigenvalues(r);
  Quadrature q{{}, {}, std::move(name)};
  for (Real t : guesses) {
    for (int iteration = 0; iteration < 5; ++iteration) {
      const OrthonormalValues v = orthonormal_at(r, t);
      const Real step = v.q / v.dq;
      t -= step;
      if (std::fabs(step) <= 4 * std::numeric_limits<Real>::epsilon() * std::fabs(t)) break;
    }
    q.nodes.push_back(static_cast<double>(t));
    q.weights.push_back(static_cast<double>(1 / orthonormal_at(r, t).sum_of_squares));
  }
  return q;
}

}  // namespace

Quadrature riemann_left(int n) { return equal_weight_rule("riemann_left", n, 0.0); }
Quadrature riemann_right(int n) { return equal_weight_rule("riemann_right", n, 1.0); }
Quadrature riemann_midpoint(int n) { return equal_weight_rule("riemann_midpoint", n, 0.5); }

Quadrature trapezoid(int n) {
  check_count("trapezoid", n, 2);
  const double h = 1.0 / (n - 1);
  Quadrature q{std::vector<double>(n), std::vector<double>(n, h), "trapezoid"};
  for (int i = 0; i < n; ++i) q.nodes[i] = static_cast<double>(i) / (n - 1);
  q.weights.front() = q.weights.back() = h / 2;
  return q;
}

Quadrature captum_trapezoid(int n) {
  check_count("captum_trapezoid", n, 2);
  Quadrature q{std::vector<double>(n), std::vector<double>(n, 1.0 / n), "captum_trapezoid"};
  for (int i = 0; i < n; ++i) q.nodes[i] = static_cast<double>(i) / (n - 1);
  q.weights.front() = q.weights.back() = 0.5 / n;
  return q;
}

Quadrature inclusive_linspace(int n) {
  check_count("inclusive_linspace", n, 2);
  Quadrature q{std::vector<double>(n), std::vector<double>(n, 1.0 / n), "inclusive_linspace"};
  for (int i = 0; i < n; ++i) q.nodes[i] = static_cast<double>(i) / (n - 1);
  return q;
}

Quadrature gauss_legendre(int n) {
  check_count("gauss_legendre", n, 1);
  Quadrature q{std::vector<double>(n), std::vector<double>(n), "gauss_legendre"};
  for (int k = 1; k <= (n + 1) / 2; ++k) {
    const Real x = legendre_root(n, k);  // x > 0 (x = 0 for the middle root of odd n)
    const Real dp = legendre_with_derivative(n, x).second;
    const Real weight = 1 / ((1 - x * x) * dp * dp);  // half the [−1,1] weight 2/((1−x²)P_n'²)
    q.nodes[n - k] = static_cast<double>((1 + x) / 2);
    q.nodes[k - 1] = static_cast<double>((1 - x) / 2);
    q.weights[n - k] = q.weights[k - 1] = static_cast<double>(weight);
  }
  return q;
}

Quadrature log_weighted(int n) {
  check_count("log_weighted", n, 1);
  return gauss_from_recurrence(log_weight_recurrence(n), "log_weighted");
}

Quadrature ih_paper_grid(int k) {
  if (k < 2 || static_cast<long long>(k) * k > kMaxQuadratureNodes) {
    throw ArgumentError("ih_paper_grid needs 2 <= k <= 316 points per axis, got " + std::to_string(k));
  }
  const std::size_t count = static_cast<std::size_t>(k) * k;
  Quadrature q{{}, std::vector<double>(count, 1.0 / static_cast<double>(count)), "ih_paper_grid"};
  q.nodes.reserve(count);
  for (int i = 0; i < k; ++i) {
    const double alpha = static_cast<double>(i) / (k - 1);
    for (int j = 0; j < k; ++j) q.nodes.push_back(alpha * (static_cast<double>(j) / (k - 1)));
  }
  return q;
}

Quadrature path_explain_tf_grid(int n) {
  check_count("path_explain_tf_grid", n, 2);
  const long k = static_cast<long>(std::ceil(std::sqrt(static_cast<double>(n))));
  const long drawn = k * k;
  Quadrature q{{}, std::vector<double>(n, 1.0 / n), "path_explain_tf_grid"};
  q.nodes.reserve(n);
  for (int m = 0; m < n; ++m) {
    // numpy's linspace(0, k² − 1, n)[m] = m · (k² − 1)/(n − 1), then np.round (half to even).
    const double position = static_cast<double>(m) * (static_cast<double>(drawn - 1) / (n - 1));
    const long index = std::clamp(static_cast<long>(std::nearbyint(position)), 0L, drawn - 1);
    const double a = static_cast<double>(index / k) / static_cast<double>(k - 1);
    const double b = static_cast<double>(index % k) / static_cast<double>(k - 1);
    q.nodes.push_back(a * b);
  }
  return q;
}

namespace {

Quadrature build_quadrature(const std::string& name, int n) {
  if (name == "riemann_left") return riemann_left(n);
  if (name == "riemann_right") return riemann_right(n);
  if (name == "riemann_midpoint") return riemann_midpoint(n);
  if (name == "trapezoid") return trapezoid(n);
  if (name == "gauss_legendre") return gauss_legendre(n);
  if (name == "log_weighted") return log_weighted(n);
  if (name == "captum_trapezoid") return captum_trapezoid(n);
  if (name == "inclusive_linspace") return inclusive_linspace(n);
  throw ArgumentError("unknown quadrature '" + name +
                      "' (expected riemann_left, riemann_right, riemann_midpoint, trapezoid, "
                      "gauss_legendre, log_weighted, captum_trapezoid or inclusive_linspace)");
}

}  // namespace

// A rule depends only on (name, n), and the Gauss rules cost thousands of
// long-double Newton steps (≈ 1 ms for 50 Gauss–Legendre nodes, as long as a
// small IG call), so rules are built once and kept. The cache is bounded:
// beyond 256 distinct rules it starts over.
Quadrature make_quadrature(const std::string& name, int n) {
  static std::mutex mutex;
  static std::map<std::pair<std::string, int>, Quadrature> built;
  const std::lock_guard<std::mutex> lock(mutex);
  const auto key = std::make_pair(name, n);
  if (auto found = built.find(key); found != built.end()) return found->second;
  Quadrature q = build_quadrature(name, n);  // throws for an unknown name or a bad n: nothing is stored
  if (built.size() >= 256) built.clear();
  built.emplace(key, q);
  return q;
}

}  // namespace fluxion
