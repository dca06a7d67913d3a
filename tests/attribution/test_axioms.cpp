// Tests for attribution/axioms: each gap function on hand-made inputs whose
// gap is known (so the checks can fail), then the axioms themselves for IG,
// EG and IH on a smoothed MLP: dummy feature, implementation invariance
// (permuted hidden units), linearity and self-completeness.
#include <doctest/doctest.h>

#include <cmath>

#include "attribution/axioms.hpp"
#include "attribution/expected_gradients.hpp"
#include "attribution/gradient_methods.hpp"
#include "attribution/integrated_gradients.hpp"
#include "attribution/integrated_hessians.hpp"
#include "attribution_models.hpp"
#include "autodiff/errors.hpp"

using namespace fluxion;
using namespace fluxion::attribution_testing;

namespace {

ExplainedOutput<double> explain(Function<double> model, std::size_t batch = 64) {
  ExplainedOutput<double> out;
  out.model = std::move(model);
  out.batch_size = batch;
  return out;
}

AttributionMethod<double> ig_method(int steps = 64) {
  return [steps](const ExplainedOutput<double>& out, const Tensor<double>& x, const std::vector<std::size_t>& t) {
    IntegratedGradientsOptions<double> o;
    o.steps = steps;
    return integrated_gradients(out, x, t, o).attributions;
  };
}

AttributionMethod<double> eg_method(const Tensor<double>& references) {
  return [references](const ExplainedOutput<double>& out, const Tensor<double>& x, const std::vector<std::size_t>& t) {
    ExpectedGradientsOptions o;
    o.samples = 64;
    o.seed = 3;
    return expected_gradients(out, x, references, t, o).attributions;
  };
}

AttributionMethod<double> ih_method() {
  return [](const ExplainedOutput<double>& out, const Tensor<double>& x, const std::vector<std::size_t>& t) {
    IntegratedHessiansOptions<double> o;
    o.points = 16;
    return integrated_hessians(out, x, t, o).interactions;
  };
}

}  // namespace

TEST_CASE("axioms: gap functions report the known gap of hand-made inputs") {
  const Tensor<double> a = Tensor<double>({{1.0, 2.0}, {0.5, -0.5}});
  CHECK(completeness_gap(a, {3.0, 0.0}) == 0.0);
  CHECK(completeness_gap(a, {2.5, 0.25}) == doctest::Approx(0.5).epsilon(1e-15));
  Tensor<double> gamma = Tensor<double>::from_shape({1, 2, 2});
  gamma(0, 0, 0) = 1.0, gamma(0, 0, 1) = 0.25, gamma(0, 1, 0) = 0.75, gamma(0, 1, 1) = 2.0;
  CHECK(interaction_symmetry_gap(gamma) == doctest::Approx(0.5).epsilon(1e-15));
  CHECK(interaction_completeness_gap(gamma, {4.0}) == 0.0);
  CHECK(interaction_completeness_gap(gamma, {3.0}) == doctest::Approx(1.0).epsilon(1e-15));
  // Row sums are (1.25, 2.75).
  CHECK(row_completeness_gap(gamma, Tensor<double>({{1.25, 2.75}})) == 0.0);
  CHECK(row_completeness_gap(gamma, Tensor<double>({{1.25, 2.0}})) == doctest::Approx(0.75).epsilon(1e-15));
  CHECK_THROWS_AS(interaction_symmetry_gap(a), ShapeError);
  CHECK_THROWS_AS(completeness_gap(a, {1.0}), ShapeError);
}

TEST_CASE("axioms: dummy feature — IG, EG and IH give an ignored feature exactly 0") {
  // Feature 2 is disconnected (column 2 of W₁ = 0), so ∂f/∂x₂ ≡ 0 exactly.
  const auto mlp = SoftplusMlp<double>::random(5, 8, 3, 901, 10.0).ignoring(2);
  const auto out = explain(mlp.function());
  const Tensor<double> x = seeded_uniform<double>({3, 5}, 902, -1.5, 1.5);
  const Tensor<double> refs = seeded_uniform<double>({16, 5}, 903, -1.5, 1.5);
  const std::vector<std::size_t> targets = {0, 1, 2};
  CHECK(dummy_feature_gap(ig_method(), out, x, targets, {2}) == 0.0);
  CHECK(dummy_feature_gap(eg_method(refs), out, x, targets, {2}) == 0.0);
  CHECK(dummy_feature_gap(ih_method(), out, x, targets, {2}) == 0.0);
  // The check can fail: feature 1 is used.
  CHECK(dummy_feature_gap(ig_method(), out, x, targets, {1}) > 1e-3);
}

TEST_CASE("axioms: implementation invariance under permuted hidden units") {
  const auto mlp = SoftplusMlp<double>::random(5, 8, 3, 911, 10.0);
  const auto twin = mlp.permuted_hidden(912);
  const Tensor<double> x = seeded_uniform<double>({3, 5}, 913, -1.5, 1.5);
  const Tensor<double> refs = seeded_uniform<double>({16, 5}, 914, -1.5, 1.5);
  const std::vector<std::size_t> targets = {2, 0, 1};
  const auto a = explain(mlp.function()), b = explain(twin.function());
  // Same function, sums in another order: differences are rounding only.
  const double ig = implementation_invariance_gap(ig_method(), a, b, x, targets);
  const double eg = implementation_invariance_gap(eg_method(refs), a, b, x, targets);
  const double ih = implementation_invariance_gap(ih_method(), a, b, x, targets);
  MESSAGE("implementation invariance gaps: IG " << ig << ", EG " << eg << ", IH " << ih);
  CHECK(ig <= 1e-13);
  CHECK(eg <= 1e-13);
  CHECK(ih <= 1e-13);
  // A genuinely different network is caught.
  const auto other = explain(SoftplusMlp<double>::random(5, 8, 3, 915, 10.0).function());
  CHECK(implementation_invariance_gap(ig_method(), a, other, x, targets) > 1e-3);
}

TEST_CASE("axioms: linearity of IG and EG, and its failure for SmoothGrad²") {
  const auto f = explain(SoftplusMlp<double>::random(4, 8, 3, 921, 10.0).function());
  const auto g = explain(SoftplusMlp<double>::random(4, 8, 3, 922, 10.0).function());
  const Tensor<double> x = seeded_uniform<double>({2, 4}, 923, -1.5, 1.5);
  const Tensor<double> refs = seeded_uniform<double>({8, 4}, 924);
  // IG and EG are linear in f for a fixed path/sample set: rounding only.
  CHECK(linearity_gap(ig_method(16), f, g, 2.0, -0.5, x, {0, 1}) <= 1e-13);
  CHECK(linearity_gap(eg_method(refs), f, g, 2.0, -0.5, x, {0, 1}) <= 1e-13);
  const AttributionMethod<double> squared = [](const ExplainedOutput<double>& out, const Tensor<double>& z,
                                               const std::vector<std::size_t>& t) {
    return smoothgrad_squared(out, z, t, SmoothGradOptions{10, 0.15, 1});
  };
  CHECK(linearity_gap(squared, f, g, 2.0, -0.5, x, {0, 1}) > 1e-3);
  ExplainedOutput<double> prob = f;
  prob.kind = OutputKind::probability;
  CHECK_THROWS_AS(linearity_gap(ig_method(), prob, g, 1.0, 1.0, x, {0, 1}), ArgumentError);
  CHECK_THROWS_AS(linearity_gap(ig_method(), f, g, 1.0, 1.0, x, {}), ArgumentError);
}

TEST_CASE("axioms: self-completeness of IG and failure for gradient × input") {
  const auto mlp = SoftplusMlp<double>::random(4, 8, 3, 931, 10.0);
  const auto out = explain(mlp.function());
  const Tensor<double> x = seeded_uniform<double>({4}, 932, -1.5, 1.5);
  const Tensor<double> base = filled<double>({4}, 0.0);
  for (std::size_t i = 0; i < 4; ++i) {
    // One-dimensional path: A_i = ∫ ∂_i f dt·Δ_i = f(x̃) − f(x') to 64-node GL accuracy, A_j = 0 exactly.
    CHECK(self_completeness_gap(ig_method(), out, x, base, 1, i) <= 1e-10);
  }
  const AttributionMethod<double> gxi = [](const ExplainedOutput<double>& o, const Tensor<double>& z,
                                           const std::vector<std::size_t>& t) { return gradient_times_input(o, z, t); };
  CHECK(self_completeness_gap(gxi, out, x, base, 1, 0) > 1e-3);
}
