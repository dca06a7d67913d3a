// The CLI matrix: the real `fluxion` binary (fork + exec) for every
// subcommand and every documented flag and value, each output checked BY
// VALUE, twice where possible:
//   (a) against the library call the command wraps, made here with the same
//       settings (run_method, load_model, read_npy, train_model, ...): the
//       .npy the binary wrote must equal it to ≤ 1e-12 relative to max|value|
//       (both sides run the same code in the same precision on the same
//       machine, so anything above rounding noise is a wiring bug: a flag read
//       wrongly, a file converted twice, a default that differs);
//   (b) against an independent closed form where one exists: IG, saliency and
//       gradient × input of a linear model, hand-written gradients and
//       Hessians of one-hidden-layer nets (--smooth-beta, --steps with a
//       hand-built 3-node Gauss–Legendre rule), Integrated Hessians and the
//       Shapley interaction of a model computing x₀x₁ (cli_fixtures.hpp:
//       product_architecture; the format has no product layer, so the product
//       is built from softplus units and is exact up to O(a²) = 1e-8).
// Plus: --help of each subcommand lists exactly the flags of the table
// kCoveredFlags below (a flag added later without a row here fails, and so
// does a row whose flag is gone); the PNG heatmaps drawn without gnuplot have the size of the rule
// in experiments/cli/explain_inputs.cpp write_unlabelled_heatmaps and the colours
// of the diverging map in experiments/lib/png.hpp, cell by cell; --tolerance
// and `check` gates print the gap the library computes and exit 3 when it is
// exceeded; `train` produces, bit for bit, the parameters of the library
// trainer with the same seed and settings.
// Tiny models (d ≤ 6 features, ≤ 3 examples) keep the whole file fast; it
// also runs under ASan+UBSan.
#include <doctest/doctest.h>
#include <png.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "attribution/axioms.hpp"
#include "attribution/integrated_gradients.hpp"
#include "attribution/method_registry.hpp"
#include "nn/io/npy.hpp"
#include "nn/models/architecture.hpp"
#include "nn/models/model_io.hpp"
#include "nn/models/smoothing.hpp"
#include "nn/models/smoothing_report.hpp"
#include "nn/training/dataset.hpp"
#include "nn/training/trainer.hpp"
#include "tests/cli/cli_fixtures.hpp"
#include "tests/cli/fluxion_process.hpp"
#include "tests/nn/scratch_dir.hpp"

namespace fs = std::filesystem;
using namespace fluxion;
using namespace fluxion::testing;

namespace {

// ---------------------------------------------------------------------------
// The table of covered flags. Every flag `fluxion <command> --help` lists must
// have a row (and every row's flag must still be listed): the "checked by"
// column names the test case(s) below that check the flag by value.
struct FlagRow {
  const char* command;
  const char* flag;
  const char* checked_by;
};

const std::vector<FlagRow> kCoveredFlags = {
    {"explain", "--help", "help lists every flag"},
    {"explain", "--model", "every explain case"},
    {"explain", "--representation", "cli onnx: --representation names IG2's layer (tests/cli/test_cli_onnx.cpp)"},
    {"explain", "--method", "every method of the catalogue"},
    {"explain", "--input", "single and batched inputs, <f4 and <f8"},
    {"explain", "--out", "every explain case"},
    {"explain", "--target", "--target one for all and one per example"},
    {"explain", "--baseline", "--baseline zeros, blur, one file, a file per example"},
    {"explain", "--steps", "--steps: hand-built Gauss-Legendre rule"},
    {"explain", "--smooth-beta", "--smooth-beta: closed-form gradients of the smoothed ReLU net"},
    {"explain", "--output", "--output logit and probability"},
    {"explain", "--references", "--references; every method of the catalogue"},
    {"explain", "--seed", "--seed and --batch-size"},
    {"explain", "--batch-size", "--seed and --batch-size"},
    {"explain", "--png", "--png"},
    {"explain", "--dtype", "--dtype float32 and float64"},
    {"explain", "--tolerance", "--tolerance"},
    {"explain", "--chunk-size", "streaming: chunk size, IDX input and --limit do not change the bytes"},
    {"explain", "--limit", "streaming: chunk size, IDX input and --limit do not change the bytes"},
    {"explain", "--resume", "streaming: --resume after SIGKILL gives the uninterrupted bytes"},
    {"explain", "--quiet", "streaming: the progress line and --quiet"},
    {"interactions", "--help", "help lists every flag"},
    {"interactions", "--model", "every interactions case"},
    {"interactions", "--representation", "cli onnx: --representation names IG2's layer (tests/cli/test_cli_onnx.cpp)"},
    {"interactions", "--method", "every method of the catalogue"},
    {"interactions", "--input", "Integrated Hessians of x0*x1"},
    {"interactions", "--out", "every interactions case"},
    {"interactions", "--target", "interactions: --target, --output, --references, --seed, --batch-size"},
    {"interactions", "--baseline", "Integrated Hessians of x0*x1; interactions: --baseline blur"},
    {"interactions", "--steps", "Integrated Hessians of x0*x1"},
    {"interactions", "--smooth-beta", "--smooth-beta: closed-form gradients of the smoothed ReLU net"},
    {"interactions", "--output", "interactions: --target, --output, --references, --seed, --batch-size"},
    {"interactions", "--references", "interactions: --target, --output, --references, --seed, --batch-size"},
    {"interactions", "--seed", "interactions: --target, --output, --references, --seed, --batch-size"},
    {"interactions", "--batch-size", "interactions: --target, --output, --references, --seed, --batch-size"},
    {"interactions", "--png", "--png"},
    {"interactions", "--dtype", "--dtype float32 and float64"},
    {"interactions", "--tolerance", "--tolerance"},
    {"interactions", "--chunk-size", "streaming: chunk size, IDX input and --limit do not change the bytes"},
    {"interactions", "--limit", "streaming: chunk size, IDX input and --limit do not change the bytes"},
    {"interactions", "--resume", "streaming: --resume after SIGKILL gives the uninterrupted bytes"},
    {"interactions", "--quiet", "streaming: the progress line and --quiet"},
    {"interactions", "--output-form", "streaming: --output-form rows, top-k, row-sums by value"},
    {"interactions", "--max-output-bytes", "streaming: --max-output-bytes refuses a large output in one sentence"},
    {"check", "--help", "help lists every flag"},
    {"check", "--model", "every check case"},
    {"check", "--representation", "cli onnx: --representation names IG2's layer (tests/cli/test_cli_onnx.cpp)"},
    {"check", "--method", "check: every flag ... (ig, expected_gradients, eh, ih, input_hessian, saliency)"},
    {"check", "--input", "every check case"},
    {"check", "--target", "check: every flag changes the printed gaps as the library says"},
    {"check", "--baseline", "check: every flag changes the printed gaps as the library says"},
    {"check", "--steps", "check: the gate fails and passes"},
    {"check", "--smooth-beta", "check: every flag changes the printed gaps as the library says"},
    {"check", "--output", "check: every flag changes the printed gaps as the library says"},
    {"check", "--references", "check: every flag changes the printed gaps as the library says"},
    {"check", "--seed", "check: every flag changes the printed gaps as the library says"},
    {"check", "--batch-size", "check: every flag changes the printed gaps as the library says"},
    {"check", "--dtype", "check: every flag changes the printed gaps as the library says"},
    {"check", "--tolerance", "check: the gate fails and passes"},
    {"train", "--help", "help lists every flag"},
    {"train", "--arch", "train: JSON, .json file, presets"},
    {"train", "--out", "every train case"},
    {"train", "--epochs", "train: sgd, cosine, float64"},
    {"train", "--seed", "train: JSON, .json file, presets"},
    {"train", "--data", "every train case"},
    {"train", "--batch-size", "train: sgd, cosine, float64"},
    {"train", "--lr", "train: sgd, cosine, float64"},
    {"train", "--optimizer", "train: sgd, cosine, float64; train: JSON, .json file, presets (adam)"},
    {"train", "--momentum", "train: sgd, cosine, float64"},
    {"train", "--weight-decay", "train: sgd, cosine, float64"},
    {"train", "--schedule", "train: sgd, cosine, float64"},
    {"train", "--dtype", "train: sgd, cosine, float64 (float64); train: JSON, .json file, presets (float32)"},
    {"train", "--limit", "train: sgd, cosine, float64"},
    {"train", "--resume", "train: --resume and --smoothing-report"},
    {"train", "--smoothing-report", "train: --resume and --smoothing-report"},
    // The reference-compatible method options: tests/cli/test_cli_compat.cpp ("compat CLI: ...").
    {"explain", "--rule", "compat CLI: --rule captum_trapezoid and inclusive_linspace; PAIR's Blur IG flags; path_explain_tf_grid"},
    {"explain", "--sigma-schedule", "compat CLI: PAIR's Blur IG flags"},
    {"explain", "--blur-border", "compat CLI: PAIR's Blur IG flags"},
    {"explain", "--blur-kernel", "compat CLI: PAIR's Blur IG flags"},
    {"explain", "--max-sigma", "compat CLI: PAIR's Blur IG flags"},
    {"explain", "--aggregate", "compat CLI: --aggregate mean_absolute / variance_absolute; agi --aggregate sum_over_classes"},
    {"explain", "--noise-sigma", "compat CLI: --aggregate mean_absolute / variance_absolute with --noise-sigma"},
    {"explain", "--false-classes", "compat CLI: agi --aggregate sum_over_classes --false-classes"},
    {"explain", "--inner-baseline", "compat CLI: interactions --rule path_explain_tf_grid and --inner-baseline fresh"},
    {"interactions", "--rule", "compat CLI: --rule captum_trapezoid and inclusive_linspace; PAIR's Blur IG flags; path_explain_tf_grid"},
    {"interactions", "--sigma-schedule", "compat CLI: PAIR's Blur IG flags"},
    {"interactions", "--blur-border", "compat CLI: PAIR's Blur IG flags"},
    {"interactions", "--blur-kernel", "compat CLI: PAIR's Blur IG flags"},
    {"interactions", "--max-sigma", "compat CLI: PAIR's Blur IG flags"},
    {"interactions", "--aggregate", "compat CLI: --aggregate mean_absolute / variance_absolute; agi --aggregate sum_over_classes"},
    {"interactions", "--noise-sigma", "compat CLI: --aggregate mean_absolute / variance_absolute with --noise-sigma"},
    {"interactions", "--false-classes", "compat CLI: agi --aggregate sum_over_classes --false-classes"},
    {"interactions", "--inner-baseline", "compat CLI: interactions --rule path_explain_tf_grid and --inner-baseline fresh"},
    {"check", "--rule", "compat CLI: check --rule captum_trapezoid (the others: as for explain)"},
    {"check", "--sigma-schedule", "compat CLI: PAIR's Blur IG flags"},
    {"check", "--blur-border", "compat CLI: PAIR's Blur IG flags"},
    {"check", "--blur-kernel", "compat CLI: PAIR's Blur IG flags"},
    {"check", "--max-sigma", "compat CLI: PAIR's Blur IG flags"},
    {"check", "--aggregate", "compat CLI: --aggregate mean_absolute / variance_absolute; agi --aggregate sum_over_classes"},
    {"check", "--noise-sigma", "compat CLI: --aggregate mean_absolute / variance_absolute with --noise-sigma"},
    {"check", "--false-classes", "compat CLI: agi --aggregate sum_over_classes --false-classes"},
    {"check", "--inner-baseline", "compat CLI: interactions --rule path_explain_tf_grid and --inner-baseline fresh"},
    // export: tests/cli/test_cli_export.cpp ("cli export: ...").
    {"export", "--help", "help lists every flag"},
    {"export", "--model", "cli export: the exported ONNX file explains to the original model's numbers"},
    {"export", "--onnx", "cli export: the exported ONNX file explains to the original model's numbers"},
    {"export", "--smooth-beta", "cli export: the exported ONNX file explains to the original model's numbers (--smooth-beta)"},
    {"export", "--dtype", "cli export: the exported ONNX file explains to the original model's numbers (--dtype float32)"},
    // reproduce runs in tests/experiments/test_reproduce_smoke.cpp (library);
    // here: --help and one argument error per flag.
    {"reproduce", "--help", "help lists every flag"},
    {"reproduce", "experiments", "reproduce: argument errors"},
    {"reproduce", "--quick", "reproduce: argument errors"},
    {"reproduce", "--full", "reproduce: argument errors"},
    {"reproduce", "--smoke", "reproduce: argument errors"},
    {"reproduce", "--out", "reproduce: argument errors"},
    {"reproduce", "--data", "reproduce: argument errors"},
    {"reproduce", "--seed", "reproduce: argument errors"},
    {"reproduce", "--force", "reproduce: argument errors"},
};

const std::vector<std::string> kCommands = {"train", "reproduce", "explain", "interactions", "check", "export"};

// ---------------------------------------------------------------------------
// Tensors and comparisons.

Tensor<double> tensor(const Shape& shape, const std::vector<double>& values) {
  Tensor<double> t = Tensor<double>::from_shape(shape);
  REQUIRE(t.size() == values.size());
  std::copy(values.begin(), values.end(), t.data());
  return t;
}

template <class T>
Tensor<double> widen(const Tensor<T>& t) {
  return Tensor<double>(xt::cast<double>(t));
}

double max_abs(const Tensor<double>& t) {
  double m = 0;
  for (double v : t) m = std::max(m, std::abs(v));
  return m;
}

/// got == want within tol · max|want| (tol = 0: equal values), same shape.
void expect_close(const Tensor<double>& got, const Tensor<double>& want, double tol, const std::string& what) {
  INFO(what);
  REQUIRE(shape_str(shape_of(got)) == shape_str(shape_of(want)));
  double worst = 0;
  std::size_t at = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double d = std::abs(got.data()[i] - want.data()[i]);
    if (!(d <= worst)) {
      worst = d;
      at = i;
    }
  }
  const double bound = tol * max_abs(want);
  CHECK_MESSAGE(worst <= bound, "element " << at << ": got " << got.data()[at] << ", want " << want.data()[at]
                                            << " (|diff| " << worst << " > " << bound << ")");
}

/// Two tensors differ somewhere by more than `tol` · max|a| (seeds must matter).
bool differ(const Tensor<double>& a, const Tensor<double>& b, double tol) {
  if (shape_of(a) != shape_of(b)) return true;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::abs(a.data()[i] - b.data()[i]) > tol * max_abs(a)) return true;
  return false;
}

/// Row n of x[N, ...] as a flat vector.
std::vector<double> row(const Tensor<double>& x, std::size_t n) {
  const std::size_t per = x.size() / x.shape()[0];
  return {x.data() + n * per, x.data() + (n + 1) * per};
}

// ---------------------------------------------------------------------------
// Hand-written one-hidden-layer nets: logits = W2 φ(W1 x + b1) + b2 with φ =
// softplus_β or relu. Gradients and Hessians in closed form, independent of
// autodiff: ∇f_c = Σ_k W2[c,k] φ'(z_k) W1[k,:], ∇²f_c = Σ_k W2[c,k] φ''(z_k) W1[k,:]ᵀ W1[k,:].

struct HandNet {
  std::vector<std::vector<double>> w1, w2;
  std::vector<double> b1, b2;
  double beta = 1;     // softplus_β
  bool relu = false;   // φ = relu (φ' = step, φ'' = 0)

  /// Reads the two linear layers `first`, `second` ("0", "2") of a model file.
  static HandNet from_file(const fs::path& path, const std::string& first, const std::string& second) {
    HandNet net;
    const Sequential<double> m = load_model<double>(path);
    for (const auto& p : m.named_parameters()) {
      const Tensor<double>& v = p.value.value();
      auto matrix = [&](std::vector<std::vector<double>>& w) {
        w.assign(v.shape()[0], std::vector<double>(v.shape()[1]));
        for (std::size_t i = 0; i < v.shape()[0]; ++i)
          for (std::size_t j = 0; j < v.shape()[1]; ++j) w[i][j] = v(i, j);
      };
      if (p.name == first + ".weight") matrix(net.w1);
      if (p.name == second + ".weight") matrix(net.w2);
      if (p.name == first + ".bias") net.b1.assign(v.begin(), v.end());
      if (p.name == second + ".bias") net.b2.assign(v.begin(), v.end());
    }
    return net;
  }
  std::vector<double> z(const std::vector<double>& x) const {
    std::vector<double> out(w1.size());
    for (std::size_t k = 0; k < w1.size(); ++k) {
      out[k] = b1[k];
      for (std::size_t i = 0; i < x.size(); ++i) out[k] += w1[k][i] * x[i];
    }
    return out;
  }
  double sig(double u) const { return 1 / (1 + std::exp(-u)); }
  double phi(double u) const { return relu ? std::max(u, 0.0) : std::log1p(std::exp(beta * u)) / beta; }
  double dphi(double u) const { return relu ? (u > 0 ? 1.0 : 0.0) : sig(beta * u); }
  double ddphi(double u) const { return relu ? 0.0 : beta * sig(beta * u) * (1 - sig(beta * u)); }
  std::vector<double> logits(const std::vector<double>& x) const {
    const auto zz = z(x);
    std::vector<double> out(w2.size());
    for (std::size_t c = 0; c < w2.size(); ++c) {
      out[c] = b2[c];
      for (std::size_t k = 0; k < zz.size(); ++k) out[c] += w2[c][k] * phi(zz[k]);
    }
    return out;
  }
  std::size_t predicted(const std::vector<double>& x) const {
    const auto l = logits(x);
    return std::size_t(std::max_element(l.begin(), l.end()) - l.begin());
  }
  std::vector<double> grad(const std::vector<double>& x, std::size_t c) const {
    const auto zz = z(x);
    std::vector<double> g(x.size(), 0.0);
    for (std::size_t k = 0; k < zz.size(); ++k)
      for (std::size_t i = 0; i < x.size(); ++i) g[i] += w2[c][k] * dphi(zz[k]) * w1[k][i];
    return g;
  }
  std::vector<double> hessian(const std::vector<double>& x, std::size_t c) const {
    const auto zz = z(x);
    const std::size_t d = x.size();
    std::vector<double> h(d * d, 0.0);
    for (std::size_t k = 0; k < zz.size(); ++k)
      for (std::size_t i = 0; i < d; ++i)
        for (std::size_t j = 0; j < d; ++j) h[i * d + j] += w2[c][k] * ddphi(zz[k]) * w1[k][i] * w1[k][j];
    return h;
  }
};

// ---------------------------------------------------------------------------
// The fixture models and inputs, written once per test case into its own
// scratch folder (the binary runs there, so every argument is a file name).
//
//   linear.safetensors   L: [2,3] → flatten → linear 6→3, weights kLinearW / kLinearB
//   curved.safetensors   C: [2,3] → flatten → linear 6→4 → softplus → linear 4→3 (seeded)
//   relu.safetensors     R: [3] → linear 3→3 → relu → linear 3→2 (weights below)
//   product.safetensors  P: f(x) ≈ x₀x₁ (cli_fixtures.hpp)

const std::vector<double> kLinearW = {0.5,  -1.0, 0.25, 2.0,  -0.75, 1.5,    // class 0
                                      -0.5, 0.8,  1.2,  -0.3, 0.6,   -1.1,   // class 1
                                      1.0,  0.4,  -0.9, 0.7,  0.2,   -0.6};  // class 2
const std::vector<double> kLinearB = {0.1, -0.2, 0.05};
// Three 2×3 examples predicted as classes 2, 1, 0 (logits margins ≥ 0.5).
const std::vector<double> kImages = {0.9, -0.4, 0.3, 0.6,  0.2, -0.8,  //
                                     -0.3, 0.7, 0.9, -0.5, 0.4, -0.6,  //
                                     0.2, -0.6, 0.1, 0.9,  -0.2, 0.5};
const std::vector<double> kImageBaseline = {0.1, 0.2, -0.1, 0.0, 0.3, 0.1};

std::string curved_architecture() {
  return R"({"input_shape":[2,3],"layers":[{"type":"flatten"},{"type":"linear","in":6,"out":4},)"
         R"({"type":"softplus"},{"type":"linear","in":4,"out":3}]})";
}

const std::map<std::string, std::vector<double>> kReluParameters = {
    {"0.weight", {0.8, -0.5, 0.3, -0.4, 0.9, 0.6, 0.5, 0.2, -0.7}},
    {"0.bias", {0.1, -0.05, 0.2}},
    {"2.weight", {1.0, -0.6, 0.8, -0.7, 0.9, 0.4}},
    {"2.bias", {0.05, -0.1}}};

// Product inputs: |x_i| ≤ 1, so the O(a²) terms of product_architecture are ≤ 3·10⁻⁸ relative.
const std::vector<double> kPairs = {0.8, -0.6, 0.5, 0.9, -0.7, -0.4};

struct Fixture {
  ScratchDir dir{"cli_matrix"};
  Fixture() {
    write_model(dir / "linear.safetensors", linear_image_architecture(), {{"1.weight", kLinearW}, {"1.bias", kLinearB}});
    write_model(dir / "curved.safetensors", curved_architecture(), {}, 11);
    write_model(dir / "relu.safetensors", relu_architecture(), kReluParameters);
    write_model(dir / "product.safetensors", product_architecture(), product_parameters());
    const Tensor<double> images = tensor({3, 2, 3}, kImages);
    write_npy(dir / "image.npy", tensor({2, 3}, row(images, 0)));              // one example, <f8
    write_npy(dir / "images.npy", images);                                     // [3, 2, 3], <f8
    write_npy(dir / "images_f4.npy", Tensor<float>(xt::cast<float>(images))); // [3, 2, 3], <f4
    write_npy(dir / "image_f4.npy", Tensor<float>(xt::cast<float>(tensor({2, 3}, row(images, 0)))));
    write_npy(dir / "image_baseline.npy", tensor({2, 3}, kImageBaseline));
    write_npy(dir / "images_x3.npy", Tensor<double>(images * 3.0));  // more curvature for the gates
    Tensor<double> per_example = images * 0.25 - 0.1;
    write_npy(dir / "image_baselines.npy", per_example);  // one baseline per example
    // Two distinct references (EG / EH / IG2 draw from them) and two equal ones
    // (then EG of a linear model is (x − r)⊙w whatever the draws).
    write_npy(dir / "references.npy", tensor({2, 2, 3}, {0.3, 0.1, -0.2, 0.4, -0.5, 0.2,  //
                                                         -0.4, 0.6, 0.5, -0.1, 0.2, 0.3}));
    write_npy(dir / "same_references.npy",
              tensor({2, 2, 3}, {0.3, 0.1, -0.2, 0.4, -0.5, 0.2, 0.3, 0.1, -0.2, 0.4, -0.5, 0.2}));
    write_npy(dir / "relu_x.npy", tensor({3}, {0.6, -0.3, 0.4}));
    write_npy(dir / "pair.npy", tensor({2}, {kPairs[0], kPairs[1]}));
    write_npy(dir / "pairs.npy", tensor({3, 2}, kPairs));
    write_npy(dir / "pairs_f4.npy", Tensor<float>(xt::cast<float>(tensor({3, 2}, kPairs))));
    write_npy(dir / "pair_baseline.npy", tensor({2}, {0.2, 0.3}));
    write_npy(dir / "pair_baselines.npy", tensor({3, 2}, {0.2, 0.3, -0.1, 0.4, 0.5, -0.2}));
    write_npy(dir / "pair_references.npy", tensor({3, 2}, {0.2, 0.3, -0.1, 0.4, 0.5, -0.2}));
  }
  fs::path operator/(const std::string& name) const { return dir / name; }

  ProcessResult run(const std::vector<std::string>& args) const {
    ProcessOptions o;
    o.working_dir = dir.path;
    return run_fluxion(args, o);
  }
  /// Runs and requires success: exit 0, no signal, nothing on stderr.
  ProcessResult ok(const std::vector<std::string>& args) const {
    const ProcessResult r = run(args);
    std::string line;
    for (const auto& a : args) line += " " + a;
    INFO("fluxion" << line << "\nstdout: " << r.out << "\nstderr: " << r.err);
    REQUIRE(r.signal == 0);
    REQUIRE(r.exit_code == 0);
    CHECK(r.err.empty());
    return r;
  }
  /// Runs and requires a gate failure or usage error: `code`, one stderr line
  /// "fluxion: ...", and no new file in the folder.
  ProcessResult fails(int code, const std::vector<std::string>& args) const {
    const auto before = files_in(dir.path);
    const ProcessResult r = run(args);
    std::string line;
    for (const auto& a : args) line += " " + a;
    INFO("fluxion" << line << "\nstdout: " << r.out << "\nstderr: " << r.err);
    CHECK(r.signal == 0);
    CHECK(r.exit_code == code);
    CHECK(r.err.rfind("fluxion: ", 0) == 0);
    CHECK(r.err.find('\n') == r.err.size() - 1);
    CHECK(files_in(dir.path) == before);
    return r;
  }
  Tensor<double> npy(const std::string& name) const { return read_npy<double>(dir / name); }
};

// ---------------------------------------------------------------------------
// One explanation, as flags for the binary and as the library call it wraps.

struct Call {
  std::string command = "explain";  // explain | interactions | check
  std::string model, method, input;
  std::vector<long long> targets;
  std::string baseline;    // "" (default), zeros, blur or a file
  int steps = 0;
  double smooth_beta = 0;
  std::string output;      // "" (default: logit) | logit | probability
  std::string references;  // file
  std::optional<std::uint64_t> seed;
  std::optional<std::size_t> batch_size;
  std::string dtype;       // "" (default: float64) | float32 | float64
  std::string tolerance;   // "" or the flag's value

  std::vector<std::string> args(const std::string& out = "") const {
    std::vector<std::string> a{command, "--model", model, "--method", method, "--input", input};
    if (!out.empty()) a.insert(a.end(), {"--out", out});
    if (!targets.empty()) {
      a.push_back("--target");
      for (long long t : targets) a.push_back(std::to_string(t));
    }
    if (!baseline.empty()) a.insert(a.end(), {"--baseline", baseline});
    if (steps) a.insert(a.end(), {"--steps", std::to_string(steps)});
    if (smooth_beta > 0) {
      std::ostringstream b;
      b << smooth_beta;
      a.insert(a.end(), {"--smooth-beta", b.str()});
    }
    if (!output.empty()) a.insert(a.end(), {"--output", output});
    if (!references.empty()) a.insert(a.end(), {"--references", references});
    if (seed) a.insert(a.end(), {"--seed", std::to_string(*seed)});
    if (batch_size) a.insert(a.end(), {"--batch-size", std::to_string(*batch_size)});
    if (!dtype.empty()) a.insert(a.end(), {"--dtype", dtype});
    if (!tolerance.empty()) a.insert(a.end(), {"--tolerance", tolerance});
    return a;
  }
};

Call call(const std::string& command, const std::string& model, const std::string& method, const std::string& input) {
  Call c;
  c.command = command;
  c.model = model;
  c.method = method;
  c.input = input;
  return c;
}

/// What the library gives for `c` in precision T: the documented meaning of
/// each flag, spelled out with library calls.
template <class T>
struct LibraryRun {
  Sequential<T> model;
  ExplainedOutput<T> out;
  Tensor<T> x;  // [N, ...]
  bool single = false;
  std::vector<std::size_t> targets;
  MethodSettings<T> settings;

  std::string command;  // `check` runs the whole batch with --seed (check_command.cpp)

  LibraryRun(const Fixture& fx, const Call& c) : command(c.command) {
    const Sequential<T> loaded = load_model<T>(fx / c.model);
    model = c.smooth_beta > 0 ? smooth(loaded, T(c.smooth_beta)) : loaded;
    out.model = as_function(model);
    out.kind = parse_output_kind(c.output.empty() ? "logit" : c.output);
    out.batch_size = c.batch_size.value_or(64);
    const Shape example = model.input_shape();
    x = read_npy<T>(fx / c.input);
    single = shape_of(x) == example;
    Shape batched{single ? 1 : x.shape()[0]};
    batched.insert(batched.end(), example.begin(), example.end());
    x = Tensor<T>(xt::reshape_view(x, batched));
    for (std::size_t n = 0; n < batched[0] && !c.targets.empty(); ++n)
      targets.push_back(std::size_t(c.targets.size() == 1 ? c.targets[0] : c.targets[n]));
    targets = resolve_targets(out, x, targets);
    settings.steps = c.steps;
    settings.seed = c.seed.value_or(0);
    if (c.baseline == "blur") {
      settings.baseline = resolve_baseline(x, "blur");
    } else if (!c.baseline.empty() && c.baseline != "zeros") {
      Tensor<T> b = read_npy<T>(fx / c.baseline);
      settings.baseline = resolve_baseline(x, "user", b.size() == numel_of(example)
                                                          ? Tensor<T>(xt::reshape_view(b, example))
                                                          : Tensor<T>(xt::reshape_view(b, x.shape())));
    }
    if (!c.references.empty()) {
      Tensor<T> r = read_npy<T>(fx / c.references);
      Shape rs{r.shape()[0]};
      rs.insert(rs.end(), example.begin(), example.end());
      settings.references = Tensor<T>(xt::reshape_view(r, rs));
      settings.reference_labels = predicted_classes(out.model, settings.references, out.batch_size);
    }
    if (c.method == "ig2") {
      auto split = split_at_last_linear(model);
      settings.features = as_function(split.features);
      settings.head = as_function(split.head);
    }
  }
  MethodOutput<T> run(const std::string& method, int steps) const {
    MethodSettings<T> s = settings;
    s.steps = steps;
    if (!draws_randomly(method) || command == "check") return run_method(method_spec<T>(method), out, x, targets, s);
    // The CLI's documented rule (streaming_run.hpp), spelled out for the
    // methods that draw random numbers: one example at a time, example i
    // seeded with SplitMix64(seed + (i+1)·φ64),
    // φ64 = 0x9E3779B97F4A7C15 (Steele, Lea & Flood 2014), spelled out here.
    const std::size_t n = x.shape()[0], per = x.size() / n;
    MethodOutput<T> all;
    for (std::size_t i = 0; i < n; ++i) {
      Shape one = shape_of(x);
      one[0] = 1;
      auto row = [&](const Tensor<T>& batch) {
        Tensor<T> r = Tensor<T>::from_shape(one);
        std::copy(batch.data() + i * per, batch.data() + (i + 1) * per, r.data());
        return r;
      };
      MethodSettings<T> si = s;
      std::uint64_t z = settings.seed + (std::uint64_t(i) + 1) * 0x9E3779B97F4A7C15ull;
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
      si.seed = z ^ (z >> 31);
      if (s.baseline.values && s.baseline.values->size() == x.size() && n > 1) si.baseline.values = row(*s.baseline.values);
      MethodOutput<T> r = run_method(method_spec<T>(method), out, row(x), {targets[i]}, si);
      Shape shape = shape_of(r.values);
      if (i == 0) {
        shape[0] = n;
        all = r;
        all.values = Tensor<T>::from_shape(shape);
        all.output_changes.clear();
        all.completeness_gaps.clear();
      }
      std::copy(r.values.data(), r.values.data() + r.values.size(), all.values.data() + i * r.values.size());
      all.output_changes.insert(all.output_changes.end(), r.output_changes.begin(), r.output_changes.end());
      all.completeness_gaps.insert(all.completeness_gaps.end(), r.completeness_gaps.begin(), r.completeness_gaps.end());
    }
    return all;
  }
  static bool draws_randomly(const std::string& method) {
    for (const char* m : {"smoothgrad", "smoothgrad_squared", "vargrad", "expected_gradients", "eh", "agi", "ig2", "neflag"})
      if (method == m) return true;
    return false;
  }
  MethodOutput<T> run(const std::string& method) const { return run(method, settings.steps); }
  /// The values as the binary writes them: without the leading axis for a single example.
  Tensor<double> as_written(const Tensor<T>& values) const {
    Tensor<double> v = widen(values);
    if (!single) return v;
    return Tensor<double>(xt::reshape_view(v, Shape(v.shape().begin() + 1, v.shape().end())));
  }
};

/// Runs `c` through the binary, checks the output file's dtype, and returns its values.
Tensor<double> run_binary(const Fixture& fx, const Call& c, const std::string& out = "out.npy") {
  fx.ok(c.args(out));
  const std::string want = c.dtype == "float32" ? "<f4" : "<f8";
  CHECK_MESSAGE(npy_dtype(fx / out) == want, c.method << ": --dtype " << (c.dtype.empty() ? "(default)" : c.dtype));
  return fx.npy(out);
}

/// The binary's output equals the library's (≤ 1e-12 relative: same code, same
/// precision; in practice bit-equal, the bound only allows for a GEMM whose
/// summation order follows a different OpenMP thread count).
template <class T = double>
Tensor<double> expect_matches_library(const Fixture& fx, const Call& c, double tol = 1e-12) {
  const Tensor<double> got = run_binary(fx, c);
  const LibraryRun<T> lib(fx, c);
  expect_close(got, lib.as_written(lib.run(c.method).values), tol, c.command + " " + c.method + " vs run_method");
  return got;
}

// ---------------------------------------------------------------------------
// --help parsing.

/// Option names of a CLI11 help text: the lines of the Options section start
/// with two spaces and a dash ("  -h,--help", "  --steps INT"); positionals
/// are the first word of the Positionals section's lines.
std::set<std::string> help_flags(const std::string& help) {
  std::set<std::string> names;
  std::istringstream in(help);
  std::string line, section;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] != ' ') {
      section = line;
      continue;
    }
    if (line.size() < 3 || line[0] != ' ' || line[1] != ' ' || line[2] == ' ') continue;
    const std::string first = line.substr(2, line.find(' ', 2) - 2);
    if (section == "Positionals:") names.insert(first);
    if (section != "Options:") continue;
    std::stringstream parts(first);
    std::string name;
    while (std::getline(parts, name, ','))
      if (name.rfind("--", 0) == 0) names.insert(name);
  }
  return names;
}

/// The first number after `label` on the line that contains `label`.
std::optional<double> number_after(const std::string& text, const std::string& label) {
  const std::size_t at = text.find(label);
  if (at == std::string::npos) return std::nullopt;
  const std::size_t start = text.find_first_of("0123456789", at + label.size());
  if (start == std::string::npos) return std::nullopt;
  return std::strtod(text.c_str() + start, nullptr);
}

/// The line of `text` containing `label` ("" if none).
std::string line_with(const std::string& text, const std::string& label) {
  const std::size_t at = text.find(label);
  if (at == std::string::npos) return "";
  const std::size_t begin = text.rfind('\n', at) == std::string::npos ? 0 : text.rfind('\n', at) + 1;
  return text.substr(begin, text.find('\n', at) - begin);
}

// ---------------------------------------------------------------------------
// PNG: the documented size rule and colour map, re-derived here.

struct Png {
  int width = 0, height = 0;
  std::vector<std::uint8_t> rgb;
};

/// Checks the magic and the IHDR size bytes directly, then decodes with libpng.
Png read_png(const fs::path& path) {
  const std::string bytes = read_bytes(path);
  REQUIRE(bytes.size() > 33);
  CHECK(bytes.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0);
  CHECK(bytes.compare(12, 4, "IHDR") == 0);
  auto be32 = [&](std::size_t at) {
    return int(std::uint8_t(bytes[at])) << 24 | int(std::uint8_t(bytes[at + 1])) << 16 |
           int(std::uint8_t(bytes[at + 2])) << 8 | int(std::uint8_t(bytes[at + 3]));
  };
  Png png;
  png.width = be32(16);
  png.height = be32(20);
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  REQUIRE(png_image_begin_read_from_memory(&image, bytes.data(), bytes.size()) != 0);
  image.format = PNG_FORMAT_RGB;
  png.rgb.resize(PNG_IMAGE_SIZE(image));
  REQUIRE(png_image_finish_read(&image, nullptr, png.rgb.data(), 0, nullptr) != 0);
  CHECK(int(image.width) == png.width);
  CHECK(int(image.height) == png.height);
  return png;
}

/// write_unlabelled_heatmaps's rule (--png without gnuplot): example maps h×w = the last two axes (rank
/// ≥ 3), a square of side √w for a flat map whose size is a perfect square,
/// else 1×w; each cell scale = max(1, 280 / max(h, w)) pixels; one example is
/// the map itself, N > 1 a grid of ≤ 8 per row with 4-pixel white gaps.
/// `values` has the leading axis N. Checks the size and the colour of the
/// centre pixel of every cell: u = v / max|map| (per example), u ≥ 0 →
/// (255, 255(1−u), 255(1−u)), u < 0 → (255(1+u), 255(1+u), 255), ±1 for rounding.
void expect_heatmap(const fs::path& path, const Tensor<double>& values, const std::string& what) {
  INFO("PNG " << what);
  const std::size_t n = values.shape()[0], per = values.size() / n;
  std::size_t h = 1, w = per;
  if (values.dimension() >= 3) {
    h = values.shape()[values.dimension() - 2];
    w = values.shape()[values.dimension() - 1];
  } else {
    const std::size_t side = std::size_t(std::llround(std::sqrt(double(per))));
    if (side * side == per) h = w = side;
  }
  const int scale = std::max(1, int(280 / std::max(h, w)));
  const std::size_t cols = std::min<std::size_t>(n, 8), rows = (n + 7) / 8;
  const int gap = n > 1 ? 4 : 0;
  const Png png = read_png(path);
  CHECK(png.width == int(cols * w * scale) + int(cols + 1) * gap);
  CHECK(png.height == int(rows * h * scale) + int(rows + 1) * gap);
  if (png.width != int(cols * w * scale) + int(cols + 1) * gap) return;
  if (png.height != int(rows * h * scale) + int(rows + 1) * gap) return;
  for (std::size_t e = 0; e < n; ++e) {
    std::vector<double> map(h * w, 0.0);
    for (std::size_t k = 0; k < per; ++k) map[k % (h * w)] += values.data()[e * per + k];
    double limit = 0;
    for (double v : map) limit = std::max(limit, std::abs(v));
    const int x0 = gap + int(e % 8) * (int(w) * scale + gap), y0 = gap + int(e / 8) * (int(h) * scale + gap);
    for (std::size_t i = 0; i < h; ++i)
      for (std::size_t j = 0; j < w; ++j) {
        const double u = limit > 0 ? std::clamp(map[i * w + j] / limit, -1.0, 1.0) : 0.0;
        const int fade = int(std::lround(255 * (1 - std::abs(u))));
        const int want[3] = {u >= 0 ? 255 : fade, fade, u >= 0 ? fade : 255};
        const int px = x0 + int(j) * scale + scale / 2, py = y0 + int(i) * scale + scale / 2;
        const std::uint8_t* got = &png.rgb[3 * (std::size_t(py) * png.width + px)];
        for (int ch = 0; ch < 3; ++ch)
          CHECK_MESSAGE(std::abs(int(got[ch]) - want[ch]) <= 1,
                        "example " << e << " cell (" << i << ", " << j << ") channel " << ch << ": " << int(got[ch])
                                   << " vs " << want[ch]);
      }
  }
}

// ---------------------------------------------------------------------------
// Closed forms of the linear model L.

/// Logits of example x (6 values) under L.
std::vector<double> linear_logits(const std::vector<double>& x) {
  std::vector<double> z(kLinearB);
  for (std::size_t c = 0; c < 3; ++c)
    for (std::size_t i = 0; i < 6; ++i) z[c] += kLinearW[c * 6 + i] * x[i];
  return z;
}
std::size_t linear_prediction(const std::vector<double>& x) {
  const auto z = linear_logits(x);
  return std::size_t(std::max_element(z.begin(), z.end()) - z.begin());
}

/// (x − x'_n) ⊙ w_{c_n} for every example: IG of L with any rule whose
/// weights sum to 1 (the integrand is constant).
Tensor<double> linear_ig(const Tensor<double>& x, const Tensor<double>& baseline, const std::vector<std::size_t>& c) {
  Tensor<double> out = x;
  const std::size_t n = x.shape()[0];
  const bool shared = baseline.size() == 6;
  for (std::size_t e = 0; e < n; ++e)
    for (std::size_t i = 0; i < 6; ++i)
      out.data()[e * 6 + i] =
          (x.data()[e * 6 + i] - baseline.data()[(shared ? 0 : e * 6) + i]) * kLinearW[c[e] * 6 + i];
  return out;
}

std::vector<std::size_t> linear_predictions(const Tensor<double>& x) {
  std::vector<std::size_t> c;
  for (std::size_t e = 0; e < x.shape()[0]; ++e) c.push_back(linear_prediction(row(x, e)));
  return c;
}

/// Gaussian blur of each 2×3 example, written from the definition in
/// attribution/gaussian_blur.hpp: kernel g_a ∝ e^{−a²/2σ²} for |a| ≤ ⌈3σ⌉,
/// normalised; rows then columns; border reflected about the pixel edge,
/// periodically (… c b a | a b c | c b a …).
Tensor<double> blurred(const Tensor<double>& x, double sigma, std::size_t height, std::size_t width) {
  const int r = int(std::ceil(3 * sigma));
  std::vector<double> g;
  double total = 0;
  for (int a = -r; a <= r; ++a) {
    g.push_back(std::exp(-double(a * a) / (2 * sigma * sigma)));
    total += g.back();
  }
  for (double& v : g) v /= total;
  auto reflect = [](int i, int size) {
    const int period = 2 * size;
    const int m = ((i % period) + period) % period;
    return m < size ? m : period - 1 - m;
  };
  Tensor<double> out = x;
  const std::size_t plane = height * width;
  for (std::size_t e = 0; e < x.size() / plane; ++e) {
    const double* in = x.data() + e * plane;
    std::vector<double> tmp(plane, 0.0);
    for (int i = 0; i < int(height); ++i)
      for (int j = 0; j < int(width); ++j)
        for (int a = -r; a <= r; ++a) tmp[i * width + j] += g[a + r] * in[i * width + reflect(j - a, int(width))];
    for (int i = 0; i < int(height); ++i)
      for (int j = 0; j < int(width); ++j) {
        double s = 0;
        for (int a = -r; a <= r; ++a) s += g[a + r] * tmp[reflect(i - a, int(height)) * width + j];
        out.data()[e * plane + i * width + j] = s;
      }
  }
  return out;
}

}  // namespace

// ===========================================================================
// Help: every flag has a row, every row a flag.

TEST_CASE("cli matrix: help lists every flag, and every flag has a row in the table") {
  Fixture fx;
  const ProcessResult top = fx.ok({"--help"});
  {
    // The subcommands of `fluxion --help` are exactly kCommands.
    std::set<std::string> listed;
    std::istringstream in(top.out);
    std::string line;
    bool in_commands = false;
    while (std::getline(in, line)) {
      if (!line.empty() && line[0] != ' ') in_commands = line == "Subcommands:";
      else if (in_commands && line.size() > 2 && line[2] != ' ') listed.insert(line.substr(2, line.find(' ', 2) - 2));
    }
    CHECK(listed == std::set<std::string>(kCommands.begin(), kCommands.end()));
  }
  for (const auto& command : kCommands) {
    INFO("fluxion " << command << " --help");
    const ProcessResult r = fx.ok({command, "--help"});
    const std::set<std::string> listed = help_flags(r.out);
    std::set<std::string> table;
    for (const auto& row : kCoveredFlags)
      if (row.command == command) table.insert(row.flag);
    CHECK(!listed.empty());
    for (const auto& flag : listed)
      CHECK_MESSAGE(table.count(flag), "flag " << flag << " of `fluxion " << command
                                               << "` has no row in kCoveredFlags (add a by-value test and a row)");
    for (const auto& flag : table)
      CHECK_MESSAGE(listed.count(flag), "kCoveredFlags has a row for " << flag << " but `fluxion " << command
                                                                        << " --help` does not list it");
  }
  // The --method lists of the help texts are the method catalogue.
  for (const bool interactions : {false, true}) {
    const ProcessResult r = fx.ok({interactions ? "interactions" : "explain", "--help"});
    const std::string line = line_with(r.out, "--method");
    for (const auto& m : method_catalogue()) {
      if (m.interactions != interactions) continue;
      const std::string spaced = " " + line + " ";
      const bool named = spaced.find(" " + m.name + ",") != std::string::npos ||
                         spaced.find(" " + m.name + " ") != std::string::npos;
      CHECK_MESSAGE(named, "`--method` help of " << (interactions ? "interactions" : "explain") << " does not list "
                                                 << m.name << ": " << line);
    }
  }
}

// ===========================================================================
// explain

TEST_CASE("cli matrix: single and batched inputs, <f4 and <f8, against the closed form of a linear model") {
  Fixture fx;
  const Tensor<double> images = fx.npy("images.npy");
  const Tensor<double> images_f4 = fx.npy("images_f4.npy");  // the float-rounded values, widened exactly
  const Tensor<double> zero = filled<double>({2, 3}, 0.0);
  // Gauss–Legendre weights sum to 1 within ~50 ε, and the gradient of L is
  // w_c exactly: IG = x ⊙ w_c to ≤ 1e-13 relative.
  SUBCASE("single <f8 example: no leading axis") {
    Call c = call("explain", "linear.safetensors", "ig", "image.npy");
    const Tensor<double> got = expect_matches_library(fx, c);
    const Tensor<double> x1 = tensor({1, 2, 3}, row(images, 0));
    expect_close(got, tensor({2, 3}, row(linear_ig(x1, zero, {2}), 0)), 1e-13, "IG = x ⊙ w_2 (predicted class 2)");
  }
  SUBCASE("batched <f8: leading axis kept, each example its predicted class") {
    Call c = call("explain", "linear.safetensors", "ig", "images.npy");
    const Tensor<double> got = expect_matches_library(fx, c);
    CHECK(linear_predictions(images) == std::vector<std::size_t>{2, 1, 0});
    expect_close(got, linear_ig(images, zero, {2, 1, 0}), 1e-13, "IG = x ⊙ w_c");
  }
  SUBCASE("batched <f4 and single <f4") {
    Call c = call("explain", "linear.safetensors", "ig", "images_f4.npy");
    expect_close(expect_matches_library(fx, c), linear_ig(images_f4, zero, {2, 1, 0}), 1e-13, "<f4 batch");
    c.input = "image_f4.npy";
    const Tensor<double> x1 = tensor({1, 2, 3}, row(images_f4, 0));
    expect_close(expect_matches_library(fx, c), tensor({2, 3}, row(linear_ig(x1, zero, {2}), 0)), 1e-13,
                 "<f4 single");
  }
  SUBCASE("saliency = |w_c| and gradient_x_input = x ⊙ w_c, exactly") {
    Call c = call("explain", "linear.safetensors", "saliency", "images.npy");
    const Tensor<double> sal = expect_matches_library(fx, c);
    Tensor<double> want = images;
    const std::vector<std::size_t> cls{2, 1, 0};
    for (std::size_t e = 0; e < 3; ++e)
      for (std::size_t i = 0; i < 6; ++i) want.data()[e * 6 + i] = std::abs(kLinearW[cls[e] * 6 + i]);
    expect_close(sal, want, 0, "saliency = |w_c| (1·w + 0·w' is exact)");
    c.method = "gradient_x_input";
    expect_close(expect_matches_library(fx, c), linear_ig(images, zero, cls), 0,
                 "gradient_x_input = x ⊙ w_c (one rounding, as here)");
  }
}

TEST_CASE("cli matrix: --target one for all and one per example") {
  Fixture fx;
  const Tensor<double> images = fx.npy("images.npy");
  const Tensor<double> zero = filled<double>({2, 3}, 0.0);
  Call c = call("explain", "linear.safetensors", "ig", "images.npy");
  c.targets = {1};
  expect_close(expect_matches_library(fx, c), linear_ig(images, zero, {1, 1, 1}), 1e-13, "--target 1");
  c.targets = {0, 2, 1};
  expect_close(expect_matches_library(fx, c), linear_ig(images, zero, {0, 2, 1}), 1e-13, "--target 0 2 1");
  // The other ordering of CLI11's vector option: the flag repeated.
  std::vector<std::string> args = call("explain", "linear.safetensors", "ig", "images.npy").args("rep.npy");
  args.insert(args.end(), {"--target", "0", "--target", "2", "--target", "1"});
  fx.ok(args);
  expect_close(fx.npy("rep.npy"), linear_ig(images, zero, {0, 2, 1}), 1e-13, "--target 0 --target 2 --target 1");
}

TEST_CASE("cli matrix: --baseline zeros, blur, one file, a file per example") {
  Fixture fx;
  const Tensor<double> images = fx.npy("images.npy");
  const std::vector<std::size_t> cls{2, 1, 0};
  Call c = call("explain", "linear.safetensors", "ig", "images.npy");
  const Tensor<double> by_default = run_binary(fx, c, "default.npy");
  c.baseline = "zeros";
  expect_close(expect_matches_library(fx, c), by_default, 0, "--baseline zeros is the default");
  c.baseline = "blur";
  // IG's blur σ is 5 pixels (IntegratedGradientsOptions::blur_sigma); the
  // blur here is written independently, so allow summation-order rounding.
  expect_close(expect_matches_library(fx, c), linear_ig(images, blurred(images, 5.0, 2, 3), cls), 1e-12,
               "--baseline blur: (x − blur₅(x)) ⊙ w_c");
  c.baseline = "image_baseline.npy";
  expect_close(expect_matches_library(fx, c), linear_ig(images, fx.npy("image_baseline.npy"), cls), 1e-13,
               "--baseline one example");
  c.baseline = "image_baselines.npy";
  expect_close(expect_matches_library(fx, c), linear_ig(images, fx.npy("image_baselines.npy"), cls), 1e-13,
               "--baseline one per example");
  // The curved model: a baseline file changes a nonlinear IG as the library says.
  c.model = "curved.safetensors";
  expect_matches_library(fx, c);
}

TEST_CASE("cli matrix: --output logit and probability") {
  Fixture fx;
  const Tensor<double> images = fx.npy("images.npy");
  Call c = call("explain", "linear.safetensors", "saliency", "images.npy");
  c.output = "logit";
  const Tensor<double> logit = expect_matches_library(fx, c);
  fx.ok(call("explain", "linear.safetensors", "saliency", "images.npy").args("default.npy"));
  expect_close(logit, fx.npy("default.npy"), 0, "--output logit is the default");
  c.output = "probability";
  // ∇p_c = p_c (w_c − Σ_k p_k w_k) for p = softmax(Wx + b): ≤ 1e-14 relative (a few roundings of O(1) terms).
  Tensor<double> want = images;
  for (std::size_t e = 0; e < 3; ++e) {
    const auto z = linear_logits(row(images, e));
    const double zmax = *std::max_element(z.begin(), z.end());
    double total = 0;
    std::vector<double> p(3);
    for (std::size_t k = 0; k < 3; ++k) total += p[k] = std::exp(z[k] - zmax);
    for (double& v : p) v /= total;
    const std::size_t t = linear_prediction(row(images, e));
    for (std::size_t i = 0; i < 6; ++i) {
      double mean_w = 0;
      for (std::size_t k = 0; k < 3; ++k) mean_w += p[k] * kLinearW[k * 6 + i];
      want.data()[e * 6 + i] = std::abs(p[t] * (kLinearW[t * 6 + i] - mean_w));
    }
  }
  expect_close(expect_matches_library(fx, c), want, 1e-14, "saliency of softmax p_c");
  c.model = "curved.safetensors";
  c.method = "ig";
  expect_matches_library(fx, c);
}

TEST_CASE("cli matrix: --smooth-beta: closed-form gradients of the smoothed ReLU net") {
  Fixture fx;
  HandNet net = HandNet::from_file(fx / "relu.safetensors", "0", "2");
  const std::vector<double> x{0.6, -0.3, 0.4};
  // Unsmoothed: the Hessian of a ReLU net is 0 (almost everywhere), exactly.
  Call h = call("interactions", "relu.safetensors", "input_hessian", "relu_x.npy");
  expect_close(expect_matches_library(fx, h), filled<double>({3, 3}, 0.0), 0, "ReLU Hessian");
  net.relu = true;
  Call s = call("explain", "relu.safetensors", "saliency", "relu_x.npy");
  {
    const auto g = net.grad(x, net.predicted(x));
    Tensor<double> want = tensor({3}, g);
    for (double& v : want) v = std::abs(v);
    expect_close(expect_matches_library(fx, s), want, 1e-14, "saliency of the ReLU net");
  }
  // Smoothed (β = 5): ∇f = Σ_k v_ck σ(βz_k) w_k, ∇²f = Σ_k v_ck βσ(βz_k)(1−σ(βz_k)) w_k w_kᵀ.
  // A few roundings of O(1) terms: ≤ 1e-14 relative.
  net.relu = false;
  net.beta = 5;
  s.smooth_beta = 5;
  h.smooth_beta = 5;
  const std::size_t c = net.predicted(x);
  Tensor<double> want = tensor({3}, net.grad(x, c));
  for (double& v : want) v = std::abs(v);
  expect_close(expect_matches_library(fx, s), want, 1e-14, "saliency of softplus_5 net");
  expect_close(expect_matches_library(fx, h), tensor({3, 3}, net.hessian(x, c)), 1e-14, "Hessian of softplus_5 net");
}

TEST_CASE("cli matrix: --steps: hand-built Gauss-Legendre rule") {
  Fixture fx;
  // IG with 3 Gauss–Legendre nodes on [0, 1]: t = ½ ∓ √0.15, ½; weights 5/18, 8/18, 5/18.
  // The gradients come from HandNet (softplus, β = 1): an independent IG_3 to ≤ 1e-13.
  const HandNet net = HandNet::from_file(fx / "curved.safetensors", "1", "3");
  const Tensor<double> images = fx.npy("images.npy");
  const double nodes[3] = {0.5 - std::sqrt(0.15), 0.5, 0.5 + std::sqrt(0.15)};
  const double weights[3] = {5.0 / 18, 8.0 / 18, 5.0 / 18};
  Tensor<double> want = images;
  for (std::size_t e = 0; e < 3; ++e) {
    const auto x = row(images, e);
    const std::size_t c = net.predicted(x);
    std::vector<double> sum(6, 0.0);
    for (int q = 0; q < 3; ++q) {
      std::vector<double> p(6);
      for (std::size_t i = 0; i < 6; ++i) p[i] = nodes[q] * x[i];
      const auto g = net.grad(p, c);
      for (std::size_t i = 0; i < 6; ++i) sum[i] += weights[q] * g[i];
    }
    for (std::size_t i = 0; i < 6; ++i) want.data()[e * 6 + i] = x[i] * sum[i];
  }
  Call c = call("explain", "curved.safetensors", "ig", "images.npy");
  c.steps = 3;
  const Tensor<double> three = expect_matches_library(fx, c);
  expect_close(three, want, 1e-13, "IG with --steps 3");
  c.steps = 0;
  CHECK(differ(run_binary(fx, c), three, 1e-9));  // the default (50 nodes) is another rule
}

TEST_CASE("cli matrix: --references") {
  Fixture fx;
  const Tensor<double> images = fx.npy("images.npy");
  // Equal references r: EG of a linear model is (x − r) ⊙ w_c for every draw;
  // a mean of 200 equal terms: ≤ 1e-12.
  Call c = call("explain", "linear.safetensors", "expected_gradients", "images.npy");
  c.references = "same_references.npy";
  const Tensor<double> r = tensor({2, 3}, row(fx.npy("same_references.npy"), 0));
  expect_close(expect_matches_library(fx, c), linear_ig(images, r, {2, 1, 0}), 1e-12, "EG with equal references");
  c.model = "curved.safetensors";
  c.references = "references.npy";
  const Tensor<double> a = expect_matches_library(fx, c);
  c.references = "same_references.npy";
  CHECK(differ(expect_matches_library(fx, c), a, 1e-6));  // the file's contents matter
}

TEST_CASE("cli matrix: --seed and --batch-size") {
  Fixture fx;
  for (const std::string method : {"smoothgrad", "expected_gradients"}) {
    INFO(method);
    Call c = call("explain", "curved.safetensors", method, "images.npy");
    if (method == "expected_gradients") c.references = "references.npy";
    c.seed = 1;
    const Tensor<double> one = expect_matches_library(fx, c);
    const std::string first = read_bytes(fx / "out.npy");
    c.seed = 2;
    const Tensor<double> two = expect_matches_library(fx, c);
    CHECK_MESSAGE(differ(one, two, 1e-6), "--seed 1 and --seed 2 give the same " << method);
    c.seed = 1;
    run_binary(fx, c);
    CHECK_MESSAGE(read_bytes(fx / "out.npy") == first, "--seed 1 twice: not the same bytes");
    // Noise is drawn per (example, sample, element), not per batch: any batch size agrees.
    c.batch_size = 7;
    expect_close(run_binary(fx, c), one, 1e-12, "--batch-size 7");
  }
  Call c = call("explain", "curved.safetensors", "ig", "images.npy");
  const Tensor<double> whole = expect_matches_library(fx, c);
  for (std::size_t b : {1, 3, 7}) {
    c.batch_size = b;
    expect_close(expect_matches_library(fx, c), whole, 1e-12, "--batch-size " + std::to_string(b));
  }
}

TEST_CASE("cli matrix: --dtype float32 and float64") {
  Fixture fx;
  for (const std::string command : {"explain", "interactions"}) {
    Call c = call(command, "curved.safetensors", command == "explain" ? "ig" : "ih", "images.npy");
    const Tensor<double> by_default = run_binary(fx, c);  // <f8
    c.dtype = "float64";
    expect_close(expect_matches_library(fx, c), by_default, 0, command + " --dtype float64 is the default");
    c.dtype = "float32";
    // The same computation in float: the library's float run (≤ 1e-12 is
    // bit-equal for float values; it is, the same code runs on both sides).
    const Tensor<double> single = expect_matches_library<float>(fx, c);
    // float32 vs float64: ε = 6e-8 per rounding, through a few layers and 50
    // (IG) or 32 × d (IH) accumulated terms: ≲ 1e-5 relative; 1e-4 is the bound.
    expect_close(single, by_default, 1e-4, command + " float32 vs float64");
  }
  // And on the linear model against the closed form, within float32 rounding.
  Call c = call("explain", "linear.safetensors", "ig", "images.npy");
  c.dtype = "float32";
  // x is the float-rounded input; w rounds to float (6e-8), the product once
  // more, and the 50-term float sum of weights adds ≤ 50 ε = 3e-6: 4e-6.
  expect_close(run_binary(fx, c), linear_ig(fx.npy("images_f4.npy"), filled<double>({2, 3}, 0.0), {2, 1, 0}), 4e-6,
               "float32 IG of L");
}

TEST_CASE("cli matrix: --png") {
  Fixture fx;
  struct PngCase {
    Call call;
    std::string what;
  };
  const std::vector<PngCase> cases = {
      {call("explain", "linear.safetensors", "ig", "image.npy"), "explain, one 2×3 example: 93-pixel cells, 279×186"},
      {call("explain", "linear.safetensors", "ig", "images.npy"), "explain, three 2×3 examples: a grid with 4-pixel gaps"},
      {call("explain", "relu.safetensors", "saliency", "relu_x.npy"), "explain, flat d = 3 (not a square): 1×3 cells"},
      {call("interactions", "product.safetensors", "ih", "pair.npy"), "interactions, one 2×2 matrix: 140-pixel cells"},
      {call("interactions", "product.safetensors", "hessian_x_input", "pairs.npy"), "interactions, three 2×2"},
      {call("interactions", "curved.safetensors", "ih", "image.npy"), "interactions, one 6×6 matrix: 46-pixel cells"},
  };
  // Without gnuplot on PATH (an empty folder), --png falls back to the bare
  // grid of write_unlabelled_heatmaps and says so in one line; the labelled
  // figure drawn with gnuplot is checked in tests/cli/test_cli_png.cpp.
  const ScratchDir no_gnuplot("cli_matrix_no_gnuplot");
  ProcessOptions without_gnuplot;
  without_gnuplot.working_dir = fx.dir.path;
  without_gnuplot.path_variable = no_gnuplot.path.string();
  for (const auto& pc : cases) {
    auto args = pc.call.args("out.npy");
    args.insert(args.end(), {"--png", "map.png"});
    const ProcessResult r = run_fluxion(args, without_gnuplot);
    REQUIRE(r.exit_code == 0);
    CHECK(r.err == "fluxion: gnuplot is not on PATH, so map.png is an unlabelled grid (one map per example, "
                   "blue < 0 < red, each divided by its max |value|)\n");
    // The map must show the library's values (the .npy written alongside is them).
    const LibraryRun<double> lib(fx, pc.call);
    const Tensor<double> values = widen(lib.run(pc.call.method).values);  // [N, ...]
    expect_close(fx.npy("out.npy"), lib.as_written(values), 1e-12, pc.what);
    expect_heatmap(fx / "map.png", values, pc.what);
  }
}

TEST_CASE("cli matrix: --tolerance") {
  Fixture fx;
  // The node count --tolerance must reach: from --steps (or the default),
  // doubled until max_n gap_n / |f(x_n) − f(x'_n)| ≤ T — computed with the library.
  struct ToleranceCase {
    Call call;
    double tolerance;
  };
  std::vector<ToleranceCase> cases;
  {
    Call ig = call("explain", "curved.safetensors", "ig", "images.npy");
    ig.steps = 2;
    cases.push_back({ig, 1e-13});
    ig.steps = 0;
    cases.push_back({ig, 1e-3});  // the default 50 nodes already pass
    Call ih = call("interactions", "curved.safetensors", "ih", "images.npy");
    ih.steps = 1;
    cases.push_back({ih, 1e-8});
  }
  for (auto& tc : cases) {
    std::ostringstream t;
    t << tc.tolerance;
    tc.call.tolerance = t.str();
    INFO(tc.call.command << " " << tc.call.method << " --steps " << tc.call.steps << " --tolerance " << t.str());
    const LibraryRun<double> lib(fx, tc.call);
    // Each example on its own (streaming_run.hpp): its nodes doubled until its
    // relative gap is <= T; the line prints the most nodes and the worst gap.
    const int start = tc.call.steps ? tc.call.steps : default_steps(tc.call.method);
    const std::size_t examples = lib.x.shape()[0];
    int nodes = 0;
    double gap = 0;
    MethodOutput<double> r;
    Tensor<double> want;
    for (std::size_t n = 0; n < examples; ++n) {
      for (int k = start;; k *= 2) {
        REQUIRE(k <= 4096);
        r = lib.run(tc.call.method, k);
        const double g = r.output_changes[n] != 0 ? r.completeness_gaps[n] / std::abs(r.output_changes[n])
                                                  : r.completeness_gaps[n];
        if (g <= tc.tolerance) {
          nodes = std::max(nodes, k);
          gap = std::max(gap, g);
          const Tensor<double> all = widen(r.values);
          if (n == 0) want = all;
          const std::size_t per = all.size() / examples;
          std::copy(all.data() + n * per, all.data() + (n + 1) * per, want.data() + n * per);
          break;
        }
      }
    }
    const ProcessResult p = fx.ok(tc.call.args("out.npy"));
    const std::string line = line_with(p.out, "nodes");
    INFO("stdout: " << p.out);
    REQUIRE(!line.empty());
    CHECK(line.find("with " + std::to_string(nodes) + " nodes") != std::string::npos);
    const auto printed = number_after(line, "gap ");
    REQUIRE(printed);
    CHECK(std::abs(*printed - gap) <= 5e-3 * gap);  // printed to 3 significant digits
    Tensor<double> written = want;
    if (lib.single) written = Tensor<double>(xt::reshape_view(want, Shape(want.shape().begin() + 1, want.shape().end())));
    expect_close(fx.npy("out.npy"), written, 1e-12, "output with each example's reached node count");
  }
  // The cap: a gap below rounding is never reached; exit 3, one sentence, no
  // file. IG from 2048 nodes: 2048 and 4096 are tried. (The cap is shared
  // code for every method; IH at 4096 nodes alone takes ~2 s, so it is not
  // repeated for interactions.)
  Call cap = call("explain", "curved.safetensors", "ig", "image.npy");
  cap.steps = 2048;
  cap.tolerance = "1e-300";
  fx.fails(3, cap.args("never.npy"));
  CHECK_FALSE(fs::exists(fx / "never.npy"));
  // Methods without a path (MethodInfo.path_method false): a usage error.
  for (const auto& m : method_catalogue()) {
    if (m.path_method) continue;
    Call bad = call(m.interactions ? "interactions" : "explain", "curved.safetensors", m.name, "image.npy");
    bad.tolerance = "1e-3";
    INFO(m.name);
    fx.fails(2, bad.args("never.npy"));
  }
}

TEST_CASE("cli matrix: every method of the catalogue") {
  Fixture fx;
  for (const auto& m : method_catalogue()) {
    INFO(m.name);
    Call c = call(m.interactions ? "interactions" : "explain", "curved.safetensors", m.name, "images.npy");
    if (m.needs_references) c.references = "references.npy";
    // (IG2 draws up to 10 references among the rows predicted as a class other
    // than the target, as many as there are.)
    c.steps = m.name == "shapley_interaction" || m.name == "input_hessian" || m.name == "hessian_x_input" ||
                      m.name == "saliency" || m.name == "gradient_x_input"
                  ? 0
                  : 8;  // few nodes / samples keep it fast; the value is the library's with the same 8
    const Tensor<double> got = expect_matches_library(fx, c);
    CHECK(shape_str(shape_of(got)) == (m.interactions ? "[3, 6, 6]" : "[3, 2, 3]"));
  }
}

// ===========================================================================
// interactions

TEST_CASE("cli matrix: Integrated Hessians of x0*x1") {
  Fixture fx;
  // f(x) = x₀x₁ with Janizek et al.'s Integrated Hessians (the library's,
  // attribution/integrated_hessians.hpp), Δ = x − x':
  //   Γ₀₁ = Γ₁₀ = Δ₀Δ₁ ∫∫ αβ ∂²₀₁f = Δ₀Δ₁/4,
  //   Γ₀₀ = Δ₀ ∫∫ ∂₀f(x' + αβΔ) = Δ₀ (x'₁ + Δ₁/4),   Γ₁₁ = Δ₁ (x'₀ + Δ₀/4),
  // so with a zero baseline all four entries are x₀x₁/4 (they sum to f(x) − f(0) = x₀x₁).
  // The integrands are linear in t = αβ, so the −ln t Gauss rule is exact from
  // one node on. The product model is x₀x₁ up to relative O(a²) = 3·10⁻⁸: 1e-7.
  auto ih_closed_form = [](const std::vector<double>& x, const std::vector<double>& b) {
    const double d0 = x[0] - b[0], d1 = x[1] - b[1];
    return std::vector<double>{d0 * (b[1] + d1 / 4), d0 * d1 / 4, d0 * d1 / 4, d1 * (b[0] + d0 / 4)};
  };
  const Tensor<double> pairs = fx.npy("pairs.npy");
  auto batch = [&](const Tensor<double>& baselines, bool shared) {
    std::vector<double> all;
    for (std::size_t e = 0; e < 3; ++e) {
      const auto g = ih_closed_form(row(pairs, e), shared ? row(baselines, 0) : row(baselines, e));
      all.insert(all.end(), g.begin(), g.end());
    }
    return tensor({3, 2, 2}, all);
  };
  const Tensor<double> zeros = tensor({1, 2}, {0, 0});
  Call c = call("interactions", "product.safetensors", "ih", "pair.npy");
  expect_close(expect_matches_library(fx, c), tensor({2, 2}, ih_closed_form({kPairs[0], kPairs[1]}, {0, 0})), 1e-7,
               "single example, zero baseline: all x₀x₁/4");
  c.input = "pairs.npy";
  expect_close(expect_matches_library(fx, c), batch(zeros, true), 1e-7, "batch, zero baseline");
  c.input = "pairs_f4.npy";
  {
    const Tensor<double> p4 = fx.npy("pairs_f4.npy");
    std::vector<double> all;
    for (std::size_t e = 0; e < 3; ++e) {
      const auto g = ih_closed_form(row(p4, e), {0, 0});
      all.insert(all.end(), g.begin(), g.end());
    }
    expect_close(expect_matches_library(fx, c), tensor({3, 2, 2}, all), 1e-7, "<f4 batch");
  }
  c.input = "pairs.npy";
  c.steps = 1;
  expect_close(expect_matches_library(fx, c), batch(zeros, true), 1e-7, "--steps 1 (exact for linear integrands)");
  c.steps = 0;
  c.baseline = "pair_baseline.npy";
  expect_close(expect_matches_library(fx, c), batch(tensor({1, 2}, {0.2, 0.3}), true), 1e-7,
               "--baseline one example");
  c.baseline = "pair_baselines.npy";
  expect_close(expect_matches_library(fx, c), batch(fx.npy("pair_baselines.npy"), false), 1e-7,
               "--baseline one per example");
  c.baseline = "";
  // ∇²f = [[0, 1], [1, 0]] up to a²: input_hessian; hessian_x_input Δ_i H_ij Δ_j (zero baseline);
  // the Shapley interaction index for d = 2: I₀₁ = f(x) − f(x₀, 0) − f(0, x₁) + f(0) = x₀x₁, 0 on the diagonal.
  // f's value loses ~4·10⁻¹⁶/a² ≈ 7e-9 to rounding (cli_fixtures.hpp): 1e-7 still holds.
  std::vector<double> hessians, hxi, shapley;
  for (std::size_t e = 0; e < 3; ++e) {
    const double p = kPairs[2 * e] * kPairs[2 * e + 1];
    hessians.insert(hessians.end(), {0, 1, 1, 0});
    hxi.insert(hxi.end(), {0, p, p, 0});
    shapley.insert(shapley.end(), {0, p, p, 0});
  }
  c.method = "input_hessian";
  expect_close(expect_matches_library(fx, c), tensor({3, 2, 2}, hessians), 1e-7, "input_hessian");
  c.method = "hessian_x_input";
  expect_close(expect_matches_library(fx, c), tensor({3, 2, 2}, hxi), 1e-7, "hessian_x_input");
  c.method = "shapley_interaction";
  expect_close(expect_matches_library(fx, c), tensor({3, 2, 2}, shapley), 1e-7, "shapley_interaction");
}

TEST_CASE("cli matrix: interactions: --baseline blur") {
  Fixture fx;
  // IH of a linear model: ∇²f = 0, so Γ = diag(Δ ⊙ w_c) · ∫₀¹ (−ln t) dt = diag(Δ ⊙ w_c).
  const Tensor<double> images = fx.npy("images.npy");
  const Tensor<double> ig = linear_ig(images, blurred(images, 5.0, 2, 3), {2, 1, 0});
  Tensor<double> want = filled<double>({3, 6, 6}, 0.0);
  for (std::size_t e = 0; e < 3; ++e)
    for (std::size_t i = 0; i < 6; ++i) want(e, i, i) = ig.data()[e * 6 + i];
  Call c = call("interactions", "linear.safetensors", "ih", "images.npy");
  c.baseline = "blur";
  // 32 log-weighted nodes whose weights sum to 1 within rounding: 1e-12.
  expect_close(expect_matches_library(fx, c), want, 1e-12, "IH of L, blurred baseline: diag((x − blur₅ x) ⊙ w_c)");
}

TEST_CASE("cli matrix: interactions: --target, --output, --references, --seed, --batch-size") {
  Fixture fx;
  Call c = call("interactions", "curved.safetensors", "ih", "images.npy");
  const Tensor<double> predicted = expect_matches_library(fx, c);
  c.targets = {1};
  CHECK(differ(expect_matches_library(fx, c), predicted, 1e-6));
  c.targets = {0, 2, 1};
  expect_matches_library(fx, c);
  c.targets = {};
  c.output = "probability";
  expect_matches_library(fx, c);
  c.output = "";
  for (std::size_t b : {1, 5}) {
    c.batch_size = b;
    expect_close(expect_matches_library(fx, c), predicted, 1e-12, "--batch-size " + std::to_string(b));
  }
  c.batch_size.reset();
  Call eh = call("interactions", "curved.safetensors", "eh", "images.npy");
  eh.references = "references.npy";
  eh.steps = 16;
  eh.seed = 3;
  const Tensor<double> three = expect_matches_library(fx, eh);
  const std::string bytes = read_bytes(fx / "out.npy");
  eh.seed = 4;
  CHECK(differ(expect_matches_library(fx, eh), three, 1e-6));
  eh.seed = 3;
  run_binary(fx, eh);
  CHECK(read_bytes(fx / "out.npy") == bytes);
  eh.batch_size = 3;
  expect_close(run_binary(fx, eh), three, 1e-12, "eh --batch-size 3");
  eh.references = "same_references.npy";
  CHECK(differ(expect_matches_library(fx, eh), three, 1e-6));
  // EH with the product model and equal references: library only (Monte Carlo over αβ).
  Call ph = call("interactions", "product.safetensors", "eh", "pairs.npy");
  ph.references = "pair_references.npy";
  ph.steps = 16;
  expect_matches_library(fx, ph);
}

// ===========================================================================
// check

namespace {

/// The relative gaps `fluxion check` documents, computed with the library.
struct ExpectedGaps {
  std::optional<double> completeness, symmetry, row;
};

template <class T>
ExpectedGaps expected_gaps(const Fixture& fx, const Call& c) {
  const LibraryRun<T> lib(fx, c);
  const MethodOutput<T> r = lib.run(c.method);
  const MethodInfo& info = method_info(c.method);
  ExpectedGaps g;
  if (!r.completeness_gaps.empty()) {
    double worst = 0;
    for (std::size_t n = 0; n < r.completeness_gaps.size(); ++n)
      worst = std::max(worst, r.output_changes[n] != 0 ? r.completeness_gaps[n] / std::abs(r.output_changes[n])
                                                       : r.completeness_gaps[n]);
    g.completeness = worst;
  }
  if (info.interactions) {
    const Tensor<double> v = widen(r.values);
    g.symmetry = max_abs(v) > 0 ? interaction_symmetry_gap(r.values) / max_abs(v) : interaction_symmetry_gap(r.values);
    if (c.method == "ih") {
      IntegratedGradientsOptions<T> o;
      o.steps = 128;
      if (lib.settings.baseline.values) {
        o.baseline = BaselineKind::user;
        o.user_baseline = *lib.settings.baseline.values;
      }
      const auto ig = integrated_gradients(lib.out, lib.x, lib.targets, o);
      g.row = row_completeness_gap(r.values, ig.attributions) / max_abs(widen(ig.attributions));
    }
  }
  return g;
}

/// Runs `fluxion check`, compares each printed gap with `want` to 3
/// significant digits and its verdict with the bound; returns the exit code.
template <class T = double>
int expect_check(const Fixture& fx, Call c, double tolerance_bound) {
  c.command = "check";
  const ExpectedGaps want = expected_gaps<T>(fx, c);
  const ProcessResult r = fx.run(c.args());
  std::string line;
  for (const auto& a : c.args()) line += " " + a;
  INFO("fluxion" << line << "\nstdout: " << r.out << "\nstderr: " << r.err);
  CHECK(r.signal == 0);
  bool any_fails = false;
  const double symmetry_bound = sizeof(T) == 4 ? 1e-4 : 1e-9;
  auto expect_line = [&](const std::string& label, std::optional<double> gap, double bound) {
    const std::string l = line_with(r.out, "  " + label + " ");
    if (!gap) {
      CHECK_MESSAGE((l.empty() || l.find("n/a") != std::string::npos), label << " should not be printed");
      return;
    }
    REQUIRE_MESSAGE(!l.empty(), "no line for " << label);
    const auto printed = number_after(l, label + " ");
    REQUIRE(printed);
    CHECK_MESSAGE(std::abs(*printed - *gap) <= 5e-4 * *gap, label << ": printed " << *printed << ", library " << *gap);
    const bool fails = *gap > bound;
    any_fails = any_fails || fails;
    CHECK_MESSAGE(l.find(fails ? "FAILS" : "ok") != std::string::npos, label << " verdict: " << l);
  };
  const bool interactions = method_info(c.method).interactions;
  expect_line(interactions ? "interaction completeness" : "completeness", want.completeness, tolerance_bound);
  if (!want.completeness) CHECK(line_with(r.out, "completeness").find("n/a") != std::string::npos);
  expect_line("symmetry", want.symmetry, symmetry_bound);
  expect_line("row completeness", want.row, tolerance_bound);
  if (any_fails) {
    CHECK(r.exit_code == 3);
    CHECK(r.err.rfind("fluxion: ", 0) == 0);
    CHECK(r.err.find('\n') == r.err.size() - 1);
  } else {
    CHECK(r.exit_code == 0);
    CHECK(r.err.empty());
  }
  return r.exit_code;
}

}  // namespace

TEST_CASE("cli matrix: check: the gate fails and passes") {
  Fixture fx;
  // IG with 2 Gauss–Legendre nodes on the curved model has a completeness gap
  // well above rounding; a tolerance below it fails (exit 3), above passes.
  Call c = call("check", "curved.safetensors", "ig", "images.npy");
  c.steps = 2;
  const double gap = *expected_gaps<double>(fx, c).completeness;
  REQUIRE(gap > 1e-10);
  std::ostringstream below, above;
  below << gap / 3;
  above << gap * 3;
  c.tolerance = below.str();
  CHECK(expect_check(fx, c, gap / 3) == 3);
  c.tolerance = above.str();
  CHECK(expect_check(fx, c, gap * 3) == 0);
  // The default tolerance 1e-3, bracketed: 1 node on the inputs gives a gap
  // of ≈ 5e-4 (ok), 2 nodes on 3× the inputs ≈ 1.3e-3 (FAILS).
  c.tolerance = "";
  c.steps = 1;
  REQUIRE(*expected_gaps<double>(fx, c).completeness < 1e-3);
  CHECK(expect_check(fx, c, 1e-3) == 0);
  c.input = "images_x3.npy";
  c.steps = 2;
  REQUIRE(*expected_gaps<double>(fx, c).completeness > 1e-3);
  CHECK(expect_check(fx, c, 1e-3) == 3);
  c.input = "images.npy";
  c.steps = 0;
  CHECK(expect_check(fx, c, 1e-3) == 0);
  // ih: interaction completeness, symmetry, row completeness; 1 node fails a tight bound.
  Call ih = call("check", "curved.safetensors", "ih", "images.npy");
  CHECK(expect_check(fx, ih, 1e-3) == 0);
  ih.steps = 1;
  ih.tolerance = "1e-12";
  CHECK(expect_check(fx, ih, 1e-12) == 3);
}

TEST_CASE("cli matrix: check: neflag says why its dummy-feature gap is not 0; other methods do not") {
  Fixture fx;
  Call c = call("check", "curved.safetensors", "neflag", "images.npy");
  c.steps = 4;
  const ProcessResult r = fx.run(c.args());
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  CHECK(r.exit_code == 0);
  CHECK(line_with(r.out, "  completeness ").find("n/a") != std::string::npos);  // no baseline
  const std::string note = line_with(r.out, "  neflag: a feature the model ignores gets a nonzero attribution");
  CHECK(note.find("Monte Carlo error") != std::string::npos);
  CHECK(note.find("1/sqrt(n)") != std::string::npos);
  const ProcessResult ig = fx.run(call("check", "curved.safetensors", "ig", "images.npy").args());
  CHECK(ig.exit_code == 0);
  CHECK(line_with(ig.out, "  neflag:").empty());
}

TEST_CASE("cli matrix: check: every flag changes the printed gaps as the library says") {
  Fixture fx;
  Call ig = call("check", "curved.safetensors", "ig", "images.npy");
  ig.steps = 4;
  ig.tolerance = "0.5";
  ig.targets = {0, 2, 1};
  ig.baseline = "image_baselines.npy";
  ig.output = "probability";
  ig.batch_size = 2;
  expect_check(fx, ig, 0.5);
  ig.targets = {1};
  ig.baseline = "blur";
  ig.output = "logit";
  expect_check(fx, ig, 0.5);
  ig.dtype = "float32";
  expect_check<float>(fx, ig, 0.5);
  Call eg = call("check", "curved.safetensors", "expected_gradients", "images.npy");
  eg.references = "references.npy";
  eg.steps = 10;
  eg.tolerance = "10";
  eg.seed = 5;
  expect_check(fx, eg, 10);
  eg.seed = 6;
  expect_check(fx, eg, 10);
  Call eh = call("check", "curved.safetensors", "eh", "images.npy");
  eh.references = "references.npy";
  eh.steps = 10;
  eh.seed = 2;
  eh.tolerance = "10";
  expect_check(fx, eh, 10);
  Call sm = call("check", "relu.safetensors", "input_hessian", "relu_x.npy");
  sm.smooth_beta = 5;
  expect_check(fx, sm, 1e-3);
  Call sb = call("check", "relu.safetensors", "ig", "relu_x.npy");
  sb.smooth_beta = 5;
  sb.steps = 3;
  sb.tolerance = "0.5";
  expect_check(fx, sb, 0.5);  // IG of the softplus_5 net (the ReLU net's IG would differ)
  Call sal = call("check", "curved.safetensors", "saliency", "image.npy");
  expect_check(fx, sal, 1e-3);
  Call ih = call("check", "product.safetensors", "ih", "pairs.npy");
  ih.baseline = "pair_baseline.npy";
  ih.dtype = "float64";
  expect_check(fx, ih, 1e-3);
}

// ===========================================================================
// train

namespace {

/// The library trainer with the settings `fluxion train` documents for its flags.
template <class T>
Sequential<T> library_train(const std::string& arch, std::uint64_t seed, const fs::path& data, TrainConfig config,
                            std::size_t limit, std::vector<EpochReport>* history = nullptr) {
  Sequential<T> model = build_model<T>(arch, seed);
  Dataset<T> train = load_mnist_dataset<T>(data, "train");
  const Dataset<T> test = load_mnist_dataset<T>(data, "test");
  if (limit > 0) train = head_of(train, limit);
  config.seed = seed;
  auto h = train_model(model, train, test, config);
  if (history) *history = h;
  return model;
}

/// The model file's parameters equal `want`'s bit for bit (same code, same
/// seed, same thread count: the trainer is deterministic).
template <class T>
void expect_same_parameters(const fs::path& file, const Sequential<T>& want) {
  const Sequential<T> got = load_model<T>(file);
  const auto g = named_state(got), w = named_state(want);  // parameters and BatchNorm running statistics
  REQUIRE(g.size() == w.size());
  for (std::size_t i = 0; i < g.size(); ++i) {
    INFO(file.filename().string() << " parameter " << g[i].name);
    CHECK(g[i].name == w[i].name);
    expect_close(widen(g[i].value.value()), widen(w[i].value.value()), 0, "trained parameter");
  }
}

}  // namespace

TEST_CASE("cli matrix: train: sgd, cosine, float64") {
  Fixture fx;
  write_synthetic_mnist(fx / "data", 48, 16, 4, 5);
  const std::string arch = small_mlp_architecture(4, 6);
  fx.ok({"train", "--arch", arch, "--data", "data", "--out", "sgd.safetensors", "--epochs", "2", "--seed", "3",
         "--batch-size", "8", "--lr", "0.05", "--optimizer", "sgd", "--momentum", "0.5", "--weight-decay", "0.001",
         "--schedule", "cosine", "--dtype", "float64", "--limit", "40"});
  TrainConfig config;
  config.epochs = 2;
  config.batch_size = 8;
  config.lr = 0.05;
  config.optimizer = "sgd";
  config.momentum = 0.5;
  config.weight_decay = 0.001;
  config.schedule = "cosine";
  std::vector<EpochReport> history;
  const auto want = library_train<double>(arch, 3, fx / "data", config, 40, &history);
  expect_same_parameters(fx / "sgd.safetensors", want);
  const auto meta = read_model_metadata(fx / "sgd.safetensors");
  char acc[32];
  std::snprintf(acc, sizeof acc, "%.4f", history.back().test_accuracy);
  CHECK(meta.at("test_accuracy") == acc);
  CHECK(meta.at("epochs") == "2");
  CHECK(meta.at("seed") == "3");
  CHECK(meta.at("optimizer") == "sgd");
  CHECK(meta.at("schedule") == "cosine");
  CHECK(meta.at("batch_size") == "8");
  CHECK(std::stod(meta.at("lr")) == doctest::Approx(0.05).epsilon(1e-6));
  // --limit: 40 of the 48 images; a model trained on all 48 differs.
  const auto all = library_train<double>(arch, 3, fx / "data", config, 0);
  CHECK(differ(widen(all.named_parameters()[0].value.value()), widen(want.named_parameters()[0].value.value()), 1e-9));
}

TEST_CASE("cli matrix: train: JSON, .json file, presets") {
  Fixture fx;
  write_synthetic_mnist(fx / "data", 32, 8, 4, 6);
  const std::string arch = small_mlp_architecture(4, 5);
  std::ofstream(fx / "arch.json") << arch;
  TrainConfig config;  // the defaults: adam, lr 1e-3, constant schedule, float32
  config.epochs = 1;
  config.batch_size = 16;
  fx.ok({"train", "--arch", "arch.json", "--data", "data", "--out", "file.safetensors", "--epochs", "1", "--seed", "4",
         "--batch-size", "16"});
  const auto seed4 = library_train<float>(arch, 4, fx / "data", config, 0);
  expect_same_parameters(fx / "file.safetensors", seed4);
  CHECK(read_model_metadata(fx / "file.safetensors").at("optimizer") == "adam");
  fx.ok({"train", "--arch", arch, "--data", "data", "--out", "inline.safetensors", "--epochs", "1", "--seed", "5",
         "--batch-size", "16", "--optimizer", "adam"});
  const auto seed5 = library_train<float>(arch, 5, fx / "data", config, 0);
  expect_same_parameters(fx / "inline.safetensors", seed5);
  CHECK(differ(widen(seed4.named_parameters()[0].value.value()), widen(seed5.named_parameters()[0].value.value()), 1e-6));
  // The presets take 28×28 digits; a handful of images, one epoch.
  write_synthetic_mnist(fx / "data28", 8, 4, 28, 7);
  for (const std::string preset : {"mlp", "cnn", "resnet"}) {
    INFO(preset);
    fx.ok({"train", "--arch", preset, "--data", "data28", "--out", preset + ".safetensors", "--epochs", "1",
           "--seed", "1", "--batch-size", "4", "--limit", "4"});
    TrainConfig p;
    p.epochs = 1;
    p.batch_size = 4;
    expect_same_parameters(fx / (preset + ".safetensors"), library_train<float>(preset, 1, fx / "data28", p, 4));
  }
}

TEST_CASE("cli matrix: train: --resume and --smoothing-report") {
  Fixture fx;
  write_synthetic_mnist(fx / "data", 32, 16, 4, 8);
  const std::string arch = small_mlp_architecture(4, 6);
  const std::vector<std::string> base{"train", "--arch", arch, "--data", "data", "--out", "r.safetensors",
                                      "--seed", "2", "--batch-size", "8"};
  auto with = [&](std::vector<std::string> extra) {
    auto a = base;
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  fx.ok(with({"--epochs", "1"}));
  REQUIRE(fs::exists(fx / "r.checkpoint.safetensors"));
  const ProcessResult resumed = fx.ok(with({"--epochs", "2", "--resume", "--smoothing-report"}));
  TrainConfig config;
  config.epochs = 2;
  config.batch_size = 8;
  std::vector<EpochReport> history;
  const auto want = library_train<float>(arch, 2, fx / "data", config, 0, &history);
  expect_same_parameters(fx / "r.safetensors", want);  // resumed == uninterrupted
  // The epoch line of the resumed epoch carries the library's loss and accuracies.
  char line[256];
  std::snprintf(line, sizeof line, "epoch 2/2  loss %.4f  train %.2f%%  test %.2f%%", history[1].loss,
                100 * history[1].train_accuracy, 100 * history[1].test_accuracy);
  CHECK_MESSAGE(resumed.out.find(line) != std::string::npos, "missing '" << line << "' in\n" << resumed.out);
  // --smoothing-report prints the library's report of the saved model on the test set.
  const Sequential<float> saved = load_model<float>(fx / "r.safetensors");
  const std::string report =
      smoothing_report_markdown(smoothing_report(saved, load_mnist_dataset<float>(fx / "data", "test"), {1, 5, 10, 20, 50}));
  CHECK_MESSAGE(resumed.out.find(report) != std::string::npos, "report\n" << report << "\nnot in\n" << resumed.out);
}

// ===========================================================================
// reproduce: --help (above) and one argument error per flag. Each case also
// names an unknown experiment, so a flag that is wrongly accepted ends in
// that (different) error instead of starting a reproduction.

TEST_CASE("cli matrix: reproduce: argument errors") {
  Fixture fx;
  struct Bad {
    std::vector<std::string> args;
    std::string mentions;
  };
  const std::vector<Bad> cases = {
      {{"--quick", "--full"}, "--full"},   {{"--full", "--smoke"}, "--smoke"}, {{"--smoke", "--quick"}, "--quick"},
      {{"--out"}, "--out"},                {{"--data"}, "--data"},             {{"--seed", "abc"}, "--seed"},
      {{"--force=maybe"}, "--force"},
  };
  for (const auto& b : cases) {
    std::vector<std::string> args{"reproduce", "no-such-experiment"};
    args.insert(args.end(), b.args.begin(), b.args.end());
    const ProcessResult r = fx.fails(2, args);
    CHECK_MESSAGE(r.err.find(b.mentions) != std::string::npos, r.err);
  }
  const ProcessResult r = fx.fails(2, {"reproduce", "no-such-experiment", "--smoke", "--out", "results"});
  CHECK(r.err.find("no-such-experiment") != std::string::npos);
}

TEST_CASE("cli matrix: bad values of --dtype, --tolerance and --output") {
  Fixture fx;
  for (const std::string command : {"explain", "interactions", "check"}) {
    INFO(command);
    Call c = call(command, "curved.safetensors", command == "explain" ? "ig" : "ih", "image.npy");
    const std::string out = command == "check" ? "" : "never.npy";
    for (const auto& [flag, value] : std::vector<std::pair<std::string, std::string>>{
             {"--dtype", "float16"}, {"--tolerance", "-1"}, {"--tolerance", "abc"}, {"--output", "softmax"}}) {
      auto args = c.args(out);
      args.insert(args.end(), {flag, value});
      const ProcessResult r = fx.fails(2, args);
      CHECK_MESSAGE(r.err.find(flag) != std::string::npos, r.err);
    }
  }
}
