// Every reproduction experiment in its tiny smoke configuration (synthetic
// data, no network, seconds): the report and every experiment's files exist,
// every reported number is finite, the numbers that mathematics fixes hold
// even on smoke-sized models (see reproduced_numbers_obey_the_math), a second
// run resumes (skips finished experiments), and an unknown experiment name
// is rejected.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include <nlohmann/json.hpp>

#include "autodiff/errors.hpp"
#include "experiments/lib/report.hpp"
#include "experiments/reproduce/runner.hpp"
#include "tests/nn/scratch_dir.hpp"

namespace fs = std::filesystem;
using namespace fluxion;
using namespace fluxion::experiments;

namespace {
std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}
/// Checks the reproduced numbers that hold whatever the (tiny, barely trained)
/// smoke models are, because the mathematics fixes them:
///  * axioms: a feature the model ignores gets exactly 0 from every method
///    (dummy) but NeFLAG's default random search (Monte Carlo noise); two implementations of one function give the same attributions
///    up to rounding (≤ 1e-12); interaction matrices are symmetric (≤ 1e-12);
///    IG's completeness gap with Gauss–Legendre on a smooth net ≤ 1e-9, IH's
///    (its −ln t rule converges more slowly) ≤ 1e-4;
///  * interactions: IH's completeness gap on each trained MLP ≤ 1e-9, and
///    recovery rates are fractions in [0, 1];
///  * smoothing: |SoftPlus_β(z) − ReLU(z)| ≤ ln 2 / β, so the logit deviation
///    of smooth(model, β) falls as β grows (strictly from β = 1 to 100).
void reproduced_numbers_obey_the_math(const fs::path& out) {
  const auto mlp_axioms = nlohmann::json::parse(slurp(out / "axioms" / "numbers.json"));
  REQUIRE(mlp_axioms.contains("resnet"));  // the second table, on the resnet preset
  nlohmann::json axioms = mlp_axioms;
  axioms.erase("resnet");
  for (const auto& [table, rows] : {std::pair{"mlp", axioms}, std::pair{"resnet", mlp_axioms.at("resnet")}})
  for (const auto& [method, e] : rows.items()) {
    INFO("axiom table " << table << ", method " << method);
    const double dummy = e.at("dummy_feature").get<double>();
    if (method == "neflag") {
      // NeFLAG's default random search puts Monte Carlo noise of mean 0 (falling like
      // 1/√n) on ignored pixels (attribution/neflag.hpp): reported as the number it is,
      // relative to max |A|, so in (0, 1]. Its guided search ("neflag (guided search)") gives 0.
      CHECK(dummy > 0.0);
      CHECK(dummy <= 1.0);
    } else {
      CHECK(dummy == 0.0);
    }
    CHECK(e.at("implementation_invariance").get<double>() <= 1e-12);
    if (e.contains("symmetry")) CHECK(e.at("symmetry").get<double>() <= 1e-12);
  }
  CHECK(axioms.at("ig").at("completeness").get<double>() <= 1e-9);
  CHECK(mlp_axioms.at("resnet").at("ig").at("completeness").get<double>() <= 1e-9);
  CHECK(axioms.at("ih").at("completeness").get<double>() <= 1e-4);
  REQUIRE(axioms.contains("neflag (guided search)"));  // the row that gives 0, next to the default's

  const auto interactions = nlohmann::json::parse(slurp(out / "interactions" / "numbers.json"));
  for (const auto& [kind, by_d] : interactions.items()) {
    if (kind.rfind("verdicts", 0) == 0) continue;  // the claims' verdicts, checked below
    for (const auto& [d, e] : by_d.items()) {
      INFO("interactions " << kind << " " << d);
      CHECK(e.at("ih_completeness_gap").get<double>() <= 1e-9);
      for (const auto& [method, v] : e.items()) {
        if (!v.is_object()) continue;
        CHECK(v.at("top1").get<double>() >= 0.0);
        CHECK(v.at("top1").get<double>() <= 1.0);
      }
    }
  }

  const auto smoothing = nlohmann::json::parse(slurp(out / "smoothing" / "numbers.json"));
  for (const char* preset : {"mlp", "cnn"}) {
    INFO("smoothing " << preset);
    double previous = std::numeric_limits<double>::infinity();
    for (const char* beta : {"beta1", "beta2", "beta5", "beta10", "beta20", "beta50", "beta100"}) {
      const double deviation = smoothing.at(preset).at(beta).at("max_logit_deviation").get<double>();
      CHECK_MESSAGE(deviation <= previous, beta);
      previous = deviation;
    }
    CHECK(smoothing.at(preset).at("beta100").at("max_logit_deviation").get<double>() <
          smoothing.at(preset).at("beta1").at("max_logit_deviation").get<double>());
  }
}

/// The robustness sweeps of the IG2 and NeFLAG verdicts (issue 20, item 3):
/// each swept verdict carries one point per setting, named as below, on the
/// stated number of images (smoke: the first m = 4 images of the cnn's
/// comparisons; the resnet's verdicts are swept only at --quick and --full); a NeFLAG variant point on all images has the
/// effect mean(variant) − mean(X) of the stored per-method means.
void sweeps_have_the_expected_settings(const fs::path& out, const std::string& report) {
  const std::vector<std::string> yardsticks = {
      "deletion/insertion: 1% per step", "deletion/insertion: 5% per step",
      "deletion/insertion: blurred substrate (σ = 5 px)", "deletion/insertion: logit instead of probability"};
  auto check_points = [](const nlohmann::json& sweep, std::size_t from, const std::vector<std::string>& settings,
                         std::size_t n) {
    for (std::size_t k = 0; k < settings.size(); ++k) {
      INFO("sweep point " << from + k);
      CHECK(sweep.at(from + k).at("setting") == settings[k]);
      CHECK(sweep.at(from + k).at("n") == n);
    }
  };
  // IG2 (smoke: K = 20, η = 0.1, 2 references; cnn 8 images, resnet 4).
  const auto ig2 = nlohmann::json::parse(slurp(out / "ig2" / "numbers.json"));
  const std::vector<std::string> ig2_settings = {
      "IG2 K = 10 steps", "IG2 K = 40 steps", "IG2 η = 0.05", "IG2 η = 0.2", "IG2 1 reference", "IG2 4 references",
      "IG2 representation: input of the first Linear layer"};
  REQUIRE(ig2.at("verdicts").size() == 10);
  for (std::size_t i = 0; i < 10; ++i) {
    INFO("ig2 verdict " << i);
    const auto& sweep = ig2["verdicts"][i].at("sweep");
    if (i < 5) {  // cnn: the control (main settings, first 4 images), IG2's settings, then the yardsticks
      REQUIRE(sweep.size() == 12);
      check_points(sweep, 0, {"main settings, first 4 images (control)"}, 4);
      check_points(sweep, 1, ig2_settings, 4);
      check_points(sweep, 8, yardsticks, 4);
    } else {  // resnet: the yardsticks only, and not at --smoke (its forward passes are slow)
      CHECK(sweep.empty());
    }
  }
  CHECK(ig2.at("sweep").at("cnn_images") == 4);
  CHECK(ig2.at("sweep").at("ig2_settings").at("IG2 K = 10 steps").at("images") == 4);
  // NeFLAG (smoke: 6 images on the cnn).
  const auto neflag = nlohmann::json::parse(slurp(out / "neflag" / "numbers.json"));
  const auto& verdicts = neflag.at("verdicts");
  REQUIRE(verdicts.size() == 13);
  std::vector<std::string> variants = {"NeFLAG-1 (default)", "NeFLAG-10 (default)"};
  for (const auto& [label, entry] : neflag.at("ablations").items()) variants.push_back("NeFLAG " + label);
  REQUIRE(variants.size() == 2 + 13);
  const std::vector<std::string> others = {"AGI", "Expected Gradients", "Guided IG", "SmoothGrad", "IG"};
  for (std::size_t i = 0; i < 5; ++i) {
    INFO("neflag verdict " << i);
    const auto& sweep = verdicts[i].at("sweep");
    REQUIRE(sweep.size() == 2 + 13 + 1 + 4);
    std::vector<std::string> settings;
    for (std::size_t k = 0; k < 15; ++k) settings.push_back(sweep[k].at("setting"));
    std::vector<std::string> sorted_variants = variants, sorted_settings = settings;  // JSON keys are sorted
    std::sort(sorted_variants.begin(), sorted_variants.end());
    std::sort(sorted_settings.begin(), sorted_settings.end());
    CHECK(sorted_settings == sorted_variants);
    for (std::size_t k = 0; k < 15; ++k) {
      CHECK(sweep[k].at("n") == 6);
      const std::string setting = settings[k];
      const double variant = setting.rfind("NeFLAG-", 0) == 0
                                 ? neflag["comparison"][setting.substr(0, setting.find(' '))]["difference_auc"].get<double>()
                                 : neflag["ablations"][setting.substr(7)]["difference_auc"].get<double>();
      const double other = neflag["comparison"][others[i]]["difference_auc"].get<double>();
      CHECK(std::abs(sweep[k].at("effect").get<double>() - (variant - other)) <= 1e-12);  // means of ≤ 6 numbers in [−1, 1]
    }
    check_points(sweep, 15, {"main settings, first 4 images (control)"}, 4);
    check_points(sweep, 16, yardsticks, 4);
  }
  REQUIRE(verdicts[5].at("sweep").size() == 5);  // NeFLAG improves with more points (cnn): control, yardsticks
  check_points(verdicts[5].at("sweep"), 1, yardsticks, 4);
  for (std::size_t i = 6; i < 13; ++i) {  // the resnet's (not swept at --smoke) and the guided-search ablation's
    INFO("neflag verdict " << i);
    CHECK(verdicts[i].at("sweep").empty());
  }
  // Each experiment's text says whether its disagreements survive.
  for (const char* name : {"ig2", "neflag"}) {
    INFO(name);
    const std::string section = slurp(out / name / "section.md");
    CHECK(section.find("**Robustness of the verdicts.**") != std::string::npos);
    CHECK((section.find("verdicts that disagree with the paper") != std::string::npos ||
           section.find("verdict that disagrees with the paper") != std::string::npos ||
           section.find("No verdict disagrees with the paper") != std::string::npos));
  }
  CHECK(report.find("**Robustness of the verdicts.**") != std::string::npos);
}

}  // namespace

TEST_CASE("reproduce --smoke runs every experiment and writes a complete report") {
  // A folder of its own: test runs of several build dirs may run at once.
  const fluxion::testing::ScratchDir scratch("reproduce_smoke");
  const fs::path out = scratch.path;
  ReproduceOptions options;
  options.scale = Scale::smoke;
  options.out_dir = out;
  options.seed = 3;
  REQUIRE(reproduce(options) == 0);

  const std::string report = slurp(out / "REPORT.md");
  CHECK(report.find("# Fluxion reproduction report") != std::string::npos);
  for (const auto& name : experiment_names()) {
    INFO("experiment " << name);
    const fs::path dir = out / name;
    CHECK(fs::exists(dir / "done.json"));
    CHECK(fs::exists(dir / "section.md"));
    CHECK_FALSE(fs::exists(dir / "error.txt"));
    const auto numbers = nlohmann::json::parse(slurp(dir / "numbers.json"));
    CHECK_FALSE(numbers.empty());
    CHECK_NOTHROW(require_finite_numbers(numbers, name));
    // Every figure the section links to exists and is a PNG.
    const std::string section = slurp(dir / "section.md");
    std::size_t at = 0;
    while ((at = section.find("](" + name + "/", at)) != std::string::npos) {
      const std::size_t end = section.find(')', at);
      const fs::path figure = out / section.substr(at + 2, end - at - 2);
      CHECK_MESSAGE(fs::exists(figure), figure.string());
      const std::string bytes = slurp(figure);
      CHECK(bytes.substr(1, 3) == "PNG");
      at = end;
    }
    CHECK(report.find(section.substr(0, 40)) != std::string::npos);
  }
  reproduced_numbers_obey_the_math(out);
  sweeps_have_the_expected_settings(out, report);

  // REPORT.md opens with the verdict table (before the first experiment's
  // section) and states this run's wall time; every verdict is one of three.
  const std::size_t verdicts_at = report.find("## Verdicts on the papers' claims");
  REQUIRE(verdicts_at != std::string::npos);
  CHECK(verdicts_at < report.find("## 1. "));
  CHECK(report.find("Wall time of this run: **") < verdicts_at);
  CHECK(report.find("the experiments' own wall times (table below) sum to **") < verdicts_at);
  std::size_t verdict_count = 0;
  for (const char* name : {"interactions", "smoothing", "ig2", "neflag"}) {
    const auto numbers = nlohmann::json::parse(slurp(out / name / "numbers.json"));
    INFO("verdicts of " << name);
    REQUIRE(numbers.contains("verdicts"));
    CHECK_FALSE(numbers["verdicts"].empty());
    for (const auto& v : numbers["verdicts"]) {
      const std::string result = v.at("result");
      CHECK((result == "agrees" || result == "disagrees" || result == "inconclusive"));
      CHECK(v.at("ci_low").get<double>() <= v.at("effect").get<double>());
      CHECK(v.at("effect").get<double>() <= v.at("ci_high").get<double>());
      std::string measure;  // as a Markdown cell: '|' escaped
      for (char c : v.at("measure").get<std::string>()) measure += c == '|' ? std::string("\\|") : std::string(1, c);
      CHECK(report.find(measure) != std::string::npos);
      ++verdict_count;
    }
  }
  CHECK(verdict_count == 6 + 3 + 10 + 13);  // interactions: 3 claims × 2 truths; smoothing: 2 presets + nodes; ig2, neflag: cnn + resnet

  {  // The interaction verdicts' sweep: SoftPlus β = 3, 30 and IH on 8, 128 nodes, on all 12 smoke test
     // samples of each setting (2 kinds × d = 5): n = 24 pooled, 12 per kind.
    const auto interactions = nlohmann::json::parse(slurp(out / "interactions" / "numbers.json"));
    const auto& sweep = interactions.at("verdicts_sweep");
    CHECK(sweep.at("main").at("beta") == 10.0);
    CHECK(sweep.at("main").at("ih_points") == 32);
    CHECK(sweep.at("n_per_kind_and_d") == 12);
    CHECK(sweep.at("n_pooled") == 24);
    struct Setting {
      std::string label;
      double beta;
      int ih_points;
    };
    const std::vector<Setting> settings = {
        {"SoftPlus β = 3", 3.0, 32}, {"SoftPlus β = 30", 30.0, 32}, {"IH with 8 nodes", 10.0, 8},
        {"IH with 128 nodes", 10.0, 128}};
    REQUIRE(sweep.at("settings").size() == settings.size());
    for (std::size_t k = 0; k < settings.size(); ++k) {
      CHECK(sweep["settings"][k].at("setting") == settings[k].label);
      CHECK(sweep["settings"][k].at("beta") == settings[k].beta);
      CHECK(sweep["settings"][k].at("ih_points") == settings[k].ih_points);
    }
    for (const auto& [list, n] : {std::pair{"verdicts", 24}, std::pair{"verdicts_by_kind", 12}}) {
      CHECK(interactions.at(list).size() == (list == std::string("verdicts") ? 6u : 12u));  // 3 claims × 2 truths (× 2 kinds)
      for (const auto& v : interactions.at(list)) {
        REQUIRE(v.at("sweep").size() == settings.size());
        for (std::size_t k = 0; k < settings.size(); ++k) {
          CHECK(v["sweep"][k].at("setting") == settings[k].label);
          CHECK(v["sweep"][k].at("n") == n);
        }
      }
    }
    CHECK(report.find("**Disagreements across the sweep.** Survive every setting: ") != std::string::npos);
  }

  const auto metadata = nlohmann::json::parse(slurp(out / "metadata.json"));
  CHECK(metadata["seed"] == 3);
  CHECK(metadata["scale"] == "smoke");

  // Resume: finished experiments are not redone (their done.json is untouched).
  const auto stamp = fs::last_write_time(out / "timing" / "done.json");
  ReproduceOptions again = options;
  again.selection = {"timing", "interactions"};
  REQUIRE(reproduce(again) == 0);
  CHECK(fs::last_write_time(out / "timing" / "done.json") == stamp);

  ReproduceOptions unknown = options;
  unknown.selection = {"no-such-experiment"};
  CHECK_THROWS_AS(reproduce(unknown), ArgumentError);
}
