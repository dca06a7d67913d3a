// `fluxion train`: train a model on MNIST and save it as .safetensors with its
// architecture and final test accuracy in __metadata__.
//
//   fluxion train --arch mlp|cnn|resnet|<JSON description>|<file.json> --epochs N --seed S --out model.safetensors
//                 [--data data/mnist] [--batch-size B] [--lr LR] [--optimizer adam|sgd]
//                 [--momentum M] [--weight-decay W] [--schedule constant|cosine]
//                 [--dtype float32|float64] [--limit N] [--resume] [--smoothing-report]
//
// Each epoch prints loss, train and test accuracy and images/s, and writes a
// checkpoint "<out stem>.checkpoint.safetensors" atomically; --resume picks
// it up and continues with results identical to an uninterrupted run
// (nn/training/trainer.hpp). Bad flags: one sentence, exit 2; bad files
// (architecture file, data, checkpoint): one sentence naming the file, exit 1.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

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

// An architecture file is small; anything past this is not one.
constexpr std::uintmax_t kMaxArchitectureFileBytes = 1 << 20;

/// --arch is a preset, inline JSON, or the path of a JSON file. Returns the
/// description and where it came from (for messages). A bad flag is a
/// UsageError; a bad file an InputError naming it.
std::pair<std::string, std::string> architecture_source(const std::string& arch) {
  const auto presets = preset_names();
  const bool inline_json = arch.find_first_not_of(" \t\n") != std::string::npos &&
                           arch[arch.find_first_not_of(" \t\n")] == '{';
  if (inline_json || std::find(presets.begin(), presets.end(), arch) != presets.end()) return {arch, "--arch"};
  std::error_code ec;
  if (!std::filesystem::is_regular_file(arch, ec))
    throw UsageError("--arch: '" + arch + "' is neither a preset (mlp, cnn, resnet), a JSON description nor a JSON file");
  const std::uintmax_t size = std::filesystem::file_size(arch, ec);
  if (ec) throw InputError(arch + ": cannot read the file size (" + ec.message() + ")");
  if (size > kMaxArchitectureFileBytes)
    throw InputError(arch + ": " + std::to_string(size) + " bytes is too large for an architecture description " +
                     "(limit 1 MiB)");
  std::ifstream in(arch, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in) throw InputError(arch + ": cannot read the file");
  // Say where the JSON breaks; never echo the file's (maybe binary) bytes.
  try {
    [[maybe_unused]] const nlohmann::json parsed = nlohmann::json::parse(text.str());
  } catch (const nlohmann::json::parse_error& e) {
    throw InputError(arch + ": not valid JSON (syntax error at byte " + std::to_string(e.byte) + ")");
  }
  return {text.str(), arch};
}

/// The model must take the data's examples and have a logit for every label.
template <class T>
void check_model_fits_data(const Sequential<T>& model, const Dataset<T>& train, const Dataset<T>& test,
                           const std::filesystem::path& data_dir) {
  const Shape example(train.inputs.shape().begin() + 1, train.inputs.shape().end());
  if (example != model.input_shape())
    throw InputError((data_dir / "train-images-idx3-ubyte").string() + ": images of shape " + shape_str(example) +
                     " do not fit the model, which takes examples of shape " + shape_str(model.input_shape()));
  const Shape out = model.output_shape();
  std::size_t largest = 0;
  for (const auto* d : {&train, &test})
    for (std::size_t label : d->labels) largest = std::max(largest, label);
  if (out.size() != 1 || out[0] <= largest)
    throw InputError((data_dir / "train-labels-idx1-ubyte").string() + ": labels go up to " +
                     std::to_string(largest) + " but the model outputs " + shape_str(out) +
                     " (it needs one logit per class)");
}

std::string percent(double fraction) {
  char s[32];
  std::snprintf(s, sizeof s, "%.2f%%", 100 * fraction);
  return s;
}

template <class T>
void run(const TrainFlags& f) {
  Sequential<T> model;
  const auto [description, source] = architecture_source(f.arch);
  try {
    model = build_model<T>(description, f.seed, source);
  } catch (const InputError& e) {
    if (source == "--arch") throw UsageError(e.what());  // a bad flag value
    throw;                                               // a bad file
  }
  Dataset<T> train = load_mnist_dataset<T>(f.data, "train");
  Dataset<T> test = load_mnist_dataset<T>(f.data, "test");
  if (f.limit > 0) train = head_of(train, f.limit);
  check_model_fits_data(model, train, test, f.data);

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

  if (const std::filesystem::path folder = std::filesystem::path(f.out).parent_path(); !folder.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(folder, ec);
    if (ec) throw InputError("cannot create the folder '" + folder.string() + "' for --out (" + ec.message() + ")");
  }
  std::cout << "training " << (f.arch.size() > 20 ? "custom" : f.arch) << " (" << model.named_parameters().size()
            << " parameter tensors) on " << train.size() << " images, " << f.dtype << ", " << f.optimizer
            << " lr " << f.lr << ", batch " << f.batch_size << ", seed " << f.seed << std::endl;  // flushed: an announced moment
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
  auto* cmd = app.add_subcommand("train", "Train an MLP, CNN or ResNet on MNIST and save it as .safetensors");
  cmd->add_option("--arch", f->arch, "mlp, cnn, resnet, a JSON architecture description, or a .json file holding one")
      ->required();
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
