// How far a SoftPlus(β)-smoothed copy of a ReLU classifier is from the
// original (see smoothing.hpp), on a labelled dataset:
//
//   accuracy_β              test accuracy of smooth(model, β)
//   max_logit_deviation_β   max_{n,c} |z_β(x_n)_c − z(x_n)_c|
//   mean_logit_deviation_β  mean_{n,c} |z_β(x_n)_c − z(x_n)_c|
//
// Each softplus_β exceeds relu by at most ln2/β, so the deviation shrinks
// roughly like 1/β; the experiments and `fluxion train` print this table.
#pragma once

#include <string>
#include <vector>

#include "nn/modules/sequential.hpp"
#include "nn/training/dataset.hpp"

namespace fluxion {

struct SmoothingRow {
  double beta = 0;
  double accuracy = 0;                // in [0, 1]
  double max_logit_deviation = 0;
  double mean_logit_deviation = 0;
};

struct SmoothingReport {
  double relu_accuracy = 0;  // the unsmoothed model
  std::vector<SmoothingRow> rows;
};

/// Evaluates smooth(model, β) for each β on `data`.
template <class T>
SmoothingReport smoothing_report(const Sequential<T>& model, const Dataset<T>& data, const std::vector<double>& betas,
                                 std::size_t batch_size = 500);

/// A Markdown table: | β | accuracy % | Δ accuracy (points) | max |Δlogit| | mean |Δlogit| |
std::string smoothing_report_markdown(const SmoothingReport& report);

}  // namespace fluxion
