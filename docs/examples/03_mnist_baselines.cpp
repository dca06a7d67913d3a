// Tutorial 3, "Baselines and missingness" (docs/03-integrated-gradients.md):
// IG of the trained `cnn` preset on one MNIST test digit under two baselines,
//   black    x′ = 0                      ("missing" = no ink),
//   blurred  x′ = G_σ * x, σ = 5 pixels  ("missing" = no fine detail),
// IGᵢ = (xᵢ − x′ᵢ) ∫₀¹ ∂ᵢf(x′ + t(x − x′)) dt (Sundararajan, Taly & Yan 2017),
// for the logit of the digit's label. The factor (xᵢ − x′ᵢ) makes IG blind to
// every pixel whose value equals the baseline's: under the black baseline the
// background (xᵢ = 0) gets exactly zero, whatever the network does with it
// (Sturmfels, Lundberg & Lee, "Visualizing the Impact of Feature Attribution
// Baselines", Distill 2020).
//
// Usage: tutorial_03_mnist_baselines [mnist dir] [cnn model] [test index]
//   defaults: data/mnist, results/models/cnn.safetensors (the model
//   `fluxion reproduce` caches), 0.
// When the model file is absent the program trains the cnn preset briefly
// (1 epoch on the first 30000 training images, adam, seed 0, about 20 s) and
// saves it there, so that the next run only loads it. Exits 1 with one
// sentence if the MNIST files are missing.
//
// Prints one `name = value` line per number and the two maps as text.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <numeric>
#include <string>
#include <vector>

#include "attribution/integrated_gradients.hpp"
#include "autodiff/errors.hpp"
#include "docs/examples/tutorial_support.hpp"
#include "nn/models/architecture.hpp"
#include "nn/models/model_io.hpp"
#include "nn/training/dataset.hpp"
#include "nn/training/trainer.hpp"

namespace {

using namespace fluxion;
using tutorial::check;
using tutorial::failures;
namespace fs = std::filesystem;

constexpr std::size_t kPixels = 28 * 28;

bool mnist_present(const fs::path& dir) {
  for (const char* f : {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                        "t10k-labels-idx1-ubyte"})
    if (!fs::exists(dir / f)) return false;
  return true;
}

/// The cnn preset, 1 epoch of adam on the first 30000 training images: a
/// stand-in (94.5 % on the first 2000 test images) for the reproduce model when that is absent.
void train_stand_in(const fs::path& mnist, const fs::path& out) {
  TrainConfig config;
  config.epochs = 1;
  config.optimizer = "adam";
  config.lr = 1e-3;
  config.batch_size = 128;
  config.seed = 0;
  std::fprintf(stderr, "no model at %s: training the cnn preset (1 epoch, 30000 images, seed 0)\n",
               out.string().c_str());
  Sequential<float> model = build_model<float>("cnn", config.seed, "preset cnn");
  const Dataset<float> train = head_of(load_mnist_dataset<float>(mnist, "train"), 30000);
  const Dataset<float> test = head_of(load_mnist_dataset<float>(mnist, "test"), 2000);
  const auto history = train_model(model, train, test, config);
  if (!out.parent_path().empty()) fs::create_directories(out.parent_path());
  save_model(out, model,
             {{"test_accuracy", std::to_string(history.back().test_accuracy)},
              {"epochs", "1"},
              {"trained_by", "tutorial_03_mnist_baselines (stand-in: 30000 images)"}});
}

/// The 28×28 map as text: '+' / '-' for |a| ≥ 10 % of max|a|, '.' for smaller
/// non-zero values, ' ' for exactly zero.
void print_map(const char* title, const std::vector<double>& a) {
  double top = 0;
  for (double v : a) top = std::max(top, std::fabs(v));
  std::printf("# %s ('+'/'-': |IG| >= 10%% of max, '.': smaller, ' ': exactly 0)\n", title);
  for (std::size_t r = 0; r < 28; ++r) {
    std::string line = "#   |";
    for (std::size_t c = 0; c < 28; ++c) {
      const double v = a[r * 28 + c];
      line += v == 0 ? ' ' : std::fabs(v) < 0.1 * top ? '.' : v > 0 ? '+' : '-';
    }
    std::printf("%s|\n", line.c_str());
  }
}

struct MapSummary {
  double sum = 0, mass = 0, background_mass = 0;  // Σ a, Σ |a|, Σ |a| over pixels with x = 0
  std::size_t background_nonzero = 0;             // pixels with x = 0 and a ≠ 0
  double background_max = 0;                      // max |a| over pixels with x = 0
};

MapSummary summarise(const std::vector<double>& a, const std::vector<double>& x) {
  MapSummary s;
  for (std::size_t i = 0; i < kPixels; ++i) {
    s.sum += a[i];
    s.mass += std::fabs(a[i]);
    if (x[i] == 0) {
      s.background_mass += std::fabs(a[i]);
      s.background_max = std::max(s.background_max, std::fabs(a[i]));
      if (a[i] != 0) ++s.background_nonzero;
    }
  }
  return s;
}

/// Indices of the k largest |a|.
std::vector<std::size_t> top_k(const std::vector<double>& a, std::size_t k) {
  std::vector<std::size_t> order(a.size());
  std::iota(order.begin(), order.end(), 0);
  std::partial_sort(order.begin(), order.begin() + k, order.end(),
                    [&](std::size_t i, std::size_t j) { return std::fabs(a[i]) > std::fabs(a[j]); });
  order.resize(k);
  std::sort(order.begin(), order.end());
  return order;
}

void report(const std::string& name, double value) { std::printf("%s = %.6g\n", name.c_str(), value); }

}  // namespace

int main(int argc, char** argv) {
  const fs::path mnist = argc > 1 ? argv[1] : "data/mnist";
  const fs::path model_path = argc > 2 ? argv[2] : "results/models/cnn.safetensors";
  const std::size_t index = argc > 3 ? std::stoul(argv[3]) : 0;
  try {
    if (!mnist_present(mnist))
      throw InputError("the MNIST files are missing from " + mnist.string() + " (scripts/fetch-mnist.sh fetches them)");
    if (!fs::exists(model_path)) train_stand_in(mnist, model_path);
    const auto metadata = read_model_metadata(model_path);
    const Sequential<double> model = load_model<double>(model_path);
    const Dataset<double> test = load_mnist_dataset<double>(mnist, "test");
    if (index >= test.size()) throw InputError("test index " + std::to_string(index) + " is past the test split");
    const Tensor<double> x = gather_examples(test.inputs, {index});  // [1, 1, 28, 28]
    const std::size_t label = test.labels[index];

    ExplainedOutput<double> out;
    out.model = as_function(model);
    const std::vector<std::size_t> predicted = predicted_classes(out.model, x);
    std::printf("model = %s\n", model_path.filename().string().c_str());
    if (metadata.count("test_accuracy")) report("model test_accuracy", std::stod(metadata.at("test_accuracy")));
    report("digit index", double(index));
    report("digit label", double(label));
    report("digit predicted", double(predicted[0]));
    check(predicted[0] == label, "the cnn classifies the digit correctly");

    std::vector<double> pixels(kPixels);
    for (std::size_t i = 0; i < kPixels; ++i) pixels[i] = x.data()[i];
    std::size_t zeros = 0, ink = 0;
    for (double v : pixels) zeros += v == 0, ink += v > 0.5;
    report("digit zero_pixels", double(zeros));
    report("digit ink_pixels_above_half", double(ink));

    // IG of the label's logit, 64 Gauss–Legendre nodes, under each baseline.
    std::vector<std::vector<double>> maps;
    for (const BaselineKind kind : {BaselineKind::black, BaselineKind::blurred}) {
      IntegratedGradientsOptions<double> options;
      options.baseline = kind;  // blurred: σ = options.blur_sigma = 5 pixels
      options.steps = 64;
      const std::string name = kind == BaselineKind::black ? "black" : "blurred";
      const Tensor<double> baseline = make_baseline(x, options);
      const PathAttributions<double> ig = integrated_gradients(out, x, {label}, options);
      std::vector<double> a(kPixels);
      for (std::size_t i = 0; i < kPixels; ++i) a[i] = ig.attributions.data()[i];
      const MapSummary s = summarise(a, pixels);
      double baseline_min = 1e300, baseline_max = -1e300, baseline_at_zero_max = 0;
      for (std::size_t i = 0; i < kPixels; ++i) {
        const double b = baseline.data()[i];
        baseline_min = std::min(baseline_min, b), baseline_max = std::max(baseline_max, b);
        if (pixels[i] == 0) baseline_at_zero_max = std::max(baseline_at_zero_max, b);
      }
      report(name + " baseline_min", baseline_min);
      report(name + " baseline_max", baseline_max);
      report(name + " baseline_max_on_background", baseline_at_zero_max);
      report(name + " output_change", ig.output_changes[0]);
      report(name + " ig_sum", s.sum);
      report(name + " relative_gap", ig.completeness_gaps[0] / std::fabs(ig.output_changes[0]));
      report(name + " background_nonzero_pixels", double(s.background_nonzero));
      report(name + " background_max_abs", s.background_max);
      report(name + " background_share_of_mass", s.background_mass / s.mass);
      check(ig.completeness_gaps[0] <= 0.05 * std::fabs(ig.output_changes[0]),
            name + ": 64 Gauss–Legendre nodes close completeness to 5 %");
      print_map(("IG, " + name + " baseline").c_str(), a);
      maps.push_back(a);
    }
    check(summarise(maps[0], pixels).background_max == 0, "the black baseline gives background pixels exactly zero");
    check(summarise(maps[1], pixels).background_nonzero > 0, "the blurred baseline attributes background pixels");

    // How much do the two maps agree? The pixels among each map's 50 largest |IG|.
    const std::vector<std::size_t> top_black = top_k(maps[0], 50), top_blur = top_k(maps[1], 50);
    std::vector<std::size_t> common;
    std::set_intersection(top_black.begin(), top_black.end(), top_blur.begin(), top_blur.end(),
                          std::back_inserter(common));
    report("top50 common_pixels", double(common.size()));
    std::size_t top_blur_background = 0;
    for (std::size_t i : top_blur) top_blur_background += pixels[i] == 0;
    report("top50 blurred_on_background", double(top_blur_background));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tutorial_03_mnist_baselines: %s\n", e.what());
    return 1;
  }
  std::printf("checks_failed = %d\n", failures);
  return failures == 0 ? 0 : 1;
}
