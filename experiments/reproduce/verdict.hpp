// A computed verdict on one claim of a paper, from per-image (or per-sample)
// paired measurements of two methods on the same inputs.
//
// With d_k = a_k − b_k (k = 1 … n) the effect is d̄ = (1/n) Σ d_k and the 95%
// paired confidence interval is the Student-t interval
//     d̄ ± t_{n−1, 0.975} · s_d / √n,   s_d² = (1/(n−1)) Σ (d_k − d̄)²
// (the paired t-test at level 0.05 rejects "no difference" exactly when the
// interval excludes 0). A claim is one of
//   - "a is better than b" (higher is better): agrees if the interval lies
//     above 0, disagrees if it lies below 0, inconclusive otherwise;
//   - "a is on par with b" within a stated margin δ: agrees if the interval
//     lies inside [−δ, δ], disagrees if it lies wholly outside (above δ or
//     below −δ), inconclusive otherwise.
// Fewer than 2 pairs give no interval: inconclusive, the interval collapsed
// to the effect.
//
// Robustness to settings (issue 20, item 3): a verdict can carry a sweep, the
// same claim judged again under other settings of the methods or of the
// yardstick (add_sweep_point: the same rule, the same margin, on that
// setting's pairs). robustness_summary says whether the verdict survives:
// "same in all K settings", or "changes in k of K: <setting> (<result>), …".
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "experiments/lib/report.hpp"

namespace fluxion::experiments {

/// The p-quantile of Student's t distribution with `dof` > 0 degrees of
/// freedom, p ∈ (0, 1): the t with ∫_{−∞}^t pdf = p, the pdf
/// Γ((ν+1)/2) / (√(νπ) Γ(ν/2)) · (1 + t²/ν)^{−(ν+1)/2} integrated by composite
/// Simpson's rule and the equation solved by bisection (|error| < 1e-9).
/// ArgumentError for p outside (0, 1) or dof ≤ 0.
double student_t_quantile(double p, double dof);

struct PairedInterval {
  double effect = 0, low = 0, high = 0;  // mean difference a − b and its 95% interval
  std::size_t n = 0;
};

/// The 95% paired interval of a − b. ArgumentError for lists of different
/// or zero length, or non-finite entries.
PairedInterval paired_interval(const std::vector<double>& a, const std::vector<double>& b);

/// The claim judged again under one other setting (a sweep point).
struct SweepPoint {
  std::string setting;  // e.g. "IG2 η = 0.04" or "deletion: 5% per step"
  std::string result;   // "agrees" | "disagrees" | "inconclusive"
  PairedInterval interval;
};

struct Verdict {
  std::string experiment;  // e.g. "ig2"
  std::string claim;       // the paper's claim, in words
  std::string measure;     // what a − b is, e.g. "IG2 − IG (black), insertion − deletion AUC"
  std::string result;      // "agrees" | "disagrees" | "inconclusive"
  PairedInterval interval;
  double margin = 0;  // δ of an on-par claim (0 for better-than claims)
  std::vector<SweepPoint> sweep;  // the same claim under other settings (empty: not swept)
};

/// "a is better than b": the verdict described above.
Verdict better_than(const std::string& experiment, const std::string& claim, const std::string& measure,
                    const std::vector<double>& a, const std::vector<double>& b);
/// "a is on par with b within ±margin" (margin > 0, ArgumentError otherwise).
Verdict on_par(const std::string& experiment, const std::string& claim, const std::string& measure,
               const std::vector<double>& a, const std::vector<double>& b, double margin);

/// Judges v's claim (better-than, or on-par within v.margin) on the pairs
/// (a, b) of another setting and appends the result to v.sweep.
void add_sweep_point(Verdict& v, const std::string& setting, const std::vector<double>& a,
                     const std::vector<double>& b);

/// "not swept" (no sweep), "same in all K settings", or
/// "changes in k of K: <setting> (<result>), …" (the settings whose result
/// differs from v.result, in sweep order).
std::string robustness_summary(const Verdict& v);

/// One sentence on whether the disagreements with the papers survive the
/// sweeps, counted over the verdicts whose result is "disagrees": how many are
/// swept, how many of those disagree in every swept setting, how many change
/// in at least one (and whether any of those agrees in some setting), and how
/// many are not swept.
std::string disagreement_survival(const std::vector<Verdict>& verdicts);

nlohmann::json to_json(const Verdict& v);
Verdict verdict_from_json(const nlohmann::json& j);  // InputError naming the missing key

/// The verdicts as a JSON array (an experiment stores it under "verdicts" in
/// numbers.json; REPORT.md's summary table is built from these arrays).
nlohmann::json verdicts_json(const std::vector<Verdict>& verdicts);

/// "**Claims tested.**" followed by the verdict table (for an experiment's
/// section), then, for each swept verdict, its sweep as a table (setting,
/// verdict, effect, 95% CI, n).
std::string verdict_section(const std::vector<Verdict>& verdicts);

/// A table of verdicts: experiment, claim, measure, verdict, effect, 95% CI,
/// n, and "across settings" (robustness_summary).
Table verdict_table(const std::vector<Verdict>& verdicts, bool with_experiment);

}  // namespace fluxion::experiments
