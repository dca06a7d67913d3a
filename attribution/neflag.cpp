// NeFLAG (Li et al., IJCAI 2023) as reconstructed in neflag.hpp — read the
// RECONSTRUCTED block there before trusting any default. The N·n sphere
// points are rows of one tensor; each search step is one batched gradient
// call, and the unit normals n̂ are kept in double so that the sphere does
// not drift with rounding.
#include "attribution/neflag.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <random>
#include <string>

#include "attribution/quadrature.hpp"
#include "autodiff/errors.hpp"

namespace fluxion {

NeFLAGAggregation parse_neflag_aggregation(const std::string& name) {
  if (name == "flux_vector") return NeFLAGAggregation::flux_vector;
  if (name == "feature_flux") return NeFLAGAggregation::feature_flux;
  if (name == "field") return NeFLAGAggregation::field;
  throw ArgumentError("neflag: unknown aggregation '" + name + "' (expected flux_vector, feature_flux or field)");
}

NeFLAGSearch parse_neflag_search(const std::string& name) {
  if (name == "random") return NeFLAGSearch::random;
  if (name == "guided") return NeFLAGSearch::guided;
  if (name == "plain") return NeFLAGSearch::plain;
  throw ArgumentError("neflag: unknown search '" + name + "' (expected random, guided or plain)");
}

namespace {

void check_options(const NeFLAGOptions& o) {
  if (o.points < 1) throw ArgumentError("neflag: points must be >= 1");
  if (!(o.radius > 0) || !std::isfinite(o.radius))
    throw ArgumentError("neflag: radius must be a finite number > 0, got " + std::to_string(o.radius));
  if (o.search_steps < 0) throw ArgumentError("neflag: search_steps must be >= 0, got " + std::to_string(o.search_steps));
  if (!(o.angular_step > 0) || !std::isfinite(o.angular_step))
    throw ArgumentError("neflag: angular_step must be a finite number > 0, got " + std::to_string(o.angular_step));
  if (o.max_draws_per_point < 1) throw ArgumentError("neflag: max_draws_per_point must be >= 1");
}

double dot(const double* a, const double* b, std::size_t d) {
  double s = 0;
  for (std::size_t i = 0; i < d; ++i) s += a[i] * b[i];
  return s;
}

/// A random unit normal u/‖u‖, u ~ N(0, I): uniform on the sphere.
void random_unit_normal(double* u, std::size_t d, std::mt19937_64& rng, std::normal_distribution<double>& gaussian) {
  double norm = 0;
  while (norm == 0) {
    for (std::size_t i = 0; i < d; ++i) u[i] = gaussian(rng);
    norm = std::sqrt(dot(u, u, d));
  }
  for (std::size_t i = 0; i < d; ++i) u[i] /= norm;
}

/// One descent step of f on the sphere for the unit normal nh with field g:
/// rotate nh along the great circle towards −ĝ by min(step, ∠(nh, −ĝ)); when
/// the remaining angle is within reach, land on −ĝ exactly.
void rotate_towards_inflow(double* nh, const double* g, std::size_t d, double step) {
  const double g_norm = std::sqrt(dot(g, g, d));
  if (g_norm == 0) return;                         // no field: nowhere to go
  const double phi = dot(g, nh, d);                // flux density F·n̂
  std::vector<double> tangential(d);               // g − (g·n̂) n̂
  for (std::size_t i = 0; i < d; ++i) tangential[i] = g[i] - phi * nh[i];
  const double t_norm = std::sqrt(dot(tangential.data(), tangential.data(), d));
  // ∠(n̂, −ĝ) from its sine |g_t| and cosine −φ (atan2 stays accurate near 0, acos does not).
  const double angle = std::atan2(t_norm, -phi);
  if (angle <= step) {
    for (std::size_t i = 0; i < d; ++i) nh[i] = -g[i] / g_norm;
    return;
  }
  const double c = std::cos(step), s = std::sin(step);
  for (std::size_t i = 0; i < d; ++i) nh[i] = c * nh[i] - s * tangential[i] / t_norm;
  const double norm = std::sqrt(dot(nh, nh, d));   // 1 up to rounding; renormalise anyway
  for (std::size_t i = 0; i < d; ++i) nh[i] /= norm;
}

/// Points x_e + ε n̂_p for every row p (row p belongs to example p / per_example).
template <class T>
Tensor<T> sphere_points(const Tensor<T>& x, const std::vector<double>& normals, std::size_t per_example,
                        double radius, const Shape& shape) {
  Tensor<T> z = Tensor<T>::from_shape(shape);
  const std::size_t rows = shape[0], d = z.size() / rows;
  for (std::size_t p = 0; p < rows; ++p) {
    const T* xe = x.data() + (p / per_example) * d;
    for (std::size_t i = 0; i < d; ++i) z.data()[p * d + i] = xe[i] + static_cast<T>(radius * normals[p * d + i]);
  }
  return z;
}

/// Adds one accepted point's term to `sum` (the aggregation of neflag.hpp).
void aggregate(std::vector<double>& sum, const double* g, const double* nh, double phi, std::size_t d,
               NeFLAGAggregation aggregation) {
  for (std::size_t i = 0; i < d; ++i) {
    switch (aggregation) {
      case NeFLAGAggregation::flux_vector: sum[i] += phi * nh[i]; break;
      case NeFLAGAggregation::feature_flux: sum[i] -= g[i] * nh[i]; break;
      case NeFLAGAggregation::field: sum[i] += g[i]; break;
    }
  }
}

/// The random search: per example, random points on the sphere in rounds,
/// each round one batched gradient call over the examples still short of n
/// negative-flux points; draws are accepted in order, so an example's result
/// depends only on its own stream (seed, e).
template <class T>
NeFLAGResult<T> random_negative_flux(const ExplainedOutput<T>& field, const Tensor<T>& x,
                                     const std::vector<std::size_t>& classes, const NeFLAGOptions& options) {
  const std::size_t n = x.shape()[0], d = x.size() / n, k = options.points;
  const std::size_t max_draws = options.max_draws_per_point * k;
  std::vector<std::mt19937_64> streams;
  std::vector<std::normal_distribution<double>> gaussians(n, std::normal_distribution<double>(0.0, 1.0));
  for (std::size_t e = 0; e < n; ++e) {
    std::seed_seq seq{static_cast<std::uint32_t>(options.seed), static_cast<std::uint32_t>(options.seed >> 32),
                      static_cast<std::uint32_t>(e), static_cast<std::uint32_t>(std::uint64_t(e) >> 32)};
    streams.emplace_back(seq);
  }
  NeFLAGResult<T> result;
  result.attributions = filled<T>(shape_of(x), T(0));
  result.negative_points.assign(n, 0);
  std::vector<std::size_t> draws(n, 0);
  std::vector<std::vector<double>> sums(n, std::vector<double>(d, 0.0));
  std::vector<double> g(d);
  while (true) {
    // This round: k draws for every example still short of k points (and of its cap).
    std::vector<std::size_t> owner;  // example of each drawn row
    std::vector<double> normals;
    for (std::size_t e = 0; e < n; ++e) {
      if (result.negative_points[e] >= k) continue;
      const std::size_t round = std::min(k, max_draws - draws[e]);
      for (std::size_t r = 0; r < round; ++r) {
        owner.push_back(e);
        normals.resize(normals.size() + d);
        random_unit_normal(normals.data() + normals.size() - d, d, streams[e], gaussians[e]);
      }
      draws[e] += round;
    }
    if (owner.empty()) break;
    Shape shape = shape_of(x);
    shape[0] = owner.size();
    Tensor<T> z = Tensor<T>::from_shape(shape);
    std::vector<std::size_t> row_classes(owner.size());
    for (std::size_t p = 0; p < owner.size(); ++p) {
      const T* xe = x.data() + owner[p] * d;
      for (std::size_t i = 0; i < d; ++i) z.data()[p * d + i] = xe[i] + static_cast<T>(options.radius * normals[p * d + i]);
      row_classes[p] = classes[owner[p]];
    }
    const Tensor<T> grads = output_gradients(field, z, row_classes);
    result.gradient_evaluations += owner.size();
    for (std::size_t p = 0; p < owner.size(); ++p) {
      const std::size_t e = owner[p];
      if (result.negative_points[e] >= k) continue;  // found its k in this round already
      const double* nh = normals.data() + p * d;
      for (std::size_t i = 0; i < d; ++i) g[i] = static_cast<double>(grads.data()[p * d + i]);
      const double phi = dot(g.data(), nh, d);
      if (!(phi < 0)) continue;
      ++result.negative_points[e];
      aggregate(sums[e], g.data(), nh, phi, d, options.aggregation);
    }
    bool more = false;
    for (std::size_t e = 0; e < n; ++e) more = more || (result.negative_points[e] < k && draws[e] < max_draws);
    if (!more) break;
  }
  for (std::size_t e = 0; e < n; ++e)
    if (result.negative_points[e] > 0)
      for (std::size_t i = 0; i < d; ++i)
        result.attributions.data()[e * d + i] = static_cast<T>(sums[e][i] / static_cast<double>(result.negative_points[e]));
  return result;
}

}  // namespace

template <class T>
NeFLAGResult<T> neflag(const ExplainedOutput<T>& out, const Tensor<T>& x, const std::vector<std::size_t>& targets,
                       const NeFLAGOptions& options) {
  const std::size_t n = example_count(x, "neflag: x");
  check_options(options);
  const std::vector<std::size_t> classes = resolve_targets(out, x, targets);
  ExplainedOutput<T> field = out;
  if (options.output) field.kind = *options.output;
  if (options.search == NeFLAGSearch::random) return random_negative_flux(field, x, classes, options);

  const std::size_t k = options.points, P = n * k, d = x.size() / n;
  Shape shape = shape_of(x);
  shape[0] = P;
  std::vector<std::size_t> point_classes(P);
  for (std::size_t p = 0; p < P; ++p) point_classes[p] = classes[p / k];

  // Random unit normals u/‖u‖, u ~ N(0, I): uniform on the sphere.
  std::mt19937_64 rng(options.seed);
  std::normal_distribution<double> gaussian(0.0, 1.0);
  std::vector<double> normals(P * d);
  for (std::size_t p = 0; p < P; ++p) random_unit_normal(normals.data() + p * d, d, rng, gaussian);

  NeFLAGResult<T> result;
  std::vector<double> g(d);
  const int steps = options.search == NeFLAGSearch::guided ? options.search_steps : 0;
  for (int step = 0; step < steps; ++step) {
    const Tensor<T> grads = output_gradients(field, sphere_points(x, normals, k, options.radius, shape), point_classes);
    result.gradient_evaluations += P;
    for (std::size_t p = 0; p < P; ++p) {
      for (std::size_t i = 0; i < d; ++i) g[i] = static_cast<double>(grads.data()[p * d + i]);
      rotate_towards_inflow(normals.data() + p * d, g.data(), d, options.angular_step);
    }
  }

  const Tensor<T> grads = output_gradients(field, sphere_points(x, normals, k, options.radius, shape), point_classes);
  result.gradient_evaluations += P;
  result.attributions = filled<T>(shape_of(x), T(0));
  result.negative_points.assign(n, 0);
  std::vector<double> sum(d);
  for (std::size_t e = 0; e < n; ++e) {
    std::fill(sum.begin(), sum.end(), 0.0);
    for (std::size_t p = e * k; p < (e + 1) * k; ++p) {
      const double* nh = normals.data() + p * d;
      for (std::size_t i = 0; i < d; ++i) g[i] = static_cast<double>(grads.data()[p * d + i]);
      const double phi = dot(g.data(), nh, d);
      if (!(phi < 0)) continue;  // only inflow is aggregated
      ++result.negative_points[e];
      aggregate(sum, g.data(), nh, phi, d, options.aggregation);
    }
    for (std::size_t i = 0; i < d; ++i) result.attributions.data()[e * d + i] = static_cast<T>(sum[i] / k);
  }
  return result;
}

template <class T>
double sphere_total_flux(const ExplainedOutput<T>& out, const Tensor<T>& x, std::size_t target, double radius,
                         std::size_t resolution) {
  const std::size_t d = x.size();
  if (d != 2 && d != 3)
    throw ShapeError("sphere_total_flux: the quadrature covers circles and spheres (2 or 3 values), got an input of " +
                     shape_str(shape_of(x)));
  if (!(radius > 0) || !std::isfinite(radius) || resolution < 2)
    throw ArgumentError("sphere_total_flux: need radius > 0 and resolution >= 2");

  // Unit normals and surface weights of the rule.
  std::vector<double> normals, weights;
  const double two_pi = 2 * std::numbers::pi;
  if (d == 2) {
    for (std::size_t m = 0; m < resolution; ++m) {
      const double theta = two_pi * static_cast<double>(m) / static_cast<double>(resolution);
      normals.insert(normals.end(), {std::cos(theta), std::sin(theta)});
      weights.push_back(two_pi * radius / static_cast<double>(resolution));
    }
  } else {
    const Quadrature gl = gauss_legendre(static_cast<int>(resolution));
    const std::size_t azimuths = 2 * resolution;
    for (std::size_t a = 0; a < gl.nodes.size(); ++a) {
      const double u = 2 * gl.nodes[a] - 1, ring = std::sqrt(std::max(0.0, 1 - u * u));  // u = cos θ
      for (std::size_t b = 0; b < azimuths; ++b) {
        const double az = two_pi * static_cast<double>(b) / static_cast<double>(azimuths);
        normals.insert(normals.end(), {ring * std::cos(az), ring * std::sin(az), u});
        weights.push_back(radius * radius * 2 * gl.weights[a] * two_pi / static_cast<double>(azimuths));
      }
    }
  }
  const std::size_t M = weights.size();
  Shape shape = shape_of(x);
  shape.insert(shape.begin(), M);
  Tensor<T> batch_x = x;
  Shape one = shape_of(x);
  one.insert(one.begin(), 1);
  batch_x.reshape(one);
  const Tensor<T> grads = output_gradients(out, sphere_points(batch_x, normals, M, radius, shape),
                                           std::vector<std::size_t>(M, target));
  double flux = 0;
  for (std::size_t m = 0; m < M; ++m) {
    double phi = 0;
    for (std::size_t i = 0; i < d; ++i) phi += static_cast<double>(grads.data()[m * d + i]) * normals[m * d + i];
    flux += weights[m] * phi;
  }
  return flux;
}

#define FLUXION_INSTANTIATE(T)                                                                              \
  template NeFLAGResult<T> neflag(const ExplainedOutput<T>&, const Tensor<T>&, const std::vector<std::size_t>&, \
                                  const NeFLAGOptions&);                                                    \
  template double sphere_total_flux(const ExplainedOutput<T>&, const Tensor<T>&, std::size_t, double, std::size_t);
FLUXION_INSTANTIATE(float)
FLUXION_INSTANTIATE(double)
#undef FLUXION_INSTANTIATE

}  // namespace fluxion
