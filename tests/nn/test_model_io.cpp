// Tests for nn/models/model_io: model files round trip in float and double,
// interoperate with an independent NumPy implementation of the PyTorch
// forward pass (tests/python/nn_model_fixtures.py), and reject files that
// disagree with their architecture without changing anything.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>

#include "tests/nn/scratch_dir.hpp"
#include <random>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "autodiff/errors.hpp"
#include "nn/io/npy.hpp"
#include "nn/io/safetensors.hpp"
#include "nn/models/architecture.hpp"
#include "nn/models/model_io.hpp"

#ifndef FLUXION_SOURCE_DIR
#error "FLUXION_SOURCE_DIR must be defined for the tests"
#endif

namespace fs = std::filesystem;
using namespace fluxion;

namespace {

struct ScratchDir : testing::ScratchDir {
  ScratchDir() : testing::ScratchDir("model_io") {}
};

std::string python_with_numpy() {
  std::vector<std::string> candidates;
  if (const char* env = std::getenv("FLUXION_PYTHON")) candidates.emplace_back(env);
  candidates.emplace_back("python3");
  candidates.emplace_back("/usr/bin/python3");
  for (const auto& python : candidates)
    if (std::system((python + " -c 'import numpy' > /dev/null 2>&1").c_str()) == 0) return python;
  return "";
}

int run_fixture(const std::string& python, const std::string& mode, const fs::path& dir) {
  std::string command = python + " '" FLUXION_SOURCE_DIR "/tests/python/nn_model_fixtures.py' " + mode + " '" +
                        dir.string() + "'";
  return std::system(command.c_str());
}

std::string load_error(const fs::path& path) {
  try {
    load_model<float>(path);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

const char* kTiny =
    R"({"input_shape":[4],"layers":[{"type":"linear","in":4,"out":3},{"type":"relu"},{"type":"linear","in":3,"out":2}]})";

}  // namespace

TEST_CASE("model_io: save/load round trips exactly in float and double") {
  ScratchDir dir;
  Sequential<float> f = build_model<float>("cnn", 3);
  save_model(dir / "f.safetensors", f, {{"test_accuracy", "0.9912"}});
  Sequential<float> f2 = load_model<float>(dir / "f.safetensors");
  Sequential<double> fd = load_model<double>(dir / "f.safetensors");  // F32 widens exactly
  CHECK(describe_model(f2) == describe_model(f));
  auto p = f.named_parameters(), p2 = f2.named_parameters();
  auto pd = fd.named_parameters();
  for (std::size_t i = 0; i < p.size(); ++i) {
    CHECK(p[i].value.value() == p2[i].value.value());
    CHECK(xt::cast<double>(p[i].value.value()) == pd[i].value.value());
  }
  CHECK_FALSE(f2.training());  // loaded models are ready to explain
  auto metadata = read_model_metadata(dir / "f.safetensors");
  CHECK(metadata.at("test_accuracy") == "0.9912");
  CHECK(nlohmann::json::parse(metadata.at("architecture"))["dtype"] == "float32");
  auto raw = read_safetensors(dir / "f.safetensors");
  CHECK(raw.dtypes.at("0.weight") == "F32");

  Sequential<double> d = build_model<double>("mlp", 4);
  save_model(dir / "d.safetensors", d);
  CHECK(read_safetensors(dir / "d.safetensors").dtypes.at("1.weight") == "F64");
  Sequential<double> d2 = load_model<double>(dir / "d.safetensors");
  auto q = d.named_parameters(), q2 = d2.named_parameters();
  for (std::size_t i = 0; i < q.size(); ++i) CHECK(q[i].value.value() == q2[i].value.value());
}

TEST_CASE("model_io: a PyTorch-layout file made by NumPy loads and gives NumPy's logits, and back") {
  const std::string python = python_with_numpy();
  if (python.empty()) FAIL("no python3 with numpy found (tried $FLUXION_PYTHON, python3, /usr/bin/python3)");
  ScratchDir dir;
  REQUIRE(run_fixture(python, "write", dir.path) == 0);
  Sequential<double> model = load_model<double>(dir / "py_model.safetensors");
  Tensor<double> x = read_npy<double>(dir / "py_input.npy");
  Tensor<double> expected = read_npy<double>(dir / "py_logits.npy");
  Tensor<double> z = model.forward(Var<double>(x)).value();
  REQUIRE(shape_of(z) == shape_of(expected));
  // same float64 arithmetic, different summation order: ~1e-15
  for (std::size_t i = 0; i < z.size(); ++i) CHECK(std::abs(z.data()[i] - expected.data()[i]) < 1e-12);

  // the other way: a double model of the same architecture saved here, checked by NumPy
  Sequential<double> mine = build_model<double>(describe_model(model), 99);
  save_model(dir / "cpp_model.safetensors", mine);
  write_npy(dir / "cpp_input.npy", x);
  write_npy(dir / "cpp_logits.npy", Tensor<double>(mine.forward(Var<double>(x)).value()));
  CHECK(run_fixture(python, "check", dir.path) == 0);
}

TEST_CASE("model_io: files that disagree with their architecture are rejected with the file named") {
  ScratchDir dir;
  Sequential<double> model = build_model<double>(kTiny, 5);
  auto tensors = parameter_tensors(model);
  nlohmann::json arch = nlohmann::json::parse(describe_model(model));
  auto write = [&](const std::string& name, std::map<std::string, Tensor<double>> t, nlohmann::json a,
                   StorageDtype dtype = StorageDtype::F32) {
    std::map<std::string, std::string> metadata;
    if (!a.is_null()) metadata["architecture"] = a.dump();
    write_safetensors(dir / name, t, metadata, dtype);
    return dir / name;
  };

  SUBCASE("missing parameter") {
    auto t = tensors;
    t.erase("2.bias");
    fs::path path = write("missing.safetensors", t, arch);
    std::string e = load_error(path);
    CHECK(contains(e, path.string()));
    CHECK(contains(e, "\"2.bias\""));
    CHECK(contains(e, "missing"));
  }
  SUBCASE("shape disagrees") {
    auto t = tensors;
    t["0.weight"] = filled<double>({4, 3}, 0.5);
    std::string e = load_error(write("shape.safetensors", t, arch));
    CHECK(contains(e, "shape.safetensors"));
    CHECK(contains(e, "\"0.weight\" has shape [4, 3] but the architecture needs [3, 4]"));
  }
  SUBCASE("dtype disagrees with the architecture's dtype") {
    auto a = arch;
    a["dtype"] = "float32";
    std::string e = load_error(write("dtype.safetensors", tensors, a, StorageDtype::F64));
    CHECK(contains(e, "dtype.safetensors"));
    CHECK(contains(e, "stored as F64 but the architecture says float32"));
  }
  SUBCASE("extra tensor") {
    auto t = tensors;
    t["9.weight"] = filled<double>({2, 2}, 0.5);
    std::string e = load_error(write("extra.safetensors", t, arch));
    CHECK(contains(e, "\"9.weight\" is not a parameter"));
  }
  SUBCASE("no architecture") {
    std::string e = load_error(write("noarch.safetensors", tensors, nullptr));
    CHECK(contains(e, "noarch.safetensors"));
    CHECK(contains(e, "architecture"));
  }
  SUBCASE("unknown layer type in the stored description") {
    auto a = arch;
    a["layers"][1]["type"] = "swish";
    std::string e = load_error(write("swish.safetensors", tensors, a));
    CHECK(contains(e, "swish.safetensors"));
    CHECK(contains(e, "unknown type \"swish\""));
  }
  SUBCASE("a failed assignment changes no parameter") {
    auto t = tensors;
    t["2.weight"] = filled<double>({1, 1}, 0.5);  // bad, checked after 0.* which are fine
    t["0.weight"] = filled<double>({3, 4}, 7.0);
    write("partial.safetensors", t, arch);
    SafetensorsFile file = read_safetensors(dir / "partial.safetensors");
    Tensor<double> before = model.named_parameters()[0].value.value();
    CHECK_THROWS_AS(assign_parameters(model, file, dir / "partial.safetensors"), InputError);
    CHECK(model.named_parameters()[0].value.value() == before);
  }
}
