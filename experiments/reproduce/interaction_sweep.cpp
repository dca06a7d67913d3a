// The Integrated Hessians claims and their sweep (see interaction_sweep.hpp).
#include "experiments/reproduce/interaction_sweep.hpp"

#include <algorithm>
#include <cmath>

#include "autodiff/errors.hpp"

namespace fluxion::experiments {

namespace {

/// The method IH is compared with in claim k, and whether the claim is on-par.
struct Comparison {
  const char* method;
  const char* name;
  bool on_par;
};
constexpr Comparison kComparisons[] = {{"input_hessian", "input Hessian", false},
                                       {"hessian_x_input", "Hessian × input", false},
                                       {"shapley_interaction", "Shapley interaction", true}};

const std::vector<double>& hits_of(const MethodHits& hits, const std::string& method) {
  const auto it = hits.find(method);
  if (it == hits.end()) throw ArgumentError("interaction claims: no hits for method '" + method + "'");
  return it->second;
}

std::string joined(const std::vector<std::string>& items) {
  if (items.empty()) return "none";
  std::string s;
  for (const auto& item : items) s += (s.empty() ? "" : "; ") + item;
  return s;
}

}  // namespace

std::string recomputed_name(Recomputed r) {
  switch (r) {
    case Recomputed::nothing: return "nothing";
    case Recomputed::integrated_hessians: return "integrated_hessians";
    case Recomputed::every_method: return "every method";
  }
  return "";
}

std::vector<Verdict> interaction_claims(const MethodHits& hits, const std::string& scope,
                                        const std::string& yardstick) {
  const auto& ih = hits_of(hits, "integrated_hessians");
  const std::string suffix = ", top-1 hits (" + scope + "; truth: " + yardstick + ")";
  const std::string better = "IH recovers planted interactions better than ";
  std::vector<Verdict> verdicts;
  for (const Comparison& c : kComparisons) {
    const std::string measure = std::string("IH − ") + c.name + suffix;
    const auto& other = hits_of(hits, c.method);
    verdicts.push_back(c.on_par ? on_par("interactions", "IH is on par with Shapley interaction values", measure, ih,
                                         other, kShapleyParMargin)
                                : better_than("interactions", better + (c.method == std::string("input_hessian")
                                                                            ? "the input Hessian"
                                                                            : "Hessian × input"),
                                              measure, ih, other));
  }
  return verdicts;
}

void add_interaction_sweep_points(std::vector<Verdict>& claims_of_scope, const std::string& setting,
                                  const MethodHits& hits) {
  constexpr std::size_t count = std::size(kComparisons);
  if (claims_of_scope.size() != count) {
    throw ArgumentError("interaction sweep: expected the " + std::to_string(count) + " claims of one scope, got " +
                        std::to_string(claims_of_scope.size()));
  }
  const auto& ih = hits_of(hits, "integrated_hessians");
  for (std::size_t k = 0; k < count; ++k)
    add_sweep_point(claims_of_scope[k], setting, ih, hits_of(hits, kComparisons[k].method));
}

std::string short_measure(const Verdict& v) {
  const std::string phrase = ", top-1 hits";
  std::string m = v.measure;
  const auto at = m.find(phrase);
  if (at != std::string::npos) m.erase(at, phrase.size());
  return m;
}

DisagreementRobustness classify_disagreements(const std::vector<Verdict>& verdicts) {
  DisagreementRobustness r;
  for (const Verdict& v : verdicts) {
    if (v.sweep.empty()) continue;
    std::string differing, disagreeing;
    for (const SweepPoint& p : v.sweep) {
      if (p.result != v.result) differing += (differing.empty() ? "" : ", ") + p.setting + ": " + p.result;
      if (p.result == "disagrees") disagreeing += (disagreeing.empty() ? "" : ", ") + p.setting;
    }
    if (v.result == "disagrees") {
      if (differing.empty()) r.survive.push_back(short_measure(v));
      else r.change.push_back(short_measure(v) + " (" + differing + ")");
    } else if (!disagreeing.empty()) {
      r.only_elsewhere.push_back(short_measure(v) + " (here " + v.result + "; disagrees under " + disagreeing + ")");
    }
  }
  return r;
}

std::string disagreement_robustness_text(const DisagreementRobustness& r) {
  return "**Disagreements across the sweep.** Survive every setting: " + joined(r.survive) +
         ". Change with the setting: " + joined(r.change) + ". Disagree only under another setting: " +
         joined(r.only_elsewhere) + ".";
}

std::vector<std::pair<std::string, int>> changes_by_setting(const std::vector<Verdict>& verdicts,
                                                            const std::string& reference) {
  std::vector<std::pair<std::string, int>> counts;
  for (const Verdict& v : verdicts) {
    std::string baseline = v.result;
    for (const SweepPoint& p : v.sweep)
      if (!reference.empty() && p.setting == reference) baseline = p.result;
    for (const SweepPoint& p : v.sweep) {
      if (!reference.empty() && p.setting == reference) continue;
      auto it = std::find_if(counts.begin(), counts.end(), [&](const auto& c) { return c.first == p.setting; });
      if (it == counts.end()) it = counts.insert(counts.end(), {p.setting, 0});
      it->second += p.result != baseline;
    }
  }
  return counts;
}

double max_relative_change(const Tensor<double>& a, const Tensor<double>& b) {
  if (a.dimension() != 3 || b.dimension() != 3 || a.shape()[1] != b.shape()[1] || a.shape()[2] != b.shape()[2] ||
      a.shape()[0] > b.shape()[0]) {
    throw ArgumentError("max_relative_change needs a [N', d, d] and b [N, d, d] with N' <= N");
  }
  const std::size_t per_sample = a.shape()[1] * a.shape()[2];
  double worst = 0;
  for (std::size_t n = 0; n < a.shape()[0]; ++n) {
    double diff = 0, size = 0;
    for (std::size_t k = 0; k < per_sample; ++k) {
      diff = std::max(diff, std::abs(a.flat(n * per_sample + k) - b.flat(n * per_sample + k)));
      size = std::max(size, std::abs(b.flat(n * per_sample + k)));
    }
    if (size > 0) worst = std::max(worst, diff / size);
  }
  return worst;
}

Table sweep_grid(const std::vector<Verdict>& verdicts) {
  Table t;
  t.columns = {"measure (a − b)", "verdict"};
  if (verdicts.empty()) return t;
  for (const SweepPoint& p : verdicts.front().sweep) t.columns.push_back(p.setting);
  for (const Verdict& v : verdicts) {
    if (v.sweep.size() != verdicts.front().sweep.size()) {
      throw ArgumentError("sweep grid: '" + v.measure + "' has " + std::to_string(v.sweep.size()) +
                          " sweep settings, the first verdict " + std::to_string(verdicts.front().sweep.size()));
    }
    std::vector<std::string> row = {short_measure(v), v.result};
    for (std::size_t k = 0; k < v.sweep.size(); ++k) {
      const SweepPoint& p = v.sweep[k];
      if (p.setting != verdicts.front().sweep[k].setting) {
        throw ArgumentError("sweep grid: '" + v.measure + "' has setting '" + p.setting + "' where the first verdict has '" +
                            verdicts.front().sweep[k].setting + "'");
      }
      const std::string result = p.result == v.result ? p.result : "**" + p.result + "**";
      row.push_back(result + " (" + format_number(p.interval.effect, 3) + ")");
    }
    t.add_row(row);
  }
  return t;
}

}  // namespace fluxion::experiments
