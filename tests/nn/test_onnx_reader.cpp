// The ONNX reader on models written here with ONNX's own protobuf classes:
// values against closed forms, load_graph choosing by content, and every
// kind of bad file refused with one sentence before anything large is
// allocated. (ONNX's backend node tests run in tests/onnx; PyTorch exports
// in tests/python/test_onnx_torch.py.)
#include <doctest/doctest.h>

#include <onnx/onnx_pb.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "autodiff/autodiff.hpp"
#include "autodiff/errors.hpp"
#include "nn/models/architecture.hpp"
#include "nn/models/load_graph.hpp"
#include "nn/models/model_io.hpp"
#include "nn/onnx/onnx_reader.hpp"
#include "tests/autodiff/check_derivatives.hpp"

using namespace fluxion;
using fluxion::testing::random_tensor;

namespace {

void add_input(onnx::GraphProto& g, const std::string& name, std::vector<std::int64_t> dims, int type = 1) {
  auto* v = g.add_input();
  v->set_name(name);
  auto* tt = v->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(type);
  for (std::int64_t d : dims) {
    auto* dim = tt->mutable_shape()->add_dim();
    if (d < 0)
      dim->set_dim_param("N");
    else
      dim->set_dim_value(d);
  }
}

void add_float_initializer(onnx::GraphProto& g, const std::string& name, const Tensor<double>& t) {
  auto* init = g.add_initializer();
  init->set_name(name);
  init->set_data_type(onnx::TensorProto::DOUBLE);
  for (std::size_t d : t.shape()) init->add_dims(std::int64_t(d));
  for (std::size_t i = 0; i < t.size(); ++i) init->add_double_data(t.data()[i]);
}

onnx::NodeProto* add_node(onnx::GraphProto& g, const std::string& op, std::vector<std::string> in, std::vector<std::string> out) {
  auto* n = g.add_node();
  n->set_op_type(op);
  n->set_name(op + "_0");
  for (auto& s : in) n->add_input(s);
  for (auto& s : out) n->add_output(s);
  return n;
}

void set_int(onnx::NodeProto* n, const std::string& name, std::int64_t v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(v);
}

onnx::ModelProto model_of(onnx::GraphProto g, int opset = 13) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  auto* op = m.add_opset_import();
  op->set_domain("");
  op->set_version(opset);
  g.add_output()->set_name(g.node(g.node_size() - 1).output(0));
  *m.mutable_graph() = std::move(g);
  return m;
}

/// logits = W · sigmoid(x) + b, as Gemm(Sigmoid(x), W, b, transB = 1); x [N, 3], 2 classes.
onnx::ModelProto small_mlp(const Tensor<double>& W, const Tensor<double>& b) {
  onnx::GraphProto g;
  add_input(g, "x", {-1, 3});
  add_float_initializer(g, "W", W);
  add_float_initializer(g, "b", b);
  add_node(g, "Sigmoid", {"x"}, {"s"});
  set_int(add_node(g, "Gemm", {"s", "W", "b"}, {"logits"}), "transB", 1);
  return model_of(g);
}

std::string bytes_of(const onnx::ModelProto& m) { return m.SerializeAsString(); }

std::filesystem::path temp_file(const std::string& name, const std::string& bytes) {
  const auto path = std::filesystem::temp_directory_path() / name;
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

}  // namespace

TEST_CASE("onnx reader: a Gemm/Sigmoid model gives the closed form W·σ(x) + b and its exact gradient") {
  const Tensor<double> W = random_tensor({2, 3}, 1), b = random_tensor({2}, 2);
  const Graph<double> g = onnx_graph<double>(parse_onnx(bytes_of(small_mlp(W, b)), "mlp.onnx"));
  CHECK(g.input_shape() == Shape{3});
  CHECK(g.output_shape() == Shape{2});
  CHECK(g.fixed_batch() == 0);
  const Tensor<double> x = random_tensor({4, 3}, 3);
  const Tensor<double> y = g.forward(Var<double>(x)).value();
  for (std::size_t n = 0; n < 4; ++n)
    for (std::size_t k = 0; k < 2; ++k) {
      double s = b(k);
      for (std::size_t j = 0; j < 3; ++j) s += W(k, j) / (1 + std::exp(-x(n, j)));
      CHECK(std::abs(y(n, k) - s) <= 1e-15);
    }
  // ∂ logit_0 / ∂x_j = W[0, j] σ'(x_j)
  Function<double> f0 = [g](const Var<double>& v) { return sum(select(g.forward(v), {0, 0, 0, 0})); };
  const Tensor<double> gr = grad(f0, x);
  for (std::size_t n = 0; n < 4; ++n)
    for (std::size_t j = 0; j < 3; ++j) {
      const double s = 1 / (1 + std::exp(-x(n, j)));
      CHECK(std::abs(gr(n, j) - W(0, j) * s * (1 - s)) <= 1e-15);
    }
}

TEST_CASE("onnx reader: load_graph tells safetensors from ONNX by content, not by name") {
  const Tensor<double> W = random_tensor({2, 3}, 1), b = random_tensor({2}, 2);
  const auto onnx_named_safetensors = temp_file("fluxion_test_really_onnx.safetensors", bytes_of(small_mlp(W, b)));
  CHECK(model_format(onnx_named_safetensors) == ModelFormat::onnx);
  CHECK(load_graph<double>(onnx_named_safetensors).output_shape() == Shape{2});
  const auto st = std::filesystem::temp_directory_path() / "fluxion_test_really_safetensors.onnx";
  save_model(st, build_model<double>("mlp", 3));
  CHECK(model_format(st) == ModelFormat::safetensors);
  CHECK(load_graph<double>(st).output_shape() == Shape{10});
  const auto junk = temp_file("fluxion_test_junk.onnx", "hello, world");
  CHECK_THROWS_WITH_AS(load_graph<double>(junk), doctest::Contains("neither a safetensors model nor an ONNX model"),
                       InputError);
  for (const auto& p : {onnx_named_safetensors, st, junk}) std::filesystem::remove(p);
}

TEST_CASE("onnx reader: bad files are one sentence naming the file, the node, the op and the opset") {
  const Tensor<double> W = random_tensor({2, 3}, 1), b = random_tensor({2}, 2);
  SUBCASE("not a model") {
    std::string bytes = bytes_of(small_mlp(W, b));
    CHECK_THROWS_WITH_AS(parse_onnx(bytes.substr(0, bytes.size() / 2), "cut.onnx"), doctest::Contains("cut.onnx: not an ONNX model"),
                         InputError);
  }
  SUBCASE("an unsupported op") {
    onnx::ModelProto m = small_mlp(W, b);
    m.mutable_graph()->mutable_node(0)->set_op_type("LSTM");
    CHECK_THROWS_WITH_AS(parse_onnx(bytes_of(m), "m.onnx"),
                         doctest::Contains("m.onnx: node 'Sigmoid_0' (LSTM): op 'LSTM' is not supported (opset 13)"),
                         InputError);
  }
  SUBCASE("an opset outside 6-17") {
    onnx::ModelProto m = small_mlp(W, b);
    m.mutable_opset_import(0)->set_version(18);
    CHECK_THROWS_WITH_AS(parse_onnx(bytes_of(m), "m.onnx"), doctest::Contains("opset 18 is outside the opsets Fluxion reads (6–17)"),
                         InputError);
  }
  SUBCASE("another domain") {
    onnx::ModelProto m = small_mlp(W, b);
    m.mutable_graph()->mutable_node(0)->set_domain("com.microsoft");
    CHECK_THROWS_WITH_AS(parse_onnx(bytes_of(m), "m.onnx"), doctest::Contains("op 'com.microsoft.Sigmoid' is not in the default ONNX domain"),
                         InputError);
  }
  SUBCASE("external data is refused") {
    onnx::ModelProto m = small_mlp(W, b);
    auto* t = m.mutable_graph()->mutable_initializer(0);
    t->clear_double_data();
    t->set_data_location(onnx::TensorProto::EXTERNAL);
    auto* e = t->add_external_data();
    e->set_key("location");
    e->set_value("../../etc/passwd");
    CHECK_THROWS_WITH_AS(parse_onnx(bytes_of(m), "m.onnx"), doctest::Contains("keeps its data in an external file"), InputError);
  }
  SUBCASE("an initializer whose bytes do not fit its shape") {
    onnx::ModelProto m = small_mlp(W, b);
    m.mutable_graph()->mutable_initializer(0)->add_double_data(1.0);
    CHECK_THROWS_WITH_AS(parse_onnx(bytes_of(m), "m.onnx"), doctest::Contains("tensor 'W' of shape [2, 3] holds 7 values instead of 6"),
                         InputError);
  }
  SUBCASE("a huge declared shape is refused before anything is allocated") {
    onnx::ModelProto m = small_mlp(W, b);
    auto* t = m.mutable_graph()->mutable_initializer(0);
    t->set_dims(0, std::int64_t(1) << 40);
    CHECK_THROWS_AS(parse_onnx(bytes_of(m), "m.onnx"), InputError);
  }
  SUBCASE("two inputs") {
    onnx::ModelProto m = small_mlp(W, b);
    add_input(*m.mutable_graph(), "y", {-1, 3});
    CHECK_THROWS_WITH_AS(onnx_graph<double>(parse_onnx(bytes_of(m), "m.onnx")),
                         doctest::Contains("the model has 2 inputs ('x', 'y'); Fluxion explains models of one input tensor"),
                         InputError);
  }
  SUBCASE("a dynamic example axis") {
    onnx::ModelProto m = small_mlp(W, b);
    auto* dim = m.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim(1);
    dim->set_dim_param("features");
    CHECK_THROWS_WITH_AS(onnx_graph<double>(parse_onnx(bytes_of(m), "m.onnx")), doctest::Contains("axis 1 of the input 'x' is dynamic"),
                         InputError);
  }
  SUBCASE("a string tensor") {
    onnx::ModelProto m = small_mlp(W, b);
    m.mutable_graph()->mutable_initializer(0)->set_data_type(onnx::TensorProto::STRING);
    CHECK_THROWS_WITH_AS(parse_onnx(bytes_of(m), "m.onnx"), doctest::Contains("has data type 8, which Fluxion does not read"), InputError);
  }
}

TEST_CASE("onnx reader: float32 raw_data initializers and a fixed batch axis") {
  // y = x · 0.5 with the constant stored as float32 raw bytes; input [1, 2] fixed
  onnx::GraphProto g;
  add_input(g, "x", {1, 2});
  auto* init = g.add_initializer();
  init->set_name("half");
  init->set_data_type(onnx::TensorProto::FLOAT);
  const float h = 0.5f;
  init->set_raw_data(std::string(reinterpret_cast<const char*>(&h), 4));
  add_node(g, "Mul", {"x", "half"}, {"y"});
  const Graph<double> graph = onnx_graph<double>(parse_onnx(bytes_of(model_of(g)), "m.onnx"));
  CHECK(graph.fixed_batch() == 0);  // Mul keeps examples apart, so whole batches are evaluated
  const Tensor<double> x = random_tensor({3, 2}, 5);
  const Tensor<double> y = graph.forward(Var<double>(x)).value();
  for (std::size_t i = 0; i < x.size(); ++i) CHECK(y.data()[i] == 0.5 * x.data()[i]);
}
