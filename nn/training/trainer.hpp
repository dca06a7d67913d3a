// The training loop: mini-batch gradient descent on the cross-entropy.
//
//   for epoch e = 1 … E:
//     draw a shuffled batch order and fresh dropout seeds from the run's RNG
//     for each batch B:   η_t = schedule(t)
//                         L = (1/|B|) Σ_{n∈B} CE(f_θ(x_n), y_n);   θ ← optimizer(θ, ∇_θ L, η_t)
//     evaluate on the test set; write a checkpoint (atomically)
//
// Schedules: "constant" η_t = η;  "cosine" η_t = η · ½ (1 + cos(π t / T)) over
// the T steps of the whole run (Loshchilov & Hutter 2017, SGDR, without restarts).
//
// Reproducibility: the model is initialised from `seed` by the caller; the
// loop's own std::mt19937_64 (seeded from `seed`) decides batch orders and
// dropout masks. A checkpoint stores parameters, optimizer state, the RNG
// state and the history, so `resume` continues with results IDENTICAL to an
// uninterrupted run (tests/nn/test_training.cpp checks it bit for bit) — on
// the same build with the same number of OpenMP threads, since a parallel
// GEMM's summation order depends on the thread count. A resumed run must use
// the same settings; with the cosine schedule that includes `epochs` (the
// schedule spans the whole run), with a constant one `epochs` may grow.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "nn/modules/sequential.hpp"
#include "nn/training/dataset.hpp"
#include "nn/training/optimizer.hpp"

namespace fluxion {

struct TrainConfig {
  std::size_t epochs = 10;
  std::size_t batch_size = 128;
  double lr = 1e-3;
  std::string optimizer = "adam";  // "adam" | "sgd"
  double momentum = 0.9;           // sgd only
  double weight_decay = 0.0;
  std::string schedule = "constant";  // "constant" | "cosine"
  std::uint64_t seed = 0;
  std::filesystem::path checkpoint;  // empty: no checkpoints
  bool resume = false;               // continue from `checkpoint`
};

struct EpochReport {
  std::size_t epoch = 0;          // 1-based
  double loss = 0;                // mean training cross-entropy over the epoch's batches
  double train_accuracy = 0;      // fraction of training examples classified right during the epoch
  double test_accuracy = 0;       // after the epoch, eval mode
  double test_loss = 0;
  double images_per_second = 0;   // training throughput (forward + backward + update)
  double seconds = 0;             // wall time of the epoch's training part
};

/// Throws std::invalid_argument naming the first bad field.
void validate_train_config(const TrainConfig& config);

/// The optimizer named by `config` over `parameters`.
template <class T>
std::unique_ptr<Optimizer<T>> make_optimizer(const TrainConfig& config, std::vector<NamedParameter<T>> parameters);

/// Trains `model` in place; returns the history of all epochs (including
/// those restored from a checkpoint). `on_epoch` is called after each new
/// epoch. The model is left in eval mode.
template <class T>
std::vector<EpochReport> train_model(Sequential<T>& model, const Dataset<T>& train, const Dataset<T>& test,
                                     const TrainConfig& config,
                                     const std::function<void(const EpochReport&)>& on_epoch = {});

}  // namespace fluxion
