// Verdicts on the papers' claims from paired measurements (see verdict.hpp).
#include "experiments/reproduce/verdict.hpp"

#include <cmath>
#include <map>
#include <mutex>
#include <sstream>

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

namespace {

/// t_{dof, 0.975}, memoised: each quantile costs ~10 ms of quadrature, and a
/// report's intervals (its sweeps included) share a few sample counts.
double t_975(std::size_t dof) {
  static std::mutex guard;
  static std::map<std::size_t, double> known;
  const std::lock_guard<std::mutex> lock(guard);
  const auto it = known.find(dof);
  if (it != known.end()) return it->second;
  return known[dof] = student_t_quantile(0.975, double(dof));
}

}  // namespace

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
  const double half = t_975(r.n - 1) * se;
  r.low = r.effect - half;
  r.high = r.effect + half;
  return r;
}

namespace {

/// The better-than rule (margin 0) or the on-par rule on one interval.
std::string judged(const PairedInterval& i, double margin) {
  if (i.n < 2) return "inconclusive";
  if (margin > 0) {
    if (i.low >= -margin && i.high <= margin) return "agrees";
    if (i.low > margin || i.high < -margin) return "disagrees";
    return "inconclusive";
  }
  if (i.low > 0) return "agrees";
  if (i.high < 0) return "disagrees";
  return "inconclusive";
}

std::string interval_text(const PairedInterval& i) {
  return i.n < 2 ? "n/a (n < 2)" : "[" + format_number(i.low, 3) + ", " + format_number(i.high, 3) + "]";
}

}  // namespace

Verdict better_than(const std::string& experiment, const std::string& claim, const std::string& measure,
                    const std::vector<double>& a, const std::vector<double>& b) {
  Verdict v{experiment, claim, measure, "", paired_interval(a, b), 0, {}};
  v.result = judged(v.interval, 0);
  return v;
}

Verdict on_par(const std::string& experiment, const std::string& claim, const std::string& measure,
               const std::vector<double>& a, const std::vector<double>& b, double margin) {
  if (!(margin > 0) || !std::isfinite(margin)) throw ArgumentError("on-par claim: margin must be positive");
  Verdict v{experiment, claim, measure, "", paired_interval(a, b), margin, {}};
  v.result = judged(v.interval, margin);
  return v;
}

void add_sweep_point(Verdict& v, const std::string& setting, const std::vector<double>& a,
                     const std::vector<double>& b) {
  SweepPoint p{setting, "", paired_interval(a, b)};
  p.result = judged(p.interval, v.margin);
  v.sweep.push_back(std::move(p));
}

std::string robustness_summary(const Verdict& v) {
  if (v.sweep.empty()) return "not swept";
  std::string changed;
  std::size_t k = 0;
  for (const SweepPoint& p : v.sweep) {
    if (p.result == v.result) continue;
    changed += (k++ ? ", " : "") + p.setting + " (" + p.result + ")";
  }
  const std::string total = std::to_string(v.sweep.size());
  if (k == 0) return "same in all " + total + " settings";
  return "changes in " + std::to_string(k) + " of " + total + ": " + changed;
}

std::string disagreement_survival(const std::vector<Verdict>& verdicts) {
  std::size_t disagreeing = 0, swept = 0, surviving = 0, reversed = 0;
  for (const Verdict& v : verdicts) {
    if (v.result != "disagrees") continue;
    ++disagreeing;
    if (v.sweep.empty()) continue;
    ++swept;
    bool all = true, agrees = false;
    for (const SweepPoint& p : v.sweep) all = all && p.result == "disagrees", agrees = agrees || p.result == "agrees";
    if (all) ++surviving;
    if (agrees) ++reversed;
  }
  if (disagreeing == 0) return "No verdict disagrees with the paper, so no disagreement had to survive a sweep.";
  // Built with a stream: GCC 12 warns falsely on "literal" + std::to_string(...).
  std::ostringstream s;
  const auto count = [&s](std::size_t k, const char* one, const char* many) { s << k << ' ' << (k == 1 ? one : many); };
  s << "Of the ";
  count(disagreeing, "verdict that disagrees", "verdicts that disagree");
  s << " with the paper, ";
  if (swept == 0) {
    s << "none is swept.";
    return s.str();
  }
  if (swept == disagreeing) s << (swept == 1 ? "it is" : "all are");
  else s << swept << " are";
  s << " swept: ";
  count(surviving, "disagrees", "disagree");
  s << " in every swept setting";
  if (surviving < swept) {
    s << " and ";
    count(swept - surviving, "changes", "change");
    s << " in at least one (";
    if (reversed == 0) s << "to inconclusive, never to agrees";
    else s << reversed << " of them to agrees in some setting";
    s << "; the 'across settings' column names the settings)";
  }
  if (swept < disagreeing) {
    s << "; ";
    count(disagreeing - swept, "is", "are");
    s << " not swept";
  }
  s << (surviving == swept ? " — the disagreements survive the sweep." : ".");
  return s.str();
}

namespace {

nlohmann::json sweep_json(const Verdict& v) {
  nlohmann::json all = nlohmann::json::array();
  for (const SweepPoint& p : v.sweep)
    all.push_back({{"setting", p.setting}, {"result", p.result}, {"effect", p.interval.effect},
                   {"ci_low", p.interval.low}, {"ci_high", p.interval.high}, {"n", p.interval.n}});
  return all;
}

}  // namespace

nlohmann::json to_json(const Verdict& v) {
  return {{"experiment", v.experiment}, {"claim", v.claim},         {"measure", v.measure},
          {"result", v.result},         {"effect", v.interval.effect}, {"ci_low", v.interval.low},
          {"ci_high", v.interval.high}, {"n", v.interval.n},        {"margin", v.margin},
          {"sweep", sweep_json(v)}};
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
  if (j.contains("sweep")) {  // optional: records written before sweeps existed have none
    for (const auto& p : j["sweep"]) {
      for (const char* k : {"setting", "result", "effect", "ci_low", "ci_high", "n"}) {
        if (!p.contains(k)) throw InputError(std::string("verdict sweep record lacks '") + k + "'");
      }
      v.sweep.push_back({p["setting"].get<std::string>(), p["result"].get<std::string>(),
                         {p["effect"].get<double>(), p["ci_low"].get<double>(), p["ci_high"].get<double>(),
                          p["n"].get<std::size_t>()}});
    }
  }
  return v;
}

nlohmann::json verdicts_json(const std::vector<Verdict>& verdicts) {
  nlohmann::json all = nlohmann::json::array();
  for (const Verdict& v : verdicts) all.push_back(to_json(v));
  return all;
}

namespace {

/// Each swept verdict's sweep as a table, under a line naming the claim.
std::string sweep_tables(const std::vector<Verdict>& verdicts) {
  std::string md;
  for (const Verdict& v : verdicts) {
    if (v.sweep.empty()) continue;
    Table t;
    t.columns = {"setting", "verdict", "effect a − b", "95% paired CI", "n"};
    for (const SweepPoint& p : v.sweep)
      t.add_row({p.setting, p.result == v.result ? p.result : "**" + p.result + "**", format_number(p.interval.effect, 3),
                 interval_text(p.interval), std::to_string(p.interval.n)});
    md += "*Across settings* — " + v.claim + ", " + v.measure + " (here: **" + v.result + "**; " +
          robustness_summary(v) + "; a changed verdict in bold):\n\n" + t.markdown() + "\n";
  }
  return md;
}

}  // namespace

std::string verdict_section(const std::vector<Verdict>& verdicts) {
  return "**Claims tested** (paired over the same inputs; 95% Student-t interval of the mean difference; "
         "agrees / disagrees when the interval excludes 0, or for an on-par claim lies inside / outside the "
         "margin):\n\n" +
         verdict_table(verdicts, false).markdown() + "\n" + sweep_tables(verdicts);
}

Table verdict_table(const std::vector<Verdict>& verdicts, bool with_experiment) {
  Table t;
  if (with_experiment) t.columns.push_back("experiment");
  for (const char* c :
       {"paper's claim", "measure (a − b)", "verdict", "effect a − b", "95% paired CI", "n", "across settings"})
    t.columns.push_back(c);
  for (const Verdict& v : verdicts) {
    std::vector<std::string> row;
    if (with_experiment) row.push_back(v.experiment);
    const std::string ci = interval_text(v.interval);
    row.push_back(v.claim + (v.margin > 0 ? " (on par: within ±" + format_number(v.margin, 3) + ")" : ""));
    row.push_back(v.measure);
    row.push_back("**" + v.result + "**");
    row.push_back(format_number(v.interval.effect, 3));
    row.push_back(ci);
    row.push_back(std::to_string(v.interval.n));
    row.push_back(robustness_summary(v));
    t.add_row(row);
  }
  return t;
}

}  // namespace fluxion::experiments
