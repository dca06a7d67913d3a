// The reference-compatible flags of `fluxion explain`, `interactions` and
// `check` (--rule, --sigma-schedule, --blur-border, --blur-kernel,
// --max-sigma, --aggregate, --noise-sigma, --false-classes, --inner-baseline),
// run through the real binary and checked by value: against closed forms on a
// linear model of 2×3 images and on the x₀x₁ model (cli_fixtures.hpp), and
// where no closed form exists against the library call with the same settings
// (≤ 1e-12 relative: a wiring check). Wrong combinations exit 2 with one sentence.
#include <doctest/doctest.h>

#include <cmath>

#include "attribution/gaussian_blur.hpp"
#include "attribution/method_registry.hpp"
#include "nn/io/npy.hpp"
#include "nn/models/model_io.hpp"
#include "tests/cli/cli_fixtures.hpp"
#include "tests/cli/fluxion_process.hpp"
#include "tests/nn/scratch_dir.hpp"

namespace fs = std::filesystem;
using namespace fluxion;
using namespace fluxion::testing;

namespace {

const std::vector<double> kW = {0.5, -1.0, 0.25, 2.0, -0.75, 1.5,   // class 0
                                -0.3, 0.8, 1.2, -0.6, 0.4, -1.1,    // class 1
                                0.7, 0.2, -0.9, 0.35, 1.0, -0.45};  // class 2
const std::vector<double> kB = {0.1, -0.2, 0.05};
const std::vector<double> kImage = {0.9, -0.4, 0.3, 0.6, 0.2, -0.8};

struct CompatFixture {
  ScratchDir dir{"cli_compat"};
  CompatFixture() {
    write_model(dir / "linear.safetensors", linear_image_architecture(), {{"1.weight", kW}, {"1.bias", kB}});
    write_model(dir / "curved.safetensors",
                R"({"input_shape":[2,3],"layers":[{"type":"flatten"},{"type":"linear","in":6,"out":5},)"
                R"({"type":"softplus","beta":1},{"type":"linear","in":5,"out":3}]})",
                {}, 13);
    write_model(dir / "product.safetensors", product_architecture(), product_parameters());
    Tensor<double> image = Tensor<double>::from_shape({2, 3});
    std::copy(kImage.begin(), kImage.end(), image.data());
    write_npy(dir / "image.npy", image);
    write_npy(dir / "pair.npy", Tensor<double>({0.6, -0.5}));
    write_npy(dir / "pair_references.npy", Tensor<double>({{0.2, 0.3}, {-0.1, 0.4}, {0.5, -0.2}}));
  }
  fs::path operator/(const std::string& name) const { return dir / name; }
  ProcessResult run(const std::vector<std::string>& args) const {
    ProcessOptions o;
    o.working_dir = dir.path;
    return run_fluxion(args, o);
  }
  /// Runs `args` + --out out.npy, requires exit 0, returns the written values.
  Tensor<double> values(std::vector<std::string> args) const {
    args.insert(args.end(), {"--out", (dir / "out.npy").string()});
    const ProcessResult r = run(args);
    INFO("stdout: " << r.out << "\nstderr: " << r.err);
    REQUIRE(r.exit_code == 0);
    return read_npy<double>(dir / "out.npy");
  }
};

/// The class the linear model predicts for kImage (what --target defaults to).
std::size_t predicted() {
  std::size_t best = 0;
  double best_logit = -1e300;
  for (std::size_t c = 0; c < 3; ++c) {
    double z = kB[c];
    for (std::size_t i = 0; i < 6; ++i) z += kW[c * 6 + i] * kImage[i];
    if (z > best_logit) best_logit = z, best = c;
  }
  return best;
}

/// The library's run_method on the saved model and inputs (the wiring reference).
Tensor<double> library(const fs::path& model_file, const fs::path& input, const std::string& method,
                       const MethodSettings<double>& s, std::size_t target) {
  Sequential<double> model = load_model<double>(model_file);
  ExplainedOutput<double> out;
  out.model = as_function(model);
  Tensor<double> x = read_npy<double>(input);
  Shape batched = {1};
  for (std::size_t d : x.shape()) batched.push_back(d);
  x = Tensor<double>(xt::reshape_view(x, batched));
  // the CLI seeds example i with SplitMix64(seed + (i+1)·φ64) (streaming_run.hpp); spelled out for i = 0
  MethodSettings<double> seeded = s;
  std::uint64_t z = s.seed + 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  seeded.seed = z ^ (z >> 31);
  const MethodOutput<double> r = run_method(method_spec<double>(method), out, x, {target}, seeded);
  Shape single(r.values.shape().begin() + 1, r.values.shape().end());
  return Tensor<double>(xt::reshape_view(r.values, single));
}

void expect_close(const Tensor<double>& got, const Tensor<double>& want, double relative, const std::string& what) {
  INFO(what);
  REQUIRE(got.size() == want.size());
  double scale = 0;
  for (double v : want) scale = std::max(scale, std::fabs(v));
  for (std::size_t i = 0; i < got.size(); ++i)
    CHECK_MESSAGE(std::fabs(got.data()[i] - want.data()[i]) <= relative * scale,
                  "element " << i << ": " << got.data()[i] << " vs " << want.data()[i]);
}

}  // namespace

TEST_CASE("compat CLI: --rule captum_trapezoid and inclusive_linspace give Captum's and PAIR's IG of a linear model") {
  // ∇f = w_c everywhere, baseline 0: IG = x ⊙ w_c · Σ_k w_k, Σ = (n−1)/n (Captum) or 1 (PAIR).
  const CompatFixture f;
  const std::size_t c = predicted();
  for (const auto& [rule, total] : {std::pair<std::string, double>{"captum_trapezoid", 9.0 / 10},
                                    std::pair<std::string, double>{"inclusive_linspace", 1.0}}) {
    const Tensor<double> a = f.values({"explain", "--model", (f / "linear.safetensors").string(), "--input",
                                       (f / "image.npy").string(), "--method", "ig", "--steps", "10", "--rule", rule});
    for (std::size_t i = 0; i < 6; ++i) CHECK(std::fabs(a.data()[i] - kImage[i] * kW[c * 6 + i] * total) <= 1e-15);
  }
}

TEST_CASE("compat CLI: check --rule captum_trapezoid reports Captum's completeness gap 1/n and exits 3") {
  const CompatFixture f;
  const ProcessResult r = f.run({"check", "--model", (f / "linear.safetensors").string(), "--input",
                                 (f / "image.npy").string(), "--method", "ig", "--steps", "10", "--rule",
                                 "captum_trapezoid"});
  CHECK(r.exit_code == 3);
  CHECK(r.out.find("completeness              1.000e-01  FAILS") != std::string::npos);
}

TEST_CASE("compat CLI: --aggregate mean_absolute / variance_absolute with --noise-sigma (Captum NoiseTunnel(Saliency))") {
  const CompatFixture f;
  const std::size_t c = predicted();
  const std::vector<std::string> base = {"explain", "--model", (f / "linear.safetensors").string(), "--input",
                                         (f / "image.npy").string(), "--steps", "7", "--noise-sigma", "1.0"};
  // A linear model: every noisy gradient is w_c, so the mean of |∇f| is |w_c| and its variance 0.
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    return f.values(args);
  };
  const Tensor<double> mean_abs = with({"--method", "smoothgrad", "--aggregate", "mean_absolute"});
  const Tensor<double> signed_mean = with({"--method", "smoothgrad"});
  const Tensor<double> var_abs = with({"--method", "vargrad", "--aggregate", "variance_absolute"});
  for (std::size_t i = 0; i < 6; ++i) {
    CHECK(std::fabs(mean_abs.data()[i] - std::fabs(kW[c * 6 + i])) <= 1e-15);
    CHECK(std::fabs(signed_mean.data()[i] - kW[c * 6 + i]) <= 1e-15);
    CHECK(std::fabs(var_abs.data()[i]) <= 1e-15);
  }
  // The absolute σ on a curved model, against the library with the same settings.
  for (const std::string method : {"smoothgrad", "smoothgrad_squared", "vargrad"}) {
    const Tensor<double> got = f.values({"explain", "--model", (f / "curved.safetensors").string(), "--input",
                                         (f / "image.npy").string(), "--method", method, "--steps", "20",
                                         "--noise-sigma", "0.7", "--seed", "4", "--target", "1"});
    MethodSettings<double> s;
    s.steps = 20;
    s.seed = 4;
    s.options.noise_sigma = 0.7;
    expect_close(got, library(f / "curved.safetensors", f / "image.npy", method, s, 1), 1e-12, method);
  }
}

TEST_CASE("compat CLI: PAIR's Blur IG flags (--sigma-schedule, --blur-border, --blur-kernel, --max-sigma, --rule)") {
  const CompatFixture f;
  const std::size_t c = predicted();
  // A linear model: the left-point sum telescopes to w_c ⊙ (x − L(x, σ_0)) with σ_0 = √max_sigma = √2 for
  // pair_sqrt, L the zero-padded blur with scipy's radius (the blur itself is tested in test_gaussian_blur).
  const Tensor<double> a = f.values({"explain", "--model", (f / "linear.safetensors").string(), "--input",
                                     (f / "image.npy").string(), "--method", "blur_ig", "--steps", "6", "--rule",
                                     "left", "--sigma-schedule", "pair_sqrt", "--blur-border", "zeros",
                                     "--blur-kernel", "scipy", "--max-sigma", "2"});
  Tensor<double> image = Tensor<double>::from_shape({2, 3});
  std::copy(kImage.begin(), kImage.end(), image.data());
  const Tensor<double> end = gaussian_blur(image, std::sqrt(2.0), BlurBorder::zeros, KernelRadius::scipy);
  for (std::size_t i = 0; i < 6; ++i)
    CHECK(std::fabs(a.data()[i] - kW[c * 6 + i] * (kImage[i] - end.data()[i])) <= 1e-14);
  // PAIR's finite-difference sum on a curved model, against the library with the same settings.
  const Tensor<double> got = f.values({"explain", "--model", (f / "curved.safetensors").string(), "--input",
                                       (f / "image.npy").string(), "--method", "blur_ig", "--steps", "9", "--rule",
                                       "pair_finite_difference", "--sigma-schedule", "pair_sqrt", "--blur-border",
                                       "zeros", "--blur-kernel", "scipy", "--max-sigma", "3", "--target", "2"});
  MethodSettings<double> s;
  s.steps = 9;
  s.options = {.rule = "pair_finite_difference", .sigma_schedule = "pair_sqrt", .blur_border = "zeros",
               .blur_kernel = "scipy", .max_sigma = 3.0};
  expect_close(got, library(f / "curved.safetensors", f / "image.npy", "blur_ig", s, 2), 1e-12, "blur_ig pair");
}

TEST_CASE("compat CLI: agi --aggregate sum_over_classes --false-classes 0,1,2") {
  const CompatFixture f;
  const Tensor<double> got = f.values({"explain", "--model", (f / "curved.safetensors").string(), "--input",
                                       (f / "image.npy").string(), "--method", "agi", "--aggregate",
                                       "sum_over_classes", "--false-classes", "0,1,2", "--target", "1"});
  MethodSettings<double> s;
  s.options = {.aggregate = "sum_over_classes", .false_classes = {0, 1, 2}};
  expect_close(got, library(f / "curved.safetensors", f / "image.npy", "agi", s, 1), 1e-12, "agi sum");
  MethodSettings<double> mean;
  mean.options.false_classes = {0, 2};  // class 1 is the explained one: two walks, the sum is twice the mean
  const Tensor<double> m = library(f / "curved.safetensors", f / "image.npy", "agi", mean, 1);
  expect_close(got, Tensor<double>(m * 2.0), 1e-12, "sum = 2 × mean");
}

TEST_CASE("compat CLI: interactions --rule path_explain_tf_grid and --inner-baseline fresh") {
  const CompatFixture f;
  // x₀x₁ at x = (0.6, −0.5), baseline 0: Γ₀₁ = Δ₀Δ₁ · mean(t) over the 11 TF grid nodes = −0.3 · 23/99
  // (the nodes are listed in tests/attribution/test_reference_compat.cpp); the model is x₀x₁ to ~1e-8.
  const Tensor<double> g = f.values({"interactions", "--model", (f / "product.safetensors").string(), "--input",
                                     (f / "pair.npy").string(), "--method", "ih", "--steps", "11", "--rule",
                                     "path_explain_tf_grid", "--target", "0"});
  CHECK(std::fabs(g(0, 1) - (-0.3 * 23 / 99)) <= 1e-7);
  const Tensor<double> fresh = f.values({"interactions", "--model", (f / "product.safetensors").string(), "--input",
                                         (f / "pair.npy").string(), "--method", "eh", "--references",
                                         (f / "pair_references.npy").string(), "--inner-baseline", "fresh",
                                         "--steps", "300", "--seed", "2", "--target", "0"});
  MethodSettings<double> s;
  s.steps = 300;
  s.seed = 2;
  s.references = read_npy<double>(f / "pair_references.npy");
  s.options.inner_baseline = "fresh";
  expect_close(fresh, library(f / "product.safetensors", f / "pair.npy", "eh", s, 0), 1e-12, "eh fresh");
}

TEST_CASE("compat CLI: an option the method does not take or an unknown value exits 2 with one sentence") {
  const CompatFixture f;
  const std::vector<std::string> base = {"explain", "--model", (f / "linear.safetensors").string(), "--input",
                                         (f / "image.npy").string(), "--out", (f / "no.npy").string()};
  auto error_of = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    const ProcessResult r = f.run(args);
    CHECK(r.exit_code == 2);
    CHECK(!fs::exists(f / "no.npy"));
    return r.err;
  };
  CHECK(error_of({"--method", "ig", "--sigma-schedule", "pair_sqrt"}).find(
            "method 'ig' does not take --sigma-schedule (methods that do: blur_ig)") != std::string::npos);
  CHECK(error_of({"--method", "blur_ig", "--blur-border", "wrap"}).find(
            "method 'blur_ig': --blur-border 'wrap' is not one of reflect, zeros") != std::string::npos);
  CHECK(error_of({"--method", "agi", "--false-classes", "0,-1"}).find(
            "--false-classes takes class indices >= 0, got -1") != std::string::npos);
  CHECK(error_of({"--method", "smoothgrad", "--noise-sigma", "-1"}).find("--noise-sigma must be a finite number >= 0") !=
        std::string::npos);
}
