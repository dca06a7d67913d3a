// Verdicts on the papers' claims from paired measurements (see verdict.hpp).
#include "experiments/reproduce/verdict.hpp"

#include <cmath>

#include "autodiff/errors.hpp"

namespace fluxion::experiments {

namespace {

/// Student-t density with ν degrees of freedom.
double t_pdf(double t, double dof) {
  const double log_norm = std::lgamma((dof + 1) / 2) - std::lgamma(dof / 2) - 0.5 * std::log(dof * M_PI);
  return std::exp(log_norm - (dof + 1) / 2 * std::log1p(t * t / dof));
}

/// ∫_0^t pdf by composite Simpson's rule on 4000 panels (t ≥ 0).
double t_mass_from_zero(double t, double dof) {
  constexpr int panels = 4000;
  const double h = t / panels;
  double sum = t_pdf(0, dof) + t_pdf(t, dof);
  for (int k = 1; k < panels; ++k) sum += (k % 2 ? 4.0 : 2.0) * t_pdf(k * h, dof);
  return sum * h / 3;
}

void check_pairs(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.empty() || a.size() != b.size()) {
    throw ArgumentError("a paired comparison needs two equally long, non-empty lists, got " +
                        std::to_string(a.size()) + " and " + std::to_string(b.size()));
  }
  for (std::size_t k = 0; k < a.size(); ++k) {
    if (!std::isfinite(a[k]) || !std::isfinite(b[k])) {
      throw ArgumentError("paired comparison: pair " + std::to_string(k) + " is not finite");
    }
  }
}

}  // namespace

double student_t_quantile(double p, double dof) {
  if (!(p > 0 && p < 1)) throw ArgumentError("t quantile: p must be in (0, 1), got " + format_number(p));
  if (!(dof > 0) || !std::isfinite(dof)) throw ArgumentError("t quantile: degrees of freedom must be positive");
  if (p == 0.5) return 0;
  const double target = std::abs(p - 0.5);  // mass between 0 and |t|
  double lo = 0, hi = 1;
  while (t_mass_from_zero(hi, dof) < target) hi *= 2;
  while (hi - lo > 1e-11 * std::max(1.0, hi)) {
    const double mid = 0.5 * (lo + hi);
    (t_mass_from_zero(mid, dof) < target ? lo : hi) = mid;
  }
  const double t = 0.5 * (lo + hi);
  return p > 0.5 ? t : -t;
}

PairedInterval paired_interval(const std::vector<double>& a, const std::vector<double>& b) {
  check_pairs(a, b);
  PairedInterval r;
  r.n = a.size();
  double sum = 0;
  for (std::size_t k = 0; k < r.n; ++k) sum += a[k] - b[k];
  r.effect = sum / double(r.n);
  r.low = r.high = r.effect;
  if (r.n < 2) return r;
  double ss = 0;
  for (std::size_t k = 0; k < r.n; ++k) ss += (a[k] - b[k] - r.effect) * (a[k] - b[k] - r.effect);
  const double se = std::sqrt(ss / double(r.n - 1)) / std::sqrt(double(r.n));
  const double half = student_t_quantile(0.975, double(r.n - 1)) * se;
  r.low = r.effect - half;
  r.high = r.effect + half;
  return r;
}

Verdict better_than(const std::string& experiment, const std::string& claim, const std::string& measure,
                    const std::vector<double>& a, const std::vector<double>& b) {
  Verdict v{experiment, claim, measure, "inconclusive", paired_interval(a, b), 0};
  if (v.interval.n >= 2 && v.interval.low > 0) v.result = "agrees";
  if (v.interval.n >= 2 && v.interval.high < 0) v.result = "disagrees";
  return v;
}

Verdict on_par(const std::string& experiment, const std::string& claim, const std::string& measure,
               const std::vector<double>& a, const std::vector<double>& b, double margin) {
  if (!(margin > 0) || !std::isfinite(margin)) throw ArgumentError("on-par claim: margin must be positive");
  Verdict v{experiment, claim, measure, "inconclusive", paired_interval(a, b), margin};
  if (v.interval.n < 2) return v;
  if (v.interval.low >= -margin && v.interval.high <= margin) v.result = "agrees";
  if (v.interval.low > margin || v.interval.high < -margin) v.result = "disagrees";
  return v;
}

nlohmann::json to_json(const Verdict& v) {
  return {{"experiment", v.experiment}, {"claim", v.claim},         {"measure", v.measure},
          {"result", v.result},         {"effect", v.interval.effect}, {"ci_low", v.interval.low},
          {"ci_high", v.interval.high}, {"n", v.interval.n},        {"margin", v.margin}};
}

Verdict verdict_from_json(const nlohmann::json& j) {
  for (const char* k : {"experiment", "claim", "measure", "result", "effect", "ci_low", "ci_high", "n", "margin"}) {
    if (!j.contains(k)) throw InputError(std::string("verdict record lacks '") + k + "'");
  }
  Verdict v;
  v.experiment = j["experiment"].get<std::string>();
  v.claim = j["claim"].get<std::string>();
  v.measure = j["measure"].get<std::string>();
  v.result = j["result"].get<std::string>();
  v.interval = {j["effect"].get<double>(), j["ci_low"].get<double>(), j["ci_high"].get<double>(),
                j["n"].get<std::size_t>()};
  v.margin = j["margin"].get<double>();
  return v;
}

nlohmann::json verdicts_json(const std::vector<Verdict>& verdicts) {
  nlohmann::json all = nlohmann::json::array();
  for (const Verdict& v : verdicts) all.push_back(to_json(v));
  return all;
}

std::string verdict_section(const std::vector<Verdict>& verdicts) {
  return "**Claims tested** (paired over the same inputs; 95% Student-t interval of the mean difference; "
         "agrees / disagrees when the interval excludes 0, or for an on-par claim lies inside / outside the "
         "margin):\n\n" +
         verdict_table(verdicts, false).markdown() + "\n";
}

Table verdict_table(const std::vector<Verdict>& verdicts, bool with_experiment) {
  Table t;
  if (with_experiment) t.columns.push_back("experiment");
  for (const char* c : {"paper's claim", "measure (a − b)", "verdict", "effect a − b", "95% paired CI", "n"})
    t.columns.push_back(c);
  for (const Verdict& v : verdicts) {
    std::vector<std::string> row;
    if (with_experiment) row.push_back(v.experiment);
    const std::string ci = v.interval.n < 2 ? "n/a (n < 2)"
                                            : "[" + format_number(v.interval.low, 3) + ", " +
                                                  format_number(v.interval.high, 3) + "]";
    row.push_back(v.claim + (v.margin > 0 ? " (on par: within ±" + format_number(v.margin, 3) + ")" : ""));
    row.push_back(v.measure);
    row.push_back("**" + v.result + "**");
    row.push_back(format_number(v.interval.effect, 3));
    row.push_back(ci);
    row.push_back(std::to_string(v.interval.n));
    t.add_row(row);
  }
  return t;
}

}  // namespace fluxion::experiments
