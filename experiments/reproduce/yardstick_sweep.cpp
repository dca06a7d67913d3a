// The yardstick and its variants (see yardstick_sweep.hpp).
#include "experiments/reproduce/yardstick_sweep.hpp"

#include <sstream>

#include "autodiff/errors.hpp"

namespace fluxion::experiments {

Yardstick main_yardstick() { return {"deletion/insertion: 2% per step, black, probability", 0.02, 0, OutputKind::probability}; }

std::vector<Yardstick> yardstick_variants() {
  return {{"deletion/insertion: 1% per step", 0.01, 0, OutputKind::probability},
          {"deletion/insertion: 5% per step", 0.05, 0, OutputKind::probability},
          {"deletion/insertion: blurred substrate (σ = 5 px)", 0.02, 5.0, OutputKind::probability},
          {"deletion/insertion: logit instead of probability", 0.02, 0, OutputKind::logit}};
}

FaithfulnessOptions<double> faithfulness_options(const Yardstick& yardstick) {
  FaithfulnessOptions<double> o;
  o.fraction_per_step = yardstick.fraction_per_step;
  o.deletion_baseline.blur_sigma = yardstick.substrate_blur_sigma;
  o.insertion_baseline.blur_sigma = yardstick.substrate_blur_sigma;
  return o;
}

ExplainedOutput<double> scored_output(const ExplainedOutput<double>& explained, const Yardstick& yardstick) {
  ExplainedOutput<double> out = explained;
  out.kind = yardstick.output;
  out.batch_size = 256;
  return out;
}

DeletionInsertion<double> score_curves(const ExplainedOutput<double>& explained, const Tensor<double>& x,
                                       const Tensor<double>& attributions, const std::vector<std::size_t>& targets,
                                       const Yardstick& yardstick) {
  return deletion_insertion(scored_output(explained, yardstick), x, attributions, targets,
                            faithfulness_options(yardstick));
}

std::vector<double> rescore(const ExplainedOutput<double>& explained, const Tensor<double>& x,
                            const Tensor<double>& attributions, const std::vector<std::size_t>& targets,
                            const Yardstick& yardstick, std::size_t m) {
  const std::size_t n = example_count(x, "rescore: the images");
  if (m == 0) m = n;
  if (m > n) throw ArgumentError("rescore: asked for the first " + std::to_string(m) + " images of " + std::to_string(n));
  if (targets.size() != n)
    throw ArgumentError("rescore: " + std::to_string(targets.size()) + " targets for " + std::to_string(n) + " images");
  const std::vector<std::size_t> first_targets(targets.begin(), targets.begin() + std::ptrdiff_t(m));
  return score_curves(explained, take_examples(x, 0, m), take_examples(attributions, 0, m), first_targets, yardstick)
      .difference;
}

std::vector<double> first_entries(const std::vector<double>& per_image, std::size_t m) {
  if (m > per_image.size())
    throw ArgumentError("first_entries: asked for " + std::to_string(m) + " of " + std::to_string(per_image.size()) +
                        " entries");
  return {per_image.begin(), per_image.begin() + std::ptrdiff_t(m)};
}

RescoredRuns rescore_runs(const ExplainedOutput<double>& explained, const ComparisonResult& result,
                          const std::vector<std::string>& labels, std::size_t m) {
  RescoredRuns scores;
  for (const std::string& label : labels) {
    const auto found = result.attributions.find(label);
    if (found == result.attributions.end())
      throw ArgumentError("rescore_runs: the comparison has no run labelled \"" + label + "\"");
    for (const Yardstick& y : yardstick_variants())
      scores[label][y.setting] = rescore(explained, result.images, found->second, result.targets, y, m);
  }
  return scores;
}

void add_yardstick_points(Verdict& v, const RescoredRuns& scores, const std::string& a, const std::string& b) {
  for (const Yardstick& y : yardstick_variants())
    add_sweep_point(v, y.setting, scores.at(a).at(y.setting), scores.at(b).at(y.setting));
}

std::string control_setting(std::size_t m) {
  std::ostringstream s;  // a stream: GCC 12 warns falsely on "literal" + std::to_string(...)
  s << "main settings, first " << m << " images (control)";
  return s.str();
}

void add_control_point(Verdict& v, const std::vector<double>& a, const std::vector<double>& b, std::size_t m) {
  add_sweep_point(v, control_setting(m), first_entries(a, m), first_entries(b, m));
}

std::string control_sentence(const std::vector<Verdict>& verdicts) {
  std::size_t controlled = 0, weakened = 0;
  for (const Verdict& v : verdicts) {
    if (v.result != "disagrees") continue;
    for (const SweepPoint& p : v.sweep) {
      if (p.setting.size() < 10 || p.setting.compare(p.setting.size() - 9, 9, "(control)") != 0) continue;
      ++controlled;
      if (p.result != "disagrees") ++weakened;
      break;
    }
  }
  if (controlled == 0) return "";
  std::ostringstream s;
  s << "With the main settings on the subset alone (the control rows), " << weakened << " of these " << controlled
    << (controlled == 1 ? " disagreement is" : " disagreements are") << " already not \"disagrees\"";
  if (weakened > 0) s << ": for them an \"inconclusive\" on the subset reflects the smaller sample, not the setting";
  s << ".";
  return s.str();
}

}  // namespace fluxion::experiments
