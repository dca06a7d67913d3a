// Tutorial 3 (docs/03-integrated-gradients.md): Integrated Gradients as a
// path integral, and how fast each quadrature rule closes the completeness gap.
//
//     IG_i(x) = Δ_i ∫₀¹ ∂_i f(x' + tΔ) dt ≈ Δ_i Σ_k w_k ∂_i f(x' + t_k Δ),   Δ = x − x'
//     completeness gap = |Σ_i IG_i − (f(x) − f(x'))|
//
// Usage: tutorial_03_integrated_gradients [output dir]   (default: the current dir)
// Writes <dir>/03_completeness_gap.png and <dir>/03_ig_along_path.png. Prints one `name = value` line per
// number; exits 1 if a check fails.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "docs/examples/tutorial_support.hpp"
#include "attribution/gradient_methods.hpp"
#include "attribution/integrated_gradients.hpp"
#include "experiments/lib/plot.hpp"
#include "nn/models/architecture.hpp"
#include "nn/models/smoothing.hpp"

namespace {

using namespace fluxion;
using tutorial::check;
using tutorial::failures;


}  // namespace

int main(int argc, char** argv) {
  const std::filesystem::path out_dir = argc > 1 ? argv[1] : ".";

  // A small smooth model: 4 inputs → 16 tanh → 16 tanh → 2 logits, PyTorch
  // initialisation from seed 3. Any Sequential (or any Function) would do.
  const std::string architecture = R"({"input_shape": [4], "layers": [
      {"type": "linear", "in": 4, "out": 16}, {"type": "tanh"},
      {"type": "linear", "in": 16, "out": 16}, {"type": "tanh"},
      {"type": "linear", "in": 16, "out": 2}]})";
  Sequential<double> model = build_model<double>(architecture, 3);

  ExplainedOutput<double> out;
  out.model = as_function(model);  // x [N, 4] → logits [N, 2]; we explain logit 0

  Tensor<double> x = Tensor<double>::from_shape({1, 4});
  x(0, 0) = 2.0, x(0, 1) = -1.5, x(0, 2) = 1.0, x(0, 3) = 2.5;  // baseline: zeros (black)
  const std::vector<std::size_t> target{0};

  const std::vector<std::string> rules{"riemann_left", "riemann_right", "riemann_midpoint", "trapezoid",
                                       "gauss_legendre"};
  // n = 2 … 64 for the table, up to 1024 for the figure.
  const std::vector<int> steps{2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};
  const std::size_t table_columns = 6;

  // gap[r][s] for rule r with steps[s] gradient evaluations.
  std::vector<std::vector<double>> gap(rules.size());
  Tensor<double> reference;  // IG with 64 Gauss–Legendre nodes
  double output_change = 0;
  for (std::size_t r = 0; r < rules.size(); ++r) {
    for (int n : steps) {
      IntegratedGradientsOptions<double> options;
      options.rule = rules[r];
      options.steps = n;
      const PathAttributions<double> ig = integrated_gradients(out, x, target, options);
      gap[r].push_back(ig.completeness_gaps[0]);
      std::printf("completeness_gap %s %d = %.3e\n", rules[r].c_str(), n, ig.completeness_gaps[0]);
      if (n == 64 && (rules[r] == "riemann_left" || rules[r] == "riemann_right")) {
        // the gap with its sign, Σ A − (f(x) − f(x′)): the two Riemann sums err in opposite directions
        double sum = 0;
        for (double a : ig.attributions) sum += a;
        std::printf("signed_gap %s %d = %+.3e\n", rules[r].c_str(), n, sum - ig.output_changes[0]);
      }
      if (rules[r] == "gauss_legendre" && n == 64) {
        reference = ig.attributions;
        output_change = ig.output_changes[0];
      }
    }
  }

  std::printf("output_change = %.15f\n", output_change);
  double total = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    std::printf("ig gauss_legendre_64 feature_%zu = %.15f\n", i, reference(0, i));
    total += reference(0, i);
  }
  std::printf("ig gauss_legendre_64 sum = %.15f\n", total);

  // The table of the tutorial, and the observed order of each rule:
  // ratio = gap(n) / gap(2n) ≈ 2^p for a rule of order p.
  std::printf("#\n# %-17s", "rule \\ n");
  for (std::size_t i = 0; i < table_columns; ++i) std::printf(" %9d", steps[i]);
  std::printf("\n");
  for (std::size_t r = 0; r < rules.size(); ++r) {
    std::printf("# %-17s", rules[r].c_str());
    for (std::size_t i = 0; i < table_columns; ++i) std::printf(" %9.2e", gap[r][i]);
    std::printf("\n");
  }
  for (std::size_t r = 0; r + 1 < rules.size(); ++r) {
    const double ratio = gap[r][4] / gap[r][5];
    std::printf("gap_ratio %s 32_to_64 = %.3f\n", rules[r].c_str(), ratio);
    const double expected = rules[r].starts_with("riemann_") && rules[r] != "riemann_midpoint" ? 2.0 : 4.0;
    check(std::fabs(ratio - expected) <= 0.15 * expected, rules[r] + " converges at its textbook order");
  }
  check(gap[4][5] <= 1e-12, "Gauss-Legendre with 64 nodes closes the gap to rounding");
  check(gap[4][3] <= 1e-9, "Gauss-Legendre with 16 nodes is already far below every other rule at 64");

  // The figure: gap against n on log-log axes. Gauss–Legendre reaches the
  // rounding level (a gap of 0 or a few 1e-17) at n = 16; a log axis cannot
  // show those, so its curve stops at the last gap above 1e-15.
  std::vector<Series> series;
  for (std::size_t r = 0; r < rules.size(); ++r) {
    Series s{rules[r], {}, {}};
    for (std::size_t i = 0; i < steps.size() && gap[r][i] > 1e-15; ++i) {
      s.x.push_back(steps[i]);
      s.y.push_back(gap[r][i]);
    }
    series.push_back(s);
  }
  PlotSpec spec;
  spec.title = "IG completeness gap |sum IG - (f(x) - f(x'))| by quadrature rule";
  spec.xlabel = "gradient evaluations n";
  spec.ylabel = "completeness gap";
  spec.logx = spec.logy = true;
  spec.width = 800;
  spec.height = 500;
  const std::filesystem::path figure = out_dir / "03_completeness_gap.png";
  try {
    plot_lines(figure, spec, series);
    std::printf("figure_bytes 03_completeness_gap.png = %ju\n", std::uintmax_t(std::filesystem::file_size(figure)));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "figure: %s\n", e.what());
    check(false, "the figure is written");
  }


  // ---- the second figure: IG along its path, on a model that saturates -----
  // f(x) = tanh(w·x) with w = (1, −0.2, 0.8, 0.4): w·x = 4.1 at the x above, so
  // f(γ(t)) = tanh(4.1 t) on the path γ(t) = t·x is flat from t ≈ 0.5 on and the
  // gradient at x is nearly 0. The path from 0 to γ(t) is the first part of
  // IG's path, so IG of the input t·x is the running sum ∫₀ᵗ; in closed form
  //     IG_i(t) = Δ_i ∫₀ᵗ w_i sech²(4.1 s) ds = x_i w_i tanh(4.1 t) / 4.1,
  // which sums to f(γ(t)) − f(0), while gradient × input at γ(t) sums to
  // 4.1 t sech²(4.1 t) and is ≈ 0.0045 at t = 1: saturation hides the features.
  {
    Tensor<double> w = Tensor<double>::from_shape({4, 1});
    w(0, 0) = 1.0, w(1, 0) = -0.2, w(2, 0) = 0.8, w(3, 0) = 0.4;
    ExplainedOutput<double> saturating;
    saturating.model = [w](const Var<double>& v) { return tanh(matmul(v, Var<double>(w))); };
    double wx = 0;
    for (std::size_t i = 0; i < 4; ++i) wx += x(0, i) * w(i, 0);
    std::vector<Series> path_series(7);
    path_series[0].label = "f(γ(t)) − f(x')";
    path_series[1].label = "Σ_i IG_i(t) (running sum)";
    for (std::size_t i = 0; i < 4; ++i) path_series[2 + i].label = "IG_" + std::to_string(i) + "(t)";
    path_series[6].label = "Σ_i (gradient × input) at γ(t)";
    double worst = 0;
    for (int k = 0; k <= 40; ++k) {
      const double t = k / 40.0;
      Tensor<double> xt = x * t;
      IntegratedGradientsOptions<double> options;
      options.steps = 64;  // Gauss–Legendre
      const auto ig = integrated_gradients(saturating, xt, target, options);
      const Tensor<double> gx = gradient_times_input(saturating, xt, target);
      double sum = 0, gx_sum = 0;
      for (std::size_t i = 0; i < 4; ++i) {
        sum += ig.attributions(0, i);
        gx_sum += gx(0, i);
        path_series[2 + i].x.push_back(t);
        path_series[2 + i].y.push_back(ig.attributions(0, i));
        worst = std::max(worst, std::fabs(ig.attributions(0, i) - x(0, i) * w(i, 0) * std::tanh(wx * t) / wx));
      }
      for (auto* series_k : {&path_series[0], &path_series[1], &path_series[6]}) series_k->x.push_back(t);
      path_series[0].y.push_back(ig.output_changes[0]);
      path_series[1].y.push_back(sum);
      path_series[6].y.push_back(gx_sum);
    }
    std::printf("saturating w.x = %.3f\n", wx);
    std::printf("saturating running_ig_max_error_vs_closed_form = %.3e\n", worst);
    std::printf("saturating gradient_x_input_sum_at_x = %.6f\n", path_series[6].y.back());
    check(worst <= 1e-12, "IG of t·x is the closed-form running integral x_i w_i tanh(w·x t) / w·x");
    PlotSpec path_spec{"IG along its path on f(x) = tanh(w·x), which saturates", "t (path γ(t) = x' + t(x − x'), x' = 0)",
                       "value", false, false, 1000, 520};
    const std::filesystem::path path_figure = out_dir / "03_ig_along_path.png";
    try {
      plot_lines(path_figure, path_spec, path_series);
      std::printf("figure_bytes 03_ig_along_path.png = %ju\n", std::uintmax_t(std::filesystem::file_size(path_figure)));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "figure: %s\n", e.what());
      check(false, "the path figure is written");
    }
  }

  std::printf("checks_failed = %d\n", failures);
  return failures == 0 ? 0 : 1;
}
