// Test files for the CLI tests (see cli_fixtures.hpp).
#include "tests/cli/cli_fixtures.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <stdexcept>

#include "nn/models/architecture.hpp"
#include "nn/models/model_io.hpp"
#include "tests/cli/fluxion_process.hpp"

namespace fs = std::filesystem;

namespace fluxion::testing {

namespace {

std::string big_endian_u32(std::uint32_t v) {
  return {char(v >> 24), char(v >> 16 & 0xFF), char(v >> 8 & 0xFF), char(v & 0xFF)};
}

}  // namespace

std::string tiny_architecture() {
  return R"({"input_shape":[4],"layers":[{"type":"linear","in":4,"out":3},{"type":"softplus"},)"
         R"({"type":"linear","in":3,"out":2}]})";
}

void write_tiny_model(const fs::path& path, std::optional<double> first_weight) {
  Sequential<double> model = build_model<double>(tiny_architecture(), 7);
  if (first_weight) {
    for (auto& p : model.named_parameters()) {
      if (p.name != "0.weight") continue;
      Tensor<double> w = p.value.value();
      w.data()[0] = *first_weight;
      p.value.assign(w);
    }
  }
  save_model(path, model);
}

std::string npy_bytes(const std::string& header_dict, const std::string& data) {
  std::string dict = header_dict;
  while ((10 + dict.size() + 1) % 64 != 0) dict += ' ';
  dict += '\n';
  std::string out = "\x93NUMPY";
  out += char(1);
  out += char(0);
  out += char(dict.size() & 0xFF);
  out += char(dict.size() >> 8);
  return out + dict + data;
}

std::string f64_bytes(const std::vector<double>& values) {
  std::string out(values.size() * sizeof(double), '\0');
  std::memcpy(out.data(), values.data(), out.size());
  return out;
}

std::string safetensors_bytes(const std::string& header_json, const std::string& buffer) {
  std::string out;
  const std::uint64_t n = header_json.size();
  for (int i = 0; i < 8; ++i) out += char(n >> (8 * i) & 0xFF);
  return out + header_json + buffer;
}

std::string idx_images_bytes(std::uint32_t count, std::uint32_t rows, std::uint32_t cols, const std::string& pixels) {
  return big_endian_u32(0x00000803) + big_endian_u32(count) + big_endian_u32(rows) + big_endian_u32(cols) + pixels;
}

std::string idx_labels_bytes(std::uint32_t count, const std::string& labels) {
  return big_endian_u32(0x00000801) + big_endian_u32(count) + labels;
}

void write_synthetic_mnist(const fs::path& dir, std::uint32_t train, std::uint32_t test, std::uint32_t side,
                           std::uint64_t seed) {
  fs::create_directories(dir);
  std::mt19937_64 rng(seed);
  auto make = [&](std::uint32_t count, const std::string& prefix) {
    std::string pixels, labels;
    for (std::uint32_t n = 0; n < count; ++n) {
      const std::uint32_t label = std::uint32_t(rng() % 10);
      labels += char(label);
      for (std::uint32_t i = 0; i < side * side; ++i) {
        const bool lit = (i * 10) / (side * side) == label;  // band `label` of ten
        pixels += char((lit ? 160 : 0) + rng() % 96);
      }
    }
    write_raw(dir / (prefix + "-images-idx3-ubyte"), idx_images_bytes(count, side, side, pixels));
    write_raw(dir / (prefix + "-labels-idx1-ubyte"), idx_labels_bytes(count, labels));
  };
  make(train, "train");
  make(test, "t10k");
}

std::string small_mlp_architecture(std::uint32_t side, std::uint32_t hidden) {
  const std::string in = std::to_string(side * side), h = std::to_string(hidden);
  return R"({"input_shape":[1,)" + std::to_string(side) + "," + std::to_string(side) +
         R"(],"layers":[{"type":"flatten"},{"type":"linear","in":)" + in + R"(,"out":)" + h +
         R"(},{"type":"relu"},{"type":"linear","in":)" + h + R"(,"out":10}]})";
}

void write_model(const fs::path& path, const std::string& architecture,
                 const std::map<std::string, std::vector<double>>& parameters, std::uint64_t seed) {
  Sequential<double> model = build_model<double>(architecture, seed);
  std::size_t assigned = 0;
  for (auto& p : model.named_parameters()) {
    const auto it = parameters.find(p.name);
    if (it == parameters.end()) continue;
    Tensor<double> w = p.value.value();
    if (it->second.size() != w.size())
      throw std::invalid_argument("write_model: parameter " + p.name + " has " + std::to_string(w.size()) +
                                  " elements, got " + std::to_string(it->second.size()));
    std::copy(it->second.begin(), it->second.end(), w.data());
    p.value.assign(w);
    ++assigned;
  }
  if (assigned != parameters.size()) throw std::invalid_argument("write_model: a parameter name is not in the model");
  save_model(path, model);
}

std::string linear_image_architecture() {
  return R"({"input_shape":[2,3],"layers":[{"type":"flatten"},{"type":"linear","in":6,"out":3}]})";
}

std::string relu_architecture() {
  return R"({"input_shape":[3],"layers":[{"type":"linear","in":3,"out":3},{"type":"relu"},)"
         R"({"type":"linear","in":3,"out":2}]})";
}

std::string product_architecture() {
  return R"({"input_shape":[2],"layers":[{"type":"linear","in":2,"out":4},{"type":"softplus"},)"
         R"({"type":"linear","in":4,"out":1}]})";
}

double product_scale() { return std::ldexp(1.0, -12); }

std::map<std::string, std::vector<double>> product_parameters() {
  const double a = product_scale();
  // hidden units a(x₀+x₁), −a(x₀+x₁), a(x₀−x₁), −a(x₀−x₁); output (1/a²)(h₀ + h₁ − h₂ − h₃)
  return {{"0.weight", {a, a, -a, -a, a, -a, -a, a}},
          {"0.bias", {0, 0, 0, 0}},
          {"2.weight", {1 / (a * a), 1 / (a * a), -1 / (a * a), -1 / (a * a)}},
          {"2.bias", {0}}};
}

}  // namespace fluxion::testing
