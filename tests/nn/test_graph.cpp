// Graph<T>: a Sequential's graph is the Sequential (bit for bit), a residual
// graph's gradient and HVP agree with finite differences in double, the
// representation split recomposes the model and refuses a bypassed layer,
// shape arithmetic folds exactly, and bad structure is one sentence.
#include <doctest/doctest.h>

#include <cmath>

#include "tests/nn/graph_builders.hpp"
#include "autodiff/autodiff.hpp"
#include "nn/graph/graph.hpp"
#include "nn/graph/integer_ops.hpp"
#include "nn/graph/sequential_graph.hpp"
#include "nn/models/architecture.hpp"
#include "nn/models/smoothing.hpp"
#include "tests/autodiff/check_derivatives.hpp"

using namespace fluxion;
using fluxion::testing::random_tensor;

namespace {

using fluxion::testing::node;
GraphAttribute ints(std::vector<std::int64_t> v) { return fluxion::testing::ints_attribute(std::move(v)); }
GraphAttribute integer(std::int64_t v) { return fluxion::testing::int_attribute(v); }

GraphValue<double> constant(const Tensor<double>& t) { return GraphValue<double>::of(Var<double>(t)); }

double max_abs_diff(const Tensor<double>& a, const Tensor<double>& b) {
  REQUIRE(a.shape() == b.shape());
  double m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(a.data()[i] - b.data()[i]));
  return m;
}

/// f(x) = W2 (tanh(W1 x + b1) + x) + b2: a residual block and a logit layer, d = 4, 3 classes.
Graph<double> residual_graph() {
  std::map<std::string, GraphValue<double>> c;
  c.emplace("W1", constant(random_tensor({4, 4}, 1)));
  c.emplace("b1", constant(random_tensor({4}, 2)));
  c.emplace("W2", constant(random_tensor({3, 4}, 3)));
  c.emplace("b2", constant(random_tensor({3}, 4)));
  std::vector<GraphNode> nodes = {
      node("Gemm", {"x", "W1", "b1"}, {"h1"}, {{"transB", integer(1)}}),
      node("Tanh", {"h1"}, {"a1"}),
      node("Add", {"a1", "x"}, {"r"}),
      node("Gemm", {"r", "W2", "b2"}, {"logits"}, {{"transB", integer(1)}}),
  };
  return Graph<double>("residual", "x", {4}, "logits", nodes, c, GraphEvaluation{});
}

/// The closed form of residual_graph(), written with plain loops.
Tensor<double> residual_closed_form(const Graph<double>& g, const Tensor<double>& x) {
  const auto& c = g.constants();
  const Tensor<double>& W1 = c.at("W1").real.value();
  const Tensor<double>& b1 = c.at("b1").real.value();
  const Tensor<double>& W2 = c.at("W2").real.value();
  const Tensor<double>& b2 = c.at("b2").real.value();
  const std::size_t n = x.shape()[0];
  Tensor<double> y = Tensor<double>::from_shape({n, 3});
  for (std::size_t e = 0; e < n; ++e) {
    double r[4];
    for (std::size_t i = 0; i < 4; ++i) {
      double h = b1(i);
      for (std::size_t j = 0; j < 4; ++j) h += W1(i, j) * x(e, j);
      r[i] = std::tanh(h) + x(e, i);
    }
    for (std::size_t k = 0; k < 3; ++k) {
      double s = b2(k);
      for (std::size_t i = 0; i < 4; ++i) s += W2(k, i) * r[i];
      y(e, k) = s;
    }
  }
  return y;
}

}  // namespace

TEST_CASE("graph: a Sequential's graph computes its outputs bit for bit (mlp, cnn, smoothed)") {
  for (const char* preset : {"mlp", "cnn"}) {
    CAPTURE(preset);
    Sequential<double> seq = build_model<double>(preset, 7);
    Graph<double> g = to_graph(seq);
    CHECK(g.input_shape() == seq.input_shape());
    CHECK(g.output_shape() == seq.output_shape());
    const Tensor<double> x = random_tensor({3, 1, 28, 28}, 11, 0.0, 1.0);
    CHECK(max_abs_diff(g.forward(Var<double>(x)).value(), seq.forward(Var<double>(x)).value()) == 0.0);
    // smoothing: Relu nodes as SoftPlus(β) = smooth(sequential, β)
    Sequential<double> smooth_seq = smooth(seq, 10.0);
    CHECK(max_abs_diff(g.with_relu_as_softplus(10.0).forward(Var<double>(x)).value(),
                       smooth_seq.forward(Var<double>(x)).value()) == 0.0);
    // gradients of u · f through both (the same kernels in the same order)
    const Tensor<double> u = random_tensor({3, 10}, 12);
    auto scalar_of = [&](Function<double> f) {
      return Function<double>([f, u](const Var<double>& v) { return sum(mul(f(v), Var<double>(u))); });
    };
    CHECK(max_abs_diff(grad(scalar_of(as_function(g)), x), grad(scalar_of(as_function(seq)), x)) == 0.0);
    // the default representation is the input of the last Linear (Gemm) layer
    auto split = g.split_at(g.default_representation());
    auto seq_split = split_at_last_linear(seq);
    CHECK(max_abs_diff(split.features(Var<double>(x)).value(), seq_split.features.forward(Var<double>(x)).value()) == 0.0);
    CHECK(split.representation_shape == seq_split.features.output_shape());
  }
}

TEST_CASE("graph: a residual block agrees with its closed form, finite differences and the HVP identity") {
  const Graph<double> g = residual_graph();
  const Tensor<double> x = random_tensor({2, 4}, 21);
  CHECK(max_abs_diff(g.forward(Var<double>(x)).value(), residual_closed_form(g, x)) <= 1e-15);
  const Tensor<double> u = random_tensor({2, 3}, 22);
  Function<double> f = [g, u](const Var<double>& v) { return sum(mul(g.forward(v), Var<double>(u))); };
  auto closed = [&](const Tensor<double>& xx) {
    const Tensor<double> y = residual_closed_form(g, xx);
    double s = 0;
    for (std::size_t i = 0; i < y.size(); ++i) s += y.data()[i] * u.data()[i];
    return s;
  };
  // gradient vs central differences of the closed form (h = 1e-5: truncation and rounding ≈ 1e-11)
  const Tensor<double> gr = grad(f, x);
  const double h = 1e-5;
  for (std::size_t i = 0; i < x.size(); ++i) {
    Tensor<double> xp = x, xm = x;
    xp.data()[i] += h;
    xm.data()[i] -= h;
    const double fd = (closed(xp) - closed(xm)) / (2 * h);
    CHECK(std::abs(gr.data()[i] - fd) <= 1e-9 * (1 + std::abs(fd)));
  }
  // HVP (forward over reverse) vs central differences of the gradient
  const Tensor<double> v = random_tensor({2, 4}, 23);
  const Tensor<double> hv = hvp(f, x, v);
  Tensor<double> xp = x + h * v, xm = x - h * v;
  const Tensor<double> fd = (grad(f, Tensor<double>(xp)) - grad(f, Tensor<double>(xm))) / (2 * h);
  for (std::size_t i = 0; i < hv.size(); ++i) CHECK(std::abs(hv.data()[i] - fd.data()[i]) <= 1e-9 * (1 + std::abs(fd.data()[i])));
}

TEST_CASE("graph: the representation split recomposes the model and refuses a bypassed value") {
  const Graph<double> g = residual_graph();
  CHECK(g.default_representation() == "r");
  const auto split = g.split_at("r");
  const Tensor<double> x = random_tensor({3, 4}, 31);
  CHECK(max_abs_diff(split.head(split.features(Var<double>(x))).value(), g.forward(Var<double>(x)).value()) == 0.0);
  CHECK(split.representation_shape == Shape{4});
  // a1 does not separate x from the output: the residual Add reads x itself
  CHECK_THROWS_WITH_AS(g.split_at("a1"), doctest::Contains("other than through 'a1'"), InputError);
  CHECK_THROWS_WITH_AS(g.split_at("nope"), doctest::Contains("no value of the graph is named 'nope'"), InputError);
}

TEST_CASE("graph: shape arithmetic (Shape, Gather, Unsqueeze, Concat, Reshape) folds exactly, for any batch") {
  // y = reshape(x, [shape(x)[0], -1]): what torch.onnx.export writes for x.view(x.size(0), -1)
  std::map<std::string, GraphValue<double>> c;
  c.emplace("zero", GraphValue<double>::of(IntTensor{{}, {0}}));
  c.emplace("minus_one", GraphValue<double>::of(IntTensor{{1}, {-1}}));
  std::vector<GraphNode> nodes = {
      node("Shape", {"x"}, {"s"}),
      node("Gather", {"s", "zero"}, {"n"}, {{"axis", integer(0)}}),
      node("Unsqueeze", {"n"}, {"n1"}, {{"axes", ints({0})}}),
      node("Concat", {"n1", "minus_one"}, {"target"}, {{"axis", integer(0)}}),
      node("Reshape", {"x", "target"}, {"y"}),
  };
  GraphEvaluation eval;
  eval.opset = 11;  // Unsqueeze reads axes from its attribute before opset 13
  const Graph<double> g("flatten", "x", {2, 3}, "y", nodes, c, eval);
  CHECK(g.output_shape() == Shape{6});
  const Tensor<double> x = random_tensor({5, 2, 3}, 41);
  const Tensor<double> y = g.forward(Var<double>(x)).value();
  REQUIRE(shape_of(y) == Shape{5, 6});
  for (std::size_t i = 0; i < x.size(); ++i) CHECK(y.data()[i] == x.data()[i]);
}

TEST_CASE("graph: a graph that fixes its batch to 1 with a batch-dependent Reshape is evaluated example by example") {
  // y = reshape(x, [1, -1]) · 2: correct only one example at a time
  std::map<std::string, GraphValue<double>> c;
  c.emplace("target", GraphValue<double>::of(IntTensor{{2}, {1, -1}}));
  c.emplace("two", constant(filled<double>({}, 2.0)));
  std::vector<GraphNode> nodes = {node("Reshape", {"x", "target"}, {"flat"}), node("Mul", {"flat", "two"}, {"y"})};
  const Graph<double> g("fixed", "x", {2, 2}, "y", nodes, c, GraphEvaluation{}, 1);
  CHECK(g.fixed_batch() == 1);  // the batch-of-two trial did not give the rows of two single examples
  const Tensor<double> x = random_tensor({3, 2, 2}, 51);
  const Tensor<double> y = g.forward(Var<double>(x)).value();
  REQUIRE(shape_of(y) == Shape{3, 4});
  for (std::size_t i = 0; i < x.size(); ++i) CHECK(y.data()[i] == 2 * x.data()[i]);
  // the same graph written batch-agnostically (Flatten) evaluates whole batches
  std::vector<GraphNode> flat_nodes = {node("Flatten", {"x"}, {"flat"}), node("Mul", {"flat", "two"}, {"y"})};
  const Graph<double> f("fixed", "x", {2, 2}, "y", flat_nodes, c, GraphEvaluation{}, 1);
  CHECK(f.fixed_batch() == 0);
}

TEST_CASE("graph: bad structure is one sentence naming the node") {
  std::map<std::string, GraphValue<double>> none;
  CHECK_THROWS_WITH_AS(Graph<double>("m.onnx", "x", {2}, "y", {node("Relu", {"z"}, {"y"})}, none, GraphEvaluation{}),
                       doctest::Contains("m.onnx: node 'Relu_y' (Relu) reads value 'z'"), InputError);
  CHECK_THROWS_WITH_AS(Graph<double>("m.onnx", "x", {2}, "y", {node("Relu", {"x"}, {"y"}), node("Tanh", {"x"}, {"y"})},
                                     none, GraphEvaluation{}),
                       doctest::Contains("writes value 'y' a second time"), InputError);
  CHECK_THROWS_WITH_AS(Graph<double>("m.onnx", "x", {2}, "y", {node("LSTM", {"x"}, {"y"})}, none, GraphEvaluation{}),
                       doctest::Contains("op 'LSTM' is not supported (opset 17)"), InputError);
  CHECK_THROWS_WITH_AS(Graph<double>("m.onnx", "x", {2}, "out", {node("Relu", {"x"}, {"y"})}, none, GraphEvaluation{}),
                       doctest::Contains("no node computes the graph output 'out'"), InputError);
  // a kernel's shape error is reported with the node that raised it
  std::map<std::string, GraphValue<double>> w;
  w.emplace("W", constant(random_tensor({3, 5}, 61)));
  CHECK_THROWS_WITH_AS(Graph<double>("m.onnx", "x", {4}, "y", {node("Gemm", {"x", "W"}, {"y"}, {{"transB", integer(1)}})}, w,
                                     GraphEvaluation{}),
                       doctest::Contains("m.onnx: node 'Gemm_y' (Gemm)"), InputError);
}

TEST_CASE("graph: shape arithmetic that overflows int64 is one sentence, not undefined behaviour") {
  std::map<std::string, GraphValue<double>> c;
  c.emplace("big", GraphValue<double>::of(IntTensor{{1}, {INT64_MAX}}));
  c.emplace("one", GraphValue<double>::of(IntTensor{{1}, {1}}));
  std::vector<GraphNode> nodes = {node("Add", {"big", "one"}, {"s"}), node("Reshape", {"x", "s"}, {"y"})};
  CHECK_THROWS_WITH_AS(Graph<double>("m.onnx", "x", {2}, "y", nodes, c, GraphEvaluation{}),
                       doctest::Contains("m.onnx: node 'Add_s' (Add): the integer result overflows int64"), InputError);
  // a slice with extreme indices and steps is clamped, as ONNX says, without overflow
  IntTensor t{{5}, {10, 11, 12, 13, 14}};
  CHECK(integer_slice(t, {INT64_MIN}, {INT64_MAX}, {0}, {INT64_MAX}).data == std::vector<std::int64_t>{10});
  CHECK(integer_slice(t, {INT64_MAX}, {INT64_MIN}, {0}, {-2}).data == std::vector<std::int64_t>{14, 12, 10});
}
