// The `fluxion` tool on ONNX files (written here with ONNX's protobuf
// classes), checked by value against closed forms:
//   f(x) = W tanh(V x + c) + b     (Gemm, Tanh, Gemm; d = 3, 4 hidden, 2 classes)
//   saliency      |∂f_t/∂x_i| = |Σ_h W[t,h] (1 − tanh²(z_h)) V[h,i]|
//   input Hessian ∂²f_t/∂x_i∂x_j = Σ_h W[t,h] (−2 tanh(z_h)(1 − tanh²(z_h))) V[h,i] V[h,j]
// --smooth-beta on the same net with Relu: ∂f_t/∂x_i = Σ_h W[t,h] σ(β z_h) V[h,i].
// --representation (IG2's layer): the result equals the library's IG2 with
// the graph split at that value, and two layers give different numbers.
#include <doctest/doctest.h>

#include <onnx/onnx_pb.h>

#include <cmath>

#include "attribution/method_registry.hpp"
#include "nn/io/npy.hpp"
#include "nn/models/load_graph.hpp"
#include "tests/cli/fluxion_process.hpp"
#include "tests/nn/scratch_dir.hpp"

namespace fs = std::filesystem;
using namespace fluxion;
using namespace fluxion::testing;

namespace {

const double kV[4][3] = {{0.5, -1.0, 0.25}, {1.5, 0.5, -0.5}, {-0.75, 0.25, 1.0}, {0.3, 0.8, -1.2}};
const double kC[4] = {0.1, -0.2, 0.05, 0.3};
const double kW[2][4] = {{1.0, -0.5, 0.75, 0.2}, {-1.25, 0.5, 1.0, -0.6}};
const double kB[2] = {0.05, -0.1};

void initializer(onnx::GraphProto& g, const std::string& name, std::vector<std::int64_t> dims, const double* values) {
  auto* t = g.add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::DOUBLE);
  std::int64_t n = 1;
  for (auto d : dims) {
    t->add_dims(d);
    n *= d;
  }
  for (std::int64_t i = 0; i < n; ++i) t->add_double_data(values[i]);
}

void gemm(onnx::GraphProto& g, const std::string& in, const std::string& w, const std::string& b, const std::string& out) {
  auto* n = g.add_node();
  n->set_op_type("Gemm");
  n->set_name("gemm_" + out);
  n->add_input(in);
  n->add_input(w);
  n->add_input(b);
  n->add_output(out);
  auto* a = n->add_attribute();
  a->set_name("transB");
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(1);
}

/// The file of f(x) = W act(V x + c) + b; values z (pre-activation), h (after it), logits.
std::string model_bytes(const std::string& activation) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(13);
  onnx::GraphProto& g = *m.mutable_graph();
  auto* in = g.add_input();
  in->set_name("x");
  auto* tt = in->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(onnx::TensorProto::DOUBLE);
  tt->mutable_shape()->add_dim()->set_dim_param("N");
  tt->mutable_shape()->add_dim()->set_dim_value(3);
  initializer(g, "V", {4, 3}, &kV[0][0]);
  initializer(g, "c", {4}, kC);
  initializer(g, "W", {2, 4}, &kW[0][0]);
  initializer(g, "b", {2}, kB);
  gemm(g, "x", "V", "c", "z");
  auto* act = g.add_node();
  act->set_op_type(activation);
  act->add_input("z");
  act->add_output("h");
  gemm(g, "h", "W", "b", "logits");
  g.add_output()->set_name("logits");
  return m.SerializeAsString();
}

const Tensor<double> kX = {{0.4, -0.3, 0.9}, {-0.8, 0.6, 0.2}};

double z_of(std::size_t e, std::size_t h) {
  double z = kC[h];
  for (std::size_t i = 0; i < 3; ++i) z += kV[h][i] * kX(e, i);
  return z;
}

fs::path write_model(const ScratchDir& dir, const std::string& activation) {
  const fs::path path = dir.path / ("m_" + activation + ".onnx");
  write_raw(path, model_bytes(activation));
  return path;
}

double max_abs(const Tensor<double>& t) {
  double m = 0;
  for (std::size_t i = 0; i < t.size(); ++i) m = std::max(m, std::abs(t.data()[i]));
  return m;
}

}  // namespace

TEST_CASE("cli onnx: saliency and the input Hessian of an ONNX file equal their closed forms") {
  ScratchDir dir("cli_onnx");
  const fs::path model = write_model(dir, "Tanh");
  write_npy(dir.path / "x.npy", kX);
  ProcessResult r = run_fluxion({"explain", "--model", model.string(), "--method", "saliency", "--input",
                                 (dir.path / "x.npy").string(), "--target", "1", "--out", (dir.path / "s.npy").string()});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  const Tensor<double> s = read_npy<double>(dir.path / "s.npy");
  REQUIRE(shape_of(s) == Shape{2, 3});
  for (std::size_t e = 0; e < 2; ++e)
    for (std::size_t i = 0; i < 3; ++i) {
      double g = 0;
      for (std::size_t h = 0; h < 4; ++h) {
        const double t = std::tanh(z_of(e, h));
        g += kW[1][h] * (1 - t * t) * kV[h][i];
      }
      CHECK(std::abs(s(e, i) - std::abs(g)) <= 1e-15);
    }
  r = run_fluxion({"interactions", "--model", model.string(), "--method", "input_hessian", "--input",
                   (dir.path / "x.npy").string(), "--target", "0", "--out", (dir.path / "h.npy").string()});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  const Tensor<double> H = read_npy<double>(dir.path / "h.npy");
  REQUIRE(shape_of(H) == Shape{2, 3, 3});
  for (std::size_t e = 0; e < 2; ++e)
    for (std::size_t i = 0; i < 3; ++i)
      for (std::size_t j = 0; j < 3; ++j) {
        double ref = 0;
        for (std::size_t h = 0; h < 4; ++h) {
          const double t = std::tanh(z_of(e, h));
          ref += kW[0][h] * (-2 * t * (1 - t * t)) * kV[h][i] * kV[h][j];
        }
        CHECK(std::abs(H(e, i, j) - ref) <= 1e-15);
      }
}

TEST_CASE("cli onnx: --smooth-beta turns the ONNX file's Relu nodes into SoftPlus(beta)") {
  ScratchDir dir("cli_onnx_smooth");
  const fs::path model = write_model(dir, "Relu");
  write_npy(dir.path / "x.npy", kX);
  const double beta = 4.0;
  ProcessResult r = run_fluxion({"explain", "--model", model.string(), "--method", "gradient_x_input", "--smooth-beta", "4",
                                 "--input", (dir.path / "x.npy").string(), "--target", "0", "--out",
                                 (dir.path / "g.npy").string()});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  const Tensor<double> gx = read_npy<double>(dir.path / "g.npy");
  for (std::size_t e = 0; e < 2; ++e)
    for (std::size_t i = 0; i < 3; ++i) {
      double g = 0;
      for (std::size_t h = 0; h < 4; ++h) g += kW[0][h] / (1 + std::exp(-beta * z_of(e, h))) * kV[h][i];
      CHECK(std::abs(gx(e, i) - kX(e, i) * g) <= 1e-15);
    }
}

TEST_CASE("cli onnx: --representation names IG2's layer, and is the library's split at that value") {
  ScratchDir dir("cli_onnx_ig2");
  const fs::path model = write_model(dir, "Tanh");
  write_npy(dir.path / "x.npy", kX);
  const Tensor<double> refs = {{0.1, 0.2, -0.3}, {-0.5, -0.4, 0.6}, {0.9, -0.9, 0.0}, {0.3, 0.3, 0.3}};
  write_npy(dir.path / "r.npy", refs);
  const Graph<double> graph = load_graph<double>(model);
  std::map<std::string, Tensor<double>> outputs;
  for (const std::string layer : {"h", "z"}) {
    CAPTURE(layer);
    const fs::path out = dir.path / ("ig2_" + layer + ".npy");
    ProcessResult r = run_fluxion({"explain", "--model", model.string(), "--method", "ig2", "--input",
                                   (dir.path / "x.npy").string(), "--references", (dir.path / "r.npy").string(),
                                   "--target", "1", "--representation", layer, "--out", out.string()});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    outputs[layer] = read_npy<double>(out);
    // the library call the command wraps, with the split made here
    ExplainedOutput<double> explained;
    explained.model = as_function(graph);
    MethodSettings<double> settings;
    settings.references = refs;
    settings.reference_labels = predicted_classes(explained.model, refs, 64);
    const auto split = graph.split_at(layer);
    settings.features = split.features;
    settings.head = split.head;
    const MethodOutput<double> lib = run_method(method_spec<double>("ig2"), explained, kX, {1, 1}, settings);
    const Tensor<double> diff = outputs[layer] - lib.values;
    CHECK(max_abs(diff) <= 1e-12 * max_abs(lib.values));
  }
  // the default is the input of the last Gemm, "h"
  const fs::path plain = dir.path / "ig2_default.npy";
  REQUIRE(run_fluxion({"explain", "--model", model.string(), "--method", "ig2", "--input", (dir.path / "x.npy").string(),
                       "--references", (dir.path / "r.npy").string(), "--target", "1", "--out", plain.string()})
              .exit_code == 0);
  CHECK(max_abs(Tensor<double>(read_npy<double>(plain) - outputs["h"])) == 0.0);
  CHECK(max_abs(Tensor<double>(outputs["z"] - outputs["h"])) > 1e-6);  // the layer matters
  // a name that is not a value: one sentence, exit 1
  ProcessResult bad = run_fluxion({"explain", "--model", model.string(), "--method", "ig2", "--input",
                                   (dir.path / "x.npy").string(), "--references", (dir.path / "r.npy").string(),
                                   "--target", "1", "--representation", "nope", "--out", (dir.path / "bad.npy").string()});
  CHECK(bad.exit_code == 1);
  CAPTURE(bad.err);
  CHECK(bad.err.find("no value of the graph is named 'nope'") != std::string::npos);
  CHECK_FALSE(fs::exists(dir.path / "bad.npy"));
}

TEST_CASE("cli onnx: check on an ONNX file prints the output change of the closed form and gates on the gap") {
  ScratchDir dir("cli_onnx_check");
  const fs::path model = write_model(dir, "Tanh");
  write_npy(dir.path / "x.npy", kX);
  ProcessResult r = run_fluxion({"check", "--model", model.string(), "--method", "ig", "--input",
                                 (dir.path / "x.npy").string(), "--target", "1"});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  // the largest |f_1(x) − f_1(0)| over the two examples, from the closed form
  auto f1 = [](const double* x) {
    double y = kB[1];
    for (std::size_t h = 0; h < 4; ++h) {
      double z = kC[h];
      for (std::size_t i = 0; i < 3; ++i) z += kV[h][i] * x[i];
      y += kW[1][h] * std::tanh(z);
    }
    return y;
  };
  const double zero[3] = {0, 0, 0};
  double largest = 0;
  for (std::size_t e = 0; e < 2; ++e) largest = std::max(largest, std::abs(f1(&kX(e, 0)) - f1(zero)));
  const std::string key = "largest |f(x) - f(reference)| = ";
  const auto at = r.out.find(key);
  REQUIRE_MESSAGE(at != std::string::npos, r.out);
  const double printed = std::stod(r.out.substr(at + key.size()));
  CHECK(std::abs(printed - largest) <= 5e-4 * largest);  // printed with 4 significant digits
  CHECK(r.out.find("completeness") != std::string::npos);
  // two quadrature nodes cannot reach a 1e-6 gap on this curved path: the gate fails with exit 3
  ProcessResult gate = run_fluxion({"check", "--model", model.string(), "--method", "ig", "--input",
                                    (dir.path / "x.npy").string(), "--target", "1", "--steps", "2", "--tolerance", "1e-6"});
  CHECK(gate.exit_code == 3);
  CHECK(gate.err.find("completeness gap") != std::string::npos);
}
