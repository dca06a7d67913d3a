// The yardstick of the MNIST comparisons (deletion / insertion of pixels,
// Petsiuk et al. 2018, "RISE", BMVC; attribution/faithfulness.hpp) and its
// variants for the robustness sweeps of issue 20, item 3.
//
// Per image, the score of an attribution A is
//     insertion AUC − deletion AUC,   AUC = Σ_s (t_{s+1} − t_s)(v_s + v_{s+1})/2,
// of the explained class's output f along the curves (pixels in descending
// order of A, a fraction p of the pixels per step). The main yardstick:
// p = 2%, f = softmax probability, removed pixels set to 0 (black), insertion
// from a black image. Its variants change one setting each: p = 1% or 5%, a
// blurred substrate (deletion replaces pixels by the image blurred with a
// Gaussian of σ = 5 px, insertion starts from that blurred image), or f = the
// logit instead of the probability.
#pragma once
#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "attribution/explained_output.hpp"
#include "attribution/faithfulness.hpp"
#include "experiments/reproduce/comparison.hpp"
#include "experiments/reproduce/verdict.hpp"

namespace fluxion::experiments {

struct Yardstick {
  std::string setting;               // e.g. "deletion/insertion: 5% per step" (a sweep point's name)
  double fraction_per_step = 0.02;   // p
  double substrate_blur_sigma = 0;   // > 0: the blurred substrate (σ in pixels); 0: black
  OutputKind output = OutputKind::probability;
};

/// 2% per step, black substrate, softmax probability (what compare_methods scores).
Yardstick main_yardstick();
/// The four variants: 1% per step, 5% per step, blurred substrate (σ = 5 px), logit.
std::vector<Yardstick> yardstick_variants();

/// The deletion/insertion options of a yardstick.
FaithfulnessOptions<double> faithfulness_options(const Yardstick& yardstick);
/// `explained` with f set to the yardstick's output (batched 256 images at a time).
ExplainedOutput<double> scored_output(const ExplainedOutput<double>& explained, const Yardstick& yardstick);

/// Both curves of the attributions [N, ...] of x [N, ...] for `targets` (N classes).
DeletionInsertion<double> score_curves(const ExplainedOutput<double>& explained, const Tensor<double>& x,
                                       const Tensor<double>& attributions, const std::vector<std::size_t>& targets,
                                       const Yardstick& yardstick);

/// Per image, insertion − deletion AUC of the FIRST m images' attributions
/// under `yardstick` (m ≤ N, ArgumentError otherwise; m = 0: all N).
std::vector<double> rescore(const ExplainedOutput<double>& explained, const Tensor<double>& x,
                            const Tensor<double>& attributions, const std::vector<std::size_t>& targets,
                            const Yardstick& yardstick, std::size_t m = 0);

/// The first m entries of a per-image list (ArgumentError if it has fewer).
std::vector<double> first_entries(const std::vector<double>& per_image, std::size_t m);

/// Scores under every yardstick variant of some runs of a comparison, on its
/// first m images: scores[label][variant setting] = per-image insertion − deletion AUC.
using RescoredRuns = std::map<std::string, std::map<std::string, std::vector<double>>>;
RescoredRuns rescore_runs(const ExplainedOutput<double>& explained, const ComparisonResult& result,
                          const std::vector<std::string>& labels, std::size_t m);

/// One sweep point per yardstick variant: the claim judged on a's and b's rescored scores.
void add_yardstick_points(Verdict& v, const RescoredRuns& scores, const std::string& a, const std::string& b);

/// The control of a sweep on the first m images: the claim judged with the
/// main settings on those m images alone ("main settings, first m images
/// (control)"). Where the control is already inconclusive, a sweep point on
/// the same m images that turns inconclusive reflects the smaller sample, not
/// its setting.
std::string control_setting(std::size_t m);
void add_control_point(Verdict& v, const std::vector<double>& a, const std::vector<double>& b, std::size_t m);

/// One sentence from the control points of the disagreeing verdicts: how many
/// of them are already not "disagrees" on the first m images alone ("" if none
/// has a control point).
std::string control_sentence(const std::vector<Verdict>& verdicts);

}  // namespace fluxion::experiments
