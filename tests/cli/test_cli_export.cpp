// `fluxion export` checked by value: the exported .onnx, explained by
// `fluxion explain --method saliency`, gives the numbers the original model
// gives (bit for bit for a ReLU net and for --smooth-beta 4, a power of two;
// within float64 rounding for --smooth-beta 10; --dtype float32 against the
// original explained in float32); exporting the export again gives the same
// model; bad flags exit 2, bad files 1, each one sentence, nothing written.
#include <doctest/doctest.h>

#include <onnx/onnx_pb.h>

#include <cmath>
#include <cstring>

#include "nn/io/npy.hpp"
#include "tests/cli/cli_fixtures.hpp"
#include "tests/cli/expect_failure.hpp"
#include "tests/nn/scratch_dir.hpp"

namespace fs = std::filesystem;
using namespace fluxion;
using namespace fluxion::testing;

namespace {

/// [1, 6, 6] → conv 3×3 1→2 → relu → maxpool 2 → flatten → linear 8→3 → relu → linear 3→3.
std::string small_cnn_architecture() {
  return R"({"input_shape": [1, 6, 6], "layers": [{"type": "conv2d", "in": 1, "out": 2, "kernel": 3},
    {"type": "relu"}, {"type": "maxpool2d", "kernel": 2}, {"type": "flatten"},
    {"type": "linear", "in": 8, "out": 3}, {"type": "relu"}, {"type": "linear", "in": 3, "out": 3}]})";
}

struct ExportSetup {
  ScratchDir dir{"cli_export"};
  ExportSetup() {
    write_model(dir / "model.safetensors", small_cnn_architecture(), {}, 11);
    Tensor<double> x(Shape{4, 1, 6, 6});
    for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = std::sin(0.37 * double(i) + 0.1);
    write_npy(dir / "x.npy", x);
  }
  ProcessResult run(std::vector<std::string> args) const {
    ProcessOptions o;
    o.working_dir = dir.path;
    return run_fluxion(args, o);
  }
  /// `fluxion explain --method saliency` of `model` (extra flags appended), read back.
  template <class T>
  Tensor<T> saliency(const std::string& model, std::vector<std::string> extra, const std::string& out) const {
    std::vector<std::string> args{"explain", "--model", model, "--method", "saliency", "--input", "x.npy", "--target", "1",
                                  "--out", out};
    args.insert(args.end(), extra.begin(), extra.end());
    const ProcessResult r = run(args);
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    return read_npy<T>(dir / out);
  }
};

template <class T>
bool bit_identical(const Tensor<T>& a, const Tensor<T>& b) {
  return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

double relative_difference(const Tensor<double>& a, const Tensor<double>& b) {
  double diff = 0, scale = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff = std::max(diff, std::abs(a.data()[i] - b.data()[i]));
    scale = std::max(scale, std::abs(b.data()[i]));
  }
  return diff / scale;
}

}  // namespace

TEST_CASE("cli export: the exported ONNX file explains to the original model's numbers") {
  ExportSetup s;
  ProcessResult r = s.run({"export", "--model", "model.safetensors", "--onnx", "model.onnx"});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  CHECK(r.out == "wrote model.onnx: 7 nodes, 6 initializers, opset 17, float64\n");
  CHECK(r.err.empty());
  const Tensor<double> original = s.saliency<double>("model.safetensors", {}, "s0.npy");
  const Tensor<double> exported = s.saliency<double>("model.onnx", {}, "s1.npy");
  REQUIRE(original.shape() == Shape{4, 1, 6, 6});
  CHECK(bit_identical(exported, original));
  double largest = 0;
  for (std::size_t i = 0; i < original.size(); ++i) largest = std::max(largest, original.data()[i]);
  CHECK(largest > 1e-3);  // the saliency is not trivially zero

  SUBCASE("exporting the export writes the same model (only the doc_string, naming the source, differs)") {
    r = s.run({"export", "--model", "model.onnx", "--onnx", "again.onnx"});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    onnx::ModelProto first, second;
    REQUIRE(first.ParseFromString(read_bytes(s.dir / "model.onnx")));
    REQUIRE(second.ParseFromString(read_bytes(s.dir / "again.onnx")));
    CHECK(first.doc_string() == "exported by fluxion from model.safetensors");
    CHECK(second.doc_string() == "exported by fluxion from model.onnx");
    first.clear_doc_string();
    second.clear_doc_string();
    CHECK(first.SerializeAsString() == second.SerializeAsString());
  }
  SUBCASE("--smooth-beta writes the smoothed model") {
    r = s.run({"export", "--model", "model.safetensors", "--onnx", "smooth4.onnx", "--smooth-beta", "4"});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    // each of the 2 Relu nodes becomes Mul → Softplus → Div; one β initializer
    CHECK(r.out == "wrote smooth4.onnx: 11 nodes, 7 initializers, opset 17, float64, every Relu as SoftPlus(beta = 4)\n");
    const Tensor<double> smoothed = s.saliency<double>("model.safetensors", {"--smooth-beta", "4"}, "s2.npy");
    CHECK(bit_identical(s.saliency<double>("smooth4.onnx", {}, "s3.npy"), smoothed));  // β = 2²: exact
    CHECK(relative_difference(smoothed, original) > 1e-3);                               // and not the ReLU net
    r = s.run({"export", "--model", "model.safetensors", "--onnx", "smooth10.onnx", "--smooth-beta", "10"});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    const double diff = relative_difference(s.saliency<double>("smooth10.onnx", {}, "s4.npy"),
                                            s.saliency<double>("model.safetensors", {"--smooth-beta", "10"}, "s5.npy"));
    MESSAGE("--smooth-beta 10: saliency of the export vs the smoothed model " << diff);
    CHECK(diff <= 1e-14);
  }
  SUBCASE("--dtype float32 writes a float32 file that explains like the model in float32") {
    r = s.run({"export", "--model", "model.safetensors", "--onnx", "model32.onnx", "--dtype", "float32"});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    CHECK(r.out == "wrote model32.onnx: 7 nodes, 6 initializers, opset 17, float32\n");
    const Tensor<float> original32 = s.saliency<float>("model.safetensors", {"--dtype", "float32"}, "f0.npy");
    CHECK(bit_identical(s.saliency<float>("model32.onnx", {"--dtype", "float32"}, "f1.npy"), original32));
    CHECK(read_bytes(s.dir / "model32.onnx").size() < read_bytes(s.dir / "model.onnx").size());
  }
}

TEST_CASE("cli export: bad flags exit 2, bad files exit 1, one sentence, nothing written") {
  ExportSetup s;
  write_raw(s.dir / "garbage.onnx", "\x08\x07not a protobuf at all");
  write_raw(s.dir / "text.bin", "hello");
  auto fails = [&](const std::string& name, std::vector<std::string> args, int code, std::vector<std::string> mentions) {
    expect_clean_failure(s.dir.path, {name, std::move(args), code, std::move(mentions)});
  };
  fails("no --onnx", {"export", "--model", "model.safetensors"}, 2, {"--onnx"});
  fails("no --model", {"export", "--onnx", "m.onnx"}, 2, {"--model"});
  fails("bad --dtype", {"export", "--model", "model.safetensors", "--onnx", "m.onnx", "--dtype", "float16"}, 2,
        {"--dtype", "float16"});
  fails("negative --smooth-beta", {"export", "--model", "model.safetensors", "--onnx", "m.onnx", "--smooth-beta", "-1"}, 2,
        {"--smooth-beta"});
  fails("non-numeric --smooth-beta", {"export", "--model", "model.safetensors", "--onnx", "m.onnx", "--smooth-beta", "x"},
        2, {"--smooth-beta"});
  fails("missing model", {"export", "--model", "absent.safetensors", "--onnx", "m.onnx"}, 1, {"absent.safetensors"});
  fails("model of no known format", {"export", "--model", "text.bin", "--onnx", "m.onnx"}, 1,
        {"text.bin", "neither a safetensors model nor an ONNX model"});
  fails("broken ONNX model", {"export", "--model", "garbage.onnx", "--onnx", "m.onnx"}, 1, {"garbage.onnx"});
  fails("unwritable output", {"export", "--model", "model.safetensors", "--onnx", "no_such_dir/m.onnx"}, 1,
        {"no_such_dir/m.onnx"});
}
