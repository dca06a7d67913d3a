// `fluxion train`: train a model on MNIST and save it as .safetensors with its
// architecture and final test accuracy in __metadata__.
//
//   fluxion train --arch mlp|cnn|<JSON description> --epochs N --seed S --out model.safetensors
//                 [--data data/mnist] [--batch-size B] [--lr LR] [--optimizer adam|sgd]
//                 [--momentum M] [--weight-decay W] [--schedule constant|cosine]
//                 [--dtype float32|float64] [--limit N] [--resume] [--smoothing-report]
//
// Each epoch prints loss, train and test accuracy and images/s, and writes a
// checkpoint "<out stem>.checkpoint.safetensors" atomically; --resume picks
// it up and continues with results identical to an uninterrupted run
// (nn/training/trainer.hpp). Bad flags: one sentence, exit 2.
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "autodiff/errors.hpp"
#include "experiments/cli/commands.hpp"
#include "nn/models/architecture.hpp"
#include "nn/models/model_io.hpp"
#include "nn/models/smoothing_report.hpp"
#include "nn/training/trainer.hpp"

namespace fluxion::cli {

namespace {

struct TrainFlags {
  std::string arch, out, data = "data/mnist", optimizer = "adam", schedule = "constant", dtype = "float32";
  std::size_t epochs = 10, batch_size = 128, limit = 0;
  double lr = 1e-3, momentum = 0.9, weight_decay = 0;
  std::uint64_t seed = 0;
  bool resume = false, smoothing = false;
};

std::filesystem::path checkpoint_path(const std::filesystem::path& out) {
  return out.parent_path() / (out.stem().string() + ".checkpoint.safetensors");
}

std::string percent(double fraction) {
  char s[32];
  std::snprintf(s, sizeof s, "%.2f%%", 100 * fraction);
  return s;
}

template <class T>
void run(const TrainFlags& f) {
  Sequential<T> model;
  try {
    model = build_model<T>(f.arch, f.seed, "--arch");
  } catch (const InputError& e) {
    throw UsageError(e.what());
  }
  Dataset<T> train = load_mnist_dataset<T>(f.data, "train");
  Dataset<T> test = load_mnist_dataset<T>(f.data, "test");
  if (f.limit > 0) train = head_of(train, f.limit);

  TrainConfig config;
  config.epochs = f.epochs;
  config.batch_size = f.batch_size;
  config.lr = f.lr;
  config.optimizer = f.optimizer;
  config.momentum = f.momentum;
  config.weight_decay = f.weight_decay;
  config.schedule = f.schedule;
  config.seed = f.seed;
  config.checkpoint = checkpoint_path(f.out);
  config.resume = f.resume;

  if (!f.out.empty() && std::filesystem::path(f.out).has_parent_path())
    std::filesystem::create_directories(std::filesystem::path(f.out).parent_path());
  std::cout << "training " << (f.arch.size() > 20 ? "custom" : f.arch) << " (" << model.named_parameters().size()
            << " parameter tensors) on " << train.size() << " images, " << f.dtype << ", " << f.optimizer
            << " lr " << f.lr << ", batch " << f.batch_size << ", seed " << f.seed << "\n";
  auto start = std::chrono::steady_clock::now();
  auto history = train_model(model, train, test, config, [&](const EpochReport& r) {
    char line[256];
    std::snprintf(line, sizeof line, "epoch %zu/%zu  loss %.4f  train %s  test %s  %.0f img/s  %.1f s\n", r.epoch,
                  f.epochs, r.loss, percent(r.train_accuracy).c_str(), percent(r.test_accuracy).c_str(),
                  r.images_per_second, r.seconds);
    std::cout << line << std::flush;
  });
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const EpochReport& last = history.back();
  double total_train_seconds = 0;
  for (const auto& h : history) total_train_seconds += h.seconds;
  char acc[32];
  std::snprintf(acc, sizeof acc, "%.4f", last.test_accuracy);
  save_model(f.out, model,
             {{"test_accuracy", acc},
              {"epochs", std::to_string(history.size())},
              {"seed", std::to_string(f.seed)},
              {"optimizer", f.optimizer},
              {"lr", std::to_string(f.lr)},
              {"batch_size", std::to_string(f.batch_size)},
              {"schedule", f.schedule},
              {"train_seconds", std::to_string(total_train_seconds)},
              {"trained_by", "fluxion train"}});
  std::cout << "final test accuracy " << percent(last.test_accuracy) << " after " << history.size() << " epochs ("
            << static_cast<long>(total_train_seconds) << " s training, " << static_cast<long>(wall)
            << " s this run); saved " << f.out << "\n";
  if (f.smoothing) {
    SmoothingReport report = smoothing_report(model, test, {1, 5, 10, 20, 50});
    std::cout << "\nSoftPlus smoothing on the test set:\n" << smoothing_report_markdown(report);
  }
}

}  // namespace

void register_train_command(CLI::App& app) {
  auto f = std::make_shared<TrainFlags>();
  auto* cmd = app.add_subcommand("train", "Train an MLP/CNN on MNIST and save it as .safetensors");
  cmd->add_option("--arch", f->arch, "mlp, cnn, or a JSON architecture description")->required();
  cmd->add_option("--out", f->out, "Output model file (.safetensors)")->required();
  cmd->add_option("--epochs", f->epochs, "Number of epochs")->capture_default_str();
  cmd->add_option("--seed", f->seed, "Seed of initialisation, shuffling and dropout")->capture_default_str();
  cmd->add_option("--data", f->data, "Folder with the four MNIST IDX files")->capture_default_str();
  cmd->add_option("--batch-size", f->batch_size, "Mini-batch size")->capture_default_str();
  cmd->add_option("--lr", f->lr, "Learning rate")->capture_default_str();
  cmd->add_option("--optimizer", f->optimizer, "adam or sgd")->capture_default_str();
  cmd->add_option("--momentum", f->momentum, "SGD momentum")->capture_default_str();
  cmd->add_option("--weight-decay", f->weight_decay, "L2 weight decay")->capture_default_str();
  cmd->add_option("--schedule", f->schedule, "Learning-rate schedule: constant or cosine")->capture_default_str();
  cmd->add_option("--dtype", f->dtype, "float32 or float64")->capture_default_str();
  cmd->add_option("--limit", f->limit, "Train on the first N training images only (0 = all)")->capture_default_str();
  cmd->add_flag("--resume", f->resume, "Continue from <out stem>.checkpoint.safetensors");
  cmd->add_flag("--smoothing-report", f->smoothing, "After training, print accuracy and logit deviation of SoftPlus(beta) copies");
  cmd->callback([f] {
    if (f->dtype != "float32" && f->dtype != "float64")
      throw UsageError("--dtype must be float32 or float64, got '" + f->dtype + "'");
    if (std::filesystem::path(f->out).filename().empty()) throw UsageError("--out must name a file");
    TrainConfig check;
    check.epochs = f->epochs;
    check.batch_size = f->batch_size;
    check.lr = f->lr;
    check.optimizer = f->optimizer;
    check.momentum = f->momentum;
    check.weight_decay = f->weight_decay;
    check.schedule = f->schedule;
    try {
      validate_train_config(check);
    } catch (const std::invalid_argument& e) {
      throw UsageError(std::string("train: ") + e.what());
    }
    if (f->dtype == "float32") run<float>(*f);
    else run<double>(*f);
  });
}

}  // namespace fluxion::cli
