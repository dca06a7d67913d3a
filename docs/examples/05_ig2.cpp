// Tutorial 5 — IG2 on a 2-D toy problem (docs/05-ig2.md).
//
// A hand-built model on R² split as f = head ∘ features:
//     h(x) = softplus(W₁x + b₁) ∈ R³        (the representation)
//     z(h) = W₂h + b₂ ∈ R²                   (two logits; f = z₀, class 0)
// The program
//   1. walks GradPath by hand — x_{j+1} = x_j − η g_j/‖g_j‖ with
//      g_j = ∇‖h(x_j) − h(r)‖² — and sums ∇f(x_j) ⊙ (x_j − x_{j+1});
//   2. checks that attribution/ig2 gives the same path end (GradCF) and sum;
//   3. halves η at a fixed path length K·η and prints the completeness gap
//      |Σ A − (f(x) − f(GradCF))|, which halves too (left Riemann sum);
//   4. compares with IG on the straight line GradCF → x (same end points);
//   5. draws both paths over the contours of ‖h(p) − h(r)‖² into <out>/05_ig2_paths.png.
// Usage: tutorial_05_ig2 [output_dir]   (default: the current directory)
// Every number the tutorial quotes is printed as one line `name [key=value] = number`;
// the exit code is 1 if a sanity check fails.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "docs/examples/tutorial_support.hpp"
#include "attribution/ig2.hpp"
#include "attribution/integrated_gradients.hpp"
#include "experiments/lib/field_plot.hpp"

using namespace fluxion;
using tutorial::check;
using tutorial::failures;
using tutorial::affine;

namespace {


// ---- the toy model ---------------------------------------------------------
const Tensor<double> W1 = {{3.0, 0.3}, {0.2, 0.8}, {0.6, -0.6}};
const Tensor<double> b1 = {-0.5, 0.2, 0.3};
const Tensor<double> W2 = {{1.2, 0.9, -1.0}, {-0.8, -0.6, 1.1}};
const Tensor<double> b2 = {0.0, 0.3};

SplitModel<double> toy_model() {
  SplitModel<double> m;
  m.features = [](const Var<double>& x) { return softplus(affine(x, W1, b1), 1.0); };
  m.head = [](const Var<double>& h) { return affine(h, W2, b2); };
  return m;
}

/// One point as a batch of one: [1, 2].
Tensor<double> point(double a, double b) { return Tensor<double>{{a, b}}; }

double logit(const SplitModel<double>& m, const Tensor<double>& p, std::size_t c) {
  return m.model()(Var<double>(p)).value()(0, c);
}

}  // namespace

int main(int argc, char** argv) {
  const std::filesystem::path out_dir = argc > 1 ? argv[1] : ".";
  const SplitModel<double> model = toy_model();
  const std::size_t c = 0;  // the explained class
  const Tensor<double> x = point(1.4, 1.2), r = point(-1.0, -1.3);
  const double f_x = logit(model, x, c), f_r = logit(model, r, c);
  std::printf("f(x) = z0(1.4, 1.2) = %.6f, f(r) = z0(-1.0, -1.3) = %.6f\n", f_x, f_r);
  std::printf("ig2_f_x = %.10g\nig2_f_reference = %.10g\n", f_x, f_r);
  const std::vector<std::size_t> cls_x = predicted_classes(model.model(), x);
  const std::vector<std::size_t> cls_r = predicted_classes(model.model(), r);
  std::printf("ig2_class_x = %zu\nig2_class_reference = %zu\n", cls_x[0], cls_r[0]);
  check(cls_x[0] == 0 && cls_r[0] == 1, "x is in class 0 and the reference in class 1");

  // ---- 1. GradPath by hand ------------------------------------------------
  const double length = 3.2;  // K·η, the path length
  const double eta = 0.04;
  const int K = int(std::lround(length / eta));
  const Tensor<double> hr = model.features(Var<double>(r)).value();
  const Function<double> distance = [&](const Var<double>& v) { return sum(square(model.features(v) - Var<double>(hr))); };
  const Function<double> f = [&](const Var<double>& v) { return select(model.model()(v), {c}); };

  std::vector<Tensor<double>> path{x};
  Tensor<double> attribution = {{0.0, 0.0}};
  std::printf("\n   j      x0        x1      f(x_j)   |h(x_j)-h(r)|^2\n");
  for (int j = 0; j < K; ++j) {
    const Tensor<double>& xj = path.back();
    const Tensor<double> g = grad(distance, xj);  // where to go
    const double norm = std::sqrt(g(0, 0) * g(0, 0) + g(0, 1) * g(0, 1));
    const Tensor<double> next = xj - (eta / std::max(norm, 1e-12)) * g;
    attribution += grad(f, xj) * (xj - next);     // what to integrate: ∇f(x_j) ⊙ (x_j − x_{j+1})
    if (j % 10 == 0)
      std::printf("%4d  %8.4f  %8.4f  %8.4f  %10.5f\n", j, xj(0, 0), xj(0, 1), logit(model, xj, c),
                  sum(square(model.features(Var<double>(xj)) - Var<double>(hr))).item());
    path.push_back(next);
  }
  const Tensor<double>& cf = path.back();  // GradCF
  const double f_cf = logit(model, cf, c);
  const double d_start = sum(square(model.features(Var<double>(x)) - Var<double>(hr))).item();
  const double d_end = sum(square(model.features(Var<double>(cf)) - Var<double>(hr))).item();
  std::printf("%4d  %8.4f  %8.4f  %8.4f  %10.5f   <- GradCF\n\n", K, cf(0, 0), cf(0, 1), f_cf, d_end);
  std::printf("ig2_gradcf_x0 = %.10g\nig2_gradcf_x1 = %.10g\nig2_f_gradcf = %.10g\n", cf(0, 0), cf(0, 1), f_cf);
  std::printf("ig2_class_gradcf = %zu\n", predicted_classes(model.model(), cf)[0]);
  std::printf("ig2_repr_distance where=start = %.10g\nig2_repr_distance where=end = %.10g\n", d_start, d_end);
  std::printf("ig2_manual_attribution i=1 = %.10g\nig2_manual_attribution i=2 = %.10g\n", attribution(0, 0),
              attribution(0, 1));
  check(d_end < 0.1 * d_start, "GradPath brings h(x) close to h(r)");
  check(predicted_classes(model.model(), cf)[0] == 1, "GradCF lies in the reference's class");

  // ---- 2. the library agrees --------------------------------------------
  IG2Options options;
  options.steps = K;
  options.step_size = eta;
  options.lo = -3.0;  // a box the path never touches
  options.hi = 3.0;
  const IG2Result<double> lib = ig2(model, x, {c}, r, options);
  const double diff_cf = std::max(std::fabs(lib.counterfactuals(0, 0, 0) - cf(0, 0)), std::fabs(lib.counterfactuals(0, 0, 1) - cf(0, 1)));
  const double diff_a = std::max(std::fabs(lib.paths.attributions(0, 0) - attribution(0, 0)),
                                 std::fabs(lib.paths.attributions(0, 1) - attribution(0, 1)));
  std::printf("ig2_library_vs_manual what=gradcf = %.3e\nig2_library_vs_manual what=attribution = %.3e\n", diff_cf, diff_a);
  check(diff_cf <= 1e-12 && diff_a <= 1e-12, "the library follows the same path");
  std::printf("ig2_gradient_evaluations = %zu\n", lib.paths.gradient_evaluations);

  // ---- 3. completeness: Σ A = f(x) − f(GradCF) up to O(η) -----------------
  std::printf("\n   eta      K   sum(A)     f(x)-f(GradCF)   gap\n");
  std::vector<double> gaps;
  for (double e : {0.04, 0.02, 0.01, 0.005}) {
    IG2Options o = options;
    o.step_size = e;
    o.steps = int(std::lround(length / e));
    const IG2Result<double> res = ig2(model, x, {c}, r, o);
    const double total = res.paths.attributions(0, 0) + res.paths.attributions(0, 1);
    std::printf("%6.3f  %5d  %9.6f  %9.6f  %11.3e\n", e, o.steps, total, res.paths.output_changes[0],
                res.paths.completeness_gaps[0]);
    gaps.push_back(res.paths.completeness_gaps[0]);
  }
  const double etas[] = {0.04, 0.02, 0.01, 0.005};
  for (std::size_t k = 0; k < gaps.size(); ++k) std::printf("ig2_completeness_gap eta=%g = %.6e\n", etas[k], gaps[k]);
  for (std::size_t k = 0; k + 1 < gaps.size(); ++k)
    std::printf("ig2_gap_ratio eta=%g/%g = %.6f\n", etas[k], etas[k + 1], gaps[k] / gaps[k + 1]);
  {
    IG2Options o = options;
    o.step_size = 0.01;
    o.steps = int(std::lround(length / 0.01));
    o.rule = SegmentRule::trapezoid;
    const double t1 = ig2(model, x, {c}, r, o).paths.completeness_gaps[0];
    o.step_size = 0.005;
    o.steps = int(std::lround(length / 0.005));
    const double t2 = ig2(model, x, {c}, r, o).paths.completeness_gaps[0];
    std::printf("ig2_trapezoid_gap eta=0.01 = %.6e\nig2_trapezoid_gap eta=0.005 = %.6e\nig2_trapezoid_ratio = %.6f\n",
                t1, t2, t1 / t2);
    check(t2 < gaps[3], "the trapezoid rule beats the left sum at the same η");
  }
  for (std::size_t k = 0; k + 1 < gaps.size(); ++k)
    check(std::fabs(gaps[k] / gaps[k + 1] - 2.0) <= 0.4, "first order: halving η halves the gap");

  // ---- 4. IG on the straight line between the same end points ------------
  IntegratedGradientsOptions<double> ig_options;
  ig_options.baseline = BaselineKind::user;
  ig_options.user_baseline = cf;
  ig_options.steps = 32;  // Gauss–Legendre: exact to rounding on this smooth line
  const ExplainedOutput<double> out{model.model()};
  const PathAttributions<double> ig = integrated_gradients(out, x, {c}, ig_options);
  std::printf("\n                 A_0        A_1       sum\n");
  std::printf("IG2 (GradPath) %9.5f  %9.5f  %9.5f\n", attribution(0, 0), attribution(0, 1), attribution(0, 0) + attribution(0, 1));
  std::printf("IG (straight)  %9.5f  %9.5f  %9.5f\n", ig.attributions(0, 0), ig.attributions(0, 1),
              ig.attributions(0, 0) + ig.attributions(0, 1));
  std::printf("ig_straight_attribution i=1 = %.10g\nig_straight_attribution i=2 = %.10g\n", ig.attributions(0, 0),
              ig.attributions(0, 1));
  std::printf("ig_straight_completeness_gap = %.3e\n", ig.completeness_gaps[0]);
  check(ig.completeness_gaps[0] <= 1e-10, "Gauss-Legendre IG is complete to rounding");

  // ---- 5. the figure: both paths over the contours of ‖h(p) − h(r)‖² -------
  // (the quantity GradPath descends), on a 161 × 161 grid over [−2, 2]².
  {
    const int n = 161;
    const double lo = -2.0, hi = 2.0;
    Tensor<double> grid = Tensor<double>::from_shape({std::size_t(n * n), 2});
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j) {
        grid(i * n + j, 0) = lo + (hi - lo) * j / (n - 1);
        grid(i * n + j, 1) = hi - (hi - lo) * i / (n - 1);  // row 0 at the top
      }
    const Tensor<double> h = model.features(Var<double>(grid)).value();
    Tensor<double> field = Tensor<double>::from_shape({std::size_t(n), std::size_t(n)});
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j) {
        double d = 0;
        for (std::size_t k = 0; k < hr.shape()[1]; ++k) d += (h(i * n + j, k) - hr(0, k)) * (h(i * n + j, k) - hr(0, k));
        field(i, j) = std::max(d, 1e-3);  // a log colour scale: 0 (at p = r) shown as 1e-3
      }
    Series gradpath{"IG2: GradPath x -> GradCF (eta = 0.04)", {}, {}}, straight{"IG: straight line GradCF -> x", {}, {}};
    for (const Tensor<double>& p : path) gradpath.x.push_back(p(0, 0)), gradpath.y.push_back(p(0, 1));
    for (int k = 0; k <= 20; ++k) {
      straight.x.push_back(cf(0, 0) + (x(0, 0) - cf(0, 0)) * k / 20.0);
      straight.y.push_back(cf(0, 1) + (x(0, 1) - cf(0, 1)) * k / 20.0);
    }
    FieldPlotSpec spec;
    spec.title = "IG2's path descends |h(p) - h(r)|^2; IG's line joins the same end points";
    spec.xlabel = "x1";
    spec.ylabel = "x2";
    spec.value_label = "|h(p) - h(r)|^2";
    spec.x0 = spec.y0 = lo;
    spec.x1 = spec.y1 = hi;
    spec.bands = 15;
    spec.log_colour = true;
    std::filesystem::create_directories(out_dir);
    plot_field(out_dir / "05_ig2_paths.png", spec, field, {gradpath, straight},
               {{x(0, 0), x(0, 1), "x"}, {r(0, 0), r(0, 1), "r (reference)"}, {cf(0, 0), cf(0, 1), "GradCF"}});
  }
  std::printf("\nwrote %s\n", (out_dir / "05_ig2_paths.png").string().c_str());

  std::printf("ig2_checks_failed = %d\n", failures);
  return failures == 0 ? 0 : 1;
}
