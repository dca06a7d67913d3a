// Tutorial 4 (docs/04-integrated-hessians.md): Integrated Hessians = IG of IG,
// its reduction to one path with weight −ln t, its axioms, and why a ReLU
// network must be smoothed (SoftPlus β) before its interactions mean anything.
//
// Usage: tutorial_04_integrated_hessians [output dir]   (default: the current dir)
// Writes <dir>/04_interactions_relu_vs_smooth.png. Prints one `name = value`
// line per number; exits 1 if a check fails.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "docs/examples/tutorial_support.hpp"
#include "attribution/axioms.hpp"
#include "attribution/integrated_gradients.hpp"
#include "attribution/integrated_hessians.hpp"
#include "experiments/lib/heatmap_grid.hpp"
#include "nn/data/synthetic.hpp"
#include "nn/models/architecture.hpp"
#include "nn/models/smoothing.hpp"
#include "nn/training/adam.hpp"

namespace {

using namespace fluxion;
using tutorial::check;
using tutorial::failures;


void report(const std::string& name, double value) { std::printf("%s = %.6e\n", name.c_str(), value); }

ExplainedOutput<double> explain(Function<double> model) {
  ExplainedOutput<double> out;
  out.model = std::move(model);
  return out;
}

IntegratedHessiansOptions<double> ih_rule(const std::string& rule, int points) {
  IntegratedHessiansOptions<double> options;
  options.rule = rule;
  options.points = points;
  return options;
}

/// Γ of one example as a [d, d] tensor.
Tensor<double> matrix(const Tensor<double>& interactions) {
  const std::size_t d = interactions.shape()[1];
  Tensor<double> m = Tensor<double>::from_shape({d, d});
  std::copy(interactions.begin(), interactions.begin() + d * d, m.begin());
  return m;
}

double max_off_diagonal(const Tensor<double>& gamma) {
  double m = 0;
  for (std::size_t i = 0; i < gamma.shape()[0]; ++i)
    for (std::size_t j = 0; j < gamma.shape()[1]; ++j)
      if (i != j) m = std::max(m, std::fabs(gamma(i, j)));
  return m;
}

void print_matrix(const char* title, const Tensor<double>& m) {
  std::printf("# %s\n", title);
  for (std::size_t i = 0; i < m.shape()[0]; ++i) {
    std::printf("#");
    for (std::size_t j = 0; j < m.shape()[1]; ++j) std::printf(" %9.5f", m(i, j));
    std::printf("\n");
  }
}

/// IG as a differentiable function of the input (baseline 0):
///     φ(z) = z ⊙ Σ_k w_k ∇f(t_k z)          z: [1, d] → [1, d]
/// The inner gradients are taken with create_graph, so φ can be differentiated again.
Var<double> ig_as_function(const Function<double>& model, const Var<double>& z, const Quadrature& q) {
  const std::size_t k = q.nodes.size();
  Tensor<double> t = Tensor<double>::from_shape({k, 1}), w = Tensor<double>::from_shape({1, k});
  for (std::size_t i = 0; i < k; ++i) t(i, 0) = q.nodes[i], w(0, i) = q.weights[i];
  Var<double> points = matmul(Var<double>(t), z);  // [k, d]: row i = t_i z
  Var<double> total = sum(model(points));          // Σ_i f(t_i z): rows are independent
  Var<double> gradients = grad<double>({total}, {points}, {}, /*create_graph=*/true)[0];  // [k, d]
  return z * matmul(Var<double>(w), gradients);    // [1, d]
}

/// Γ_ij = x_j Σ_a w_a ∂_j φ_i(α_a x): IG (outer rule) of each IG component (inner rule),
/// straight from the definition, by reverse-over-reverse autodiff.
Tensor<double> ig_of_ig(const Function<double>& model, const Tensor<double>& x, const Quadrature& outer,
                        const Quadrature& inner) {
  const std::size_t d = x.size();
  Tensor<double> gamma = filled<double>({d, d}, 0.0);
  for (std::size_t a = 0; a < outer.nodes.size(); ++a) {
    Var<double> z(Tensor<double>(outer.nodes[a] * x), true);
    Var<double> phi = ig_as_function(model, z, inner);
    for (std::size_t i = 0; i < d; ++i) {
      Tensor<double> e = filled<double>({1, d}, 0.0);
      e(0, i) = 1;
      Tensor<double> row = grad<double>({phi}, {z}, {Var<double>(e)})[0].value();  // ∇_z φ_i
      for (std::size_t j = 0; j < d; ++j) gamma(i, j) += outer.weights[a] * x.data()[j] * row.data()[j];
    }
  }
  return gamma;
}

}  // namespace

int main(int argc, char** argv) {
  const std::filesystem::path out_dir = argc > 1 ? argv[1] : ".";

  // ---- 1. the worked example: f(x) = x₀x₁ at x = (2, 3), x' = 0 ------------
  {
    Tensor<double> e0 = filled<double>({2, 1}, 0.0), e1 = e0;  // columns picking x₀ and x₁
    e0(0, 0) = 1, e1(1, 0) = 1;
    const auto product = explain([e0, e1](const Var<double>& x) {  // x [N, 2] → [N, 1]
      return matmul(x, Var<double>(e0)) * matmul(x, Var<double>(e1));
    });
    Tensor<double> x{{2.0, 3.0}};
    const auto ih = integrated_hessians(product, x, {0}, ih_rule("log_weighted", 4));
    const Tensor<double> g = matrix(ih.interactions);
    report("product gamma_00", g(0, 0));
    report("product gamma_01", g(0, 1));
    report("product gamma_10", g(1, 0));
    report("product gamma_11", g(1, 1));
    report("product completeness_gap", ih.completeness_gaps[0]);
    check(std::fabs(g(0, 0) - 1.5) + std::fabs(g(0, 1) - 1.5) + std::fabs(g(1, 0) - 1.5) +
                  std::fabs(g(1, 1) - 1.5) <= 1e-14,
          "x0*x1 gives 1.5 in every entry");
  }

  // ---- 2. a ReLU network trained on y = x₀x₁ + ½x₂ (x₃ is ignored) ---------
  const std::size_t d = 4;
  Sequential<double> relu_net = build_model<double>(R"({"input_shape": [4], "layers": [
      {"type": "linear", "in": 4, "out": 32}, {"type": "relu"},
      {"type": "linear", "in": 32, "out": 32}, {"type": "relu"},
      {"type": "linear", "in": 32, "out": 1}]})", 5);
  {
    const Tensor<double> X = gaussian({512, d}, 1);
    Tensor<double> Y = Tensor<double>::from_shape({512, 1});
    for (std::size_t n = 0; n < 512; ++n) Y(n, 0) = X(n, 0) * X(n, 1) + 0.5 * X(n, 2);
    relu_net.train();
    Adam<double> adam(relu_net.named_parameters(), 1e-2);
    double loss = 0;
    for (int step = 0; step < 600; ++step) {  // mini-batches of 64, in order
      const std::size_t first = 64 * (step % 8);
      Var<double> l = mse(relu_net.forward(Var<double>(take_examples(X, first, 64))),
                          Var<double>(take_examples(Y, first, 64)));
      adam.zero_grad();
      backward(l);
      adam.step();
    }
    {
      NoGradGuard no_graph;
      loss = mse(relu_net.forward(Var<double>(X)), Var<double>(Y)).item();
    }
    relu_net.eval();
    report("train mse", loss);
    check(loss <= 0.05, "the ReLU net fits y = x0 x1 + x2/2");
  }
  const Sequential<double> smooth_net = smooth(relu_net, 10.0);  // same weights, ReLU → SoftPlus(10)
  const Function<double> relu_f = as_function(relu_net), smooth_f = as_function(smooth_net);

  Tensor<double> x{{1.5, -1.2, 0.8, 0.6}};  // explained point; baseline x' = 0
  report("target x0*x1/4", x(0, 0) * x(0, 1) / 4);

  // ---- 3. the ReLU network: zero Hessian, degenerate IH ---------------------
  Tensor<double> gamma_relu;
  {
    auto scalar = [&](const Function<double>& f) {
      return Function<double>([f, d](const Var<double>& v) { return sum(f(reshape(v, {1, d}))); });
    };
    Tensor<double> flat = x;
    flat.reshape({d});
    const Tensor<double> H_relu = hessian(scalar(relu_f), flat);
    const Tensor<double> H_smooth = hessian(scalar(smooth_f), flat);
    double h_relu = 0, h_smooth = 0;
    for (double v : H_relu) h_relu = std::max(h_relu, std::fabs(v));
    for (double v : H_smooth) h_smooth = std::max(h_smooth, std::fabs(v));
    report("relu hessian max_abs", h_relu);
    report("smooth10 hessian max_abs", h_smooth);
    check(h_relu == 0.0, "a ReLU network's Hessian is exactly 0 between kinks");
    check(h_smooth > 0.1, "the smoothed network has curvature");

    const auto ih = integrated_hessians(explain(relu_f), x, {0}, ih_rule("log_weighted", 32));
    gamma_relu = matrix(ih.interactions);
    print_matrix("Gamma, ReLU net (log_weighted 32)", gamma_relu);
    report("relu ih max_off_diagonal", max_off_diagonal(gamma_relu));
    report("relu ih output_change", ih.output_changes[0]);
    report("relu ih completeness_gap", ih.completeness_gaps[0]);
    check(max_off_diagonal(gamma_relu) == 0.0, "ReLU IH has no off-diagonal interactions");
    check(ih.completeness_gaps[0] >= 1e-2, "ReLU IH misses the kinks' share of f(x) - f(x')");
  }

  // ---- 4. the smoothed network: IH and its axioms ---------------------------
  Tensor<double> gamma_smooth;
  {
    const ExplainedOutput<double> out = explain(smooth_f);
    const auto ih = integrated_hessians(out, x, {0}, ih_rule("log_weighted", 64));
    gamma_smooth = matrix(ih.interactions);
    print_matrix("Gamma, SoftPlus(10) net (log_weighted 64)", gamma_smooth);
    IntegratedGradientsOptions<double> ig_options;
    ig_options.steps = 64;
    const auto ig = integrated_gradients(out, x, {0}, ig_options);
    const double symmetry = interaction_symmetry_gap(ih.interactions);
    const double rows = row_completeness_gap(ih.interactions, ig.attributions);
    report("smooth10 ih output_change", ih.output_changes[0]);
    report("smooth10 ih completeness_gap", ih.completeness_gaps[0]);
    report("smooth10 ih symmetry_gap", symmetry);
    report("smooth10 ih row_completeness_gap", rows);
    for (std::size_t i = 0; i < d; ++i)
      report("smooth10 main_effect gamma_" + std::to_string(i) + std::to_string(i), gamma_smooth(i, i));
    report("smooth10 gamma_01", gamma_smooth(0, 1));
    std::size_t bi = 0, bj = 1;
    for (std::size_t i = 0; i < d; ++i)
      for (std::size_t j = i + 1; j < d; ++j)
        if (std::fabs(gamma_smooth(i, j)) > std::fabs(gamma_smooth(bi, bj))) bi = i, bj = j;
    report("smooth10 strongest_pair_i", double(bi));
    report("smooth10 strongest_pair_j", double(bj));
    check(ih.completeness_gaps[0] <= 1e-8, "interaction completeness");
    check(symmetry <= 1e-12, "interaction symmetry");
    check(rows <= 1e-8, "row sums are the IG attributions");
    check(bi == 0 && bj == 1, "the planted pair (0, 1) is the strongest interaction");

    // The single log-weighted path against the paper's k×k grid, at equal cost.
    for (int k : {2, 4, 8, 16, 32}) {
      const double grid = integrated_hessians(out, x, {0}, ih_rule("paper_grid", k)).completeness_gaps[0];
      std::printf("ih_completeness_gap paper_grid %dx%d = %.3e\n", k, k, grid);
      if (k > 16) continue;  // the log-weighted rule is at rounding level long before
      const double lw = integrated_hessians(out, x, {0}, ih_rule("log_weighted", k * k)).completeness_gaps[0];
      std::printf("ih_completeness_gap log_weighted %d = %.3e\n", k * k, lw);
    }

    // IH from its definition — IG of IG, nested autodiff, 48×48 Gauss–Legendre —
    // against the library's single path of 64 log-weighted nodes.
    const Tensor<double> literal = ig_of_ig(smooth_f, x, gauss_legendre(48), gauss_legendre(48));
    double diff = 0;
    for (std::size_t i = 0; i < d * d; ++i) diff = std::max(diff, std::fabs(literal.data()[i] - gamma_smooth.data()[i]));
    report("ig_of_ig_vs_log_weighted max_abs_diff", diff);
    check(diff <= 1e-9, "the double integral equals the −ln t single integral");
  }

  // ---- 5. β: closer to the ReLU net, but rougher ----------------------------
  {
    auto value = [&](const Function<double>& f) {
      NoGradGuard no_graph;
      return f(Var<double>(x)).item();
    };
    const double f_relu = value(relu_f);
    for (double beta : {1.0, 3.0, 10.0, 30.0, 100.0}) {
      const Function<double> f_beta = as_function(smooth(relu_net, beta));
      const double drift = std::fabs(value(f_beta) - f_relu);
      char label[32];
      std::snprintf(label, sizeof label, "beta %g", beta);
      report(std::string(label) + " output_drift", drift);
      for (int points : {32, 256}) {
        const auto ih = integrated_hessians(explain(f_beta), x, {0}, ih_rule("log_weighted", points));
        report(std::string(label) + " gamma_01_" + std::to_string(points), ih.interactions(0, 0, 1));
        report(std::string(label) + " completeness_gap_" + std::to_string(points), ih.completeness_gaps[0]);
      }
    }
  }

  // ---- the figure: Γ of the ReLU net and of its SoftPlus(10) version --------
  try {
    HeatmapGridSpec spec;
    spec.title = "Integrated Hessians Γ_ij at x (zero baseline)";
    spec.column_titles = {"ReLU net", "SoftPlus(β = 10) net"};
    spec.row_labels = {"Γ_ij: row i, column j"};
    spec.scale = HeatmapScale::per_row;  // one colour scale for both matrices
    spec.clip_percentile = 100;          // no clipping: the bar ends at max |Γ_ij|
    spec.value_label = "Γ_ij";
    spec.show_indices = true;
    spec.panel_pixels = 170;
    const std::filesystem::path figure = out_dir / "04_interactions_relu_vs_smooth.png";
    plot_heatmap_grid(figure, spec, {{{gamma_relu, PanelStyle::diverging, "diagonal Γ_ii = main effects", {}},
                                      {gamma_smooth, PanelStyle::diverging, "diagonal Γ_ii = main effects", {}}}});

    std::printf("figure_bytes 04_interactions_relu_vs_smooth.png = %ju\n",
                std::uintmax_t(std::filesystem::file_size(figure)));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "figure: %s\n", e.what());
    check(false, "the figure is written");
  }

  std::printf("checks_failed = %d\n", failures);
  return failures == 0 ? 0 : 1;
}
