// Tutorial 9 (docs/09-compatibility.md): getting Captum's Integrated Gradients,
// Captum's NoiseTunnel-SmoothGrad and PAIR saliency's Blur IG numbers from
// Fluxion, and why Fluxion's defaults differ. Each compatible run is compared
// with the reference library's formula written out here by hand:
//
//   Captum IG, method='riemann_trapezoid':  A = Δ ⊙ Σ_k w_k ∇f(x' + t_kΔ),  t_k = k/(n−1),
//                                           w = 1/(2n), 1/n, …, 1/n, 1/(2n)  (Σ w = (n−1)/n)
//   PAIR IG (GetMask):                      A = Δ ⊙ (1/n) Σ_k ∇f(x' + t_kΔ)
//   Captum NoiseTunnel(Saliency):           A = (1/n) Σ_s |∇f(x + ε_s)|,  ε ~ N(0, σ²), σ absolute
//   PAIR Blur IG (sqrt=True):               A = −Σ_{i<S} (σ_{i+1} − σ_i) (L(σ_i + h) − L(σ_i))/h ⊙ ∇f(L(σ_i)),
//                                           σ_i = √(i σ_max/S), L = zero-padded blur, radius int(4σ + 0.5)
//
// Usage: tutorial_09_compatibility [output dir]   (writes nothing; the dir is accepted like the others')
// Prints one `name = value` line per number; exits 1 if a check fails.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "docs/examples/tutorial_support.hpp"
#include "attribution/blur_ig.hpp"
#include "attribution/gaussian_blur.hpp"
#include "attribution/method_registry.hpp"
#include "nn/models/architecture.hpp"

namespace {

using namespace fluxion;
using tutorial::check;
using tutorial::failures;

/// max_i |a_i − b_i| / max_i |b_i|.
double relative_difference(const Tensor<double>& a, const Tensor<double>& b) {
  double worst = 0, scale = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    worst = std::max(worst, std::fabs(a.data()[i] - b.data()[i]));
    scale = std::max(scale, std::fabs(b.data()[i]));
  }
  return worst / scale;
}

double total(const Tensor<double>& a) {
  double s = 0;
  for (double v : a) s += v;
  return s;
}

/// |Σ A − (f(x) − f(reference))| / |f(x) − f(reference)|.
double relative_gap(const MethodOutput<double>& r) { return r.completeness_gaps[0] / std::fabs(r.output_changes[0]); }

}  // namespace

int main() {
  // A small smooth CNN on 8×8 images: conv 3×3 (4 channels) → softplus → linear → 3 logits.
  const std::string architecture = R"({"input_shape": [1, 8, 8], "layers": [
      {"type": "conv2d", "in": 1, "out": 4, "kernel": 3, "padding": 1}, {"type": "softplus"},
      {"type": "flatten"}, {"type": "linear", "in": 256, "out": 3}]})";
  Sequential<double> model = build_model<double>(architecture, 4);
  ExplainedOutput<double> out;
  out.model = as_function(model);

  // An image in [0, 1] (min 0, max 1), bright up to its border.
  Tensor<double> x = Tensor<double>::from_shape({1, 1, 8, 8});
  for (std::size_t h = 0; h < 8; ++h)
    for (std::size_t w = 0; w < 8; ++w) x(0, 0, h, w) = (h + w) / 14.0 * (0.6 + 0.4 * std::cos(0.9 * double(h * w)));
  x(0, 0, 7, 7) = 1.0;
  const std::vector<std::size_t> target = resolve_targets(out, x, {});
  const std::size_t d = 64;

  auto run = [&](const std::string& method, const MethodOptions& options, int steps) {
    MethodSettings<double> s;
    s.steps = steps;
    s.options = options;
    return run_method(method_spec<double>(method), out, x, target, s);
  };

  // ---- 1. Integrated Gradients: Captum's and PAIR's rules -------------------
  const int n = 50;
  const MethodOutput<double> captum = run("ig", {.rule = "captum_trapezoid"}, n);
  const MethodOutput<double> pair = run("ig", {.rule = "inclusive_linspace"}, n);
  const MethodOutput<double> trapezoid = run("ig", {.rule = "trapezoid"}, n);
  const MethodOutput<double> gauss = run("ig", {}, n);  // Fluxion's default (and Captum's): Gauss–Legendre

  // The references' formulas by hand: gradients at t_k x (baseline 0), then their weights.
  Tensor<double> points = Tensor<double>::from_shape({std::size_t(n), 1, 8, 8});
  for (int k = 0; k < n; ++k)
    for (std::size_t i = 0; i < d; ++i) points.data()[k * d + i] = double(k) / (n - 1) * x.data()[i];
  const Tensor<double> g = output_gradients(out, points, std::vector<std::size_t>(n, target[0]));
  Tensor<double> captum_formula = filled<double>({1, 1, 8, 8}, 0.0), pair_formula = captum_formula;
  for (int k = 0; k < n; ++k) {
    const double step = (k == 0 || k == n - 1) ? 0.5 / n : 1.0 / n;  // Captum's step_sizes
    for (std::size_t i = 0; i < d; ++i) {
      captum_formula.data()[i] += step * g.data()[k * d + i] * x.data()[i];
      pair_formula.data()[i] += g.data()[k * d + i] * x.data()[i] / n;
    }
  }
  const double captum_vs_formula = relative_difference(captum.values, captum_formula);
  const double pair_vs_formula = relative_difference(pair.values, pair_formula);
  std::printf("ig_vs_formula library=captum = %.3e\n", captum_vs_formula);
  std::printf("ig_vs_formula library=pair = %.3e\n", pair_vs_formula);
  std::printf("ig_sum_ratio captum/trapezoid = %.15f\n", total(captum.values) / total(trapezoid.values));
  for (const auto& [name, r] : {std::pair<const char*, const MethodOutput<double>*>{"gauss_legendre", &gauss},
                                {"trapezoid", &trapezoid}, {"captum_trapezoid", &captum},
                                {"inclusive_linspace", &pair}})
    std::printf("ig_relative_gap rule=%s = %.3e\n", name, relative_gap(*r));
  check(captum_vs_formula <= 1e-13 && pair_vs_formula <= 1e-13, "IG rules reproduce Captum's and PAIR's sums");

  // ---- 2. SmoothGrad: Captum's NoiseTunnel over Saliency --------------------
  const MethodOutput<double> sg_fluxion = run("smoothgrad", {}, 50);  // signed, σ = 0.15 · (max x − min x)
  const MethodOutput<double> sg_captum = run("smoothgrad", {.aggregate = "mean_absolute", .noise_sigma = 1.0}, 50);
  const MethodOutput<double> sg_signed_1 = run("smoothgrad", {.noise_sigma = 1.0}, 50);  // the same draws, signed
  double jensen = 1e300;  // min_i (mean|g|)_i − |mean g|_i ≥ 0 on the same draws
  for (std::size_t i = 0; i < d; ++i)
    jensen = std::min(jensen, sg_captum.values.data()[i] - std::fabs(sg_signed_1.values.data()[i]));
  std::printf("smoothgrad_sigma fluxion = %.6f\n", 0.15 * (1.0 - 0.0));
  std::printf("smoothgrad_abs_minus_abs_signed_min = %.3e\n", jensen);
  std::printf("smoothgrad_relative_difference default_vs_captum = %.3f\n",
              relative_difference(sg_fluxion.values, sg_captum.values));
  check(jensen >= -1e-15, "the mean of |g| is at least |mean g| on the same draws");

  // ---- 3. Blur IG: PAIR's schedule, border, kernel and sum -------------------
  const MethodOptions pair_blur{.rule = "pair_finite_difference", .sigma_schedule = "pair_sqrt",
                                .blur_border = "zeros", .blur_kernel = "scipy", .max_sigma = 50.0};
  const int S = 100;
  const MethodOutput<double> blur_pair = run("blur_ig", pair_blur, S);  // PAIR's GetMask(sqrt=True) defaults
  const MethodOutput<double> blur_fluxion = run("blur_ig", {}, 0);     // σ_max = 5, 64 steps, trapezoid

  // PAIR's sum by hand (σ_i increasing from 0).
  Tensor<double> image = take_examples(x, 0, 1);
  image.reshape({1, 8, 8});
  Tensor<double> blurred = Tensor<double>::from_shape({std::size_t(S), 1, 8, 8});
  std::vector<Tensor<double>> nudged;
  std::vector<double> sigma(S + 1);
  for (int i = 0; i <= S; ++i) sigma[i] = std::sqrt(i * 50.0 / S);
  for (int i = 0; i < S; ++i) {
    const Tensor<double> at = gaussian_blur(image, sigma[i], BlurBorder::zeros, KernelRadius::scipy);
    std::copy(at.data(), at.data() + d, blurred.data() + i * d);
    nudged.push_back(gaussian_blur(image, sigma[i] + 0.01, BlurBorder::zeros, KernelRadius::scipy));
  }
  const Tensor<double> gb = output_gradients(out, blurred, std::vector<std::size_t>(S, target[0]));
  Tensor<double> blur_formula = filled<double>({1, 1, 8, 8}, 0.0);
  for (int i = 0; i < S; ++i)
    for (std::size_t k = 0; k < d; ++k)
      blur_formula.data()[k] -= (sigma[i + 1] - sigma[i]) * (nudged[i].data()[k] - blurred.data()[i * d + k]) / 0.01 *
                                gb.data()[i * d + k];
  const double blur_vs_formula = relative_difference(blur_pair.values, blur_formula);
  BlurIGOptions pair_schedule;
  pair_schedule.max_sigma = 50.0;
  pair_schedule.steps = S;
  pair_schedule.schedule = BlurSchedule::pair_sqrt;
  const double most_blurred = blur_ig_sigmas(pair_schedule)[0];
  double mean_x = 0, mean_zeros = 0, mean_reflect = 0;
  const Tensor<double> end_zeros = gaussian_blur(image, most_blurred, BlurBorder::zeros, KernelRadius::scipy);
  const Tensor<double> end_reflect = gaussian_blur(image, most_blurred);
  for (std::size_t k = 0; k < d; ++k) {
    mean_x += image.data()[k] / d;
    mean_zeros += end_zeros.data()[k] / d;
    mean_reflect += end_reflect.data()[k] / d;
  }
  std::printf("blur_vs_formula library=pair = %.3e\n", blur_vs_formula);
  std::printf("blur_largest_sigma schedule=pair_sqrt = %.6f\n", most_blurred);
  std::printf("blur_image_mean = %.6f\n", mean_x);
  std::printf("blur_end_mean border=zeros = %.6f\n", mean_zeros);
  std::printf("blur_end_mean border=reflect = %.6f\n", mean_reflect);
  std::printf("blur_output_change settings=pair = %.6f\n", blur_pair.output_changes[0]);
  std::printf("blur_attribution_sum settings=pair = %.6f\n", total(blur_pair.values));
  std::printf("blur_gap settings=pair = %.3e\n", blur_pair.completeness_gaps[0]);
  std::printf("blur_output_change settings=fluxion = %.6f\n", blur_fluxion.output_changes[0]);
  std::printf("blur_gap settings=fluxion = %.3e\n", blur_fluxion.completeness_gaps[0]);
  check(blur_vs_formula <= 1e-12, "Blur IG reproduces PAIR's sum");

  std::printf("compat_checks_failed = %d\n", failures);
  return failures == 0 ? 0 : 1;
}
