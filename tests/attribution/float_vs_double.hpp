// Float32 against float64 for the attribution tests: the same model in both
// precisions (the double twin holds the float weights exactly, so the two
// compute the same function and differ only by rounding), and the measured
// difference relative to the double result.
//
// Tolerances built on these are stated in float32 units: u = 2⁻²⁴ ≈ 6.0e-8,
// the unit roundoff of float32 (round to nearest).
#pragma once

#include <algorithm>
#include <cmath>

#include "attribution_models.hpp"

namespace fluxion::attribution_testing {

/// 2⁻²⁴: float32's unit roundoff.
inline const double kFloat32Roundoff = std::ldexp(1.0, -24);

inline Tensor<double> exact_double(const Tensor<float>& t) {
  Tensor<double> r = Tensor<double>::from_shape(shape_of(t));
  for (std::size_t i = 0; i < t.size(); ++i) r.data()[i] = double(t.data()[i]);
  return r;
}

/// The same MLP in double, with exactly the float weights.
inline SoftplusMlp<double> to_double(const SoftplusMlp<float>& m) {
  SoftplusMlp<double> d;
  d.w1 = exact_double(m.w1), d.b1 = exact_double(m.b1), d.w2 = exact_double(m.w2), d.b2 = exact_double(m.b2);
  d.w3 = exact_double(m.w3), d.b3 = exact_double(m.b3);
  d.beta = double(m.beta);
  return d;
}

/// The same CNN in double, with exactly the float weights.
inline SoftplusCnn<double> to_double(const SoftplusCnn<float>& m) {
  SoftplusCnn<double> d;
  d.w_conv = exact_double(m.w_conv), d.b_conv = exact_double(m.b_conv);
  d.w_head = exact_double(m.w_head), d.b_head = exact_double(m.b_head);
  d.beta = double(m.beta);
  return d;
}

/// The CNN up to its last Linear layer (the representation IG2 walks in) …
template <class T>
Function<T> cnn_features(const SoftplusCnn<T>& m) {
  return [m](const Var<T>& x) {
    Var<T> c = add(conv2d(x, Var<T>(m.w_conv), kernels::Conv2dParams{1, 1}), Var<T>(m.b_conv));
    return flatten(avg_pool2d(softplus(c, m.beta), kernels::PoolParams{2, 2}));
  };
}
/// … and the Linear layer itself.
template <class T>
Function<T> cnn_head(const SoftplusCnn<T>& m) {
  return [m](const Var<T>& h) { return affine(h, m.w_head, m.b_head); };
}

/// The float32 tolerance of these tests, relative to the double result's
/// largest entry:  (m + K) · u · 8.
///   m: rounding steps in one model derivative — a chain of dot products of
///      length ≤ n (Higham: relative error ≤ γ_n ≈ n·u each) plus a few ulps
///      per element-wise activation, e.g. 3 layers of fan-in ≤ 12: m ≈ 3·12 + 12;
///   K: the terms summed per attribution value (quadrature nodes, path steps,
///      samples): recursive summation adds ≤ (K − 1)·u of their absolute sum;
///   8: how far the absolute sum of the terms may exceed the largest result
///      (cancellation between terms).
inline double float32_bound(double derivative_ops, double terms) {
  return (derivative_ops + terms) * kFloat32Roundoff * 8;
}

/// max_i |a32_i − a64_i| / max_i |a64_i| (0 / 0 = 0).
template <class A32, class A64>
double max_relative_difference(const A32& a32, const A64& a64) {
  double diff = 0, scale = 0;
  auto p = a64.begin();
  for (auto v : a32) {
    diff = std::max(diff, std::fabs(double(v) - double(*p)));
    scale = std::max(scale, std::fabs(double(*p)));
    ++p;
  }
  return scale > 0 ? diff / scale : diff;
}

}  // namespace fluxion::attribution_testing
