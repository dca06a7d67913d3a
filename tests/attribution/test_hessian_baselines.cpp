// Tests for attribution/hessian_baselines: the input Hessian of a polynomial
// in closed form and of an MLP against central differences of its gradient;
// Hessian × input as Δ_i H_ij Δ_j.
#include <doctest/doctest.h>

#include <cmath>

#include "attribution/hessian_baselines.hpp"
#include "attribution_models.hpp"
#include "autodiff/errors.hpp"

using namespace fluxion;
using namespace fluxion::attribution_testing;

namespace {

ExplainedOutput<double> explain(Function<double> model, std::size_t batch = 64) {
  ExplainedOutput<double> out;
  out.model = std::move(model);
  out.batch_size = batch;
  return out;
}

Var<double> column(const Var<double>& x, std::size_t i) {
  Tensor<double> mask = filled<double>({x.shape()[1]}, 0.0);
  mask(i) = 1;
  return sum(x * Var<double>(mask), {1}, true);
}

}  // namespace

TEST_CASE("hessian baselines: f = x0·x1 + x2³ has H = [[0,1,0],[1,0,0],[0,0,6·x2]]") {
  const auto out = explain([](const Var<double>& x) { return column(x, 0) * column(x, 1) + pow(column(x, 2), 3.0); });
  const Tensor<double> x = Tensor<double>({{0.5, -2.0, 1.5}, {1.0, 2.0, -0.25}});
  const Tensor<double> H = input_hessian(out, x, {0, 0}, InputHessianOptions{2});
  const Tensor<double> G = hessian_times_input(out, x, {0, 0});
  for (std::size_t n = 0; n < 2; ++n)
    for (std::size_t i = 0; i < 3; ++i)
      for (std::size_t j = 0; j < 3; ++j) {
        const double h = (i + j == 1) ? 1.0 : (i == 2 && j == 2) ? 6 * x(n, 2) : 0.0;
        CHECK(std::fabs(H(n, i, j) - h) <= 1e-15);
        CHECK(std::fabs(G(n, i, j) - x(n, i) * h * x(n, j)) <= 1e-15);
      }
  Tensor<double> base = Tensor<double>({1.0, 1.0, 1.0});
  const Tensor<double> shifted = hessian_times_input(out, x, {0, 0}, std::optional<Tensor<double>>(base));
  CHECK(std::fabs(shifted(0, 0, 1) - (0.5 - 1) * 1.0 * (-2.0 - 1)) <= 1e-15);
}

TEST_CASE("hessian baselines: MLP Hessian against central differences of the gradient") {
  const auto mlp = SoftplusMlp<double>::random(4, 8, 3, 71, 10.0);
  const auto out = explain(mlp.function(), 3);
  const Tensor<double> x = seeded_uniform<double>({3, 4}, 72);
  const std::vector<std::size_t> targets = {0, 1, 2};
  const Tensor<double> H = input_hessian(out, x, targets, InputHessianOptions{3});
  for (std::size_t n = 0; n < 3; ++n) {
    const Function<double> f = [&](const Var<double>& v) { return explained_output(out, v, {targets[n]}); };
    for (std::size_t j = 0; j < 4; ++j) {
      const double h = 1e-5;
      Tensor<double> plus = take_examples(x, n, 1), minus = plus;
      plus(0, j) += h, minus(0, j) -= h;
      const Tensor<double> column_j = (grad(f, plus) - grad(f, minus)) / (2 * h);
      // Central differences of an analytic gradient: O(h²) ≈ 1e-10 · |f'''|, plus 1e-16/h rounding.
      for (std::size_t i = 0; i < 4; ++i) CHECK(std::fabs(H(n, i, j) - column_j(0, i)) <= 1e-7);
    }
  }
  const std::optional<Tensor<double>> bad = Tensor<double>({1.0, 2.0});
  CHECK_THROWS_AS(hessian_times_input(out, x, targets, bad), ShapeError);
}
