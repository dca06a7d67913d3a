// A labelled dataset held in memory: inputs [N, ...] (one example per row of
// the first axis, e.g. MNIST as [N, 1, 28, 28] NCHW) and N class labels.
//
// validate_dataset rejects what would silently poison training: NaN or ±inf
// in the inputs, labels outside [0, classes), a label count that does not
// match the inputs. The error names the dataset and the first bad example.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "autodiff/tensor.hpp"

namespace fluxion {

template <class T>
struct Dataset {
  Tensor<T> inputs;                 // [N, ...]
  std::vector<std::size_t> labels;  // N entries
  std::size_t size() const { return labels.size(); }
};

/// MNIST split "train" or "test" from `dir` as [N, 1, 28, 28] in [0, 1].
template <class T>
Dataset<T> load_mnist_dataset(const std::filesystem::path& dir, const std::string& split);

/// Throws InputError("<name>: <problem>") for NaN/inf inputs, labels >= classes
/// or a size mismatch.
template <class T>
void validate_dataset(const Dataset<T>& data, const std::string& name, std::size_t classes);

/// The examples at `index`, stacked: [index.size(), ...].
template <class T>
Tensor<T> gather_examples(const Tensor<T>& inputs, const std::vector<std::size_t>& index);

/// The first `count` examples (count clipped to the size).
template <class T>
Dataset<T> head_of(const Dataset<T>& data, std::size_t count);

}  // namespace fluxion
