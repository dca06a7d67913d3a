// The derivative checks again in float32.
//
// Finite differences are useless in float (ε ≈ 6e-8: a central difference
// with step h has rounding error ~ε|f|/h, 1e-4 already for h = 1e-3, the
// same size as its truncation error). So every float result is compared
// with the double computation of the same function at the same inputs: the
// models hold float-rounded parameters in both precisions (small_models.hpp),
// the inputs are float-rounded too, and the double result is the reference.
//
// Tolerances (relative to the largest entry of the reference):
//   values, gradients, JVPs/VJPs         ≤ 1e-5   (a few dozen roundings of 6e-8)
//   HVPs (both modes), Hessians          ≤ 1e-4   (second derivatives sum more,
//                                                  partly cancelling, terms)
//   dot-product test ⟨u, J v⟩ = ⟨Jᵀu, v⟩ ≤ 1e-5   (both sides in float, relative
//                                                  to Σ|uᵢ (J v)ᵢ|, the size of the terms)
//   Hessian symmetry                     ≤ 1e-5
//   third derivative of tanh             ≤ 1e-5 relative + 1e-6 absolute
// Measured worst cases are 20-40× below these (≈ 3e-7 for the 1e-5 checks).
#include <xtensor/xmanipulation.hpp>
#include <xtensor/xmath.hpp>

#include "tests/autodiff/check_derivatives.hpp"
#include "tests/autodiff/small_models.hpp"

using namespace fluxion;
using fluxion::testing::CnnShape;
using fluxion::testing::SmallCnn;
using fluxion::testing::SmallMlp;
using fluxion::testing::uniform_tensor;
using fluxion::testing::weighted_sum;

namespace {

Tensor<float> to_float(const Tensor<double>& t) { return xt::cast<float>(t); }
Tensor<double> to_double(const Tensor<float>& t) { return xt::cast<double>(t); }

// A function built the same way in both precisions.
struct Twin {
  Function<float> f32;
  Function<double> f64;
};

// Every derivative transform of a scalar twin, float against double.
void compare_scalar_transforms(const Twin& f, const Tensor<double>& x64, std::uint64_t seed) {
  Tensor<float> x32 = to_float(x64);
  REQUIRE(to_double(x32) == x64);  // the inputs are float-representable
  Tensor<double> v64 = uniform_tensor<double>(shape_of(x64), seed);
  Tensor<float> v32 = to_float(v64);

  ValueAndGrad<float> vg32 = value_and_grad(f.f32, x32);
  ValueAndGrad<double> vg64 = value_and_grad(f.f64, x64);
  CHECK(max_relative_error(vg32.value, to_float(vg64.value)) <= 1e-5);
  CHECK(max_relative_error(vg32.grad, to_float(vg64.grad)) <= 1e-5);

  Tensor<float> reference_hv = to_float(hvp(f.f64, x64, v64));
  CHECK(max_relative_error(hvp(f.f32, x32, v32), reference_hv) <= 1e-4);
  CHECK(max_relative_error(hvp_reverse(f.f32, x32, v32), reference_hv) <= 1e-4);

  Tensor<float> H32 = hessian(f.f32, x32, 5);
  Tensor<float> H64 = to_float(hessian(f.f64, x64));
  CHECK(max_relative_error(H32, H64) <= 1e-4);
  double asymmetry = xt::amax(xt::abs(H32 - xt::transpose(H32)))() / xt::amax(xt::abs(H32))();
  CHECK(asymmetry <= 1e-5);
}

// Forward and reverse mode of a vector-valued twin: J v, Jᵀu against double,
// and the dot-product test ⟨u, J v⟩ = ⟨Jᵀu, v⟩ inside float.
void compare_vector_transforms(const Twin& f, const Tensor<double>& x64, std::uint64_t seed) {
  Tensor<float> x32 = to_float(x64);
  Tensor<double> v64 = uniform_tensor<double>(shape_of(x64), seed);
  Tensor<double> y64;
  {
    NoGradGuard no_graph;
    y64 = f.f64(Var<double>(x64)).value();
  }
  Tensor<double> u64 = uniform_tensor<double>(shape_of(y64), seed + 1);
  Tensor<float> v32 = to_float(v64), u32 = to_float(u64);

  Tensor<float> jv = jvp(f.f32, x32, v32);
  Tensor<float> jtu = vjp(f.f32, x32, u32);
  CHECK(max_relative_error(jv, to_float(jvp(f.f64, x64, v64))) <= 1e-5);
  CHECK(max_relative_error(jtu, to_float(vjp(f.f64, x64, u64))) <= 1e-5);
  // Sums in double so that only the float derivatives are being tested.
  // Relative to Σ|uᵢ (J v)ᵢ|, the size of the terms: when the dot product
  // itself nearly cancels, float rounding of each term (~6e-8 of the term)
  // is what remains, and that is what the tolerance is about.
  double forward_dot = 0, reverse_dot = 0, term_size = 0;
  for (std::size_t i = 0; i < jv.size(); ++i) {
    forward_dot += double(u32.data()[i]) * double(jv.data()[i]);
    term_size += std::abs(double(u32.data()[i]) * double(jv.data()[i]));
  }
  for (std::size_t i = 0; i < jtu.size(); ++i) reverse_dot += double(jtu.data()[i]) * double(v32.data()[i]);
  CHECK(std::abs(forward_dot - reverse_dot) / std::max(term_size, 1e-30) <= 1e-5);
  CHECK(max_relative_error(jacobian(f.f32, x32, 4), to_float(jacobian(f.f64, x64))) <= 1e-5);
}

}  // namespace

TEST_CASE("float32: softplus MLP, input and first-layer weights") {
  SmallMlp<float> m32(11);
  SmallMlp<double> m64(11);
  Tensor<double> c64 = uniform_tensor<double>({2, 3}, 12);
  Tensor<float> c32 = to_float(c64);
  Tensor<double> x64 = uniform_tensor<double>({2, 6}, 13, -1.5, 1.5);
  Twin of_input{[&](const Var<float>& x) { return weighted_sum(m32.logits(x), c32); },
                [&](const Var<double>& x) { return weighted_sum(m64.logits(x), c64); }};
  compare_scalar_transforms(of_input, x64, 14);
  Var<float> x32v(to_float(x64));
  Var<double> x64v(x64);
  Twin of_weights{[&](const Var<float>& w) { return weighted_sum(m32.logits(x32v, w), c32); },
                  [&](const Var<double>& w) { return weighted_sum(m64.logits(x64v, w), c64); }};
  compare_scalar_transforms(of_weights, m64.w1.value(), 15);
  Twin logits{[&](const Var<float>& x) { return m32.logits(x); }, [&](const Var<double>& x) { return m64.logits(x); }};
  compare_vector_transforms(logits, x64, 16);
}

TEST_CASE("float32: softplus CNN with avg- and max-pool") {
  for (CnnShape shape : {CnnShape{{1, 1}, false}, CnnShape{{1, 0}, true}}) {
    CAPTURE(shape.max_pool);
    SmallCnn<float> m32(31, shape);
    SmallCnn<double> m64(31, shape);
    Tensor<double> c64 = uniform_tensor<double>({2, 3}, 32);
    Tensor<float> c32 = to_float(c64);
    Tensor<double> x64 = uniform_tensor<double>({2, 1, 6, 6}, 33, -1.5, 1.5);
    Twin of_input{[&](const Var<float>& x) { return weighted_sum(m32.logits(x), c32); },
                  [&](const Var<double>& x) { return weighted_sum(m64.logits(x), c64); }};
    compare_scalar_transforms(of_input, x64, 34);
    Twin logits{[&](const Var<float>& x) { return m32.logits(x); },
                [&](const Var<double>& x) { return m64.logits(x); }};
    compare_vector_transforms(logits, x64, 35);
  }
}

TEST_CASE("float32: primitives, forward against reverse and against double") {
  Tensor<double> x = uniform_tensor<double>({3, 4}, 41, -2, 2);
  Tensor<double> positive = uniform_tensor<double>({3, 4}, 42, 0.3, 2);
  std::vector<std::pair<std::string, Twin>> ops = {
      {"exp", {[](const Var<float>& v) { return exp(v); }, [](const Var<double>& v) { return exp(v); }}},
      {"tanh", {[](const Var<float>& v) { return tanh(v); }, [](const Var<double>& v) { return tanh(v); }}},
      {"sigmoid", {[](const Var<float>& v) { return sigmoid(v); }, [](const Var<double>& v) { return sigmoid(v); }}},
      {"softplus", {[](const Var<float>& v) { return softplus(v, 3.0f); },
                    [](const Var<double>& v) { return softplus(v, 3.0); }}},
      {"log_softmax", {[](const Var<float>& v) { return log_softmax(v); },
                       [](const Var<double>& v) { return log_softmax(v); }}},
      {"matmul", {[](const Var<float>& v) { return matmul(v, v, true, false); },
                  [](const Var<double>& v) { return matmul(v, v, true, false); }}},
      {"mul/div", {[](const Var<float>& v) { return div(mul(v, v), v + 3.0f); },
                   [](const Var<double>& v) { return div(mul(v, v), v + 3.0); }}},
  };
  for (auto& [name, f] : ops) {
    CAPTURE(name);
    compare_vector_transforms(f, x, 43);
  }
  Twin log_op{[](const Var<float>& v) { return log(v); }, [](const Var<double>& v) { return log(v); }};
  compare_vector_transforms(log_op, positive, 44);
}

TEST_CASE("float32: the ONNX primitives and composites, forward against reverse and against double") {
  Tensor<double> x = uniform_tensor<double>({3, 4}, 51, -2, 2);
  Tensor<double> positive = uniform_tensor<double>({3, 4}, 52, 0.3, 2);
  const kernels::Conv2dParams conv = kernels::Conv2dParams::make({1, 2}, {1, 0, 0, 1}, {2, 1}, 1);
  const kernels::PoolParams pool = kernels::PoolParams::make({2, 2}, {1, 2}, {1, 0, 0, 1}, {1, 1}, true, true);
  const Tensor<double> w = uniform_tensor<double>({2, 1, 2, 2}, 53, -1, 1);
  const Tensor<float> w32 = to_float(w);
  std::vector<std::pair<std::string, Twin>> ops = {
      {"erf", {[](const Var<float>& v) { return erf(v); }, [](const Var<double>& v) { return erf(v); }}},
      {"abs", {[](const Var<float>& v) { return abs(v); }, [](const Var<double>& v) { return abs(v); }}},
      {"leaky_relu", {[](const Var<float>& v) { return leaky_relu(v, 0.1f); },
                      [](const Var<double>& v) { return leaky_relu(v, double(0.1f)); }}},
      {"elu", {[](const Var<float>& v) { return elu(v, 0.5f); }, [](const Var<double>& v) { return elu(v, 0.5); }}},
      {"maximum/minimum", {[](const Var<float>& v) { return minimum(maximum(v, tanh(v)), v * 0.5f); },
                           [](const Var<double>& v) { return minimum(maximum(v, tanh(v)), v * 0.5); }}},
      {"gelu", {[](const Var<float>& v) { return gelu(v); }, [](const Var<double>& v) { return gelu(v); }}},
      {"clip", {[](const Var<float>& v) { return clip(v, -0.5f, 1.0f); },
                [](const Var<double>& v) { return clip(v, -0.5, 1.0); }}},
      {"softmax axis 0", {[](const Var<float>& v) { return softmax(v, 0); }, [](const Var<double>& v) { return softmax(v, 0); }}},
      {"concat/slice/pad/take",
       {[](const Var<float>& v) {
          return take(pad(slice(concat<float>({v, tanh(v)}, 0), {-1}, {0}, {1}, {-2}), {1, 0}, {0, 1}, 2.0f), {1, -1}, {2}, 0);
        },
        [](const Var<double>& v) {
          return take(pad(slice(concat<double>({v, tanh(v)}, 0), {-1}, {0}, {1}, {-2}), {1, 0}, {0, 1}, 2.0), {1, -1}, {2}, 0);
        }}},
      {"conv2d/pools general",
       {[conv, pool, w32](const Var<float>& v) {
          Var<float> y = conv2d(reshape(v, {1, 1, 3, 4}), constant(w32), conv);
          return add(avg_pool2d(y, pool), max_pool2d(y, pool));
        },
        [conv, pool, w](const Var<double>& v) {
          Var<double> y = conv2d(reshape(v, {1, 1, 3, 4}), constant(w), conv);
          return add(avg_pool2d(y, pool), max_pool2d(y, pool));
        }}},
  };
  for (auto& [name, f] : ops) {
    CAPTURE(name);
    compare_vector_transforms(f, x, 54);
  }
  Twin sqrt_op{[](const Var<float>& v) { return sqrt(v); }, [](const Var<double>& v) { return sqrt(v); }};
  compare_vector_transforms(sqrt_op, positive, 55);
}

TEST_CASE("float32: third derivative of tanh through grad(grad(grad))") {
  // tanh''' = −2 sech²x (1 − 3 tanh²x), evaluated in double at the float input.
  const Tensor<double> points = {-3.0, -1.0, -0.25, 0.0, 0.5, 2.0};
  Var<float> x(to_float(points), true);
  Var<float> g1 = grad<float>({sum(tanh(x))}, {x}, {}, true)[0];
  Var<float> g2 = grad<float>({sum(g1)}, {x}, {}, true)[0];
  Tensor<float> g3 = grad<float>({sum(g2)}, {x})[0].value();
  for (std::size_t i = 0; i < points.size(); ++i) {
    double t = std::tanh(points(i)), want = -2 * (1 - t * t) * (1 - 3 * t * t);
    CAPTURE(points(i));
    // float: 1 − tanh² carries an absolute error ~ε_f ≈ 6e-8; |f'''| ≤ 2.
    CHECK(std::abs(double(g3(i)) - want) <= 1e-5 * std::abs(want) + 1e-6);
  }
}
