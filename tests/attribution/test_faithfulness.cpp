// Tests for attribution/faithfulness: deletion / insertion curves and AUCs.
//
// The anchor is a linear model z = (w·x, 0): deleting feature i (setting it
// to 0) lowers the logit by exactly w_i x_i, so
//   * the curves are cumulative sums of the contributions w ⊙ x, computable
//     by hand (a 4-feature example below) or by sorting in the test;
//   * ranking by w ⊙ x is optimal: at every step it has deleted the largest
//     possible total, so its deletion curve lies below (insertion above) that
//     of any other ranking, and the reversed ranking is the worst.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>
#include <random>

#include "attribution/faithfulness.hpp"
#include "attribution_models.hpp"
#include "autodiff/errors.hpp"

using namespace fluxion;
using namespace fluxion::attribution_testing;

namespace {

/// Logits [w·x, 0] for x [N, ...] (x flattened to d = w.size() features).
template <class T>
Function<T> linear_two_class(const std::vector<double>& w) {
  Tensor<T> weights = Tensor<T>::from_shape({w.size(), 2});
  for (std::size_t i = 0; i < w.size(); ++i) {
    weights(i, 0) = static_cast<T>(w[i]);
    weights(i, 1) = T(0);
  }
  return [weights](const Var<T>& x) { return matmul(flatten(x), Var<T>(weights)); };
}

template <class T>
Tensor<T> row_tensor(const std::vector<double>& values) {
  Tensor<T> t = Tensor<T>::from_shape({1, values.size()});
  for (std::size_t i = 0; i < values.size(); ++i) t(0, i) = static_cast<T>(values[i]);
  return t;
}

double sigmoid(double z) { return 1.0 / (1.0 + std::exp(-z)); }

// The 4-feature example: x = (1, 2, 3, 4), w = (4, −1, 2, 0.5), so
// w ⊙ x = (4, −2, 6, 2) and the ranking is features 2, 0, 3, 1.
// f(x) = 10. Deleting one feature at a time: 10, 4, 0, −2, 0.
// Inserting into the black image:             0, 6, 10, 12, 10.
const std::vector<double> kW = {4, -1, 2, 0.5}, kX = {1, 2, 3, 4};
const std::vector<double> kDeletion = {10, 4, 0, -2, 0}, kInsertion = {0, 6, 10, 12, 10};
// Trapezoid with Δt = ¼: ¼·[(10+4)/2 + (4+0)/2 + (0−2)/2 + (−2+0)/2] = 7/4,
//                        ¼·[(0+6)/2 + (6+10)/2 + (10+12)/2 + (12+10)/2] = 33/4.
constexpr double kDeletionAuc = 1.75, kInsertionAuc = 8.25;

}  // namespace

TEST_CASE("faithfulness: hand-computed 4-feature deletion and insertion curves (logit)") {
  ExplainedOutput<double> out{linear_two_class<double>(kW)};
  const Tensor<double> x = row_tensor<double>(kX);
  Tensor<double> attribution = x;
  for (std::size_t i = 0; i < 4; ++i) attribution(0, i) = kW[i] * kX[i];
  FaithfulnessOptions<double> options;
  options.features_per_step = 1;
  const DeletionInsertion<double> r = deletion_insertion(out, x, attribution, {0}, options);
  REQUIRE(r.deletion.fractions == std::vector<double>{0, 0.25, 0.5, 0.75, 1});
  REQUIRE(r.insertion.fractions == r.deletion.fractions);
  // Sums of small integers and halves are exact in double; 1e-12 only allows
  // for the order of the matmul's additions.
  for (std::size_t s = 0; s < 5; ++s) {
    CHECK(std::fabs(r.deletion.values(0, s) - kDeletion[s]) <= 1e-12);
    CHECK(std::fabs(r.insertion.values(0, s) - kInsertion[s]) <= 1e-12);
  }
  CHECK(std::fabs(r.deletion.auc[0] - kDeletionAuc) <= 1e-12);
  CHECK(std::fabs(r.insertion.auc[0] - kInsertionAuc) <= 1e-12);
  CHECK(std::fabs(r.difference[0] - (kInsertionAuc - kDeletionAuc)) <= 1e-12);
}

TEST_CASE("faithfulness: probability output follows the sigmoid of the hand-computed logits") {
  // Two classes with logits (z, 0): softmax probability of class 0 is σ(z).
  ExplainedOutput<double> out{linear_two_class<double>(kW), OutputKind::probability};
  const Tensor<double> x = row_tensor<double>(kX);
  Tensor<double> attribution = x;
  for (std::size_t i = 0; i < 4; ++i) attribution(0, i) = kW[i] * kX[i];
  FaithfulnessOptions<double> options;
  options.features_per_step = 1;
  const DeletionInsertion<double> r = deletion_insertion(out, x, attribution, {0}, options);
  double deletion_auc = 0, insertion_auc = 0;
  for (std::size_t s = 0; s < 4; ++s) {
    deletion_auc += 0.25 * (sigmoid(kDeletion[s]) + sigmoid(kDeletion[s + 1])) / 2;
    insertion_auc += 0.25 * (sigmoid(kInsertion[s]) + sigmoid(kInsertion[s + 1])) / 2;
  }
  for (std::size_t s = 0; s < 5; ++s) CHECK(std::fabs(r.deletion.values(0, s) - sigmoid(kDeletion[s])) <= 1e-14);
  // exp(log_softmax) of O(1) logits: a few ulps of 1.
  CHECK(std::fabs(r.deletion.auc[0] - deletion_auc) <= 1e-14);
  CHECK(std::fabs(r.insertion.auc[0] - insertion_auc) <= 1e-14);
}

TEST_CASE("faithfulness: float instantiation reproduces the 4-feature example") {
  ExplainedOutput<float> out{linear_two_class<float>(kW)};
  const Tensor<float> x = row_tensor<float>(kX);
  Tensor<float> attribution = x;
  for (std::size_t i = 0; i < 4; ++i) attribution(0, i) = static_cast<float>(kW[i] * kX[i]);
  FaithfulnessOptions<float> options;
  options.features_per_step = 1;
  const DeletionInsertion<float> r = deletion_insertion(out, x, attribution, {0}, options);
  // Every number involved is a small dyadic rational: exact in float too.
  CHECK(std::fabs(r.deletion.auc[0] - kDeletionAuc) <= 1e-6);
  CHECK(std::fabs(r.insertion.auc[0] - kInsertionAuc) <= 1e-6);
}

TEST_CASE("faithfulness: the true ranking of a linear model beats random and reversed rankings") {
  const std::size_t examples = 6, d = 40;
  std::vector<double> w(d);
  const Tensor<double> weights = seeded_uniform<double>({d}, 11, -1, 1);
  std::copy(weights.begin(), weights.end(), w.begin());
  const Tensor<double> x = seeded_uniform<double>({examples, d}, 12, 0, 1);
  ExplainedOutput<double> out{linear_two_class<double>(w)};
  Tensor<double> truth = x;
  for (std::size_t n = 0; n < examples; ++n)
    for (std::size_t i = 0; i < d; ++i) truth(n, i) = w[i] * x(n, i);
  const Tensor<double> reversed = -truth;
  const std::vector<std::size_t> targets(examples, 0);
  FaithfulnessOptions<double> options;
  options.fraction_per_step = 0.1;  // counts 0, 4, 8, …, 40
  const DeletionInsertion<double> best = deletion_insertion(out, x, truth, targets, options);
  const DeletionInsertion<double> worst = deletion_insertion(out, x, reversed, targets, options);
  REQUIRE(best.deletion.fractions.size() == 11);

  for (std::size_t n = 0; n < examples; ++n) {
    // Closed form: deletion after k steps = f(x) − (sum of the k largest contributions).
    std::vector<double> c(truth.data() + n * d, truth.data() + (n + 1) * d);
    std::sort(c.begin(), c.end(), std::greater<>());
    const double fx = std::accumulate(c.begin(), c.end(), 0.0);
    double expected_deletion = 0, expected_insertion = 0, removed_before = 0;
    for (std::size_t s = 0; s < 10; ++s) {
      const double removed_after = removed_before + c[4 * s] + c[4 * s + 1] + c[4 * s + 2] + c[4 * s + 3];
      expected_deletion += 0.1 * ((fx - removed_before) + (fx - removed_after)) / 2;
      expected_insertion += 0.1 * (removed_before + removed_after) / 2;
      removed_before = removed_after;
    }
    // 40 O(1) terms summed in two different orders: rounding ≲ 1e-14.
    CHECK(std::fabs(best.deletion.auc[n] - expected_deletion) <= 1e-12);
    CHECK(std::fabs(best.insertion.auc[n] - expected_insertion) <= 1e-12);

    for (std::uint64_t seed = 0; seed < 5; ++seed) {
      const Tensor<double> random_scores = seeded_uniform<double>({1, d}, 100 + seed + 10 * n);
      Tensor<double> random_attr = x;
      for (std::size_t i = 0; i < d; ++i) random_attr(n, i) = random_scores(0, i);
      const DeletionInsertion<double> random =
          deletion_insertion(out, x, random_attr, targets, options);
      // Pointwise optimality, so the AUCs are ordered exactly (up to rounding).
      for (std::size_t s = 0; s < 11; ++s) {
        CHECK(best.deletion.values(n, s) <= random.deletion.values(n, s) + 1e-12);
        CHECK(random.deletion.values(n, s) <= worst.deletion.values(n, s) + 1e-12);
      }
      CHECK(best.deletion.auc[n] <= random.deletion.auc[n] + 1e-12);
      CHECK(random.deletion.auc[n] <= worst.deletion.auc[n] + 1e-12);
      CHECK(best.insertion.auc[n] + 1e-12 >= random.insertion.auc[n]);
      CHECK(random.insertion.auc[n] + 1e-12 >= worst.insertion.auc[n]);
      CHECK(best.difference[n] + 1e-12 >= random.difference[n]);
    }
    CHECK(best.difference[n] > worst.difference[n]);
  }
}

TEST_CASE("faithfulness: step counts land on the stated fractions") {
  using V = std::vector<std::size_t>;
  // 10 % of 784: round(78.4 s) for s = 1 … 9.
  CHECK(features_changed_per_point(784, 0, 0.1) == V{0, 78, 157, 235, 314, 392, 470, 549, 627, 706, 784});
  CHECK(features_changed_per_point(784, 0, 0.01).size() == 101);
  CHECK(features_changed_per_point(10, 3, 0.5) == V{0, 3, 6, 9, 10});  // a count wins over a fraction
  CHECK(features_changed_per_point(10, 0, 0.3) == V{0, 3, 6, 9, 10});
  CHECK(features_changed_per_point(4, 0, 0.01) == V{0, 1, 2, 3, 4});   // < 1 feature per step: every count
  CHECK(features_changed_per_point(5, 0, 1.0) == V{0, 5});
  CHECK_THROWS_AS(features_changed_per_point(5, 0, 0.0), ArgumentError);
  CHECK_THROWS_AS(features_changed_per_point(5, 0, 1.5), ArgumentError);
  CHECK(trapezoid_area({0, 0.5, 1}, {0, 1, 0}) == 0.5);
  CHECK(rank_features<double>(std::vector<double>{1, -3, 2, 2}.data(), 4) == V{2, 3, 0, 1});
  CHECK(rank_features<double>(std::vector<double>{1, -3, 2, 2}.data(), 4, true) == V{1, 2, 3, 0});
}

TEST_CASE("faithfulness: batching changes neither the numbers nor the count of model calls") {
  const SoftplusCnn<double> cnn = SoftplusCnn<double>::random(3, 7);
  const Tensor<double> x = seeded_uniform<double>({2, 1, 6, 6}, 8, 0, 1);
  const Tensor<double> attribution = seeded_uniform<double>({2, 1, 6, 6}, 9);
  FaithfulnessOptions<double> options;
  options.fraction_per_step = 0.25;  // 5 points per example → 10 rows
  CallCounter<double> counter;
  ExplainedOutput<double> chunked{counter.wrap(cnn.function()), OutputKind::probability, 3};
  ExplainedOutput<double> whole{cnn.function(), OutputKind::probability, 64};
  const std::vector<std::size_t> targets{0, 2};
  const PerturbationCurve<double> a = deletion_curve(chunked, x, attribution, targets, options);
  CHECK(*counter.calls == 4);  // ⌈10 / 3⌉
  CHECK(*counter.largest_batch == 3);
  const PerturbationCurve<double> b = deletion_curve(whole, x, attribution, targets, options);
  // The engine's GEMM may round differently for different batch shapes; the
  // model evaluates O(1) probabilities, so allow a few ulps.
  double largest_difference = 0;
  for (std::size_t k = 0; k < a.values.size(); ++k)
    largest_difference = std::max(largest_difference, std::fabs(a.values.data()[k] - b.values.data()[k]));
  MESSAGE("largest difference between batch sizes 3 and 64: " << largest_difference);
  CHECK(largest_difference <= 1e-15);
  // The end points are f(x) and f(baseline = 0), evaluated here directly.
  NoGradGuard inference;
  const Tensor<double> zx = cnn.function()(Var<double>(x)).value();
  const Tensor<double> z0 = cnn.function()(Var<double>(filled<double>({2, 1, 6, 6}, 0.0))).value();
  for (std::size_t n = 0; n < 2; ++n) {
    auto probability = [&](const Tensor<double>& z) {
      double total = 0;
      for (std::size_t c = 0; c < 3; ++c) total += std::exp(z(n, c));
      return std::exp(z(n, targets[n])) / total;
    };
    CHECK(std::fabs(a.values(n, 0) - probability(zx)) <= 1e-14);
    CHECK(std::fabs(a.values(n, 4) - probability(z0)) <= 1e-14);
  }
}

TEST_CASE("faithfulness: baselines — constant, image (shared or per example), blurred") {
  ExplainedOutput<double> out{linear_two_class<double>(kW)};
  const Tensor<double> x = row_tensor<double>(kX);
  Tensor<double> attribution = x;
  for (std::size_t i = 0; i < 4; ++i) attribution(0, i) = kW[i] * kX[i];
  FaithfulnessOptions<double> options;
  options.features_per_step = 1;
  options.deletion_baseline.value = 1.0;  // f(ones) = 4 − 1 + 2 + 0.5 = 5.5
  const PerturbationCurve<double> deleted = deletion_curve(out, x, attribution, {0}, options);
  CHECK(std::fabs(deleted.values(0, 4) - 5.5) <= 1e-12);
  // Deleting feature 2 first: 10 − 2·(3 − 1) = 6.
  CHECK(std::fabs(deleted.values(0, 1) - 6.0) <= 1e-12);

  const std::vector<double> image = {0.5, 0.5, -1, 2};  // f = 2 − 0.5 − 2 + 1 = 0.5
  options.insertion_baseline.image = Tensor<double>::from_shape({4});
  std::copy(image.begin(), image.end(), options.insertion_baseline.image.begin());
  const PerturbationCurve<double> shared = insertion_curve(out, x, attribution, {0}, options);
  CHECK(std::fabs(shared.values(0, 0) - 0.5) <= 1e-12);
  CHECK(std::fabs(shared.values(0, 4) - 10.0) <= 1e-12);
  options.insertion_baseline.image = row_tensor<double>(image);  // the same, one per example
  CHECK(insertion_curve(out, x, attribution, {0}, options).values == shared.values);

  // Blurring a constant image leaves it unchanged, so inserting x into its
  // own blur changes nothing: the insertion curve is flat at f(x).
  const SoftplusCnn<double> cnn = SoftplusCnn<double>::random(2, 3);
  ExplainedOutput<double> cnn_out{cnn.function()};
  const Tensor<double> flat = filled<double>({1, 1, 6, 6}, 0.7);
  const Tensor<double> cnn_attr = seeded_uniform<double>({1, 1, 6, 6}, 4);
  FaithfulnessOptions<double> blur;
  blur.insertion_baseline.blur_sigma = 1.5;
  const PerturbationCurve<double> curve = insertion_curve(cnn_out, flat, cnn_attr, {1}, blur);
  for (std::size_t s = 1; s < curve.fractions.size(); ++s)
    CHECK(std::fabs(curve.values(0, s) - curve.values(0, 0)) <= 1e-12);  // blur renormalises: exact to rounding
}

TEST_CASE("faithfulness: bad arguments fail with clear errors") {
  ExplainedOutput<double> out{linear_two_class<double>(kW)};
  const Tensor<double> x = row_tensor<double>(kX);
  CHECK_THROWS_AS(deletion_curve(out, x, filled<double>({1, 3}, 0.0), {0}), ShapeError);
  CHECK_THROWS_AS(deletion_curve(out, x, x, {0, 1}), ArgumentError);
  Tensor<double> bad = x;
  bad(0, 2) = std::nan("");
  CHECK_THROWS_AS(deletion_curve(out, x, bad, {0}), ArgumentError);
  FaithfulnessOptions<double> options;
  options.fraction_per_step = 0;
  CHECK_THROWS_AS(insertion_curve(out, x, x, {0}, options), ArgumentError);
  options.fraction_per_step = 0.5;
  options.insertion_baseline.image = filled<double>({3}, 0.0);
  CHECK_THROWS_AS(insertion_curve(out, x, x, {0}, options), ShapeError);
  options.insertion_baseline.image = Tensor<double>();
  options.insertion_baseline.blur_sigma = 1;  // [N, d] is not an image
  CHECK_THROWS_AS(insertion_curve(out, x, x, {0}, options), ShapeError);
}
