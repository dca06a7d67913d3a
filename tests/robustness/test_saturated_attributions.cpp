// Attribution methods on saturated inputs: small softplus and sigmoid models
// (nn layers, loaded the way the CLI loads them) given inputs scaled by 1e4,
// where every hidden unit sits deep in its flat or linear regime. Every
// method of the registry must return finite values (and, for path methods,
// finite output changes and completeness gaps), for logit and probability
// outputs, in float and double.
#include <doctest/doctest.h>

#include <cmath>

#include "tests/robustness/all_finite.hpp"
#include "attribution/method_registry.hpp"
#include "nn/models/architecture.hpp"
#include "nn/models/smoothing.hpp"

using namespace fluxion;

namespace {

// [1, 3, 3] images (9 features: small enough for exact Shapley interactions,
// image-shaped for Blur IG).
const char* const kSoftplusNet =
    R"({"input_shape":[1,3,3],"layers":[{"type":"flatten"},{"type":"linear","in":9,"out":6},)"
    R"({"type":"softplus","beta":1},{"type":"linear","in":6,"out":3}]})";
const char* const kSigmoidNet =
    R"({"input_shape":[1,3,3],"layers":[{"type":"flatten"},{"type":"linear","in":9,"out":6},)"
    R"({"type":"sigmoid"},{"type":"linear","in":6,"out":3}]})";

/// n examples of ±1e4-scale pixels.
template <class T>
Tensor<T> saturated_batch(std::size_t n, double offset) {
  Tensor<T> x = Tensor<T>::from_shape({n, 1, 3, 3});
  for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = T(1e4 * std::sin(1.7 * double(i) + offset));
  return x;
}

template <class T>
void check_every_method(const char* architecture, OutputKind kind) {
  const Sequential<T> model = build_model<T>(architecture, 11);
  ExplainedOutput<T> out;
  out.model = as_function(model);
  out.kind = kind;
  const Tensor<T> x = saturated_batch<T>(2, 0.0);
  MethodSettings<T> s;
  s.references = saturated_batch<T>(40, 0.5);  // IG2 needs references of other classes
  s.reference_labels = predicted_classes(out.model, s.references);
  const auto split = split_at_last_linear(model);
  s.features = as_function(split.features);
  s.head = as_function(split.head);
  s.steps = 8;    // enough to exercise every method, cheap enough for a test
  s.samples = 2;  // IG2: references per example
  for (const auto& m : method_catalogue()) {
    INFO("method " << m.name);
    MethodOutput<T> r;
    REQUIRE_NOTHROW(r = run_method(m.name, out, x, {}, s));
    CHECK(all_finite(r.values));
    CHECK(all_finite(r.output_changes));
    CHECK(all_finite(r.completeness_gaps));
  }
}

}  // namespace

TEST_CASE_TEMPLATE("saturated inputs: every attribution method stays finite (softplus net)", T, float, double) {
  for (OutputKind kind : {OutputKind::logit, OutputKind::probability}) {
    const std::string name = kind == OutputKind::logit ? "logit" : "probability";
    INFO("output " << name);
    check_every_method<T>(kSoftplusNet, kind);
  }
}

TEST_CASE_TEMPLATE("saturated inputs: every attribution method stays finite (sigmoid net)", T, float, double) {
  for (OutputKind kind : {OutputKind::logit, OutputKind::probability}) {
    const std::string name = kind == OutputKind::logit ? "logit" : "probability";
    INFO("output " << name);
    check_every_method<T>(kSigmoidNet, kind);
  }
}
