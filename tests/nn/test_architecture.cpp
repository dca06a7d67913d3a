// Tests for nn/models: architecture descriptions (round trip, presets, bad
// descriptions), smooth(), split_at_last_linear(), as_function() and
// precision conversion — each against an independent computation.
#include <doctest/doctest.h>

#include <cmath>
#include <random>

#include <nlohmann/json.hpp>

#include "autodiff/errors.hpp"
#include "autodiff/transforms.hpp"
#include "nn/models/architecture.hpp"
#include "nn/models/convert.hpp"
#include "nn/models/smoothing.hpp"
#include "nn/modules/activations.hpp"
#include "nn/modules/linear.hpp"

using namespace fluxion;

namespace {

Tensor<double> random_images(std::size_t n, std::uint64_t seed, Shape example = {1, 28, 28}) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  example.insert(example.begin(), n);
  Tensor<double> t(example);
  for (auto& v : t) v = u(rng);
  return t;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("architecture: presets have the documented layers, names and shapes") {
  Sequential<float> mlp = build_model<float>("mlp", 0);
  Sequential<float> cnn = build_model<float>("cnn", 0);
  CHECK(mlp.input_shape() == Shape{1, 28, 28});
  CHECK(cnn.input_shape() == Shape{1, 28, 28});
  CHECK(mlp.output_shape() == Shape{10});
  CHECK(cnn.output_shape() == Shape{10});
  std::vector<std::pair<std::string, Shape>> mlp_expected{{"1.weight", {256, 784}}, {"1.bias", {256}},
                                                          {"3.weight", {256, 256}}, {"3.bias", {256}},
                                                          {"5.weight", {10, 256}},  {"5.bias", {10}}};
  std::vector<std::pair<std::string, Shape>> cnn_expected{
      {"0.weight", {16, 1, 5, 5}}, {"0.bias", {16}}, {"3.weight", {32, 16, 5, 5}}, {"3.bias", {32}},
      {"7.weight", {128, 512}},    {"7.bias", {128}}, {"9.weight", {10, 128}},      {"9.bias", {10}}};
  for (auto [model, expected] : {std::pair{&mlp, &mlp_expected}, std::pair{&cnn, &cnn_expected}}) {
    auto params = model->named_parameters();
    REQUIRE(params.size() == expected->size());
    for (std::size_t i = 0; i < params.size(); ++i) {
      CHECK(params[i].name == (*expected)[i].first);
      CHECK(params[i].value.shape() == (*expected)[i].second);
    }
  }
  Var<float> logits = cnn.forward(Var<float>(xt::cast<float>(random_images(3, 1))));
  CHECK(logits.shape() == Shape{3, 10});
}

TEST_CASE("architecture: description round trip Sequential -> JSON -> Sequential") {
  const std::string custom =
      R"({"input_shape":[2,9,9],"layers":[{"type":"conv2d","in":2,"out":3,"kernel":3,"stride":2,"padding":1},)"
      R"({"type":"softplus","beta":5},{"type":"avgpool2d","kernel":2,"stride":1},{"type":"tanh"},)"
      R"({"type":"maxpool2d","kernel":2},{"type":"flatten"},{"type":"dropout","p":0.25},)"
      R"({"type":"linear","in":12,"out":4,"bias":false},{"type":"sigmoid"}]})";
  for (const std::string& description : {std::string("mlp"), std::string("cnn"), custom}) {
    CAPTURE(description);
    Sequential<double> a = build_model<double>(description, 5);
    std::string text = describe_model(a);
    Sequential<double> b = build_model<double>(text, 5);
    CHECK(describe_model(b) == text);
    // the JSON is the documented format, not just self-consistent
    auto doc = nlohmann::json::parse(text);
    CHECK(doc["input_shape"].size() == a.input_shape().size());
    CHECK(doc["layers"].size() == a.size());
    // same seed → same weights
    auto pa = a.named_parameters(), pb = b.named_parameters();
    REQUIRE(pa.size() == pb.size());
    for (std::size_t i = 0; i < pa.size(); ++i) CHECK(pa[i].value.value() == pb[i].value.value());
  }
  auto doc = nlohmann::json::parse(describe_model(build_model<double>(custom, 0)));
  CHECK(doc["layers"][0]["stride"] == 2);
  CHECK(doc["layers"][0]["padding"] == 1);
  CHECK(doc["layers"][1]["beta"] == 5.0);
  CHECK(doc["layers"][4]["stride"] == 2);  // pool stride defaults to the kernel
  CHECK(doc["layers"][7]["bias"] == false);
}

TEST_CASE("architecture: bad descriptions give one sentence naming the source and the problem") {
  auto err = [](const std::string& d) { return error_of([&] { build_model<float>(d, 0, "model.json"); }); };
  std::string unknown = err(R"({"input_shape":[4],"layers":[{"type":"linear","in":4,"out":2},{"type":"gelu"}]})");
  CHECK(contains(unknown, "model.json"));
  CHECK(contains(unknown, "layer 1"));
  CHECK(contains(unknown, "unknown type \"gelu\""));
  CHECK(contains(err(R"({"input_shape":[4],"layers":[{"type":"linear","in":4,"out":2,"outt":3}]})"),
                 "unknown field \"outt\""));
  CHECK(contains(err(R"({"input_shape":[4],"layers":[{"type":"linear","in":4}]})"), "needs the field \"out\""));
  CHECK(contains(err(R"({"input_shape":[4],"layers":[{"type":"linear","in":-4,"out":2}]})"), "integer >= 1"));
  CHECK(contains(err(R"({"input_shape":[5],"layers":[{"type":"linear","in":4,"out":2}]})"), "does not fit"));
  CHECK(contains(err(R"({"layers":[{"type":"relu"}]})"), "input_shape"));
  CHECK(contains(err(R"({"input_shape":[4],"layers":[]})"), "non-empty \"layers\""));
  CHECK(contains(err("mlpp"), "neither a preset"));
  CHECK(contains(err(R"({"input_shape":[4],"layers":[{"type":"softplus","beta":0}]})"), "beta"));
  CHECK(contains(err(R"({"input_shape":[4],"layers":[{"type":"relu"}],"dtype":"int8"})"), "dtype"));
}

TEST_CASE("smoothing: smooth() shares weights, swaps only ReLUs, and stays within ln2/β per unit") {
  Sequential<double> model = build_model<double>(
      R"({"input_shape":[6],"layers":[{"type":"linear","in":6,"out":5},{"type":"relu"},{"type":"linear","in":5,"out":3}]})",
      21);
  const double beta = 8.0;
  Sequential<double> smoothed = smooth(model, beta);
  REQUIRE(smoothed.size() == 3);
  CHECK(smoothed.layers()[0] == model.layers()[0]);  // the same Linear object
  CHECK(smoothed.layers()[2] == model.layers()[2]);
  auto* sp = dynamic_cast<SoftPlus<double>*>(smoothed.layers()[1].get());
  REQUIRE(sp != nullptr);
  CHECK(sp->beta() == beta);
  CHECK(dynamic_cast<ReLU<double>*>(model.layers()[1].get()) != nullptr);  // original untouched

  // 0 ≤ softplus_β − relu ≤ ln2/β per hidden unit, so |Δz_c| ≤ Σ_j |W2_cj| ln2/β
  Tensor<double> x = random_images(50, 22, {6});
  Tensor<double> z = model.forward(Var<double>(x)).value();
  Tensor<double> zs = smoothed.forward(Var<double>(x)).value();
  const auto& W2 = dynamic_cast<Linear<double>&>(model.layer(2)).weight().value();
  for (std::size_t n = 0; n < 50; ++n)
    for (std::size_t c = 0; c < 3; ++c) {
      double bound = 0;
      for (std::size_t j = 0; j < 5; ++j) bound += std::abs(W2(c, j)) * std::log(2.0) / beta;
      CHECK(std::abs(zs(n, c) - z(n, c)) <= bound + 1e-14);
    }
  // changing a weight through the original changes the smoothed model too
  auto w = model.named_parameters()[0].value;
  w.assign(w.value() * 2.0);
  CHECK(smoothed.named_parameters()[0].value.value() == w.value());
}

TEST_CASE("smoothing: split_at_last_linear gives head ∘ features = model") {
  Sequential<double> cnn = build_model<double>("cnn", 3);
  SplitSequential<double> parts = split_at_last_linear(cnn);
  CHECK(parts.features.size() == 9);
  CHECK(parts.head.size() == 1);
  CHECK(parts.features.output_shape() == Shape{128});
  CHECK(parts.head.input_shape() == Shape{128});
  Tensor<double> x = random_images(4, 4);
  Tensor<double> direct = cnn.forward(Var<double>(x)).value();
  Tensor<double> composed = parts.head.forward(parts.features.forward(Var<double>(x))).value();
  CHECK(direct == composed);  // the same operations in the same order: bit-identical
  Sequential<double> no_linear = build_model<double>(R"({"input_shape":[3],"layers":[{"type":"relu"}]})", 0);
  CHECK_THROWS_AS(split_at_last_linear(no_linear), ShapeError);
}

TEST_CASE("smoothing: as_function works with the autodiff transforms") {
  Sequential<double> model = smooth(build_model<double>("mlp", 8), 10.0);
  Function<double> f = as_function(model);
  Tensor<double> x = random_images(1, 9);
  // scalar: logit 3 of the single image
  Function<double> logit3 = [f](const Var<double>& v) { return select(f(v), std::vector<std::size_t>{3}); };
  Tensor<double> g = grad(logit3, x);
  REQUIRE(shape_of(g) == Shape{1, 1, 28, 28});
  // compare a few coordinates with central differences (smooth model; h = 1e-6
  // leaves truncation ~1e-10 and rounding ~1e-10)
  for (std::size_t i : {100u, 350u, 401u, 600u}) {
    Tensor<double> xp = x, xm = x;
    xp.data()[i] += 1e-6;
    xm.data()[i] -= 1e-6;
    double fd = (logit3(Var<double>(xp)).item() - logit3(Var<double>(xm)).item()) / 2e-6;
    CHECK(std::abs(fd - g.data()[i]) < 1e-7);
  }
}

TEST_CASE("convert: float <-> double keeps the architecture; float -> double is exact") {
  Sequential<float> f = build_model<float>("cnn", 17);
  Sequential<double> d = convert_model<double>(f);
  CHECK(describe_model(d) == describe_model(f));
  auto pf = f.named_parameters();
  auto pd = d.named_parameters();
  for (std::size_t i = 0; i < pf.size(); ++i) CHECK(xt::cast<double>(pf[i].value.value()) == pd[i].value.value());
  Sequential<float> back = convert_model<float>(d);
  auto pb = back.named_parameters();
  for (std::size_t i = 0; i < pf.size(); ++i) CHECK(pb[i].value.value() == pf[i].value.value());
  // a copy, not a view: changing d leaves f alone
  pd[0].value.assign(pd[0].value.value() * 0.0);
  CHECK(xt::cast<double>(pf[0].value.value()) != pd[0].value.value());
  // logits agree to float precision (double run of float weights vs float run)
  Tensor<double> x = random_images(2, 18);
  Sequential<double> d2 = convert_model<double>(f);
  Tensor<double> zd = d2.forward(Var<double>(x)).value();
  Tensor<float> zf = f.forward(Var<float>(xt::cast<float>(x))).value();
  for (std::size_t i = 0; i < zd.size(); ++i) CHECK(std::abs(zd.data()[i] - zf.data()[i]) < 1e-4);
}
