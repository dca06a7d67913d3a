// split_at_first_linear (nn/models/smoothing.hpp): model = head ∘ features
// with head starting at the FIRST Linear layer (IG2's representation at the
// cnn's 512 flattened conv features).
#include <doctest/doctest.h>

#include <random>

#include "autodiff/errors.hpp"
#include "nn/models/architecture.hpp"
#include "nn/models/smoothing.hpp"
#include "nn/modules/linear.hpp"

using namespace fluxion;

namespace {
Tensor<double> uniform_images(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  Tensor<double> t(Shape{n, 1, 28, 28});
  for (auto& v : t) v = u(rng);
  return t;
}
}  // namespace

TEST_CASE("split_at_first_linear: the cnn splits at its 512 flattened conv features") {
  Sequential<double> cnn = build_model<double>("cnn", 5);
  SplitSequential<double> parts = split_at_first_linear(cnn);
  // conv, relu, pool, conv, relu, pool, flatten | linear 512→128, relu, linear 128→10
  CHECK(parts.features.size() == 7);
  CHECK(parts.head.size() == 3);
  CHECK(parts.features.output_shape() == Shape{512});
  CHECK(parts.head.input_shape() == Shape{512});
  CHECK(dynamic_cast<const Linear<double>*>(parts.head.layers().front().get()) != nullptr);
  CHECK(parts.head.layers().front().get() == cnn.layers()[7].get());  // shared, not copied
  const Tensor<double> x = uniform_images(3, 11);
  const Tensor<double> direct = cnn.forward(Var<double>(x)).value();
  const Tensor<double> composed = parts.head.forward(parts.features.forward(Var<double>(x))).value();
  CHECK(direct == composed);  // the same operations in the same order: bit-identical
}

TEST_CASE("split_at_first_linear: a model starting with a Linear layer has the identity as features") {
  Sequential<double> mlp = build_model<double>(
      R"({"input_shape":[3],"layers":[{"type":"linear","in":3,"out":2},{"type":"relu"},{"type":"linear","in":2,"out":1}]})",
      2);
  SplitSequential<double> parts = split_at_first_linear(mlp);
  CHECK(parts.features.size() == 0);
  CHECK(parts.head.size() == 3);
  CHECK(parts.features.output_shape() == Shape{3});
  SplitSequential<double> last = split_at_last_linear(mlp);  // the sibling splits elsewhere
  CHECK(last.features.size() == 2);
  Sequential<double> no_linear = build_model<double>(R"({"input_shape":[3],"layers":[{"type":"relu"}]})", 0);
  CHECK_THROWS_AS(split_at_first_linear(no_linear), ShapeError);
}
