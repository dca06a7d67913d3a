// The ONNX writer (nn/export/onnx_writer.hpp), checked by reading its files
// back with Fluxion's reader (nn/onnx) and comparing with the graph written:
//   - the mlp and cnn presets, a residual ONNX model (Conv, BatchNormalization,
//     Relu, Add, GlobalAveragePool, Gemm) and a shape-arithmetic graph (Shape,
//     Gather, Concat, Reshape, Cast, Constant, ConstantOfShape, Dropout):
//     outputs and input gradients bit for bit, float and double;
//   - SoftPlus(β) layers and smoothed graphs, written as Mul → Softplus → Div:
//     the same function with other rounding — bit for bit when β is a power of
//     two (scaling by 2^k is exact), within a few ulps otherwise, each checked
//     against ln(1 + e^{βx})/β in long double;
//   - the file itself: IR version 8, the opset, the input [N, ...] of the
//     graph's element type, one initializer per constant, no non-standard node.
// The Python tests (tests/python/test_onnx_export.py) run ONNX's own checker
// and an independent evaluator on the same exports.
#include <doctest/doctest.h>

#include <onnx/onnx_pb.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "tests/nn/graph_builders.hpp"
#include "autodiff/autodiff.hpp"
#include "nn/export/onnx_writer.hpp"
#include "nn/graph/sequential_graph.hpp"
#include "nn/models/architecture.hpp"
#include "nn/onnx/onnx_reader.hpp"
#include "tests/autodiff/check_derivatives.hpp"

using namespace fluxion;
using fluxion::testing::random_tensor;

namespace {

template <class T>
Graph<T> read_back(const std::string& bytes) {
  return onnx_graph<T>(parse_onnx(bytes, "export.onnx"));
}

template <class T>
Graph<T> round_trip(const Graph<T>& g) {
  return read_back<T>(onnx_model_bytes(g));
}

onnx::ModelProto parsed(const std::string& bytes) {
  onnx::ModelProto m;
  REQUIRE(m.ParseFromString(bytes));
  return m;
}

template <class T>
bool bit_identical(const Tensor<T>& a, const Tensor<T>& b) {
  return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

/// max |a − b| / max |b|.
template <class T>
double relative_difference(const Tensor<T>& a, const Tensor<T>& b) {
  REQUIRE(a.shape() == b.shape());
  double diff = 0, scale = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff = std::max(diff, std::abs(double(a.data()[i]) - double(b.data()[i])));
    scale = std::max(scale, std::abs(double(b.data()[i])));
  }
  return diff / scale;
}

template <class T>
Tensor<T> outputs(const Graph<T>& g, const Tensor<T>& x) {
  return g.forward(Var<T>(x)).value();
}

/// ∂(Σ u ⊙ f(x))/∂x, the input gradient every attribution method builds on.
template <class T>
Tensor<T> input_gradient(const Graph<T>& g, const Tensor<T>& x, const Tensor<T>& u) {
  return vjp(as_function(g), x, u);
}

template <class T>
Shape batched(std::size_t n, const Shape& example) {
  Shape s{n};
  s.insert(s.end(), example.begin(), example.end());
  return s;
}

/// The writer's file reads back as the same graph: outputs and gradients bit for bit.
template <class T>
void check_bit_identical_round_trip(const Graph<T>& g, std::uint64_t seed) {
  const Graph<T> back = round_trip(g);
  CHECK(back.input_shape() == g.input_shape());
  CHECK(back.output_shape() == g.output_shape());
  const Tensor<T> x = random_tensor<T>(batched<T>(3, g.input_shape()), seed);
  const Tensor<T> u = random_tensor<T>(batched<T>(3, g.output_shape()), seed + 1);
  CHECK(bit_identical(outputs(back, x), outputs(g, x)));
  CHECK(bit_identical(input_gradient(back, x, u), input_gradient(g, x, u)));
}

std::size_t count_ops(const onnx::ModelProto& m, const std::string& op) {
  std::size_t n = 0;
  for (const auto& node : m.graph().node()) n += node.op_type() == op;
  return n;
}

// ---- a residual model as ONNX bytes (what torch.onnx.export writes) ----------

void float_initializer(onnx::GraphProto& g, const std::string& name, std::vector<std::int64_t> dims, std::uint64_t seed,
                       double lo = -0.5, double hi = 0.5) {
  auto* t = g.add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::FLOAT);
  std::size_t n = 1;
  for (auto d : dims) {
    t->add_dims(d);
    n *= std::size_t(d);
  }
  const Tensor<float> v = random_tensor<float>({n}, seed, lo, hi);
  for (std::size_t i = 0; i < n; ++i) t->add_float_data(v.data()[i]);
}

onnx::NodeProto* add_node(onnx::GraphProto& g, const std::string& op, std::vector<std::string> in, std::string out) {
  auto* n = g.add_node();
  n->set_op_type(op);
  n->set_name(op + "_" + out);
  for (const auto& i : in) n->add_input(i);
  n->add_output(out);
  return n;
}

void ints_attribute(onnx::NodeProto* n, const std::string& name, std::vector<std::int64_t> v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (auto e : v) a->add_ints(e);
}

/// x [N, 2, 5, 5] → Conv 3×3 → BatchNormalization → Relu → Conv 3×3 → Add(x) → Relu
/// → GlobalAveragePool → Flatten → Gemm(transB) → logits [N, 3]; float32 weights, opset 13.
std::string residual_onnx_bytes() {
  onnx::ModelProto m;
  m.set_ir_version(7);
  m.add_opset_import()->set_version(13);
  onnx::GraphProto& g = *m.mutable_graph();
  auto* in = g.add_input();
  in->set_name("x");
  auto* tt = in->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(onnx::TensorProto::FLOAT);
  tt->mutable_shape()->add_dim()->set_dim_param("batch");
  for (int d : {2, 5, 5}) tt->mutable_shape()->add_dim()->set_dim_value(d);
  float_initializer(g, "c1.weight", {2, 2, 3, 3}, 1);
  float_initializer(g, "c1.bias", {2}, 2);
  float_initializer(g, "bn.scale", {2}, 3, 0.5, 1.5);
  float_initializer(g, "bn.bias", {2}, 4);
  float_initializer(g, "bn.mean", {2}, 5);
  float_initializer(g, "bn.var", {2}, 6, 0.5, 1.5);
  float_initializer(g, "c2.weight", {2, 2, 3, 3}, 7);
  float_initializer(g, "fc.weight", {3, 2}, 8);
  float_initializer(g, "fc.bias", {3}, 9);
  auto* c1 = add_node(g, "Conv", {"x", "c1.weight", "c1.bias"}, "c1_out");
  ints_attribute(c1, "kernel_shape", {3, 3});
  ints_attribute(c1, "pads", {1, 1, 1, 1});
  auto* bn = add_node(g, "BatchNormalization", {"c1_out", "bn.scale", "bn.bias", "bn.mean", "bn.var"}, "bn_out");
  auto* eps = bn->add_attribute();
  eps->set_name("epsilon");
  eps->set_type(onnx::AttributeProto::FLOAT);
  eps->set_f(1e-3f);
  add_node(g, "Relu", {"bn_out"}, "r1");
  auto* c2 = add_node(g, "Conv", {"r1", "c2.weight"}, "c2_out");
  ints_attribute(c2, "kernel_shape", {3, 3});
  ints_attribute(c2, "pads", {1, 1, 1, 1});
  add_node(g, "Add", {"c2_out", "x"}, "sum");
  add_node(g, "Relu", {"sum"}, "r2");
  add_node(g, "GlobalAveragePool", {"r2"}, "pooled");
  add_node(g, "Flatten", {"pooled"}, "flat");
  auto* fc = add_node(g, "Gemm", {"flat", "fc.weight", "fc.bias"}, "logits");
  auto* tb = fc->add_attribute();
  tb->set_name("transB");
  tb->set_type(onnx::AttributeProto::INT);
  tb->set_i(1);
  g.add_output()->set_name("logits");
  return m.SerializeAsString();
}

// ---- graphs made of GraphNodes --------------------------------------------------

using fluxion::testing::node;
GraphAttribute int_attr(std::int64_t v) { return fluxion::testing::int_attribute(v); }
GraphAttribute real_attr(double v) { return fluxion::testing::real_attribute(v); }

/// x [N, 6] → Reshape to [N, 2, 3] by shape arithmetic (Shape, Gather, Unsqueeze,
/// Concat), Cast to float (stays T), · Constant(value_float 0.5), Cast to float16
/// and back, Dropout (with its bool training_mode as an integer constant),
/// + ConstantOfShape zeros, times Cast(Cast(N ≠ 0 → bool) → float) = 1, Flatten.
/// For x of multiples of 1/64 in [−1, 1] every step is exact: y = x / 2.
Graph<double> shape_arithmetic_graph() {
  std::map<std::string, GraphValue<double>> c;
  c.emplace("zero", GraphValue<double>::of(IntTensor{{}, {0}}));
  c.emplace("axes0", GraphValue<double>::of(IntTensor{{1}, {0}}));
  c.emplace("rest", GraphValue<double>::of(IntTensor{{2}, {2, 3}}));
  c.emplace("ratio", GraphValue<double>::of(Var<double>(Tensor<double>(Shape{}, 0.25))));
  c.emplace("training", GraphValue<double>::of(IntTensor{{}, {0}}));
  const std::vector<GraphNode> nodes = {
      node("Shape", {"x"}, {"s"}),
      node("Gather", {"s", "zero"}, {"n"}, {{"axis", int_attr(0)}}),
      node("Unsqueeze", {"n", "axes0"}, {"n1"}),
      node("Concat", {"n1", "rest"}, {"shape3"}, {{"axis", int_attr(0)}}),
      node("Reshape", {"x", "shape3"}, {"r"}),
      node("Cast", {"r"}, {"rf"}, {{"to", int_attr(1)}}),
      node("Constant", {}, {"half"}, {{"value_float", real_attr(0.5)}}),
      node("Mul", {"rf", "half"}, {"m"}),
      node("Cast", {"m"}, {"mh"}, {{"to", int_attr(10)}}),
      node("Dropout", {"mh", "ratio", "training"}, {"d"}),
      node("ConstantOfShape", {"shape3"}, {"zeros"}),
      node("Add", {"d", "zeros"}, {"e"}),
      node("Cast", {"n1"}, {"n32"}, {{"to", int_attr(6)}}),
      node("Cast", {"n32"}, {"nonzero"}, {{"to", int_attr(9)}}),
      node("Cast", {"nonzero"}, {"one"}, {{"to", int_attr(1)}}),
      node("Mul", {"e", "one"}, {"f"}),
      node("Flatten", {"f"}, {"y"}),
  };
  GraphEvaluation eval;
  eval.opset = 13;
  return Graph<double>("shape arithmetic", "x", {6}, "y", nodes, c, eval);
}

template <class T>
Graph<T> mlp_of(const std::string& description, std::uint64_t seed) {
  return to_graph(build_model<T>(description, seed));
}

/// ln(1 + e^{βx})/β in long double (log1p form, no overflow).
long double softplus_reference(long double x, long double beta) {
  return std::max(x, 0.0L) + std::log1p(std::exp(-beta * std::abs(x))) / beta;
}

}  // namespace

TEST_CASE_TEMPLATE("onnx export: the mlp and cnn presets read back bit for bit (outputs and gradients)", T, float, double) {
  for (const char* preset : {"mlp", "cnn"}) {
    CAPTURE(preset);
    const Sequential<T> seq = build_model<T>(preset, 3);
    const Graph<T> g = to_graph(seq);
    check_bit_identical_round_trip(g, 21);

    const onnx::ModelProto m = parsed(onnx_model_bytes(g));
    CHECK(m.ir_version() == 8);
    CHECK(m.producer_name() == "fluxion");
    REQUIRE(m.opset_import_size() == 1);
    CHECK(m.opset_import(0).domain().empty());
    CHECK(m.opset_import(0).version() == 17);
    REQUIRE(m.graph().input_size() == 1);
    const auto& input = m.graph().input(0).type().tensor_type();
    CHECK(input.elem_type() == (std::is_same_v<T, float> ? onnx::TensorProto::FLOAT : onnx::TensorProto::DOUBLE));
    REQUIRE(input.shape().dim_size() == 4);
    CHECK(input.shape().dim(0).dim_param() == "N");
    for (int k = 1; k < 4; ++k) CHECK(input.shape().dim(k).dim_value() == (k == 1 ? 1 : 28));
    const auto& output = m.graph().output(0).type().tensor_type();
    REQUIRE(output.shape().dim_size() == 2);
    CHECK(output.shape().dim(0).dim_param() == "N");
    CHECK(output.shape().dim(1).dim_value() == 10);
    CHECK(std::size_t(m.graph().initializer_size()) == seq.named_parameters().size());
    CHECK(std::size_t(m.graph().node_size()) == seq.size());
    for (const auto& t : m.graph().initializer()) CHECK(t.data_type() == input.elem_type());
  }
}

TEST_CASE_TEMPLATE("onnx export: a residual ONNX model (Conv, BatchNorm, Add, GlobalAveragePool) reads back bit for bit", T,
                   float, double) {
  const Graph<T> g = read_back<T>(residual_onnx_bytes());
  check_bit_identical_round_trip(g, 31);
  const std::string once = onnx_model_bytes(g);
  const onnx::ModelProto m = parsed(once);
  CHECK(m.opset_import(0).version() == 13);
  CHECK(count_ops(m, "Add") == 1);
  CHECK(count_ops(m, "BatchNormalization") == 1);
  CHECK(m.graph().input(0).type().tensor_type().shape().dim(0).dim_param() == "N");
  // writing what was read back gives the same bytes: the export is a fixed point
  CHECK(onnx_model_bytes(read_back<T>(once)) == once);
}

TEST_CASE("onnx export: shape arithmetic, Cast, Constant, ConstantOfShape and Dropout become standard ONNX, bit for bit") {
  const Graph<double> g = shape_arithmetic_graph();
  Tensor<double> x(Shape{4, 6});
  for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = (double(i * 37 % 129) - 64) / 64;
  const Graph<double> back = round_trip(g);
  const Tensor<double> y = outputs(back, x);
  REQUIRE(y.shape() == Shape{4, 6});
  for (std::size_t i = 0; i < x.size(); ++i) CHECK(y.data()[i] == x.data()[i] / 2);  // the closed form, exactly
  CHECK(bit_identical(y, outputs(g, x)));
  const Tensor<double> u = random_tensor<double>({4, 6}, 5);
  CHECK(bit_identical(input_gradient(back, x, u), input_gradient(g, x, u)));

  const onnx::ModelProto m = parsed(onnx_model_bytes(g));
  CHECK(count_ops(m, "Dropout") == 0);
  CHECK(count_ops(m, "Identity") == 1);
  for (const auto& n : m.graph().node()) {
    for (const auto& a : n.attribute()) {
      CAPTURE(n.name());
      CHECK(a.name() != "value_float");  // a value tensor of double instead
      if (n.op_type() == "Cast") CHECK((a.i() == onnx::TensorProto::DOUBLE || a.i() == onnx::TensorProto::INT64 ||
                                        a.i() == onnx::TensorProto::FLOAT16 || a.i() == onnx::TensorProto::BOOL));
      if (a.type() == onnx::AttributeProto::TENSOR && a.t().data_type() != onnx::TensorProto::INT64)
        CHECK(a.t().data_type() == onnx::TensorProto::DOUBLE);
    }
  }
  // Cast to float16 became Cast(float16) → Cast(double); to bool: Cast(int64) → Cast(bool) → Cast(int64)
  CHECK(count_ops(m, "Cast") == 2 + 1 + 1 + 3 + 1);
}

TEST_CASE_TEMPLATE("onnx export: a SoftPlus(beta) layer is Mul -> Softplus -> Div, the same function", T, float, double) {
  const double eps = std::numeric_limits<T>::epsilon();
  // the activation alone, on 400 points of [−3, 3]: every value against the long-double closed form
  for (double beta : {10.0, 8.0, 0.3}) {
    CAPTURE(beta);
    const std::string arch = R"({"input_shape": [400], "layers": [{"type": "softplus", "beta": )" + std::to_string(beta) + "}]}";
    const Graph<T> g = mlp_of<T>(arch, 1);
    const Graph<T> back = round_trip(g);
    const onnx::ModelProto m = parsed(onnx_model_bytes(g));
    CHECK(count_ops(m, "Mul") == 1);
    CHECK(count_ops(m, "Softplus") == 1);
    CHECK(count_ops(m, "Div") == 1);
    for (const auto& n : m.graph().node()) CHECK(n.attribute_size() == 0);  // no "beta" left
    Tensor<T> x(Shape{1, 400});
    for (std::size_t i = 0; i < 400; ++i) x.data()[i] = T(-3.0 + 6.0 * double(i) / 399.0);
    const Tensor<T> ours = outputs(g, x), file = outputs(back, x);
    double worst_ulps = 0, worst_file_vs_exact = 0;
    for (std::size_t i = 0; i < 400; ++i) {
      const long double exact = softplus_reference(x.data()[i], static_cast<T>(beta));
      const double ulp = eps * double(exact);
      worst_ulps = std::max(worst_ulps, std::abs(double(file.data()[i]) - double(ours.data()[i])) / ulp);
      // SoftPlus_β(x) ≈ e^{βx}/β for x ≪ 0 passes the rounding of βx on amplified by |βx| (its condition number)
      const double condition = 1 + beta * std::abs(double(x.data()[i]));
      worst_file_vs_exact = std::max(worst_file_vs_exact, double(std::abs(file.data()[i] - exact)) / (condition * ulp));
      if (x.data()[i] <= 0) CHECK(file.data()[i] == ours.data()[i]);  // max(βx, 0) = 0: the same operations
    }
    MESSAGE("beta " << beta << ": file vs Fluxion " << worst_ulps << " ulp, file vs exact " << worst_file_vs_exact
                             << " ulp x condition number");
    CHECK(worst_ulps <= 3);
    CHECK(worst_file_vs_exact <= 3);
    const Tensor<T> u = random_tensor<T>({1, 400}, 2);
    const Tensor<T> grad_ours = input_gradient(g, x, u), grad_file = input_gradient(back, x, u);
    if (beta == 8.0) {  // a power of two: scaling is exact, so is everything
      CHECK(bit_identical(file, ours));
      CHECK(bit_identical(grad_file, grad_ours));
    }
    CHECK(relative_difference(grad_file, grad_ours) <= 4 * eps);
  }
  // inside a network
  const std::string net = R"({"input_shape": [6], "layers": [{"type": "linear", "in": 6, "out": 16},
      {"type": "softplus", "beta": 10}, {"type": "linear", "in": 16, "out": 16}, {"type": "softplus", "beta": 2.5},
      {"type": "linear", "in": 16, "out": 3}]})";
  const Graph<T> g = mlp_of<T>(net, 4);
  const Graph<T> back = round_trip(g);
  const Tensor<T> x = random_tensor<T>({8, 6}, 9, -2, 2), u = random_tensor<T>({8, 3}, 10);
  const double value_diff = relative_difference(outputs(back, x), outputs(g, x));
  const double grad_diff = relative_difference(input_gradient(back, x, u), input_gradient(g, x, u));
  MESSAGE("softplus net: outputs " << value_diff << ", gradients " << grad_diff << " (relative to the largest)");
  CHECK(value_diff <= 16 * eps);
  CHECK(grad_diff <= 16 * eps);
  CHECK(count_ops(parsed(onnx_model_bytes(g)), "Softplus") == 2);
  CHECK(parsed(onnx_model_bytes(g)).graph().initializer_size() == 6 + 2);  // weights, biases and the two betas
}

TEST_CASE_TEMPLATE("onnx export: a smoothed graph writes every Relu as SoftPlus(beta)", T, float, double) {
  const double eps = std::numeric_limits<T>::epsilon();
  for (const std::string preset : {"mlp", "cnn"}) {
    for (double beta : {10.0, 4.0}) {
      CAPTURE(preset);
      CAPTURE(beta);
      const Graph<T> plain = mlp_of<T>(preset, 5);
      const Graph<T> smooth = plain.with_relu_as_softplus(T(beta));
      const onnx::ModelProto m = parsed(onnx_model_bytes(smooth));
      const std::size_t relus = count_ops(parsed(onnx_model_bytes(plain)), "Relu");
      CHECK(relus == (preset == "mlp" ? 2 : 3));
      CHECK(count_ops(m, "Relu") == 0);
      CHECK(count_ops(m, "Softplus") == relus);
      CHECK(std::size_t(m.graph().node_size()) == plain.nodes().size() + 2 * relus);
      CHECK(std::size_t(m.graph().initializer_size()) == plain.constants().size() + 1);  // one shared β
      const Graph<T> back = round_trip(smooth);
      CHECK(back.evaluation().relu_softplus_beta == 0);  // the file is plain ONNX: nothing left to smooth
      const Tensor<T> x = random_tensor<T>({2, 1, 28, 28}, 6, 0, 1), u = random_tensor<T>({2, 10}, 7);
      const Tensor<T> y_file = outputs(back, x), y = outputs(smooth, x);
      const Tensor<T> g_file = input_gradient(back, x, u), g = input_gradient(smooth, x, u);
      if (beta == 4.0) {
        CHECK(bit_identical(y_file, y));
        CHECK(bit_identical(g_file, g));
      }
      const double value_diff = relative_difference(y_file, y), grad_diff = relative_difference(g_file, g);
      MESSAGE(preset << " smoothed, beta " << beta << ": outputs " << value_diff << ", gradients " << grad_diff);
      CHECK(value_diff <= 16 * eps);
      CHECK(grad_diff <= 16 * eps);
      CHECK(relative_difference(outputs(back, x), outputs(plain, x)) > 1e3 * eps);  // it is not the ReLU net
    }
  }
}

TEST_CASE("onnx export: second derivatives of a smoothed export equal the smoothed graph's (HVP)") {
  const Graph<double> smooth = mlp_of<double>(R"({"input_shape": [5], "layers": [{"type": "linear", "in": 5, "out": 12},
      {"type": "relu"}, {"type": "linear", "in": 12, "out": 1}]})", 8).with_relu_as_softplus(10.0);
  const Graph<double> back = round_trip(smooth);
  const Tensor<double> x = random_tensor<double>({1, 5}, 3), v = random_tensor<double>({1, 5}, 4);
  auto scalar_of = [](const Graph<double>& g) {
    return Function<double>([g](const Var<double>& in) { return sum(g.forward(in)); });
  };
  const Tensor<double> h_file = hvp(scalar_of(back), x, v), h = hvp(scalar_of(smooth), x, v);
  const double diff = relative_difference(h_file, h);
  MESSAGE("HVP of the smoothed export vs the smoothed graph: " << diff);
  CHECK(diff <= 1e-14);
  double largest = 0;
  for (std::size_t i = 0; i < h.size(); ++i) largest = std::max(largest, std::abs(h.data()[i]));
  CHECK(largest > 1e-2);  // a smoothed net has curvature (the ReLU net's would be 0)
}

TEST_CASE("onnx export: what cannot be written exactly is said, what cannot be written at all is refused") {
  std::map<std::string, GraphValue<double>> c;
  c.emplace("W", GraphValue<double>::of(Var<double>(random_tensor<double>({2, 3}, 1))));
  GraphEvaluation eval;
  SUBCASE("a real attribute float32 cannot hold is rounded and listed") {
    const Graph<double> g("alpha", "x", {3}, "y", {node("Gemm", {"x", "W"}, {"y"}, {{"transB", int_attr(1)}, {"alpha", real_attr(0.1)}})},
                          c, eval);
    const OnnxExport e = export_onnx(g);
    REQUIRE(e.rounded_attributes.size() == 1);
    CHECK(e.rounded_attributes[0].find("alpha 0.10000000000000001 -> 0.10000000149011612") != std::string::npos);
    CHECK(e.rounded_attributes[0].find("node 'Gemm_y' (Gemm)") != std::string::npos);
    CHECK(export_onnx(mlp_of<double>("mlp", 1)).rounded_attributes.empty());
  }
  SUBCASE("a Dropout whose mask is read names the node; an unread mask is dropped") {
    const std::vector<GraphNode> nodes = {node("Dropout", {"x"}, {"d", "mask"}), node("Cast", {"mask"}, {"maskf"}, {{"to", int_attr(1)}}),
                                          node("Mul", {"d", "maskf"}, {"dm"}), node("Gemm", {"dm", "W"}, {"y"}, {{"transB", int_attr(1)}})};
    const Graph<double> g("mask", "x", {3}, "y", nodes, c, eval);
    CHECK_THROWS_WITH_AS(onnx_model_bytes(g), "mask: node 'Dropout_d' (Dropout): its mask output 'mask' is read by node "
                                              "'Cast_maskf' (Cast), and an inference export writes Dropout as Identity",
                         InputError);
    const Graph<double> unread("mask", "x", {3}, "y", {node("Dropout", {"x"}, {"d", "mask"}), node("Gemm", {"d", "W"}, {"y"}, {{"transB", int_attr(1)}})},
                               c, eval);
    check_bit_identical_round_trip(unread, 3);
  }
  SUBCASE("anything else non-standard is refused by ONNX's own checker, in one sentence") {
    // Fluxion reads an integer where a float is due (attr_float); ONNX's schema does not
    const Graph<double> g("int alpha", "x", {3}, "y", {node("Gemm", {"x", "W"}, {"y"}, {{"transB", int_attr(1)}, {"alpha", int_attr(2)}})},
                          c, eval);
    std::string message;
    try {
      onnx_model_bytes(g);
    } catch (const InputError& e) {
      message = e.what();
    }
    CAPTURE(message);
    CHECK(message.rfind("int alpha: the ONNX export does not pass ONNX's checker (", 0) == 0);
    CHECK(message.find("alpha") != std::string::npos);
    CHECK(message.find('\n') == std::string::npos);
  }
  SUBCASE("a shape stored as reals (Fluxion accepts whole numbers; ONNX's Reshape wants int64) is refused, naming the node") {
    std::map<std::string, GraphValue<double>> k;
    Tensor<double> shape(Shape{2});
    shape.data()[0] = 0;
    shape.data()[1] = -1;
    k.emplace("shape", GraphValue<double>::of(Var<double>(shape)));
    const Graph<double> g("real shape", "x", {2, 3}, "y", {node("Reshape", {"x", "shape"}, {"y"})}, k, eval);
    std::string message;
    try {
      onnx_model_bytes(g);
    } catch (const InputError& e) {
      message = e.what();
    }
    CAPTURE(message);
    CHECK(message.rfind("real shape: the ONNX export does not pass ONNX's checker (", 0) == 0);
    CHECK(message.find("Reshape") != std::string::npos);
    CHECK(message.find('\n') == std::string::npos);
  }
}

TEST_CASE("onnx export: a graph that fixes its batch keeps it; an opset-6 graph's new Mul/Div broadcast explicitly") {
  SUBCASE("fixed batch 1: y = reshape(x, [1, -1]) · 2, evaluated one example at a time, before and after") {
    std::map<std::string, GraphValue<double>> c;
    c.emplace("target", GraphValue<double>::of(IntTensor{{2}, {1, -1}}));
    c.emplace("two", GraphValue<double>::of(Var<double>(Tensor<double>(Shape{}, 2.0))));
    const Graph<double> g("fixed", "x", {2, 2}, "y",
                          {node("Reshape", {"x", "target"}, {"flat"}), node("Mul", {"flat", "two"}, {"y"})}, c,
                          GraphEvaluation{}, 1);
    REQUIRE(g.fixed_batch() == 1);
    const onnx::ModelProto m = parsed(onnx_model_bytes(g));
    CHECK(m.graph().input(0).type().tensor_type().shape().dim(0).dim_value() == 1);
    CHECK(m.graph().output(0).type().tensor_type().shape().dim(0).dim_value() == 1);
    const Graph<double> back = round_trip(g);
    CHECK(back.fixed_batch() == 1);
    const Tensor<double> x = random_tensor<double>({3, 2, 2}, 8);
    const Tensor<double> y = outputs(back, x);
    REQUIRE(y.shape() == Shape{3, 4});
    for (std::size_t i = 0; i < x.size(); ++i) CHECK(y.data()[i] == 2 * x.data()[i]);
  }
  SUBCASE("opset 6, smoothed: Mul and Div carry broadcast = 1, as opset 6 requires for a scalar β") {
    std::map<std::string, GraphValue<double>> c;
    c.emplace("W", GraphValue<double>::of(Var<double>(random_tensor<double>({2, 3}, 1))));
    c.emplace("b", GraphValue<double>::of(Var<double>(random_tensor<double>({2}, 2))));
    GraphEvaluation eval;
    eval.opset = 6;
    const Graph<double> g("opset6", "x", {3}, "y",
                          {node("Gemm", {"x", "W", "b"}, {"z"}, {{"transB", int_attr(1)}, {"broadcast", int_attr(1)}}),
                           node("Relu", {"z"}, {"y"})},
                          c, eval);
    const Graph<double> smooth = g.with_relu_as_softplus(3.0);
    const onnx::ModelProto m = parsed(onnx_model_bytes(smooth));  // passed ONNX's checker for opset 6
    CHECK(m.opset_import(0).version() == 6);
    std::size_t broadcasting = 0;
    for (const auto& n : m.graph().node())
      for (const auto& a : n.attribute()) broadcasting += (n.op_type() == "Mul" || n.op_type() == "Div") && a.name() == "broadcast" && a.i() == 1;
    CHECK(broadcasting == 2);
    const Tensor<double> x = random_tensor<double>({4, 3}, 3);
    CHECK(relative_difference(outputs(round_trip(smooth), x), outputs(smooth, x)) <= 4e-16);
  }
}
