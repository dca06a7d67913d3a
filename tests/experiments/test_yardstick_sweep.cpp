// The yardstick variants of the robustness sweeps (experiments/reproduce/
// yardstick_sweep.hpp), checked by value:
//   * on a linear model z = (w·x, 0) on 10×10 images the deletion and insertion
//     curves are sums of the contributions w_i (x_i − b_i) of the ranked pixels
//     (b = the substrate: 0, or the blurred image), so every variant's
//     insertion − deletion AUC is computed here by hand (sorting, cumulative
//     sums, the trapezoid) and compared with rescore;
//   * a constant image is its own blur, so under the blurred substrate nothing
//     changes along either curve and the score is exactly f(x) − f(x) = 0;
//   * rescoring compare_methods' stored attributions at the main setting
//     reproduces compare_methods' own per-image numbers exactly.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "attribution/gaussian_blur.hpp"
#include "autodiff/errors.hpp"
#include "experiments/reproduce/comparison.hpp"
#include "experiments/reproduce/yardstick_sweep.hpp"
#include "nn/models/architecture.hpp"
#include "tests/nn/scratch_dir.hpp"

using namespace fluxion;
using namespace fluxion::experiments;

namespace {

constexpr std::size_t kSide = 10, kPixels = kSide * kSide;

/// Logits [w·x, 0] for x [N, 1, 10, 10].
Function<double> linear_two_class(const std::vector<double>& w) {
  Tensor<double> weights = Tensor<double>::from_shape({w.size(), 2});
  for (std::size_t i = 0; i < w.size(); ++i) weights(i, 0) = w[i], weights(i, 1) = 0;
  return [weights](const Var<double>& x) { return matmul(flatten(x), Var<double>(weights)); };
}

std::vector<double> uniform(std::size_t count, double low, double high, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(low, high);
  std::vector<double> v(count);
  for (double& e : v) e = u(rng);
  return v;
}

double sigmoid(double z) { return 1.0 / (1.0 + std::exp(-z)); }

/// insertion − deletion AUC of one image by hand: pixels ranked by attribution
/// (descending), k_s = s·p·d pixels changed at point s (p·d is a whole number
/// here), D(k) = z(x) − Σ_{top k} w_i (x_i − b_i), I(k) = z(b) + Σ_{top k} w_i (x_i − b_i),
/// f = σ (two-class softmax) or the logit itself, AUC by the trapezoid on t = k/d.
double hand_score(const std::vector<double>& w, const std::vector<double>& x, const std::vector<double>& b,
                  const std::vector<double>& attribution, const Yardstick& y) {
  std::vector<std::size_t> order(kPixels);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t i, std::size_t j) { return attribution[i] > attribution[j]; });
  const auto f = [&](double z) { return y.output == OutputKind::probability ? sigmoid(z) : z; };
  double zx = 0, zb = 0;
  for (std::size_t i = 0; i < kPixels; ++i) zx += w[i] * x[i], zb += w[i] * b[i];
  const std::size_t per_step = std::size_t(std::lround(y.fraction_per_step * double(kPixels)));
  std::vector<double> t, deletion, insertion;
  double moved = 0;
  for (std::size_t k = 0; k <= kPixels; ++k) {
    if (k > 0) moved += w[order[k - 1]] * (x[order[k - 1]] - b[order[k - 1]]);
    if (k % per_step != 0) continue;
    t.push_back(double(k) / double(kPixels));
    deletion.push_back(f(zx - moved));
    insertion.push_back(f(zb + moved));
  }
  double area = 0;
  for (std::size_t s = 0; s + 1 < t.size(); ++s)
    area += (t[s + 1] - t[s]) * ((insertion[s] + insertion[s + 1]) - (deletion[s] + deletion[s + 1])) / 2;
  return area;
}

Tensor<double> images_of(const std::vector<std::vector<double>>& rows) {
  Tensor<double> t = Tensor<double>::from_shape({rows.size(), 1, kSide, kSide});
  for (std::size_t n = 0; n < rows.size(); ++n) std::copy(rows[n].begin(), rows[n].end(), t.data() + n * kPixels);
  return t;
}

}  // namespace

TEST_CASE("yardstick variants: the main setting and its four variants") {
  const Yardstick main = main_yardstick();
  CHECK(main.fraction_per_step == 0.02);
  CHECK(main.substrate_blur_sigma == 0);
  CHECK(main.output == OutputKind::probability);
  const auto variants = yardstick_variants();
  REQUIRE(variants.size() == 4);
  CHECK(variants[0].fraction_per_step == 0.01);
  CHECK(variants[1].fraction_per_step == 0.05);
  CHECK(variants[2].substrate_blur_sigma == 5.0);
  CHECK(variants[3].output == OutputKind::logit);
  const FaithfulnessOptions<double> blurred = faithfulness_options(variants[2]);
  CHECK(blurred.deletion_baseline.blur_sigma == 5.0);
  CHECK(blurred.insertion_baseline.blur_sigma == 5.0);
}

TEST_CASE("rescore: every yardstick on a linear model matches the hand-computed curves") {
  const std::vector<double> w = uniform(kPixels, -1, 1, 1);
  const std::vector<std::vector<double>> x = {uniform(kPixels, 0, 1, 2), uniform(kPixels, 0, 1, 3),
                                              uniform(kPixels, 0, 1, 4)};
  std::vector<std::vector<double>> attribution = {std::vector<double>(kPixels), uniform(kPixels, -1, 1, 5),
                                                  uniform(kPixels, -1, 1, 6)};
  for (std::size_t i = 0; i < kPixels; ++i) attribution[0][i] = w[i] * x[0][i];  // the exact contributions
  const Tensor<double> images = images_of(x), attributions = images_of(attribution);
  const ExplainedOutput<double> explained{linear_two_class(w)};
  const std::vector<std::size_t> targets = {0, 0, 0};
  const Tensor<double> blurred = gaussian_blur(images, 5.0);  // the blurred substrate (tested with the blur)
  std::vector<Yardstick> all = yardstick_variants();
  all.insert(all.begin(), main_yardstick());
  for (const Yardstick& y : all) {
    INFO(y.setting);
    const std::vector<double> scores = rescore(explained, images, attributions, targets, y);
    REQUIRE(scores.size() == 3);
    for (std::size_t n = 0; n < 3; ++n) {
      std::vector<double> b(kPixels, 0.0);
      if (y.substrate_blur_sigma > 0) b.assign(blurred.data() + n * kPixels, blurred.data() + (n + 1) * kPixels);
      // Sums of ≤ 100 terms of size ≤ 1: rounding ≤ 1e-12.
      CHECK(std::abs(scores[n] - hand_score(w, x[n], b, attribution[n], y)) <= 1e-12);
    }
    const std::vector<double> first = rescore(explained, images, attributions, targets, y, 2);
    REQUIRE(first.size() == 2);
    CHECK(std::abs(first[1] - scores[1]) <= 1e-12);
  }
  CHECK_THROWS_AS(rescore(explained, images, attributions, targets, main_yardstick(), 4), ArgumentError);
  CHECK_THROWS_AS(rescore(explained, images, attributions, {0, 0}, main_yardstick()), ArgumentError);
  CHECK(first_entries({1, 2, 3}, 2) == std::vector<double>{1, 2});
  CHECK_THROWS_AS(first_entries({1, 2, 3}, 4), ArgumentError);
}

TEST_CASE("rescore: on a constant image the blurred substrate is the image itself, so the score is 0") {
  const std::vector<double> w = uniform(kPixels, -1, 1, 7);
  const Tensor<double> images = images_of({std::vector<double>(kPixels, 0.6)});
  const Tensor<double> attributions = images_of({uniform(kPixels, -1, 1, 8)});
  const ExplainedOutput<double> explained{linear_two_class(w)};
  const Yardstick blurred = yardstick_variants()[2];
  // Both curves are f(x) at every point; the blur of a constant image is
  // constant up to rounding (its kernel sums to 1 within 1e-15).
  CHECK(std::abs(rescore(explained, images, attributions, {0}, blurred)[0]) <= 1e-12);
  // Black substrate, for contrast: the same attribution scores away from 0.
  CHECK(std::abs(rescore(explained, images, attributions, {0}, main_yardstick())[0]) > 1e-3);
}

TEST_CASE("rescore at the main setting reproduces compare_methods' own per-image scores exactly") {
  fluxion::testing::ScratchDir dir("yardstick_sweep");
  Context ctx;
  ctx.scale = Scale::smoke;
  ctx.seed = 2;
  ctx.experiment = "yardstick_test";
  ctx.progress = [](const std::string&) {};
  const ComparisonModel model = comparison_model(build_model<double>("cnn", 4));
  Dataset<double> images;
  images.inputs = Tensor<double>::from_shape({3, 1, 28, 28});
  const std::vector<double> pixels = uniform(3 * 784, 0, 1, 9);
  std::copy(pixels.begin(), pixels.end(), images.inputs.data());
  images.labels = {0, 0, 0};
  const std::vector<MethodRun> runs = {
      registry_run("Saliency", "saliency", model, [](MethodSettings<double>&) {}),
      {"Random", "random", [](const Tensor<double>& x, const std::vector<std::size_t>&) {
         Tensor<double> a = x;
         const std::vector<double> r = uniform(x.size(), -1, 1, 10);
         std::copy(r.begin(), r.end(), a.data());
         return MethodOutput<double>{a, {}, {}, ""};
       }},
  };
  const ComparisonResult result = compare_methods(ctx, dir.path, model, images, runs, "yardstick_test");
  REQUIRE(result.attributions.size() == 2);
  REQUIRE(result.targets.size() == 3);
  for (const std::string label : {"Saliency", "Random"}) {
    INFO(label);
    const std::vector<double> again =
        rescore(model.explained, result.images, result.attributions.at(label), result.targets, main_yardstick());
    CHECK(again == result.difference_per_image.at(label));  // the same computation: bit-identical
  }
  // The sweep helpers: one point per variant, named after it, on the first 2 images.
  const RescoredRuns rescored = rescore_runs(model.explained, result, {"Saliency", "Random"}, 2);
  Verdict v = better_than("x", "saliency beats random", "Saliency − Random", result.difference_per_image.at("Saliency"),
                          result.difference_per_image.at("Random"));
  add_yardstick_points(v, rescored, "Saliency", "Random");
  REQUIRE(v.sweep.size() == 4);
  for (std::size_t k = 0; k < 4; ++k) {
    CHECK(v.sweep[k].setting == yardstick_variants()[k].setting);
    CHECK(v.sweep[k].interval.n == 2);
  }
  const std::vector<double> logit_saliency = rescore(model.explained, result.images, result.attributions.at("Saliency"),
                                                     result.targets, yardstick_variants()[3], 2);
  CHECK(rescored.at("Saliency").at(yardstick_variants()[3].setting) == logit_saliency);
  CHECK_THROWS_AS(rescore_runs(model.explained, result, {"no such run"}, 2), ArgumentError);
}

TEST_CASE("the control point judges the claim on the first m images with the main settings") {
  // a − b = −0.1 on the first 3 pairs, +0.1 on the rest: on all 6 inconclusive, on the first 3 disagrees.
  const std::vector<double> b(6, 0.5), a = {0.40, 0.41, 0.39, 0.60, 0.61, 0.59};
  Verdict v = better_than("x", "a beats b", "a − b", a, b);
  REQUIRE(v.result == "inconclusive");
  add_control_point(v, a, b, 3);
  REQUIRE(v.sweep.size() == 1);
  CHECK(v.sweep[0].setting == "main settings, first 3 images (control)");
  CHECK(v.sweep[0].interval.n == 3);
  CHECK(std::abs(v.sweep[0].interval.effect - (-0.1)) <= 1e-12);
  CHECK(v.sweep[0].result == "disagrees");
  CHECK(control_sentence({v}) == "");  // v itself does not disagree
  // Two disagreeing verdicts: one keeps "disagrees" on its subset, one does not.
  // mixed − b = +0.1, then ≈ −0.1 nine times: on 10 pairs −0.08 ± 0.045 (disagrees), on the first 3
  // −0.033 ± 0.29 (t_{2, 0.975} = 4.30; inconclusive).
  const std::vector<double> b10(10, 0.5);
  const std::vector<double> lower = {0.40, 0.41, 0.39, 0.40, 0.41, 0.39, 0.40, 0.41, 0.39, 0.40},
                            mixed = {0.60, 0.40, 0.40, 0.41, 0.39, 0.40, 0.41, 0.39, 0.40, 0.40};
  Verdict kept = better_than("x", "c1", "m1", lower, b10), weakened = better_than("x", "c2", "m2", mixed, b10);
  REQUIRE(kept.result == "disagrees");
  REQUIRE(weakened.result == "disagrees");
  CHECK(control_sentence({kept, weakened}) == "");  // no control points yet
  add_control_point(kept, lower, b10, 3);
  add_control_point(weakened, mixed, b10, 3);
  REQUIRE(weakened.sweep[0].result == "inconclusive");
  CHECK(control_sentence({kept, weakened}) ==
        "With the main settings on the subset alone (the control rows), 1 of these 2 disagreements are already not "
        "\"disagrees\": for them an \"inconclusive\" on the subset reflects the smaller sample, not the setting.");
  CHECK(control_sentence({kept}) ==
        "With the main settings on the subset alone (the control rows), 0 of these 1 disagreement is already not "
        "\"disagrees\".");
  CHECK_THROWS_AS(add_control_point(kept, lower, b10, 11), ArgumentError);
}
