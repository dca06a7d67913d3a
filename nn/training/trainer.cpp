#include "nn/training/trainer.hpp"

#include <chrono>
#include <cmath>
#include <numbers>
#include <sstream>

#include <nlohmann/json.hpp>

#include "autodiff/backward.hpp"
#include "autodiff/errors.hpp"
#include "nn/modules/dropout.hpp"
#include "nn/training/adam.hpp"
#include "nn/training/batching.hpp"
#include "nn/training/checkpoint.hpp"
#include "nn/training/evaluate.hpp"
#include "nn/training/losses.hpp"
#include "nn/training/sgd.hpp"

namespace fluxion {

namespace {

using json = nlohmann::json;

// The run's RNG is seeded apart from the model initialisation stream.
constexpr std::uint64_t kLoopStream = 0x9E3779B97F4A7C15ULL;

// The settings a resumed run must share with the run that wrote the checkpoint.
json config_fingerprint(const TrainConfig& c, const char* dtype) {
  return {{"batch_size", c.batch_size}, {"lr", c.lr},
          {"optimizer", c.optimizer},   {"momentum", c.momentum},
          {"weight_decay", c.weight_decay}, {"schedule", c.schedule},
          {"seed", c.seed},             {"dtype", dtype},
          {"epochs", c.schedule == "cosine" ? json(c.epochs) : json(nullptr)}};
}

json to_json(const EpochReport& r) {
  return {{"epoch", r.epoch}, {"loss", r.loss}, {"train_accuracy", r.train_accuracy},
          {"test_accuracy", r.test_accuracy}, {"test_loss", r.test_loss},
          {"images_per_second", r.images_per_second}, {"seconds", r.seconds}};
}

EpochReport from_json(const json& j) {
  EpochReport r;
  r.epoch = j.at("epoch").get<std::size_t>();
  r.loss = j.at("loss").get<double>();
  r.train_accuracy = j.at("train_accuracy").get<double>();
  r.test_accuracy = j.at("test_accuracy").get<double>();
  r.test_loss = j.at("test_loss").get<double>();
  r.images_per_second = j.at("images_per_second").get<double>();
  r.seconds = j.at("seconds").get<double>();
  return r;
}

double scheduled_lr(const TrainConfig& c, std::uint64_t step, std::uint64_t total_steps) {
  if (c.schedule == "constant") return c.lr;
  double progress = static_cast<double>(step) / static_cast<double>(total_steps);
  return c.lr * 0.5 * (1.0 + std::cos(std::numbers::pi * progress));
}

}  // namespace

void validate_train_config(const TrainConfig& c) {
  if (c.epochs == 0) throw ArgumentError("epochs must be >= 1");
  if (c.batch_size == 0) throw ArgumentError("batch size must be >= 1");
  if (!(c.lr > 0) || !std::isfinite(c.lr)) throw ArgumentError("learning rate must be a finite number > 0");
  if (c.optimizer != "adam" && c.optimizer != "sgd")
    throw ArgumentError("optimizer must be adam or sgd, got \"" + c.optimizer + "\"");
  if (!(c.momentum >= 0 && c.momentum < 1)) throw ArgumentError("momentum must be in [0, 1)");
  if (!(c.weight_decay >= 0) || !std::isfinite(c.weight_decay)) throw ArgumentError("weight decay must be >= 0");
  if (c.schedule != "constant" && c.schedule != "cosine")
    throw ArgumentError("schedule must be constant or cosine, got \"" + c.schedule + "\"");
  if (c.resume && c.checkpoint.empty()) throw ArgumentError("resume needs a checkpoint path");
}

template <class T>
std::unique_ptr<Optimizer<T>> make_optimizer(const TrainConfig& c, std::vector<NamedParameter<T>> parameters) {
  if (c.optimizer == "adam") return std::make_unique<Adam<T>>(std::move(parameters), c.lr, c.weight_decay);
  if (c.optimizer == "sgd") return std::make_unique<SGD<T>>(std::move(parameters), c.lr, c.momentum, c.weight_decay);
  throw ArgumentError("optimizer must be adam or sgd, got \"" + c.optimizer + "\"");
}

namespace {

/// Restores model, optimizer, RNG and history from config.checkpoint; the
/// checkpoint must have been made with the same settings (InputError naming
/// the setting that differs).
template <class T>
std::vector<EpochReport> resume_training(const TrainConfig& config, const char* dtype, Sequential<T>& model,
                                         Optimizer<T>& optimizer, std::mt19937_64& rng) {
  if (!std::filesystem::exists(config.checkpoint))
    throw InputError(config.checkpoint.string() + ": no checkpoint to resume from");
  json progress = json::parse(load_checkpoint(config.checkpoint, model, optimizer), nullptr, false);
  const std::string where = config.checkpoint.string() + ": ";
  if (!progress.is_object() || !progress.contains("config") || !progress.contains("rng") ||
      !progress.contains("history"))
    throw InputError(where + "the \"progress\" metadata is malformed");
  json expected = config_fingerprint(config, dtype);
  // "epochs" last: it only matters (and is only stored) for the cosine schedule.
  for (const char* key : {"dtype", "optimizer", "schedule", "lr", "batch_size", "momentum", "weight_decay", "seed",
                          "epochs"}) {
    json stored = progress["config"].value(key, json());
    if (stored != expected[key])
      throw InputError(where + "the checkpoint was made with " + key + " = " + stored.dump() + ", this run has " +
                       expected[key].dump() + " (resume with the same settings)");
  }
  std::istringstream rng_text(progress["rng"].get<std::string>());
  rng_text >> rng;
  if (!rng_text) throw InputError(where + "the stored RNG state is malformed");
  std::vector<EpochReport> history;
  for (const auto& h : progress["history"]) history.push_back(from_json(h));
  return history;
}

/// One pass over the training set in shuffled mini-batches: for each batch,
/// the scheduled learning rate, loss = cross_entropy(model(x), y), backward,
/// one optimizer step. Fills the report's loss, train accuracy and time.
template <class T>
EpochReport train_one_epoch(Sequential<T>& model, const Dataset<T>& train, const TrainConfig& config,
                            Optimizer<T>& optimizer, std::mt19937_64& rng, std::size_t epoch,
                            std::uint64_t total_steps) {
  const std::size_t n = train.size();
  auto batches = shuffled_batches(n, config.batch_size, rng);
  for (const auto& l : model.layers())
    if (auto* d = dynamic_cast<Dropout<T>*>(l.get())) d->reseed(rng());

  model.train();
  auto start = std::chrono::steady_clock::now();
  double loss_sum = 0;
  std::size_t correct = 0;
  for (std::size_t b = 0; b < batches.size(); ++b) {
    const auto& index = batches[b];
    optimizer.set_lr(scheduled_lr(config, optimizer.steps(), total_steps));
    std::vector<std::size_t> labels;
    for (auto i : index) labels.push_back(train.labels[i]);
    optimizer.zero_grad();
    Var<T> logits = model.forward(Var<T>(gather_examples(train.inputs, index)));
    Var<T> loss = cross_entropy(logits, labels);
    const double batch_loss = static_cast<double>(loss.item());
    if (!std::isfinite(batch_loss))
      throw std::runtime_error("training diverged: the loss is " + std::to_string(batch_loss) + " in epoch " +
                               std::to_string(epoch + 1) + ", batch " + std::to_string(b + 1) +
                               " (try a smaller learning rate)");
    backward(loss);
    optimizer.step();
    loss_sum += batch_loss * static_cast<double>(index.size());
    auto predicted = argmax_rows(logits.value());
    for (std::size_t i = 0; i < index.size(); ++i) correct += predicted[i] == labels[i];
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  optimizer.zero_grad();
  model.eval();

  EpochReport report;
  report.epoch = epoch + 1;
  report.loss = loss_sum / static_cast<double>(n);
  report.train_accuracy = static_cast<double>(correct) / static_cast<double>(n);
  report.seconds = seconds;
  report.images_per_second = seconds > 0 ? static_cast<double>(n) / seconds : 0;
  return report;
}

/// The checkpoint after an epoch: weights, optimizer state, and the progress
/// (RNG state, settings, history) that resume_training reads back.
template <class T>
void save_progress(const TrainConfig& config, const char* dtype, Sequential<T>& model, Optimizer<T>& optimizer,
                   const std::mt19937_64& rng, const std::vector<EpochReport>& history) {
  std::ostringstream rng_text;
  rng_text << rng;
  json hist = json::array();
  for (const auto& h : history) hist.push_back(to_json(h));
  json progress{{"epoch", history.size()}, {"rng", rng_text.str()},
                {"config", config_fingerprint(config, dtype)}, {"history", hist}};
  save_checkpoint(config.checkpoint, model, optimizer, progress.dump());
}

}  // namespace

template <class T>
std::vector<EpochReport> train_model(Sequential<T>& model, const Dataset<T>& train, const Dataset<T>& test,
                                     const TrainConfig& config, const std::function<void(const EpochReport&)>& on_epoch) {
  validate_train_config(config);
  Shape out = model.output_shape();
  if (out.size() != 1) throw ShapeError("train_model: the model must output one logit vector per example, got " + shape_str(out));
  validate_dataset(train, "training data", out[0]);
  validate_dataset(test, "test data", out[0]);

  const char* dtype = std::is_same_v<T, float> ? "float32" : "float64";
  std::unique_ptr<Optimizer<T>> optimizer = make_optimizer(config, model.named_parameters());
  std::mt19937_64 rng(config.seed ^ kLoopStream);
  std::vector<EpochReport> history;
  if (config.resume) history = resume_training(config, dtype, model, *optimizer, rng);

  const std::uint64_t steps_per_epoch = (train.size() + config.batch_size - 1) / config.batch_size;
  const std::uint64_t total_steps = steps_per_epoch * config.epochs;
  for (std::size_t epoch = history.size(); epoch < config.epochs; ++epoch) {
    EpochReport report = train_one_epoch(model, train, config, *optimizer, rng, epoch, total_steps);
    const Evaluation on_test = evaluate(model, test);
    report.test_accuracy = on_test.accuracy;
    report.test_loss = on_test.loss;
    history.push_back(report);
    if (!config.checkpoint.empty()) save_progress(config, dtype, model, *optimizer, rng, history);
    if (on_epoch) on_epoch(report);
  }
  model.eval();
  return history;
}

template std::unique_ptr<Optimizer<float>> make_optimizer(const TrainConfig&, std::vector<NamedParameter<float>>);
template std::unique_ptr<Optimizer<double>> make_optimizer(const TrainConfig&, std::vector<NamedParameter<double>>);
template std::vector<EpochReport> train_model(Sequential<float>&, const Dataset<float>&, const Dataset<float>&,
                                              const TrainConfig&, const std::function<void(const EpochReport&)>&);
template std::vector<EpochReport> train_model(Sequential<double>&, const Dataset<double>&, const Dataset<double>&,
                                              const TrainConfig&, const std::function<void(const EpochReport&)>&);

}  // namespace fluxion
