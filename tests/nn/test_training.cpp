// Tests for nn/training: batching, SGD and Adam against hand-computed
// updates, evaluation against a brute-force count, a full training run on
// synthetic data, bit-identical resume from a checkpoint, bad data, and the
// smoothing report.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>

#include "tests/nn/scratch_dir.hpp"
#include <random>
#include <set>
#include <unistd.h>

#include "autodiff/backward.hpp"
#include "autodiff/errors.hpp"
#include "nn/models/architecture.hpp"
#include "nn/models/smoothing.hpp"
#include "nn/models/smoothing_report.hpp"
#include "nn/training/adam.hpp"
#include "nn/training/batching.hpp"
#include "nn/training/evaluate.hpp"
#include "nn/training/sgd.hpp"
#include "nn/training/trainer.hpp"

namespace fs = std::filesystem;
using namespace fluxion;

namespace {

struct ScratchDir : testing::ScratchDir {
  ScratchDir() : testing::ScratchDir("training") {}
};

// Two Gaussian blobs in 4-D, centred at ±(1, 1, 0, 0)·1.5: linearly separable
// up to the tails (Bayes error ≈ Φ(−1.5·√2) ≈ 1.7%).
template <class T>
Dataset<T> blobs(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0.0, 1.0);
  Dataset<T> d;
  d.inputs = Tensor<T>(Shape{n, 4});
  for (std::size_t i = 0; i < n; ++i) {
    std::size_t label = i % 2;
    double sign = label ? 1.0 : -1.0;
    for (std::size_t j = 0; j < 4; ++j) d.inputs(i, j) = static_cast<T>(noise(rng) + (j < 2 ? 1.5 * sign : 0.0));
    d.labels.push_back(label);
  }
  return d;
}

const char* kSmallNet =
    R"({"input_shape":[4],"layers":[{"type":"linear","in":4,"out":16},{"type":"relu"},{"type":"dropout","p":0.2},)"
    R"({"type":"linear","in":16,"out":2}]})";

// A scalar parameter with a given gradient, as the optimizer sees it.
Var<double> parameter_with_grad(double value, double gradient) {
  Var<double> w(filled<double>({1}, value), true);
  Var<double> loss = sum(mul(w, constant(filled<double>({1}, gradient))));
  backward(loss);  // ∂(g·w)/∂w = g
  return w;
}

}  // namespace

TEST_CASE("batching: every example once per epoch, seeded, last batch smaller") {
  std::mt19937_64 a(3), b(3);
  auto batches = shuffled_batches(103, 10, a);
  REQUIRE(batches.size() == 11);
  CHECK(batches.back().size() == 3);
  std::multiset<std::size_t> all;
  for (const auto& batch : batches) all.insert(batch.begin(), batch.end());
  CHECK(all.size() == 103);
  for (std::size_t i = 0; i < 103; ++i) CHECK(all.count(i) == 1);
  CHECK(shuffled_batches(103, 10, b) == batches);  // same seed, same order
  CHECK(shuffled_batches(103, 10, b) != batches);  // the next epoch differs
  std::vector<std::size_t> identity(103);
  for (std::size_t i = 0; i < 103; ++i) identity[i] = i;
  CHECK(shuffled_indices(103, a) != identity);
  CHECK_THROWS(shuffled_batches(5, 0, a));
}

TEST_CASE("optimizers: SGD with momentum and weight decay follows the PyTorch recurrence") {
  // w0 = 2, lr 0.1, momentum 0.9, weight decay 0.01, gradients 3 then −1:
  //   g1 = 3 + 0.01·2 = 3.02           b1 = 3.02              w1 = 2 − 0.302 = 1.698
  //   g2 = −1 + 0.01·1.698 = −0.98302  b2 = 0.9·3.02 − 0.98302 = 1.73498   w2 = 1.698 − 0.173498
  Var<double> w = parameter_with_grad(2.0, 3.0);
  SGD<double> sgd({{"w", w}}, 0.1, 0.9, 0.01);
  sgd.step();
  CHECK(std::abs(w.value()(0) - 1.698) < 1e-15);
  sgd.zero_grad();
  backward(sum(mul(w, constant(filled<double>({1}, -1.0)))));
  sgd.step();
  CHECK(std::abs(w.value()(0) - (1.698 - 0.1 * 1.73498)) < 1e-15);  // a few roundings of O(1) numbers
  CHECK(sgd.steps() == 2);
  CHECK(std::abs(sgd.state().slots.at("momentum_buffer.w")(0) - 1.73498) < 1e-15);
}

TEST_CASE("optimizers: Adam's first steps match the bias-corrected formula") {
  // Step 1 with gradient g: m̂ = g, v̂ = g², so w moves by lr·g/(|g| + ε) ≈ lr·sign(g).
  Var<double> w = parameter_with_grad(1.0, 0.5);
  Adam<double> adam({{"w", w}}, 0.01);
  adam.step();
  CHECK(std::abs(w.value()(0) - (1.0 - 0.01 * 0.5 / (0.5 + 1e-8))) < 1e-15);
  // Step 2 with gradient −2: m = 0.9·0.05 + 0.1·(−2) = −0.155, v = 0.999·0.00025 + 0.001·4 = 0.00424975
  adam.zero_grad();
  backward(sum(mul(w, constant(filled<double>({1}, -2.0)))));
  double w1 = w.value()(0);
  adam.step();
  double m_hat = -0.155 / (1 - 0.81), v_hat = 0.00424975 / (1 - 0.998001);
  CHECK(std::abs(w.value()(0) - (w1 - 0.01 * m_hat / (std::sqrt(v_hat) + 1e-8))) < 1e-14);
  // state round trip into a fresh optimizer
  Var<double> w2(filled<double>({1}, 0.0), true);
  Adam<double> other({{"w", w2}}, 0.01);
  other.load_state(adam.state());
  CHECK(other.steps() == 2);
  CHECK(other.state().slots.at("exp_avg.w") == adam.state().slots.at("exp_avg.w"));
  OptimizerState<double> broken = adam.state();
  broken.slots.erase("exp_avg_sq.w");
  CHECK_THROWS_AS(other.load_state(broken), InputError);
}

TEST_CASE("evaluate: accuracy and loss equal a direct count") {
  Sequential<double> model = build_model<double>(kSmallNet, 1);
  Dataset<double> data = blobs<double>(37, 2);
  Evaluation e = evaluate(model, data, 8);  // 8 does not divide 37: exercises the last partial batch
  Tensor<double> z = model.forward(Var<double>(data.inputs)).value();
  std::size_t correct = 0;
  double loss = 0;
  for (std::size_t n = 0; n < 37; ++n) {
    correct += (z(n, 1) > z(n, 0) ? 1u : 0u) == data.labels[n];
    loss += std::log(std::exp(z(n, 0)) + std::exp(z(n, 1))) - z(n, data.labels[n]);
  }
  CHECK(e.accuracy == doctest::Approx(correct / 37.0).epsilon(1e-15));
  CHECK(std::abs(e.loss - loss / 37) < 1e-14);  // log-sum-exp computed two ways
}

TEST_CASE("training: a small net learns separable blobs; resume is bit-identical") {
  ScratchDir dir;
  Dataset<float> train = blobs<float>(512, 10), test = blobs<float>(256, 11);
  TrainConfig config;
  config.epochs = 4;
  config.batch_size = 32;
  config.lr = 0.01;
  config.seed = 5;
  config.schedule = "cosine";

  // uninterrupted run
  Sequential<float> full = build_model<float>(kSmallNet, config.seed);
  config.checkpoint = dir / "full.ckpt.safetensors";
  auto full_history = train_model(full, train, test, config);
  REQUIRE(full_history.size() == 4);
  // Bayes accuracy ≈ 98.3%; 256 test points: a learnt net must clear 93%
  CHECK(full_history.back().test_accuracy > 0.93);
  CHECK(full_history.back().loss < full_history.front().loss);
  CHECK_FALSE(full.training());

  // run 2 epochs, then resume to 4 with a freshly built model
  config.checkpoint = dir / "split.ckpt.safetensors";
  config.epochs = 4;
  {
    Sequential<float> first = build_model<float>(kSmallNet, config.seed);
    TrainConfig two = config;
    two.schedule = "cosine";
    two.epochs = 4;
    // stop after 2 epochs by throwing from the callback, as a crash would
    std::size_t seen = 0;
    CHECK_THROWS_WITH(train_model(first, train, test, two,
                                  [&](const EpochReport&) {
                                    if (++seen == 2) throw std::runtime_error("simulated crash");
                                  }),
                      "simulated crash");
  }
  Sequential<float> resumed = build_model<float>(kSmallNet, 12345);  // different init: all comes from the checkpoint
  TrainConfig again = config;
  again.resume = true;
  std::size_t new_epochs = 0;
  auto resumed_history = train_model(resumed, train, test, again, [&](const EpochReport&) { ++new_epochs; });
  CHECK(new_epochs == 2);
  REQUIRE(resumed_history.size() == 4);
  auto pf = full.named_parameters(), pr = resumed.named_parameters();
  for (std::size_t i = 0; i < pf.size(); ++i) CHECK(pf[i].value.value() == pr[i].value.value());  // bit for bit
  for (std::size_t e = 0; e < 4; ++e) {
    CHECK(resumed_history[e].loss == full_history[e].loss);
    CHECK(resumed_history[e].test_accuracy == full_history[e].test_accuracy);
  }

  SUBCASE("resuming with different settings is refused, naming the setting") {
    TrainConfig other = again;
    other.lr = 0.02;
    Sequential<float> m = build_model<float>(kSmallNet, 0);
    try {
      train_model(m, train, test, other);
      FAIL("expected an InputError");
    } catch (const InputError& e) {
      CHECK(std::string(e.what()).find("split.ckpt.safetensors") != std::string::npos);
      CHECK(std::string(e.what()).find("lr") != std::string::npos);
    }
    other = again;
    other.optimizer = "sgd";
    CHECK_THROWS_AS(train_model(m, train, test, other), InputError);
  }
}

TEST_CASE("training: NaN in the data is refused before anything is written") {
  ScratchDir dir;
  Dataset<double> train = blobs<double>(64, 1), test = blobs<double>(16, 2);
  train.inputs(17, 2) = std::nan("");
  Sequential<double> model = build_model<double>(kSmallNet, 0);
  TrainConfig config;
  config.epochs = 1;
  config.checkpoint = dir / "ckpt.safetensors";
  try {
    train_model(model, train, test, config);
    FAIL("expected an InputError");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()) == "training data: example 17 contains NaN");
  }
  CHECK_FALSE(fs::exists(dir / "ckpt.safetensors"));
  CHECK(fs::is_empty(dir.path));  // no temporary file left either
  Dataset<double> bad_labels = blobs<double>(8, 3);
  bad_labels.labels[5] = 2;
  CHECK_THROWS_AS(validate_dataset(bad_labels, "x", 2), InputError);
}

TEST_CASE("smoothing_report: matches direct evaluation of each smoothed copy") {
  Sequential<double> model = build_model<double>(kSmallNet, 4);
  Dataset<double> data = blobs<double>(40, 5);
  SmoothingReport report = smoothing_report(model, data, {2.0, 30.0}, 16);
  REQUIRE(report.rows.size() == 2);
  CHECK(report.relu_accuracy == evaluate(model, data).accuracy);
  Tensor<double> z = model.forward(Var<double>(data.inputs)).value();
  for (const auto& row : report.rows) {
    Sequential<double> s = smooth(model, row.beta);
    Tensor<double> zs = s.forward(Var<double>(data.inputs)).value();
    double max_dev = 0;
    for (std::size_t i = 0; i < z.size(); ++i) max_dev = std::max(max_dev, std::abs(zs.data()[i] - z.data()[i]));
    CHECK(row.max_logit_deviation == doctest::Approx(max_dev).epsilon(1e-12));
    CHECK(row.accuracy == evaluate(s, data).accuracy);
  }
  CHECK(report.rows[1].max_logit_deviation < report.rows[0].max_logit_deviation);  // larger β, closer to ReLU
  CHECK(smoothing_report_markdown(report).find("| 30 |") != std::string::npos);
}
