// Tutorial 7 — evaluating attributions when the truth is known
// (docs/07-evaluating-attributions.md).
//
// The model is linear, f(x) = w·x, so Integrated Gradients from a baseline b
// is exactly IG = w ⊙ (x − b): the ground truth. On N = 32 inputs in [0, 1]^64
// the program scores several attributions with deletion/insertion AUC
// (attribution/faithfulness), infidelity (attribution/infidelity) and
// max-sensitivity (attribution/sensitivity):
//   true      IG from the black baseline (computed by the library; = w ⊙ x)
//   random    uniform noise (the control every table should carry)
//   reversed  −true (the worst ranking)
//   cubed     true³: the same ranking, wrong values
//   gradient  w (saliency), constant  all ones
// and then shows five pitfalls: the baseline of deletion, out-of-distribution
// inputs, the random control's non-trivial AUC, infidelity's dependence on
// the perturbation, and methods that score well while being wrong.
// Usage: tutorial_07_evaluating_attributions [output_dir]; writes
// <out>/07_deletion_curves.png. Numbers are printed one per line as
// `name [key=value] = number`; exit code 1 if a sanity check fails.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "docs/examples/tutorial_support.hpp"
#include "attribution/faithfulness.hpp"
#include "attribution/infidelity.hpp"
#include "attribution/integrated_gradients.hpp"
#include "attribution/sensitivity.hpp"
#include "experiments/lib/plot.hpp"

using namespace fluxion;
using tutorial::check;
using tutorial::failures;

namespace {


constexpr std::size_t N = 32, D = 64;

Tensor<double> uniform(const Shape& shape, double lo, double hi, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(lo, hi);
  Tensor<double> t = Tensor<double>::from_shape(shape);
  for (double& v : t) v = u(rng);
  return t;
}

/// One logit per example: f(x) = Σ_i w_i x_i, x [N, D] → [N, 1].
Function<double> linear_model(const Tensor<double>& w) {
  Tensor<double> column = w;
  column.reshape({w.size(), 1});
  return [column](const Var<double>& x) { return matmul(flatten(x), Var<double>(column)); };
}

double mean(const std::vector<double>& v) {
  double s = 0;
  for (double e : v) s += e;
  return s / double(v.size());
}
double standard_error(const std::vector<double>& v) {
  const double m = mean(v);
  double s = 0;
  for (double e : v) s += (e - m) * (e - m);
  return std::sqrt(s / double(v.size() - 1) / double(v.size()));
}

/// w broadcast to every example: the gradient of f.
Tensor<double> rows_of(const Tensor<double>& w) {
  Tensor<double> t = Tensor<double>::from_shape({N, D});
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t i = 0; i < D; ++i) t(n, i) = w(i);
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  const std::filesystem::path out_dir = argc > 1 ? argv[1] : ".";
  const Tensor<double> w = uniform({D}, -0.5, 1.0, 1);   // mostly positive weights: f(x) > 0
  const Tensor<double> x = uniform({N, D}, 0.0, 1.0, 2);
  const ExplainedOutput<double> out{linear_model(w)};    // logit; one class
  const std::vector<std::size_t> targets(N, 0);

  // ---- the attributions -------------------------------------------------------
  const Tensor<double> truth = x * rows_of(w);  // w ⊙ (x − 0)
  const PathAttributions<double> ig = integrated_gradients(out, x, targets);  // black baseline, 50 Gauss–Legendre nodes
  double ig_error = 0;
  for (std::size_t k = 0; k < truth.size(); ++k) ig_error = std::max(ig_error, std::fabs(ig.attributions.data()[k] - truth.data()[k]));
  std::printf("eval_ig_vs_truth_max_diff = %.3e\n", ig_error);
  check(ig_error <= 1e-12, "IG of a linear model is w * x");
  const Tensor<double>& true_attr = ig.attributions;
  const Tensor<double> random_attr = uniform({N, D}, -1.0, 1.0, 3);
  const Tensor<double> reversed_attr = -true_attr;
  const Tensor<double> cubed_attr = true_attr * true_attr * true_attr;
  const Tensor<double> gradient_attr = rows_of(w);
  const Tensor<double> constant_attr = filled<double>({N, D}, 1.0);

  // ---- deletion and insertion ------------------------------------------------------
  FaithfulnessOptions<double> per_feature;
  per_feature.features_per_step = 1;  // 65 points per curve; baselines: constant 0
  struct Row {
    const char* name;
    const Tensor<double>* attr;
    DeletionInsertion<double> scores;
  };
  std::vector<Row> rows = {{"true", &true_attr, {}},   {"random", &random_attr, {}}, {"reversed", &reversed_attr, {}},
                           {"cubed", &cubed_attr, {}}, {"gradient", &gradient_attr, {}}, {"constant", &constant_attr, {}}};
  std::printf("\nmethod     deletion AUC     insertion AUC    insertion - deletion   (mean ± s.e. over %zu inputs)\n", N);
  for (Row& r : rows) {
    r.scores = deletion_insertion(out, x, *r.attr, targets, per_feature);
    std::printf("%-9s  %6.3f ± %.3f   %6.3f ± %.3f   %6.3f\n", r.name, mean(r.scores.deletion.auc),
                standard_error(r.scores.deletion.auc), mean(r.scores.insertion.auc), standard_error(r.scores.insertion.auc),
                mean(r.scores.difference));
  }
  std::printf("\n");
  for (const Row& r : rows) {
    std::printf("eval_deletion_auc method=%s = %.6f\n", r.name, mean(r.scores.deletion.auc));
    std::printf("eval_insertion_auc method=%s = %.6f\n", r.name, mean(r.scores.insertion.auc));
  }
  const auto& del_true = rows[0].scores.deletion.auc;
  const auto& del_random = rows[1].scores.deletion.auc;
  const auto& del_reversed = rows[2].scores.deletion.auc;
  std::size_t violations = 0;  // for a linear model the true ranking is optimal at every step, for every input
  for (std::size_t n = 0; n < N; ++n)
    violations += (del_true[n] <= del_random[n] + 1e-12 && del_random[n] <= del_reversed[n] + 1e-12) ? 0 : 1;
  std::printf("eval_order_violations = %zu\n", violations);
  double cubed_vs_true = 0;
  for (std::size_t n = 0; n < N; ++n) cubed_vs_true = std::max(cubed_vs_true, std::fabs(rows[3].scores.deletion.auc[n] - del_true[n]));
  std::printf("eval_cubed_vs_true_deletion_auc_diff = %.3e\n", cubed_vs_true);
  check(violations == 0, "true <= random <= reversed on every input");
  check(cubed_vs_true == 0.0, "deletion AUC only sees the ranking");

  // Pitfall: the random control is not 0. For a linear model a random order
  // deletes, in expectation, the same share of f(x) − f(b) per step: the curve
  // is the straight line from f(x) to f(b) and the AUC (f(x) + f(b))/2.
  const Tensor<double> f_x = output_values(out, x, targets);
  std::vector<double> expected(N);
  for (std::size_t n = 0; n < N; ++n) expected[n] = f_x(n) / 2;  // f(0) = 0
  std::printf("eval_f_x_mean = %.6f\n", mean(std::vector<double>(f_x.begin(), f_x.end())));
  std::printf("eval_random_expected_auc = %.6f\n", mean(expected));
  std::printf("eval_random_auc_stderr = %.6f\n", standard_error(del_random));
  std::printf("eval_random_minus_expected = %.6f\n", mean(del_random) - mean(expected));
  // …and, since AUC(true) + AUC(reversed) = f(x) + f(b) as well, exactly halfway between the two.
  const double span = mean(del_reversed) - mean(del_true);
  std::printf("eval_random_position = %.6f\n", (mean(del_random) - mean(del_true)) / span);
  std::printf("eval_random_position_stderr = %.6f\n", standard_error(del_random) / span);

  // ---- pitfall: the deletion baseline ------------------------------------------------
  // Deleting to b = 0.5 instead of 0: now IG from the baseline 0.5, w ⊙ (x − 0.5), is the optimal ranking.
  IntegratedGradientsOptions<double> half;
  half.baseline = BaselineKind::user;
  half.user_baseline = filled<double>({D}, 0.5);
  const Tensor<double> ig_half = integrated_gradients(out, x, targets, half).attributions;
  FaithfulnessOptions<double> delete_to_half = per_feature;
  delete_to_half.deletion_baseline.value = 0.5;
  const double a00 = mean(deletion_curve(out, x, true_attr, targets, per_feature).auc);
  const double a05 = mean(deletion_curve(out, x, ig_half, targets, per_feature).auc);
  const double b00 = mean(deletion_curve(out, x, true_attr, targets, delete_to_half).auc);
  const double b05 = mean(deletion_curve(out, x, ig_half, targets, delete_to_half).auc);
  std::printf("\n                      delete to 0   delete to 0.5\n");
  std::printf("IG from baseline 0    %9.4f     %9.4f\n", a00, b00);
  std::printf("IG from baseline 0.5  %9.4f     %9.4f\n", a05, b05);
  std::printf("eval_baseline_auc attribution=ig0 deletion=0 = %.6f\n", a00);
  std::printf("eval_baseline_auc attribution=ig05 deletion=0 = %.6f\n", a05);
  std::printf("eval_baseline_auc attribution=ig0 deletion=0.5 = %.6f\n", b00);
  std::printf("eval_baseline_auc attribution=ig05 deletion=0.5 = %.6f\n", b05);
  check(a00 < a05 && b05 < b00, "each IG wins under the deletion baseline it was computed for");

  // ---- pitfall: out-of-distribution inputs --------------------------------------------
  // Data with duplicated features: x_{2k} = x_{2k+1} = u_k. Model A reads the even
  // copy, model B averages both: f_A = f_B on every real input.
  const Tensor<double> u = uniform({N, D / 2}, 0.0, 1.0, 4);
  const Tensor<double> v = uniform({D / 2}, -0.5, 1.0, 5);
  Tensor<double> xd = Tensor<double>::from_shape({N, D}), wa = filled<double>({D}, 0.0), wb = wa;
  for (std::size_t k = 0; k < D / 2; ++k) {
    wa(2 * k) = v(k);
    wb(2 * k) = wb(2 * k + 1) = v(k) / 2;
    for (std::size_t n = 0; n < N; ++n) xd(n, 2 * k) = xd(n, 2 * k + 1) = u(n, k);
  }
  const ExplainedOutput<double> model_a{linear_model(wa)}, model_b{linear_model(wb)};
  const Tensor<double> fa = output_values(model_a, xd, targets), fb = output_values(model_b, xd, targets);
  double same = 0;
  for (std::size_t n = 0; n < N; ++n) same = std::max(same, std::fabs(fa(n) - fb(n)));
  std::printf("\neval_ood_models_differ_on_data = %.3e\n", same);
  const Tensor<double> ig_a = integrated_gradients(model_a, xd, targets).attributions;
  const Tensor<double> ig_b = integrated_gradients(model_b, xd, targets).attributions;
  const double aa = mean(deletion_curve(model_a, xd, ig_a, targets, per_feature).auc);
  const double ab = mean(deletion_curve(model_b, xd, ig_a, targets, per_feature).auc);
  const double ba = mean(deletion_curve(model_a, xd, ig_b, targets, per_feature).auc);
  const double bb = mean(deletion_curve(model_b, xd, ig_b, targets, per_feature).auc);
  std::printf("                     scored on A   scored on B\n");
  std::printf("IG of model A        %9.4f     %9.4f\n", aa, ab);
  std::printf("IG of model B        %9.4f     %9.4f\n", ba, bb);
  std::printf("eval_ood_auc attribution=A model=A = %.6f\n", aa);
  std::printf("eval_ood_auc attribution=A model=B = %.6f\n", ab);
  std::printf("eval_ood_auc attribution=B model=A = %.6f\n", ba);
  std::printf("eval_ood_auc attribution=B model=B = %.6f\n", bb);
  check(same <= 1e-12, "the two models agree on the data");
  check(aa < ba && bb < ab, "each model's own IG wins on it although the models agree on the data");

  // ---- infidelity: the perturbation decides who is "faithful" --------------------------
  InfidelityOptions gauss;  // I ~ N(0, 0.1²): a claim about small moves, φ read as a gradient
  gauss.samples = 20;
  gauss.seed = 7;
  InfidelityOptions gauss2 = gauss;
  gauss2.noise_std = 0.2;
  InfidelityOptions removal;  // I = (x − 0) on a window of 8 features, φ read as "contribution vs baseline 0"
  removal.perturbation = InfidelityPerturbation::square_removal;
  removal.square_size = 8;
  removal.multiply_by_inputs = true;
  removal.samples = 20;
  removal.seed = 7;
  InfidelityOptions removal_scaled = removal;
  removal_scaled.optimal_scaling = true;
  std::printf("\n           I ~ N(0, 0.1²)  I ~ N(0, 0.2²)  removal, s = 8  removal, best beta\n");
  std::printf("method     claim I.phi     claim I.phi     claim sum_sq phi  claim beta sum_sq phi\n");
  std::vector<std::vector<double>> infd;
  for (const Row& r : rows) {
    const double g1 = mean(infidelity(out, x, *r.attr, targets, gauss).infidelity);
    const double g2 = mean(infidelity(out, x, *r.attr, targets, gauss2).infidelity);
    const double rm = mean(infidelity(out, x, *r.attr, targets, removal).infidelity);
    const double rs = mean(infidelity(out, x, *r.attr, targets, removal_scaled).infidelity);
    infd.push_back({g1, g2, rm, rs});
    std::printf("%-9s  %11.4e     %11.4e     %11.4e       %11.4e\n", r.name, g1, g2, rm, rs);
  }
  std::printf("\n");
  for (std::size_t k = 0; k < rows.size(); ++k) {
    std::printf("eval_infidelity method=%s perturbation=gaussian0.1 = %.6e\n", rows[k].name, infd[k][0]);
    std::printf("eval_infidelity method=%s perturbation=gaussian0.2 = %.6e\n", rows[k].name, infd[k][1]);
    std::printf("eval_infidelity method=%s perturbation=removal = %.6e\n", rows[k].name, infd[k][2]);
    std::printf("eval_infidelity method=%s perturbation=removal_scaled = %.6e\n", rows[k].name, infd[k][3]);
  }
  std::printf("eval_infidelity_sigma_ratio method=true = %.6f\n", infd[0][1] / infd[0][0]);
  check(infd[4][0] <= 1e-20 && infd[0][0] > 1e-4, "under gaussian noise the gradient is exact and IG is not");
  check(infd[0][2] <= 1e-20 && infd[4][2] > 1e-2, "under removal IG is exact and the gradient is not");
  check(infd[3][3] > 1e-2, "no scale repairs the cubed attribution");
  check(infd[2][3] <= 1e-20, "optimal scaling (beta = -1) makes the reversed attribution perfect");

  // The perturbation itself, with each method read its own way (gradient: Iᵀφ;
  // IG: multiply_by_inputs). For a linear model both are exact under any I; a
  // curved model separates them: g(x) = Σ w_i x_i², ∇g = 2w ⊙ x, IG from 0 = w ⊙ x².
  const Tensor<double> w_column = [&] {
    Tensor<double> c = w;
    c.reshape({D, 1});
    return c;
  }();
  const ExplainedOutput<double> quadratic{[w_column](const Var<double>& v) { return matmul(square(flatten(v)), Var<double>(w_column)); }};
  const Tensor<double> q_gradient = output_gradients(quadratic, x, targets);
  const Tensor<double> q_ig = integrated_gradients(quadratic, x, targets).attributions;
  InfidelityOptions small_noise = gauss;
  small_noise.noise_std = 0.02;
  InfidelityOptions small_noise_ig = small_noise;
  small_noise_ig.multiply_by_inputs = true;
  InfidelityOptions removal_gradient = removal;
  removal_gradient.multiply_by_inputs = false;
  const double qg_gauss = mean(infidelity(quadratic, x, q_gradient, targets, small_noise).infidelity);
  const double qi_gauss = mean(infidelity(quadratic, x, q_ig, targets, small_noise_ig).infidelity);
  const double qg_removal = mean(infidelity(quadratic, x, q_gradient, targets, removal_gradient).infidelity);
  const double qi_removal = mean(infidelity(quadratic, x, q_ig, targets, removal).infidelity);
  std::printf("\nquadratic g = sum w x^2   gaussian 0.02   removal\n");
  std::printf("gradient (I.phi)          %11.4e     %11.4e\n", qg_gauss, qg_removal);
  std::printf("IG (multiply_by_inputs)   %11.4e     %11.4e\n", qi_gauss, qi_removal);
  std::printf("eval_infidelity_quadratic method=gradient perturbation=gaussian0.02 = %.6e\n", qg_gauss);
  std::printf("eval_infidelity_quadratic method=ig perturbation=gaussian0.02 = %.6e\n", qi_gauss);
  std::printf("eval_infidelity_quadratic method=gradient perturbation=removal = %.6e\n", qg_removal);
  std::printf("eval_infidelity_quadratic method=ig perturbation=removal = %.6e\n", qi_removal);
  check(qg_gauss < qi_gauss / 10 && qi_removal <= 1e-20 && qg_removal > 1e-2, "the winner flips with the perturbation");

  // ---- max-sensitivity -----------------------------------------------------------------
  MaxSensitivityOptions sens;  // r = 0.02, 10 samples
  const BatchAttributionMethod<double> ig_method = [&](const Tensor<double>& at, const std::vector<std::size_t>& t) {
    return integrated_gradients(out, at, t).attributions;
  };
  auto rng = std::make_shared<std::mt19937_64>(11);
  const BatchAttributionMethod<double> random_method = [rng](const Tensor<double>& at, const std::vector<std::size_t>&) {
    std::uniform_real_distribution<double> noise(-1.0, 1.0);
    Tensor<double> t = Tensor<double>::from_shape(shape_of(at));
    for (double& e : t) e = noise(*rng);
    return t;
  };
  const BatchAttributionMethod<double> constant_method = [](const Tensor<double>& at, const std::vector<std::size_t>&) {
    return filled<double>(shape_of(at), 1.0);
  };
  const std::vector<double> s_ig = max_sensitivity(ig_method, x, targets, sens);
  const std::vector<double> s_random = max_sensitivity(random_method, x, targets, sens);
  const std::vector<double> s_constant = max_sensitivity(constant_method, x, targets, sens);
  double w_norm = 0;
  for (double e : w) w_norm += e * e;
  w_norm = std::sqrt(w_norm);
  std::size_t above_bound = 0;  // ‖w ⊙ δ‖ ≤ r ‖w‖ for ‖δ‖_∞ ≤ r
  for (std::size_t n = 0; n < N; ++n) {
    double t = 0;
    for (std::size_t i = 0; i < D; ++i) t += true_attr(n, i) * true_attr(n, i);
    above_bound += s_ig[n] <= sens.radius * w_norm / std::sqrt(t) * (1 + 1e-9) ? 0 : 1;
  }
  std::printf("eval_max_sensitivity method=true = %.6f\n", mean(s_ig));
  std::printf("eval_max_sensitivity method=random = %.6f\n", mean(s_random));
  std::printf("eval_max_sensitivity method=constant = %.6f\n", mean(s_constant));
  std::printf("eval_max_sensitivity_above_bound = %zu\n", above_bound);
  check(above_bound == 0, "IG's sensitivity respects r |w| / |w * x|");
  check(mean(s_constant) == 0.0, "a constant explanation never moves");

  // ---- the figure: mean deletion curves ------------------------------------------------
  std::vector<Series> series;
  for (std::size_t k : {0, 1, 2, 5}) {
    const PerturbationCurve<double>& c = rows[k].scores.deletion;
    Series s{k == 5 ? std::string("constant (ties: index order)") : std::string(rows[k].name), c.fractions, std::vector<double>(c.fractions.size(), 0.0)};
    for (std::size_t n = 0; n < N; ++n)
      for (std::size_t p = 0; p < c.fractions.size(); ++p) s.y[p] += c.values(n, p) / double(N);
    series.push_back(s);
  }
  PlotSpec spec;
  spec.title = "Deletion curves, linear model f = w.x, d = 64, deleted features set to 0";
  spec.xlabel = "fraction of features deleted";
  spec.ylabel = "f (mean over 32 inputs)";
  spec.width = 640;
  spec.height = 400;
  std::filesystem::create_directories(out_dir);
  plot_lines(out_dir / "07_deletion_curves.png", spec, series);
  std::printf("\nwrote %s\n", (out_dir / "07_deletion_curves.png").string().c_str());

  std::printf("eval_checks_failed = %d\n", failures);
  return failures == 0 ? 0 : 1;
}
