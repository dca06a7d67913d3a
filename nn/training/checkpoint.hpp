// Training checkpoints: everything a run needs to continue bit-for-bit.
//
// One .safetensors file holding
//   tensors     the model's parameters under their state_dict names, and the
//               optimizer's state as "optimizer.<slot>.<parameter>" (stored in
//               the model's own precision, F32 or F64, so nothing is rounded);
//   metadata    "architecture"       the model description (architecture.hpp)
//               "optimizer"          {"name": ..., "steps": ...}
//               "progress"           the training loop's own JSON (epoch,
//                                    RNG state, configuration, history).
// It is written atomically, so a crash mid-write leaves the previous one.
#pragma once

#include <filesystem>
#include <string>

#include "nn/modules/sequential.hpp"
#include "nn/training/optimizer.hpp"

namespace fluxion {

template <class T>
void save_checkpoint(const std::filesystem::path& path, const Sequential<T>& model, const Optimizer<T>& optimizer,
                     const std::string& progress);

/// Restores model parameters and optimizer state from `path` (validating the
/// architecture, the optimizer kind, every tensor's name and shape before
/// changing anything) and returns the "progress" JSON.
template <class T>
std::string load_checkpoint(const std::filesystem::path& path, Sequential<T>& model, Optimizer<T>& optimizer);

}  // namespace fluxion
