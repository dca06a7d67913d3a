#include "nn/models/smoothing_report.hpp"

#include <cmath>
#include <cstdio>

#include "nn/models/smoothing.hpp"
#include "nn/training/evaluate.hpp"

namespace fluxion {

template <class T>
SmoothingReport smoothing_report(const Sequential<T>& model, const Dataset<T>& data, const std::vector<double>& betas,
                                 std::size_t batch_size) {
  Sequential<T> relu_model = model;  // shares the layers
  Tensor<T> reference = predict_logits(relu_model, data.inputs, batch_size);
  SmoothingReport report;
  std::size_t correct = 0;
  auto predicted = argmax_rows(reference);
  for (std::size_t n = 0; n < data.size(); ++n) correct += predicted[n] == data.labels[n];
  report.relu_accuracy = static_cast<double>(correct) / static_cast<double>(data.size());
  for (double beta : betas) {
    Sequential<T> smoothed = smooth(model, static_cast<T>(beta));
    Tensor<T> logits = predict_logits(smoothed, data.inputs, batch_size);
    SmoothingRow row;
    row.beta = beta;
    double total = 0;
    for (std::size_t i = 0; i < logits.size(); ++i) {
      double d = std::abs(static_cast<double>(logits.data()[i]) - static_cast<double>(reference.data()[i]));
      row.max_logit_deviation = std::max(row.max_logit_deviation, d);
      total += d;
    }
    row.mean_logit_deviation = total / static_cast<double>(logits.size());
    std::size_t right = 0;
    auto pred = argmax_rows(logits);
    for (std::size_t n = 0; n < data.size(); ++n) right += pred[n] == data.labels[n];
    row.accuracy = static_cast<double>(right) / static_cast<double>(data.size());
    report.rows.push_back(row);
  }
  return report;
}

std::string smoothing_report_markdown(const SmoothingReport& report) {
  std::string out = "| beta | accuracy % | change (points) | max abs logit deviation | mean abs logit deviation |\n"
                    "|---:|---:|---:|---:|---:|\n";
  char line[256];
  std::snprintf(line, sizeof line, "| ReLU | %.2f | 0.00 | 0 | 0 |\n", 100 * report.relu_accuracy);
  out += line;
  for (const auto& r : report.rows) {
    std::snprintf(line, sizeof line, "| %g | %.2f | %+.2f | %.4g | %.4g |\n", r.beta, 100 * r.accuracy,
                  100 * (r.accuracy - report.relu_accuracy), r.max_logit_deviation, r.mean_logit_deviation);
    out += line;
  }
  return out;
}

template SmoothingReport smoothing_report(const Sequential<float>&, const Dataset<float>&, const std::vector<double>&,
                                          std::size_t);
template SmoothingReport smoothing_report(const Sequential<double>&, const Dataset<double>&,
                                          const std::vector<double>&, std::size_t);

}  // namespace fluxion
