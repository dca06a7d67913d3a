// Verdicts on synthetic paired data with known answers: the Student-t
// quantile against its closed forms (ν = 1, 2, 4) and the normal limit, the
// paired interval against a hand computation, and each verdict rule on data
// built to agree, disagree or be inconclusive.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "autodiff/errors.hpp"
#include "experiments/reproduce/verdict.hpp"

using namespace fluxion;
using namespace fluxion::experiments;

namespace {

/// ν = 4: t_p = sign(p − ½) · 2 √(q − 1), q = cos(arccos(√α) / 3) / √α, α = 4p(1 − p)
/// (Hill 1970; Shaw 2006, "Sampling Student's T distribution").
double t4_closed_form(double p) {
  const double alpha = 4 * p * (1 - p);
  const double q = std::cos(std::acos(std::sqrt(alpha)) / 3) / std::sqrt(alpha);
  return (p > 0.5 ? 1 : -1) * 2 * std::sqrt(q - 1);
}

}  // namespace

TEST_CASE("student_t_quantile matches the closed forms for 1, 2 and 4 degrees of freedom") {
  for (double p : {0.6, 0.9, 0.975, 0.995, 0.025, 0.3}) {
    INFO("p = " << p);
    CHECK(student_t_quantile(p, 1) == doctest::Approx(std::tan(M_PI * (p - 0.5))).epsilon(1e-9));  // Cauchy
    CHECK(student_t_quantile(p, 2) == doctest::Approx((2 * p - 1) / std::sqrt(2 * p * (1 - p))).epsilon(1e-9));
    CHECK(student_t_quantile(p, 4) == doctest::Approx(t4_closed_form(p)).epsilon(1e-9));
  }
  CHECK(student_t_quantile(0.5, 7) == 0.0);
  // ν → ∞: the normal quantile Φ⁻¹(0.975) = 1.959963984540054; t_{0.975, 10⁶} exceeds it by ≈ 1.5e-6.
  CHECK(std::abs(student_t_quantile(0.975, 1e6) - 1.959963984540054) < 3e-6);
  CHECK_THROWS_AS(student_t_quantile(0, 3), ArgumentError);
  CHECK_THROWS_AS(student_t_quantile(1, 3), ArgumentError);
  CHECK_THROWS_AS(student_t_quantile(0.9, 0), ArgumentError);
}

TEST_CASE("paired_interval is the mean difference ± t · s / √n, computed by hand") {
  // d = a − b = 1, 2, 3, 4, 5: mean 3, s² = 10/4, se = √(2.5/5), t_{0.975, 4} by the closed form.
  const std::vector<double> a = {1.5, 2.5, 3.5, 4.5, 5.5}, b = {0.5, 0.5, 0.5, 0.5, 0.5};
  const PairedInterval r = paired_interval(a, b);
  const double half = t4_closed_form(0.975) * std::sqrt(2.5 / 5);
  CHECK(r.n == 5);
  CHECK(r.effect == doctest::Approx(3).epsilon(1e-14));
  CHECK(r.low == doctest::Approx(3 - half).epsilon(1e-9));
  CHECK(r.high == doctest::Approx(3 + half).epsilon(1e-9));
  // One pair: no interval.
  const PairedInterval one = paired_interval({2.0}, {0.5});
  CHECK(one.effect == 1.5);
  CHECK(one.low == 1.5);
  CHECK(one.high == 1.5);
  CHECK_THROWS_AS(paired_interval({1, 2}, {1}), ArgumentError);
  CHECK_THROWS_AS(paired_interval({}, {}), ArgumentError);
  CHECK_THROWS_AS(paired_interval({1, NAN}, {1, 2}), ArgumentError);
}

TEST_CASE("better_than agrees, disagrees or is inconclusive as the interval says") {
  // a beats b on every pair by 0.1 ± 0.01 (the noise sums to 0.002): agrees.
  std::vector<double> a, b, noise = {0.01, -0.01, 0.005, -0.005, 0.0, 0.008, -0.008, 0.002};
  for (double e : noise) a.push_back(0.6 + e), b.push_back(0.5);
  const Verdict good = better_than("x", "a beats b", "a − b", a, b);
  CHECK(good.result == "agrees");
  CHECK(good.interval.effect == doctest::Approx(0.1 + 0.002 / 8).epsilon(1e-12));
  CHECK(good.interval.low > 0.09);
  // Swapped: disagrees with the same width.
  const Verdict bad = better_than("x", "b beats a", "b − a", b, a);
  CHECK(bad.result == "disagrees");
  CHECK(bad.interval.high == doctest::Approx(-good.interval.low).epsilon(1e-12));
  // Differences ±1 around 0 (mean 0.05): the interval spans 0.
  const Verdict unclear = better_than("x", "a beats b", "a − b", {1, -1, 1.2, -1, 1, -1}, {0, 0, 0, 0, 0, 0});
  CHECK(unclear.result == "inconclusive");
  CHECK(unclear.interval.low < 0);
  CHECK(unclear.interval.high > 0);
  // A single pair never decides.
  CHECK(better_than("x", "c", "m", {5}, {0}).result == "inconclusive");
}

TEST_CASE("on_par uses the margin: inside agrees, wholly outside disagrees, overlapping is inconclusive") {
  const std::vector<double> zero(6, 0.0);
  const std::vector<double> tiny = {0.001, -0.001, 0.002, -0.002, 0.0, 0.0};  // interval ≈ ±0.0016
  CHECK(on_par("x", "c", "m", tiny, zero, 0.05).result == "agrees");
  const std::vector<double> far = {0.3, 0.31, 0.29, 0.3, 0.305, 0.295};  // ≈ 0.3 ± 0.008
  CHECK(on_par("x", "c", "m", far, zero, 0.05).result == "disagrees");
  CHECK(on_par("x", "c", "m", zero, far, 0.05).result == "disagrees");
  const std::vector<double> edge = {0.05, 0.06, 0.04, 0.05, 0.055, 0.045};  // straddles +0.05
  CHECK(on_par("x", "c", "m", edge, zero, 0.05).result == "inconclusive");
  CHECK_THROWS_AS(on_par("x", "c", "m", tiny, zero, 0), ArgumentError);
}

TEST_CASE("verdicts round-trip through JSON and make a table") {
  const Verdict v = on_par("smoothing", "keeps accuracy", "acc(β) − acc", {1, 1, 0}, {1, 1, 1}, 0.01);
  const Verdict back = verdict_from_json(to_json(v));
  CHECK(back.experiment == "smoothing");
  CHECK(back.result == v.result);
  CHECK(back.interval.low == v.interval.low);
  CHECK(back.interval.n == 3);
  CHECK(back.margin == 0.01);
  nlohmann::json broken = to_json(v);
  broken.erase("ci_low");
  CHECK_THROWS_AS(verdict_from_json(broken), InputError);
  const Table t = verdict_table({v, back}, true);
  CHECK(t.columns.size() == 8);
  CHECK(t.rows[0][7] == "not swept");
  CHECK(t.rows.size() == 2);
  CHECK(t.rows[0][3] == "**" + v.result + "**");
}

TEST_CASE("a sweep judges the same claim under each setting and says whether the verdict survives") {
  // Main setting: a − b = −0.1 on every pair (noise ±0.01): disagrees.
  const std::vector<double> noise = {0.01, -0.01, 0.005, -0.005, 0.0};
  std::vector<double> a, b, a_same, a_flip, a_flat;
  for (double e : noise) {
    b.push_back(0.5);
    a.push_back(0.4 + e);
    a_same.push_back(0.3 + e);            // −0.2: still disagrees
    a_flip.push_back(0.6 + e);            // +0.1: agrees
    a_flat.push_back(0.5 + 10 * e);       // mean 0, spread ±0.1: inconclusive
  }
  Verdict v = better_than("ig2", "a beats b", "a − b", a, b);
  REQUIRE(v.result == "disagrees");
  CHECK(robustness_summary(v) == "not swept");
  add_sweep_point(v, "K = 10", a_same, b);
  REQUIRE(v.sweep.size() == 1);
  CHECK(v.sweep[0].result == "disagrees");
  CHECK(v.sweep[0].interval.effect == doctest::Approx(-0.2).epsilon(1e-12));  // the noise sums to 0
  CHECK(robustness_summary(v) == "same in all 1 settings");
  add_sweep_point(v, "η = 0.04", a_flip, b);
  add_sweep_point(v, "logit", a_flat, b);
  CHECK(v.sweep[1].result == "agrees");
  CHECK(v.sweep[2].result == "inconclusive");
  CHECK(robustness_summary(v) == "changes in 2 of 3: η = 0.04 (agrees), logit (inconclusive)");
  // An on-par verdict's sweep uses its margin: ±0.001 around 0 is on par within 0.05.
  Verdict p = on_par("smoothing", "on par", "m", {0.3, 0.31, 0.29}, {0, 0, 0}, 0.05);
  REQUIRE(p.result == "disagrees");
  add_sweep_point(p, "β = 1", {0.001, -0.001, 0.0}, {0, 0, 0});
  CHECK(p.sweep[0].result == "agrees");
  // The sweep survives JSON and shows in the table and the section.
  const Verdict back = verdict_from_json(to_json(v));
  REQUIRE(back.sweep.size() == 3);
  CHECK(back.sweep[1].setting == "η = 0.04");
  CHECK(back.sweep[1].interval.low == v.sweep[1].interval.low);
  CHECK(robustness_summary(back) == robustness_summary(v));
  nlohmann::json old = to_json(v);
  old.erase("sweep");  // records written before sweeps: no sweep
  CHECK(verdict_from_json(old).sweep.empty());
  old = to_json(v);
  old["sweep"][0].erase("n");
  CHECK_THROWS_AS(verdict_from_json(old), InputError);
  CHECK(verdict_table({v}, false).rows[0][6] == robustness_summary(v));
  const std::string md = verdict_section({v});
  CHECK(md.find("*Across settings* — a beats b") != std::string::npos);
  CHECK(md.find("| η = 0.04 | **agrees** |") != std::string::npos);
  CHECK(md.find("| K = 10 | disagrees |") != std::string::npos);
}

TEST_CASE("disagreement_survival counts the disagreeing verdicts that keep their result in every swept setting") {
  const std::vector<double> b = {0.5, 0.5, 0.5, 0.5};
  const std::vector<double> lower = {0.40, 0.41, 0.39, 0.40};   // −0.1 ± 0.01: disagrees
  const std::vector<double> higher = {0.60, 0.61, 0.59, 0.60};  // +0.1: agrees
  Verdict kept = better_than("x", "c1", "m1", lower, b);
  add_sweep_point(kept, "s1", lower, b);
  add_sweep_point(kept, "s2", lower, b);
  Verdict flipped = better_than("x", "c2", "m2", lower, b);
  add_sweep_point(flipped, "s1", higher, b);
  const Verdict unswept = better_than("x", "c3", "m3", lower, b);
  const Verdict agreeing = better_than("x", "c4", "m4", higher, b);  // not counted: it agrees
  CHECK(disagreement_survival({agreeing}) ==
        "No verdict disagrees with the paper, so no disagreement had to survive a sweep.");
  CHECK(disagreement_survival({unswept}) == "Of the 1 verdict that disagrees with the paper, none is swept.");
  CHECK(disagreement_survival({kept, agreeing}) ==
        "Of the 1 verdict that disagrees with the paper, it is swept: 1 disagrees in every swept setting — "
        "the disagreements survive the sweep.");
  CHECK(disagreement_survival({kept, flipped, unswept, agreeing}) ==
        "Of the 3 verdicts that disagree with the paper, 2 are swept: 1 disagrees in every swept setting and 1 "
        "changes in at least one (1 of them to agrees in some setting; the 'across settings' column names the "
        "settings); 1 is not swept.");
  Verdict softened = better_than("x", "c5", "m5", lower, b);
  add_sweep_point(softened, "s1", {0.60, 0.40, 0.55, 0.45}, b);  // mean 0: inconclusive
  REQUIRE(softened.sweep[0].result == "inconclusive");
  CHECK(disagreement_survival({kept, softened}) ==
        "Of the 2 verdicts that disagree with the paper, all are swept: 1 disagrees in every swept setting and 1 "
        "changes in at least one (to inconclusive, never to agrees; the 'across settings' column names the "
        "settings).");
  CHECK(disagreement_survival({kept, kept}) ==
        "Of the 2 verdicts that disagree with the paper, all are swept: 2 disagree in every swept setting — the "
        "disagreements survive the sweep.");
}

TEST_CASE("Table::markdown escapes a '|' inside a cell") {
  Table t;
  t.columns = {"name", "max |Δ|"};
  t.add_row({"a|b", "1"});
  CHECK(t.markdown() == "| name | max \\|Δ\\| |\n| :--- | ---: |\n| a\\|b | 1 |\n");
  CHECK(t.csv() == "name,max |Δ|\na|b,1\n");  // CSV keeps the text as it is
}
