// Evaluating a classifier on a dataset, in batches, without building a graph:
//
//   accuracy = (1/N) Σ_n 1[argmax_c z_n,c = y_n]      (ties: the first maximum)
//   loss     = cross-entropy (1/N) Σ_n (logsumexp(z_n) − z_n[y_n])
//
// The model is switched to eval mode for the evaluation and back afterwards.
#pragma once

#include "nn/modules/sequential.hpp"
#include "nn/training/dataset.hpp"

namespace fluxion {

struct Evaluation {
  double loss = 0;
  double accuracy = 0;  // in [0, 1]
};

/// Outputs [N, ...] of any model function (a Graph's, a Sequential's) on the
/// whole input set, `batch_size` examples at a time, without recording a graph.
template <class T>
Tensor<T> predict_logits(const Function<T>& model, const Tensor<T>& inputs, std::size_t batch_size = 500);

/// Logits [N, classes] of the whole input set, `batch_size` examples at a time (in eval mode).
template <class T>
Tensor<T> predict_logits(Sequential<T>& model, const Tensor<T>& inputs, std::size_t batch_size = 500);

/// Index of the largest entry of each row of [N, C] logits (first on ties).
template <class T>
std::vector<std::size_t> argmax_rows(const Tensor<T>& logits);

template <class T>
Evaluation evaluate(Sequential<T>& model, const Dataset<T>& data, std::size_t batch_size = 500);

}  // namespace fluxion
