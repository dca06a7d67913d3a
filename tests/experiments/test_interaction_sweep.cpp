// The Integrated Hessians claims and their robustness sweep
// (experiments/reproduce/interaction_sweep.hpp) on hits and verdicts built by
// hand: the paired intervals against hand computations (t_{5, 0.975} =
// 2.5705818366 from the table), the sweep points' verdicts, the sorting of
// disagreements into surviving / changing / elsewhere, the change counts, the
// sweep grid and the relative change of Γ.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "autodiff/errors.hpp"
#include "experiments/reproduce/interaction_sweep.hpp"

using namespace fluxion;
using namespace fluxion::experiments;

namespace {

constexpr double kT5 = 2.5705818366;  // t_{5, 0.975}

/// A verdict with the given result and sweep (setting, result) points.
Verdict verdict_with(const std::string& measure, const std::string& result,
                     const std::vector<std::pair<std::string, std::string>>& sweep) {
  Verdict v;
  v.experiment = "interactions";
  v.claim = "claim";
  v.measure = measure;
  v.result = result;
  v.interval = {0.1, 0.0, 0.2, 10};
  for (const auto& [setting, r] : sweep) v.sweep.push_back({setting, r, {0.5, 0.25, 0.75, 10}});
  return v;
}

}  // namespace

TEST_CASE("interaction_claims judges IH against each method on the paired hits") {
  const MethodHits hits = {{"integrated_hessians", {1, 1, 1, 1, 0, 1}},
                           {"input_hessian", {0, 0, 1, 0, 0, 0}},
                           {"hessian_x_input", {1, 1, 1, 1, 0, 1}},
                           {"shapley_interaction", {1, 1, 1, 1, 0, 1}}};
  const auto v = interaction_claims(hits, "cos", "largest |term|");
  REQUIRE(v.size() == 3);
  // IH − input Hessian: d = (1, 1, 0, 1, 0, 1), mean 2/3, s² = (4/9 + 8/9) / 5 = 4/15.
  CHECK(v[0].measure == "IH − input Hessian, top-1 hits (cos; truth: largest |term|)");
  CHECK(v[0].claim == "IH recovers planted interactions better than the input Hessian");
  CHECK(v[0].interval.effect == doctest::Approx(2.0 / 3).epsilon(1e-12));
  CHECK(v[0].interval.low == doctest::Approx(2.0 / 3 - kT5 * std::sqrt(4.0 / 15 / 6)).epsilon(1e-8));
  CHECK(v[0].result == "agrees");
  // Identical hits: d = 0, the interval collapses to [0, 0]: not above 0, but inside ±0.05.
  CHECK(v[1].claim == "IH recovers planted interactions better than Hessian × input");
  CHECK(v[1].result == "inconclusive");
  CHECK(v[2].measure == "IH − Shapley interaction, top-1 hits (cos; truth: largest |term|)");
  CHECK(v[2].margin == 0.05);
  CHECK(v[2].result == "agrees");
  CHECK(short_measure(v[0]) == "IH − input Hessian (cos; truth: largest |term|)");

  MethodHits missing = hits;
  missing.erase("hessian_x_input");
  CHECK_THROWS_AS(interaction_claims(missing, "cos", "largest |term|"), ArgumentError);
}

TEST_CASE("add_interaction_sweep_points judges each claim of a scope under the setting's hits") {
  auto v = interaction_claims({{"integrated_hessians", {1, 1, 1, 1, 0, 1}},
                               {"input_hessian", {0, 0, 1, 0, 0, 0}},
                               {"hessian_x_input", {1, 1, 1, 1, 0, 1}},
                               {"shapley_interaction", {1, 1, 1, 1, 0, 1}}},
                              "all", "largest |term|");
  add_interaction_sweep_points(v, "β = 3",
                               {{"integrated_hessians", {0, 0, 1, 0, 0, 0}},
                                {"input_hessian", {1, 1, 1, 1, 0, 1}},
                                {"hessian_x_input", {0, 0, 0, 0, 0, 0}},
                                {"shapley_interaction", {1, 1, 1, 1, 0, 1}}});
  for (const Verdict& x : v) REQUIRE(x.sweep.size() == 1);
  // vs input Hessian: d = −(1, 1, 0, 1, 0, 1): effect −2/3, interval [−2/3 ± t·√(4/15/6)], below 0.
  CHECK(v[0].sweep[0].setting == "β = 3");
  CHECK(v[0].sweep[0].interval.effect == doctest::Approx(-2.0 / 3).epsilon(1e-12));
  CHECK(v[0].sweep[0].interval.high == doctest::Approx(-2.0 / 3 + kT5 * std::sqrt(4.0 / 15 / 6)).epsilon(1e-8));
  CHECK(v[0].sweep[0].result == "disagrees");
  // vs Hessian × input: d = (0, 0, 1, 0, 0, 0): mean 1/6, s² = 1/6, half-width t·(1/6) > 1/6.
  CHECK(v[1].sweep[0].interval.effect == doctest::Approx(1.0 / 6).epsilon(1e-12));
  CHECK(v[1].sweep[0].interval.low == doctest::Approx(1.0 / 6 - kT5 / 6).epsilon(1e-8));
  CHECK(v[1].sweep[0].result == "inconclusive");
  // vs Shapley: the same −2/3 as the first, high ≈ −0.125 < −0.05: wholly outside the margin.
  CHECK(v[2].sweep[0].result == "disagrees");
  CHECK(robustness_summary(v[0]) == "changes in 1 of 1: β = 3 (disagrees)");

  std::vector<Verdict> two(v.begin(), v.begin() + 2);
  CHECK_THROWS_AS(add_interaction_sweep_points(two, "β = 3", {}), ArgumentError);
  CHECK_THROWS_AS(add_interaction_sweep_points(v, "β = 3", {{"integrated_hessians", {1}}}), ArgumentError);
}

TEST_CASE("disagreements are sorted into surviving, changing, and disagreeing only elsewhere") {
  const std::vector<Verdict> verdicts = {
      verdict_with("A, top-1 hits (cos)", "disagrees", {{"s1", "disagrees"}, {"s2", "disagrees"}}),
      verdict_with("B, top-1 hits (cos)", "disagrees", {{"s1", "inconclusive"}, {"s2", "disagrees"}}),
      verdict_with("C, top-1 hits (max)", "agrees", {{"s1", "agrees"}, {"s2", "disagrees"}}),
      verdict_with("E, top-1 hits (min)", "disagrees", {}),  // not swept: left out
      verdict_with("F, top-1 hits (min)", "agrees", {{"s1", "inconclusive"}, {"s2", "agrees"}})};
  const DisagreementRobustness r = classify_disagreements(verdicts);
  CHECK(r.survive == std::vector<std::string>{"A (cos)"});
  CHECK(r.change == std::vector<std::string>{"B (cos) (s1: inconclusive)"});
  CHECK(r.only_elsewhere == std::vector<std::string>{"C (max) (here agrees; disagrees under s2)"});
  CHECK(disagreement_robustness_text(r) ==
        "**Disagreements across the sweep.** Survive every setting: A (cos). Change with the setting: B (cos) "
        "(s1: inconclusive). Disagree only under another setting: C (max) (here agrees; disagrees under s2).");
  CHECK(disagreement_robustness_text({}) ==
        "**Disagreements across the sweep.** Survive every setting: none. Change with the setting: none. "
        "Disagree only under another setting: none.");

  // Against the verdicts themselves: s1 differs for B and F, s2 for C.
  using Counts = std::vector<std::pair<std::string, int>>;
  CHECK(changes_by_setting(verdicts) == Counts{{"s1", 2}, {"s2", 1}});
  // Against s1: s2 differs from s1 for B (inconclusive → disagrees), C and F.
  CHECK(changes_by_setting(verdicts, "s1") == Counts{{"s2", 3}});
}

TEST_CASE("sweep_grid shows each setting's verdict and effect, a change in bold") {
  const std::vector<Verdict> verdicts = {
      verdict_with("A, top-1 hits (cos)", "disagrees", {{"s1", "disagrees"}, {"s2", "inconclusive"}})};
  const Table t = sweep_grid(verdicts);
  CHECK(t.columns == std::vector<std::string>{"measure (a − b)", "verdict", "s1", "s2"});
  REQUIRE(t.rows.size() == 1);
  CHECK(t.rows[0] == std::vector<std::string>{"A (cos)", "disagrees", "disagrees (0.5)", "**inconclusive** (0.5)"});

  const std::vector<Verdict> mismatched = {verdicts[0],
                                           verdict_with("B", "agrees", {{"s1", "agrees"}, {"s3", "agrees"}})};
  CHECK_THROWS_AS(sweep_grid(mismatched), ArgumentError);
  const std::vector<Verdict> shorter = {verdicts[0], verdict_with("B", "agrees", {{"s1", "agrees"}})};
  CHECK_THROWS_AS(sweep_grid(shorter), ArgumentError);
}

TEST_CASE("max_relative_change is the largest per-sample change relative to the sample's largest entry") {
  Tensor<double> b = Tensor<double>::from_shape({2, 2, 2});
  const double bv[] = {1, 2, 3, 5, /* second sample */ 0.5, -4, 2, 1};
  for (std::size_t k = 0; k < 8; ++k) b.flat(k) = bv[k];
  Tensor<double> a = b;
  a(0, 1, 1) = 4;    // sample 0: |4 − 5| / 5 = 0.2
  a(1, 0, 0) = 1.5;  // sample 1: |1.5 − 0.5| / 4 = 0.25
  CHECK(max_relative_change(a, b) == doctest::Approx(0.25).epsilon(1e-12));
  // Only the first sample of b, against a one-sample a.
  Tensor<double> a0 = Tensor<double>::from_shape({1, 2, 2});
  for (std::size_t k = 0; k < 4; ++k) a0.flat(k) = a.flat(k);
  CHECK(max_relative_change(a0, b) == doctest::Approx(0.2).epsilon(1e-12));
  CHECK(max_relative_change(b, b) == 0.0);
  CHECK_THROWS_AS(max_relative_change(b, a0), ArgumentError);  // more samples than the reference
  CHECK_THROWS_AS(max_relative_change(Tensor<double>::from_shape({1, 2, 3}), b), ArgumentError);
}
