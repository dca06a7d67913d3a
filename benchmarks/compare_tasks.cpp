// The Fluxion side of benchmarks/compare_pytorch.py: each task loads the
// weights and inputs the script wrote into a work directory, computes the
// task's numbers once (written as .npy so the script can check that both
// sides agree), then times it and prints one JSON line with the timings.
//
//   compare_tasks <task> --workdir DIR [--arch mlp|cnn] [--repeats R]
//
// Tasks (float32, threads from OMP_NUM_THREADS):
//   train-check   loss and parameter gradients of the first 64 training
//                 images (checks the model and loss agree with PyTorch)
//   train-epoch   one epoch of Adam (lr 1e-3), batch 64, over DIR/train.npy
//   ig            Integrated Gradients, 50 Gauss–Legendre nodes, zero baseline,
//                 one image, cnn
//   ih            full 784×784 Integrated Hessians, one image, mlp smoothed
//                 with softplus β = 10, 16 log-weighted nodes (the nodes and
//                 weights are written so PyTorch uses the same ones); reports
//                 the process's peak resident memory
//   hvp-grad      time of H v and of ∇f for one image's logit, cnn
//   per-op        forward + backward cost per op of a chain of tiny ops
//   gflops        cnn forward + backward (parameter gradients) at batch 256,
//                 achieved GFLOP/s against Eigen's GEMM in the same process
#include <CLI/CLI.hpp>
#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "attribution/integrated_gradients.hpp"
#include "attribution/integrated_hessians.hpp"
#include "attribution/quadrature.hpp"
#include "autodiff/autodiff.hpp"
#include "nn/io/npy.hpp"
#include "nn/models/model_io.hpp"
#include "nn/models/smoothing.hpp"
#include "nn/training/adam.hpp"
#include "nn/training/dataset.hpp"
#include "nn/training/losses.hpp"
#include "nn/training/trainer.hpp"

namespace {

using namespace fluxion;
using json = nlohmann::json;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

/// Median wall time of `repeats` calls of `work` (after one warm-up call).
template <class Work>
double median_seconds(int repeats, Work&& work) {
  work();
  std::vector<double> times;
  for (int r = 0; r < repeats; ++r) {
    auto start = Clock::now();
    work();
    times.push_back(seconds_since(start));
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

/// Peak resident set size of this process in bytes (VmHWM from /proc).
double peak_rss_bytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) * 1024.0;
  return -1;
}

Tensor<float> flat_concat(const std::vector<Tensor<float>>& parts) {
  std::size_t total = 0;
  for (const auto& p : parts) total += p.size();
  Tensor<float> out = Tensor<float>::from_shape({total});
  std::size_t at = 0;
  for (const auto& p : parts) at = std::copy(p.begin(), p.end(), out.begin() + static_cast<std::ptrdiff_t>(at)) - out.begin();
  return out;
}

Dataset<float> training_data(const fs::path& dir) {
  Dataset<float> data;
  data.inputs = read_npy<float>(dir / "train_images.npy");
  Tensor<float> labels = read_npy<float>(dir / "train_labels.npy");
  for (float l : labels) data.labels.push_back(static_cast<std::size_t>(l));
  return data;
}

json train_check(const fs::path& dir, const std::string& arch) {
  Sequential<float> model = load_model<float>(dir / (arch + ".safetensors"));
  model.train();
  Dataset<float> first = head_of(training_data(dir), 64);
  Var<float> loss = cross_entropy(model.forward(Var<float>(first.inputs)), first.labels);
  backward(loss);
  std::vector<Tensor<float>> parts{Tensor<float>::from_shape({1})};
  parts[0](0) = loss.item();
  for (const auto& p : model.named_parameters()) parts.push_back(p.value.grad());
  write_npy(dir / ("fluxion_train_check_" + arch + ".npy"), flat_concat(parts));
  return {{"loss", loss.item()}};
}

json train_epoch(const fs::path& dir, const std::string& arch) {
  Sequential<float> model = load_model<float>(dir / (arch + ".safetensors"));
  Dataset<float> train = training_data(dir);
  TrainConfig config;
  config.epochs = 1;
  config.batch_size = 64;
  config.lr = 1e-3;
  config.optimizer = "adam";
  auto history = train_model(model, train, head_of(train, 64), config);
  return {{"seconds", history.back().seconds}, {"loss", history.back().loss}};
}

std::size_t class_of(const fs::path& dir) {
  return static_cast<std::size_t>(read_npy<float>(dir / "target.npy")(0));
}

json integrated_gradients_task(const fs::path& dir, int repeats) {
  Sequential<float> model = load_model<float>(dir / "cnn.safetensors");
  model.eval();
  Tensor<float> image = read_npy<float>(dir / "image.npy");  // [1, 1, 28, 28]
  ExplainedOutput<float> out{as_function(model), OutputKind::logit, 64};
  IntegratedGradientsOptions<float> options;
  options.rule = "gauss_legendre";
  options.steps = 50;
  const std::vector<std::size_t> targets{class_of(dir)};
  auto result = integrated_gradients(out, image, targets, options);
  write_npy(dir / "fluxion_ig.npy", result.attributions);
  double t = median_seconds(repeats, [&] { integrated_gradients(out, image, targets, options); });
  return {{"seconds", t}};
}

json integrated_hessians_task(const fs::path& dir, int repeats, std::size_t directions) {
  Sequential<float> model = smooth(load_model<float>(dir / "mlp.safetensors"), 10.0f);
  model.eval();
  Tensor<float> image = read_npy<float>(dir / "image.npy");
  Quadrature rule = interaction_rule("log_weighted", 16);
  Tensor<double> nodes_and_weights = Tensor<double>::from_shape({2, rule.nodes.size()});
  for (std::size_t k = 0; k < rule.nodes.size(); ++k) {
    nodes_and_weights(0, k) = rule.nodes[k];
    nodes_and_weights(1, k) = rule.weights[k];
  }
  write_npy(dir / "ih_rule.npy", nodes_and_weights);
  ExplainedOutput<float> out{as_function(model), OutputKind::logit, 16};
  IntegratedHessiansOptions<float> options;
  options.rule = "log_weighted";
  options.points = 16;
  options.directions_per_sweep = directions;
  const std::vector<std::size_t> targets{class_of(dir)};
  auto result = integrated_hessians(out, image, targets, options);
  write_npy(dir / "fluxion_ih.npy", result.interactions);
  double t = median_seconds(repeats, [&] { integrated_hessians(out, image, targets, options); });
  return {{"seconds", t}, {"peak_rss_bytes", peak_rss_bytes()}, {"directions_per_sweep", directions}};
}

json hvp_grad_task(const fs::path& dir, int repeats) {
  Sequential<float> model = load_model<float>(dir / "cnn.safetensors");
  model.eval();
  Tensor<float> image = read_npy<float>(dir / "image.npy");
  Tensor<float> v = read_npy<float>(dir / "hvp_v.npy");
  const std::size_t c = class_of(dir);
  Function<float> logit = [&](const Var<float>& x) { return sum(select(model.forward(x), {c})); };
  write_npy(dir / "fluxion_grad.npy", grad(logit, image));
  write_npy(dir / "fluxion_hvp.npy", hvp(logit, image, v));
  double t_grad = median_seconds(repeats, [&] { grad(logit, image); });
  double t_hvp = median_seconds(repeats, [&] { hvp(logit, image, v); });
  return {{"grad_seconds", t_grad}, {"hvp_seconds", t_hvp}, {"ratio", t_hvp / t_grad}};
}

// y ← tanh(y ⊙ y + y) repeated: 3 ops per round on a [2, 2] tensor.
constexpr int kRounds = 32, kOpsPerRound = 3;

json per_op_task(const fs::path& dir, int repeats) {
  Tensor<float> x0 = Tensor<float>::from_shape({2, 2});
  for (std::size_t i = 0; i < 4; ++i) x0(i / 2, i % 2) = 0.1f * static_cast<float>(i + 1);
  auto chain = [&] {
    Var<float> x(x0, true);
    Var<float> y = x;
    for (int r = 0; r < kRounds; ++r) y = tanh(add(mul(y, y), y));
    Var<float> s = sum(y);
    backward(s);
    return x.grad();
  };
  write_npy(dir / "fluxion_per_op.npy", chain());
  double t = median_seconds(repeats, [&] {
    for (int i = 0; i < 100; ++i) chain();
  });
  return {{"seconds_per_op", t / (100.0 * kRounds * kOpsPerRound)}};
}

// Multiply–adds of the cnn preset per image, forward:
//   conv1 24·24·16·(1·25), conv2 8·8·32·(16·25), linear 512·128, linear 128·10.
// Forward + backward (input and weight gradients) ≈ 3 × forward FLOPs, less
// conv1's input gradient, which nothing needs.
double cnn_train_flops_per_image() {
  const double conv1 = 24.0 * 24 * 16 * 25, conv2 = 8.0 * 8 * 32 * 400, fc = 512.0 * 128 + 128.0 * 10;
  const double forward = 2 * (conv1 + conv2 + fc);
  return 3 * forward - 2 * conv1;
}

double eigen_gemm_gflops(int repeats) {
  const int n = 1024;
  Eigen::MatrixXf a = Eigen::MatrixXf::Random(n, n), b = Eigen::MatrixXf::Random(n, n), c(n, n);
  double t = median_seconds(repeats, [&] { c.noalias() = a * b; });
  return 2.0 * n * n * n / t / 1e9;
}

json gflops_task(const fs::path& dir, int repeats) {
  Sequential<float> model = load_model<float>(dir / "cnn.safetensors");
  model.train();
  Dataset<float> batch = head_of(training_data(dir), 256);
  auto params = model.named_parameters();
  double t = median_seconds(repeats, [&] {
    for (auto& p : params) p.value.zero_grad();
    Var<float> loss = cross_entropy(model.forward(Var<float>(batch.inputs)), batch.labels);
    backward(loss);
  });
  const double achieved = cnn_train_flops_per_image() * 256 / t / 1e9;
  const double gemm = eigen_gemm_gflops(repeats);
  return {{"seconds", t}, {"gflops", achieved}, {"eigen_gemm_gflops", gemm}, {"fraction", achieved / gemm}};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Fluxion side of benchmarks/compare_pytorch.py"};
  std::string task, workdir, arch = "cnn";
  int repeats = 5;
  std::size_t directions = 64;
  app.add_option("task", task, "train-check|train-epoch|ig|ih|hvp-grad|per-op|gflops")->required();
  app.add_option("--workdir", workdir, "directory with the weights and inputs")->required();
  app.add_option("--arch", arch, "mlp|cnn (train-check, train-epoch)");
  app.add_option("--repeats", repeats, "timed repetitions (median reported)")->check(CLI::PositiveNumber);
  app.add_option("--directions", directions, "ih: identity tangents per sweep (0 = all 784)");
  CLI11_PARSE(app, argc, argv);
  try {
    const fs::path dir(workdir);
    json result;
    if (task == "train-check") result = train_check(dir, arch);
    else if (task == "train-epoch") result = train_epoch(dir, arch);
    else if (task == "ig") result = integrated_gradients_task(dir, repeats);
    else if (task == "ih") result = integrated_hessians_task(dir, repeats, directions);
    else if (task == "hvp-grad") result = hvp_grad_task(dir, repeats);
    else if (task == "per-op") result = per_op_task(dir, repeats);
    else if (task == "gflops") result = gflops_task(dir, repeats);
    else {
      std::cerr << "compare_tasks: unknown task \"" << task << "\"\n";
      return 2;
    }
    result["task"] = task;
    result["eigen_threads"] = Eigen::nbThreads();
    std::cout << result.dump() << std::endl;
  } catch (const std::exception& e) {
    std::cerr << "compare_tasks: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
