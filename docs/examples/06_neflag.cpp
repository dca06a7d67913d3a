// Tutorial 6 — NeFLAG in 2-D: flux, the divergence theorem, negative-flux
// aggregation (docs/06-neflag.md).
//
// A hand-built smooth model on R² (2 → 4 softplus(β = 2) → 2 logits); the
// explained output is the logit f = z₀. The program
//   1. samples the flux density φ = ∇f·n̂ on a circle of radius ε around x,
//      sums it by hand, and checks attribution/neflag's sphere_total_flux;
//   2. checks the divergence theorem ∮ φ ds = ∫_disk Δf dA, the Laplacian
//      Δf = trace ∇²f taken from the engine's exact hessian(), and shows the
//      circle rule converging as the number of points M grows;
//   3. shows why *negative* flux is what NeFLAG aggregates: for a uniform
//      field the total flux is 0, but the inflow half points along the field;
//   4. runs neflag() (the RECONSTRUCTED method, see neflag.hpp) with the
//      guided and the plain search, and for several radii;
//   5. draws the field, the circle's points coloured by the sign of φ and the
//      aggregated vector into <out>/06_neflag_flux.png.
// Usage: tutorial_06_neflag [output_dir]   (default: the current directory)
// Numbers are printed one per line as `name [key=value] = number`; exit code 1
// if a sanity check fails.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <numbers>
#include <string>
#include <vector>

#include "docs/examples/tutorial_support.hpp"
#include "attribution/neflag.hpp"
#include "attribution/quadrature.hpp"
#include "nn/models/architecture.hpp"
#include "experiments/lib/field_plot.hpp"

using namespace fluxion;
using tutorial::check;
using tutorial::failures;
using tutorial::affine;

namespace {

constexpr double kPi = std::numbers::pi;

// ---- the toy model: z = W₂ softplus₂(W₁x + b₁) + b₂ ------------------------
const Tensor<double> W1 = {{1.5, -0.8}, {0.7, 1.6}, {-1.2, 0.9}, {0.4, -1.5}};
const Tensor<double> b1 = {0.2, -0.3, 0.1, 0.4};
const Tensor<double> W2 = {{1.0, -0.9, 0.8, 0.7}, {-0.5, 0.9, -0.4, -0.3}};
const Tensor<double> b2 = {0.0, 0.0};

Var<double> toy(const Var<double>& x) { return affine(softplus(affine(x, W1, b1), 2.0), W2, b2); }

/// A linear model f(x) = w·x: a uniform field.
Var<double> uniform_field(const Var<double>& x) {
  Tensor<double> w = Tensor<double>::from_shape({2, 1});
  w(0, 0) = 0.8;
  w(1, 0) = 0.6;
  return matmul(x, Var<double>(w));
}

/// Points x + ε(cos θ_k, sin θ_k), θ_k = 2πk/M, as a batch [M, 2].
Tensor<double> circle(const Tensor<double>& x, double eps, std::size_t M) {
  Tensor<double> z = Tensor<double>::from_shape({M, 2});
  for (std::size_t k = 0; k < M; ++k) {
    const double t = 2 * kPi * double(k) / double(M);
    z(k, 0) = x(0) + eps * std::cos(t);
    z(k, 1) = x(1) + eps * std::sin(t);
  }
  return z;
}

/// φ_k = ∇f(z_k)·n̂_k on the circle, one batched gradient call.
std::vector<double> flux_density(const ExplainedOutput<double>& out, const Tensor<double>& x, double eps, std::size_t M) {
  const Tensor<double> z = circle(x, eps, M);
  const Tensor<double> g = output_gradients(out, z, std::vector<std::size_t>(M, 0));
  std::vector<double> phi(M);
  for (std::size_t k = 0; k < M; ++k) phi[k] = (g(k, 0) * (z(k, 0) - x(0)) + g(k, 1) * (z(k, 1) - x(1))) / eps;
  return phi;
}

/// Δf(p) = trace of the exact Hessian of f at one point p (2 values).
double laplacian(const Function<double>& model, const Tensor<double>& p) {
  const Function<double> f = [&](const Var<double>& v) { return select(model(reshape(v, Shape{1, 2})), {0}); };
  const Tensor<double> H = hessian(f, p);
  return H(0, 0) + H(1, 1);
}

/// ∫_disk Δf dA in polar coordinates: Gauss–Legendre in r (n_r nodes), n_θ equal angles.
double disk_integral_of_laplacian(const Function<double>& model, const Tensor<double>& x, double eps, int n_r, int n_theta) {
  const Quadrature radial = gauss_legendre(n_r);
  double total = 0;
  for (std::size_t a = 0; a < radial.nodes.size(); ++a) {
    const double r = eps * radial.nodes[a];
    for (int k = 0; k < n_theta; ++k) {
      const double t = 2 * kPi * k / n_theta;
      const Tensor<double> p = {x(0) + r * std::cos(t), x(1) + r * std::sin(t)};
      total += eps * radial.weights[a] * (2 * kPi / n_theta) * r * laplacian(model, p);
    }
  }
  return total;
}

/// cos ∠(a, b) of two d-vectors (d = 2 for the toy field).
double cosine(const double* a, const double* b, std::size_t d = 2) {
  double ab = 0, aa = 0, bb = 0;
  for (std::size_t i = 0; i < d; ++i) ab += a[i] * b[i], aa += a[i] * a[i], bb += b[i] * b[i];
  return ab / std::sqrt(aa * bb);
}

}  // namespace

int main(int argc, char** argv) {
  const std::filesystem::path out_dir = argc > 1 ? argv[1] : ".";
  const ExplainedOutput<double> out{toy, OutputKind::logit};
  const Tensor<double> x = {0.3, -0.2};  // one example, no batch axis
  Tensor<double> xb = x;
  xb.reshape({1, 2});
  const Tensor<double> grad_x = output_gradients(out, xb, {0});
  std::printf("f(x) = %.6f, grad f(x) = (%.6f, %.6f)\n", out.model(Var<double>(xb)).value()(0, 0), grad_x(0, 0), grad_x(0, 1));

  // ---- 1. flux through a circle, by hand and by the library ---------------
  const double eps = 0.5;
  const std::size_t M = 64;
  const std::vector<double> phi = flux_density(out, x, eps, M);
  double manual = 0;
  for (double p : phi) manual += (2 * kPi * eps / double(M)) * p;  // ds = ε dθ, periodic trapezoid
  const double library = sphere_total_flux(out, x, 0, eps, M);
  std::printf("neflag_total_flux_manual eps=0.5 M=64 = %.15g\n", manual);
  std::printf("neflag_total_flux_library eps=0.5 M=64 = %.15g\n", library);
  std::printf("neflag_flux_manual_vs_library = %.3e\n", std::fabs(manual - library));
  check(std::fabs(manual - library) <= 1e-13, "manual flux sum = sphere_total_flux");
  std::size_t inflow = 0;
  for (double p : phi) inflow += p < 0 ? 1 : 0;
  std::printf("neflag_inflow_points eps=0.5 M=64 = %zu\n", inflow);

  // ---- 2. the divergence theorem -------------------------------------------
  const double volume = disk_integral_of_laplacian(toy, x, eps, 24, 64);
  std::printf("neflag_laplacian_integral eps=0.5 = %.15g\n", volume);
  std::printf("\n    M   total flux           |flux - integral of Laplacian|\n");
  double last_gap = 0;
  for (std::size_t m : {4, 8, 16, 32, 64}) {
    const double flux = sphere_total_flux(out, x, 0, eps, m);
    last_gap = std::fabs(flux - volume);
    std::printf("%5zu  %.15f  %.3e\n", m, flux, last_gap);
  }
  std::printf("\n");
  for (std::size_t m : {4, 8, 16, 32, 64})
    std::printf("neflag_divergence_gap M=%zu = %.3e\n", m, std::fabs(sphere_total_flux(out, x, 0, eps, m) - volume));
  check(std::fabs(volume) > 1e-2, "the field has curvature to measure");
  check(last_gap <= 1e-10, "divergence theorem: flux = integral of the Laplacian");

  // ---- 3. uniform field: zero total flux, inflow along the field ------------
  const ExplainedOutput<double> flat{uniform_field, OutputKind::logit};
  const double uniform_flux = sphere_total_flux(flat, x, 0, eps, M);
  const std::vector<double> phi_u = flux_density(flat, x, eps, M);
  double a_u[2] = {0, 0};
  for (std::size_t k = 0; k < M; ++k) {
    const double t = 2 * kPi * double(k) / double(M);
    if (phi_u[k] < 0) {  // A = (1/M) Σ_{φ<0} φ n̂
      a_u[0] += phi_u[k] * std::cos(t) / double(M);
      a_u[1] += phi_u[k] * std::sin(t) / double(M);
    }
  }
  const double w_u[2] = {0.8, 0.6};
  std::printf("neflag_uniform_total_flux = %.3e\n", std::fabs(uniform_flux));
  std::printf("neflag_uniform_dense_cosine = %.15f\n", cosine(a_u, w_u));
  std::printf("neflag_uniform_dense_norm_ratio = %.15f\n", std::hypot(a_u[0], a_u[1]) / 1.0);  // |w| = 1
  check(std::fabs(uniform_flux) <= 1e-14, "a uniform field has zero total flux");
  check(cosine(a_u, w_u) >= 1 - 1e-12, "the inflow half aggregates along the field");

  // The same dense aggregation for the toy model, on the circle of part 1.
  double a_dense[2] = {0, 0};
  for (std::size_t k = 0; k < M; ++k) {
    const double t = 2 * kPi * double(k) / double(M);
    if (phi[k] < 0) {
      a_dense[0] += phi[k] * std::cos(t) / double(M);
      a_dense[1] += phi[k] * std::sin(t) / double(M);
    }
  }
  std::printf("neflag_dense_cosine_to_gradient eps=0.5 = %.6f\n", cosine(a_dense, grad_x.data()));

  // ---- 4. the library's NeFLAG (reconstructed) -------------------------------
  NeFLAGOptions options;  // n = 20, m = 20, s = 0.2, flux_vector; the search is set per row below
  options.output = OutputKind::logit;
  double angle_small = 0, angle_large = 0;  // ∠(A, ∇f(x)) at ε = 0.01 and 0.1
  std::string lines;  // the parseable lines, printed after the table
  auto line = [&lines](const std::string& key, double v, const char* format) {
    char buffer[160];
    std::snprintf(buffer, sizeof buffer, format, v);
    lines += key + " = " + buffer + "\n";
  };
  std::printf("\n  radius  search   negative/n   A                        cos(A, grad f(x))  angle (rad)\n");
  for (double radius : {0.01, 0.1, 0.5, 1.0}) {
    for (NeFLAGSearch search : {NeFLAGSearch::guided, NeFLAGSearch::plain}) {
      options.radius = radius;
      options.search = search;
      const NeFLAGResult<double> r = neflag(out, xb, {0}, options);
      const double cos = cosine(r.attributions.data(), grad_x.data());
      const double angle = std::acos(std::min(cos, 1.0));
      const std::string name = search == NeFLAGSearch::guided ? "guided" : "plain";
      std::printf("  %5.2f   %-7s  %2zu/20       (%9.5f, %9.5f)   %.6f           %.3e\n", radius, name.c_str(),
                  r.negative_points[0], r.attributions(0, 0), r.attributions(0, 1), cos, angle);
      char suffix[64];
      std::snprintf(suffix, sizeof suffix, " search=%s radius=%g", name.c_str(), radius);
      line("neflag_cosine_to_gradient" + std::string(suffix), cos, "%.10f");
      line("neflag_angle_to_gradient" + std::string(suffix), angle, "%.6e");
      line("neflag_negative_points" + std::string(suffix), double(r.negative_points[0]), "%.0f");
      if (search == NeFLAGSearch::guided && radius == 0.1) {
        line("neflag_norm_ratio_to_gradient search=guided radius=0.1",
             std::hypot(r.attributions(0, 0), r.attributions(0, 1)) / std::hypot(grad_x(0, 0), grad_x(0, 1)), "%.6f");
        Tensor<double> zero = {{0.0, 0.0}};
        line("neflag_sum_attribution radius=0.1", r.attributions(0, 0) + r.attributions(0, 1), "%.6f");
        line("neflag_f_x_minus_f_0", out.model(Var<double>(xb)).value()(0, 0) - out.model(Var<double>(zero)).value()(0, 0), "%.6f");
      }
      if (search == NeFLAGSearch::guided && radius == 0.01) angle_small = angle;
      if (search == NeFLAGSearch::guided && radius == 0.1) angle_large = angle;
    }
  }
  std::printf("\n%s", lines.c_str());

  // The guided points sit at the minimum of f on the sphere, x − ε∇f/|∇f| + O(ε²):
  // the direction error is first order in ε (×10 radius → ×10 angle).
  std::printf("neflag_angle_ratio radius=0.1/0.01 = %.4f\n", angle_large / angle_small);
  check(angle_small <= 1e-2, "a small sphere points A along grad f(x)");
  check(angle_large / angle_small > 7 && angle_large / angle_small < 14, "the direction error is first order in the radius");

  // ---- 4b. plain sampling in high dimension ----------------------------------
  // A linear f(z) = w·z in d = 784 (an MNIST image's size), n = 20 random points
  // per example, 200 examples: only the ≈ n/2 inflow points count, so
  // cos(A, w) ≈ √(n/(2d)) = 0.113 (not √(n/d) = 0.160).
  {
    const std::size_t d = 784, examples = 200;
    Sequential<double> linear =
        build_model<double>(R"({"input_shape": [784], "layers": [{"type": "linear", "in": 784, "out": 1}]})", 0);
    const Tensor<double> w = linear.named_parameters()[0].value.value();  // [1, 784]
    const ExplainedOutput<double> wide{as_function(linear), OutputKind::logit};
    NeFLAGOptions plain;
    plain.search = NeFLAGSearch::plain;
    plain.output = OutputKind::logit;
    plain.seed = 7;
    const Tensor<double> inputs = filled<double>({examples, d}, 0.5);
    const NeFLAGResult<double> r = neflag(wide, inputs, std::vector<std::size_t>(examples, 0), plain);
    double mean_cos = 0;
    for (std::size_t e = 0; e < examples; ++e) mean_cos += cosine(&r.attributions(e, 0), w.data(), d) / examples;
    std::printf("neflag_plain_mean_cosine d=784 n=20 = %.4f\n", mean_cos);
    std::printf("neflag_plain_predicted sqrt(n/(2d)) = %.4f\n", std::sqrt(20.0 / (2 * d)));
    check(std::fabs(mean_cos - std::sqrt(20.0 / (2 * d))) < 0.02, "plain sampling in d = 784: cos ≈ √(n/(2d))");
  }

  // ---- 5. the figure: f's contours, ∇f, the flux on the circle, A and ∇f(x) ---
  {
    const int n = 181;
    const double half = 1.2, lo_x = x(0) - half, hi_x = x(0) + half, lo_y = x(1) - half, hi_y = x(1) + half;
    Tensor<double> grid = Tensor<double>::from_shape({std::size_t(n * n), 2});
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j) {
        grid(i * n + j, 0) = lo_x + (hi_x - lo_x) * j / (n - 1);
        grid(i * n + j, 1) = hi_y - (hi_y - lo_y) * i / (n - 1);  // row 0 at the top
      }
    const Tensor<double> values = out.model(Var<double>(grid)).value();
    Tensor<double> field = Tensor<double>::from_shape({std::size_t(n), std::size_t(n)});
    for (int k = 0; k < n * n; ++k) field(k / n, k % n) = values(k, 0);
    std::vector<FieldArrow> arrows;
    // ∇f on a coarse 8 × 8 grid (length 0.1 |∇f|).
    const int m = 8;
    Tensor<double> coarse = Tensor<double>::from_shape({std::size_t(m * m), 2});
    for (int i = 0; i < m; ++i)
      for (int j = 0; j < m; ++j) {
        coarse(i * m + j, 0) = lo_x + (hi_x - lo_x) * (j + 0.5) / m;
        coarse(i * m + j, 1) = lo_y + (hi_y - lo_y) * (i + 0.5) / m;
      }
    const Tensor<double> g = output_gradients(out, coarse, std::vector<std::size_t>(m * m, 0));
    for (int k = 0; k < m * m; ++k)
      arrows.push_back({coarse(k, 0), coarse(k, 1), 0.1 * g(k, 0), 0.1 * g(k, 1), "#8C8C8C", "gradient field (0.1 |grad f|)"});
    // n̂ scaled by φ on 48 circle points: inward (blue) where φ < 0, outward (red) where φ > 0.
    const Tensor<double> z = circle(x, eps, 48);
    const std::vector<double> phi48 = flux_density(out, x, eps, 48);
    for (std::size_t k = 0; k < 48; ++k) {
      const double nx = (z(k, 0) - x(0)) / eps, ny = (z(k, 1) - x(1)) / eps;
      arrows.push_back({z(k, 0), z(k, 1), 0.12 * phi48[k] * nx, 0.12 * phi48[k] * ny,
                        phi48[k] < 0 ? "#0050DC" : "#D20000",
                        phi48[k] < 0 ? "negative flux: phi n (phi < 0)" : "positive flux: phi n (phi > 0)"});
    }
    // Directions only (both drawn 0.4 long): the dense A (black) and ∇f(x) (green).
    const double a_norm = std::hypot(a_dense[0], a_dense[1]), g_norm = std::hypot(grad_x(0, 0), grad_x(0, 1));
    arrows.push_back({x(0), x(1), 0.4 * a_dense[0] / a_norm, 0.4 * a_dense[1] / a_norm, "#000000", "direction of A (dense)"});
    arrows.push_back({x(0), x(1), 0.4 * grad_x(0, 0) / g_norm, 0.4 * grad_x(0, 1) / g_norm, "#00A000", "direction of grad f(x)"});
    Series ring{"circle of radius eps = 0.5 around x", {}, {}};
    for (std::size_t k = 0; k <= 96; ++k) {
      ring.x.push_back(x(0) + eps * std::cos(2 * kPi * double(k) / 96));
      ring.y.push_back(x(1) + eps * std::sin(2 * kPi * double(k) / 96));
    }
    FieldPlotSpec spec;
    spec.title = "The flux of grad f through a circle around x";
    spec.xlabel = "x1";
    spec.ylabel = "x2";
    spec.value_label = "f(x1, x2)";
    spec.x0 = lo_x, spec.x1 = hi_x, spec.y0 = lo_y, spec.y1 = hi_y;
    spec.bands = 12;
    spec.width = 740;
    spec.height = 680;
    std::filesystem::create_directories(out_dir);
    plot_field(out_dir / "06_neflag_flux.png", spec, field, {ring}, {{x(0), x(1), "x"}}, arrows);
  }
  std::printf("\nwrote %s\n", (out_dir / "06_neflag_flux.png").string().c_str());

  std::printf("neflag_checks_failed = %d\n", failures);
  return failures == 0 ? 0 : 1;
}
