// `fluxion explain` given broken files: inputs (.npy), models (.safetensors)
// and the architecture description inside a model. Each case must fail with
// exit code 1, one sentence naming the file and the problem, and no output
// (tests/cli/expect_failure.hpp).
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

#include "nn/io/npy.hpp"
#include "tests/cli/cli_fixtures.hpp"
#include "tests/cli/expect_failure.hpp"
#include "tests/nn/scratch_dir.hpp"

using namespace fluxion;
using namespace fluxion::testing;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

/// A folder with a good tiny model and a good input; cases break one of them.
struct ExplainSetup {
  ScratchDir dir{"cli_explain"};
  ExplainSetup() {
    write_tiny_model(dir / "model.safetensors");
    Tensor<double> x = Tensor<double>::from_shape({4});
    for (std::size_t i = 0; i < 4; ++i) x.data()[i] = 0.25 * double(i + 1);
    write_npy(dir / "x.npy", x);
  }
  std::vector<std::string> args(const std::string& method = "ig") const {
    return {"explain", "--model", "model.safetensors", "--method", method, "--input", "x.npy", "--out", "attr.npy"};
  }
  void fails(const std::string& name, std::vector<std::string> mentions) const {
    expect_clean_failure(dir.path, {name, args(), 1, std::move(mentions)});
  }
};

std::string npy_header(const std::string& descr, const std::string& shape, bool fortran = false) {
  return "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") + ", 'shape': " + shape +
         ", }";
}

/// A model file's header: the tiny architecture, then `tensors` (name → entry).
std::string model_header(const nlohmann::json& tensors, const std::string& architecture = tiny_architecture()) {
  nlohmann::json header = tensors;
  header["__metadata__"] = {{"architecture", architecture}};
  return header.dump();
}

}  // namespace

TEST_CASE("explain: the good setup succeeds (the failures below are the files' fault)") {
  ExplainSetup s;
  ProcessOptions options;
  options.working_dir = s.dir.path;
  const ProcessResult r = run_fluxion(s.args(), options);
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(read_npy<double>(s.dir / "attr.npy").size() == 4);
}

// ---- .npy inputs -------------------------------------------------------------

TEST_CASE("explain: truncated .npy input") {
  ExplainSetup s;
  write_raw(s.dir / "x.npy", npy_bytes(npy_header("<f8", "(4,)"), f64_bytes({1, 2, 3})));
  s.fails("truncated .npy input", {"x.npy", "truncated"});
}

TEST_CASE("explain: .npy input longer than its shape") {
  ExplainSetup s;
  write_raw(s.dir / "x.npy", npy_bytes(npy_header("<f8", "(4,)"), f64_bytes({1, 2, 3, 4, 5})));
  s.fails("oversized .npy input (extra bytes)", {"x.npy", "does not match the shape"});
}

TEST_CASE("explain: garbage instead of .npy") {
  ExplainSetup s;
  write_raw(s.dir / "x.npy", "this is not a numpy file at all\n");
  s.fails("garbage .npy input", {"x.npy", "not a .npy file"});
}

TEST_CASE("explain: empty .npy input") {
  ExplainSetup s;
  write_raw(s.dir / "x.npy", "");
  s.fails("empty .npy input", {"x.npy", "empty"});
}

TEST_CASE("explain: .npy shape whose element count overflows 64 bits") {
  ExplainSetup s;
  write_raw(s.dir / "x.npy", npy_bytes(npy_header("<f8", "(4294967296, 4294967296, 16)"), ""));
  s.fails(".npy shape product overflows", {"x.npy", "the count overflows 64 bits"});
}

TEST_CASE("explain: .npy shape above the allocation limit") {
  ExplainSetup s;
  write_raw(s.dir / "x.npy", npy_bytes(npy_header("<f8", "(100000, 100000)"), f64_bytes({1, 2})));
  s.fails(".npy shape above the 2^31-element limit", {"x.npy", "limit"});
}

TEST_CASE("explain: .npy of integers") {
  ExplainSetup s;
  write_raw(s.dir / "x.npy", npy_bytes(npy_header("<i4", "(4,)"), std::string(16, '\1')));
  s.fails(".npy wrong dtype (<i4)", {"x.npy", "dtype '<i4'"});
}

TEST_CASE("explain: big-endian .npy") {
  ExplainSetup s;
  write_raw(s.dir / "x.npy", npy_bytes(npy_header(">f8", "(4,)"), std::string(32, '\0')));
  s.fails(".npy wrong byte order (>f8)", {"x.npy", "dtype '>f8'"});
}

TEST_CASE("explain: Fortran-order .npy") {
  ExplainSetup s;
  write_raw(s.dir / "x.npy", npy_bytes(npy_header("<f8", "(2, 2)", true), f64_bytes({1, 2, 3, 4})));
  s.fails(".npy in Fortran order", {"x.npy", "Fortran order"});
}

TEST_CASE("explain: NaN in the input") {
  ExplainSetup s;
  write_raw(s.dir / "x.npy", npy_bytes(npy_header("<f8", "(4,)"), f64_bytes({1, kNaN, 3, 4})));
  s.fails("NaN in the input", {"x.npy", "element 1 is NaN"});
}

TEST_CASE("explain: infinity in the input") {
  ExplainSetup s;
  write_raw(s.dir / "x.npy", npy_bytes(npy_header("<f8", "(4,)"), f64_bytes({1, 2, -kInf, 4})));
  s.fails("infinity in the input", {"x.npy", "element 2 is infinite"});
}

TEST_CASE("explain: input that does not fit the model") {
  ExplainSetup s;
  write_raw(s.dir / "x.npy", npy_bytes(npy_header("<f8", "(5,)"), f64_bytes({1, 2, 3, 4, 5})));
  s.fails("input shape does not fit the model", {"x.npy", "[5]", "does not fit the model", "[4]"});
}

TEST_CASE("explain: baseline that does not fit the input") {
  ExplainSetup s;
  write_raw(s.dir / "b.npy", npy_bytes(npy_header("<f8", "(3,)"), f64_bytes({1, 2, 3})));
  auto args = s.args();
  args.insert(args.end(), {"--baseline", "b.npy"});
  expect_clean_failure(s.dir.path, {"baseline shape does not fit", args, 1, {"b.npy", "[3]"}});
}

TEST_CASE("explain: input and weights whose product overflows") {
  // Finite input (1e300) and finite weight (1e10), but 1e310 overflows
  // double: the command must refuse to write infinite or NaN attributions.
  ExplainSetup s;
  write_tiny_model(s.dir / "model.safetensors", 1e10);
  write_raw(s.dir / "x.npy", npy_bytes(npy_header("<f8", "(4,)"), f64_bytes({1e300, 1, 1, 1})));
  s.fails("model output overflows (input 1e300, weight 1e10)", {"x.npy", "NaN or infinite", "nothing was written"});
}

// ---- .safetensors models -------------------------------------------------------

TEST_CASE("explain: truncated model file") {
  ExplainSetup s;
  const std::string good = read_bytes(s.dir / "model.safetensors");
  write_raw(s.dir / "model.safetensors", good.substr(0, good.size() - 12));
  s.fails("truncated .safetensors model", {"model.safetensors"});
}

TEST_CASE("explain: model file with bytes past its last tensor") {
  ExplainSetup s;
  write_raw(s.dir / "model.safetensors", read_bytes(s.dir / "model.safetensors") + std::string(24, '\0'));
  s.fails("oversized .safetensors model (trailing bytes)", {"model.safetensors"});
}

TEST_CASE("explain: garbage instead of a model") {
  ExplainSetup s;
  write_raw(s.dir / "model.safetensors", "PK\3\4 certainly not a safetensors file, but long enough");
  s.fails("garbage .safetensors model", {"model.safetensors"});
}

TEST_CASE("explain: model header length near 2^64") {
  ExplainSetup s;
  write_raw(s.dir / "model.safetensors", std::string(8, '\xff') + "{}");
  s.fails(".safetensors header length 2^64-1", {"model.safetensors"});
}

TEST_CASE("explain: model tensor whose shape product overflows") {
  ExplainSetup s;
  const auto header = model_header(
      {{"0.weight", {{"dtype", "F64"}, {"shape", {4294967296ull, 4294967296ull, 16}}, {"data_offsets", {0, 96}}}}});
  write_raw(s.dir / "model.safetensors", safetensors_bytes(header, std::string(96, '\0')));
  s.fails(".safetensors shape product overflows", {"model.safetensors", "0.weight"});
}

TEST_CASE("explain: model tensor far larger than its data") {
  ExplainSetup s;
  const auto header =
      model_header({{"0.weight", {{"dtype", "F64"}, {"shape", {1000000, 1000000}}, {"data_offsets", {0, 96}}}}});
  write_raw(s.dir / "model.safetensors", safetensors_bytes(header, std::string(96, '\0')));
  s.fails(".safetensors shape above its data / limit", {"model.safetensors", "0.weight"});
}

TEST_CASE("explain: model stored as float16") {
  ExplainSetup s;
  nlohmann::json tensors;
  std::size_t at = 0;
  for (auto [name, shape] : std::vector<std::pair<std::string, std::vector<int>>>{
           {"0.bias", {3}}, {"0.weight", {3, 4}}, {"2.bias", {2}}, {"2.weight", {2, 3}}}) {
    std::size_t bytes = 2;
    for (int e : shape) bytes *= std::size_t(e);
    tensors[name] = {{"dtype", "F16"}, {"shape", shape}, {"data_offsets", {at, at + bytes}}};
    at += bytes;
  }
  write_raw(s.dir / "model.safetensors", safetensors_bytes(model_header(tensors), std::string(at, '\0')));
  s.fails(".safetensors wrong dtype (F16)", {"model.safetensors", "F16"});
}

TEST_CASE("explain: NaN weight") {
  ExplainSetup s;
  write_tiny_model(s.dir / "model.safetensors", kNaN);
  s.fails("NaN weight in the model", {"model.safetensors", "0.weight", "NaN"});
}

TEST_CASE("explain: infinite weight") {
  ExplainSetup s;
  write_tiny_model(s.dir / "model.safetensors", -kInf);
  s.fails("infinite weight in the model", {"model.safetensors", "0.weight", "infinite"});
}

TEST_CASE("check and interactions refuse a NaN weight too") {
  ExplainSetup s;
  write_tiny_model(s.dir / "model.safetensors", kNaN);
  auto args = s.args("ih");
  args[0] = "interactions";
  expect_clean_failure(s.dir.path, {"NaN weight (interactions)", args, 1, {"model.safetensors", "NaN"}});
  expect_clean_failure(s.dir.path, {"NaN weight (check)",
                                    {"check", "--model", "model.safetensors", "--method", "ig", "--input", "x.npy"},
                                    1,
                                    {"model.safetensors", "NaN"}});
}

TEST_CASE("explain: model without an architecture") {
  ExplainSetup s;
  const auto header =
      nlohmann::json{{"0.weight", {{"dtype", "F64"}, {"shape", {2}}, {"data_offsets", {0, 16}}}}}.dump();
  write_raw(s.dir / "model.safetensors", safetensors_bytes(header, f64_bytes({1, 2})));
  s.fails("model without architecture metadata", {"model.safetensors", "architecture"});
}

TEST_CASE("explain: model tensor of the wrong shape for its architecture") {
  ExplainSetup s;
  const std::string arch = R"({"input_shape":[4],"layers":[{"type":"linear","in":4,"out":2,"bias":false}]})";
  const auto header =
      model_header({{"0.weight", {{"dtype", "F64"}, {"shape", {2, 3}}, {"data_offsets", {0, 48}}}}}, arch);
  write_raw(s.dir / "model.safetensors", safetensors_bytes(header, f64_bytes({1, 2, 3, 4, 5, 6})));
  s.fails("model tensor shape differs from the architecture", {"model.safetensors", "0.weight", "[2, 3]", "[2, 4]"});
}

// ---- the architecture description inside a model --------------------------------

TEST_CASE("explain: truncated architecture JSON in the model") {
  ExplainSetup s;
  const auto header = model_header(nlohmann::json::object(), tiny_architecture().substr(0, 30));
  write_raw(s.dir / "model.safetensors", safetensors_bytes(header, ""));
  s.fails("truncated architecture JSON in the model", {"model.safetensors", "JSON"});
}

TEST_CASE("explain: garbage architecture in the model") {
  ExplainSetup s;
  const auto header = model_header(nlohmann::json::object(), "\x01\x02 garbage [[[");
  write_raw(s.dir / "model.safetensors", safetensors_bytes(header, ""));
  s.fails("garbage architecture in the model", {"model.safetensors"});
}

TEST_CASE("explain: architecture with a line break in the model") {
  // The message quotes the description: a newline in it must not break the line.
  ExplainSetup s;
  const auto header = model_header(nlohmann::json::object(), "not json\nsecond line");
  write_raw(s.dir / "model.safetensors", safetensors_bytes(header, ""));
  s.fails("architecture metadata with a newline, not JSON", {"model.safetensors"});
}

TEST_CASE("explain: architecture with a layer above the size limit") {
  ExplainSetup s;
  const std::string arch =
      R"({"input_shape":[4],"layers":[{"type":"linear","in":4,"out":10000000000}]})";
  write_raw(s.dir / "model.safetensors", safetensors_bytes(model_header(nlohmann::json::object(), arch), ""));
  s.fails("architecture layer above the 2^31 limit", {"model.safetensors", "layer 0", "2^31"});
}

TEST_CASE("explain: architecture whose input size overflows") {
  ExplainSetup s;
  const std::string arch =
      R"({"input_shape":[4294967296,4294967296,2],"layers":[{"type":"flatten"}]})";
  write_raw(s.dir / "model.safetensors", safetensors_bytes(model_header(nlohmann::json::object(), arch), ""));
  s.fails("architecture input shape product overflows", {"model.safetensors", "2^31"});
}
