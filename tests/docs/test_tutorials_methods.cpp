// Runs the programs of tutorials 5–7 (docs/examples/05_ig2.cpp, 06_neflag.cpp,
// 07_evaluating_attributions.cpp) and checks the numbers they print, so the
// tutorials cannot drift from the code. Each program runs once, in a scratch
// directory it also writes its figure into, and prints lines
// `name [key=value ...] = number`. The tolerances follow from the math the
// tutorials explain (comments at each check), not from the printed values.
#include <doctest/doctest.h>

#include <sys/wait.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

namespace {

struct TutorialRun {
  int exit_code = -1;
  std::string output;
  std::map<std::string, double> values;  // "name key=value" → number
  bool figure_exists = false, figure_is_png = false;
  std::uintmax_t figure_bytes = 0;
};

/// Parses `name [key=value ...] = number`; other lines are prose and tables.
void parse_line(const std::string& line, std::map<std::string, double>& values) {
  const std::size_t eq = line.rfind(" = ");
  if (eq == std::string::npos || line.empty() || line[0] == ' ') return;
  const std::string key = line.substr(0, eq), number = line.substr(eq + 3);
  if (key.find_first_of("()|,") != std::string::npos) return;
  try {
    std::size_t used = 0;
    const double v = std::stod(number, &used);
    if (used == number.size()) values[key] = v;
  } catch (const std::exception&) {
  }
}

/// Runs docs/examples/tutorial_<name> in a scratch directory (its output dir
/// too), records what it printed and whether it wrote `figure`, then cleans up.
TutorialRun run_tutorial(const std::string& name, const std::string& figure) {
  TutorialRun run;
  const std::filesystem::path exe = std::filesystem::path(FLUXION_BUILD_DIR) / "docs" / "examples" / ("tutorial_" + name);
  REQUIRE_MESSAGE(std::filesystem::exists(exe), "not built: " << exe.string() << " (reconfigure the build dir)");
  const auto stamp = std::chrono::steady_clock::now().time_since_epoch().count();
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("fluxion_tutorial_" + name + "_" + std::to_string(stamp));
  std::filesystem::create_directories(dir);
  const std::string command = "cd '" + dir.string() + "' && '" + exe.string() + "' '" + dir.string() + "' 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buffer[4096];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) run.output += buffer;
  const int status = pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::istringstream lines(run.output);
  for (std::string line; std::getline(lines, line);) parse_line(line, run.values);
  const std::filesystem::path png = dir / figure;
  run.figure_exists = std::filesystem::exists(png);
  if (run.figure_exists) {
    run.figure_bytes = std::filesystem::file_size(png);
    std::ifstream in(png, std::ios::binary);
    char magic[8] = {};
    in.read(magic, 8);
    run.figure_is_png = std::string(magic + 1, 3) == "PNG";
  }
  std::filesystem::remove_all(dir);
  return run;
}

/// Each program runs once per test binary; the test cases share the result.
const TutorialRun& tutorial(const std::string& name, const std::string& figure) {
  static std::map<std::string, TutorialRun> runs;
  auto it = runs.find(name);
  if (it == runs.end()) it = runs.emplace(name, run_tutorial(name, figure)).first;
  return it->second;
}

double value(const TutorialRun& run, const std::string& key) {
  const auto it = run.values.find(key);
  REQUIRE_MESSAGE(it != run.values.end(), "the program did not print `" << key << " = ...`; output:\n" << run.output);
  return it->second;
}

/// The figure exists, is a PNG and is small enough to keep in docs/figures/.
void check_figure(const TutorialRun& run) {
  REQUIRE(run.figure_exists);
  CHECK(run.figure_is_png);
  CHECK(run.figure_bytes < 100 * 1024);
}

const TutorialRun& ig2_run() { return tutorial("05_ig2", "05_ig2_paths.png"); }
const TutorialRun& neflag_run() { return tutorial("06_neflag", "06_neflag_flux.png"); }
const TutorialRun& evaluation_run() { return tutorial("07_evaluating_attributions", "07_deletion_curves.png"); }

}  // namespace

// ---- tutorial 5: IG2 -------------------------------------------------------

TEST_CASE("tutorial 05 ig2: the program runs, passes its own checks and draws its figure") {
  const TutorialRun& run = ig2_run();
  INFO(run.output);
  CHECK(run.exit_code == 0);
  CHECK(value(run, "ig2_checks_failed") == 0);
  check_figure(run);
}

TEST_CASE("tutorial 05 ig2: GradPath by hand is the library's path; GradCF crosses into the reference's class") {
  const TutorialRun& run = ig2_run();
  // Same float operations in the same order up to the batched matmul: agreement to rounding.
  CHECK(value(run, "ig2_library_vs_manual what=gradcf") <= 1e-12);
  CHECK(value(run, "ig2_library_vs_manual what=attribution") <= 1e-12);
  CHECK(value(run, "ig2_class_x") == 0);
  CHECK(value(run, "ig2_class_reference") == 1);
  CHECK(value(run, "ig2_class_gradcf") == 1);
  // The path descends ‖h − h(r)‖² (normalised steps, length K·η = 3.2).
  CHECK(value(run, "ig2_repr_distance where=end") < 0.1 * value(run, "ig2_repr_distance where=start"));
  // Two gradient oracles per step, K = 3.2 / 0.04 = 80 steps, one path.
  CHECK(value(run, "ig2_gradient_evaluations") == 160);
}

TEST_CASE("tutorial 05 ig2: the completeness gap is first order in eta; IG on the straight line is complete") {
  const TutorialRun& run = ig2_run();
  // Left Riemann sum along a path of fixed length: gap = ½ η Σ_j η ûᵀHû + O(η²) → halves with η.
  // (Explicit |a − b| ≤ tol everywhere: doctest::Approx adds a scale of 1 to its epsilon.)
  CHECK(std::fabs(value(run, "ig2_gap_ratio eta=0.04/0.02") - 2.0) <= 0.4);
  CHECK(std::fabs(value(run, "ig2_gap_ratio eta=0.02/0.01") - 2.0) <= 0.4);
  CHECK(std::fabs(value(run, "ig2_gap_ratio eta=0.01/0.005") - 2.0) <= 0.4);
  // The gap is small relative to the explained change f(x) − f(GradCF) (> 1 here).
  const double change = value(run, "ig2_f_x") - value(run, "ig2_f_gradcf");
  CHECK(change > 1.0);
  CHECK(value(run, "ig2_completeness_gap eta=0.005") < 0.01 * change);
  // Trapezoid: second order → ratio 4 when η halves, and below the left sum.
  CHECK(std::fabs(value(run, "ig2_trapezoid_ratio") - 4.0) <= 0.8);
  CHECK(value(run, "ig2_trapezoid_gap eta=0.005") < value(run, "ig2_completeness_gap eta=0.005"));
  // Gauss–Legendre with 32 nodes on a smooth straight line: complete to rounding.
  CHECK(value(run, "ig_straight_completeness_gap") <= 1e-10);
  // Same end points, same total, different split: the path matters.
  const double ig2_total = value(run, "ig2_manual_attribution i=1") + value(run, "ig2_manual_attribution i=2");
  const double ig_total = value(run, "ig_straight_attribution i=1") + value(run, "ig_straight_attribution i=2");
  // IG is complete, so the two totals differ by exactly IG2's gap (to print precision).
  CHECK(std::fabs(std::fabs(ig2_total - ig_total) - value(run, "ig2_completeness_gap eta=0.04")) <= 1e-6);
  CHECK(std::fabs(value(run, "ig2_manual_attribution i=1") - value(run, "ig_straight_attribution i=1")) > 0.05);
}

// ---- tutorial 6: NeFLAG ----------------------------------------------------

TEST_CASE("tutorial 06 neflag: the program runs, passes its own checks and draws its figure") {
  const TutorialRun& run = neflag_run();
  INFO(run.output);
  CHECK(run.exit_code == 0);
  CHECK(value(run, "neflag_checks_failed") == 0);
  check_figure(run);
}

TEST_CASE("tutorial 06 neflag: plain sampling in d = 784 has cos(A, w) ≈ √(n/(2d)), not √(n/d)") {
  const TutorialRun& run = neflag_run();
  // Only the ≈ n/2 inflow points of n = 20 count: along w they add ≈ (n/2)|w|/d,
  // across it ≈ √(n/2)|w|/√d. The mean over 200 examples has a standard error
  // of about 0.04/√200 ≈ 0.003; 0.015 is five of them.
  const double mean_cos = value(run, "neflag_plain_mean_cosine d=784 n=20");
  const double half = std::sqrt(20.0 / (2 * 784)), all = std::sqrt(20.0 / 784);
  CHECK(std::fabs(mean_cos - half) <= 0.015);
  CHECK(std::fabs(mean_cos - all) > 0.04);
}

TEST_CASE("tutorial 06 neflag: divergence theorem in 2-D and the flux of a uniform field") {
  const TutorialRun& run = neflag_run();
  // The hand-written sum is the library's periodic trapezoid rule term by term.
  CHECK(value(run, "neflag_flux_manual_vs_library") <= 1e-13);
  // Both quadratures converge spectrally on a smooth field: at M = 64 the flux
  // matches ∫ Δf dA (24 × 64 polar Gauss rule) to rounding…
  CHECK(std::fabs(value(run, "neflag_laplacian_integral eps=0.5")) > 1e-2);
  CHECK(value(run, "neflag_divergence_gap M=64") <= 1e-10);
  // …and the error falls by orders of magnitude as M doubles (geometric, not algebraic).
  CHECK(value(run, "neflag_divergence_gap M=8") > 100 * value(run, "neflag_divergence_gap M=32"));
  // Uniform field: zero net flux; the inflow half aggregates to F/4 along F
  // ((1/2π)∫_{cos<0} cos²θ dθ = 1/4, |F| = 1; the M = 64 rule is exact for cos²).
  CHECK(value(run, "neflag_uniform_total_flux") <= 1e-14);
  CHECK(value(run, "neflag_uniform_dense_cosine") >= 1 - 1e-12);
  // By symmetry the M = 64 sum over the inflow half is exactly half of Σ cos²θ_k = M/2.
  CHECK(std::fabs(value(run, "neflag_uniform_dense_norm_ratio") - 0.25) <= 1e-12);
}

TEST_CASE("tutorial 06 neflag: small spheres point the attribution along the gradient; completeness is not claimed") {
  const TutorialRun& run = neflag_run();
  // Guided search lands every point at the inflow minimum: the direction error is O(ε).
  CHECK(value(run, "neflag_cosine_to_gradient search=guided radius=0.01") >= 0.9999);
  // First order: ×10 radius → ×10 angle (measured 11.3; the O(ε²) term at ε = 0.1 may add ±40 %).
  const double ratio = value(run, "neflag_angle_to_gradient search=guided radius=0.1") /
                       value(run, "neflag_angle_to_gradient search=guided radius=0.01");
  CHECK(ratio > 7.0);
  CHECK(ratio < 14.0);
  CHECK(value(run, "neflag_cosine_to_gradient search=guided radius=0.1") >= 0.99);
  CHECK(value(run, "neflag_negative_points search=guided radius=0.1") == 20);
  // Plain sampling in 2-D: about half of the 20 points have inflow.
  CHECK(value(run, "neflag_negative_points search=plain radius=0.1") >= 4);
  CHECK(value(run, "neflag_negative_points search=plain radius=0.1") <= 16);
  // With every point at φ ≈ −|∇f|, |A| ≈ |∇f(x)| (up to O(ε) curvature).
  CHECK(std::fabs(value(run, "neflag_norm_ratio_to_gradient search=guided radius=0.1") - 1.0) <= 0.15);
  // NeFLAG has no baseline: Σ A is not f(x) − f(0), and the tutorial shows the gap.
  CHECK(std::fabs(value(run, "neflag_sum_attribution radius=0.1") - value(run, "neflag_f_x_minus_f_0")) > 1e-2);
}

// ---- tutorial 7: evaluating attributions -----------------------------------

TEST_CASE("tutorial 07 evaluation: the program runs, passes its own checks and draws its figure") {
  const TutorialRun& run = evaluation_run();
  INFO(run.output);
  CHECK(run.exit_code == 0);
  CHECK(value(run, "eval_checks_failed") == 0);
  check_figure(run);
}

TEST_CASE("tutorial 07 evaluation: deletion AUC orders true < random < reversed; the random control sits at (f(x)+f(b))/2") {
  const TutorialRun& run = evaluation_run();
  CHECK(value(run, "eval_ig_vs_truth_max_diff") <= 1e-12);
  // Linear model, deletion to the IG baseline: the true ranking has deleted the
  // largest possible total after every step, the reversed one the smallest.
  const double t = value(run, "eval_deletion_auc method=true"), r = value(run, "eval_deletion_auc method=random"),
               v = value(run, "eval_deletion_auc method=reversed");
  CHECK(t < r);
  CHECK(r < v);
  CHECK(value(run, "eval_order_violations") == 0);
  CHECK(value(run, "eval_insertion_auc method=true") > value(run, "eval_insertion_auc method=random"));
  CHECK(value(run, "eval_insertion_auc method=random") > value(run, "eval_insertion_auc method=reversed"));
  // Only the ranking counts: cubing the truth changes nothing.
  CHECK(value(run, "eval_cubed_vs_true_deletion_auc_diff") == 0);
  CHECK(value(run, "eval_deletion_auc method=cubed") == t);
  // E[random AUC] = (f(x) + f(0))/2 exactly for a linear model; allow 4 standard errors.
  CHECK(std::fabs(value(run, "eval_random_minus_expected")) <= 4 * value(run, "eval_random_auc_stderr"));
  // AUC(true) + AUC(reversed) = f(x) + f(b) too (the reversed curve mirrors the
  // true one), so the control sits halfway between the best and the worst ranking.
  CHECK(std::fabs(value(run, "eval_random_position") - 0.5) <= 4 * value(run, "eval_random_position_stderr"));
  CHECK(std::fabs(t + v - 2 * value(run, "eval_random_expected_auc")) <= 1e-5);  // printed to 6 decimals
}

TEST_CASE("tutorial 07 evaluation: pitfalls — deletion baseline, off-data inputs, perturbation-dependent infidelity") {
  const TutorialRun& run = evaluation_run();
  // Each IG is optimal for the deletion baseline it was computed from.
  CHECK(value(run, "eval_baseline_auc attribution=ig0 deletion=0") < value(run, "eval_baseline_auc attribution=ig05 deletion=0"));
  CHECK(value(run, "eval_baseline_auc attribution=ig05 deletion=0.5") <
        value(run, "eval_baseline_auc attribution=ig0 deletion=0.5"));
  // Two models equal on the data, each preferring its own IG off the data.
  CHECK(value(run, "eval_ood_models_differ_on_data") <= 1e-12);
  CHECK(value(run, "eval_ood_auc attribution=A model=A") < value(run, "eval_ood_auc attribution=B model=A"));
  CHECK(value(run, "eval_ood_auc attribution=B model=B") < value(run, "eval_ood_auc attribution=A model=B"));
  // Infidelity: f(x) − f(x − I) = w·I exactly, so the gradient is exact under
  // gaussian I and IG (read with multiply_by_inputs) under removal; the other
  // reading errs by a square that scales with σ²: ratio 4 for σ 0.1 → 0.2 (same draws).
  CHECK(value(run, "eval_infidelity method=gradient perturbation=gaussian0.1") <= 1e-20);
  CHECK(value(run, "eval_infidelity method=true perturbation=removal") <= 1e-20);
  CHECK(value(run, "eval_infidelity method=true perturbation=gaussian0.1") > 1e-4);
  CHECK(value(run, "eval_infidelity method=gradient perturbation=removal") > 1e-2);
  CHECK(std::fabs(value(run, "eval_infidelity_sigma_ratio method=true") - 4.0) <= 1e-5);  // printed to 6 decimals
  // A curved model g = Σ w x² separates the perturbations themselves (each method
  // read its own way): small gaussian noise favours the gradient (error O(σ⁴) vs
  // O(σ²)), removal to 0 makes IG exact (Δg over a window = Σ w x² there).
  CHECK(value(run, "eval_infidelity_quadratic method=gradient perturbation=gaussian0.02") <
        0.1 * value(run, "eval_infidelity_quadratic method=ig perturbation=gaussian0.02"));
  CHECK(value(run, "eval_infidelity_quadratic method=ig perturbation=removal") <= 1e-20);
  CHECK(value(run, "eval_infidelity_quadratic method=gradient perturbation=removal") > 1e-2);
  // The cubed truth ties on deletion but no scale makes its claims right.
  CHECK(value(run, "eval_infidelity method=cubed perturbation=removal_scaled") > 1e-2);
  // …while the best scale β = −1 turns the reversed (worst) attribution into a perfect one.
  CHECK(value(run, "eval_infidelity method=reversed perturbation=removal_scaled") <= 1e-20);
  CHECK(value(run, "eval_infidelity method=reversed perturbation=removal") > 1.0);
  CHECK(value(run, "eval_infidelity method=random perturbation=removal") >
        value(run, "eval_infidelity method=true perturbation=removal"));
}

TEST_CASE("tutorial 07 evaluation: max-sensitivity rewards a constant explanation") {
  const TutorialRun& run = evaluation_run();
  CHECK(value(run, "eval_max_sensitivity method=constant") == 0);
  CHECK(value(run, "eval_max_sensitivity_above_bound") == 0);  // ‖w ⊙ δ‖ ≤ r‖w‖
  CHECK(value(run, "eval_max_sensitivity method=true") < 0.1);
  // Fresh noise each call: ‖a − b‖/‖a‖ for independent uniform vectors ≈ √2.
  CHECK(value(run, "eval_max_sensitivity method=random") > 1.0);
}
