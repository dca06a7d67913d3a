// What the architecture and model-file harnesses do with a model they built:
// its parameters must be exactly the ones described_parameters promised, its
// description must rebuild the same architecture, and -- when that is cheap
// -- a forward pass on zeros must give the promised output shape.
#pragma once

#include <algorithm>
#include <map>
#include <memory>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "nn/models/architecture.hpp"
#include "nn/modules/residual.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace fluxion::fuzz {

/// A forward pass is run only below this many multiply-adds (a rough upper
/// bound, see forward_cost): bigger models are valid but too slow to run
/// thousands of times per second.
constexpr std::uint64_t kForwardBudget = 20'000'000;

inline std::uint64_t saturating_mul(std::uint64_t a, std::uint64_t b) {
  std::uint64_t product;
  return __builtin_mul_overflow(a, b, &product) ? UINT64_MAX : product;
}

inline std::uint64_t element_count(const Shape& shape) {
  std::uint64_t count = 1;
  for (std::size_t extent : shape) count = saturating_mul(count, extent);
  return count;
}

/// Upper bound on the work of one forward pass of one example through
/// `layers` from `shape`: per layer, its larger activation times (1 +
/// parameters + pool window); a residual block adds its two paths' costs.
template <class T>
std::uint64_t forward_cost(const std::vector<std::shared_ptr<Module<T>>>& layers, Shape shape) {
  std::uint64_t cost = 0;
  for (const auto& l : layers) {
    const Module<T>& layer = *l;
    const Shape next = layer.output_shape(shape);
    std::uint64_t per_element = 1;
    for (const auto& p : named_state(layer)) per_element += element_count(p.value.shape());
    const nlohmann::json description = layer.describe();
    if (description.contains("kernel") && layer.named_parameters().empty()) {
      const std::uint64_t k = description["kernel"].get<std::uint64_t>();
      per_element += saturating_mul(k, k);
    }
    if (const auto* block = dynamic_cast<const Residual<T>*>(&layer)) {
      cost = std::min<std::uint64_t>(UINT64_MAX - 1, cost + forward_cost(block->body().layers(), shape));
      cost = std::min<std::uint64_t>(UINT64_MAX - 1, cost + forward_cost(block->shortcut().layers(), shape));
    }
    const std::uint64_t activation = std::max(element_count(shape), element_count(next));
    cost = std::min<std::uint64_t>(UINT64_MAX - 1, cost + saturating_mul(activation, per_element));
    shape = next;
  }
  return cost;
}

template <class T>
std::uint64_t forward_cost(const Sequential<T>& model) {
  return forward_cost(model.layers(), model.input_shape());
}

template <class T>
void exercise_model(Sequential<T>& model, const std::vector<ParameterSpec>& described, const std::string& source) {
  // The parameters and buffers: as described (by name), every value touched.
  const auto params = named_state(model);
  if (params.size() != described.size()) fuzz::finding("the model's tensor count differs from the description");
  std::map<std::string, Shape> promised;
  for (const auto& d : described) promised[d.name] = d.shape;
  for (const auto& p : params) {
    auto it = promised.find(p.name);
    if (it == promised.end() || it->second != p.value.shape())
      fuzz::finding("tensor " + p.name + " differs from the description");
    double sum = 0;
    for (T v : p.value.value()) sum += static_cast<double>(v);
    (void)sum;
  }

  // The description round trip.
  const std::string description = describe_model(model);
  Sequential<T> rebuilt;
  if (!fuzz::accepts(source, [&] { rebuilt = build_model<T>(description, 1, source); }))
    fuzz::finding("build_model rejects describe_model's own output");
  if (describe_model(rebuilt) != description) fuzz::finding("the description round trip changed the model");

  // One forward pass on a zero example, if cheap.
  if (forward_cost(model) > kForwardBudget) return;
  Shape batch = model.input_shape();
  batch.insert(batch.begin(), 1);
  model.train(false);
  const Var<T> y = model.forward(Var<T>(Tensor<T>(xt::zeros<T>(batch))));
  Shape expected = model.output_shape();
  expected.insert(expected.begin(), 1);
  if (y.shape() != expected) fuzz::finding("the forward pass gave shape " + shape_str(y.shape()));
}

}  // namespace fluxion::fuzz
