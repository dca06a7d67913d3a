// Shared plumbing of the MNIST experiments (see common.hpp).
#include "experiments/reproduce/common.hpp"

#include <random>
#include <sstream>

#include "nn/models/convert.hpp"
#include "nn/models/model_io.hpp"
#include "nn/models/smoothing.hpp"
#include "nn/training/batching.hpp"

namespace fluxion::experiments {

namespace {

Dataset<double> to_double(const Dataset<float>& d) {
  Dataset<double> r;
  r.inputs = xt::cast<double>(d.inputs);
  r.labels = d.labels;
  return r;
}

Dataset<double> seeded_subset(const Dataset<float>& all, std::size_t count, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  auto order = shuffled_indices(all.size(), rng);
  order.resize(std::min(count, order.size()));
  Dataset<float> pick;
  pick.inputs = gather_examples(all.inputs, order);
  for (auto i : order) pick.labels.push_back(all.labels[i]);
  return to_double(pick);
}

}  // namespace

Dataset<float> synthetic_digits(std::size_t count, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> noise(0.0f, 0.1f);
  Dataset<float> d;
  d.inputs = Tensor<float>::from_shape({count, 1, 28, 28});
  for (std::size_t n = 0; n < count; ++n) {
    const std::size_t c = rng() % 10;
    d.labels.push_back(c);
    const std::size_t top = 4 + (c / 5) * 12, left = 2 + (c % 5) * 5;
    for (std::size_t r = 0; r < 28; ++r) {
      for (std::size_t q = 0; q < 28; ++q) {
        const bool on = r >= top && r < top + 4 && q >= left && q < left + 4;
        d.inputs(n, 0, r, q) = on ? 0.9f + noise(rng) : noise(rng);
      }
    }
  }
  return d;
}

Dataset<double> evaluation_images(const Context& ctx, std::size_t count, std::uint64_t salt) {
  if (ctx.scale == Scale::smoke) return seeded_subset(synthetic_digits(200, 7 + ctx.seed), count, ctx.seed + salt);
  return seeded_subset(load_mnist_dataset<float>(ctx.data_dir, "test"), count, ctx.seed * 1000 + salt);
}

Dataset<double> reference_images(const Context& ctx, std::size_t count, std::uint64_t salt) {
  if (ctx.scale == Scale::smoke) return seeded_subset(synthetic_digits(200, 11 + ctx.seed), count, ctx.seed + salt);
  return seeded_subset(load_mnist_dataset<float>(ctx.data_dir, "train"), count, ctx.seed * 1000 + salt);
}

Sequential<double> load_preset(const Context& ctx, const std::string& preset) {
  return load_model<double>(preset == "mlp" ? ctx.mlp_model : preset == "cnn" ? ctx.cnn_model : ctx.resnet_model);
}

ExplainedOutput<double> explain_logits(const Sequential<double>& model, std::size_t batch_size) {
  ExplainedOutput<double> out;
  out.model = as_function(model);
  out.batch_size = batch_size;
  return out;
}

std::string key(const std::string& prefix, long long value) {
  std::ostringstream s;
  s << prefix << value;
  return s.str();
}

std::string pixel_label(std::size_t index) {
  std::ostringstream s;
  s << "(" << index / 28 << ", " << index % 28 << ")";
  return s.str();
}

std::string table_section(const std::filesystem::path& dir, const std::string& name, const Table& table) {
  write_text(dir / (name + ".csv"), table.csv());
  return table.markdown() + "\n(CSV: `" + dir.filename().string() + "/" + name + ".csv`)\n\n";
}

}  // namespace fluxion::experiments
