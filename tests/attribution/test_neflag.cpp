// Tests for attribution/neflag: NeFLAG (Li et al., IJCAI 2023) as
// reconstructed in neflag.hpp. The checks the notes require of any sound
// reconstruction: a linear model's attribution is parallel to w; a tiny
// sphere points it along ∇f(x); the flux quadrature obeys the divergence
// theorem — total flux through a circle (sphere) equals the integral of
// trace(∇²f) over the disk (ball), the Laplacian taken from the engine's exact
// hessian() and integrated by a separate polar (spherical) Gauss rule; plus
// dummy feature, implementation invariance and seed reproducibility.
#include <doctest/doctest.h>

#include <cmath>
#include <numbers>

#include "attribution/neflag.hpp"
#include "attribution/quadrature.hpp"
#include "attribution_models.hpp"
#include "float_vs_double.hpp"
#include "autodiff/errors.hpp"

using namespace fluxion;
using namespace fluxion::attribution_testing;

namespace {

double cosine(const double* a, const double* b, std::size_t d) {
  double ab = 0, aa = 0, bb = 0;
  for (std::size_t i = 0; i < d; ++i) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / std::sqrt(aa * bb);
}

/// f(x) = w·x as one logit [N, 1].
Function<double> linear_logit(const Tensor<double>& w) {
  return [w](const Var<double>& x) {
    Tensor<double> column = w;
    column.reshape({w.size(), 1});
    return matmul(x, Var<double>(column));
  };
}

/// Laplacian trace(∇²f)(p) of the explained output of one point p (d values), from hessian().
double laplacian(const ExplainedOutput<double>& out, std::size_t target, const Tensor<double>& p) {
  const std::size_t d = p.size();
  const Function<double> f = [&](const Var<double>& v) {
    return explained_output(out, reshape(v, Shape{1, d}), {target});
  };
  const Tensor<double> H = hessian(f, p);
  double trace = 0;
  for (std::size_t i = 0; i < d; ++i) trace += H(i, i);
  return trace;
}

}  // namespace

TEST_CASE("neflag: a linear model's attribution is parallel to w (guided search); plain sampling is not") {
  const std::size_t d = 50;
  const Tensor<double> w = seeded_uniform<double>({d}, 1, -1.0, 1.0);
  const Tensor<double> x = seeded_uniform<double>({2, d}, 2, 0.0, 1.0);
  const ExplainedOutput<double> out{linear_logit(w)};
  NeFLAGOptions options;
  options.search = NeFLAGSearch::guided;
  options.output = OutputKind::logit;  // one class: its probability is constant
  for (NeFLAGAggregation aggregation : {NeFLAGAggregation::flux_vector, NeFLAGAggregation::field}) {
    options.aggregation = aggregation;
    const NeFLAGResult<double> r = neflag(out, x, {0, 0}, options);
    for (std::size_t e = 0; e < 2; ++e) {
      const double cos = cosine(r.attributions.data() + e * d, w.data(), d);
      CHECK(cos >= 0.999);            // the bound; measured 1 − 1e-16: every point lands on −ŵ
      CHECK(cos >= 1 - 1e-12);
      CHECK(r.negative_points[e] == 20);
    }
  }
  // Random points in d = 400 are almost orthogonal to w: cos ≈ √(n/d)-ish, far from 1.
  const std::size_t D = 400;
  const Tensor<double> W = seeded_uniform<double>({D}, 3, -1.0, 1.0);
  NeFLAGOptions plain;
  plain.output = OutputKind::logit;
  plain.search = NeFLAGSearch::plain;
  const NeFLAGResult<double> p = neflag(ExplainedOutput<double>{linear_logit(W)}, seeded_uniform<double>({1, D}, 4), {0}, plain);
  const double cos_plain = cosine(p.attributions.data(), W.data(), D);
  MESSAGE("plain sampling, d = 400, n = 20: cos(A, w) = " << cos_plain << " (guided: 1)");
  CHECK(cos_plain < 0.6);
  CHECK(p.gradient_evaluations == 20);
}

TEST_CASE("neflag: on a two-class linear softmax the probability's field is uniform in direction, so A ∥ W₀ − W₁") {
  const std::size_t d = 30;
  const Tensor<double> w = seeded_uniform<double>({2, d}, 5, -1.0, 1.0), b = seeded_uniform<double>({2}, 6);
  const ExplainedOutput<double> out{[w, b](const Var<double>& x) { return affine(x, w, b); }};
  const Tensor<double> x = seeded_uniform<double>({1, d}, 7, 0.0, 1.0);
  NeFLAGOptions guided;  // default output: the probability
  guided.search = NeFLAGSearch::guided;
  const NeFLAGResult<double> r = neflag(out, x, {0}, guided);
  std::vector<double> diff(d);
  for (std::size_t i = 0; i < d; ++i) diff[i] = w(0, i) - w(1, i);  // ∇p₀ = p₀p₁ (W₀ − W₁)
  CHECK(cosine(r.attributions.data(), diff.data(), d) >= 0.999);
}

TEST_CASE("neflag: on a tiny sphere the attribution points along ∇f(x)") {
  const SoftplusMlp<double> mlp = SoftplusMlp<double>::random(10, 8, 3, 11);
  const ExplainedOutput<double> out{mlp.function()};
  const Tensor<double> x = seeded_uniform<double>({1, 10}, 12, 0.0, 1.0);
  NeFLAGOptions options;
  options.search = NeFLAGSearch::guided;
  options.radius = 1e-4;
  options.output = OutputKind::logit;
  const NeFLAGResult<double> r = neflag(out, x, {2}, options);
  const Tensor<double> g = grad<double>([&](const Var<double>& v) { return select(mlp.function()(v), {2}); }, x);
  CHECK(cosine(r.attributions.data(), g.data(), 10) >= 1 - 1e-8);  // direction error O(ε), cosine 1 − O(ε²)
}

TEST_CASE("neflag: divergence theorem in 2-D — flux through a circle = ∫ Laplacian over the disk") {
  const SoftplusMlp<double> mlp = SoftplusMlp<double>::random(2, 8, 3, 21, 2.0);  // β = 2: smooth on the disk
  const ExplainedOutput<double> out{mlp.function()};
  const Tensor<double> x = seeded_uniform<double>({2}, 22, -0.5, 0.5);
  const double radius = 0.6;
  const std::size_t target = 1;
  const double flux = sphere_total_flux(out, x, target, radius, 256);

  // ∫_disk Δf dA = ∫₀^R ∫₀^{2π} Δf(x + r(cos θ, sin θ)) r dθ dr: Gauss–Legendre in r, equal steps in θ.
  const Quadrature radial = gauss_legendre(24);
  const int angles = 64;
  double integral = 0;
  for (std::size_t a = 0; a < radial.nodes.size(); ++a) {
    const double r = radius * radial.nodes[a];
    for (int k = 0; k < angles; ++k) {
      const double theta = 2 * std::numbers::pi * k / angles;
      Tensor<double> p = {x(0) + r * std::cos(theta), x(1) + r * std::sin(theta)};
      integral += radius * radial.weights[a] * (2 * std::numbers::pi / angles) * r * laplacian(out, target, p);
    }
  }
  MESSAGE("2-D: total flux " << flux << ", ∫ Laplacian " << integral << ", difference " << std::fabs(flux - integral));
  CHECK(std::fabs(integral) > 1e-3);                    // a test with curvature to measure
  CHECK(std::fabs(flux - integral) <= 1e-4);            // the bound
  CHECK(std::fabs(flux - integral) <= 1e-10);           // both rules converge spectrally on a smooth f
}

TEST_CASE("neflag: divergence theorem in 3-D — flux through a sphere = ∫ Laplacian over the ball (probability)") {
  const SoftplusMlp<double> mlp = SoftplusMlp<double>::random(3, 6, 3, 31, 2.0);
  const ExplainedOutput<double> out{mlp.function(), OutputKind::probability};
  const Tensor<double> x = seeded_uniform<double>({3}, 32, -0.5, 0.5);
  const double radius = 0.5;
  const double flux = sphere_total_flux(out, x, 0, radius, 24);

  // Ball in spherical coordinates: r (Gauss–Legendre, weight r²), u = cos θ (Gauss–Legendre), ϕ (equal steps).
  const Quadrature radial = gauss_legendre(12), polar = gauss_legendre(12);
  const int azimuths = 24;
  double integral = 0;
  for (std::size_t a = 0; a < radial.nodes.size(); ++a) {
    const double r = radius * radial.nodes[a];
    for (std::size_t b = 0; b < polar.nodes.size(); ++b) {
      const double u = 2 * polar.nodes[b] - 1, ring = std::sqrt(1 - u * u);
      for (int k = 0; k < azimuths; ++k) {
        const double phi = 2 * std::numbers::pi * k / azimuths;
        Tensor<double> p = {x(0) + r * ring * std::cos(phi), x(1) + r * ring * std::sin(phi), x(2) + r * u};
        const double volume = radius * radial.weights[a] * r * r * 2 * polar.weights[b] * 2 * std::numbers::pi / azimuths;
        integral += volume * laplacian(out, 0, p);
      }
    }
  }
  MESSAGE("3-D: total flux " << flux << ", ∫ Laplacian " << integral << ", difference " << std::fabs(flux - integral));
  CHECK(std::fabs(integral) > 1e-4);
  CHECK(std::fabs(flux - integral) <= 1e-4 * std::max(1.0, std::fabs(flux)));  // the bound
  CHECK(std::fabs(flux - integral) <= 1e-9);
  // A uniform field has zero total flux.
  const ExplainedOutput<double> linear{linear_logit(seeded_uniform<double>({3}, 33))};
  CHECK(std::fabs(sphere_total_flux(linear, x, 0, radius, 8)) <= 1e-14);
}

TEST_CASE("neflag: a feature the model ignores gets 0; permuted hidden units change nothing; seeds reproduce") {
  const SoftplusMlp<double> mlp = SoftplusMlp<double>::random(12, 8, 4, 41).ignoring(7);
  const Tensor<double> x = seeded_uniform<double>({2, 12}, 42, 0.0, 1.0);
  for (NeFLAGAggregation aggregation :
       {NeFLAGAggregation::flux_vector, NeFLAGAggregation::feature_flux, NeFLAGAggregation::field}) {
    NeFLAGOptions options;
    options.search = NeFLAGSearch::guided;
    options.aggregation = aggregation;
    options.seed = 5;
    const NeFLAGResult<double> a = neflag(ExplainedOutput<double>{mlp.function()}, x, {}, options);
    const NeFLAGResult<double> b = neflag(ExplainedOutput<double>{mlp.permuted_hidden(43).function()}, x, {}, options);
    const NeFLAGResult<double> again = neflag(ExplainedOutput<double>{mlp.function()}, x, {}, options);
    CHECK(a.attributions == again.attributions);  // same seed, same numbers, bit for bit
    for (std::size_t e = 0; e < 2; ++e) {
      // F₇ ≡ 0; the converged search lands on n̂ = −F̂, whose 7th entry is 0 too.
      CHECK(a.attributions(e, 7) == 0.0);
      double scale = 0;
      for (std::size_t i = 0; i < 12; ++i) scale = std::max(scale, std::fabs(a.attributions(e, i)));
      CHECK(scale > 0);
      for (std::size_t i = 0; i < 12; ++i)  // gradients agree up to rounding, so do the searched points
        CHECK(std::fabs(a.attributions(e, i) - b.attributions(e, i)) <= 1e-10 * scale);
    }
  }
  // Without the search the random normals' own 7th entries leak into φ n̂:
  // the dummy axiom holds only for the guided flux_vector (documented in neflag.hpp).
  NeFLAGOptions plain;
  plain.search = NeFLAGSearch::plain;
  plain.seed = 5;
  const NeFLAGResult<double> p = neflag(ExplainedOutput<double>{mlp.function()}, x, {}, plain);
  MESSAGE("plain sampling flux_vector, ignored feature: " << p.attributions(0, 7));
  plain.seed = 6;
  CHECK(neflag(ExplainedOutput<double>{mlp.function()}, x, {}, plain).attributions != p.attributions);
}

TEST_CASE("neflag: float agrees with double within float32 rounding; bad options fail with one clear error") {
  // The same net in both precisions (exactly the float weights) and the same
  // float inputs; the random starting normals are drawn in double from the
  // same seed in both. Each value sums n = 20 points, each found after
  // m = 20 rotations computed from gradients of a 12-8-8-4 net (≈ 3·12 + 12
  // rounding steps per entry): float32_bound(48, 40) = (48 + 40)·2⁻²⁴·8 ≈
  // 4.2e-5 relative. Dropping the points with φ ≥ 0 is a discrete choice; the
  // bound holds because no φ is within rounding of 0 here.
  const SoftplusMlp<float> mlp = SoftplusMlp<float>::random(12, 8, 4, 51);
  const Tensor<float> xf = seeded_uniform<float>({2, 12}, 52, 0.0, 1.0);
  NeFLAGOptions guided;
  guided.search = NeFLAGSearch::guided;
  const NeFLAGResult<float> f = neflag(ExplainedOutput<float>{mlp.function()}, xf, {}, guided);
  CHECK(f.gradient_evaluations == 2 * 20 * 21);
  const NeFLAGResult<double> f64 =
      neflag(ExplainedOutput<double>{to_double(mlp).function()}, exact_double(xf), {}, guided);
  const double rel = max_relative_difference(f.attributions, f64.attributions);
  MESSAGE("NeFLAG float32 vs float64 max relative difference: " << rel);
  CHECK(rel <= float32_bound(48, 40));
  CHECK(rel > 0);
  CHECK(f.negative_points == f64.negative_points);  // the same points were kept

  const ExplainedOutput<double> out{SoftplusMlp<double>::random(12, 8, 4, 51).function()};
  const Tensor<double> x = seeded_uniform<double>({1, 12}, 53);
  NeFLAGOptions bad;
  bad.radius = 0;
  CHECK_THROWS_AS(neflag(out, x, {}, bad), ArgumentError);
  bad = NeFLAGOptions{};
  bad.points = 0;
  CHECK_THROWS_AS(neflag(out, x, {}, bad), ArgumentError);
  CHECK_THROWS_AS(parse_neflag_aggregation("sum"), ArgumentError);
  CHECK(parse_neflag_search("plain") == NeFLAGSearch::plain);
  CHECK(parse_neflag_search("random") == NeFLAGSearch::random);
  CHECK_THROWS_AS(sphere_total_flux(out, Tensor<double>(seeded_uniform<double>({12}, 1)), 0, 0.1, 16), ShapeError);
}

// ---- search = random: n distinct random negative-flux points ---------------

TEST_CASE("neflag random: on a linear model A converges to the aggregation's closed form, variance ~ 1/n") {
  // f = wᵀz: F ≡ w, the accepted normals are uniform on the inflow half-sphere,
  // so E[A] = w/d (flux_vector), c_d·w⊙w/‖w‖ (feature_flux), w (field); see neflag.hpp.
  const std::size_t d = 6, examples = 400;
  const Tensor<double> w = seeded_uniform<double>({d}, 61, -1.0, 1.0);
  const ExplainedOutput<double> out{linear_logit(w)};
  const Tensor<double> x = seeded_uniform<double>({examples, d}, 62, 0.0, 1.0);
  double w_norm = 0;
  for (double v : w) w_norm += v * v;
  w_norm = std::sqrt(w_norm);
  const double c_d = std::tgamma(d / 2.0) / (std::sqrt(std::numbers::pi) * std::tgamma((d + 1) / 2.0));
  NeFLAGOptions options;
  options.search = NeFLAGSearch::random;
  options.output = OutputKind::logit;
  // The mean over 400 examples (independent streams) of A_n: its error is the
  // Monte Carlo error σ/√(400 n); the squared error of one A_n falls like 1/n.
  std::vector<double> mse;
  for (std::size_t points : {5u, 20u, 80u}) {
    options.points = points;
    const NeFLAGResult<double> r = neflag(out, x, std::vector<std::size_t>(examples, 0), options);
    std::vector<double> mean(d, 0.0), spread(d, 0.0);
    double squared_error = 0;
    for (std::size_t e = 0; e < examples; ++e) {
      CHECK(r.negative_points[e] == points);
      for (std::size_t i = 0; i < d; ++i) {
        mean[i] += r.attributions(e, i) / examples;
        squared_error += std::pow(r.attributions(e, i) - w(i) / d, 2) / examples;
      }
    }
    for (std::size_t e = 0; e < examples; ++e)
      for (std::size_t i = 0; i < d; ++i) spread[i] += std::pow(r.attributions(e, i) - mean[i], 2) / (examples - 1);
    // within 4 standard errors (the sample spread over examples / √examples)
    for (std::size_t i = 0; i < d; ++i)
      CHECK(std::fabs(mean[i] - w(i) / d) <= 4 * std::sqrt(spread[i] / examples));
    mse.push_back(squared_error);
  }
  // ×4 points: the squared error falls by ≈ 4 (1/n); ±35 % for 400 samples of it.
  CHECK(mse[0] / mse[1] == doctest::Approx(4.0).epsilon(0.35));
  CHECK(mse[1] / mse[2] == doctest::Approx(4.0).epsilon(0.35));

  options.points = 80;
  options.aggregation = NeFLAGAggregation::field;  // every accepted point sees F = w: A = w to rounding
  const NeFLAGResult<double> field = neflag(out, x, std::vector<std::size_t>(examples, 0), options);
  for (std::size_t e = 0; e < examples; e += 37)
    for (std::size_t i = 0; i < d; ++i) CHECK(field.attributions(e, i) == doctest::Approx(w(i)).epsilon(1e-13));
  options.aggregation = NeFLAGAggregation::feature_flux;
  const NeFLAGResult<double> feature = neflag(out, x, std::vector<std::size_t>(examples, 0), options);
  for (std::size_t i = 0; i < d; ++i) {
    double mean = 0, spread = 0;
    for (std::size_t e = 0; e < examples; ++e) mean += feature.attributions(e, i) / examples;
    for (std::size_t e = 0; e < examples; ++e) spread += std::pow(feature.attributions(e, i) - mean, 2) / (examples - 1);
    CHECK(std::fabs(mean - c_d * w(i) * w(i) / w_norm) <= 4 * std::sqrt(spread / examples));
  }
}

TEST_CASE("neflag random: NeFLAG-1, -10 and -20 differ on a nonlinear model; an example's result ignores the batch") {
  const SoftplusMlp<double> mlp = SoftplusMlp<double>::random(10, 8, 3, 71);
  const ExplainedOutput<double> out{mlp.function()};
  const Tensor<double> x = seeded_uniform<double>({3, 10}, 72, 0.0, 1.0);
  NeFLAGOptions options;
  options.search = NeFLAGSearch::random;
  std::vector<Tensor<double>> by_n;
  for (std::size_t points : {1u, 10u, 20u}) {
    options.points = points;
    const NeFLAGResult<double> r = neflag(out, x, {0, 1, 2}, options);
    for (std::size_t e = 0; e < 3; ++e) CHECK(r.negative_points[e] == points);
    by_n.push_back(r.attributions);
  }
  CHECK(max_relative_error(by_n[0], by_n[1]) > 1e-3);
  CHECK(max_relative_error(by_n[1], by_n[2]) > 1e-3);
  // An example's points come from its own stream (seed, example index): example 2 gets the same
  // numbers in a batch whose other rows (and classes) differ.
  Tensor<double> other = seeded_uniform<double>({3, 10}, 73, 0.0, 1.0);
  for (std::size_t i = 0; i < 10; ++i) other(2, i) = x(2, i);
  const NeFLAGResult<double> again = neflag(out, other, {2, 0, 2}, options);
  for (std::size_t i = 0; i < 10; ++i) CHECK(again.attributions(2, i) == by_n[2](2, i));
}

TEST_CASE("neflag random: a field with no inflow stops at the stated cap and reports it") {
  const ExplainedOutput<double> flat{[](const Var<double>& z) { return sum(z, {1}, true) * 0.0; }};
  const Tensor<double> x = seeded_uniform<double>({2, 4}, 81, 0.0, 1.0);
  NeFLAGOptions options;
  options.search = NeFLAGSearch::random;
  options.output = OutputKind::logit;
  options.points = 5;
  options.max_draws_per_point = 3;
  const NeFLAGResult<double> r = neflag(flat, x, {0, 0}, options);
  CHECK(r.negative_points == std::vector<std::size_t>{0, 0});
  CHECK(r.gradient_evaluations == 2 * 5 * 3);  // every example drew its cap, 3 per point
  for (double a : r.attributions) CHECK(a == 0.0);
}
