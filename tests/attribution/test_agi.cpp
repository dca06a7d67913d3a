// Tests for attribution/agi: Adversarial Gradient Integration (Pan, Li & Zhu,
// IJCAI 2021). On a two-class linear softmax model the walk and the sum have
// a closed form, computed here with plain arithmetic (no model, no engine):
// the walk steps ε·sign(W₁ − W₀) until class 1 wins, and each step adds
// p₀p₁·ε·|W₀ − W₁| — so the attribution points along |W₀ − W₁|. Also: the box
// [0, 1] is respected (a feature pinned at the box edge gets 0), seeds pick
// the false classes reproducibly, and the dummy / implementation-invariance axioms.
#include <doctest/doctest.h>

#include <cmath>

#include "attribution/agi.hpp"
#include "attribution_models.hpp"
#include "float_vs_double.hpp"
#include "gap_rate.hpp"
#include "autodiff/errors.hpp"

using namespace fluxion;
using namespace fluxion::attribution_testing;

namespace {

struct TwoClassLinear {
  Tensor<double> w, b;  // [2, d], [2]
  Function<double> function() const { return [w = w, b = b](const Var<double>& x) { return affine(x, w, b); }; }
};

/// The AGI walk from x towards class 1 for the true class 0, by hand.
/// probability = true: the softmax integrand; else the logit z₀.
std::vector<double> closed_form(const TwoClassLinear& m, std::vector<double> z, double eps, int max_iter,
                                bool probability, int* steps_taken) {
  const std::size_t d = z.size();
  std::vector<double> a(d, 0.0);
  *steps_taken = 0;
  for (int k = 0; k < max_iter; ++k) {
    double z0 = m.b(0), z1 = m.b(1);
    for (std::size_t i = 0; i < d; ++i) {
      z0 += m.w(0, i) * z[i];
      z1 += m.w(1, i) * z[i];
    }
    if (z1 > z0) break;  // the model now predicts class 1
    const double p0 = 1 / (1 + std::exp(z1 - z0)), p1 = 1 - p0;
    for (std::size_t i = 0; i < d; ++i) {
      const double diff = m.w(1, i) - m.w(0, i);                    // ∇p₁ ∝ W₁ − W₀
      const double direction = double((diff > 0) - (diff < 0));
      const double next = std::clamp(z[i] + eps * direction, 0.0, 1.0);
      const double grad_true = probability ? p0 * p1 * (m.w(0, i) - m.w(1, i)) : m.w(0, i);
      a[i] -= grad_true * (next - z[i]);
      z[i] = next;
    }
    ++*steps_taken;
  }
  return a;
}

TwoClassLinear two_class_model(std::size_t d, double margin) {
  TwoClassLinear m;
  m.w = seeded_uniform<double>({2, d}, 1, -1.0, 1.0);
  m.b = Tensor<double>::from_shape({2});
  // Class 0 wins at x = ½ by `margin`: b₀ − b₁ = margin − ½ Σ_i (W₀ᵢ − W₁ᵢ).
  double half = 0;
  for (std::size_t i = 0; i < d; ++i) half += 0.5 * (m.w(0, i) - m.w(1, i));
  m.b(0) = margin - half;
  m.b(1) = 0;
  return m;
}

double cosine(const std::vector<double>& a, const std::vector<double>& b) {
  double ab = 0, aa = 0, bb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / std::sqrt(aa * bb);
}

}  // namespace

TEST_CASE("agi: on a two-class linear softmax the attribution is the closed form and points along |W₀ − W₁|") {
  const std::size_t d = 10;
  const TwoClassLinear m = two_class_model(d, 0.5);
  Tensor<double> x = seeded_uniform<double>({1, d}, 2, 0.45, 0.55);
  AGIOptions options;
  options.epsilon = 0.02;
  options.max_iter = 15;  // ≤ 0.3 of travel from [0.45, 0.55]: the box is never hit
  const PathAttributions<double> r = agi(ExplainedOutput<double>{m.function()}, x, {0}, options);

  int steps = 0;
  const std::vector<double> expected = closed_form(m, std::vector<double>(x.begin(), x.end()), 0.02, 15, true, &steps);
  MESSAGE("the walk crossed to class 1 after " << steps << " steps");
  CHECK(steps > 1);
  CHECK(steps < 15);  // it stopped because the prediction changed, not at max_iter
  std::vector<double> got(d), weight_gap(d);
  for (std::size_t i = 0; i < d; ++i) {
    got[i] = r.attributions(0, i);
    weight_gap[i] = std::fabs(m.w(0, i) - m.w(1, i));
    CHECK(std::fabs(got[i] - expected[i]) <= 1e-15);  // same few products, summed in the same order
    CHECK(got[i] >= 0.0);
  }
  CHECK(cosine(got, weight_gap) >= 1 - 1e-14);  // every step adds (p₀p₁ε)·|W₀ − W₁|
  CHECK(r.gradient_evaluations == 2 * static_cast<std::size_t>(steps));
  // The walk lowers p₀, and Σ A is its left-Riemann estimate: a small gap.
  CHECK(r.output_changes[0] > 0);
  CHECK(r.completeness_gaps[0] <= 0.05 * r.output_changes[0]);
}

TEST_CASE("agi: the logit integrand sums −W₀ ⊙ Δx along the same walk") {
  const std::size_t d = 8;
  const TwoClassLinear m = two_class_model(d, 0.4);
  const Tensor<double> x = seeded_uniform<double>({1, d}, 3, 0.4, 0.6);
  AGIOptions options;
  options.epsilon = 0.03;
  options.max_iter = 10;
  options.integrand = OutputKind::logit;
  const PathAttributions<double> r = agi(ExplainedOutput<double>{m.function()}, x, {0}, options);
  int steps = 0;
  const std::vector<double> expected = closed_form(m, std::vector<double>(x.begin(), x.end()), 0.03, 10, false, &steps);
  for (std::size_t i = 0; i < d; ++i) CHECK(std::fabs(r.attributions(0, i) - expected[i]) <= 1e-15);
  // A linear integrand has no discretisation error: completeness is exact.
  CHECK(r.completeness_gaps[0] <= 1e-14);
}

TEST_CASE("agi: the walk stays in [0, 1]; a feature pinned at the edge it is pushed against gets 0") {
  const std::size_t d = 8;
  const TwoClassLinear m = two_class_model(d, 1.5);
  Tensor<double> x = filled<double>({1, d}, 0.5);
  // Feature 0 is pushed up (W₁ > W₀?) or down; put it at the edge it is pushed against.
  const double push0 = m.w(1, 0) - m.w(0, 0);
  x(0, 0) = push0 > 0 ? 1.0 : 0.0;
  const double push1 = m.w(1, 1) - m.w(0, 1);
  x(0, 1) = push1 > 0 ? 0.99 : 0.01;  // one step from the edge: moves 0.01, not ε
  AGIOptions options;
  options.epsilon = 0.05;
  options.max_iter = 12;
  const PathAttributions<double> r = agi(ExplainedOutput<double>{m.function()}, x, {0}, options);
  int steps = 0;
  const std::vector<double> expected = closed_form(m, std::vector<double>(x.begin(), x.end()), 0.05, 12, true, &steps);
  CHECK(steps >= 2);
  CHECK(r.attributions(0, 0) == 0.0);
  for (std::size_t i = 0; i < d; ++i) CHECK(std::fabs(r.attributions(0, i) - expected[i]) <= 1e-15);
}

TEST_CASE("agi: seeds choose the false classes reproducibly; all C − 1 when enough are asked for") {
  const SoftplusMlp<double> mlp = SoftplusMlp<double>::random(12, 8, 6, 11);
  const ExplainedOutput<double> out{mlp.function()};
  const Tensor<double> x = seeded_uniform<double>({3, 12}, 12, 0.0, 1.0);
  AGIOptions options;
  options.false_classes = 2;
  options.seed = 7;
  const PathAttributions<double> a = agi(out, x, {}, options);
  const PathAttributions<double> b = agi(out, x, {}, options);
  CHECK(a.attributions == b.attributions);  // same seed: bit for bit
  options.seed = 8;
  const PathAttributions<double> c = agi(out, x, {}, options);
  CHECK(a.attributions != c.attributions);
  // false_classes ≥ C − 1 uses every other class, so the seed no longer matters.
  options.false_classes = 20;
  const PathAttributions<double> all_7 = agi(out, x, {}, options);
  options.seed = 9;
  const PathAttributions<double> all_9 = agi(out, x, {}, options);
  CHECK(all_7.attributions == all_9.attributions);
}

TEST_CASE("agi: the completeness gap against the walk ends is first order in ε") {
  // Σ A is a left-point sum along the walk: its error against f(x) − mean f(x_end)
  // is O(ε) for a fixed walk length (max_iter · ε), whatever the walk meets.
  const SoftplusMlp<double> mlp = SoftplusMlp<double>::random(12, 8, 6, 11);
  const ExplainedOutput<double> out{mlp.function()};
  const Tensor<double> x = seeded_uniform<double>({3, 12}, 12, 0.0, 1.0);
  std::vector<double> gaps;
  for (double eps : {0.02, 0.01, 0.005}) {
    AGIOptions options;
    options.epsilon = eps;
    options.max_iter = static_cast<int>(std::lround(0.4 / eps));
    const PathAttributions<double> r = agi(out, x, {}, options);
    double mean = 0;
    for (std::size_t e = 0; e < 3; ++e) mean += r.completeness_gaps[e] / std::fabs(r.output_changes[e]) / 3;
    gaps.push_back(mean);
  }
  MESSAGE("AGI mean relative completeness gap, ε = 0.02/0.01/0.005 (walk length 0.4): " << gaps[0] << ", " << gaps[1]
                                                                                           << ", " << gaps[2]);
  // The fitted order over the three ε: first order means 1; [0.8, 1.2] admits
  // the O(ε²) correction at these ε (and the walks' discrete stops, which move
  // each end by < ε) but neither order ½ nor order 2.
  const double order = convergence_order({0.02, 0.01, 0.005}, gaps);
  MESSAGE("AGI fitted order in ε: " << order);
  CHECK(order >= 0.8);
  CHECK(order <= 1.2);
}

TEST_CASE("agi: a feature the model ignores gets exactly 0; permuted hidden units change nothing") {
  const SoftplusMlp<double> mlp = SoftplusMlp<double>::random(12, 8, 4, 21).ignoring(4);
  const Tensor<double> x = seeded_uniform<double>({2, 12}, 22, 0.0, 1.0);
  AGIOptions options;
  const PathAttributions<double> a = agi(ExplainedOutput<double>{mlp.function()}, x, {}, options);
  const PathAttributions<double> b = agi(ExplainedOutput<double>{mlp.permuted_hidden(23).function()}, x, {}, options);
  for (std::size_t e = 0; e < 2; ++e) {
    CHECK(a.attributions(e, 4) == 0.0);  // ∂p/∂x₄ ≡ 0: sign 0, the feature never moves
    double scale = 0;
    for (std::size_t i = 0; i < 12; ++i) scale = std::max(scale, std::fabs(a.attributions(e, i)));
    CHECK(scale > 0);
    for (std::size_t i = 0; i < 12; ++i)
      CHECK(std::fabs(a.attributions(e, i) - b.attributions(e, i)) <= 1e-12 * scale);
  }
}

TEST_CASE("agi: float agrees with double within float32 rounding; bad options fail with one clear error") {
  // The same net (the double twin holds the float weights exactly) and the
  // same float inputs. Each value sums K = 20 steps × 3 walks of products of
  // gradients of a 12-8-8-4 net (m ≈ 3·12 + 12 rounding steps per entry), so
  // float32_bound(48, 60) = (48 + 60)·2⁻²⁴·8 ≈ 5e-5 relative. The walk's
  // choices (sign of ∇p_j, the stop at the first prediction change) are
  // discrete: the bound holds because none flips here (a flip would move a
  // whole ε step, an O(ε) = 5 % change).
  const SoftplusMlp<float> mlp = SoftplusMlp<float>::random(12, 8, 4, 31);
  const Tensor<float> x = seeded_uniform<float>({2, 12}, 32, 0.0, 1.0);
  const PathAttributions<float> r = agi(ExplainedOutput<float>{mlp.function()}, x, {}, AGIOptions{});
  CHECK(r.attributions.shape()[0] == 2);
  const PathAttributions<double> r64 =
      agi(ExplainedOutput<double>{to_double(mlp).function()}, exact_double(x), {}, AGIOptions{});
  const double rel = max_relative_difference(r.attributions, r64.attributions);
  MESSAGE("AGI float32 vs float64 max relative difference: " << rel);
  CHECK(rel <= float32_bound(48, 60));
  CHECK(rel > 0);
  CHECK(r.gradient_evaluations == r64.gradient_evaluations);  // the same walks, step for step
  for (std::size_t e = 0; e < 2; ++e)
    CHECK(std::fabs(r.output_changes[e] - r64.output_changes[e]) <= float32_bound(48, 60));

  const ExplainedOutput<double> out{SoftplusMlp<double>::random(12, 8, 4, 31).function()};
  const Tensor<double> xd = seeded_uniform<double>({1, 12}, 33, 0.0, 1.0);
  AGIOptions bad;
  bad.epsilon = 0;
  CHECK_THROWS_AS(agi(out, xd, {}, bad), ArgumentError);
  bad = AGIOptions{};
  bad.lo = 1;
  bad.hi = 0;
  CHECK_THROWS_AS(agi(out, xd, {}, bad), ArgumentError);
  bad = AGIOptions{};
  bad.max_iter = 0;
  CHECK_THROWS_AS(agi(out, xd, {}, bad), ArgumentError);
  CHECK_THROWS_AS(agi(out, xd, {0, 1}, AGIOptions{}), ArgumentError);  // 2 targets for 1 example
}
