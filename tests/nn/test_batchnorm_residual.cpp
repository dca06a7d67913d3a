// BatchNorm2d (training and eval mode), residual blocks, global average
// pooling, grouped convolutions and the `resnet` preset: each against an
// independent reference — the formula written out in loops, central finite
// differences in double, forward vs reverse mode, and the model's graph.
// PyTorch's numbers for the same batch are checked in
// tests/python/test_batchnorm_torch.py.
#include <cmath>
#include <random>

#include <doctest/doctest.h>
#include <xtensor/xview.hpp>

#include "autodiff/autodiff.hpp"
#include "nn/graph/sequential_graph.hpp"
#include "nn/io/safetensors.hpp"
#include "nn/models/architecture.hpp"
#include "nn/models/model_io.hpp"
#include "nn/models/smoothing.hpp"
#include "nn/modules/batchnorm.hpp"
#include "nn/modules/conv2d.hpp"
#include "nn/modules/pooling.hpp"
#include "nn/modules/residual.hpp"
#include "nn/training/trainer.hpp"
#include "tests/autodiff/check_derivatives.hpp"
#include "tests/nn/scratch_dir.hpp"

using namespace fluxion;
using fluxion::testing::random_tensor;
using fluxion::testing::worst_entry_ratio;

namespace {

// The batch statistics of channel c, by definition: mean and biased variance over n, i, j.
std::pair<double, double> channel_statistics(const Tensor<double>& x, std::size_t c) {
  const std::size_t N = x.shape()[0], H = x.shape()[2], W = x.shape()[3];
  double sum = 0, sq = 0;
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t i = 0; i < H; ++i)
      for (std::size_t j = 0; j < W; ++j) sum += x(n, c, i, j);
  const double m = double(N * H * W), mu = sum / m;
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t i = 0; i < H; ++i)
      for (std::size_t j = 0; j < W; ++j) sq += (x(n, c, i, j) - mu) * (x(n, c, i, j) - mu);
  return {mu, sq / m};
}

double largest_difference(const Tensor<double>& a, const Tensor<double>& b) {
  REQUIRE(shape_of(a) == shape_of(b));
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(a.data()[i] - b.data()[i]));
  return worst;
}

BatchNorm2d<double> batchnorm_with_affine(std::size_t channels, std::uint64_t seed) {
  BatchNorm2d<double> bn(channels);
  Var<double> gamma = bn.weight(), beta = bn.bias();  // handles to the module's leaves
  gamma.assign(random_tensor({channels}, seed, 0.5, 1.5));
  beta.assign(random_tensor({channels}, seed + 1, -0.5, 0.5));
  return bn;
}

}  // namespace

TEST_CASE("batchnorm2d, training mode: output and running statistics follow the formula") {
  const Shape shape{4, 3, 2, 5};
  const Tensor<double> x = random_tensor(shape, 1, -2, 3);
  BatchNorm2d<double> bn = batchnorm_with_affine(3, 2);
  bn.train();
  Tensor<double> y = bn.forward(Var<double>(x)).value();
  const double m = 4 * 2 * 5;
  double expected_mean[3], expected_var[3];
  for (std::size_t c = 0; c < 3; ++c) {
    const auto [mu, var] = channel_statistics(x, c);
    const double g = bn.weight().value()(c), b = bn.bias().value()(c);
    double worst = 0;
    for (std::size_t n = 0; n < 4; ++n)
      for (std::size_t i = 0; i < 2; ++i)
        for (std::size_t j = 0; j < 5; ++j)
          worst = std::max(worst, std::abs(y(n, c, i, j) - (g * (x(n, c, i, j) - mu) / std::sqrt(var + 1e-5) + b)));
    CHECK(worst <= 1e-14);
    // PyTorch's update: momentum 0.1, the unbiased variance m/(m−1)·σ²
    expected_mean[c] = 0.9 * 0.0 + 0.1 * mu;
    expected_var[c] = 0.9 * 1.0 + 0.1 * var * m / (m - 1);
    CHECK(std::abs(bn.running_mean().value()(c) - expected_mean[c]) <= 1e-15);
    CHECK(std::abs(bn.running_var().value()(c) - expected_var[c]) <= 1e-15);
  }
  // two more batches: the recurrence continues from the stored values
  const Tensor<double> x2 = random_tensor(shape, 3, -1, 1), x3 = random_tensor(shape, 4, 0, 2);
  bn.forward(Var<double>(x2));
  bn.forward(Var<double>(x3));
  for (std::size_t c = 0; c < 3; ++c) {
    double rm = expected_mean[c], rv = expected_var[c];
    for (const Tensor<double>* b : {&x2, &x3}) {
      const auto [mu, var] = channel_statistics(*b, c);
      rm = 0.9 * rm + 0.1 * mu;
      rv = 0.9 * rv + 0.1 * var * m / (m - 1);
    }
    CHECK(std::abs(bn.running_mean().value()(c) - rm) <= 1e-15);
    CHECK(std::abs(bn.running_var().value()(c) - rv) <= 1e-14);
  }
  SUBCASE("eval mode uses the running statistics and leaves them alone") {
    bn.eval();
    const Tensor<double> before = bn.running_mean().value();
    const Tensor<double> z = bn.forward(Var<double>(x2)).value();
    CHECK(bn.running_mean().value() == before);
    double worst = 0;
    for (std::size_t c = 0; c < 3; ++c) {
      const double g = bn.weight().value()(c), b = bn.bias().value()(c);
      const double rm = bn.running_mean().value()(c), rv = bn.running_var().value()(c);
      for (std::size_t n = 0; n < 4; ++n)
        for (std::size_t i = 0; i < 2; ++i)
          for (std::size_t j = 0; j < 5; ++j)
            worst = std::max(worst, std::abs(z(n, c, i, j) - (g * (x2(n, c, i, j) - rm) / std::sqrt(rv + 1e-5) + b)));
    }
    CHECK(worst <= 1e-14);
  }
  SUBCASE("one value per channel cannot be normalised in training") {
    CHECK_THROWS_AS(bn.forward(Var<double>(random_tensor({1, 3, 1, 1}, 5))), ShapeError);
  }
}

TEST_CASE("batchnorm2d, training mode: exact first and second derivatives in x, γ and β") {
  // f(x) = ⟨u, tanh(BN(x))⟩: every example's output depends on the whole batch.
  const Shape shape{3, 2, 2, 2};
  const Tensor<double> x = random_tensor(shape, 11, -1, 1);
  const Tensor<double> u = random_tensor(shape, 12);
  auto bn = std::make_shared<BatchNorm2d<double>>(batchnorm_with_affine(2, 13));
  bn->train();
  const Function<double> f = [bn, u](const Var<double>& z) { return sum(tanh(bn->forward(z)) * Var<double>(u)); };
  const auto f_value = [&](const Tensor<double>& z) {
    NoGradGuard no_graph;
    return f(Var<double>(z)).item();
  };

  SUBCASE("first order: reverse mode vs central differences, and forward vs reverse") {
    fluxion::testing::MultiFn op = [bn](const std::vector<Var<double>>& in) { return tanh(bn->forward(in[0])); };
    const auto e = fluxion::testing::check_op(op, {x}, 21);
    CAPTURE(e.vjp_entrywise);
    CAPTURE(e.jvp_entrywise);
    CAPTURE(e.dot_test);
    fluxion::testing::require_exact_derivatives(e);
  }
  SUBCASE("gradients of the parameters γ, β vs central differences") {
    for (Var<double> p : {bn->weight(), bn->bias()}) p.zero_grad();
    Var<double> z(x);
    backward(f(z));
    for (Var<double> p : {bn->weight(), bn->bias()}) {
      const Tensor<double> analytic = p.grad();
      Tensor<double> numeric(shape_of(analytic));
      const Tensor<double> original = p.value();
      for (std::size_t k = 0; k < original.size(); ++k) {
        Tensor<double> plus = original, minus = original;
        plus.data()[k] += fluxion::testing::fd_step;
        minus.data()[k] -= fluxion::testing::fd_step;
        p.assign(plus);
        const double fp = f_value(x);
        p.assign(minus);
        const double fm = f_value(x);
        numeric.data()[k] = (fp - fm) / (2 * fluxion::testing::fd_step);
      }
      p.assign(original);
      CHECK(worst_entry_ratio(analytic, numeric) <= 1.0);
    }
  }
  SUBCASE("second order: forward-over-reverse = reverse-over-reverse = differences of the gradient") {
    const Tensor<double> v = random_tensor(shape, 31);
    const Tensor<double> hv = hvp(f, x, v), hv_reverse = hvp_reverse(f, x, v);
    CHECK(largest_difference(hv, hv_reverse) <= 1e-12 * std::max(1.0, xt::amax(xt::abs(hv))()));
    const double h = fluxion::testing::fd_step;
    const Tensor<double> fd = (grad(f, Tensor<double>(x + h * v)) - grad(f, Tensor<double>(x - h * v))) / (2 * h);
    CHECK(worst_entry_ratio(hv, fd) <= 1.0);
    CHECK(xt::amax(xt::abs(hv))() > 1e-3);  // not trivially zero
  }
  SUBCASE("the full Hessian against second differences of f itself") {
    const Tensor<double> H = hessian(f, x);
    const std::size_t d = x.size();
    const double h = 1e-4;
    double worst = 0;
    for (std::size_t i = 0; i < d; ++i)
      for (std::size_t j = 0; j < d; ++j) {
        auto at = [&](double si, double sj) {
          Tensor<double> z = x;
          z.data()[i] += si * h;
          z.data()[j] += sj * h;
          return f_value(z);
        };
        const double D = (at(1, 1) - at(1, -1) - at(-1, 1) + at(-1, -1)) / (4 * h * h);
        worst = std::max(worst, std::abs(H.data()[i * d + j] - D) / (1e-6 + 1e-6 * std::abs(D)));
      }
    CHECK(worst <= 1.0);
  }
}

TEST_CASE("residual, global average pooling and grouped conv2d follow their formulas") {
  std::mt19937_64 rng(3);
  const Tensor<double> x = random_tensor({2, 4, 5, 5}, 41);
  SUBCASE("conv2d with groups = 2 is two independent convolutions") {
    Conv2d<double> grouped(4, 6, 3, rng, 1, 1, true, 2);
    REQUIRE(grouped.weight().shape() == Shape{6, 2, 3, 3});
    const Tensor<double> y = grouped.forward(Var<double>(x)).value();
    const Tensor<double>& w = grouped.weight().value();
    double worst = 0;
    for (std::size_t n = 0; n < 2; ++n)
      for (std::size_t o = 0; o < 6; ++o)
        for (std::size_t i = 0; i < 5; ++i)
          for (std::size_t j = 0; j < 5; ++j) {
            double s = grouped.bias().value()(o);
            const std::size_t first = (o / 3) * 2;  // the input channels of o's group
            for (std::size_t c = 0; c < 2; ++c)
              for (std::size_t a = 0; a < 3; ++a)
                for (std::size_t b = 0; b < 3; ++b) {
                  const long r = long(i) + long(a) - 1, q = long(j) + long(b) - 1;
                  if (r >= 0 && r < 5 && q >= 0 && q < 5) s += w(o, c, a, b) * x(n, first + c, r, q);
                }
            worst = std::max(worst, std::abs(y(n, o, i, j) - s));
          }
    CHECK(worst <= 1e-14);
    CHECK_THROWS_AS(Conv2d<double>(4, 6, 3, rng, 1, 1, true, 3), ArgumentError);
  }
  SUBCASE("global_avgpool2d is the mean of each channel's map") {
    const Tensor<double> y = GlobalAvgPool2d<double>().forward(Var<double>(x)).value();
    REQUIRE(y.shape() == Shape{2, 4});
    for (std::size_t n = 0; n < 2; ++n)
      for (std::size_t c = 0; c < 4; ++c) {
        double s = 0;
        for (std::size_t i = 0; i < 5; ++i)
          for (std::size_t j = 0; j < 5; ++j) s += x(n, c, i, j);
        CHECK(std::abs(y(n, c) - s / 25) <= 1e-15);
      }
  }
  SUBCASE("residual: y = body(x) + shortcut(x), identity when the shortcut is empty") {
    auto conv = std::make_shared<Conv2d<double>>(4, 4, 3, rng, 1, 1);
    Sequential<double> body({conv}, {});
    Residual<double> identity_block(body, Sequential<double>({}, {}));
    const Tensor<double> y = identity_block.forward(Var<double>(x)).value();
    const Tensor<double> through = conv->forward(Var<double>(x)).value();
    CHECK(largest_difference(y, Tensor<double>(through + x)) == 0.0);
    auto projection = std::make_shared<Conv2d<double>>(4, 4, 1, rng);
    Residual<double> projected(body, Sequential<double>({projection}, {}));
    const Tensor<double> z = projected.forward(Var<double>(x)).value();
    CHECK(largest_difference(z, Tensor<double>(through + projection->forward(Var<double>(x)).value())) == 0.0);
    CHECK(projected.named_parameters().size() == 4);
    CHECK(projected.named_parameters()[2].name == "shortcut.0.weight");
    // paths of different shapes are refused with both shapes named
    auto narrow = std::make_shared<Conv2d<double>>(4, 2, 1, rng);
    Residual<double> mismatched(body, Sequential<double>({narrow}, {}));
    CHECK_THROWS_WITH_AS(mismatched.output_shape({4, 5, 5}),
                         doctest::Contains("the body gives [4, 5, 5] but the shortcut gives [2, 5, 5]"), ShapeError);
  }
}

TEST_CASE("the resnet preset: structure, state_dict names, file round trip and graph") {
  Sequential<double> net = build_model<double>("resnet", 7);
  CHECK(net.output_shape() == Shape{10});
  std::size_t parameters = 0, statistics = 0;
  for (const auto& p : net.named_parameters()) parameters += p.value.value().size();
  for (const auto& b : net.named_buffers()) statistics += b.value.value().size();
  // conv weights 144 + 2·2304 + 4608 + 9216 + 512 + 18432 + 36864 + 2048, BN γ/β 2·(16·3 + 32·3 + 64·3),
  // linear 640 + 10
  CHECK(parameters == 144 + 2 * 2304 + 4608 + 9216 + 512 + 18432 + 36864 + 2048 + 2 * (16 * 3 + 32 * 3 + 64 * 3) + 650);
  CHECK(statistics == 2 * (16 * 3 + 32 * 3 + 64 * 3));
  // PyTorch's state_dict names for the same nesting
  const auto state = named_state(net);
  auto has = [&](const std::string& name) {
    for (const auto& p : state)
      if (p.name == name) return true;
    return false;
  };
  CHECK(has("0.weight"));
  CHECK(has("1.running_var"));
  CHECK(has("3.body.0.weight"));
  CHECK(has("3.body.4.running_mean"));
  CHECK(has("5.shortcut.1.running_var"));
  CHECK(has("10.bias"));
  // the description alone (no model built) names the same tensors with the same shapes
  std::map<std::string, Shape> described, built;
  for (const auto& p : described_parameters("resnet")) described[p.name] = p.shape;
  for (const auto& p : state) built[p.name] = p.value.shape();
  CHECK(described.size() == state.size());
  CHECK(described == built);

  // Give the running statistics values that are not the initial ones, so the checks below see them.
  net.train();
  net.forward(Var<double>(random_tensor({8, 1, 28, 28}, 51, 0, 1)));
  net.eval();
  const Tensor<double> x = random_tensor({3, 1, 28, 28}, 52, 0, 1);
  const Tensor<double> y = net.forward(Var<double>(x)).value();

  SUBCASE("save and load keep the running statistics") {
    fluxion::testing::ScratchDir dir("resnet_io");
    save_model(dir / "resnet.safetensors", net);
    Sequential<double> loaded = load_model<double>(dir / "resnet.safetensors");
    CHECK(loaded.named_buffers()[0].value.value() == net.named_buffers()[0].value.value());
    CHECK(loaded.forward(Var<double>(x)).value() == y);
  }
  SUBCASE("its graph gives the same outputs and gradients, and smoothing commutes with to_graph") {
    const Graph<double> g = to_graph(net, "resnet");
    CHECK(g.forward(Var<double>(x)).value() == y);
    const Function<double> f = [&](const Var<double>& z) { return sum(net.forward(z)); };
    const Function<double> fg = [&](const Var<double>& z) { return sum(g.forward(z)); };
    CHECK(grad(f, x) == grad(fg, x));
    CHECK(g.default_representation() == "h9");  // the pooled features, input of the linear layer
    Sequential<double> soft = smooth(net, 10.0);
    const Graph<double> gs = g.with_relu_as_softplus(10.0);
    const Tensor<double> ys = soft.forward(Var<double>(x)).value();
    CHECK(largest_difference(gs.forward(Var<double>(x)).value(), ys) <= 1e-13);
    CHECK(largest_difference(ys, y) > 1e-6);  // the ReLUs inside the blocks were smoothed too
  }
}

TEST_CASE("architecture descriptions of the new layers: bad entries get one sentence") {
  auto error_of = [](const std::string& description) {
    try {
      build_model<double>(description, 0, "arch.json");
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const std::string head = R"({"input_shape":[4,6,6],"layers":[)";
  CHECK(error_of(head + R"({"type":"conv2d","in":4,"out":6,"kernel":3,"groups":4}]})") ==
        "arch.json: layer 0 (conv2d) is invalid: groups 4 must divide both in (4) and out (6)");
  CHECK(error_of(head + R"({"type":"batchnorm2d"}]})") == "arch.json: layer 0 (batchnorm2d) needs the field \"channels\"");
  CHECK(error_of(head + R"({"type":"batchnorm2d","channels":4,"momentum":2}]})") ==
        "arch.json: layer 0 (batchnorm2d) is invalid: momentum must be a number in [0, 1], got 2");
  CHECK(error_of(head + R"({"type":"residual","body":[]}]})") ==
        "arch.json: layer 0 (residual) needs a non-empty \"body\" array of layers");
  CHECK(error_of(head + R"({"type":"residual","body":[{"type":"relu"}],"shortcut":{}}]})") ==
        "arch.json: layer 0 (residual) field \"shortcut\" must be an array of layers (empty: the identity)");
  CHECK(error_of(head + R"({"type":"residual","body":[{"type":"reluu"}]}]})").find(
            "arch.json: layer 0 (residual) body layer 0 has unknown type \"reluu\"") == 0);
  CHECK(error_of(head + R"({"type":"residual","body":[{"type":"conv2d","in":4,"out":2,"kernel":1}]}]})")
            .find("the body gives [2, 6, 6] but the shortcut gives [4, 6, 6]") != std::string::npos);
  std::string deep = R"({"type":"relu"})";
  for (int i = 0; i < 9; ++i) deep = R"({"type":"residual","body":[)" + deep + "]}";
  CHECK(error_of(head + deep + "]}").find("nests residual blocks more than 8 deep") != std::string::npos);
}

TEST_CASE("training a residual BatchNorm net: it learns, and resume is bit-identical (running statistics too)") {
  fluxion::testing::ScratchDir dir("bn_training");
  // 4×4 "images" of two classes: a bright top half or a bright bottom half, with noise.
  auto halves = [](std::size_t n, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> noise(0.f, 0.5f);
    Dataset<float> d;
    d.inputs = Tensor<float>(Shape{n, 1, 4, 4});
    for (std::size_t k = 0; k < n; ++k) {
      const std::size_t label = k % 2;
      d.labels.push_back(label);
      for (std::size_t i = 0; i < 4; ++i)
        for (std::size_t j = 0; j < 4; ++j) d.inputs(k, 0, i, j) = ((i < 2) == (label == 0) ? 1.f : 0.f) + noise(rng);
    }
    return d;
  };
  const Dataset<float> train = halves(256, 1), test = halves(128, 2);
  const std::string arch =
      R"({"input_shape":[1,4,4],"layers":[{"type":"conv2d","in":1,"out":4,"kernel":3,"padding":1,"bias":false},)"
      R"({"type":"batchnorm2d","channels":4},{"type":"relu"},)"
      R"({"type":"residual","body":[{"type":"conv2d","in":4,"out":4,"kernel":3,"padding":1,"groups":2},)"
      R"({"type":"batchnorm2d","channels":4}]},{"type":"relu"},{"type":"global_avgpool2d"},)"
      R"({"type":"linear","in":4,"out":2}]})";
  TrainConfig config;
  config.epochs = 4;
  config.batch_size = 32;
  config.lr = 0.01;
  config.seed = 9;
  config.schedule = "cosine";
  config.checkpoint = dir / "full.ckpt";
  Sequential<float> full = build_model<float>(arch, config.seed);
  const auto history = train_model(full, train, test, config);
  CHECK(history.back().test_accuracy > 0.9);  // the classes are separated by 2 noise standard deviations per pixel
  config.checkpoint = dir / "split.ckpt";
  {
    Sequential<float> first = build_model<float>(arch, config.seed);
    std::size_t seen = 0;
    CHECK_THROWS(train_model(first, train, test, config, [&](const EpochReport&) {
      if (++seen == 2) throw std::runtime_error("simulated crash");
    }));
  }
  Sequential<float> resumed = build_model<float>(arch, 4321);
  TrainConfig again = config;
  again.resume = true;
  const auto resumed_history = train_model(resumed, train, test, again);
  const auto a = named_state(full), b = named_state(resumed);
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    CAPTURE(a[i].name);
    CHECK(a[i].value.value() == b[i].value.value());
  }
  CHECK(resumed_history.back().test_accuracy == history.back().test_accuracy);
}
